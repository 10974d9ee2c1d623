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

/** 16,777,216 rows: about 720 MB for the engine's message table (43 bytes a row). */
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

/** A schema's columns in order, widths checked (a string column has width 1). */
function columnsOf(schema: Schema): Array<NumericColumn | { name: string; kind: 'str'; width: 1 }> {
  return Object.entries(schema).map(([name, spec]) => {
    if (spec === 'str') return { name, kind: spec, width: 1 as const };
    const [kind, width] = typeof spec === 'string' ? [spec, 1] : spec;
    if (!Number.isInteger(width) || width < 1) throw new RangeError(`column ${name}: width must be a positive integer`);
    return { name, kind, width };
  });
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
    for (const c of columnsOf(schema)) {
      if (c.kind === 'str') {
        const col: string[] = [];
        this.strings.push(col);
        cols[c.name] = col;
        bytes += 8;
        continue;
      }
      this.numeric.push({ name: c.name, kind: c.kind, width: c.width });
      cols[c.name] = new ARRAYS[c.kind](0);
      bytes += ARRAYS[c.kind].BYTES_PER_ELEMENT * c.width;
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

// ---------------------------------------------------------------------------------------------
// Chunked tables

/** Rows in one full chunk of a ChunkedTable (an f64 column's chunk is 128 KiB). */
export const CHUNK_ROWS = 1 << 14;
const CHUNK_SHIFT = 14;
const CHUNK_MASK = CHUNK_ROWS - 1;
/** Rows of a ChunkedTable's first allocation; the first chunk doubles from here to CHUNK_ROWS. */
const FIRST_ROWS = 256;

/**
 * Bytes that several tables draw from together (the session store's tables: one bound for all
 * of them, whichever grows). `take` refuses what would pass `limit`.
 */
export class RowBudget {
  used = 0;
  constructor(readonly limit: number) {}

  /** Counts `n` bytes as used; false (and nothing counted) when that would pass the limit. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  /** Whether `n` more bytes would fit. */
  has(n: number): boolean {
    return this.used + n <= this.limit;
  }

  /** Counts `n` bytes as used even past the limit (a caller's few rows that must not be lost). */
  charge(n: number): void {
    this.used += n;
  }
}

type NumArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/**
 * One numeric column of a ChunkedTable: row r is cell (r % CHUNK_ROWS) * width of chunk
 * r / CHUNK_ROWS. Chunks never move once full (only the first one is replaced while it
 * grows), so a view of a full chunk stays valid.
 */
export class NumColumn<A extends NumArray = NumArray> {
  /** the chunks; chunk k holds rows [k * CHUNK_ROWS, (k + 1) * CHUNK_ROWS) */
  readonly chunks: A[] = [];

  constructor(
    private readonly make: (n: number) => A,
    readonly width: number,
  ) {}

  get(r: number): number {
    return this.chunks[r >>> CHUNK_SHIFT][r & CHUNK_MASK];
  }

  set(r: number, v: number): void {
    this.chunks[r >>> CHUNK_SHIFT][r & CHUNK_MASK] = v;
  }

  /** The `width` cells of row `r`, as a view (valid until the table's first chunk grows). */
  cells(r: number): A {
    const w = this.width;
    const at = (r & CHUNK_MASK) * w;
    return this.chunks[r >>> CHUNK_SHIFT].subarray(at, at + w) as A;
  }

  /** Copies rows [from, end) (width 1) into `out` from position `at` (converted to its type, as TypedArray.set does). */
  copyTo(out: NumArray, from: number, end: number, at = 0): void {
    for (let r = from; r < end; ) {
      const k = r >>> CHUNK_SHIFT;
      const stop = Math.min(end, (k + 1) << CHUNK_SHIFT);
      (out as Uint8Array).set((this.chunks[k] as Uint8Array).subarray(r & CHUNK_MASK, ((stop - 1) & CHUNK_MASK) + 1), at + r - from);
      r = stop;
    }
  }

  /** Rows [from, end) as a fresh array. */
  slice(from: number, end: number): A {
    const out = this.make(Math.max(0, end - from) * this.width);
    this.copyTo(out, from, end);
    return out;
  }

  /** (table use) makes chunk `k` hold `rows` rows, keeping what it held */
  alloc(k: number, rows: number): void {
    const next = this.make(rows * this.width);
    const old = this.chunks[k];
    if (old) (next as Uint8Array).set(old as Uint8Array);
    this.chunks[k] = next;
  }
}

/**
 * A string column of a ChunkedTable, for values most rows do not have: a chunk's array is made
 * with the first row of the chunk that gets a string, and `set` charges the string to the
 * table's budget (an estimate: a V8 string of `n` two-byte characters and its slot).
 */
export class StrColumn {
  readonly chunks: (string[] | undefined)[] = [];

  constructor(private readonly budget: RowBudget | null) {}

  get(r: number): string {
    return this.chunks[r >>> CHUNK_SHIFT]?.[r & CHUNK_MASK] ?? '';
  }

  /** Stores `s` in row `r`; false (nothing stored) when the budget has no room for it. */
  set(r: number, s: string): boolean {
    const k = r >>> CHUNK_SHIFT;
    let c = this.chunks[k];
    const cost = s.length === 0 ? 0 : 32 + 2 * s.length;
    const slots = c ? 0 : CHUNK_ROWS * 8;
    if (this.budget && !this.budget.take(cost + slots)) return false;
    if (!c) this.chunks[k] = c = new Array<string>(CHUNK_ROWS).fill('');
    c[r & CHUNK_MASK] = s;
    return true;
  }
}

type ChunkedOf<C> = C extends 'str' ? StrColumn : NumColumn<ArrayOfKind[KindOf<C> & NumericKind]>;
export type ChunkedColumns<S extends Schema> = { readonly [N in keyof S]: ChunkedOf<S[N]> };

export interface ChunkedTableOptions {
  /** most rows (default DEFAULT_MAX_ROWS) */
  maxRows: number;
  /** the bytes the table's chunks (and strings) are drawn from; none: only `maxRows` bounds it */
  budget: RowBudget | null;
}

/**
 * An append-only table stored by column in fixed-size chunks (CHUNK_ROWS rows), for tables
 * that grow with the input and have no final size known in advance (the engine's session
 * store). Unlike ColumnTable nothing is ever copied once a chunk is full and at most one chunk
 * per column is unused, so memory is the rows held plus one chunk, never twice that; the first
 * chunk starts at FIRST_ROWS rows and doubles up to CHUNK_ROWS, so a small table stays small.
 *
 * Bound: `maxRows` rows, and chunks only while the budget (shared with other tables) has room
 * for them; string columns (StrColumn) charge their strings to the same budget. Once the table
 * could not grow it is `full` and never grows again (`append` still fills the chunk it has), so
 * a caller that stops at `full` keeps the first rows offered, and can trust row = number.
 *
 * Memory: the table owns its chunks. Read rows through the columns (`get`, `copyTo`); a view of
 * a full chunk stays valid, the first chunk is replaced while it grows.
 */
export class ChunkedTable<S extends Schema> {
  readonly cols: ChunkedColumns<S>;
  length = 0;
  /** rows allocated */
  capacity = 0;
  /** bytes of one row in the numeric columns */
  readonly bytesPerRow: number;
  readonly maxRows: number;
  /** the table could not grow (`maxRows`, the budget): it never grows again */
  full = false;
  private readonly numeric: NumColumn[] = [];
  private readonly budget: RowBudget | null;

  constructor(schema: S, opts: Partial<ChunkedTableOptions> = {}) {
    this.budget = opts.budget ?? null;
    const cols: Record<string, NumColumn | StrColumn> = {};
    let bytes = 0;
    for (const c of columnsOf(schema)) {
      if (c.kind === 'str') {
        cols[c.name] = new StrColumn(this.budget);
        continue;
      }
      const A = ARRAYS[c.kind];
      const col = new NumColumn<NumArray>((n) => new A(n), c.width);
      this.numeric.push(col);
      cols[c.name] = col;
      bytes += A.BYTES_PER_ELEMENT * c.width;
    }
    this.cols = cols as ChunkedColumns<S>;
    this.bytesPerRow = bytes;
    this.maxRows = Math.max(0, Math.floor(opts.maxRows ?? DEFAULT_MAX_ROWS));
  }

  /** bytes held by the numeric columns' chunks */
  get allocatedBytes(): number {
    return this.capacity * this.bytesPerRow;
  }

  /** Whether `n` more rows would be taken now (nothing is allocated). */
  fits(n: number): boolean {
    return !this.full && this.length + n <= this.maxRows && (this.budget === null || this.budget.has(this.growthBytes(this.length + n)));
  }

  /**
   * Adds `n` rows (zeroes; '' in string columns) and returns the position of the first, or -1
   * (nothing added, and the table `full` from now on) when that would pass `maxRows` or the
   * budget has no room for the chunks they need.
   */
  append(n = 1): number {
    const at = this.length;
    const end = at + n;
    if (end > this.maxRows) {
      this.full = true;
      return -1;
    }
    if (end > this.capacity && !this.ensure(end)) return -1;
    this.length = end;
    return at;
  }

  /**
   * Makes room for `n` more rows now (so that appending them cannot fail later); false, and
   * the table `full`, when it cannot. `force` takes the room even past the budget and a `full`
   * table (not past `maxRows`): for a caller's last few rows that must not be lost.
   */
  reserve(n: number, force = false): boolean {
    const end = this.length + n;
    if (end <= this.capacity) return true;
    if (!force) return this.ensure(end);
    if (end > this.maxRows) return false;
    this.budget?.charge(this.growthBytes(end));
    this.allocate(end);
    return true;
  }

  /** bytes the chunks for rows up to `end` would add */
  private growthBytes(end: number): number {
    return (this.capacityFor(end) - this.capacity) * this.bytesPerRow;
  }

  private capacityFor(end: number): number {
    if (end <= this.capacity) return this.capacity;
    if (end <= CHUNK_ROWS) {
      let cap = Math.max(FIRST_ROWS, this.capacity);
      while (cap < end) cap *= 2;
      return Math.min(cap, CHUNK_ROWS, Math.max(end, this.maxRows));
    }
    return Math.ceil(end / CHUNK_ROWS) * CHUNK_ROWS;
  }

  private ensure(end: number): boolean {
    if (this.full || end > this.maxRows || (this.budget !== null && !this.budget.take(this.growthBytes(end)))) {
      this.full = true;
      return false;
    }
    this.allocate(end);
    return true;
  }

  private allocate(end: number): void {
    const cap = this.capacityFor(end);
    for (const c of this.numeric) {
      // the first chunk grows in place (a copy of at most one chunk); later ones are made whole
      let k = this.capacity >>> CHUNK_SHIFT;
      if (this.capacity & CHUNK_MASK || this.capacity === 0) c.alloc(k++, Math.min(cap, CHUNK_ROWS));
      for (; k << CHUNK_SHIFT < cap; k++) c.alloc(k, CHUNK_ROWS);
    }
    this.capacity = cap;
  }
}
