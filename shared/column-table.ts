/**
 * A bounded, append-only table stored by column: one typed array per numeric column (and a
 * plain string array for string columns), rows addressed by position 0..length-1. A million
 * rows of a dozen numbers cost tens of MB and the garbage collector never walks the typed
 * columns; a row object is built only for the few rows someone asks for. Used by the engine's
 * session store (engine/store/session-data.ts) and the renderer's timeline
 * (renderer/src/lib/row-table.ts). No Node types: runs in the browser too.
 *
 * Growth: capacity doubles (at least 1024 rows) and never passes the bound, so at most
 * `maxRows * bytesPerRow` bytes of typed arrays are ever allocated. The bound is the smaller
 * of `maxRows` (default DEFAULT_MAX_ROWS) and `maxBytes / bytesPerRow`; `append` returns -1
 * instead of growing past it, and the caller decides what to drop (see its docblock).
 *
 * Memory: the table owns its arrays. Growing replaces them, so read `cols.x` again after an
 * `append` (the `cols` object itself stays the same); hot loops take the arrays into locals
 * after the last append. Rows are never removed, so every cell of a new row reads 0 (typed
 * columns) or '' (string columns) until written.
 */

const ARRAYS = {
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f64: Float64Array,
} as const;

type NumericKind = keyof typeof ARRAYS;
export type ColumnKind = NumericKind | 'str';
/** A column: its kind, or [kind, width] for `width` numbers per row (row r at r*width). */
export type ColumnSpec = ColumnKind | readonly [NumericKind, number];
export type Schema = Readonly<Record<string, ColumnSpec>>;

interface ArrayOfKind {
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  i32: Int32Array;
  f64: Float64Array;
  str: string[];
}
type KindOf<C> = C extends readonly [infer K, number] ? K : C;
export type Columns<S extends Schema> = { -readonly [N in keyof S]: ArrayOfKind[KindOf<S[N]> & ColumnKind] };

/** 16,777,216 rows: about 1.3 GB for the engine's message table (80 bytes a row). */
export const DEFAULT_MAX_ROWS = 1 << 24;
const MIN_CAPACITY = 1024;

export interface ColumnTableOptions {
  /** most rows the table will hold (default DEFAULT_MAX_ROWS) */
  maxRows: number;
  /** most bytes of typed columns (string columns count one 8-byte slot a row, not the strings) */
  maxBytes: number;
}

interface NumericColumn {
  name: string;
  kind: NumericKind;
  width: number;
}

export class ColumnTable<S extends Schema> {
  /** The columns by name; a column's array is replaced when the table grows. */
  readonly cols: Columns<S>;
  /** rows in use */
  length = 0;
  /** rows allocated in every typed column */
  capacity = 0;
  /** bytes of one row across the columns (string columns count 8) */
  readonly bytesPerRow: number;
  /** the bound: `append` never makes `length` pass it */
  readonly maxRows: number;
  private readonly numeric: NumericColumn[] = [];
  /** the string columns' arrays (never replaced: they grow by push) */
  private readonly strings: string[][] = [];

  constructor(schema: S, opts: Partial<ColumnTableOptions> = {}) {
    const cols: Record<string, Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array | string[]> = {};
    let bytes = 0;
    for (const [name, spec] of Object.entries(schema)) {
      if (spec === 'str') {
        const col: string[] = [];
        this.strings.push(col);
        cols[name] = col;
        bytes += 8;
        continue;
      }
      const [kind, width] = typeof spec === 'string' ? [spec, 1] : spec;
      if (!Number.isInteger(width) || width < 1) throw new RangeError(`column ${name}: width must be a positive integer`);
      this.numeric.push({ name, kind, width });
      cols[name] = new ARRAYS[kind](0);
      bytes += ARRAYS[kind].BYTES_PER_ELEMENT * width;
    }
    this.cols = cols as Columns<S>;
    this.bytesPerRow = bytes;
    const byBytes = opts.maxBytes === undefined ? Infinity : Math.floor(opts.maxBytes / Math.max(1, bytes));
    this.maxRows = Math.max(0, Math.floor(Math.min(opts.maxRows ?? DEFAULT_MAX_ROWS, byBytes)));
  }

  /** bytes held by the typed columns (allocated capacity, not just the rows in use) */
  get allocatedBytes(): number {
    let n = 0;
    for (const c of this.numeric) n += (this.cols[c.name] as Uint8Array).byteLength;
    return n;
  }

  /** Whether `n` more rows fit under the bound. */
  fits(n: number): boolean {
    return this.length + n <= this.maxRows;
  }

  /**
   * Adds `n` rows (zeroes, '' in string columns) and returns the position of the first, or -1
   * (and adds nothing) when that would pass the bound.
   */
  append(n = 1): number {
    const at = this.length;
    const end = at + n;
    if (end > this.maxRows) return -1;
    if (end > this.capacity) this.grow(end);
    const strings = this.strings;
    for (let s = 0; s < strings.length; s++) for (let k = 0; k < n; k++) strings[s].push('');
    this.length = end;
    return at;
  }

  /**
   * Makes room for `n` rows in all (bounded by maxRows) at once, so a table whose final size
   * is known does not copy its columns at every doubling on the way there.
   */
  reserve(n: number): void {
    const need = Math.min(Math.floor(n), this.maxRows);
    if (need > this.capacity) this.grow(need);
  }

  private grow(need: number): void {
    let cap = Math.max(MIN_CAPACITY, this.capacity);
    while (cap < need) cap *= 2;
    cap = Math.min(cap, this.maxRows);
    const cols = this.cols as Record<string, Uint8Array>;
    for (const c of this.numeric) {
      // (one element type per column: the Uint8Array view of the types is only for `set`)
      const next = new ARRAYS[c.kind](cap * c.width) as Uint8Array;
      // rows in use only: the rest of the old array is zero, as is the new one
      next.set(cols[c.name].subarray(0, this.length * c.width));
      cols[c.name] = next;
    }
    this.capacity = cap;
  }
}
