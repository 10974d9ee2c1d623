/**
 * Append-only byte store with a memory budget: blobs are appended to one logical stream
 * (offset, length); the newest `budget` bytes stay in memory in fixed-size chunks and older
 * chunks are written to a temp file (append-only, same offsets) and dropped from memory.
 * `read(offset, length)` returns a fresh copy, from memory or from the file.
 *
 * Memory: `append` copies the given bytes (the caller's view may be reused); the store owns
 * at most `budget + CHUNK` bytes of memory whatever the total size. `close()` deletes the
 * spill file; reading after close throws.
 */
import { closeSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateFile, makeScratchDir } from '../fs/private';

export const DEFAULT_PAYLOAD_BUDGET = 256 * 1024 * 1024;

export interface PayloadStoreOptions {
  /** bytes kept in memory (default 256 MiB) */
  budget: number;
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
  private readonly chunkSize: number;
  private readonly chunks: Chunk[] = [];
  /** logical bytes [0, spilled) live in the file */
  private spilled = 0;
  private total = 0;
  private fd = -1;
  private dir = '';
  private readonly parentDir: string | undefined;
  private closed = false;

  constructor(opts: Partial<PayloadStoreOptions> = {}) {
    this.budget = Math.max(1024, opts.budget ?? DEFAULT_PAYLOAD_BUDGET);
    this.chunkSize = Math.max(256, Math.min(opts.chunkSize ?? 4 * 1024 * 1024, Math.floor(this.budget / 4)));
    this.parentDir = opts.dir;
  }

  /** logical bytes appended so far */
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

  /** Copies `bytes` in; returns its logical offset. */
  append(bytes: Uint8Array): number {
    if (this.closed) throw new Error('payload store closed');
    const offset = this.total;
    let src = 0;
    while (src < bytes.length) {
      let tail = this.chunks[this.chunks.length - 1];
      if (!tail || tail.used === tail.buf.length) {
        // a blob bigger than a chunk gets one chunk of its own size (bounded by the budget
        // check below, which spills it as soon as newer data arrives)
        const size = Math.max(this.chunkSize, Math.min(bytes.length - src, this.budget));
        tail = { start: this.total, buf: new Uint8Array(size), used: 0 };
        this.chunks.push(tail);
        this.evict();
      }
      const n = Math.min(bytes.length - src, tail.buf.length - tail.used);
      tail.buf.set(bytes.subarray(src, src + n), tail.used);
      tail.used += n;
      src += n;
      this.total += n;
    }
    return offset;
  }

  /** A fresh copy of [offset, offset + length). */
  read(offset: number, length: number): Uint8Array {
    if (this.closed) throw new Error('payload store closed');
    if (offset < 0 || length < 0 || offset + length > this.total) throw new RangeError('payload range out of bounds');
    const out = new Uint8Array(length);
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
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Spill the oldest full chunks until memory is within budget (the tail chunk stays). */
  private evict(): void {
    let mem = this.memoryBytes;
    while (mem > this.budget && this.chunks.length > 1) {
      const old = this.chunks.shift() as Chunk;
      if (this.fd < 0) {
        // a fresh 0700 folder named for this pid (removed at the next start if we die) and
        // a new 0600 file in it (engine/fs/private.ts)
        this.dir = makeScratchDir(this.parentDir);
        this.fd = createPrivateFile(this.spillPath, true);
      }
      let done = 0;
      while (done < old.used) done += writeSync(this.fd, old.buf, done, old.used - done, old.start + done);
      this.spilled = old.start + old.used;
      mem -= old.buf.length;
    }
  }
}
