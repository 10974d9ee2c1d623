import { describe, it, expect } from 'vitest';
import { ColumnTable, DEFAULT_MAX_ROWS } from './column-table';

const SCHEMA = { id: 'u32', t: 'f64', small: 'u8', signed: 'i32', code: 'u16', head: ['u8', 3], name: 'str' } as const;

function fill(table: ColumnTable<typeof SCHEMA>, n: number): void {
  for (let i = 0; i < n; i++) {
    const r = table.append();
    expect(r).toBe(i);
    const c = table.cols;
    c.id[r] = i * 3;
    c.t[r] = i + 0.5;
    c.small[r] = i & 0xff;
    c.signed[r] = -i - 1;
    c.code[r] = 1000 + (i % 4000);
    c.head.set([i & 0xff, (i >> 8) & 0xff, 7], r * 3);
    c.name[r] = `row ${i}`;
  }
}

describe('ColumnTable', () => {
  it('keeps every cell of every row across growth by doubling', () => {
    const t = new ColumnTable(SCHEMA);
    expect(t.capacity).toBe(0);
    fill(t, 5000);
    expect(t.length).toBe(5000);
    expect(t.capacity).toBe(8192); // 1024 -> 2048 -> 4096 -> 8192
    for (const r of [0, 1, 1023, 1024, 2047, 2048, 4095, 4096, 4999]) {
      expect(t.cols.id[r]).toBe(r * 3);
      expect(t.cols.t[r]).toBe(r + 0.5);
      expect(t.cols.small[r]).toBe(r & 0xff);
      expect(t.cols.signed[r]).toBe(-r - 1);
      expect(t.cols.code[r]).toBe(1000 + (r % 4000));
      expect(Array.from(t.cols.head.subarray(r * 3, r * 3 + 3))).toEqual([r & 0xff, (r >> 8) & 0xff, 7]);
      expect(t.cols.name[r]).toBe(`row ${r}`);
    }
    expect(t.cols.name).toHaveLength(5000);
  });

  it('replaces the column arrays when it grows, and keeps the columns object', () => {
    const t = new ColumnTable({ v: 'u32' });
    const cols = t.cols;
    t.append();
    const before = t.cols.v;
    for (let i = 1; i < 1024; i++) t.append();
    expect(t.cols.v).toBe(before); // still within the first 1024 rows
    t.append();
    expect(t.cols.v).not.toBe(before);
    expect(t.cols).toBe(cols);
    expect(t.cols.v.length).toBe(2048);
  });

  it('reserves room once for a known size, by doubling, keeping the rows and the bound', () => {
    const t = new ColumnTable(SCHEMA, { maxRows: 100_000 });
    fill(t, 10);
    const before = t.cols.id;
    t.reserve(70_000);
    expect(t.capacity).toBe(100_000); // 1024 doubled past 70,000 is 131,072: capped at the bound
    expect(t.cols.id).not.toBe(before);
    expect(t.cols.id[9]).toBe(27);
    expect(t.length).toBe(10);
    const after = t.cols.id;
    for (let i = 10; i < 70_000; i++) t.append();
    expect(t.cols.id).toBe(after); // no growth on the way
    t.reserve(1_000_000);
    expect(t.capacity).toBe(100_000);
    t.reserve(5);
    expect(t.capacity).toBe(100_000);
  });

  it('gives new rows zeroes and empty strings, also after growth', () => {
    const t = new ColumnTable(SCHEMA);
    fill(t, 1500);
    const r = t.append(3);
    expect(r).toBe(1500);
    for (let k = r; k < r + 3; k++) {
      expect([t.cols.id[k], t.cols.t[k], t.cols.small[k], t.cols.signed[k], t.cols.code[k]]).toEqual([0, 0, 0, 0, 0]);
      expect(Array.from(t.cols.head.subarray(k * 3, k * 3 + 3))).toEqual([0, 0, 0]);
      expect(t.cols.name[k]).toBe('');
    }
    expect(t.length).toBe(1503);
  });

  it('appends a run of rows at once and addresses them by position', () => {
    const t = new ColumnTable({ frame: 'u32' });
    expect(t.append(3000)).toBe(0);
    expect(t.append(5)).toBe(3000);
    expect(t.length).toBe(3005);
    expect(t.capacity).toBe(4096);
    t.cols.frame.set([9, 8, 7, 6, 5], 3000);
    expect(Array.from(t.cols.frame.subarray(2999, 3005))).toEqual([0, 9, 8, 7, 6, 5]);
  });

  it('stops at maxRows: append returns -1, adds nothing, and capacity never passes the bound', () => {
    const t = new ColumnTable({ v: 'u32', s: 'str' }, { maxRows: 1500 });
    expect(t.maxRows).toBe(1500);
    for (let i = 0; i < 1500; i++) expect(t.append()).toBe(i);
    expect(t.capacity).toBe(1500); // doubling from 1024 is cut to the bound
    expect(t.fits(1)).toBe(false);
    expect(t.append()).toBe(-1);
    expect(t.length).toBe(1500);
    expect(t.cols.s).toHaveLength(1500);
    const u = new ColumnTable({ v: 'u32' }, { maxRows: 1500 });
    u.append(1400);
    expect(u.append(101)).toBe(-1); // a run that would not fit is refused whole
    expect(u.length).toBe(1400);
    expect(u.append(100)).toBe(1400);
  });

  it('derives the row bound from a byte budget, counting every column of a row', () => {
    // 8 (f64) + 4 (u32) + 2 * 2 (u16 x 2) + 8 (string slot) = 24 bytes a row
    const t = new ColumnTable({ a: 'f64', b: 'u32', c: ['u16', 2], s: 'str' }, { maxBytes: 24 * 3000 + 23 });
    expect(t.bytesPerRow).toBe(24);
    expect(t.maxRows).toBe(3000);
    while (t.append() >= 0);
    expect(t.length).toBe(3000);
    expect(t.allocatedBytes).toBe(3000 * 16); // typed columns only
    expect(t.allocatedBytes).toBeLessThanOrEqual(24 * 3000 + 23);
    // the smaller of the two bounds wins
    expect(new ColumnTable({ a: 'f64' }, { maxBytes: 8 * 100, maxRows: 50 }).maxRows).toBe(50);
    expect(new ColumnTable({ a: 'f64' }).maxRows).toBe(DEFAULT_MAX_ROWS);
  });

  it('refuses a column width that is not a positive integer', () => {
    expect(() => new ColumnTable({ h: ['u8', 0] })).toThrow(RangeError);
    expect(() => new ColumnTable({ h: ['u8', 1.5] })).toThrow(RangeError);
  });
});
