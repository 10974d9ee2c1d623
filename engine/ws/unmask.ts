/**
 * XOR unmasking (RFC 6455 section 5.3) into a destination the caller owns. The input is never
 * written: an inspector shows the masked wire bytes too, so unlike ws' in-place unmask we
 * write the unmasked bytes to a separate buffer.
 *
 * Client payloads are half of a typical capture's bytes, so this is on the hot path. Runs of
 * at least SIMD_MIN bytes go through a 143-byte WebAssembly module (below, hand-assembled)
 * that XORs 64 bytes per loop turn with 128-bit SIMD: the bytes are copied into its memory
 * (memcpy), XORed in place there and copied out; that is about three times faster than the
 * best JS loop (4 bytes per turn over Int32Array views), mostly because it needs no typed
 * array views per call. Without WebAssembly SIMD (or if the module fails its self-check) the
 * JS loop does the work: one pass when source and destination share their alignment modulo 4,
 * else a memcpy followed by an in-place XOR.
 *
 * Memory: the wasm module owns 128 KiB (2 pages) for the process, created on first use and
 * never grown; input is processed in slices of at most SIMD_SLICE bytes. Functions read the
 * given source during the call only and keep no reference to it.
 */
import { byteView } from '../net/bytes';

/**
 * The module, in the WebAssembly binary format (spec section 5). One memory of 2 pages,
 * exported as "m"; one function, exported as "x":
 *
 *   (func (param $p i32) (param $n i32) (param $m i32) (local $v v128)
 *     (local.set $v (i32x4.splat (local.get $m)))
 *     (block (loop
 *       (br_if 1 (i32.eqz (local.get $n)))
 *       (v128.store offset=0  (local.get $p) (v128.xor (v128.load offset=0  (local.get $p)) (local.get $v)))
 *       ... the same at offsets 16, 32 and 48 ...
 *       (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *       (local.set $n (i32.sub (local.get $n) (i32.const 1)))
 *       (br 0))))
 *
 * XORs `n` blocks of 64 bytes from `p` with the 32-bit word `m` repeated (memory order, that
 * is little-endian: m = mask[0] | mask[1] << 8 | ...).
 */
function moduleBytes(): Uint8Array {
  const xorAt = (o: number): number[] => [0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x00, o, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x00, o];
  const body = [
    0x01, 0x01, 0x7b, // one local: v128
    0x20, 0x02, 0xfd, 0x11, 0x21, 0x03, // v = i32x4.splat(m)
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x01, 0x45, 0x0d, 0x01, // br_if 1 (n == 0)
    ...xorAt(0), ...xorAt(16), ...xorAt(32), ...xorAt(48),
    0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x00, // p += 64
    0x20, 0x01, 0x41, 0x01, 0x6b, 0x21, 0x01, // n -= 1
    0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br 0, end loop, end block, end func
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // type section: (i32 i32 i32) -> ()
    0x03, 0x02, 0x01, 0x00, // function section: func 0 has type 0
    0x05, 0x03, 0x01, 0x00, 0x02, // memory section: min 2 pages, no max
    0x07, 0x09, 0x02, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x78, 0x00, 0x00, // exports "m" (memory 0), "x" (func 0)
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

/** bytes per wasm call: the memory holds one slice plus the padding of its last 64-byte block */
const SIMD_SLICE = 64 * 1024;
/** shorter runs are XORed byte by byte in JS (copying in and out costs more than it saves) */
const SIMD_MIN = 64;

interface Simd {
  mem: ArrayBuffer;
  bytes: Uint8Array;
  xor: (p: number, blocks: number, mask: number) => void;
  /** see simdOut */
  out: Uint8Array;
}

/** the little of the WebAssembly JS API used here (the Node type-check has no DOM lib) */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let simd: Simd | null | undefined;

function loadSimd(): Simd | null {
  try {
    const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = moduleBytes();
    if (wa === undefined || !wa.validate(bytes)) return null;
    const x = new wa.Instance(new wa.Module(bytes), {}).exports as { m: { buffer: ArrayBuffer }; x: Simd['xor'] };
    const s: Simd = { mem: x.m.buffer, bytes: new Uint8Array(x.m.buffer), xor: x.x, out: new Uint8Array(0) };
    // self-check on a known input: 64 bytes of 0..63 against the mask 01 02 03 04
    for (let i = 0; i < 64; i++) s.bytes[i] = i;
    s.xor(0, 1, 0x04030201);
    for (let i = 0; i < 64; i++) if (s.bytes[i] !== (i ^ ((i & 3) + 1))) return null;
    return s;
  } catch {
    return null;
  }
}

/**
 * The first k bytes of the module's memory as a view; the last one is kept because most
 * calls have the same length (full-size TCP segments).
 */
function simdOut(s: Simd, k: number): Uint8Array {
  if (s.out.length !== k) s.out = new Uint8Array(s.mem, 0, k);
  return s.out;
}

/** Which implementation unmasks runs of SIMD_MIN bytes and more in this process. */
export function unmaskEngine(): 'wasm-simd' | 'js' {
  if (simd === undefined) simd = loadSimd();
  return simd === null ? 'js' : 'wasm-simd';
}

/** the mask as one 32-bit little-endian word, starting with mask byte `p` */
function maskWordLE(mask: Uint8Array, p: number): number {
  return mask[p] | (mask[(p + 1) & 3] << 8) | (mask[(p + 2) & 3] << 16) | (mask[(p + 3) & 3] << 24);
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
  if (n >= SIMD_MIN) {
    if (simd === undefined) simd = loadSimd();
    if (simd !== null) {
      const s = simd;
      const word = maskWordLE(mask, phase & 3);
      for (let j = 0; j < n; j += SIMD_SLICE) {
        // SIMD_SLICE is a multiple of 4, so every slice starts at the same mask phase
        const k = n - j < SIMD_SLICE ? n - j : SIMD_SLICE;
        // a whole segment's payload (the common case) needs no view of its own
        s.bytes.set(k === src.length ? src : byteView(src, start + j, k), 0);
        s.xor(0, (k + 63) >>> 6, word);
        dst.set(simdOut(s, k), dstOff + j);
      }
      return;
    }
  }
  copyUnmaskedJs(dst, dstOff, src, start, end, mask, phase);
}

/** The signature of copyUnmasked and of its JS fallback. */
export type CopyUnmasked = typeof copyUnmasked;

/** copyUnmasked in plain JS (the fallback without WebAssembly SIMD, and for short runs). */
export const copyUnmaskedJs: CopyUnmasked = (dst, dstOff, src, start, end, mask, phase) => {
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
    const w = maskWordNative(mask, p);
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
  dst.set(byteView(src, start, n), dstOff);
  xorInPlace(dst, dstOff, n, mask, p);
};

const scratch = new Uint8Array(4);
const scratchWord = new Int32Array(scratch.buffer);

/** the mask as one 32-bit word in the platform's memory order (for Int32Array views), starting with mask byte `p` */
function maskWordNative(mask: Uint8Array, p: number): number {
  scratch[0] = mask[p];
  scratch[1] = mask[(p + 1) & 3];
  scratch[2] = mask[(p + 2) & 3];
  scratch[3] = mask[(p + 3) & 3];
  return scratchWord[0];
}

/**
 * XOR dst[off, off+n) with the mask in place, mask byte `phase & 3` applying to dst[off]
 * (4 bytes at a time over an aligned Int32Array view; Int32 rather than Uint32: V8 keeps the
 * values small integers).
 */
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
    const w = maskWordNative(mask, p);
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
