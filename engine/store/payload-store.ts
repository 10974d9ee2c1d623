/**
 * Append-only byte store with two bounds: blobs are appended to one logical stream (offset,
 * length); the newest `budget` bytes stay in memory in fixed-size chunks and older chunks are
 * written to a temp file (append-only, same offsets) and dropped from memory. `read(offset,
 * length)` returns a fresh copy, from memory or from the file.
 *
 * Bounds:
 *  - memory: at most `budget + chunk` bytes whatever the total size, in chunks of one size (a
 *    blob spans as many as it needs); the buffer of a spilled chunk is reused for the next
 *    one, so a store past its budget allocates nothing more and leaves no garbage;
 *  - kept bytes (memory and spill file together): at most `limit`. `append` keeps the prefix
 *    that fits and drops the rest (`size - offset` tells the caller how much it kept; `cut`
 *    counts the bytes dropped), so the spill file never grows past `limit` however much a
 *    capture inflates to.
 *  - a spill write that fails (ENOSPC, EDQUOT, EIO, EFBIG: the disk under the scratch folder
 *    is full or broken) never throws out of `append`: the file is cut back to what was written
 *    whole, the chunk that could not go stays in memory, `failure` records the error, and from
 *    then on nothing more is kept (as if the limit had been reached). Every byte appended
 *    before stays readable; the caller tells the user (engine/store/ingest.ts).
 *
 * Memory: `append` copies the given bytes (the caller's view may be reused). `close()`
 * deletes the spill file; reading after close throws.
 */
import { closeSync, ftruncateSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateFile, makeScratchDir } from '../fs/private';

/**
 * bytes kept in memory by default: with the row tables (session-data.ts DEFAULT_ROW_BYTES), an
 * engine under the 300 MB RSS target (docs/hardening.md); older payloads are read back from the
 * spill file through PayloadCursor (64 KiB for one row, up to 4 MiB blocks while a scan or a
 * batch's previews read many). (32 MiB before the
 * row budget grew to hold 1,000,000 small messages.)
 */
export const DEFAULT_PAYLOAD_BUDGET = 16 * 1024 * 1024;
/** bytes kept at most by default (memory and spill file together), see PayloadStoreOptions.limit */
export const DEFAULT_KEPT_PAYLOAD = 1024 * 1024 * 1024;
/**
 * bytes kept at most whatever the options say (1 TiB): the session store's rows hold offsets
 * in 40 bits (session-data.ts messageOffset)
 */
export const MAX_KEPT = 2 ** 40;

/** A failed spill write: what the user is told (engine/store/ingest.ts) and its errno code. */
export interface SpillFailure {
  code: string;
  message: string;
  /** the spill file that could not grow */
  path: string;
}

export interface PayloadStoreOptions {
  /** bytes kept in memory (default DEFAULT_PAYLOAD_BUDGET, 16 MiB) */
  budget: number;
  /** bytes kept at most, memory and spill file together (default 1 GiB, at most MAX_KEPT); the rest is cut */
  limit: number;
  /** size of one in-memory chunk (default 4 MiB, or budget/4 if smaller) */
  chunkSize: number;
  /** where the spill file's own private folder is made (default: os.tmpdir()) */
  dir: string;
}

interface Chunk {
  /** logical offset of buf[0] */
  start: number;
  buf: Uint8Array;
  used: number;
}

export class PayloadStore {
  private readonly budget: number;
  private readonly limit: number;
  private readonly chunkSize: number;
  private readonly chunks: Chunk[] = [];
  /** the buffer of the chunk spilled last, reused for the next one (chunkAt's views are valid until the next append) */
  private spare: Uint8Array | null = null;
  /** logical bytes [0, spilled) live in the file */
  private spilled = 0;
  private total = 0;
  private fd = -1;
  private dir = '';
  private readonly parentDir: string | undefined;
  private closed = false;
  /** bytes `append` dropped (over the limit, or after a spill failure) */
  cut = 0;
  /** the spill write that failed, if one did: nothing is kept after it */
  failure: SpillFailure | null = null;

  constructor(opts: Partial<PayloadStoreOptions> = {}) {
    this.budget = Math.max(1024, opts.budget ?? DEFAULT_PAYLOAD_BUDGET);
    this.limit = Math.min(MAX_KEPT, Math.max(0, opts.limit ?? DEFAULT_KEPT_PAYLOAD));
    this.chunkSize = Math.max(256, Math.min(opts.chunkSize ?? 4 * 1024 * 1024, Math.floor(this.budget / 4)));
    this.parentDir = opts.dir;
  }

  /** the most bytes this store keeps (PayloadStoreOptions.limit) */
  get maxBytes(): number {
    return this.limit;
  }

  /** logical bytes kept so far */
  get size(): number {
    return this.total;
  }

  /** bytes written to the spill file */
  get spilledBytes(): number {
    return this.spilled;
  }

  get memoryBytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.buf.length;
    return n;
  }

  get spillPath(): string {
    return this.dir ? join(this.dir, 'payloads.bin') : '';
  }

  /**
   * Copies `bytes` in, as much of it as the limit lets through (none after a spill failure);
   * returns its logical offset. `size - offset` afterwards is the length kept.
   */
  append(bytes: Uint8Array): number {
    if (this.closed) throw new Error('payload store closed');
    const offset = this.total;
    const want = this.failure ? 0 : Math.min(bytes.length, this.limit - this.total);
    let src = 0;
    while (src < want) {
      let tail = this.chunks[this.chunks.length - 1];
      if (!tail || tail.used === tail.buf.length) {
        // every chunk has the same size, a blob bigger than one spans several: memory moves in
        // whole chunks, so the buffer of the chunk just spilled becomes the new tail and a
        // store that spills allocates nothing (no dead 64 MiB buffers waiting for a GC)
        if (!this.makeRoom(this.chunkSize)) break;
        tail = { start: this.total, buf: this.spare ?? new Uint8Array(this.chunkSize), used: 0 };
        this.spare = null;
        this.chunks.push(tail);
      }
      const n = Math.min(want - src, tail.buf.length - tail.used);
      tail.buf.set(bytes.subarray(src, src + n), tail.used);
      tail.used += n;
      src += n;
      this.total += n;
    }
    this.cut += bytes.length - src;
    return offset;
  }

  /** A fresh copy of [offset, offset + length). */
  read(offset: number, length: number): Uint8Array {
    return this.readReusing(offset, length, null);
  }

  /** Copies [offset, offset + length) into out[0, length) (readReusing checked the range); returns `out`. */
  private readInto(offset: number, length: number, out: Uint8Array): Uint8Array {
    let pos = offset;
    let o = 0;
    if (pos < this.spilled) {
      const n = Math.min(length, this.spilled - pos);
      let got = 0;
      while (got < n) {
        const r = readSync(this.fd, out, o + got, n - got, pos + got);
        if (r <= 0) throw new Error('spill file shorter than expected');
        got += r;
      }
      pos += n;
      o += n;
    }
    if (o < length) {
      for (let c = this.chunkIndex(pos); c < this.chunks.length && o < length; c++) {
        const ch = this.chunks[c];
        const from = pos - ch.start;
        const n = Math.min(length - o, ch.used - from);
        out.set(ch.buf.subarray(from, from + n), o);
        o += n;
        pos += n;
      }
    }
    return out;
  }

  /**
   * [offset, offset + length) in `into` when it is long enough (else in a new array): a view
   * of its first `length` bytes. For readers that refill one buffer (PayloadCursor).
   */
  readReusing(offset: number, length: number, into: Uint8Array | null): Uint8Array {
    if (this.closed) throw new Error('payload store closed');
    if (offset < 0 || length < 0 || offset + length > this.total) throw new RangeError('payload range out of bounds');
    const out = into !== null && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    return this.readInto(offset, length, out);
  }

  /**
   * The in-memory chunk holding logical offset `offset` (its bytes in use, and the logical
   * offset of its first byte), or null when that offset was spilled or is past the end. A view
   * into the store's memory, valid until the next `append` (which may spill the chunk): for
   * scans that read many payloads without copying each (engine/store/query.ts).
   */
  chunkAt(offset: number): { bytes: Uint8Array; start: number } | null {
    if (this.closed || offset < this.spilled || offset >= this.total) return null;
    const c = this.chunks[this.chunkIndex(offset)];
    return c && c.start <= offset ? { bytes: c.buf.subarray(0, c.used), start: c.start } : null;
  }

  /** The in-memory chunk containing logical offset `pos` (binary search; 0 when none does). */
  private chunkIndex(pos: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.chunks[mid].start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks.length = 0;
    this.spare = null;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Spills the oldest chunks until `incoming` more bytes fit in the memory budget (the tail
   * chunk, being filled, spills only when a new one is needed). false when a spill write
   * failed: `failure` says why, the chunk stays in memory and the file is cut back to the
   * chunks written whole, so it never holds a torn chunk and gives its space back.
   */
  private makeRoom(incoming: number): boolean {
    let mem = this.memoryBytes;
    while (mem + incoming > this.budget && this.chunks.length > 0) {
      const old = this.chunks[0];
      let done = 0;
      try {
        if (this.fd < 0) {
          // a fresh 0700 folder named for this pid (removed at the next start if we die) and
          // a new 0600 file in it (engine/fs/private.ts)
          this.dir = makeScratchDir(this.parentDir);
          this.fd = createPrivateFile(this.spillPath, true);
        }
        while (done < old.used) done += writeSync(this.fd, old.buf, done, old.used - done, old.start + done);
      } catch (e) {
        this.fail(e);
        return false;
      }
      this.chunks.shift();
      this.spare = old.buf;
      this.spilled = old.start + old.used;
      mem -= old.buf.length;
    }
    return true;
  }

  private fail(e: unknown): void {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    const path = this.spillPath || this.parentDir || 'the temp folder';
    this.failure = { code, path, message: (e as Error).message ?? String(e) };
    // a short write left part of the chunk in the file: give that space back
    if (this.fd >= 0) {
      try {
        ftruncateSync(this.fd, this.spilled);
      } catch {
        // the file only ever reads back below `spilled`, whatever lies beyond
      }
    }
  }
}

/**
 * Bytes of payload a PayloadCursor reads from the spill file at once: CURSOR_FIRST for its first
 * refill (a row's preview, a detail view: one small read), doubling while the reads follow each
 * other (a scan: payloads of consecutive rows are adjacent) up to CURSOR_BLOCK.
 */
const CURSOR_FIRST = 64 * 1024;
const CURSOR_BLOCK = 4 * 1024 * 1024;

/**
 * Sequential reader of payload ranges (the query's scan, the previews of a batch's rows): a
 * range inside the current block is read in place; otherwise the block becomes the store's
 * in-memory chunk holding it (a view, no copy), or is refilled from the range's start (spilled
 * bytes, a range across chunks: one read of CURSOR_FIRST bytes, doubling up to CURSOR_BLOCK
 * while the refills follow each other). Rows append their payloads in order
 * (engine/store/ingest.ts), so a scan reads each stored byte about once, and a cursor made for
 * one row reads little more than that row.
 *
 * Memory: `block` is a view of a store chunk or of the cursor's own buffer (one, reused by
 * every refill it can hold: at most CURSOR_BLOCK or the longest range asked for), valid until
 * the next `seek` (and, for a chunk, until the store's next append).
 */
export class PayloadCursor {
  block: Uint8Array = new Uint8Array(0);
  private start = 0;
  /** the cursor's own buffer (refills), and the size of the next refill */
  private own: Uint8Array | null = null;
  private want = CURSOR_FIRST;

  constructor(private readonly store: PayloadStore) {}

  /** Makes [off, off + len) readable in `block`; returns where it starts there. */
  seek(off: number, len: number): number {
    if (off >= this.start && off + len <= this.start + this.block.length) return off - this.start;
    // in memory: the store's own chunk, no copy
    const c = this.store.chunkAt(off);
    if (c && off + len <= c.start + c.bytes.length) {
      this.block = c.bytes;
      this.start = c.start;
      return off - c.start;
    }
    // a refill that goes on from the last block (a scan): read more at once
    if (this.own !== null && off >= this.start && off <= this.start + this.block.length) this.want = Math.min(2 * this.want, CURSOR_BLOCK);
    this.start = off;
    const n = Math.max(len, Math.min(this.want, this.store.size - off));
    if (this.own === null || this.own.length < n) this.own = new Uint8Array(Math.max(n, Math.min(this.want, CURSOR_BLOCK)));
    this.block = this.store.readReusing(off, n, this.own);
    return 0;
  }
}
