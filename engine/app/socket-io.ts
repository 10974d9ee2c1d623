/**
 * Socket.IO over Engine.IO on WebSocket (Engine.IO protocol v3/v4, Socket.IO protocol v4/v5,
 * i.e. socket.io 2.x-4.x): one Engine.IO packet per WebSocket message.
 *
 *   text  "<eio type>[data]"          0 open {sid,...}, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop
 *   "4" + "<sio type>[<n>-][/nsp,][ackId][json]"   0 CONNECT ... 6 BINARY_ACK
 *   binary: an attachment of the BINARY_EVENT/BINARY_ACK waiting in that direction (v3: after a 0x04 byte)
 *
 * (github.com/socketio/engine.io-protocol and socket.io-protocol, and socket.io-parser's
 * `decodeString`.) A packet with attachments completes with its last attachment: the
 * attachment messages carry `attachment` items, the last one also the packet, whose
 * placeholders (`{"_placeholder":true,"num":N}`) become `{"$binary":LENGTH}`.
 *
 * Correlation: an EVENT with an ack id from one side is answered by the ACK with the same
 * namespace and id from the other side.
 *
 * One Engine.IO session, several connections: a session that starts with HTTP long-polling
 * (engine/http/polling.ts) spreads over its polling requests and the WebSocket that upgrades
 * it (the same `sid` in every URL), and a packet may start on one and end on another (a
 * BINARY_EVENT in a POST whose attachment goes over the WebSocket once the upgrade is done;
 * an ack over the WebSocket to an event sent by polling). So when the caller gives a capture
 * scope (`AppHints.scope`) and the URL names a `sid`, every connection of that session
 * decodes through one decoder state (`engineIoSession`), in capture order; findings go to the
 * connection whose message raised them.
 *
 * Memory: per direction at most one packet waiting for its attachments (its parsed JSON and
 * the attachments' lengths, never their bytes); the ack table (correlate.ts). The session
 * table: at most MAX_SESSIONS sids per capture scope (the oldest let go).
 */
import type { AppPacket, AppValue, Direction, MessageEvent } from '../../shared/events';
import type { ChunkMeta } from '../types';
import { PairingDecoder } from './correlate';
import { isObject, messageText, parseJson, type AppContext, type AppDecoder, type AppHints, type AppLimits, type AppProtocol, other } from './decoder';

const EIO_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
const SIO_TYPES = ['CONNECT', 'DISCONNECT', 'EVENT', 'ACK', 'CONNECT_ERROR', 'BINARY_EVENT', 'BINARY_ACK'];
/** attachments one packet may announce (socket.io itself has no limit; this bounds our list) */
const MAX_ATTACHMENTS = 1000;

interface Waiting {
  p: AppPacket;
  type: number;
  data: unknown;
  need: number;
  lengths: number[];
  /** the message that announced the packet (for the finding if it never completes) */
  from: MessageEvent;
}

class SocketIoDecoder extends PairingDecoder {
  private readonly waiting: Record<Direction, Waiting | null> = { client: null, server: null };
  /** Engine.IO v3 prefixes binary messages with the packet type byte (4) */
  private readonly v3: boolean;

  constructor(ctx: AppContext, hints: AppHints) {
    super(ctx, 'Socket.IO ack request');
    this.v3 = /[?&]EIO=3(&|$)/.test(hints.path);
  }

  message(m: MessageEvent): AppPacket[] {
    if (m.opcode === 2) return this.binary(m);
    const text = messageText(m, this.ctx.limits);
    if (text === null) return [];
    const t = text.charCodeAt(0) - 48;
    if (t < 0 || t > 6 || text.length === 0) return this.malformed(m, `Engine.IO packet type ${JSON.stringify(text.slice(0, 1))} is not 0-6`);
    // Engine.IO's own packets (ping, pong, the upgrade's probe) never reach socket.io-parser,
    // so they do not interrupt a packet waiting for its attachments; a message does
    if (t !== 4) return [this.engineIo(m, t, text.slice(1))];
    const w = this.waiting[m.dir];
    if (w !== null) {
      this.waiting[m.dir] = null;
      this.ctx.finding('subprotocol-incomplete', m, `Socket.IO ${w.p.type} announced ${w.need} binary attachments; ${w.lengths.length} came before this text message.`);
    }
    return this.socketIo(m, text.slice(1));
  }

  private engineIo(m: MessageEvent, t: number, rest: string): AppPacket {
    const p: AppPacket = { protocol: 'socket.io', type: EIO_TYPES[t] };
    if (t === 0) {
      const open = parseJson(rest);
      if (isObject(open) && typeof open.sid === 'string') p.sid = open.sid;
      else this.ctx.finding('subprotocol-malformed', m, 'Engine.IO open packet without a JSON handshake carrying a sid.');
    } else if (rest !== '') p.data = rest;
    return p;
  }

  private socketIo(m: MessageEvent, s: string): AppPacket[] {
    const t = s.charCodeAt(0) - 48;
    if (!(t >= 0 && t <= 6)) return this.malformed(m, `Socket.IO packet type ${JSON.stringify(s.slice(0, 1))} is not 0-6`);
    let i = 1;
    let attachments = 0;
    if (t === 5 || t === 6) {
      const dash = s.indexOf('-', 1);
      const n = dash > 1 ? s.slice(1, dash) : '';
      if (!/^\d{1,7}$/.test(n)) return this.malformed(m, `Socket.IO ${SIO_TYPES[t]} without its attachment count`);
      attachments = Number(n);
      i = dash + 1;
    }
    let nsp = '/';
    if (s[i] === '/') {
      const comma = s.indexOf(',', i);
      nsp = comma < 0 ? s.slice(i) : s.slice(i, comma);
      i = comma < 0 ? s.length : comma + 1;
    }
    let j = i;
    while (j < s.length && j - i < 16 && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const ackId = j > i ? Number(s.slice(i, j)) : undefined;
    let data: unknown;
    if (j < s.length) {
      data = parseJson(s.slice(j));
      if (data === undefined) return this.malformed(m, `Socket.IO ${SIO_TYPES[t]} data is not JSON`);
    }
    const p: AppPacket = { protocol: 'socket.io', type: SIO_TYPES[t], nsp };
    if (ackId !== undefined) p.ackId = ackId;
    if (attachments > 0) {
      if (attachments > MAX_ATTACHMENTS) return this.malformed(m, `Socket.IO ${SIO_TYPES[t]} announces ${attachments} attachments (more than ${MAX_ATTACHMENTS})`);
      p.attachments = attachments;
      this.waiting[m.dir] = { p, type: t, data, need: attachments, lengths: [], from: m };
      return [];
    }
    return this.complete(m, p, t, data);
  }

  /** fill in the packet's payload fields and correlate it */
  private complete(m: MessageEvent, p: AppPacket, t: number, data: unknown): AppPacket[] {
    const nsp = p.nsp as string;
    if (t === 2 || t === 5) {
      // EVENT: ["name", ...args] (socket.io-parser isPayloadValid)
      if (!Array.isArray(data) || (typeof data[0] !== 'string' && typeof data[0] !== 'number')) return this.malformed(m, `Socket.IO ${p.type} data is not an array starting with the event name`);
      p.event = String(data[0]);
      p.args = data.slice(1) as AppValue[];
      if (p.ackId !== undefined) this.pending.open(`${m.dir}|${nsp}|${p.ackId}`, m, p.event);
    } else if (t === 3 || t === 6) {
      if (!Array.isArray(data)) return this.malformed(m, `Socket.IO ${p.type} data is not an array`);
      p.args = data as AppValue[];
      if (p.ackId === undefined) return this.malformed(m, `Socket.IO ${p.type} without an ack id`);
      this.pending.reply(`${other(m.dir)}|${nsp}|${p.ackId}`, m, p);
    } else if (t === 0) {
      if (isObject(data) && typeof data.sid === 'string') p.sid = data.sid;
      else if (data !== undefined) p.data = data as AppValue;
    } else if (t === 4) {
      if (isObject(data) && typeof data.message === 'string') p.message = data.message;
      else if (typeof data === 'string') p.message = data;
      if (data !== undefined) p.data = data as AppValue;
    }
    return [p];
  }

  private binary(m: MessageEvent): AppPacket[] {
    const length = this.v3 && m.data.length > 0 ? m.data.length - 1 : m.data.length;
    const w = this.waiting[m.dir];
    if (w === null) {
      this.ctx.finding('subprotocol-malformed', m, 'Binary Socket.IO message with no BINARY_EVENT or BINARY_ACK waiting for an attachment.');
      return [{ protocol: 'socket.io', type: 'attachment', length }];
    }
    const out: AppPacket[] = [{ protocol: 'socket.io', type: 'attachment', num: w.lengths.length, length }];
    w.lengths.push(length);
    if (w.lengths.length < w.need) return out;
    this.waiting[m.dir] = null;
    out.push(...this.complete(m, w.p, w.type, fillPlaceholders(w.data, w.lengths)));
    return out;
  }

  private malformed(m: MessageEvent, why: string): AppPacket[] {
    this.ctx.finding('subprotocol-malformed', m, `${why}.`);
    return [];
  }

  override finish(meta: { ts: number; packet: number }): void {
    for (const dir of ['client', 'server'] as const) {
      const w = this.waiting[dir];
      if (w !== null) this.ctx.endFinding('subprotocol-incomplete', dir, meta, `Socket.IO ${w.p.type} (packet ${w.from.packet}) announced ${w.need} binary attachments; only ${w.lengths.length} came.`);
      this.waiting[dir] = null;
    }
    super.finish(meta);
  }
}

/** `{"_placeholder":true,"num":N}` -> `{"$binary":LENGTH}` (socket.io-parser's reconstructPacket) */
function fillPlaceholders(v: unknown, lengths: number[], depth = 0): unknown {
  if (depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => fillPlaceholders(x, lengths, depth + 1));
  if (!isObject(v)) return v;
  if (v._placeholder === true && typeof v.num === 'number' && v.num >= 0 && v.num < lengths.length) return { $binary: lengths[v.num] };
  // fromEntries defines own properties: a "__proto__" key in hostile JSON stays a plain key
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillPlaceholders(x, lengths, depth + 1)]));
}

/** Engine.IO sessions whose decoder state is kept per capture scope */
export const MAX_SESSIONS = 4096;

/** the `sid` query parameter of an Engine.IO URL, '' when none */
export function engineIoSid(target: string): string {
  if (!/[?&]EIO=\d(&|$)/.test(target)) return '';
  const m = /[?&]sid=([^&#]*)/.exec(target);
  if (m === null) return '';
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/**
 * The context of a session's shared decoder: that of the connection whose message it is
 * decoding now (`use`), so findings land on that connection.
 */
class CurrentContext implements AppContext {
  constructor(public cur: AppContext) {}
  get conn(): number {
    return this.cur.conn;
  }
  get limits(): AppLimits {
    return this.cur.limits;
  }
  get fromStart(): boolean {
    return this.cur.fromStart;
  }
  finding(...a: Parameters<AppContext['finding']>): void {
    this.cur.finding(...a);
  }
  endFinding(...a: Parameters<AppContext['endFinding']>): void {
    this.cur.endFinding(...a);
  }
}

interface Shared {
  ctx: CurrentContext;
  dec: SocketIoDecoder;
}

/** per capture scope: sid -> the session's decoder state */
const scopes = new WeakMap<object, Map<string, Shared>>();

/** One connection's view of an Engine.IO session's decoder (engineIoSession). */
export class SessionView implements AppDecoder {
  constructor(
    private readonly shared: Shared,
    private readonly ctx: AppContext,
    private readonly scope: object,
  ) {}

  message(m: MessageEvent): AppPacket[] {
    this.shared.ctx.cur = this.ctx;
    return this.shared.dec.message(m);
  }

  finish(meta: ChunkMeta): void {
    this.shared.ctx.cur = this.ctx;
    this.shared.dec.finish(meta);
  }

  /** the session's id became known (its open packet named it): later connections naming it share this state */
  name(sid: string): void {
    keep(this.scope, sid, this.shared);
  }
}

function keep(scope: object, sid: string, s: Shared): void {
  let m = scopes.get(scope);
  if (m === undefined) scopes.set(scope, (m = new Map()));
  if (m.size >= MAX_SESSIONS && !m.has(sid)) m.delete(m.keys().next().value as string);
  m.set(sid, s);
}

/**
 * Connection `ctx`'s view of Engine.IO session `sid` of capture `scope` (created when new;
 * sid '': a session not named yet, kept once `name` is called).
 */
export function engineIoSession(scope: object, sid: string, ctx: AppContext, hints: AppHints): SessionView {
  let s = sid === '' ? undefined : scopes.get(scope)?.get(sid);
  if (s === undefined) {
    const sctx = new CurrentContext(ctx);
    s = { ctx: sctx, dec: new SocketIoDecoder(sctx, hints) };
    if (sid !== '') keep(scope, sid, s);
  }
  return new SessionView(s, ctx, scope);
}

export const socketIoProtocol: AppProtocol = {
  id: 'socket.io',
  subprotocols: [],
  path: (path) => /[?&]EIO=\d(&|$)/.test(path),
  sniff(m, limits) {
    // the Engine.IO handshake: the server's first message is `0{"sid":...,"pingInterval":...}`
    if (m.dir !== 'server' || m.opcode !== 1 || m.data.length < 10 || m.data[0] !== 0x30 || m.data[1] !== 0x7b) return false;
    const text = messageText(m, limits);
    const open = text === null ? undefined : parseJson(text.slice(1));
    return isObject(open) && typeof open.sid === 'string' && typeof open.pingInterval === 'number';
  },
  create(ctx, hints) {
    const sid = hints.scope === undefined ? '' : engineIoSid(hints.path);
    return sid === '' ? new SocketIoDecoder(ctx, hints) : engineIoSession(hints.scope as object, sid, ctx, hints);
  },
};
