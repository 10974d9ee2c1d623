/**
 * Timeline rows by column, the way the engine sends them (Batch.rows): the numbers of `count`
 * MessageRows packed into one byte buffer, the previews joined into one string by "\n" (which
 * no preview holds: engine/store/preview.ts shows controls as control pictures). A million
 * rows are 46 MB of bytes and one string, where MessageRow objects cost a structured clone
 * and a JSON encoding of every field name (about 280 MB of JSON); the page copies the columns
 * into its row table without building objects (renderer/src/lib/row-table.ts).
 *
 * Layout of `data` for n rows (each column n values, little-endian as typed arrays are on
 * every platform wsscope runs on), in this order so every column is aligned:
 *   f64 ts, length, wireLength | u32 index, conn, bits, frames, findings | u16 code
 * Decoded meanings (MessageRow.meaning) travel the same way as previews in `meanings`, only
 * when a row of the block has one ("\n" inside a meaning is shown as U+240A).
 * `bits`: opcode (bits 0-3), server (4), compressed (5), fin (6), rsv (7-9, RSV1 first),
 * masked (10), truncated (11), has a close code (12), kind (13-15, KINDS order).
 *
 * Memory: `packRows` returns a fresh buffer it owns; `unpackRows` returns views into the
 * block's buffer (copied first when it is not 8-byte aligned), valid as long as the block.
 */
import type { MessageRow, RowBlock } from './api';

export const KINDS: readonly MessageRow['kind'][] = ['text', 'binary', 'close', 'ping', 'pong', 'other'];
/** KINDS' positions, by kind */
export const KIND_ID: Readonly<Record<MessageRow['kind'], number>> = { text: 0, binary: 1, close: 2, ping: 3, pong: 4, other: 5 };

/**
 * Bits 0-11 of `bits`, which the engine's message flags share (engine/store/session-data.ts
 * MSG), so the engine copies them as they are.
 */
export const ROW_BITS_COMMON = {
  OPCODE: 0xf,
  SERVER: 1 << 4,
  COMPRESSED: 1 << 5,
  FIN: 1 << 6,
  /** 3 bits, RSV1 is the most significant (as Wireshark shows them) */
  RSV_SHIFT: 7,
  MASKED: 1 << 10,
  TRUNCATED: 1 << 11,
} as const;
/** bits 0-11 as a mask */
export const ROW_BITS_COMMON_MASK = 0xfff;

export const ROW_BITS = { ...ROW_BITS_COMMON, HAS_CODE: 1 << 12, KIND_SHIFT: 13 } as const;

/** The numeric columns of `data` in their order, with their element size in bytes. */
export const ROW_LAYOUT = [
  ['ts', 8],
  ['length', 8],
  ['wireLength', 8],
  ['index', 4],
  ['conn', 4],
  ['bits', 4],
  ['frames', 4],
  ['findings', 4],
  ['code', 2],
] as const;
export type RowColumnName = (typeof ROW_LAYOUT)[number][0];

/** bytes per row in `data` */
export const ROW_BYTES = ROW_LAYOUT.reduce((n, [, size]) => n + size, 0);

/** The typed array of each element size in ROW_LAYOUT. */
const ARRAY_OF_SIZE = { 8: Float64Array, 4: Uint32Array, 2: Uint16Array } as const;

/**
 * The numeric columns of `n` rows laid out in `data` (8-byte aligned, ROW_BYTES a row) as
 * typed-array views, in ROW_LAYOUT order.
 */
export function columnViews(data: Uint8Array, n: number): Array<Float64Array | Uint32Array | Uint16Array> {
  let o = data.byteOffset;
  return ROW_LAYOUT.map(([, size]) => {
    const a = new ARRAY_OF_SIZE[size](data.buffer as ArrayBuffer, o, n);
    o += size * n;
    return a;
  });
}

/** The columns of a block, as typed-array views. */
export interface RowColumns {
  count: number;
  ts: Float64Array;
  length: Float64Array;
  wireLength: Float64Array;
  index: Uint32Array;
  conn: Uint32Array;
  bits: Uint32Array;
  frames: Uint32Array;
  findings: Uint32Array;
  code: Uint16Array;
  preview: string[];
  /** decoded meaning per row ('' for none) */
  meaning: string[];
}

/**
 * Zeroed columns for `n` rows to fill in (previews included); `seal` makes the block that
 * carries them.
 */
export function allocRows(n: number): { cols: RowColumns; seal: () => RowBlock } {
  const data = new Uint8Array(n * ROW_BYTES);
  const cols = view(data, n, new Array<string>(n), new Array<string>(n).fill(''));
  const seal = (): RowBlock => {
    const block: RowBlock = { count: n, data, previews: cols.preview.join('\n') };
    if (cols.meaning.some((m) => m !== '')) block.meanings = cols.meaning.map((m) => m.replace(/\n/g, '\u240a')).join('\n');
    return block;
  };
  return { cols, seal };
}

function view(data: Uint8Array, n: number, preview: string[], meaning: string[]): RowColumns {
  return { ...numbers(data, n), preview, meaning };
}

/** The numeric columns of a block (RowColumns without its texts). */
export type RowNumbers = Omit<RowColumns, 'preview' | 'meaning'>;

function numbers(data: Uint8Array, n: number): RowNumbers {
  const [ts, length, wireLength, index, conn, bits, frames, findings, code] = columnViews(data, n);
  return {
    count: n,
    ts: ts as Float64Array,
    length: length as Float64Array,
    wireLength: wireLength as Float64Array,
    index: index as Uint32Array,
    conn: conn as Uint32Array,
    bits: bits as Uint32Array,
    frames: frames as Uint32Array,
    findings: findings as Uint32Array,
    code: code as Uint16Array,
  };
}

/**
 * The numeric columns of a block as typed-array views, its previews and meanings left joined
 * (RowBlock.previews / .meanings): the renderer keeps them so and cuts a row's text out only
 * when it is shown (renderer/src/lib/row-table.ts), where splitting made a million strings for
 * the garbage collector to walk. Throws RangeError when the column bytes do not fit `count`
 * (the joined texts are checked by whoever splits them).
 */
export interface PackedColumns extends RowNumbers {
  /** `count` previews joined by "\n" */
  previews: string;
  /** `count` meanings joined by "\n", undefined when no row has one */
  meanings: string | undefined;
}

export function packedColumns(block: RowBlock): PackedColumns {
  return { ...blockNumbers(block), previews: block.previews, meanings: block.meanings };
}

/** The numeric columns of `block`, its byte size checked against its count. */
function blockNumbers(block: RowBlock): RowNumbers {
  const n = block.count;
  if (!Number.isSafeInteger(n) || n < 0 || block.data.byteLength !== n * ROW_BYTES) throw new RangeError('malformed row block');
  // a view that does not start on an 8-byte boundary is copied: typed-array views need alignment
  const data = block.data.byteOffset % 8 === 0 ? block.data : block.data.slice();
  return numbers(data, n);
}

/** The columns of `block`; throws RangeError when its sizes do not agree. */
export function unpackRows(block: RowBlock): RowColumns {
  const n = block.count;
  const preview = n === 0 ? [] : block.previews.split('\n');
  const meaning = block.meanings === undefined || n === 0 ? new Array<string>(n).fill('') : block.meanings.split('\n');
  if (preview.length !== n || meaning.length !== n) throw new RangeError('malformed row block');
  return { ...blockNumbers(block), preview, meaning };
}

/** The bits of a row. */
export function rowBits(r: MessageRow): number {
  return (
    (r.opcode & ROW_BITS.OPCODE) |
    (r.dir === 'server' ? ROW_BITS.SERVER : 0) |
    (r.compressed ? ROW_BITS.COMPRESSED : 0) |
    (r.fin ? ROW_BITS.FIN : 0) |
    ((r.rsv & 7) << ROW_BITS.RSV_SHIFT) |
    (r.masked ? ROW_BITS.MASKED : 0) |
    (r.truncated ? ROW_BITS.TRUNCATED : 0) |
    (r.code !== undefined ? ROW_BITS.HAS_CODE : 0) |
    ((KIND_ID[r.kind] ?? 5) << ROW_BITS.KIND_SHIFT)
  );
}

/** Row `i` of `c` as a MessageRow object. */
export function rowAt(c: RowColumns, i: number): MessageRow {
  const row = makeRow(c.bits[i], c.index[i], c.conn[i], c.ts[i], c.length[i], c.wireLength[i], c.frames[i], c.findings[i], c.code[i], c.preview[i]);
  if (c.meaning[i]) row.meaning = c.meaning[i];
  return row;
}

/** A MessageRow from its bits (ROW_BITS) and its other fields. */
export function makeRow(
  f: number,
  index: number,
  conn: number,
  ts: number,
  length: number,
  wireLength: number,
  frames: number,
  findings: number,
  code: number,
  preview: string,
): MessageRow {
  const row: MessageRow = {
    index,
    conn,
    dir: f & ROW_BITS.SERVER ? 'server' : 'client',
    ts,
    opcode: f & ROW_BITS.OPCODE,
    length,
    wireLength,
    compressed: (f & ROW_BITS.COMPRESSED) !== 0,
    fin: (f & ROW_BITS.FIN) !== 0,
    rsv: (f >> ROW_BITS.RSV_SHIFT) & 7,
    masked: (f & ROW_BITS.MASKED) !== 0,
    frames,
    truncated: (f & ROW_BITS.TRUNCATED) !== 0,
    preview,
    kind: KINDS[(f >> ROW_BITS.KIND_SHIFT) & 7] ?? 'other',
    findings,
  };
  if (f & ROW_BITS.HAS_CODE) row.code = code;
  return row;
}

/** MessageRows packed into a block (tests, and shells that build rows one by one). */
export function packRows(rows: readonly MessageRow[]): RowBlock {
  const { cols, seal } = allocRows(rows.length);
  rows.forEach((r, i) => {
    cols.ts[i] = r.ts;
    cols.length[i] = r.length;
    cols.wireLength[i] = r.wireLength;
    cols.index[i] = r.index;
    cols.conn[i] = r.conn;
    cols.bits[i] = rowBits(r);
    cols.frames[i] = r.frames;
    cols.findings[i] = r.findings;
    cols.code[i] = r.code ?? 0;
    // U+240A, the control picture the engine's previews use for a line feed
    cols.preview[i] = r.preview.replace(/\n/g, '\u240a');
  });
  return seal();
}

/** Every new timeline row of a batch as objects: its `messages`, then its `rows`. */
export function batchRows(b: { messages: readonly MessageRow[]; rows?: RowBlock }): MessageRow[] {
  const out = b.messages.slice();
  if (b.rows) {
    const c = unpackRows(b.rows);
    for (let i = 0; i < c.count; i++) out.push(rowAt(c, i));
  }
  return out;
}
