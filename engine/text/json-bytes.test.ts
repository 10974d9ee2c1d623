/**
 * The byte encoders of `read --json` against an independent oracle: JSON.stringify of the
 * decoded string (the body between its quotes, as UTF-8) and Buffer's base64, on every byte
 * value, on dense and sparse escapes around the 16-byte blocks of the SIMD loop, on random
 * UTF-8 and random bytes, and in pieces cut anywhere (inside a UTF-8 sequence too).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { JsonBytes, PIECE, escapeJs } from './json-bytes';

/** what JSON.stringify writes between the quotes for these bytes of valid UTF-8 */
function oracle(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes).toString('utf8')).slice(1, -1);
}

const simd = JsonBytes.create(1 << 20);

/** src through `JsonBytes.escape` in pieces ending at `cuts`, as one string of the bytes written */
function viaWasm(src: Uint8Array, cuts: number[] = []): string {
  const j = simd as JsonBytes;
  let at = 0;
  let a = 0;
  for (const z of [...cuts.filter((c) => c > 0 && c < src.length).sort((x, y) => x - y), src.length]) {
    for (; a < z; ) {
      const n = Math.min(z - a, PIECE);
      at = j.escape(src, a, n, at);
      a += n;
    }
  }
  return j.out.toString('utf8', 0, at);
}

function viaJs(src: Uint8Array, cuts: number[] = []): string {
  const dst = Buffer.alloc(6 * src.length + 8);
  const dw = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const sw = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let at = 0;
  let a = 0;
  for (const z of [...cuts.filter((c) => c > 0 && c < src.length).sort((x, y) => x - y), src.length]) {
    at = escapeJs(dst, dw, at, src, sw, a, z);
    a = z;
  }
  return dst.toString('utf8', 0, at);
}

/** src (bytes) placed at an odd offset inside a larger buffer, so views with byteOffset are covered */
function offset(src: Uint8Array, by: number): Uint8Array {
  const b = new Uint8Array(src.length + by + 5).fill(0x22);
  b.set(src, by);
  return b.subarray(by, by + src.length);
}

const text = fc.string({ unit: 'binary', maxLength: 300 });
/** strings dense in what needs escaping, and in what looks close to it */
const adversarial = fc.string({
  unit: fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', ' ', '!', '#', '[', ']', '\u2028', '\u2029', 'é', '日', '\u{1f600}', 'a'),
  maxLength: 300,
});

describe('JSON escaping from bytes', () => {
  it('runs on WebAssembly SIMD here (Node 20), so the tests below check the module', () => {
    expect(simd).not.toBeNull();
  });

  it('escapes every byte below 0x80 alone, at every position of a 16-byte block, as JSON.stringify does', () => {
    for (let c = 0; c < 0x80; c++) {
      for (let pos = 0; pos < 40; pos++) {
        const src = new Uint8Array(40).fill(0x61);
        src[pos] = c;
        expect(viaWasm(src), `byte ${c} at ${pos}`).toBe(oracle(src));
        expect(viaJs(src), `byte ${c} at ${pos}`).toBe(oracle(src));
      }
    }
  });

  it('writes the longest output (every byte a \\u00XX escape) and runs of every length around the block size', () => {
    for (let n = 0; n <= 70; n++) {
      for (const fill of [0x00, 0x1f, 0x22, 0x5c, 0x0a, 0x41]) {
        const src = new Uint8Array(n).fill(fill);
        expect(viaWasm(src)).toBe(oracle(src));
        expect(viaJs(src)).toBe(oracle(src));
      }
      const all = Uint8Array.from({ length: n }, (_, i) => i & 0x7f);
      expect(viaWasm(all)).toBe(oracle(all));
      expect(viaJs(all)).toBe(oracle(all));
    }
  });

  it('escapes every pattern of quotes and backslashes in a 16-byte block (the swizzle tables), alone and after a control byte', () => {
    const src = new Uint8Array(48);
    for (let m = 0; m < 1 << 16; m++) {
      for (let j = 0; j < 16; j++) src[j] = src[j + 16] = m & (1 << j) ? (j & 1 ? 0x5c : 0x22) : 0xc3 + (j & 1) * 0x2c;
      src.fill(0x61, 32);
      src[40] = m & 31; // a control byte: this block takes the byte-by-byte path
      // bytes for bytes (0xc3 and 0xef between them): read as latin1, JSON.stringify is the byte-wise oracle
      const want = JSON.stringify(Buffer.from(src).toString('latin1')).slice(1, -1);
      const j = simd as JsonBytes;
      expect(j.out.toString('latin1', 0, j.escape(src, 0, 48, 0)), `pattern ${m}`).toBe(want);
    }
  });

  it('copies multi-byte UTF-8 (U+2028, U+2029 and astral characters included) and 0x7f unchanged', () => {
    const src = Buffer.from('\u2028\u2029\u007f\u{10ffff}\u{1f600}é日本"\\\u0001');
    expect(viaWasm(src)).toBe(oracle(src));
    expect(oracle(src)).toBe('\u2028\u2029\u007f\u{10ffff}\u{1f600}é日本\\"\\\\\\u0001');
  });

  it('matches JSON.stringify on random and adversarial text, at any offset, in pieces cut anywhere (inside characters too)', () => {
    fc.assert(
      fc.property(fc.oneof(text, adversarial), fc.nat(7), fc.array(fc.nat(1200), { maxLength: 6 }), (s, by, cuts) => {
        const src = offset(Buffer.from(s, 'utf8'), by);
        const want = oracle(src);
        expect(viaWasm(src, cuts)).toBe(want);
        expect(viaJs(src, cuts)).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('escapes a payload larger than a piece the same as whole', () => {
    const s = Buffer.from(('ab"c\\d\n日本\u0002 ' + 'x'.repeat(50)).repeat(5000), 'utf8');
    expect(s.length).toBeGreaterThan(3 * PIECE);
    expect(viaWasm(s, [PIECE - 1, 2 * PIECE + 7])).toBe(oracle(s));
  });
});

describe('base64 from bytes', () => {
  /** src through `JsonBytes.base64` in pieces of `piece` bytes (a multiple of 3), joined */
  function b64(src: Uint8Array, piece: number): string {
    const j = simd as JsonBytes;
    let at = 0;
    for (let a = 0; a < src.length; a += piece) at = j.base64(src, a, Math.min(piece, src.length - a), at);
    return j.out.toString('latin1', 0, at);
  }

  it('encodes every length from 0 to 100 (every padding case) and every byte value as Buffer does', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => (i * 7) & 255);
    for (let n = 0; n <= 100; n++) expect(b64(all.subarray(0, n), PIECE - (PIECE % 3))).toBe(Buffer.from(all.subarray(0, n)).toString('base64'));
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(b64(every, 255)).toBe(Buffer.from(every).toString('base64'));
  });

  it('matches Buffer on random bytes at any offset, in pieces of any multiple of 3', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(7), fc.integer({ min: 1, max: 400 }), (bytes, by, k) => {
        const src = offset(bytes, by);
        expect(b64(src, 3 * k)).toBe(Buffer.from(bytes).toString('base64'));
      }),
      { numRuns: 1000 },
    );
  });
});
