import { describe, it, expect } from 'vitest';
import { FragmentReassembler, insertRange } from './ipfrag';

const bytes = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

describe('insertRange', () => {
  it.each([
    { ranges: [], add: [0, 8], want: [0, 8], overlap: false },
    { ranges: [0, 8], add: [8, 16], want: [0, 16], overlap: false },
    { ranges: [8, 16], add: [0, 8], want: [0, 16], overlap: false },
    { ranges: [0, 8, 16, 24], add: [8, 16], want: [0, 24], overlap: false },
    { ranges: [0, 8, 24, 32], add: [12, 16], want: [0, 8, 12, 16, 24, 32], overlap: false },
    { ranges: [0, 16], add: [8, 24], want: [0, 24], overlap: true },
    { ranges: [8, 16, 24, 32], add: [0, 40], want: [0, 40], overlap: true },
    { ranges: [0, 8], add: [0, 8], want: [0, 8], overlap: true },
  ])('$ranges + $add -> $want', ({ ranges, add, want, overlap }) => {
    const r = [...ranges];
    expect(insertRange(r, add[0], add[1])).toBe(overlap);
    expect(r).toEqual(want);
  });
});

describe('FragmentReassembler', () => {
  it('returns the datagram on the fragment that completes it, in any order', () => {
    const whole = bytes(40);
    const f = new FragmentReassembler();
    expect(f.add('k', 1, 16, true, whole.subarray(16, 32), false)).toBeNull();
    expect(f.add('k', 1, 32, false, whole.subarray(32), false)).toBeNull();
    const out = f.add('k', 1, 0, true, whole.subarray(0, 16), false);
    expect(out).toEqual(whole);
    expect(f.inFlight).toBe(0);
    expect(f.bufferedBytes).toBe(0);
    expect(f.stats).toMatchObject({ fragments: 3, reassembled: 1, dropped: 0 });
  });

  it('copies fragment bytes, so the caller may reuse its buffer', () => {
    const buf = bytes(16);
    const f = new FragmentReassembler();
    f.add('k', 1, 0, true, buf.subarray(0, 8), false);
    buf.fill(0xee);
    const out = f.add('k', 1, 8, false, bytes(8, 8), false);
    expect(out).toEqual(bytes(16));
  });

  it('lets later bytes win on overlap and counts it', () => {
    const f = new FragmentReassembler();
    f.add('k', 1, 0, true, new Uint8Array(16).fill(1), false);
    const out = f.add('k', 1, 8, false, new Uint8Array(16).fill(2), false)!;
    expect(Array.from(out)).toEqual([...new Array(8).fill(1), ...new Array(16).fill(2)]);
    expect(f.stats.overlaps).toBe(1);
  });

  it('drops a datagram whose last fragments disagree on its length, or whose data runs past the end', () => {
    const f = new FragmentReassembler();
    expect(f.add('a', 1, 8, false, bytes(16), false)).toBeNull();
    expect(f.add('a', 1, 8, false, bytes(24), false)).toBeNull();
    f.add('b', 1, 32, false, bytes(8), false);
    expect(f.add('b', 1, 40, true, bytes(8), false)).toBeNull();
    expect(f.stats.dropped).toBe(2);
    expect(f.inFlight).toBe(0);
  });

  it('rejects a non-final fragment that is not a multiple of 8 bytes, one past 65535, and one the snap length cut', () => {
    const f = new FragmentReassembler();
    expect(f.add('a', 1, 0, true, bytes(7), false)).toBeNull();
    expect(f.add('b', 1, 65528, false, bytes(16), false)).toBeNull();
    expect(f.add('c', 1, 0, true, bytes(8), true)).toBeNull();
    expect(f.stats.dropped).toBe(3);
    expect(f.inFlight).toBe(0);
  });

  it('forgets datagrams older than the timeout, measured in capture time', () => {
    const f = new FragmentReassembler({ timeout: 30 });
    f.add('old', 100, 0, true, bytes(8), false);
    f.add('new', 125, 0, true, bytes(8), false);
    expect(f.inFlight).toBe(2);
    expect(f.add('new', 131, 8, false, bytes(8, 8), false)).toEqual(bytes(16));
    expect(f.inFlight).toBe(0);
    expect(f.stats.dropped).toBe(1);
  });

  it('keeps the buffered bytes under the limit by evicting the oldest datagrams', () => {
    const f = new FragmentReassembler({ maxBytes: 16384, maxDatagrams: 1000 });
    for (let i = 0; i < 100; i++) {
      f.add(`d${i}`, 1, 0, true, bytes(1480), false);
      expect(f.bufferedBytes).toBeLessThanOrEqual(16384);
    }
    expect(f.inFlight).toBeLessThan(100);
    expect(f.stats.dropped).toBe(100 - f.inFlight);
    // the newest one is still completable
    expect(f.add('d99', 1, 1480, false, bytes(20), false)?.length).toBe(1500);
  });
});
