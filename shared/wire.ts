/**
 * Wire format of the browser shell (`wsscope serve`): the WsscopeApi contract over one
 * WebSocket at `ws://127.0.0.1:PORT/api?token=TOKEN`, JSON text messages.
 *   renderer -> engine: {"t":"call","id":N,"name":CallName,"args":[...]}
 *   engine -> renderer: {"t":"result","id":N,"result":Result}
 *                       {"t":"push","name":PushName,"payload":...}
 * Typed arrays do not survive JSON, so `encodeWire` replaces them with {"$u8": base64} /
 * {"$u32": base64} and `decodeWire` restores them. No Node types (runs in the browser too).
 *
 * Row blocks go binary (`encodeFrame` / `decodeFrame`): a `batch` push with `rows` (a million
 * rows are ~46 MB of column bytes and ~50 MB of previews, which as base64 in JSON cost the
 * server an encoding and the page a parse of ~100 MB) is one binary WebSocket message, every
 * other message stays JSON text. Binary frame layout, integers little-endian:
 *   u32 magic FRAME_MAGIC | u32 h = header length | h bytes: UTF-8 JSON of the push with
 *   `payload.rows` = {count, data: byte length of the columns sent, previews: byte length,
 *   meanings: byte length or -1 for none, cols: one ColumnCoding per shared/row-block.ts
 *   ROW_LAYOUT column} | the previews, UTF-8 | the meanings, UTF-8 | zero padding to a
 *   multiple of 8 | the sent columns, f64 ones first, then u32, u16, u8 (each in ROW_LAYOUT
 *   order within its width, so every one is aligned).
 * Columns go at the narrowest width that holds their values, and not at all when they are one
 * value or the message indexes counting up: a row of small messages is ~14 bytes instead of
 * the block's 46 (ts 8, lengths 1 each, conn 1, bits 2), a third less on the wire for a
 * million rows, which the server, the socket and the page each handle.
 * Memory: `encodeFrame` returns a new buffer it owns; `decodeFrame`'s RowBlock `data` is a
 * new buffer in the block's layout (the received one can go once the previews are decoded).
 */
import type { Batch, CallName, PushName, PushPayloads, Result, RowBlock } from './api';
import { columnViews, ROW_BYTES, ROW_LAYOUT } from './row-block';

export type WireCall = { t: 'call'; id: number; name: CallName; args: unknown[] };
export type WireResult = { t: 'result'; id: number; result: Result<unknown> };
export type WirePush = { [K in PushName]: { t: 'push'; name: K; payload: PushPayloads[K] } }[PushName];
export type WireMessage = WireCall | WireResult | WirePush;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Native base64 where the runtime has it (Node's Buffer in the engine, `Uint8Array.fromBase64`
 * / `toBase64` in current Chromium): a filter answer of a million indexes is 4 MB of bytes,
 * and a hand-written loop over it costs tens of milliseconds. The loop stays as the fallback.
 */
interface NativeBase64 {
  Buffer?: { from(a: ArrayBuffer | string, b?: number | string, c?: number): { toString(enc: string): string; buffer: ArrayBuffer; byteOffset: number; byteLength: number } };
}
const native = globalThis as unknown as NativeBase64;
const U8 = Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array; prototype: { toBase64?: () => string } };

export function bytesToBase64(b: Uint8Array): string {
  if (native.Buffer) return native.Buffer.from(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength).toString('base64');
  if (typeof U8.prototype.toBase64 === 'function') return (b as unknown as { toBase64(): string }).toBase64();
  return bytesToBase64Js(b);
}

/** The portable encoder (exported for tests). */
export function bytesToBase64Js(b: Uint8Array): string {
  const parts: string[] = [];
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
    if (out.length >= 65536) {
      parts.push(out);
      out = '';
    }
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + '=';
  }
  parts.push(out);
  return parts.join('');
}

const REV = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) REV[B64.charCodeAt(i)] = i;

/** Strict: throws on characters outside the base64 alphabet (like the fallback loop). */
export function base64ToBytes(s: string): Uint8Array {
  if (typeof U8.fromBase64 === 'function') return U8.fromBase64(s);
  return base64ToBytesJs(s);
}

/** The portable decoder (exported for tests). */
export function base64ToBytesJs(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? REV[c] : -1;
    if (v < 0) throw new Error('invalid base64');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

export function encodeWire(msg: WireMessage): string {
  return JSON.stringify(msg, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return { $u8: bytesToBase64(v) };
    if (v instanceof Uint32Array) return { $u32: bytesToBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    return v;
  });
}

export function decodeWire(text: string): WireMessage {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$u8 === 'string' && Object.keys(o).length === 1) return base64ToBytes(o.$u8);
      if (typeof o.$u32 === 'string' && Object.keys(o).length === 1) {
        const b = base64ToBytes(o.$u32);
        const copy = new Uint8Array(b.length);
        copy.set(b);
        return new Uint32Array(copy.buffer, 0, copy.length >> 2);
      }
    }
    return v;
  }) as WireMessage;
}

/** First four bytes of a binary frame: "WSB2" (a version, and a guard against stray binary). */
export const FRAME_MAGIC = 0x32425357;

/**
 * How one column of a row block travels (RowsHeader.cols, one per ROW_LAYOUT column):
 *   ['c', v]  every row holds v (nothing sent)
 *   ['s', v]  row i holds v + i (message indexes; nothing sent)
 *   ['u8'] / ['u16'] / ['u32']  every value is an integer 0 .. 2^bits-1, sent at that width
 *   ['f64']   as it is, 8 bytes a row
 * The smallest that holds every value is chosen; -0 comes back as 0.
 */
type ColumnCoding = ['c', number] | ['s', number] | ['u8'] | ['u16'] | ['u32'] | ['f64'];
const WIDTH = { u8: 1, u16: 2, u32: 4, f64: 8 } as const;
const SENT = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, f64: Float64Array } as const;
/** the order sent columns follow in the frame: widest first, so each stays aligned */
const SENT_ORDER = ['f64', 'u32', 'u16', 'u8'] as const;

/** The row block's place in a binary frame's header. */
interface RowsHeader {
  count: number;
  /** bytes of the column section */
  data: number;
  previews: number;
  meanings: number;
  cols: ColumnCoding[];
}

/** The smallest coding of the values of `a`. */
function codingOf(a: Float64Array | Uint32Array | Uint16Array): ColumnCoding {
  const n = a.length;
  if (n === 0) return ['c', 0];
  const first = a[0];
  let same = true;
  let seq = true;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    // an integer 0 .. 2^32-1 (false for fractions, negatives, NaN and larger numbers)
    if (v !== v >>> 0) return ['f64'];
    if (v !== first) same = false;
    if (v !== first + i) seq = false;
    if (v > max) max = v;
  }
  if (same) return ['c', first];
  if (seq) return ['s', first];
  return max < 0x100 ? ['u8'] : max < 0x10000 ? ['u16'] : ['u32'];
}

/** bytes the sent columns of `cols` take for `n` rows */
function sentBytes(cols: readonly ColumnCoding[], n: number): number {
  return cols.reduce((sum, c) => sum + (c[0] === 'c' || c[0] === 's' ? 0 : WIDTH[c[0]] * n), 0);
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A wire message as a WebSocket message: binary for a batch with a row block, else JSON text. */
export function encodeFrame(msg: WireMessage): string | Uint8Array {
  if (msg.t !== 'push' || msg.name !== 'batch' || !msg.payload.rows) return encodeWire(msg);
  const { rows, ...rest } = msg.payload;
  const n = rows.count;
  const columns = columnViews(rows.data.byteOffset % 8 === 0 ? rows.data : rows.data.slice(), n);
  const cols = columns.map(codingOf);
  const previews = utf8.encode(rows.previews);
  const meanings = rows.meanings === undefined ? null : utf8.encode(rows.meanings);
  const head: RowsHeader = { count: n, data: sentBytes(cols, n), previews: previews.length, meanings: meanings ? meanings.length : -1, cols };
  const header = utf8.encode(encodeWire({ t: 'push', name: 'batch', payload: { ...rest, rows: head as unknown as RowBlock } }));
  const textEnd = 8 + header.length + previews.length + (meanings?.length ?? 0);
  let at = Math.ceil(textEnd / 8) * 8;
  const out = new Uint8Array(at + head.data);
  const view = new DataView(out.buffer);
  view.setUint32(0, FRAME_MAGIC, true);
  view.setUint32(4, header.length, true);
  out.set(header, 8);
  out.set(previews, 8 + header.length);
  if (meanings) out.set(meanings, 8 + header.length + previews.length);
  for (const kind of SENT_ORDER) {
    cols.forEach((c, k) => {
      if (c[0] !== kind) return;
      // typed-array set converts each value to the narrower type (codingOf checked it fits)
      new SENT[kind](out.buffer, at, n).set(columns[k]!);
      at += WIDTH[kind] * n;
    });
  }
  return out;
}

/** A header's column codings, checked (throws on anything else). */
function checkCodings(cols: unknown): ColumnCoding[] {
  if (!Array.isArray(cols) || cols.length !== ROW_LAYOUT.length) throw new Error('bad row block header');
  for (const c of cols as unknown[]) {
    const ok =
      Array.isArray(c) &&
      (((c[0] === 'c' || c[0] === 's') && c.length === 2 && typeof c[1] === 'number' && Number.isFinite(c[1])) || (c.length === 1 && (c[0] === 'u8' || c[0] === 'u16' || c[0] === 'u32' || c[0] === 'f64')));
    if (!ok) throw new Error('bad row block header');
  }
  return cols as ColumnCoding[];
}

/**
 * A WebSocket message back to a wire message: text is JSON (decodeWire), bytes a binary frame
 * (an ArrayBuffer in the browser, a Uint8Array such as Node's Buffer). Throws on anything that
 * is not a well-formed frame. A row block comes back in the layout of shared/row-block.ts, in
 * a buffer of its own.
 */
export function decodeFrame(data: string | ArrayBuffer | Uint8Array): WireMessage {
  if (typeof data === 'string') return decodeWire(data);
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 8) throw new Error('binary frame too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== FRAME_MAGIC) throw new Error('not a wsscope binary frame');
  const h = view.getUint32(4, true);
  if (8 + h > bytes.length) throw new Error('binary frame header cut off');
  const msg = decodeWire(fromUtf8.decode(bytes.subarray(8, 8 + h)));
  if (msg.t !== 'push' || msg.name !== 'batch') throw new Error('a binary frame carries a batch');
  const head = (msg.payload as Batch).rows as unknown as RowsHeader | undefined;
  const sizes = head ? [head.count, head.data, head.previews, head.meanings] : [];
  if (!head || sizes.some((n) => typeof n !== 'number' || !Number.isSafeInteger(n) || n < -1) || head.count < 0 || head.data < 0 || head.previews < 0) {
    throw new Error('bad row block header');
  }
  const n = head.count;
  const cols = checkCodings(head.cols);
  if (sentBytes(cols, n) !== head.data) throw new Error('bad row block header');
  let at = 8 + h;
  const previews = fromUtf8.decode(bytes.subarray(at, (at += head.previews)));
  const meanings = head.meanings >= 0 ? fromUtf8.decode(bytes.subarray(at, (at += head.meanings))) : undefined;
  at = Math.ceil(at / 8) * 8;
  if (at + head.data !== bytes.length) throw new Error('binary frame length does not match its header');
  // a buffer of our own in the block's layout; the sent columns are read where they lie (a Node
  // Buffer from the pool may start anywhere: those are copied to an aligned place first)
  const aligned = (bytes.byteOffset + at) % 8 === 0;
  const src = (aligned ? bytes.buffer : bytes.slice(at).buffer) as ArrayBuffer;
  let from = aligned ? bytes.byteOffset + at : 0;
  const block = new Uint8Array(n * ROW_BYTES);
  const columns = columnViews(block, n);
  for (const kind of SENT_ORDER) {
    cols.forEach((c, k) => {
      if (c[0] !== kind) return;
      columns[k]!.set(new SENT[kind](src, from, n));
      from += WIDTH[kind] * n;
    });
  }
  cols.forEach((c, k) => {
    const col = columns[k]!;
    if (c[0] === 'c') col.fill(c[1]);
    else if (c[0] === 's') for (let i = 0; i < n; i++) col[i] = c[1] + i;
  });
  const rows: RowBlock = { count: n, data: block, previews };
  if (meanings !== undefined) rows.meanings = meanings;
  (msg.payload as Batch).rows = rows;
  return msg;
}
