/**
 * Engine.IO long-polling over HTTP/1.1: the bodies of polling requests and their responses
 * (`GET|POST .../socket.io/?EIO=4&transport=polling&sid=...`), kept (bounded) and decoded as
 * Engine.IO payloads into the same `app` packets the WebSocket decoder gives
 * (engine/app/socket-io.ts, whose parser this module feeds, one packet at a time, as if each
 * were a WebSocket message).
 *
 * Payload framing (github.com/socketio/engine.io-protocol):
 *   v4: packets separated by the record separator 0x1e; a binary packet is `b` + base64
 *   v3: `<length>:<packet>` repeated, length in characters; binary as `b4` + base64 (the
 *       packet type, then base64), which becomes the type byte + bytes, the form Engine.IO v3
 *       gives a binary packet on WebSocket. With binary packets and a peer that takes binary
 *       (XHR2: no `b64=1` in the URL) the payload is binary instead: records of 0x00 (text)
 *       or 0x01 (binary) + the length as bytes 0-9 + 0xff + the packet.
 *   The version is the URL's `EIO=` (3, else v4).
 *
 * One `polling` event per body that carries anything, with every packet of the payload in
 * `app`, after the last byte of the body (chunked or Content-Length, or the connection's end);
 * `Content-Encoding: gzip | deflate | br` is undone through node:zlib with the same bound.
 *
 * Session: the `sid` of the request URL, or the one the open packet of a handshake response
 * names; the WebSocket that upgrades the session carries `sid=` in its URL and its handshake
 * event gets the same `sid` (http1-layer.ts), so both are one Socket.IO session.
 *
 * A polling session spreads over several HTTP connections (its POSTs and its long GETs run
 * side by side, and a BINARY_EVENT may come in one POST, its attachment in the next), so
 * the decoder state is per session, not per connection: socket-io.ts's `engineIoSession`
 * keeps one decoder per `sid` per capture (scope: the pipeline's `Counters`), which the
 * WebSocket that upgrades the session shares (a packet announced in a POST may complete
 * over the WebSocket); bodies are decoded in capture order (the packet that ends each).
 * Polling's context says it did not see the conversation from its start (an ack may answer
 * an event the polling part did not carry: no `subprotocol-unknown-reply`); requests left
 * open are listed as unanswered only by the upgraded WebSocket's end, and a session that
 * never upgrades is not finished (its waiting attachments are not reported at the end).

 * Memory: one body at a time per direction, copied, at most BODY_MAX bytes (encoded and
 * decoded); at most CONN_BUDGET bytes kept per connection over its life; past either the body
 * is not decoded (`limit-reached`, the event says `truncated`). The session table is
 * socket-io.ts's (bounded there). Events own their packets.
 */
import { brotliDecompressSync, gunzipSync, inflateSync, inflateRawSync } from 'node:zlib';
import type { AppPacket, Direction, MessageEvent, PollingEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import type { ChunkMeta } from '../types';
import type { LayerContext } from '../stack/layer';
import { DEFAULT_APP_LIMITS, type AppContext, type AppDecoder } from '../app/decoder';
import { engineIoSession, engineIoSid, socketIoProtocol } from '../app/socket-io';
import { validUtf8 } from '../ws/utf8';
import { headerTokens } from './head';

/** bytes of one body kept (and of its content-decoded form) */
export const BODY_MAX = 1 << 20;
/** bytes of polling bodies kept per connection over its life */
export const CONN_BUDGET = 16 << 20;

const RS = 0x1e;

/** `transport=polling` on an Engine.IO URL (the Socket.IO decoder's `EIO=` rule, or its usual paths) */
export function isPollingTarget(target: string): boolean {
  return /[?&]transport=polling(&|$)/.test(target) && (socketIoProtocol.path?.(target) === true || /\/(socket|engine)\.io\//.test(target));
}

export { engineIoSid };

/** One body being kept (BodySkipper's sink). */
export class PollBody {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  /** bytes that were not kept (over the cap or the budget) */
  lost = 0;

  constructor(
    readonly dir: Direction,
    readonly method: string,
    readonly target: string,
    readonly encoding: string,
    private room: number,
  ) {}

  data(bytes: Uint8Array, a: number, z: number): void {
    const n = z - a;
    if (n <= 0) return;
    if (this.lost > 0 || n > this.room) {
      this.lost += n;
      return;
    }
    this.chunks.push(bytes.slice(a, z));
    this.size += n;
    this.room -= n;
  }
}

interface Held {
  id: FindingId;
  dir: Direction;
  text: string;
}

export class EnginePolling {
  private budget = CONN_BUDGET;
  private budgetReported = false;
  readonly held: Held[] = [];
  /** this connection's context for the session decoders (findings held until the body's event is out) */
  private readonly actx: AppContext;

  constructor(private readonly ctx: LayerContext) {
    const o = ctx.opts.app?.limits;
    this.actx = {
      conn: ctx.conn,
      limits: o ? { ...DEFAULT_APP_LIMITS, ...o } : DEFAULT_APP_LIMITS,
      fromStart: false,
      finding: (id, m, text) => this.held.push({ id, dir: m.dir, text }),
      endFinding: () => undefined,
    };
  }

  /** start keeping a body of `dir` (the request's method and target name the exchange) */
  begin(dir: Direction, method: string, target: string, headers: Array<[string, string]>): PollBody {
    const room = Math.min(BODY_MAX, this.budget);
    return new PollBody(dir, method, target, headerTokens(headers, 'content-encoding').join(','), room);
  }

  /**
   * The body is over (`complete`: its framing ended; false: the capture or connection did):
   * its event, then the findings about it.
   */
  end(b: PollBody, meta: ChunkMeta, complete: boolean): void {
    this.budget -= b.size;
    if (b.size === 0 && b.lost === 0) return;
    const ev: PollingEvent = { type: 'polling', conn: this.ctx.conn, dir: b.dir, ts: meta.ts, packet: meta.packet, method: b.method, path: b.target, sid: engineIoSid(b.target), length: b.size + b.lost, truncated: true, app: [] };
    const bytes = this.decoded(b, complete);
    if (bytes !== null) {
      ev.length = bytes.length;
      ev.truncated = false;
      const s = engineIoSession(this.ctx.counters, ev.sid, this.actx, { protocol: '', path: b.target, handshake: true });
      ev.app = this.payload(s, b, bytes, meta);
      if (ev.sid === '') {
        const open = ev.app.find((p) => p.type === 'open' && typeof p.sid === 'string');
        if (open !== undefined) {
          ev.sid = open.sid as string;
          s.name(ev.sid);
        }
      }
    }
    this.ctx.emit(ev);
    for (const h of this.held) this.ctx.finding(h.id, h.dir, meta, h.text);
    this.held.length = 0;
  }

  /** the whole body, content-decoded; null (with a finding) when it cannot be decoded whole */
  private decoded(b: PollBody, complete: boolean): Uint8Array | null {
    if (b.lost > 0) {
      const why = b.size + b.lost > BODY_MAX ? `over ${BODY_MAX} bytes` : `past the ${CONN_BUDGET}-byte budget of polling bodies on this connection`;
      if (!this.budgetReported || b.size + b.lost > BODY_MAX) this.held.push({ id: 'limit-reached', dir: b.dir, text: `Engine.IO polling body ${why}; it is not decoded.` });
      if (b.size + b.lost <= BODY_MAX) this.budgetReported = true;
      return null;
    }
    if (!complete) {
      this.held.push({ id: 'subprotocol-incomplete', dir: b.dir, text: `Engine.IO polling body cut after ${b.size} bytes (the capture or the connection ended); it is not decoded.` });
      return null;
    }
    const raw = b.chunks.length === 1 ? b.chunks[0] : Buffer.concat(b.chunks);
    const enc = b.encoding.toLowerCase();
    if (enc === '' || enc === 'identity') return raw;
    try {
      const o = { maxOutputLength: BODY_MAX };
      if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw, o);
      if (enc === 'br') return brotliDecompressSync(raw, o);
      if (enc === 'deflate') {
        // RFC 9110 section 8.4.1.2: zlib format; some servers send raw deflate
        try {
          return inflateSync(raw, o);
        } catch {
          return inflateRawSync(raw, o);
        }
      }
    } catch (e) {
      const over = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      this.held.push({ id: over ? 'limit-reached' : 'decompression-failed', dir: b.dir, text: over ? `Engine.IO polling body inflates past ${BODY_MAX} bytes; it is not decoded.` : `Engine.IO polling body does not decode as Content-Encoding ${enc}.` });
      return null;
    }
    this.held.push({ id: 'subprotocol-malformed', dir: b.dir, text: `Engine.IO polling body with Content-Encoding ${enc}, which wsscope does not decode.` });
    return null;
  }

  /** the payload's packets, each through the Socket.IO decoder as one message */
  private payload(dec: AppDecoder, b: PollBody, d: Uint8Array, meta: ChunkMeta): AppPacket[] {
    const out: AppPacket[] = [];
    const feed = (opcode: number, data: Uint8Array): void => {
      const m: MessageEvent = { type: 'message', conn: this.ctx.conn, dir: b.dir, ts: meta.ts, index: -1, opcode, compressed: false, length: data.length, wireLength: data.length, frames: [], packet: meta.packet, data, truncated: false, utf8Valid: opcode !== 1 || validUtf8(data) };
      for (const p of dec.message(m)) out.push(p);
    };
    const bad = (why: string): void => {
      this.held.push({ id: 'subprotocol-malformed', dir: b.dir, text: `Engine.IO polling payload: ${why}.` });
    };
    if (/[?&]EIO=3(&|$)/.test(b.target)) {
      // a text payload starts with a length digit (ASCII), the binary form with 0x00 or 0x01
      if (d.length > 0 && (d[0] === 0 || d[0] === 1)) {
        decodeV3Binary(d, feed, bad);
        return out;
      }
      decodeV3(Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8'), feed, bad);
      return out;
    }
    // v4: the separator is ASCII, so records split on the byte; each record is a view
    for (let a = 0; a <= d.length; ) {
      let i = d.indexOf(RS, a);
      if (i < 0) i = d.length;
      const rec = d.subarray(a, i);
      a = i + 1;
      if (rec.length > 0 && rec[0] === 0x62) {
        const bin = base64(Buffer.from(rec.buffer, rec.byteOffset + 1, rec.byteLength - 1).toString('latin1'));
        if (bin === null) bad('a `b` record that is not base64');
        else feed(2, bin);
      } else feed(1, rec);
    }
    return out;
  }
}

/** v3 `<length>:<packet>` framing (engine.io-parser 2.x decodePayload), lengths in UTF-16 units */
function decodeV3(s: string, feed: (opcode: number, data: Uint8Array) => void, bad: (why: string) => void): void {
  let i = 0;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    const n = colon < 0 ? '' : s.slice(i, colon);
    if (!/^\d{1,9}$/.test(n) || colon + 1 + Number(n) > s.length) {
      bad(`v3 record at character ${i} has no valid <length>: prefix`);
      return;
    }
    const rec = s.slice(colon + 1, colon + 1 + Number(n));
    i = colon + 1 + Number(n);
    // `0:` is the empty payload (encodePayload of no packets); decodePayload skips empty records
    if (rec.length === 0) continue;
    if (rec.startsWith('b')) {
      const bin = base64(rec.slice(2));
      const t = rec.charCodeAt(1) - 48;
      if (bin === null || !(t >= 0 && t <= 6)) bad('a `b` record that is not a packet type and base64');
      else {
        const data = new Uint8Array(bin.length + 1);
        data[0] = t;
        data.set(bin, 1);
        feed(2, data);
      }
    } else feed(1, Buffer.from(rec, 'utf8'));
  }
}

/** digits of one v3 binary record's length at most (BODY_MAX has 7) */
const V3_LENGTH_DIGITS = 9;

/**
 * v3 binary payload (engine.io-parser 2.x encodePayloadAsBinary, XHR2 polling with binary
 * packets): records `<0 | 1><length as bytes 0-9>...<0xff><length bytes>`; 0: a text packet
 * as UTF-8 bytes (utf8.js, so the length counts bytes), 1: a binary packet, the type byte
 * then the data (the WebSocket form of a v3 binary packet). Each record is a view of `d`.
 */
function decodeV3Binary(d: Uint8Array, feed: (opcode: number, data: Uint8Array) => void, bad: (why: string) => void): void {
  let i = 0;
  while (i < d.length) {
    const kind = d[i];
    let n = 0;
    let j = i + 1;
    while (j < d.length && d[j] <= 9 && j - i <= V3_LENGTH_DIGITS) n = n * 10 + d[j++];
    if ((kind !== 0 && kind !== 1) || j === i + 1 || d[j] !== 0xff || j + 1 + n > d.length) {
      bad(`v3 binary record at byte ${i} has no valid <0|1><length digits><0xff> prefix`);
      return;
    }
    const rec = d.subarray(j + 1, j + 1 + n);
    if (kind === 0) feed(1, rec);
    else if (rec.length === 0) bad(`v3 binary record at byte ${i} is empty (no packet type)`);
    else feed(2, rec);
    i = j + 1 + n;
  }
}

/** strict base64 (Buffer.from skips what is not base64 silently) */
function base64(s: string): Uint8Array | null {
  if (s.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  return Buffer.from(s, 'base64');
}
