/**
 * A growable byte buffer for one frame or one message payload, bounded by `limit`: bytes past
 * the limit are counted but not kept (`cut`). Capacity is reserved up front only up to
 * `PREALLOC_MAX`, so an absurd declared length never allocates before its bytes arrive (ws
 * lib/permessage-deflate.js checks maxPayload the same way). Below PREALLOC_MAX growth is
 * geometric, so a message built from many fragments costs amortised O(n) and never keeps a
 * per-fragment list of buffers. Past it a buffer grows once more, to its final size: what the
 * frame header announced (`reserve`, at most the limit) on its first growth past
 * PREALLOC_MAX, the limit on any later one (a message of many fragments). Large buffers come
 * from malloc/mmap uninitialised, so their pages cost memory only once bytes are written:
 * a message holds at most its bytes plus the PREALLOC_MAX-sized buffer it was copied from,
 * where doubling held the last two buffers (32 + 64 MiB at the 64 MiB limit) and left the
 * chain before them (4 + 8 + 16 MiB) as garbage V8 collects late.
 *
 * Memory: owns `buf`; `view()` hands out a subarray that stays valid (the buffer is never
 * reused after `view()`; the owner drops the PayloadBuffer). A scratch buffer
 * (`PayloadBuffer.scratch`, for SessionOptions.ephemeralPayloads: one per direction, reset for
 * every message, its bytes handed out by `shared()` only for the duration of an emit) takes
 * its memory from a process-wide spare list and gives it back on growth and on `release()`:
 * each connection would otherwise fault in fresh memory for buffers that only a full GC
 * returns, so reading a capture of many connections would grow the process by their sum. The
 * list holds at most SPARE_MAX buffers of at most SPARE_BYTES (8 MiB); a buffer is only ever in
 * one place (the list or one scratch).
 */
import { byteView, uninitializedBytes } from '../net/bytes';
import { copyUnmasked } from './unmask';

const PREALLOC_MAX = 4 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

function alloc(n: number): Uint8Array {
  // Always an own ArrayBuffer of exactly n bytes (byteOffset 0, word-aligned): never a slice of
  // Node's shared pool, which an event would keep alive and structured clone would copy whole.
  // Large ones skip the zero fill.
  if (n === 0) return EMPTY;
  return n < 4096 ? new Uint8Array(n) : uninitializedBytes(n);
}

const SCRATCH_MIN = 64 * 1024;
const SPARE_MAX = 32;
const SPARE_BYTES = 256 * 1024;
const spare: Uint8Array[] = [];

/** A spare buffer of at least n bytes (scratch buffers only: may be larger than asked), else a new one. */
function takeSpare(n: number): Uint8Array {
  for (let i = spare.length - 1; i >= 0; i--) {
    const b = spare[i];
    if (b.length >= n) {
      spare[i] = spare[spare.length - 1];
      spare.pop();
      return b;
    }
  }
  return alloc(n);
}

function giveSpare(b: Uint8Array): void {
  if (b.length >= 4096 && b.length <= SPARE_BYTES && spare.length < SPARE_MAX) spare.push(b);
}

export class PayloadBuffer {
  /** the bytes, from offset 0 of their own ArrayBuffer (see `alloc`); replaced by `setBuf` only */
  buf: Uint8Array;
  /**
   * `buf.buffer` once `shared()` has read it, then for every later message in the same buffer:
   * from optimized code V8 (node 20) reads that accessor through the generic load IC and a
   * call into C++, about 50 ns (see ViewMaker in engine/net/bytes.ts). Not read before: for a
   * buffer of 64 bytes or less, which V8 keeps inside its object, it allocates an ArrayBuffer.
   */
  private ab: ArrayBufferLike | null = null;
  len = 0;
  /** bytes offered beyond the limit (dropped) */
  dropped = 0;
  readonly limit: number;
  /** where the bytes announced so far end (`reserve`, at most the limit): the size of the growth past PREALLOC_MAX */
  private want = 0;

  /** a scratch buffer: memory from and back to the spare list (see Memory above) */
  private readonly pooled: boolean;

  constructor(expected: number, limit: number, pooled = false) {
    this.limit = limit;
    this.pooled = pooled;
    this.buf = alloc(Math.min(expected, limit, PREALLOC_MAX));
  }

  private setBuf(b: Uint8Array): void {
    this.buf = b;
    this.ab = null;
  }

  /** An empty scratch buffer for ephemeral payloads (reset per message, `shared()`, `release()`). */
  static scratch(limit: number): PayloadBuffer {
    return new PayloadBuffer(0, limit, true);
  }

  /** A scratch buffer's owner is done with it: its memory goes back to the spare list. */
  release(): void {
    if (this.pooled) giveSpare(this.buf);
    this.setBuf(EMPTY);
    this.len = 0;
    this.dropped = 0;
    this.want = 0;
  }

  get cut(): boolean {
    return this.dropped > 0;
  }

  /** Make room for `more` bytes (the caller has already clipped to the limit). */
  private grow(more: number): void {
    const need = this.len + more;
    if (need <= this.buf.length) return;
    let cap = this.buf.length === 0 ? need : Math.max(this.buf.length * 2, need);
    // scratch buffers start at SCRATCH_MIN, so spares fit most messages of the next owner
    if (this.pooled && cap < SCRATCH_MIN) cap = SCRATCH_MIN;
    // past PREALLOC_MAX, straight to the final size (see the module comment)
    if (cap > PREALLOC_MAX) cap = this.buf.length <= PREALLOC_MAX && this.want >= need ? this.want : this.limit;
    if (cap > this.limit) cap = Math.max(this.limit, need);
    const nb = this.pooled ? takeSpare(cap) : alloc(cap);
    if (this.len > 0) nb.set(byteView(this.buf, 0, this.len));
    if (this.pooled) giveSpare(this.buf);
    this.setBuf(nb);
  }

  /** Reserve room for an expected number of further bytes (bounded by PREALLOC_MAX). */
  reserve(expected: number): void {
    this.want = Math.min(this.limit, this.len + expected);
    const room = Math.min(expected, this.limit - this.len, PREALLOC_MAX);
    if (room > 0) this.grow(room);
  }

  /** Append src[start, end), unmasking with `mask` (phase = payload offset mod 4) when given. */
  append(src: Uint8Array, start: number, end: number, mask: Uint8Array | null, phase: number): void {
    let n = end - start;
    const room = this.limit - this.len;
    if (n > room) {
      this.dropped += n - room;
      n = room;
      end = start + n;
    }
    if (n <= 0) return;
    this.grow(n);
    if (mask) copyUnmasked(this.buf, this.len, src, start, end, mask, phase);
    else this.buf.set(n === src.length ? src : byteView(src, start, n), this.len);
    this.len += n;
  }

  /** Empty the buffer for reuse, keeping its capacity (see SessionOptions.ephemeralPayloads). */
  reset(): void {
    this.len = 0;
    this.dropped = 0;
    this.want = 0;
  }

  /** The bytes kept, as a view of the reused buffer (valid until the next reset). */
  shared(): Uint8Array {
    return new Uint8Array((this.ab ??= this.buf.buffer), 0, this.len);
  }

  /** The bytes kept from offset `start` on, as a view (valid as long as `shared()`'s). */
  sharedFrom(start: number): Uint8Array {
    return new Uint8Array((this.ab ??= this.buf.buffer), start, this.len - start);
  }

  /** Unmask the bytes from offset `start` on in place, mask byte 0 applying to the first (a frame's payload kept masked, see FrameHead.wireAt). */
  unmaskFrom(start: number, mask: Uint8Array): void {
    copyUnmasked(this.buf, start, this.buf, start, this.len, mask, 0);
  }

  /** A new (unpooled) buffer with the same limit holding a copy of the bytes from offset `start` on. */
  copyFrom(start: number): PayloadBuffer {
    const b = new PayloadBuffer(this.len - start, this.limit);
    b.append(this.buf, start, this.len, null, 0);
    return b;
  }

  /** Count bytes as dropped without keeping them (used for lost bytes). */
  drop(n: number): void {
    this.dropped += n;
  }

  /** The bytes kept. Trimmed to an exact copy when growth left much unused room. */
  view(): Uint8Array {
    if (this.len === this.buf.length) return this.buf;
    if (this.buf.length - this.len > (this.len >> 2) + 256) return new Uint8Array(this.buf.subarray(0, this.len)); // a copy (Buffer#slice is a view)
    return this.buf.subarray(0, this.len);
  }
}
