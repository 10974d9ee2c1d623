/**
 * The NDJSON form of engine events (`wsscope read --json`), as docs/events.md documents it:
 * field names and types as written there. Events it does not list (connection-end) have no
 * wire form.
 *
 * Two forms of the same line: `toWire` builds the object (exports, tests), `writeEvent`
 * streams it into an `Out` (engine/cli/out.ts). `writeEvent` never builds a string the size of
 * a payload: text is JSON-escaped and binary base64-encoded from the payload's bytes straight
 * into the output buffer, in pieces that fit it (engine/text/json-bytes.ts: WebAssembly SIMD,
 * or JS without it). Frame lines and message heads, the most frequent lines, are written as
 * bytes too, without a string per event (./json-fields.ts). Without a `maxPayloadOut` cut its
 * line is byte for byte `JSON.stringify(toWire(ev))` (engine/cli/json.test.ts holds it to
 * that, on every capture of the corpus and on random payloads).
 *
 * Memory: nothing is kept between calls but the frame-flag constants (at most 512); a payload
 * is only read during the call.
 */
import type { EngineEvent, FrameEvent, MessageEvent } from '../../shared/events';
import type { Out } from './out';
import { PIECE, escapeJs } from '../text/json-bytes';
import { type Chunk, chunk, num, putAscii, putChunk, putNum, putTs } from './json-fields';

/** Text messages carry `text` when valid UTF-8; everything else carries `base64`. */
function payloadFields(m: MessageEvent): { text: string } | { base64: string } {
  if (m.opcode === 1 && m.utf8Valid) return { text: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8') };
  return { base64: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('base64') };
}

export function toWire(ev: EngineEvent): Record<string, unknown> | null {
  switch (ev.type) {
    case 'connection': {
      const o: Record<string, unknown> = { type: 'connection', id: ev.id, transport: ev.transport, client: ev.client, server: ev.server, ts: ev.ts };
      // RFC 8441: a WebSocket carried on an HTTP/2 stream of connection `parent`
      if (ev.http2) Object.assign(o, { http2: true, h2Stream: ev.h2Stream, parent: ev.parent });
      return o;
    }
    case 'handshake':
      // an HTTP/2 handshake (extended CONNECT) has no key and no accept
      if (ev.http2) return { type: 'handshake', conn: ev.conn, ts: ev.ts, http2: true, path: ev.path, host: ev.host, status: ev.status, origin: ev.origin, protocol: ev.protocol, extensions: ev.extensions, websocket: ev.websocket };
      return {
        type: 'handshake',
        conn: ev.conn,
        ts: ev.ts,
        path: ev.path,
        host: ev.host,
        status: ev.status,
        key: ev.key,
        accept: ev.accept,
        acceptValid: ev.acceptValid,
        origin: ev.origin,
        protocol: ev.protocol,
        extensions: ev.extensions,
        websocket: ev.websocket,
        // the Engine.IO session this WebSocket upgrades (its `polling` events carry the same sid)
        ...(ev.sid !== undefined ? { sid: ev.sid } : {}),
      };
    case 'frame':
      return {
        type: 'frame',
        conn: ev.conn,
        dir: ev.dir,
        ts: ev.ts,
        fin: ev.fin,
        rsv1: ev.rsv1,
        rsv2: ev.rsv2,
        rsv3: ev.rsv3,
        opcode: ev.opcode,
        masked: ev.masked,
        maskKey: ev.maskKey,
        length: ev.length,
        packet: ev.packet,
      };
    case 'message': {
      const base: Record<string, unknown> = {
        type: 'message',
        conn: ev.conn,
        dir: ev.dir,
        ts: ev.ts,
        opcode: ev.opcode,
        compressed: ev.compressed,
        length: ev.length,
      };
      // a message that is not whole says so (docs/events.md): bytes lost to a gap, or cut by a limit
      if (ev.truncated) {
        base.truncated = true;
        base.wireLength = ev.wireLength;
      }
      if (ev.opcode === 8) {
        if (ev.code !== undefined) {
          base.code = ev.code;
          base.reason = ev.reason ?? '';
        }
        if (ev.app !== undefined) base.app = ev.app;
        return base;
      }
      const wire = { ...base, ...payloadFields(ev) };
      // on connections with a subprotocol decoder (docs/events.md "Subprotocols")
      return ev.app === undefined ? wire : { ...wire, app: ev.app };
    }
    case 'finding': {
      const o: Record<string, unknown> = { type: 'finding', id: ev.id, severity: ev.severity, conn: ev.conn };
      if (ev.dir) o.dir = ev.dir;
      o.ts = ev.ts;
      o.packet = ev.packet;
      o.text = ev.text;
      return o;
    }
    case 'datagram':
      return { type: 'datagram', conn: ev.conn, dir: ev.dir, ts: ev.ts, length: ev.length };
    case 'summary':
      return {
        type: 'summary',
        packets: ev.packets,
        connections: ev.connections,
        messages: ev.messages,
        findings: ev.findings,
        bytes: ev.bytes,
        seconds: ev.seconds,
      };
    case 'tls': {
      const o: Record<string, unknown> = { type: 'tls', conn: ev.conn, ts: ev.ts, version: ev.version, cipherSuite: ev.cipherSuite, sni: ev.sni, alpn: ev.alpn, decrypted: ev.decrypted };
      if (ev.reason !== undefined) o.reason = ev.reason;
      o.records = ev.records;
      return o;
    }
    case 'http2-request':
      return { type: 'http2-request', conn: ev.conn, stream: ev.stream, ts: ev.ts, method: ev.method, path: ev.path, host: ev.host, status: ev.status, requestBytes: ev.requestBytes, responseBytes: ev.responseBytes, reset: ev.reset, ...(ev.pushed ? { pushed: true } : {}) };
    case 'polling': {
      const o: Record<string, unknown> = { type: 'polling', conn: ev.conn, dir: ev.dir, ts: ev.ts, method: ev.method, path: ev.path, sid: ev.sid, length: ev.length };
      if (ev.truncated) o.truncated = true;
      o.app = ev.app;
      return o;
    }
    case 'connection-end':
      return null;
  }
}

/**
 * Binary payload bytes encoded per base64 slice: a multiple of 3, so the slices join without
 * padding; at most PIECE, what the wasm encoder takes per call.
 */
const SLICE = 48 * 1024;
/** the smallest piece written into a buffer that already holds bytes (below it: flush first) */
const MIN_PIECE = 4096;

export interface WriteOptions {
  /** payload bytes written per message event at most (`--max-payload-out`; Infinity: all) */
  maxPayloadOut: number;
}

/**
 * Bytes of valid UTF-8 text, d[a, z), JSON-escaped straight into `out` (engine/text/json-bytes.ts:
 * the bytes of JSON.stringify's UTF-8 output of their string). Nothing is allocated.
 */
function writeEscaped(out: Out, d: Uint8Array, a: number, z: number): void {
  const enc = out.bytes;
  if (enc === null) {
    // \u00XX: at most 6 bytes per byte, so a piece of capacity / 6 bytes always has room
    const step = Math.max(1, Math.floor(out.capacity / 6));
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let s = a; s < z; s += step) {
      const e = Math.min(z, s + step);
      const buf = out.room(6 * (e - s));
      out.advance(escapeJs(buf, out.words, out.pos, d, dv, s, e));
    }
    return;
  }
  for (let s = a; s < z; ) {
    const n = Math.min(z - s, PIECE, Math.floor(out.free / 6));
    // a short piece only when the buffer is empty: otherwise flush and take a whole one
    if (n < z - s && n < MIN_PIECE && out.pos > 0) {
      out.flush();
      continue;
    }
    out.advance(enc.escape(d, s, n, out.pos));
    s += n;
  }
}

/** Base64 of d[0, z) into `out`, in pieces of whole 3-byte groups (so they join without padding). */
function writeBase64(out: Out, d: Uint8Array, z: number): void {
  const enc = out.bytes;
  if (enc === null) {
    // base64Slice: what toString('base64', a, z) calls, without its argument parsing
    const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength) as Buffer & { base64Slice(a: number, z: number): string };
    for (let a = 0; a < z; a += SLICE) out.latin1(b.base64Slice(a, Math.min(z, a + SLICE)));
    return;
  }
  for (let s = 0; s < z; ) {
    const n = Math.min(z - s, SLICE, 3 * Math.floor(out.free / 4));
    if (n < z - s && n < MIN_PIECE && out.pos > 0) {
      out.flush();
      continue;
    }
    out.advance(enc.base64(d, s, n, out.pos));
    s += n;
  }
}

/**
 * A frame line and a message line's head take at most HEAD bytes (numbers of at most 24
 * characters, a maskKey of at most MASK_KEY_MAX): asked for with `room` up front.
 */
const HEAD = 512; // <= MIN_SIZE of engine/cli/out.ts
const MASK_KEY_MAX = 64;

const FRAME_CONN = chunk('{"type":"frame","conn":');
const MESSAGE_CONN = chunk('{"type":"message","conn":');
const CLIENT_TS = chunk(',"dir":"client","ts":');
const SERVER_TS = chunk(',"dir":"server","ts":');
const LENGTH = chunk('","length":');
const PACKET = chunk(',"packet":');
const OPCODE = chunk(',"opcode":');
const COMPRESSED_LENGTH = [chunk(',"compressed":false,"length":'), chunk(',"compressed":true,"length":')];
const WIRE_LENGTH = chunk(',"truncated":true,"wireLength":');
const TEXT = chunk(',"text":"');
const BASE64 = chunk(',"base64":"');
/** a frame line from "fin" to the maskKey's opening quote, by flags and opcode (see frameFlags) */
const FRAME_MIDDLE: Array<Chunk | undefined> = [];

/** whether JSON.stringify(s) is s between quotes (printable ASCII other than " and \), and short */
function plainKey(s: string): boolean {
  if (s.length > MASK_KEY_MAX) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function frameMiddle(ev: FrameEvent): Chunk {
  // opcode is 4 bits on the wire (RFC 6455 section 5.2); anything else is not cached
  const key = ev.opcode >>> 0 === ev.opcode && ev.opcode < 16 ? (ev.opcode << 5) | (+ev.fin << 4) | (+ev.rsv1 << 3) | (+ev.rsv2 << 2) | (+ev.rsv3 << 1) | +ev.masked : -1;
  const c = key >= 0 ? FRAME_MIDDLE[key] : undefined;
  if (c !== undefined) return c;
  const made = chunk(`,"fin":${ev.fin},"rsv1":${ev.rsv1},"rsv2":${ev.rsv2},"rsv3":${ev.rsv3},"opcode":${num(ev.opcode)},"masked":${ev.masked},"maskKey":"`);
  if (key >= 0) FRAME_MIDDLE[key] = made;
  return made;
}

function writeFrame(out: Out, ev: FrameEvent): void {
  if (!plainKey(ev.maskKey)) {
    out.utf8(JSON.stringify(toWire(ev)) + '\n');
    return;
  }
  const b = out.room(HEAD);
  const dv = out.words;
  let p = putNum(b, putChunk(dv, out.pos, FRAME_CONN), ev.conn);
  p = putTs(b, putChunk(dv, p, ev.dir === 'client' ? CLIENT_TS : SERVER_TS), ev.ts);
  p = putAscii(b, putChunk(dv, p, frameMiddle(ev)), ev.maskKey);
  p = putNum(b, putChunk(dv, p, LENGTH), ev.length);
  p = putNum(b, putChunk(dv, p, PACKET), ev.packet);
  b[p++] = 0x7d; // }
  b[p++] = 0x0a;
  out.advance(p);
}

/**
 * End of the last whole UTF-8 character in d[0, end): `end`, or the start of a character
 * whose bytes run past it (RFC 3629 section 3: a lead byte 11xxxxxx announces 2-4 bytes,
 * each continuation byte is 10xxxxxx). For valid UTF-8 text only.
 */
function wholeCharsEnd(d: Uint8Array, end: number): number {
  let i = end;
  const stop = Math.max(0, end - 3);
  while (i > stop && (d[i - 1] & 0xc0) === 0x80) i--;
  if (i === 0) return end;
  const lead = d[i - 1];
  if (lead < 0xc0) return end;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return end - (i - 1) >= need ? end : i - 1;
}

/** One event as its NDJSON line, written into `out` (see the module comment). */
export function writeEvent(out: Out, ev: EngineEvent, o: WriteOptions): void {
  if (ev.type === 'message' && ev.opcode !== 8) {
    writeMessage(out, ev, o.maxPayloadOut);
    return;
  }
  if (ev.type === 'frame') {
    // the most frequent line: written without building its object (same fields as toWire)
    writeFrame(out, ev);
    return;
  }
  const w = toWire(ev);
  if (w) out.line(JSON.stringify(w));
}

function writeMessage(out: Out, m: MessageEvent, max: number): void {
  const data = m.data;
  const text = m.opcode === 1 && m.utf8Valid;
  let end = data.length;
  const cut = end > max;
  if (cut) end = max;
  // Text ends on a whole character: cut there by --max-payload-out, or, for a message that
  // was truncated inside a character (validUtf8 allows that tail), followed by one U+FFFD as
  // toString('utf8') writes it (WHATWG Encoding: one replacement for an incomplete sequence).
  let replacement = false;
  if (text) {
    const whole = wholeCharsEnd(data, end);
    if (whole < end) {
      replacement = !cut;
      end = whole;
    }
  }
  const b = out.room(HEAD);
  const dv = out.words;
  let p = putNum(b, putChunk(dv, out.pos, MESSAGE_CONN), m.conn);
  p = putTs(b, putChunk(dv, p, m.dir === 'client' ? CLIENT_TS : SERVER_TS), m.ts);
  p = putNum(b, putChunk(dv, p, OPCODE), m.opcode);
  p = putNum(b, putChunk(dv, p, COMPRESSED_LENGTH[+m.compressed]), m.length);
  if (m.truncated || cut) p = putNum(b, putChunk(dv, p, WIRE_LENGTH), m.wireLength);
  out.advance(putChunk(dv, p, text ? TEXT : BASE64));
  if (text) writeEscaped(out, data, 0, end);
  else writeBase64(out, data, end);
  if (replacement) out.latin1('\xef\xbf\xbd');
  out.byte(0x22);
  // on connections with a subprotocol decoder (docs/events.md "Subprotocols")
  if (m.app !== undefined) out.utf8(`,"app":${JSON.stringify(m.app)}`);
  out.byte(0x7d); // }
  out.byte(0x0a);
}
