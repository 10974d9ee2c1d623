/**
 * What one TCP direction delivered, kept so that a later retransmission overlapping it can be
 * compared with the first copy (reassembler.ts `conflictWindow`, finding tcp-overlap-conflict):
 * the last `window` bytes of the current run of delivered bytes, where a run is what was
 * delivered since the last skip (a lost range ends the run: nothing before it is compared).
 *
 * A delivered byte is kept in one of two ways, mixed freely within a direction:
 * - where it lies in the capture file. Bytes delivered straight from a record of a plain
 *   capture file (the pipeline holds the file source's `CaptureFileReader`, types.ts) become
 *   an entry: stream offset, length, file offset, and the first byte as delivered. Nothing is
 *   copied per packet; the bytes are read back with a positional read (pread) only when a
 *   retransmission overlaps them, which a clean capture never does.
 * - a copy, in a ring indexed by stream offset (bytes at offset o at o % size): everything
 *   without a file position (live capture, gzip'd files, reassembled IP datagrams, the
 *   reassembler's own copies of out-of-order pieces), and file bytes once the entries are
 *   full. Adjacent copied bytes share one entry.
 * Either way the same bytes are compared over the same range, so the findings do not depend
 * on where the capture came from. Retransmissions come in bursts (a lossy stretch of the
 * path): once a comparison had to read the file, the direction copies the next `window`
 * delivered bytes, so a burst costs about one read back per window rather than one per
 * segment (a capture that retransmits every segment with other bytes, scripts/gen-bombs.ts
 * many-findings, took 0.5 s more CPU than copying with a read back per segment).
 *
 * Reading back can fail: the read of the file is over (the reader answers -1), an I/O error,
 * or the file is shorter now than when it was read (a short read: it was truncated or
 * replaced in place under us). Those bytes are then "not comparable": the comparison skips
 * them and reports no conflict for them, since the first copy is no longer known; a missed
 * finding rather than a false one. A file rewritten in place with other bytes of the same
 * length is caught by the entry's first byte, checked on every read back (the whole entry is
 * not comparable when it differs). The first byte, not the last: it shares a cache line with
 * the TCP header the header walk just read, while reading the last byte was the payload's
 * first touch, and that cache miss cost as much as the copy it replaces (profile of the
 * benchmark capture: 50-90 ms against 10-16 ms). A file only growing (still being written) is read back
 * correctly: offsets already read do not move.
 *
 * Memory (per direction, none of it counted in the reassembly budget, budget.ts, which bounds
 * out-of-order bytes only): at most MAX_ENTRIES entries of 32 bytes (16 KiB), grown fourfold
 * from 32 as needed; the ring only when something is copied, grown eightfold from 4 KiB to
 * `window` as the copied bytes need it. Both go to module-wide spares when the stream ends,
 * so a capture of many connections reuses them instead of faulting in new memory for each.
 * One 64 KiB scratch buffer per process holds bytes read back (reads are synchronous).
 */
import type { CaptureFileReader } from '../types';
import { uninitializedBytes } from '../net/bytes';

/** The pipeline's handle on the reader of the capture file being read (null: none, or the read is over). */
export class ReadBackLink {
  reader: CaptureFileReader | null = null;
}

/**
 * Full-size rings of ended streams, handed to the next streams: at most RING_SPARE_MAX (4 MiB
 * at the pipeline's 64 KiB window); a ring is only ever in one place.
 */
const spareRings = objectList<Uint8Array>();
const RING_SPARE_MAX = 64;
/** entry tables of ended streams (at most 64 x 16 KiB) */
const spareEntries = objectList<Float64Array>();
const ENTRIES_SPARE_MAX = 64;
/** entries per direction at most (a power of 2): 64 KiB of segments of 128 bytes or more */
export const MAX_ENTRIES = 512;
const FIRST_ENTRIES = 32;
/** numbers per entry: stream offset, length, file offset (-1: in the ring), first byte */
const E = 4;
const READ_CHUNK = 64 * 1024;
let scratch: Uint8Array | null = null;
const oneByte = new Uint8Array(1);

/**
 * An empty list whose elements are objects from the start. An empty array literal starts with
 * small-integer elements, and the first table pushed into it changes its map: optimized code
 * that had only seen it empty (`recordSlow`'s `pop`, some 16 MB into the benchmark capture,
 * when the first streams end) was thrown away there ("wrong map", --trace-deopt).
 */
function objectList<T extends object>(): T[] {
  const a: Array<T | null> = [null];
  a.pop();
  return a as T[];
}

export class DeliveredHistory {
  /** stream offset where the current run starts */
  private start = 0;
  /** stream offset after the last byte recorded */
  private end = 0;
  /** entries, a ring of `count` from slot `head` (capacity a power of 2), in stream order; null until the first record */
  private e: Float64Array | null = null;
  private head = 0;
  private count = 0;
  /** slots of the table - 1 (a power of 2 minus 1), and how many entries the per-segment path may fill: 0 without a table or a reader's link */
  private mask = 0;
  private room = 0;
  /** copied bytes; null until something is copied */
  private ring: Uint8Array | null = null;
  /** stream offsets of the first copied byte of the run (-1: none yet) and after the last */
  private firstCopy = -1;
  private copyEnd = 0;
  /** stream offset before which delivered bytes are copied (a burst of retransmissions, see the module comment) */
  private copyBefore = 0;
  /** first and last differing offsets found by `compare` (-1: none) */
  private diffA = -1;
  private diffZ = -1;

  constructor(
    private readonly window: number,
    private readonly link: ReadBackLink | null,
  ) {}

  /** last differing offset of the last `compare` that found one */
  get lastDiff(): number {
    return this.diffZ;
  }

  /**
   * Keeps `bytes`, delivered at stream offset `off`; `pos` is their capture-file offset
   * (-1: they are not a contiguous range of the file being read).
   */
  record(off: number, bytes: Uint8Array, pos: number): void {
    const count = this.count;
    if (off === this.end && pos >= 0 && count < this.room && off >= this.copyBefore && (this.link as ReadBackLink).reader !== null) {
      // the common case, bytes of a record read from a file following the last ones: four
      // numbers, no copy (entries that left the window are dropped only when the table fills)
      const e = this.e as Float64Array;
      const i = ((this.head + count) & this.mask) * E;
      e[i] = off;
      e[i + 1] = bytes.length;
      e[i + 2] = pos;
      e[i + 3] = bytes[0];
      this.count = count + 1;
      this.end = off + bytes.length;
      return;
    }
    this.recordSlow(off, bytes, pos);
  }

  /** a new entry table `e` (mask and room follow it) */
  private setTable(e: Float64Array | null): void {
    this.e = e;
    this.mask = e === null ? 0 : e.length / E - 1;
    this.room = e === null || this.link === null ? 0 : Math.min(e.length / E, MAX_ENTRIES - 1);
  }

  private recordSlow(off: number, bytes: Uint8Array, pos: number): void {
    const len = bytes.length;
    if (this.e === null) this.setTable(spareEntries.pop() ?? new Float64Array(FIRST_ENTRIES * E));
    const e = this.e as Float64Array;
    if (off !== this.end || this.count === 0) {
      // the first bytes, or bytes after a skip: a new run
      this.start = off;
      this.head = this.count = 0;
      this.firstCopy = -1;
      this.copyEnd = off;
    }
    const end = off + len;
    this.end = end;
    const lo = Math.max(this.start, end - this.window);
    // entries wholly before the window are forgotten
    const mask = e.length / E - 1;
    while (this.count > 0) {
      const i = this.head * E;
      if (e[i] + e[i + 1] > lo) break;
      this.head = (this.head + 1) & mask;
      this.count--;
    }
    const link = this.link;
    if (pos >= 0 && link !== null && link.reader !== null && this.count < MAX_ENTRIES - 1 && off >= this.copyBefore) this.append(off, len, pos, bytes[0]);
    else this.copy(off, bytes, lo);
  }

  /** a new last entry (the table grows when full) */
  private append(off: number, len: number, pos: number, first: number): void {
    let e = this.e as Float64Array;
    if (this.count === e.length / E) e = this.growEntries();
    const i = ((this.head + this.count) & (e.length / E - 1)) * E;
    e[i] = off;
    e[i + 1] = len;
    e[i + 2] = pos;
    e[i + 3] = first;
    this.count++;
  }

  /** `bytes` at `off` into the ring (see the module comment); `lo`: where the window starts */
  private copy(off: number, bytes: Uint8Array, lo: number): void {
    const len = bytes.length;
    const end = off + len;
    if (this.firstCopy < 0) this.firstCopy = off;
    // The ring must hold every copied byte still in the window: a write at offset o lands on
    // o % size, over a byte `size` earlier, so size >= end - (oldest copied byte kept).
    const need = Math.min(this.window, end - Math.max(this.firstCopy, lo));
    let h = this.ring;
    if (h === null || h.length < need) h = this.growRing(need, lo);
    const size = h.length;
    let src = bytes;
    let o = off;
    if (len > size) {
      o = end - size;
      src = bytes.subarray(len - size);
    }
    const p = o % size;
    const first = Math.min(size - p, src.length);
    h.set(first === src.length ? src : src.subarray(0, first), p);
    if (first < src.length) h.set(src.subarray(first), 0);
    this.copyEnd = end;
    // the entry: the last one grows when it is a copy too (entries are contiguous in a run)
    const e = this.e as Float64Array;
    if (this.count > 0) {
      const i = ((this.head + this.count - 1) & (e.length / E - 1)) * E;
      if (e[i + 2] < 0) {
        e[i + 1] += len;
        return;
      }
    }
    // (count < MAX_ENTRIES here: file entries stop at MAX_ENTRIES - 1, so a copy entry always fits)
    this.append(off, len, -1, 0);
  }

  /** a table of four times the entries, holding the same entries from slot 0 */
  private growEntries(): Float64Array {
    const old = this.e as Float64Array;
    const cap = old.length / E;
    const e = new Float64Array(Math.min(cap * 4, MAX_ENTRIES) * E);
    for (let k = 0; k < this.count; k++) {
      const i = ((this.head + k) & (cap - 1)) * E;
      e.set(old.subarray(i, i + E), k * E);
    }
    this.head = 0;
    this.setTable(e);
    return e;
  }

  /** A larger ring holding the same copied bytes of the window (at their offset mod the new size). */
  private growRing(want: number, lo: number): Uint8Array {
    const old = this.ring;
    if (old === null && spareRings.length > 0 && spareRings[spareRings.length - 1].length === this.window) {
      // a spare ring of the full size: no growth at all (its old bytes are never read: only
      // bytes of copy entries are, and each was written when its entry was made)
      const h = spareRings.pop() as Uint8Array;
      this.ring = h;
      return h;
    }
    let size = old === null ? 4096 : old.length;
    while (size < want) size *= 8;
    size = Math.min(size, this.window);
    const h = size < 4096 ? new Uint8Array(size) : uninitializedBytes(size);
    if (old !== null && this.firstCopy >= 0) {
      // copy the copied bytes still in the window, in runs contiguous in both rings
      const os = old.length;
      for (let o = Math.max(this.firstCopy, lo); o < this.copyEnd; ) {
        const po = o % os;
        const pn = o % size;
        const n = Math.min(this.copyEnd - o, os - po, size - pn);
        h.set(old.subarray(po, po + n), pn);
        o += n;
      }
    }
    this.ring = h;
    return h;
  }

  /**
   * Compares the first `n` bytes of `payload`, a segment at stream offset `off`, with the
   * delivered bytes they overlap in the window. Returns the first differing offset (the last
   * one is then `lastDiff`), or -1 when none differs (or none could be compared).
   */
  compare(off: number, payload: Uint8Array, n: number): number {
    this.diffA = this.diffZ = -1;
    const e = this.e;
    const lo = Math.max(off, this.start, this.end - this.window);
    const hi = Math.min(off + n, this.end);
    if (e === null || lo >= hi) return -1;
    const mask = e.length / E - 1;
    for (let k = 0; k < this.count; k++) {
      const i = ((this.head + k) & mask) * E;
      const eOff = e[i];
      const eEnd = eOff + e[i + 1];
      if (eEnd <= lo) continue;
      if (eOff >= hi) break;
      const s = Math.max(lo, eOff);
      const t = Math.min(hi, eEnd);
      if (e[i + 2] < 0) this.compareRing(s, t, payload, off);
      else this.compareFile(e[i + 2], eOff, s, t, e[i + 3], payload, off);
    }
    return this.diffA;
  }

  private compareRing(s: number, t: number, payload: Uint8Array, off: number): void {
    const h = this.ring as Uint8Array;
    const size = h.length;
    for (let o = s; o < t; o++) {
      if (h[o % size] !== payload[o - off]) {
        if (this.diffA < 0) this.diffA = o;
        this.diffZ = o;
      }
    }
  }

  /**
   * Stream offsets [s, t) of a file entry at stream offset `eOff` and file offset `ePos`, whose
   * first byte was `first`. Differences count only when every byte was read back and the
   * entry's first byte is still the one delivered (see the module comment).
   */
  private compareFile(ePos: number, eOff: number, s: number, t: number, first: number, payload: Uint8Array, off: number): void {
    const reader = this.link?.reader ?? null;
    if (reader === null) return;
    this.copyBefore = this.end + this.window;
    if (s > eOff && (reader.readAt(ePos, oneByte, 1) !== 1 || oneByte[0] !== first)) return;
    const buf = (scratch ??= new Uint8Array(READ_CHUNK));
    let a = -1;
    let z = -1;
    for (let o = s, got = 0; o < t; o += got) {
      const want = Math.min(READ_CHUNK, t - o);
      got = reader.readAt(ePos + (o - eOff), buf, want);
      if (got !== want) return; // not comparable
      if (o === eOff && buf[0] !== first) return;
      for (let j = 0; j < got; j++) {
        if (buf[j] !== payload[o + j - off]) {
          if (a < 0) a = o + j;
          z = o + j;
        }
      }
    }
    if (a >= 0) {
      if (this.diffA < 0) this.diffA = a;
      this.diffZ = z;
    }
  }

  /** The stream is over: the ring and the entry table go to the spares (when there is room). */
  release(): void {
    const h = this.ring;
    if (h !== null && h.length === this.window && h.length >= 4096 && spareRings.length < RING_SPARE_MAX) spareRings.push(h);
    this.ring = null;
    if (this.e !== null && spareEntries.length < ENTRIES_SPARE_MAX) spareEntries.push(this.e);
    this.setTable(null);
    this.head = this.count = 0;
  }

  /** as new (for a reassembler reused for another stream) */
  reset(): void {
    this.release();
    this.start = this.end = 0;
    this.firstCopy = -1;
    this.copyEnd = 0;
    this.copyBefore = 0;
  }
}
