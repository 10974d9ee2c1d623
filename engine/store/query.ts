/**
 * Message queries over a SessionData: direction, opcodes, connection, findings (any, or of
 * one severity) and text over whole payloads. One pass over the flag and connection columns;
 * the rows that pass are searched in their payload bytes, read in order through a block
 * cursor over the PayloadStore (memory or spill file alike). Answers are capture-wide message
 * indexes in order.
 *
 * Text is either
 *  - a literal, matched case-insensitively against the payload's bytes as UTF-8 (so binary
 *    payloads match by their ASCII text: "MQTT" finds an MQTT CONNECT); a literal made of hex
 *    digits in whole bytes, spaced or not ("4d515454", "4d 51 54 54"), also matches those
 *    bytes; close messages also match their timeline preview ("1000 Normal Closure: ...");
 *  - or a regular expression (`regex`), run by RE2 in linear time (shared/regex.ts) over the
 *    payload decoded as UTF-8 (invalid bytes become U+FFFD, ASCII stays ASCII).
 * A text message whose preview is its payload byte for byte (MSG.VERBATIM: printable ASCII,
 * not cut) is searched as text only: its hex is not searched (a text message's bytes are its
 * text). Previews are not kept as strings (rows.ts makes them again), so every search reads
 * payload bytes.
 *
 * `compileQuery` + `scanMessages` are the same query in pieces, so a caller can scan a range
 * of rows at a time and yield in between (session-store.ts queryPaced).
 *
 * Memory: returns a fresh Uint32Array sized to the answer; the scan allocates one
 * `messages.length` scratch array, reads the store's in-memory chunks in place, and copies
 * spilled bytes into one block of at most BLOCK bytes (or one payload, when a single payload
 * is bigger) at a time, for the duration of the call.
 */
import type { AppFilter, MessageQuery } from '../../shared/api';
import { compileUserRegex, type UserRegex } from '../../shared/regex';
import { PayloadCursor } from './payload-store';
import { previewAt } from './rows';
import { MSG, sevBit, type SessionData } from './session-data';

/** ASCII lower case of a byte (other bytes unchanged). */
const FOLD = new Uint8Array(256);
for (let b = 0; b < 256; b++) FOLD[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;

/**
 * A byte pattern, matched with Horspool's bad-character shifts (Horspool 1980): `folded`
 * patterns hold ASCII-folded bytes and compare through FOLD, their shift table covers both
 * cases of a letter.
 */
export interface Needle {
  bytes: Uint8Array;
  folded: boolean;
  shift: Int32Array;
}

function needle(bytes: Uint8Array, folded: boolean): Needle {
  const m = bytes.length;
  const shift = new Int32Array(256).fill(m);
  for (let b = 0; b < 256; b++) {
    const key = folded ? FOLD[b] : b;
    for (let j = m - 2; j >= 0; j--) {
      if (bytes[j] === key) {
        shift[b] = m - 1 - j;
        break;
      }
    }
  }
  return { bytes, folded, shift };
}

/** Whether `n` occurs in hay[from, to). */
function found(hay: Uint8Array, from: number, to: number, n: Needle): boolean {
  const p = n.bytes;
  const m = p.length;
  const last = p[m - 1];
  const shift = n.shift;
  if (n.folded) {
    for (let i = from + m - 1; i < to; ) {
      const c = hay[i];
      if (FOLD[c] === last) {
        let j = m - 2;
        while (j >= 0 && FOLD[hay[i - m + 1 + j]] === p[j]) j--;
        if (j < 0) return true;
      }
      i += shift[c];
    }
    return false;
  }
  for (let i = from + m - 1; i < to; ) {
    const c = hay[i];
    if (c === last) {
      let j = m - 2;
      while (j >= 0 && hay[i - m + 1 + j] === p[j]) j--;
      if (j < 0) return true;
    }
    i += shift[c];
  }
  return false;
}

const utf8 = new TextEncoder();

/**
 * The byte patterns a literal search looks for: its UTF-8 ASCII-folded, its lower- and
 * upper-case forms when it has other cased letters, and the bytes it spells in hex.
 */
export function literalNeedles(text: string): Needle[] {
  const out: Needle[] = [];
  const add = (bytes: Uint8Array, folded: boolean): void => {
    if (bytes.length > 0 && !out.some((n) => n.folded === folded && n.bytes.length === bytes.length && n.bytes.every((b, i) => b === bytes[i]))) out.push(needle(bytes, folded));
  };
  for (const form of [text, text.toLowerCase(), text.toUpperCase()]) add(utf8.encode(form).map((b) => FOLD[b]), true);
  // whole bytes, at least two (a single byte would match nearly every binary payload), with
  // spaces only between bytes ("4d 51", not "4 d51")
  if (/^\s*[0-9a-fA-F]{2}(\s*[0-9a-fA-F]{2})+\s*$/.test(text)) {
    const hex = text.replace(/\s+/g, '');
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    add(bytes, false);
  }
  return out;
}

/** A query compiled once for a scan (see compileQuery). */
export interface CompiledQuery {
  need: number;
  want: number;
  opMask: number;
  conn: number;
  sevMask: number;
  re: UserRegex | null;
  needles: Needle[];
  previewNeedle: string;
  /** the text is printable ASCII, so it may be in a verbatim text message (MSG.VERBATIM) */
  verbatim: boolean;
  /** decoded-field filter (engine/store/app-index.ts) */
  app: AppFilter | undefined;
}

/**
 * The query's tests, compiled (see the module comment for what text matches). Throws
 * SyntaxError on a bad regex (the caller validates first).
 */
export function compileQuery(q: MessageQuery): CompiledQuery {
  let need = 0;
  let want = 0;
  if (q.dir === 'client') need |= MSG.SERVER;
  else if (q.dir === 'server') {
    need |= MSG.SERVER;
    want |= MSG.SERVER;
  }
  let opMask = 0xffff;
  if (q.opcodes && q.opcodes.length > 0) {
    opMask = 0;
    for (const op of q.opcodes) if (op >= 0 && op <= 15) opMask |= 1 << op;
  }
  const conn = q.conn ?? -1;
  let sevMask = 0;
  if (q.severity) sevMask = sevBit(q.severity);
  else if (q.findingsOnly) sevMask = MSG.SEV_ALL;
  let re: UserRegex | null = null;
  let needles: Needle[] = [];
  let previewNeedle = '';
  let verbatim = false;
  if (q.text) {
    if (q.regex) {
      const c = compileUserRegex(q.text);
      if ('error' in c) throw new SyntaxError(c.error);
      re = c;
    } else {
      needles = literalNeedles(q.text);
      previewNeedle = q.text.toLowerCase();
      // a verbatim preview is printable ASCII: other text cannot be in it
      verbatim = /^[\x20-\x7e]*$/.test(q.text);
    }
  }
  return { need, want, opMask, conn, sevMask, re, needles, previewNeedle, verbatim, app: q.app };
}

/** Writes the indexes of the matching rows in [from, to) to `out` from position `k`; returns the new `k`. */
export function scanMessages(d: SessionData, c: CompiledQuery, from: number, to: number, out: Uint32Array, k: number): number {
  const { need, want, opMask, conn, sevMask, re, needles, previewNeedle, verbatim } = c;
  const appTest = d.app.rowTest(c.app);
  const searching = re !== null || needles.length > 0;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const cursor = new PayloadCursor(d.payloads);
  const OPCODE = MSG.OPCODE;
  const { flags, conn: conns } = d.messages.cols;
  const textNeedles = needles.filter((n) => n.folded);
  rows: for (let r = from; r < to; r++) {
    const f = flags.get(r);
    if ((f & need) !== want) continue;
    if (!(opMask & (1 << (f & OPCODE)))) continue;
    if (conn >= 0 && conns.get(r) !== conn) continue;
    if (sevMask && !(f & sevMask)) continue;
    if (searching) {
      const len = d.messageKept(r);
      const at = cursor.seek(d.messageOffset(r), len);
      const block = cursor.block;
      if (re) {
        if (!re.test(decoder.decode(block.subarray(at, at + len))) && !((f & OPCODE) === 8 && re.test(previewAt(d, r, cursor)))) continue;
      } else {
        // a verbatim text message's bytes are its text: searched as text only, never as hex
        // (and text that is not printable ASCII cannot be in it)
        const list = f & MSG.VERBATIM ? (verbatim ? textNeedles : []) : needles;
        let hit = false;
        for (let i = 0; i < list.length && !hit; i++) hit = found(block, at, at + len, list[i]);
        // a close message's preview names its code ("1000 Normal Closure"), which its bytes do not
        if (!hit && (f & OPCODE) === 8) hit = previewAt(d, r, cursor).toLowerCase().includes(previewNeedle);
        if (!hit) continue rows;
      }
    }
    if (appTest && !appTest(r)) continue;
    out[k++] = d.messageIndex(r);
  }
  return k;
}

/** Matching message indexes, in order (compileQuery's tests over every row, in one go). */
export function queryMessages(d: SessionData, q: MessageQuery): Uint32Array {
  const n = d.messages.length;
  const out = new Uint32Array(n);
  const k = scanMessages(d, compileQuery(q), 0, n, out, 0);
  return out.slice(0, k);
}
