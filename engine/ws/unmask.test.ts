import { describe, it, expect } from 'vitest';
import { copyUnmasked, copyUnmaskedJs, unmaskEngine, xorInPlace } from './unmask';
import { validUtf8 } from './utf8';

function naive(src: Uint8Array, mask: Uint8Array, phase: number): Uint8Array {
  return src.map((b, i) => b ^ mask[(i + phase) & 3]);
}

describe('unmask', () => {
  const mask = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  const data = new Uint8Array(300).map((_, i) => (i * 7 + 3) & 0xff);
  const backing = new Uint8Array(400);
  for (const [name, copy] of [['copyUnmasked', copyUnmasked], ['copyUnmaskedJs', copyUnmaskedJs]] as const) {
    it(`${name} matches a byte-wise XOR for every source and destination alignment, phase and length`, () => {
      for (const n of [0, 1, 5, 31, 32, 33, 63, 64, 65, 100, 127, 128, 257]) {
        for (let so = 0; so < 4; so++) {
          for (let dOff = 0; dOff < 4; dOff++) {
            for (let phase = 0; phase < 4; phase++) {
              const src = new Uint8Array(backing.buffer, so, n + 8);
              src.set(data.subarray(0, n + 8));
              const before = src.slice();
              const dst = new Uint8Array(n + 8);
              copy(dst, dOff, src, 2, 2 + n, mask, phase);
              expect(Buffer.from(dst.subarray(dOff, dOff + n)).equals(Buffer.from(naive(src.subarray(2, 2 + n), mask, phase)))).toBe(true);
              expect(Buffer.from(src).equals(Buffer.from(before))).toBe(true);
              // nothing written outside the destination range
              expect(dst.subarray(0, dOff).every((b) => b === 0) && dst.subarray(dOff + n).every((b) => b === 0)).toBe(true);
            }
          }
        }
      }
    });
    it(`${name} unmasks a payload larger than one WebAssembly slice (64 KiB) from a Node Buffer`, () => {
      const big = Buffer.alloc(200_003 + 3);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const dst = new Uint8Array(200_003 + 1);
      copy(dst, 1, big, 3, big.length, mask, 2);
      expect(Buffer.from(dst.subarray(1)).equals(Buffer.from(naive(big.subarray(3), mask, 2)))).toBe(true);
      expect(dst[0]).toBe(0);
    });
  }
  it('uses the WebAssembly SIMD path on this Node (the JS path is the fallback)', () => {
    expect(unmaskEngine()).toBe('wasm-simd');
  });
  it('XORs in place at any offset', () => {
    for (let off = 0; off < 5; off++) {
      const b = data.slice();
      xorInPlace(b, off, 200, mask, 3);
      expect(Buffer.from(b.subarray(off, off + 200)).equals(Buffer.from(naive(data.subarray(off, off + 200), mask, 3)))).toBe(true);
      expect(b[off + 200]).toBe(data[off + 200]);
    }
  });
});

describe('validUtf8', () => {
  const euro = new TextEncoder().encode('a€'); // 61 e2 82 ac
  it('accepts an incomplete last sequence only when the data was cut', () => {
    expect(validUtf8(euro)).toBe(true);
    expect(validUtf8(euro.subarray(0, 3))).toBe(false);
    expect(validUtf8(euro.subarray(0, 3), true)).toBe(true);
    expect(validUtf8(new Uint8Array([0x61, 0xff]), true)).toBe(false);
    expect(validUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(false); // surrogate
    expect(validUtf8(new Uint8Array([0x61, 0xed, 0xa0]), true)).toBe(false); // cut surrogate
    expect(validUtf8(new Uint8Array([0x61, 0xf0]), true)).toBe(true);
    expect(validUtf8(new Uint8Array([0x61, 0xc0]), true)).toBe(false); // overlong lead
  });
});
