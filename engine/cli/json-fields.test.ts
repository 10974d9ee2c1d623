/**
 * The byte writers of JSON scalars against what JSON.stringify writes for the same value: the
 * timestamp fast path on microsecond timestamps and on every other kind of double, integers
 * up to and past 2^53, and the constants' padding.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { chunk, putBool, putChunk, putNum, putTs } from './json-fields';

const buf = Buffer.alloc(256);
const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

function written(put: (b: Uint8Array, p: number, n: number) => number, n: number): string {
  buf.fill(0x3f);
  const end = put(buf, 3, n);
  return buf.toString('latin1', 3, end);
}

describe('putTs', () => {
  it('writes microsecond timestamps as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 33 * 1e6 - 1 }), (us) => {
        const ts = us / 1e6;
        expect(written(putTs, ts)).toBe(JSON.stringify(ts));
      }),
      { numRuns: 20000 },
    );
  });

  it('writes timestamps in time order, many in the same second, as JSON.stringify does (the last second is kept)', () => {
    // capture times: runs within one second, then jumps forwards and backwards across seconds
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 999_999 })), { minLength: 1, maxLength: 50 }), (steps) => {
        let sec = 1_700_000_000;
        for (const [jump, us] of steps) {
          sec += jump === 3 ? -1 : jump === 2 ? 1 : 0;
          const ts = (sec * 1e6 + us) / 1e6;
          expect(written(putTs, ts)).toBe(JSON.stringify(ts));
        }
      }),
      { numRuns: 2000 },
    );
    for (const ts of [9.5, 10, 10.000001, 10.1, 99.99, 100, 100.000100, 1e9, 999_999_999.999999, 1e9 + 0.5]) expect(written(putTs, ts), String(ts)).toBe(JSON.stringify(ts));
  });

  it('writes any other double (nanoseconds, huge, tiny, negative, not finite) as JSON.stringify does', () => {
    const edges = [0, -0, 1, 0.5, 1e-6, 1e-7, 5e-7, 0.000001, 0.0000015, 1700000000, 1700000000.0000005, 1700000000.9999995, 1700000000.000001, 2 ** 33 - 1e-6, 2 ** 33, 2 ** 33 + 0.5, 1e21, 1e21 + 1e6, 2 ** 53, 2 ** 53 + 2, 1.7976931348623157e308, 5e-324, -1700000000.25, -1e-6, NaN, Infinity, -Infinity];
    for (const ts of edges) expect(written(putTs, ts), String(ts)).toBe(JSON.stringify(ts) ?? 'null');
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.double({ min: 0, max: 2 ** 34 }), fc.integer({ min: 0, max: 2 ** 40 }).map((n) => n / 1e9)), (ts) => {
        expect(written(putTs, ts)).toBe(JSON.stringify(ts));
      }),
      { numRuns: 20000 },
    );
  });
});

describe('putNum', () => {
  it('writes integers, fractions and non-finite numbers as JSON.stringify does', () => {
    for (const n of [0, -0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, -1, 0.5, NaN, Infinity, -Infinity]) {
      expect(written(putNum, n), String(n)).toBe(JSON.stringify(n) === undefined || !Number.isFinite(n) ? 'null' : JSON.stringify(n));
    }
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.integer(), fc.double()), (n) => {
        expect(written(putNum, n)).toBe(JSON.stringify(n));
      }),
      { numRuns: 20000 },
    );
  });
});

describe('chunks', () => {
  it('writes a constant of any length at any position, its padding overwritten by what follows', () => {
    for (let len = 0; len <= 13; len++) {
      const s = '{"abcdefghijklmnop'.slice(0, len);
      const c = chunk(s);
      for (let at = 0; at < 5; at++) {
        buf.fill(0x3f);
        const end = putBool(dv, putChunk(dv, at, c), len % 2 === 0);
        expect(buf.toString('latin1', at, end)).toBe(s + String(len % 2 === 0));
      }
    }
  });
});
