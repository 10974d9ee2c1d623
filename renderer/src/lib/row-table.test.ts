import { describe, it, expect } from 'vitest';
import { RowTable, textOffsets } from './row-table';
import { makeRow } from '../testing/fake-api';
import { allocRows, packRows, packedColumns } from '../../../shared/row-block';

describe('RowTable, by column', () => {
  it('appends a row block column by column: the same rows as pushed one by one, across growth and up to its bound', () => {
    const rows = Array.from({ length: 5000 }, (_, i) =>
      makeRow(i, { dir: i % 3 ? 'server' : 'client', opcode: [1, 2, 8][i % 3], kind: (['text', 'binary', 'close'] as const)[i % 3], rsv: i % 8, compressed: i % 2 === 0, truncated: i % 5 === 0, length: 2 ** 40 + i, ...(i % 3 === 2 ? { code: 1001 } : {}) }),
    );
    const t = new RowTable();
    const c = RowTable.prepare(packedColumns(packRows(rows)));
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

describe('RowTable texts', () => {
  it("cuts each row's preview and meaning out of its block's joined strings, beside rows pushed whole", () => {
    const n = 3000;
    const { cols, seal } = allocRows(n);
    for (let i = 0; i < n; i++) {
      cols.index[i] = i;
      cols.preview[i] = i % 10 === 0 ? '' : `{"n":${i},"s":"✓ ${'x'.repeat(i % 50)}"}`;
      cols.meaning[i] = i % 3 === 0 ? `type ${i}` : '';
    }
    const block = seal();
    const t = new RowTable();
    t.push(makeRow(0, { preview: 'pushed\nwith a line feed', meaning: 'm' }));
    const b = RowTable.prepare(packedColumns(block));
    // by slices of any size, as the feed appends them
    expect(t.appendColumns(b, 0, 1000)).toBe(1000);
    expect(t.appendColumns(b, 1000, 2999)).toBe(1999);
    expect(t.appendColumns(b, 2999)).toBe(1);
    expect(t.length).toBe(n + 1);
    expect(t.get(0)).toMatchObject({ preview: 'pushed\nwith a line feed', meaning: 'm' });
    for (let i = 0; i < n; i++) {
      expect(t.previewAt(i + 1)).toBe(cols.preview[i]);
      expect(t.get(i + 1).meaning).toBe(cols.meaning[i] || undefined);
    }
    // a block without meanings
    const plain = RowTable.prepare(packedColumns(packRows([makeRow(5, { preview: 'last' })])));
    t.appendColumns(plain);
    expect(t.get(n + 1)).toEqual(makeRow(5, { preview: 'last' }));
  });

  it('refuses a block whose joined texts are not its row count', () => {
    const block = packRows([makeRow(0, { preview: 'a' }), makeRow(1, { preview: 'b' })]);
    expect(() => RowTable.prepare(packedColumns({ ...block, previews: 'a' }))).toThrow(RangeError);
    expect(() => RowTable.prepare(packedColumns({ ...block, previews: 'a\nb\nc' }))).toThrow(RangeError);
    expect(() => RowTable.prepare(packedColumns({ ...block, meanings: 'm' }))).toThrow(RangeError);
    const out = new Uint32Array(3);
    textOffsets('ab\n\ncd', 3, out);
    expect(Array.from(out)).toEqual([0, 3, 4]);
    expect(() => textOffsets('x', 0, new Uint32Array(0))).toThrow(RangeError);
  });
});
