/**
 * Timeline rows stored by column (shared/column-table.ts): typed arrays for the numbers and
 * flags. Previews and meanings stay in the "\n"-joined strings they arrive in (RowBlock),
 * each row holding the number of its string and the offset of its text there (JoinedTexts);
 * a row's text is cut out when asked for. A million rows cost ~70 bytes each plus their
 * preview's characters, and the garbage collector walks a few dozen strings, not a million
 * (splitting the blocks into one string a row was most of the page's GC time while a
 * million-message capture loaded). `get(p)` builds a MessageRow on demand for the few rows on
 * screen; hot loops (filtering, the time axis, lookups) read the columns directly, through
 * the getters below (a column's array is replaced when the table grows: read it again after
 * a `push`).
 *
 * Bound: at most `maxRows` rows (default DEFAULT_MAX_ROWS, 16.7 M); `push` beyond it drops
 * the row and returns false, so a session larger than that shows its first rows instead of
 * exhausting the renderer's memory. Append-only; the table owns its arrays and keeps the
 * joined strings of the blocks appended to it (shared with the block, never copied).
 */
import type { MessageRow } from '../../../shared/api';
import type { Direction } from '../../../shared/events';
import { ColumnTable, type ColumnTableOptions } from '../../../shared/column-table';
import { KIND_ID, KINDS, ROW_BITS, type PackedColumns } from '../../../shared/row-block';

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
  /** the preview: its string in JoinedTexts and its offset there */
  pvStr: 'u32',
  pvAt: 'u32',
  /** decoded meaning (MessageRow.meaning): as the preview, NO_TEXT for none */
  mnStr: 'u32',
  mnAt: 'u32',
} as const;

/** a text column's string number for "no text" ('') */
export const NO_TEXT = 0xffffffff;
/** string numbers with this bit hold one text whole (a row pushed as an object), not a "\n"-joined run */
const WHOLE = 0x80000000;

/**
 * The strings a text column's rows point into: "\n"-joined runs of texts as blocks carry
 * them (no text in a run holds a "\n": engine/store/preview.ts shows controls as control
 * pictures), and whole texts of rows pushed one by one. Bound: one string per appended block
 * or pushed row, so it never outgrows the table it belongs to.
 */
export class JoinedTexts {
  private readonly runs: string[] = [];
  private readonly whole: string[] = [];

  /** Keeps one text whole; returns its string number. */
  addWhole(s: string): number {
    if (s === '') return NO_TEXT;
    this.whole.push(s);
    return ((this.whole.length - 1) | WHOLE) >>> 0;
  }

  /** Keeps a "\n"-joined run; returns its string number. */
  addRun(s: string): number {
    this.runs.push(s);
    return this.runs.length - 1;
  }

  /** The text at `at` of string `str`. */
  text(str: number, at: number): string {
    if (str === NO_TEXT) return '';
    if (str & WHOLE) return this.whole[(str & ~WHOLE) >>> 0];
    const s = this.runs[str];
    const end = s.indexOf('\n', at);
    return end < 0 ? s.slice(at) : s.slice(at, end);
  }
}

/**
 * Writes the offsets of the `n` "\n"-joined texts of `joined` into `out`; throws RangeError
 * when `joined` holds another number of texts (a malformed block).
 */
export function textOffsets(joined: string, n: number, out: Uint32Array): void {
  let at = 0;
  for (let i = 0; i < n; i++) {
    out[i] = at;
    const nl = joined.indexOf('\n', at);
    if (nl < 0) {
      if (i !== n - 1) throw new RangeError('malformed row block');
      at = joined.length + 1;
    } else {
      if (i === n - 1) throw new RangeError('malformed row block');
      at = nl + 1;
    }
  }
  if (n === 0 && joined !== '') throw new RangeError('malformed row block');
}

/**
 * A row block made ready to append (`RowTable.prepare`): its columns and the offset of each
 * row's preview and meaning in the block's joined strings. `RowTable.appendColumns` takes
 * any range of it, so a large block can go in by slices.
 */
export interface PreparedBlock {
  readonly cols: PackedColumns;
  readonly pvAt: Uint32Array;
  /** null when no row of the block has a meaning */
  readonly mnAt: Uint32Array | null;
  /** the block's string numbers in the JoinedTexts of `table`, the table it was last appended to */
  pvStr: number;
  mnStr: number;
  table: RowTable | null;
}

export class RowTable {
  private readonly t: ColumnTable<typeof COLUMNS>;
  private readonly texts = new JoinedTexts();

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
  /** the preview of the row at `p` (cut out of its block's joined previews) */
  previewAt(p: number): string {
    const c = this.t.cols;
    return this.texts.text(c.pvStr[p], c.pvAt[p]);
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
    c.pvStr[p] = this.texts.addWhole(r.preview);
    c.mnStr[p] = this.texts.addWhole(r.meaning ?? '');
    return true;
  }

  /** A row block's columns made ready to append (throws RangeError when its texts do not fit its count). */
  static prepare(c: PackedColumns): PreparedBlock {
    const pvAt = new Uint32Array(c.count);
    textOffsets(c.previews, c.count, pvAt);
    let mnAt: Uint32Array | null = null;
    if (c.meanings !== undefined) textOffsets(c.meanings, c.count, (mnAt = new Uint32Array(c.count)));
    return { cols: c, pvAt, mnAt, pvStr: -1, mnStr: -1, table: null };
  }

  /**
   * Appends rows [from, to) of a prepared row block column by column; stops early when the
   * table is full. Returns how many were stored.
   */
  appendColumns(b: PreparedBlock, from = 0, to = b.cols.count): number {
    const c = b.cols;
    let n = Math.min(to, c.count) - from;
    if (n <= 0) return 0;
    let p = this.t.append(n);
    if (p < 0) {
      // full: take what still fits
      n = this.t.maxRows - this.t.length;
      if (n <= 0 || (p = this.t.append(n)) < 0) return 0;
    }
    const t = this.t.cols;
    const end = from + n;
    t.index.set(c.index.subarray(from, end), p);
    t.conn.set(c.conn.subarray(from, end), p);
    t.ts.set(c.ts.subarray(from, end), p);
    t.size.set(c.length.subarray(from, end), p);
    t.wireSize.set(c.wireLength.subarray(from, end), p);
    t.frames.set(c.frames.subarray(from, end), p);
    t.findings.set(c.findings.subarray(from, end), p);
    t.code.set(c.code.subarray(from, end), p);
    // the block's joined strings are kept once per table, at its first appended slice
    if (b.table !== this) {
      b.table = this;
      b.pvStr = this.texts.addRun(c.previews);
      b.mnStr = b.mnAt ? this.texts.addRun(c.meanings!) : NO_TEXT;
    }
    t.pvStr.fill(b.pvStr, p, p + n);
    t.pvAt.set(b.pvAt.subarray(from, end), p);
    if (b.mnAt) {
      t.mnStr.fill(b.mnStr, p, p + n);
      t.mnAt.set(b.mnAt.subarray(from, end), p);
    } else {
      t.mnStr.fill(NO_TEXT, p, p + n);
    }
    const bits = c.bits;
    for (let i = 0; i < n; i++) {
      const x = bits[from + i];
      const q = p + i;
      t.opcode[q] = x & ROW_BITS.OPCODE;
      t.flags[q] =
        (x & ROW_BITS.SERVER ? F_SERVER : 0) |
        (x & ROW_BITS.COMPRESSED ? F_COMPRESSED : 0) |
        (x & ROW_BITS.FIN ? F_FIN : 0) |
        (x & ROW_BITS.MASKED ? F_MASKED : 0) |
        (x & ROW_BITS.TRUNCATED ? F_TRUNCATED : 0) |
        (x & ROW_BITS.HAS_CODE ? F_CODE : 0);
      t.rsv[q] = (x >> ROW_BITS.RSV_SHIFT) & 7;
      t.kind[q] = (x >> ROW_BITS.KIND_SHIFT) & 7;
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
      preview: this.texts.text(c.pvStr[p], c.pvAt[p]),
      kind: KINDS[c.kind[p]],
      findings: c.findings[p],
    };
    if (f & F_CODE) row.code = c.code[p];
    const meaning = this.texts.text(c.mnStr[p], c.mnAt[p]);
    if (meaning) row.meaning = meaning;
    return row;
  }
}
