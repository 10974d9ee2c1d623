/**
 * Byte helpers shared by the test kit's builders: concatenation, ASCII, big-endian fields and
 * the Internet checksum (RFC 1071: one's-complement sum of 16-bit words).
 *
 * Memory: every function returns a fresh Uint8Array that the caller owns; inputs are copied.
 */

export type Bytes = Uint8Array;

export function concat(parts: readonly Bytes[]): Bytes {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function ascii(s: string): Bytes {
  return new TextEncoder().encode(s);
}

/** A string as UTF-8, or the bytes themselves (undefined: none). */
export function bytesOf(x: Bytes | string | undefined): Bytes {
  if (x === undefined) return new Uint8Array(0);
  return typeof x === 'string' ? ascii(x) : x;
}

export function be16(v: number): Bytes {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

/** Running one's-complement sum of `b` as big-endian 16-bit words (odd tail padded with 0). */
export function sum16(b: Bytes, acc = 0): number {
  let i = 0;
  for (; i + 1 < b.length; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i < b.length) acc += b[i]! << 8;
  return acc;
}

/** The checksum field for a running sum: carries folded in, complemented (RFC 1071). */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}
