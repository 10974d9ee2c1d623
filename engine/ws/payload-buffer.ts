/**
 * A growable byte buffer for one frame or one message payload, bounded by `limit`: bytes past
 * the limit are counted but not kept (`cut`). Growth is geometric so a message built from
 * many fragments costs amortised O(n) and never keeps a per-fragment list of buffers. Capacity
 * is reserved up front only up to `PREALLOC_MAX`, so an absurd declared length never allocates
 * before its bytes arrive (ws lib/permessage-deflate.js checks maxPayload the same way).
 *
 * Memory: owns `buf`; `view()` hands out a subarray that stays valid (the buffer is never
 * reused after `view()`; the owner drops the PayloadBuffer).
 */
import { copyUnmasked } from './unmask';

const PREALLOC_MAX = 4 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

function alloc(n: number): Uint8Array {
  // Always an own ArrayBuffer of exactly n bytes (byteOffset 0, word-aligned): never a slice of
  // Node's shared pool, which an event would keep alive and structured clone would copy whole.
  // Large ones skip the zero fill.
  if (n === 0) return EMPTY;
  return n < 4096 ? new Uint8Array(n) : Buffer.allocUnsafeSlow(n);
}

export class PayloadBuffer {
  buf: Uint8Array;
  len = 0;
  /** bytes offered beyond the limit (dropped) */
  dropped = 0;
  readonly limit: number;

  constructor(expected: number, limit: number) {
    this.limit = limit;
    this.buf = alloc(Math.min(expected, limit, PREALLOC_MAX));
  }

  get cut(): boolean {
    return this.dropped > 0;
  }

  /** Make room for `more` bytes (the caller has already clipped to the limit). */
  private grow(more: number): void {
    const need = this.len + more;
    if (need <= this.buf.length) return;
    let cap = this.buf.length === 0 ? need : Math.max(this.buf.length * 2, need);
    if (cap > this.limit) cap = Math.max(this.limit, need);
    const nb = alloc(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  /** Reserve room for an expected number of further bytes (bounded by PREALLOC_MAX). */
  reserve(expected: number): void {
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
    else this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  /** Empty the buffer for reuse, keeping its capacity (see SessionOptions.ephemeralPayloads). */
  reset(): void {
    this.len = 0;
    this.dropped = 0;
  }

  /** The bytes kept, as a view of the reused buffer (valid until the next reset). */
  shared(): Uint8Array {
    return this.buf.subarray(0, this.len);
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
