/**
 * The NDJSON form of engine events (`wsscope read --json`), as docs/events.md documents it:
 * field names and types as written there. Events it does not list (connection-end) have no
 * wire form.
 *
 * Two forms of the same line: `toWire` builds the object (exports, tests), `writeEvent`
 * streams it into an `Out` (engine/cli/out.ts). `writeEvent` never builds a string the size of
 * a payload: text is JSON-escaped straight into the output buffer, in pieces that fit it;
 * binary goes out as base64 of `SLICE`-byte slices. Without a `maxPayloadOut` cut its line is
 * byte for byte `JSON.stringify(toWire(ev))` (engine/cli/json.test.ts holds it to that).
 *
 * Memory: nothing is kept between calls; a payload is only read during the call.
 */
import type { EngineEvent, MessageEvent } from '../../shared/events';
import type { Out } from './out';
import { PIECE, escapeJs } from '../text/json-bytes';

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

/** A number as JSON.stringify writes it. */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `num` of a timestamp, remembering the last one: a frame and the message it ends share theirs. */
let lastTs = NaN;
let lastTsText = 'null';
function tsText(ts: number): string {
  if (ts !== lastTs) {
    lastTs = ts;
    lastTsText = num(ts);
  }
  return lastTsText;
}

const DIR = { client: '"client"', server: '"server"' } as const;

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
    out.latin1(
      `{"type":"frame","conn":${num(ev.conn)},"dir":${DIR[ev.dir]},"ts":${tsText(ev.ts)},"fin":${ev.fin},"rsv1":${ev.rsv1},"rsv2":${ev.rsv2},"rsv3":${ev.rsv3},"opcode":${num(ev.opcode)},"masked":${ev.masked},"maskKey":${JSON.stringify(ev.maskKey)},"length":${num(ev.length)},"packet":${num(ev.packet)}}\n`,
    );
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
  let h = `{"type":"message","conn":${num(m.conn)},"dir":${DIR[m.dir]},"ts":${tsText(m.ts)},"opcode":${num(m.opcode)},"compressed":${m.compressed},"length":${num(m.length)}`;
  if (m.truncated || cut) h += `,"truncated":true,"wireLength":${num(m.wireLength)}`;
  out.latin1(h + (text ? ',"text":"' : ',"base64":"'));
  if (text) writeEscaped(out, data, 0, end);
  else writeBase64(out, data, end);
  if (replacement) out.latin1('\xef\xbf\xbd');
  out.latin1('"');
  // on connections with a subprotocol decoder (docs/events.md "Subprotocols")
  if (m.app !== undefined) out.utf8(`,"app":${JSON.stringify(m.app)}`);
  out.latin1('}\n');
}
