/**
 * Binary payloads as trees, for the detail pane (engine/store/detail.ts): a binary message
 * that parses completely as MessagePack (@msgpack/msgpack) or as one CBOR item (cbor-x, RFC
 * 8949, cbor-x's eval-free decoder) is shown as the value it encodes; any binary message that parses completely as
 * protobuf wire format (no schema: field numbers and wire types, protobuf.dev "Encoding") is
 * offered as an opt-in view, since almost any short byte string parses as some protobuf.
 *
 * "Completely": every byte belongs to the one value (no trailing bytes, no error), and the
 * top value is a map or an array (a lone number or string "parses" out of too many random
 * payloads to mean anything). Values become shared/events.ts `AppValue`s (structured-clone
 * safe): map keys as strings, byte strings as `{ $bytes: hex }` (cut at BYTES_SHOWN bytes),
 * big integers as strings, CBOR tags as `{ $tag, value }`, extension types as `{ $ext, $bytes }`.
 *
 * Bounds: payloads over MAX_TREE_BYTES are not parsed; at most MAX_NODES values and
 * MAX_DEPTH levels are converted (deeper or further values become the string "…"); protobuf
 * nesting is tried to MAX_PB_DEPTH. Parsers never throw out of here.
 *
 * Memory: the input is only read; every tree is new.
 */
import { decode as decodeMsgpack, ExtData } from '@msgpack/msgpack';
// the decoder alone, built without eval (hostile input never shapes generated code) and
// without the optional native extractor (which the app's bundles cannot carry)
import * as cborDecoder from 'cbor-x/decode-no-eval';
import type { Tag as CborTag } from 'cbor-x';

const decodeCborMultiple = cborDecoder.decodeMultiple;
// exported by the build, missing from its type declarations
const Tag = (cborDecoder as unknown as { Tag: typeof CborTag }).Tag;
import type { AppValue } from '../../shared/events';

export const MAX_TREE_BYTES = 1 << 20;
export const MAX_NODES = 10_000;
export const MAX_DEPTH = 32;
const MAX_PB_DEPTH = 8;
/** bytes of a byte string shown in hex */
const BYTES_SHOWN = 64;

export type BinaryFormat = 'msgpack' | 'cbor' | 'protobuf';

export interface BinaryTree {
  format: BinaryFormat;
  value: AppValue;
}

/** The trees `data` parses completely as (MessagePack and CBOR first, then protobuf), possibly none. */
export function binaryTrees(data: Uint8Array): BinaryTree[] {
  if (data.length < 2 || data.length > MAX_TREE_BYTES) return [];
  const out: BinaryTree[] = [];
  const mp = tryParse(() => decodeMsgpack(data, { useBigInt64: true }));
  if (mp.ok && isContainer(mp.value)) out.push({ format: 'msgpack', value: toAppValue(mp.value) });
  const cb = tryParse(() => cborOne(data));
  if (cb.ok && isContainer(cb.value)) out.push({ format: 'cbor', value: toAppValue(cb.value) });
  const pb = protobuf(data, 0);
  if (pb !== null) out.push({ format: 'protobuf', value: pb });
  return out;
}

function tryParse(f: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: f() };
  } catch {
    return { ok: false };
  }
}

/** exactly one CBOR data item spanning all of `data` (RFC 8949 section 5.1: a sequence of one) */
function cborOne(data: Uint8Array): unknown {
  const items: unknown[] = [];
  decodeCborMultiple(data, (v: unknown) => {
    items.push(v);
    // a second item: not one value; stop reading
    return items.length < 2;
  });
  if (items.length !== 1) throw new Error('not one CBOR item');
  return items[0];
}

function isContainer(v: unknown): boolean {
  return v instanceof Map || Array.isArray(v) || (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date) && !(v instanceof Tag) && !(v instanceof ExtData));
}

const hex = (b: Uint8Array): string => {
  const cut = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, BYTES_SHOWN)).toString('hex');
  return b.byteLength > BYTES_SHOWN ? `${cut}… (${b.byteLength} bytes)` : cut;
};

/** A decoded value as an AppValue, within MAX_NODES and MAX_DEPTH. */
export function toAppValue(v: unknown): AppValue {
  let nodes = 0;
  const walk = (x: unknown, depth: number): AppValue => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) return '…';
    if (x === null || x === undefined) return null;
    if (typeof x === 'string' || typeof x === 'boolean') return x;
    if (typeof x === 'number') return Number.isFinite(x) ? x : String(x);
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof Uint8Array) return { $bytes: hex(x) };
    if (x instanceof Date) return Number.isNaN(x.getTime()) ? 'Invalid Date' : x.toISOString();
    if (x instanceof Tag) return { $tag: x.tag, value: walk(x.value, depth + 1) };
    if (x instanceof ExtData) return { $ext: x.type, $bytes: x.data instanceof Uint8Array ? hex(x.data) : '' };
    if (Array.isArray(x)) return x.map((e) => walk(e, depth + 1));
    if (x instanceof Map) {
      const o: { [k: string]: AppValue } = {};
      for (const [k, e] of x) o[typeof k === 'string' ? k : JSON.stringify(walk(k, depth + 1))] = walk(e, depth + 1);
      return o;
    }
    if (x instanceof Set) return [...x].map((e) => walk(e, depth + 1));
    if (typeof x === 'object') {
      const o: { [k: string]: AppValue } = {};
      for (const k of Object.keys(x)) o[k] = walk((x as Record<string, unknown>)[k], depth + 1);
      return o;
    }
    return String(x);
  };
  return walk(v, 0);
}

// ---------------------------------------------------------------- protobuf wire format (no schema)

/** protobuf.dev "Encoding": wire types 0 VARINT, 1 I64, 2 LEN, 5 I32 (3 and 4, groups, are refused) */
const WIRE_NAMES = ['varint', 'i64', 'len', 'sgroup', 'egroup', 'i32'];

/** A base-128 varint at `at` (at most 10 bytes): [value, next offset], or null. */
function varint(b: Uint8Array, at: number): [bigint, number] | null {
  let v = 0n;
  for (let i = 0; i < 10 && at + i < b.length; i++) {
    const byte = b[at + i];
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [v, at + i + 1];
  }
  return null;
}

/**
 * `b` as a list of protobuf fields `{ field, wire, value }`, or null unless every byte is a
 * well-formed field. LEN fields are shown as a nested message when they parse as one, as text
 * when they are printable UTF-8, else as bytes.
 */
export function protobuf(b: Uint8Array, depth: number): AppValue | null {
  const fields: AppValue[] = [];
  let at = 0;
  while (at < b.length) {
    const key = varint(b, at);
    if (key === null) return null;
    const field = Number(key[0] >> 3n);
    const wire = Number(key[0] & 7n);
    // field numbers are 1 .. 2^29 - 1 (protobuf.dev "Encoding": field numbers)
    if (field < 1 || field > 0x1fffffff) return null;
    at = key[1];
    let value: AppValue;
    if (wire === 0) {
      const v = varint(b, at);
      if (v === null) return null;
      value = v[0] <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v[0]) : v[0].toString();
      at = v[1];
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (at + n > b.length) return null;
      value = { $bytes: hex(b.subarray(at, at + n)) };
      at += n;
    } else if (wire === 2) {
      const len = varint(b, at);
      if (len === null || len[0] > BigInt(b.length - len[1])) return null;
      at = len[1];
      const body = b.subarray(at, at + Number(len[0]));
      at += body.length;
      value = lenValue(body, depth);
    } else return null;
    fields.push({ field, wire: WIRE_NAMES[wire], value });
    if (fields.length > MAX_NODES) return null;
  }
  return fields.length > 0 ? fields : null;
}

function lenValue(body: Uint8Array, depth: number): AppValue {
  if (depth < MAX_PB_DEPTH && body.length > 0) {
    const nested = protobuf(body, depth + 1);
    if (nested !== null) return nested;
  }
  const text = printable(body);
  return text !== null ? text : { $bytes: hex(body) };
}

/** UTF-8 text with no control characters but tab and newlines, or null */
function printable(b: Uint8Array): string | null {
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) ? null : s;
}
