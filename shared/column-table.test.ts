import { describe, it, expect } from 'vitest';
import { CHUNK_ROWS, ChunkedTable, ColumnTable, DEFAULT_MAX_ROWS, RowBudget } from './column-table';

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

describe('ChunkedTable', () => {
  const SCHEMA2 = { id: 'u32', t: 'f64', small: 'u8', code: 'u16', head: ['u8', 3], name: 'str' } as const;

  it('keeps every cell across chunks, and never moves a full chunk', () => {
    const t = new ChunkedTable(SCHEMA2);
    const n = 2 * CHUNK_ROWS + 5;
    let firstFull: Float64Array | undefined;
    for (let i = 0; i < n; i++) {
      const r = t.append();
      expect(r).toBe(i);
      const c = t.cols;
      c.id.set(r, i * 3);
      c.t.set(r, i + 0.5);
      c.small.set(r, i & 0xff);
      c.code.set(r, 1000 + (i % 4000));
      c.head.cells(r).set([i & 0xff, (i >> 8) & 0xff, 7]);
      if (i % 1000 === 0) c.name.set(r, `row ${i}`);
      if (r === CHUNK_ROWS) firstFull = t.cols.t.chunks[0];
    }
    expect(t.length).toBe(n);
    expect(t.capacity).toBe(3 * CHUNK_ROWS);
    expect(t.cols.t.chunks[0]).toBe(firstFull);
    for (const r of [0, 1, 255, 256, CHUNK_ROWS - 1, CHUNK_ROWS, 2 * CHUNK_ROWS + 4]) {
      expect(t.cols.id.get(r)).toBe(r * 3);
      expect(t.cols.t.get(r)).toBe(r + 0.5);
      expect(t.cols.small.get(r)).toBe(r & 0xff);
      expect(t.cols.code.get(r)).toBe(1000 + (r % 4000));
      expect(Array.from(t.cols.head.cells(r))).toEqual([r & 0xff, (r >> 8) & 0xff, 7]);
      expect(t.cols.name.get(r)).toBe(r % 1000 === 0 ? `row ${r}` : '');
    }
    // a range across chunk boundaries, copied into another array type
    const out = new Float64Array(10);
    t.cols.id.copyTo(out, CHUNK_ROWS - 5, CHUNK_ROWS + 5);
    expect(Array.from(out)).toEqual(Array.from({ length: 10 }, (_, k) => (CHUNK_ROWS - 5 + k) * 3));
    expect(Array.from(t.cols.t.slice(2 * CHUNK_ROWS + 3, 2 * CHUNK_ROWS + 5))).toEqual([2 * CHUNK_ROWS + 3.5, 2 * CHUNK_ROWS + 4.5]);
  });

  it('grows its first chunk from 256 rows, then one chunk at a time: at most one chunk unused', () => {
    const t = new ChunkedTable({ v: 'f64' });
    expect(t.capacity).toBe(0);
    t.append();
    expect(t.capacity).toBe(256);
    t.append(300);
    expect(t.capacity).toBe(512);
    t.append(CHUNK_ROWS);
    expect(t.capacity).toBe(2 * CHUNK_ROWS);
    expect(t.cols.v.chunks.map((c) => c.length)).toEqual([CHUNK_ROWS, CHUNK_ROWS]);
    expect(t.allocatedBytes).toBe(2 * CHUNK_ROWS * 8);
    // a small table of a small bound stays small
    const small = new ChunkedTable({ v: 'f64' }, { maxRows: 10 });
    small.append();
    expect(small.capacity).toBe(10);
  });

  it('draws chunks from a shared budget, and stops growing for good at the first refusal', () => {
    const budget = new RowBudget(CHUNK_ROWS * 8 + CHUNK_ROWS * 4);
    const a = new ChunkedTable({ v: 'f64' }, { budget });
    const b = new ChunkedTable({ v: 'u32' }, { budget });
    expect(a.append(CHUNK_ROWS)).toBe(0);
    expect(budget.used).toBe(CHUNK_ROWS * 8);
    expect(b.fits(CHUNK_ROWS)).toBe(true);
    expect(b.append(CHUNK_ROWS)).toBe(0);
    expect(budget.used).toBe(budget.limit);
    // no room for another chunk: refused, nothing added, and the table is full from now on
    expect(a.fits(1)).toBe(false);
    expect(a.append()).toBe(-1);
    expect(a.length).toBe(CHUNK_ROWS);
    expect(a.full).toBe(true);
    expect(a.reserve(1)).toBe(false);
    // ... except for a forced reservation (a caller's last rows), counted past the limit
    expect(a.reserve(1, true)).toBe(true);
    expect(a.append()).toBe(CHUNK_ROWS);
    expect(budget.used).toBe(budget.limit + CHUNK_ROWS * 8);
  });

  it('stops at maxRows, and refuses a run that would not fit whole', () => {
    const t = new ChunkedTable({ v: 'u32' }, { maxRows: 1500 });
    expect(t.append(1400)).toBe(0);
    expect(t.append(101)).toBe(-1);
    expect(t.length).toBe(1400);
    expect(t.full).toBe(true);
    expect(t.append(100)).toBe(1400); // what fits in the chunk it has is still taken
    expect(t.append()).toBe(-1);
  });

  it('charges strings to the budget, and keeps none past it', () => {
    const budget = new RowBudget(CHUNK_ROWS * 8 + 1000);
    const t = new ChunkedTable({ s: 'str' }, { budget });
    t.append(3);
    expect(t.cols.s.set(0, 'a'.repeat(100))).toBe(true); // the chunk's slots and the string
    expect(t.cols.s.set(1, 'b'.repeat(1000))).toBe(false);
    expect(t.cols.s.get(1)).toBe('');
    expect(t.cols.s.get(0)).toHaveLength(100);
    expect(t.cols.s.get(2)).toBe('');
  });
});
