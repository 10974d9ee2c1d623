/**
 * XOR unmasking (RFC 6455 section 5.3) into a destination the caller owns. The input is never
 * written: an inspector shows the masked wire bytes too, so unlike ws' in-place unmask we
 * write the unmasked bytes to a separate buffer, 4 bytes at a time over aligned Int32Array
 * views (Int32 rather than Uint32: V8 keeps the values small integers).
 *
 * When source and destination share their alignment modulo 4 this is one pass; otherwise the
 * bytes are copied first (memcpy) and the copy is XORed in place.
 */

const scratch = new Uint8Array(4);
const scratchWord = new Int32Array(scratch.buffer);

/** the mask as one 32-bit word in memory order, starting with mask byte `p` */
function maskWord(mask: Uint8Array, p: number): number {
  scratch[0] = mask[p];
  scratch[1] = mask[(p + 1) & 3];
  scratch[2] = mask[(p + 2) & 3];
  scratch[3] = mask[(p + 3) & 3];
  return scratchWord[0];
}

/**
 * Copy src[start, end) to dst at dstOff, unmasked. `phase` is the offset of src[start] within
 * the frame payload (only `phase & 3` matters: which mask byte applies to it).
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
  let p = phase & 3;
  let i = dstOff;
  let j = start;
  const dEnd = dstOff + n;
  if (n >= 32 && ((dst.byteOffset + dstOff) & 3) === ((src.byteOffset + start) & 3)) {
    while ((dst.byteOffset + i) & 3) {
      dst[i++] = src[j++] ^ mask[p];
      p = (p + 1) & 3;
    }
    const words = (dEnd - i) >>> 2;
    const w = maskWord(mask, p);
    const dv = new Int32Array(dst.buffer, dst.byteOffset + i, words);
    const sv = new Int32Array(src.buffer, src.byteOffset + j, words);
    for (let k = 0; k < words; k++) dv[k] = sv[k] ^ w;
    i += words << 2;
    j += words << 2;
    for (; i < dEnd; i++) {
      dst[i] = src[j++] ^ mask[p];
      p = (p + 1) & 3;
    }
    return;
  }
  if (n < 32) {
    for (; i < dEnd; i++) {
      dst[i] = src[j++] ^ mask[p];
      p = (p + 1) & 3;
    }
    return;
  }
  dst.set(src.subarray(start, end), dstOff);
  xorInPlace(dst, dstOff, n, mask, p);
}

/** XOR dst[off, off+n) with the mask, mask byte `phase & 3` applying to dst[off]. */
export function xorInPlace(dst: Uint8Array, off: number, n: number, mask: Uint8Array, phase: number): void {
  let i = off;
  const end = off + n;
  let p = phase & 3;
  while (i < end && (dst.byteOffset + i) & 3) {
    dst[i] ^= mask[p];
    p = (p + 1) & 3;
    i++;
  }
  const words = (end - i) >>> 2;
  if (words > 0) {
    const w = maskWord(mask, p);
    const view = new Int32Array(dst.buffer, dst.byteOffset + i, words);
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
