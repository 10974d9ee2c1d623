import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { seqDiff, seqLt, seqLe, seqAdd } from './seq';

const MAX = 0xffffffff;
const HALF = 0x80000000;

describe('seqDiff', () => {
  const table: Array<[a: number, b: number, diff: number]> = [
    [0, 0, 0],
    [1, 0, 1],
    [0, 1, -1],
    [0, MAX, 1], // wrap forwards: 2^32-1 -> 0 is one step
    [MAX, 0, -1],
    [5, MAX - 4, 10],
    [MAX - 4, 5, -10],
    [HALF - 1, 0, HALF - 1],
    [0, HALF - 1, -(HALF - 1)],
    [HALF, 0, HALF], // exact half-way resolves to +2^31, never -2^31
    [0, HALF, HALF],
    [HALF + 1, 0, -(HALF - 1)],
    [0, HALF + 1, HALF - 1],
    [MAX, HALF, HALF - 1],
    [HALF, MAX, -(HALF - 1)],
    [MAX, MAX, 0],
  ];
  for (const [a, b, diff] of table) {
    it(`gives ${diff} for ${a} - ${b}`, () => {
      expect(seqDiff(a, b)).toBe(diff);
    });
  }

  it('stays in (-2^31, 2^31] and inverts seqAdd for any pair', () => {
    fc.assert(
      fc.property(fc.nat(MAX), fc.nat(MAX), (a, b) => {
        const d = seqDiff(a, b);
        expect(d).toBeGreaterThan(-HALF);
        expect(d).toBeLessThanOrEqual(HALF);
        expect(seqAdd(b, d)).toBe(a);
      }),
    );
  });
});

describe('seqLt and seqLe', () => {
  const table: Array<[a: number, b: number, lt: boolean, le: boolean]> = [
    [0, 0, false, true],
    [0, 1, true, true],
    [1, 0, false, false],
    [MAX, 0, true, true], // 2^32-1 precedes 0 across the wrap
    [0, MAX, false, false],
    [MAX - 100, 100, true, true],
    [100, MAX - 100, false, false],
    [0, HALF - 1, true, true],
    [HALF - 1, 0, false, false],
    [MAX, MAX, false, true],
  ];
  for (const [a, b, lt, le] of table) {
    it(`orders ${a} against ${b} as lt=${lt} le=${le}`, () => {
      expect(seqLt(a, b)).toBe(lt);
      expect(seqLe(a, b)).toBe(le);
    });
  }
});

describe('seqAdd', () => {
  const table: Array<[a: number, n: number, sum: number]> = [
    [0, 0, 0],
    [0, 1, 1],
    [MAX, 1, 0],
    [MAX, 2, 1],
    [MAX - 9, 1460, 1450],
    [0, -1, MAX],
    [5, -10, MAX - 4],
    [HALF, HALF, 0],
    [HALF - 1, 1, HALF],
  ];
  for (const [a, n, sum] of table) {
    it(`wraps ${a} + ${n} to ${sum}`, () => {
      expect(seqAdd(a, n)).toBe(sum);
    });
  }
});
