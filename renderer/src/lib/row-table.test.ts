import { describe, it, expect } from 'vitest';
import { RowTable } from './row-table';
import { makeRow } from '../testing/fake-api';
import { packRows, unpackRows } from '../../../shared/row-block';

describe('RowTable, by column', () => {
  it('appends a row block column by column: the same rows as pushed one by one, across growth and up to its bound', () => {
    const rows = Array.from({ length: 5000 }, (_, i) =>
      makeRow(i, { dir: i % 3 ? 'server' : 'client', opcode: [1, 2, 8][i % 3], kind: (['text', 'binary', 'close'] as const)[i % 3], rsv: i % 8, compressed: i % 2 === 0, truncated: i % 5 === 0, length: 2 ** 40 + i, ...(i % 3 === 2 ? { code: 1001 } : {}) }),
    );
    const t = new RowTable();
    const c = unpackRows(packRows(rows));
    expect(t.appendColumns(c, 0)).toBe(5000);
    for (let p = 0; p < rows.length; p += 7) expect(t.get(p)).toEqual(rows[p]);
    // from a position in the block (a replay resends rows the table has), and a full table takes what fits
    const small = new RowTable([], { maxRows: 100 });
    expect(small.appendColumns(c, 4950)).toBe(50);
    expect(small.get(0)).toEqual(rows[4950]);
    expect(small.appendColumns(c, 0)).toBe(50);
    expect(small.length).toBe(100);
    expect(small.appendColumns(c, 0)).toBe(0);
  });
});

describe('RowTable', () => {
  it('gives back every field of the rows pushed into it, across growth', () => {
    const rows = Array.from({ length: 3000 }, (_, i) =>
      makeRow(i * 2, {
        conn: i % 5,
        dir: i % 3 ? 'server' : 'client',
        opcode: [1, 2, 8, 9, 10][i % 5],
        kind: (['text', 'binary', 'close', 'ping', 'pong'] as const)[i % 5],
        compressed: i % 4 === 0,
        fin: i % 6 !== 0,
        rsv: i % 8,
        masked: i % 2 === 0,
        truncated: i % 7 === 0,
        length: 2 ** 33 + i,
        wireLength: i,
        frames: i % 9,
        findings: i % 11,
        preview: `p${i}`,
        ...(i % 5 === 2 ? { code: 1000 + i } : {}),
      }),
    );
    const t = new RowTable();
    for (const r of rows) t.push(r);
    expect(t.length).toBe(3000);
    for (let p = 0; p < rows.length; p++) expect(t.get(p)).toEqual(rows[p]);
    expect(t.dir(1)).toBe('server');
    expect(new RowTable(rows.slice(0, 10)).get(9)).toEqual(rows[9]);
  });
});

describe('RowTable bound', () => {
  it('refuses rows past maxRows and keeps the ones it has', () => {
    const t = new RowTable([], { maxRows: 2 });
    expect(t.push(makeRow(0))).toBe(true);
    expect(t.push(makeRow(1, { preview: 'second' }))).toBe(true);
    expect(t.push(makeRow(2))).toBe(false);
    expect(t.length).toBe(2);
    expect(t.get(1)).toEqual(makeRow(1, { preview: 'second' }));
    expect(Array.from(t.index.subarray(0, t.length))).toEqual([0, 1]);
  });
});
