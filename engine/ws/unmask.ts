/**
 * XOR unmasking (RFC 6455 section 5.3) into a destination the caller owns. The input is never
 * written: an inspector shows the masked wire bytes too, so unlike ws' in-place unmask we copy
 * first (memcpy) and XOR the copy 4 bytes at a time over an aligned Uint32Array view.
 */

const scratch = new Uint8Array(4);
const scratchWord = new Uint32Array(scratch.buffer);

/**
 * Copy src[start, end) to dst at dstOff and unmask it there. `phase` is the offset of src[start]
 * within the frame payload modulo 4 (which mask byte applies to it). Works for any byteOffset.
 */
export function copyUnmasked(
  dst: Uint8Array,
  dstOff: number,
  src: Uint8Array,
  start: number,
  end: number,
  mask: Uint8Array,
  phase: number,
): void {
  const n = end - start;
  if (n <= 0) return;
  dst.set(n === src.length ? src : src.subarray(start, end), dstOff);
  xorInPlace(dst, dstOff, n, mask, phase);
}

/** XOR dst[off, off+n) with the mask, mask byte `phase & 3` applying to dst[off]. */
export function xorInPlace(dst: Uint8Array, off: number, n: number, mask: Uint8Array, phase: number): void {
  let i = off;
  const end = off + n;
  let p = phase & 3;
  if (n < 16) {
    for (; i < end; i++) {
      dst[i] ^= mask[p];
      p = (p + 1) & 3;
    }
    return;
  }
  // byte steps until the absolute address is 4-aligned
  while ((dst.byteOffset + i) & 3) {
    dst[i] ^= mask[p];
    p = (p + 1) & 3;
    i++;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    scratch[0] = mask[p];
    scratch[1] = mask[(p + 1) & 3];
    scratch[2] = mask[(p + 2) & 3];
    scratch[3] = mask[(p + 3) & 3];
    const w = scratchWord[0];
    const view = new Uint32Array(dst.buffer, dst.byteOffset + i, words);
    for (let k = 0; k < words; k++) view[k] ^= w;
    i += words << 2;
  }
  for (; i < end; i++) {
    dst[i] ^= mask[p];
    p = (p + 1) & 3;
  }
}

/** Unmask a whole payload into a new buffer (tests, one-off use). */
export function unmask(src: Uint8Array, mask: Uint8Array, phase = 0): Uint8Array {
  const out = new Uint8Array(src.length);
  copyUnmasked(out, 0, src, 0, src.length, mask, phase);
  return out;
}
