/**
 * Timeline rows stored by column (shared/column-table.ts): typed arrays for the numbers and
 * flags, one array of preview strings. A million rows cost ~55 bytes each plus their preview
 * (a MessageRow object costs three times that), and the garbage collector never walks the
 * typed columns. `get(p)` builds a MessageRow on demand for the few rows on screen; hot loops
 * (filtering, the time axis, lookups) read the columns directly, through the getters below
 * (a column's array is replaced when the table grows: read it again after a `push`).
 *
 * Bound: at most `maxRows` rows (default DEFAULT_MAX_ROWS, 16.7 M); `push` beyond it drops
 * the row and returns false, so a session larger than that shows its first rows instead of
 * exhausting the renderer's memory. Append-only; the table owns its arrays.
 */
import type { MessageRow } from '../../../shared/api';
import type { Direction } from '../../../shared/events';
import { ColumnTable, type ColumnTableOptions } from '../../../shared/column-table';
import { KIND_ID, KINDS, ROW_BITS, type RowColumns } from '../../../shared/row-block';

const F_SERVER = 1;
const F_COMPRESSED = 2;
const F_FIN = 4;
const F_MASKED = 8;
const F_TRUNCATED = 16;
const F_CODE = 32;


const COLUMNS = {
  index: 'u32',
  conn: 'u32',
  ts: 'f64',
  opcode: 'u8',
  flags: 'u8',
  rsv: 'u8',
  kind: 'u8',
  size: 'f64',
  wireSize: 'f64',
  frames: 'u32',
  findings: 'u32',
  code: 'u16',
  preview: 'str',
  /** decoded meaning (MessageRow.meaning), '' for none */
  meaning: 'str',
} as const;

export class RowTable {
  private readonly t: ColumnTable<typeof COLUMNS>;

  constructor(rows: MessageRow[] = [], opts: Partial<ColumnTableOptions> = {}) {
    this.t = new ColumnTable(COLUMNS, opts);
    for (const r of rows) this.push(r);
  }

  get length(): number {
    return this.t.length;
  }
  get index(): Uint32Array {
    return this.t.cols.index;
  }
  get conn(): Uint32Array {
    return this.t.cols.conn;
  }
  get ts(): Float64Array {
    return this.t.cols.ts;
  }
  get opcode(): Uint8Array {
    return this.t.cols.opcode;
  }
  /** payload lengths (MessageRow.length) */
  get sizes(): Float64Array {
    return this.t.cols.size;
  }
  get findings(): Uint32Array {
    return this.t.cols.findings;
  }
  get preview(): string[] {
    return this.t.cols.preview;
  }

  /** Room for `n` rows in all (see ColumnTable.reserve). */
  reserve(n: number): void {
    this.t.reserve(n);
  }

  /** Appends a row; false (and nothing stored) when the table is full. */
  push(r: MessageRow): boolean {
    const p = this.t.append();
    if (p < 0) return false;
    const c = this.t.cols;
    c.index[p] = r.index;
    c.conn[p] = r.conn;
    c.ts[p] = r.ts;
    c.opcode[p] = r.opcode;
    c.flags[p] =
      (r.dir === 'server' ? F_SERVER : 0) |
      (r.compressed ? F_COMPRESSED : 0) |
      (r.fin ? F_FIN : 0) |
      (r.masked ? F_MASKED : 0) |
      (r.truncated ? F_TRUNCATED : 0) |
      (r.code !== undefined ? F_CODE : 0);
    c.rsv[p] = r.rsv;
    c.kind[p] = KIND_ID[r.kind] ?? 5;
    c.size[p] = r.length;
    c.wireSize[p] = r.wireLength;
    c.frames[p] = r.frames;
    c.findings[p] = r.findings;
    c.code[p] = r.code ?? 0;
    c.preview[p] = r.preview;
    c.meaning[p] = r.meaning ?? '';
    return true;
  }

  /**
   * Appends rows [from, c.count) of a row block (Batch.rows) column by column; stops early
   * when the table is full. Returns how many were stored.
   */
  appendColumns(c: RowColumns, from = 0): number {
    let n = c.count - from;
    if (n <= 0) return 0;
    let p = this.t.append(n);
    if (p < 0) {
      // full: take what still fits
      n = this.t.maxRows - this.t.length;
      if (n <= 0 || (p = this.t.append(n)) < 0) return 0;
    }
    const t = this.t.cols;
    const to = from + n;
    t.index.set(c.index.subarray(from, to), p);
    t.conn.set(c.conn.subarray(from, to), p);
    t.ts.set(c.ts.subarray(from, to), p);
    t.size.set(c.length.subarray(from, to), p);
    t.wireSize.set(c.wireLength.subarray(from, to), p);
    t.frames.set(c.frames.subarray(from, to), p);
    t.findings.set(c.findings.subarray(from, to), p);
    t.code.set(c.code.subarray(from, to), p);
    const { bits, preview, meaning } = c;
    for (let i = 0; i < n; i++) {
      const b = bits[from + i];
      const q = p + i;
      t.opcode[q] = b & ROW_BITS.OPCODE;
      t.flags[q] =
        (b & ROW_BITS.SERVER ? F_SERVER : 0) |
        (b & ROW_BITS.COMPRESSED ? F_COMPRESSED : 0) |
        (b & ROW_BITS.FIN ? F_FIN : 0) |
        (b & ROW_BITS.MASKED ? F_MASKED : 0) |
        (b & ROW_BITS.TRUNCATED ? F_TRUNCATED : 0) |
        (b & ROW_BITS.HAS_CODE ? F_CODE : 0);
      t.rsv[q] = (b >> ROW_BITS.RSV_SHIFT) & 7;
      t.kind[q] = (b >> ROW_BITS.KIND_SHIFT) & 7;
      t.preview[q] = preview[from + i];
      t.meaning[q] = meaning[from + i];
    }
    return n;
  }

  dir(p: number): Direction {
    return this.t.cols.flags[p] & F_SERVER ? 'server' : 'client';
  }

  get(p: number): MessageRow {
    const c = this.t.cols;
    const f = c.flags[p];
    const row: MessageRow = {
      index: c.index[p],
      conn: c.conn[p],
      dir: f & F_SERVER ? 'server' : 'client',
      ts: c.ts[p],
      opcode: c.opcode[p],
      length: c.size[p],
      wireLength: c.wireSize[p],
      compressed: (f & F_COMPRESSED) !== 0,
      fin: (f & F_FIN) !== 0,
      rsv: c.rsv[p],
      masked: (f & F_MASKED) !== 0,
      frames: c.frames[p],
      truncated: (f & F_TRUNCATED) !== 0,
      preview: c.preview[p],
      kind: KINDS[c.kind[p]],
      findings: c.findings[p],
    };
    if (f & F_CODE) row.code = c.code[p];
    if (c.meaning[p]) row.meaning = c.meaning[p];
    return row;
  }
}
