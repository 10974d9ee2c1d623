/**
 * STOMP 1.0-1.2 over WebSocket (stomp.github.io/stomp-specification-1.2.html): a frame is
 *
 *   COMMAND EOL *( header EOL ) EOL body NUL *( EOL )
 *
 * with the body's end given by a `content-length` header, else by the first NUL; a lone EOL
 * between frames is a heart-beat. Clients usually send one frame per message, but a frame may
 * be split over messages (stompjs's splitLargeFrames) and several may share one, so each
 * direction is a byte stream, like MQTT. Header values are unescaped as 1.2 says (`\\r`,
 * `\\n`, `\\c`, `\\\\`; not in CONNECT and CONNECTED frames); the first of repeated headers
 * wins (section "Repeated Header Entries").
 *
 * Items: `type` the command, or `HEARTBEAT`; `destination`, `headers` (all of them but
 * `passcode`), `bodyLength`. Correlation: CONNECT/STOMP -> CONNECTED or ERROR, and a client
 * frame with a `receipt` header -> the RECEIPT with that `receipt-id`.
 *
 * Memory: per direction the bytes of a frame not complete yet (a copy), at most
 * `limits.maxStreamBytes` (past it: `limit-reached`, and the stream starts over).
 */
import type { AppPacket, Direction, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import type { AppContext, AppProtocol } from './decoder';
import { decodeUtf8Lossy } from '../ws/utf8';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const MALFORMED = -1;
/** headers of one frame decoded (a frame with more is malformed) */
const MAX_HEADERS = 1000;
const COMMANDS = new Set(['CONNECT', 'STOMP', 'CONNECTED', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT', 'MESSAGE', 'RECEIPT', 'ERROR']);

class StompDecoder extends PairingDecoder {
  private readonly held: Record<Direction, Uint8Array | null> = { client: null, server: null };

  constructor(ctx: AppContext) {
    super(ctx, 'STOMP');
  }

  message(m: MessageEvent): AppPacket[] {
    const dir = m.dir;
    if (m.truncated) {
      this.held[dir] = null;
      return [];
    }
    const prev = this.held[dir];
    let buf = prev === null ? m.data : Buffer.concat([prev, m.data]);
    this.held[dir] = null;
    const out: AppPacket[] = [];
    let at = 0;
    for (;;) {
      // heart-beats: EOLs between frames (section "Heart-beating")
      let eols = at;
      while (eols < buf.length && (buf[eols] === LF || (buf[eols] === CR && buf[eols + 1] === LF))) eols += buf[eols] === CR ? 2 : 1;
      if (eols > at) out.push({ protocol: 'stomp', type: 'HEARTBEAT' });
      at = eols;
      if (at >= buf.length) break;
      const r = this.frame(m, buf, at);
      if (r === null) break;
      if (r === MALFORMED) {
        // what follows cannot be framed; the next message starts afresh
        at = buf.length;
        break;
      }
      out.push(r.p);
      at = r.end;
    }
    if (at < buf.length) {
      buf = buf.subarray(at);
      if (buf.length > this.ctx.limits.maxStreamBytes) {
        this.ctx.finding('limit-reached', m, `A STOMP frame has ${buf.length} bytes buffered without completing (limit ${this.ctx.limits.maxStreamBytes}); this direction's stream starts over.`);
      } else this.held[dir] = buf.slice();
    }
    return out;
  }

  /** Parse the frame at `at`: it and the offset after it, null = incomplete, or MALFORMED. */
  private frame(m: MessageEvent, b: Uint8Array, at: number): { p: AppPacket; end: number } | null | typeof MALFORMED {
    const lines: string[] = [];
    let i = at;
    for (;;) {
      const nl = b.indexOf(LF, i);
      if (nl < 0) return null;
      const end = nl > i && b[nl - 1] === CR ? nl - 1 : nl;
      if (end === i) {
        i = nl + 1;
        break;
      }
      if (lines.length > MAX_HEADERS) return this.bad(m, `a frame with more than ${MAX_HEADERS} headers`);
      lines.push(decodeUtf8Lossy(b.subarray(i, end)));
      i = nl + 1;
    }
    const command = lines[0];
    if (!COMMANDS.has(command)) return this.bad(m, `unknown command ${JSON.stringify(command.slice(0, 40))}`);
    const raw = command !== 'CONNECT' && command !== 'CONNECTED';
    const headers: Record<string, string> = {};
    for (let k = 1; k < lines.length; k++) {
      const colon = lines[k].indexOf(':');
      if (colon < 0) return this.bad(m, `a header line without a colon in ${command}`);
      const name = raw ? unescape(lines[k].slice(0, colon)) : lines[k].slice(0, colon);
      if (name in headers) continue;
      headers[name] = raw ? unescape(lines[k].slice(colon + 1)) : lines[k].slice(colon + 1);
    }
    let bodyEnd: number;
    const cl = headers['content-length'];
    if (cl !== undefined) {
      if (!/^\d{1,10}$/.test(cl)) return this.bad(m, `content-length ${JSON.stringify(cl)} is not a number`);
      bodyEnd = i + Number(cl);
      if (bodyEnd >= b.length) return null;
      if (b[bodyEnd] !== NUL) return this.bad(m, `the ${cl}-byte body of ${command} is not followed by NUL`);
    } else {
      bodyEnd = b.indexOf(NUL, i);
      if (bodyEnd < 0) return null;
    }
    const p: AppPacket = { protocol: 'stomp', type: command };
    if (headers.destination !== undefined) p.destination = headers.destination;
    const shown: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(headers)) if (k !== 'passcode') shown[k] = v;
    p.headers = shown;
    p.bodyLength = bodyEnd - i;
    this.correlate(m, p, headers);
    return { p, end: bodyEnd + 1 };
  }

  private correlate(m: MessageEvent, p: AppPacket, h: Record<string, string>): void {
    const t = p.type;
    if (t === 'CONNECT' || t === 'STOMP') this.pending.open('client|connect', m, t);
    else if (t === 'CONNECTED') this.pending.reply('client|connect', m, p);
    else if (t === 'ERROR') {
      // an ERROR answers the connection attempt, or a frame's receipt request
      if (h['receipt-id'] !== undefined) this.pending.reply(`client|receipt|${h['receipt-id']}`, m, p, false, true);
      else this.pending.reply('client|connect', m, p, false, true);
    } else if (t === 'RECEIPT') this.pending.reply(`client|receipt|${h['receipt-id'] ?? ''}`, m, p);
    if (m.dir === 'client' && h.receipt !== undefined) this.pending.open(`client|receipt|${h.receipt}`, m, `${t} receipt`);
  }

  private bad(m: MessageEvent, why: string): typeof MALFORMED {
    this.ctx.finding('subprotocol-malformed', m, `Malformed STOMP frame: ${why}.`);
    return MALFORMED;
  }

  override finish(meta: { ts: number; packet: number }): void {
    for (const dir of ['client', 'server'] as const) {
      const h = this.held[dir];
      if (h !== null) this.ctx.endFinding('subprotocol-incomplete', dir, meta, `${h.length} bytes of a STOMP frame never completed.`);
      this.held[dir] = null;
    }
    super.finish(meta);
  }
}

/** STOMP 1.2 header escapes ("Value Encoding"); an undefined escape is kept as it is */
function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([rnc\\])/g, (_, c: string) => (c === 'r' ? '\r' : c === 'n' ? '\n' : c === 'c' ? ':' : '\\'));
}

export const stompProtocol: AppProtocol = {
  id: 'stomp',
  subprotocols: ['v10.stomp', 'v11.stomp', 'v12.stomp', 'stomp'],
  sniff(m) {
    // the client's first frame: CONNECT or STOMP, then EOL
    if (m.dir !== 'client' || m.data.length < 8) return false;
    const head = decodeUtf8Lossy(m.data.subarray(0, 9));
    return /^(CONNECT|STOMP)\r?\n/.test(head);
  },
  create: (ctx) => new StompDecoder(ctx),
};
