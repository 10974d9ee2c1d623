/**
 * HTTP/2 (RFC 9113) as a stream-stack layer (engine/stack/layer.ts), for what it carries:
 * WebSockets bootstrapped by extended CONNECT (RFC 8441), each decoded as a connection of its
 * own, and plain requests, listed (`http2-request`: method, path, status, DATA bytes) and not
 * decoded further; server pushes (PUSH_PROMISE) are listed the same way, marked `pushed`.
 *
 *   client bytes -> FrameReader -> frames -> HPACK (per direction) -> streams
 *   server bytes -> FrameReader -/            stream DATA -> carried connection -> websocket
 *
 * Each WebSocket stream gets a carried connection (LayerContext.openConnection): its own id
 * from the pipeline, a `connection` event with the TCP endpoints, `http2: true` and
 * `h2Stream`, its own stack. Its `handshake` event is made here from the header fields
 * (`:status` 200 accepts; RFC 8441 section 5: no key, no accept); on 200 the carried stack's
 * `websocket` layer is opened with the negotiated extensions and both directions handed to
 * it, so the stream's DATA payloads go straight into the RFC 6455 frame decoder (WebSocket
 * frames may span DATA frames). END_STREAM ends a direction; RST_STREAM ends the sender's
 * direction at once and the stream when the peer's direction ends (DATA the peer sent
 * before the reset reached it is decoded; DATA the resetting side sends is a finding).
 *
 * Made by detection (the client preface, RFC 9113 section 3.4: h2c with prior knowledge, on
 * any port; or a server that starts with a SETTINGS frame) or as a child: a TLS layer whose
 * ALPN chose "h2" opens `openChild('http2', { preface: true })` and hands its plaintext
 * directions over, as HTTP/1.1 does with WebSocket. It claims its connection.
 *
 * Findings: see shared/findings.ts, the h2-* group. A direction whose framing breaks, or
 * that loses bytes (a TCP gap), stops: HTTP/2 cannot find the next frame, and lost header
 * blocks would desynchronise HPACK.
 *
 * Memory (bounds): a frame is buffered only when it spans chunks, up to the FrameReader's cap
 * (1 MiB); a header block across CONTINUATION frames up to 256 KiB; at most 1,024 streams
 * tracked at once (more are not followed, said once) and the ids of the last 1,024 reset
 * streams; a WebSocket stream's DATA sent before its response, up to 1 MiB (copied).
 */
import type { Direction, HandshakeEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import { keepMeta, type ChunkMeta } from '../types';
import { parseExtensions } from '../http/extensions';
import { headerValue } from '../http/head';
import { checkNegotiation } from '../http/upgrade';
import { DETECT_MORE, DETECT_NO, type ByteStream, type CarriedConnection, type EndReason, type Layer, type LayerContext, type ProtocolModule } from '../stack/layer';
import type { WebSocketInit } from '../ws/ws-layer';
import { CONTINUATION, DATA, END_HEADERS, END_STREAM, FrameReader, frameTypeName, GOAWAY, HEADERS, headerBlockOf, PREFACE, PUSH_PROMISE, RST_STREAM, SETTINGS, ACK, u32, type FrameSink, type H2Frame } from './frames';
import { HpackDecoder, type HeaderList } from './hpack';

/** What a parent hands `openChild('http2', init)`. */
export interface Http2Init {
  /** the client direction starts with the connection preface (always, for h2 and h2c) */
  preface: boolean;
  /**
   * After an HTTP/1.1 `Upgrade: h2c` (RFC 7540 section 3.2): the request that was upgraded.
   * It is stream 1, half-closed from the client; its response comes on stream 1.
   */
  upgraded?: { method: string; path: string; host: string; meta: ChunkMeta };
}

const BLOCK_MAX = 256 * 1024;
const STREAMS_MAX = 1024;
const RESETS_MAX = 1024;
const EARLY_MAX = 1 << 20;

/** RFC 9113 section 6.5.2 setting identifiers */
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const SETTINGS_MAX_FRAME_SIZE = 0x5;
/** RFC 8441 section 3 */
const SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x8;

/** RFC 9113 section 6.5.2 and RFC 8441 section 3 / RFC 9218 section 2.1 setting names, by identifier */
const SETTING_NAMES = ['', 'HEADER_TABLE_SIZE', 'ENABLE_PUSH', 'MAX_CONCURRENT_STREAMS', 'INITIAL_WINDOW_SIZE', 'MAX_FRAME_SIZE', 'MAX_HEADER_LIST_SIZE', '', 'ENABLE_CONNECT_PROTOCOL', 'NO_RFC7540_PRIORITIES'];
/** distinct settings remembered per side (for the handshake pane) */
const SETTINGS_KEPT = 32;

/** RFC 9113 section 8.2.2 (connection-specific fields), RFC 8441 section 5 (no key in HTTP/2) */
const FORBIDDEN = ['connection', 'upgrade', 'sec-websocket-key', 'keep-alive', 'proxy-connection', 'transfer-encoding'];

interface Early {
  bytes: Uint8Array;
  meta: ChunkMeta;
}

interface H2Stream {
  id: number;
  req: HeaderList;
  reqBytes: number;
  method: string;
  path: string;
  host: string;
  status: number;
  /** DATA payload bytes each way */
  up: number;
  down: number;
  clientDone: boolean;
  serverDone: boolean;
  /**
   * the side that sent RST_STREAM on an open WebSocket stream: its direction is over, the
   * other side's DATA sent before the reset reached it is still in flight and decoded
   */
  resetBy: Direction | null;
  /** promised by the server (PUSH_PROMISE) */
  pushed: boolean;
  /** a WebSocket (extended CONNECT, :protocol websocket): its carried connection */
  ws: CarriedConnection | null;
  /** the WebSocket was accepted (:status 200) and its layer is on the carried connection */
  open: boolean;
  early: Early[];
  earlyBytes: number;
  /** the packet of the stream's last frame (its http2-request event's packet) */
  lastPacket: number;
}

/** a header block being gathered (HEADERS or PUSH_PROMISE, then CONTINUATION frames) */
interface Block {
  type: number;
  stream: number;
  /** PUSH_PROMISE: the promised stream (RFC 9113 section 6.6) */
  promised: number;
  endStream: boolean;
  parts: Uint8Array[];
  bytes: number;
}

class H2Direction implements ByteStream, FrameSink {
  readonly reader: FrameReader;
  readonly hpack = new HpackDecoder();
  block: Block | null = null;
  /** the peer's SETTINGS_MAX_FRAME_SIZE: what this direction may send (RFC 9113 section 6.5.2) */
  maxFrame = 16384;
  /** a frame over maxFrame was reported */
  saidFrameSize = false;
  /** the settings this side sent, latest value per identifier, in first-sent order (at most SETTINGS_KEPT) */
  readonly settings = new Map<number, number>();
  /** the loss of this direction's HPACK state was reported */
  hpackLost = false;

  constructor(
    private readonly layer: Http2Layer,
    readonly dir: Direction,
    preface: boolean,
  ) {
    this.reader = new FrameReader(this, preface);
  }

  push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (this.reader.dead) return;
    if (skip !== 0) {
      this.reader.stop();
      this.layer.ctx.finding('tcp-gap', this.dir, meta, `${skip > 0 ? `${skip} bytes` : 'The start'} of this HTTP/2 direction ${skip > 0 ? 'were' : 'was'} not captured; the rest of it is not decoded (frames and HPACK state cannot be recovered).`);
      return;
    }
    this.reader.push(bytes, meta);
  }

  end(reason: EndReason, meta: ChunkMeta): void {
    this.layer.dirEnded(this, reason, meta);
  }

  frame(f: H2Frame, meta: ChunkMeta): void {
    this.layer.frame(this, f, meta);
  }

  oversized(type: number, _flags: number, stream: number, length: number, meta: ChunkMeta): void {
    this.layer.oversized(this, type, stream, length, meta);
  }

  broken(text: string, meta: ChunkMeta): void {
    this.layer.ctx.finding('h2-frame-error', this.dir, meta, `${text} The rest of this direction is not decoded.`);
  }
}

export class Http2Layer implements Layer {
  readonly client: H2Direction;
  readonly server: H2Direction;
  private readonly streams = new Map<number, H2Stream>();
  /** recently reset streams: id -> the side that sent RST_STREAM */
  private readonly resets = new Map<number, Direction>();
  /** the server's SETTINGS_ENABLE_CONNECT_PROTOCOL; null before the server's SETTINGS */
  private connectProtocol: boolean | null = null;
  private saidStreams = false;

  constructor(
    readonly ctx: LayerContext,
    init: Http2Init | undefined,
  ) {
    this.client = new H2Direction(this, 'client', init?.preface ?? true);
    this.server = new H2Direction(this, 'server', false);
    const u = init?.upgraded;
    if (u) {
      const s = this.newStream(1, [], 0, u.method, u.meta);
      s.path = u.path;
      s.host = u.host;
      s.clientDone = true;
      this.streams.set(1, s);
    }
  }

  open(dir: Direction): ByteStream {
    return dir === 'client' ? this.client : this.server;
  }

  finish(meta: ChunkMeta): void {
    for (const s of this.streams.values()) this.done(s, s.resetBy === null ? 'eof' : 'rst', meta);
    this.streams.clear();
  }

  dirEnded(d: H2Direction, reason: EndReason, meta: ChunkMeta): void {
    d.reader.stop();
    // the TCP direction is over: so is every stream's direction it carried
    for (const s of this.streams.values()) {
      if (d.dir === 'client') s.clientDone = true;
      else s.serverDone = true;
      s.ws?.[d.dir].end(reason, meta);
    }
  }

  frame(d: H2Direction, f: H2Frame, meta: ChunkMeta): void {
    if (f.length > d.maxFrame && !d.saidFrameSize) {
      d.saidFrameSize = true;
      this.ctx.finding('h2-frame-error', d.dir, meta, `A ${f.length}-byte ${frameTypeName(f.type)} frame is larger than the ${d.maxFrame} bytes the peer allows (SETTINGS_MAX_FRAME_SIZE, RFC 9113 section 4.2); decoded anyway.`);
    }
    const b = d.block;
    // RFC 9113 section 6.10: a header block's CONTINUATION frames follow it with nothing between
    if (b !== null && (f.type !== CONTINUATION || f.stream !== b.stream)) {
      this.ctx.finding('h2-frame-error', d.dir, meta, `A ${frameTypeName(f.type)} frame came in the middle of stream ${b.stream}'s header block (RFC 9113 section 6.10); the block is lost.`);
      d.block = null;
      this.hpackLost(d, 'a header block was cut off', meta);
    }
    switch (f.type) {
      case DATA:
        return this.data(d, f, meta);
      case HEADERS:
      case PUSH_PROMISE: {
        const frag = headerBlockOf(f);
        if (frag === null) {
          this.ctx.finding('h2-frame-error', d.dir, meta, `A ${frameTypeName(f.type)} frame on stream ${f.stream} is too short for its fields.`);
          return this.hpackLost(d, 'a header block could not be read', meta);
        }
        const promised = f.type === PUSH_PROMISE ? u32(f.payload, 0) & 0x7fffffff : 0;
        d.block = { type: f.type, stream: f.stream, promised, endStream: f.type === HEADERS && (f.flags & END_STREAM) !== 0, parts: [], bytes: 0 };
        return this.fragment(d, frag, f.flags, meta);
      }
      case CONTINUATION:
        if (b === null) {
          this.ctx.finding('h2-frame-error', d.dir, meta, `A CONTINUATION frame on stream ${f.stream} continues no header block (RFC 9113 section 6.10).`);
          return;
        }
        return this.fragment(d, f.payload, f.flags, meta);
      case RST_STREAM:
        return this.reset(d, f.stream, meta);
      case SETTINGS:
        if ((f.flags & ACK) === 0) this.settings(d, f.payload, meta);
        return;
      case GOAWAY:
      default:
        // PRIORITY, PING, WINDOW_UPDATE, GOAWAY: nothing a WebSocket needs; unknown types are
        // ignored (RFC 9113 section 4.1)
        return;
    }
  }

  oversized(d: H2Direction, type: number, stream: number, length: number, meta: ChunkMeta): void {
    this.ctx.finding('limit-reached', d.dir, meta, `A ${length}-byte ${frameTypeName(type)} frame on stream ${stream} is over the 1 MiB this decoder buffers; it was skipped.`);
    if (type === HEADERS || type === PUSH_PROMISE || type === CONTINUATION) {
      d.block = null;
      this.hpackLost(d, 'a header block was too large to keep', meta);
    }
    const s = this.streams.get(stream);
    if (type === DATA && s !== undefined) {
      if (d.dir === 'client') s.up += length;
      else s.down += length;
      // the WebSocket lost these bytes (padding counted with them: the frame was not read)
      if (s.open && s.ws) s.ws[d.dir].push(new Uint8Array(0), length, meta);
    }
  }

  private fragment(d: H2Direction, frag: Uint8Array, flags: number, meta: ChunkMeta): void {
    const b = d.block!;
    if (b.bytes + frag.length > BLOCK_MAX) {
      d.block = null;
      this.ctx.finding('limit-reached', d.dir, meta, `Stream ${b.stream}'s header block is over ${BLOCK_MAX} bytes; it was not kept.`);
      return this.hpackLost(d, 'a header block was too large to keep', meta);
    }
    // a frame's payload is a view valid during the call: copy what waits for CONTINUATION
    b.parts.push((flags & END_HEADERS) !== 0 && b.parts.length === 0 ? frag : new Uint8Array(frag));
    b.bytes += frag.length;
    if ((flags & END_HEADERS) === 0) return;
    d.block = null;
    if (d.hpack.failed) return;
    const block = b.parts.length === 1 ? b.parts[0] : Buffer.concat(b.parts, b.bytes);
    const fields = d.hpack.decode(block);
    if (typeof fields === 'string') return this.hpackLost(d, fields, meta);
    if (b.type === HEADERS) this.headers(d, b.stream, fields, b.bytes, b.endStream, meta);
    else if (d.dir === 'server') this.promise(b.promised, fields, b.bytes, meta);
  }

  /**
   * A server push (RFC 9113 section 8.4): the PUSH_PROMISE carries the request the server
   * answers on the promised (even) stream, which the client never sends on. Listed like a
   * request when its response ends (`pushed`); a WebSocket cannot be pushed (RFC 9113
   * section 8.4: only safe, cacheable methods).
   */
  private promise(id: number, fields: HeaderList, bytes: number, meta: ChunkMeta): void {
    if (id === 0 || this.streams.has(id)) return;
    if (this.streams.size >= STREAMS_MAX) {
      if (!this.saidStreams) this.ctx.finding('limit-reached', 'server', meta, `Over ${STREAMS_MAX} HTTP/2 streams open at once; pushed stream ${id} and later new streams are not followed.`);
      this.saidStreams = true;
      return;
    }
    const s = this.newStream(id, fields, bytes, headerValue(fields, ':method') ?? '', meta);
    s.clientDone = true;
    s.pushed = true;
    this.streams.set(id, s);
  }

  /** HPACK state of a direction is gone (RFC 9113 section 4.3: a connection error for the peers) */
  private hpackLost(d: H2Direction, why: string, meta: ChunkMeta): void {
    d.hpack.failed = true;
    if (d.hpackLost) return;
    d.hpackLost = true;
    this.ctx.finding('h2-hpack-failed', d.dir, meta, `HPACK decoding of the ${d.dir} direction failed (${why}): this connection's header state is lost, so later header blocks of this direction are not decoded; DATA of the streams already known is still decoded.`);
  }

  private settings(d: H2Direction, p: Uint8Array, meta: ChunkMeta): void {
    const other = d.dir === 'client' ? this.server : this.client;
    for (let i = 0; i + 6 <= p.length; i += 6) {
      const id = (p[i] << 8) | p[i + 1];
      const v = u32(p, i + 2);
      if (d.settings.has(id) || d.settings.size < SETTINGS_KEPT) d.settings.set(id, v);
      // what one side sets, the other side's sending obeys
      if (id === SETTINGS_HEADER_TABLE_SIZE) other.hpack.allow(v);
      else if (id === SETTINGS_MAX_FRAME_SIZE) other.maxFrame = v;
      else if (id === SETTINGS_ENABLE_CONNECT_PROTOCOL && d.dir === 'server') this.connectProtocol = v === 1;
    }
    if (d.dir === 'server' && this.connectProtocol === null) this.connectProtocol = false;
    if (p.length % 6 !== 0) this.ctx.finding('h2-frame-error', d.dir, meta, `A SETTINGS frame of ${p.length} bytes is not a multiple of 6 (RFC 9113 section 6.5).`);
  }

  private headers(d: H2Direction, id: number, fields: HeaderList, bytes: number, endStream: boolean, meta: ChunkMeta): void {
    let s = this.streams.get(id);
    if (d.dir === 'client') {
      if (s === undefined) {
        s = this.request(id, fields, bytes, meta);
        if (s === undefined) return;
      }
      if (endStream) this.endDir(s, 'client', meta);
      return;
    }
    if (s === undefined) return;
    s.lastPacket = meta.packet;
    if (s.status === 0) {
      const status = Number(headerValue(fields, ':status') ?? '0');
      // RFC 9113 section 8.1: 1xx responses come before the final one
      if (status >= 100 && status < 200) return;
      s.status = Number.isSafeInteger(status) ? status : 0;
      this.forbidden(fields, 'server', s.ws?.ctx ?? this.ctx, meta);
      if (s.ws) this.answer(s, fields, bytes, meta);
    }
    if (endStream) this.endDir(s, 'server', meta);
  }

  /** A new stream's request header fields. */
  private request(id: number, fields: HeaderList, bytes: number, meta: ChunkMeta): H2Stream | undefined {
    if (this.streams.size >= STREAMS_MAX) {
      if (!this.saidStreams) this.ctx.finding('limit-reached', 'client', meta, `Over ${STREAMS_MAX} HTTP/2 streams open at once; stream ${id} and later new streams are not followed.`);
      this.saidStreams = true;
      return undefined;
    }
    const method = headerValue(fields, ':method') ?? '';
    const protocol = headerValue(fields, ':protocol');
    const s = this.newStream(id, fields, bytes, method, meta);
    this.streams.set(id, s);
    if (protocol !== undefined && protocol.toLowerCase() === 'websocket' && method === 'CONNECT') {
      s.ws = this.ctx.openConnection({ http2: true, h2Stream: id }, meta);
    }
    const at = s.ws?.ctx ?? this.ctx;
    if (protocol !== undefined && method !== 'CONNECT') {
      at.finding('h2-protocol-without-connect', 'client', meta, `Stream ${id} carries :protocol ${JSON.stringify(protocol)} on a ${method || 'method-less'} request; RFC 8441 section 4 allows it on CONNECT only.`);
    }
    if (protocol !== undefined && method === 'CONNECT' && this.connectProtocol !== true) {
      at.finding(
        'h2-connect-without-setting',
        'client',
        meta,
        this.connectProtocol === null
          ? `Stream ${id} opens an extended CONNECT (:protocol ${JSON.stringify(protocol)}) before the server's SETTINGS were seen; RFC 8441 section 4 requires SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 first.`
          : `Stream ${id} opens an extended CONNECT (:protocol ${JSON.stringify(protocol)}) although the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 section 4).`,
      );
    }
    this.forbidden(fields, 'client', at, meta);
    return s;
  }

  private newStream(id: number, req: HeaderList, reqBytes: number, method: string, meta: ChunkMeta): H2Stream {
    return {
      id,
      req,
      reqBytes,
      method,
      path: headerValue(req, ':path') ?? '',
      host: headerValue(req, ':authority') ?? headerValue(req, 'host') ?? '',
      status: 0,
      up: 0,
      down: 0,
      clientDone: false,
      serverDone: false,
      resetBy: null,
      pushed: false,
      ws: null,
      open: false,
      early: [],
      earlyBytes: 0,
      lastPacket: meta.packet,
    };
  }

  private forbidden(fields: HeaderList, dir: Direction, at: LayerContext, meta: ChunkMeta): void {
    for (const [name] of fields) {
      if (!FORBIDDEN.includes(name.toLowerCase())) continue;
      at.finding('h2-forbidden-header', dir, meta, `The ${dir === 'client' ? 'request' : 'response'} carries a ${name} header field, which HTTP/2 does not allow (RFC 9113 section 8.2.2${name === 'sec-websocket-key' ? '; RFC 8441 section 5: no key in HTTP/2' : ''}).`);
    }
  }

  /** the response to an extended CONNECT: the handshake, and the WebSocket when 200 */
  private answer(s: H2Stream, rs: HeaderList, bytes: number, meta: ChunkMeta): void {
    const ws = s.ws!;
    const findings: Array<[FindingId, string]> = [];
    const add = (id: FindingId, text: string): void => {
      findings.push([id, text]);
    };
    const accepted = s.status === 200;
    const deflate = accepted ? checkNegotiation(s.req, rs, true, add) : null;
    if (!accepted) add('h2-connect-rejected', `The server answered the extended CONNECT on stream ${s.id} with :status ${s.status}; no WebSocket was opened.`);
    const ev = handshakeEvent(s, ws.ctx.conn, rs, bytes, meta);
    ev.h2Settings = this.settingsSeen();
    if (accepted && deflate) ev.deflate = deflate;
    ws.ctx.emit(ev);
    for (const [id, text] of findings) ws.ctx.finding(id, 'server', meta, text);
    if (!accepted) {
      s.early = [];
      return;
    }
    const init: WebSocketInit = {
      mode: deflate ? 'negotiated' : 'none',
      deflate,
      foreignExtensions: parseExtensions(ev.extensions)
        .map((e) => e.name)
        .filter((n) => n !== 'permessage-deflate'),
      protocol: ev.protocol,
    };
    const layer = ws.ctx.openChild('websocket', init, meta);
    for (const dir of ['client', 'server'] as const) ws.ctx.handOff(layer, dir, layer.open(dir, false), 'websocket');
    s.open = true;
    for (const e of s.early) ws.client.push(e.bytes, 0, e.meta);
    s.early = [];
    if (s.clientDone) ws.client.end('fin', meta);
  }

  private data(d: H2Direction, f: H2Frame, meta: ChunkMeta): void {
    const s = this.streams.get(f.stream);
    if (s === undefined || s.resetBy === d.dir) {
      const by = s?.resetBy ?? this.resets.get(f.stream);
      if (by === d.dir) this.ctx.finding('h2-data-after-reset', d.dir, meta, `DATA (${f.payload.length} bytes) on stream ${f.stream}, which this side had reset with RST_STREAM (RFC 9113 section 5.1: a closed stream).`);
      return;
    }
    s.lastPacket = meta.packet;
    if (d.dir === 'client') s.up += f.payload.length;
    else s.down += f.payload.length;
    const ws = s.ws;
    if (ws !== null) {
      if (s.open) ws[d.dir].push(f.payload, 0, meta);
      else if (d.dir === 'client' && s.status === 0) this.early(s, f.payload, meta);
    }
    if ((f.flags & END_STREAM) !== 0) this.endDir(s, d.dir, meta);
  }

  /** the client's WebSocket bytes before the response: held until it accepts */
  private early(s: H2Stream, payload: Uint8Array, meta: ChunkMeta): void {
    if (s.earlyBytes + payload.length > EARLY_MAX) {
      if (s.earlyBytes <= EARLY_MAX) this.ctx.finding('limit-reached', 'client', meta, `Over ${EARLY_MAX} bytes sent on stream ${s.id} before its response; the rest is not kept.`);
      s.earlyBytes = EARLY_MAX + 1;
      return;
    }
    s.earlyBytes += payload.length;
    s.early.push({ bytes: new Uint8Array(payload), meta: keepMeta(meta) });
  }

  private endDir(s: H2Stream, dir: Direction, meta: ChunkMeta): void {
    if (dir === 'client') s.clientDone = true;
    else s.serverDone = true;
    if (s.open) s.ws![dir].end('fin', meta);
    if (s.clientDone && s.serverDone) {
      this.streams.delete(s.id);
      this.done(s, s.resetBy === null ? 'fin' : 'rst', meta);
    }
  }

  private reset(d: H2Direction, id: number, meta: ChunkMeta): void {
    if (id === 0) return;
    if (this.resets.size >= RESETS_MAX) this.resets.delete(this.resets.keys().next().value!);
    this.resets.set(id, d.dir);
    const s = this.streams.get(id);
    if (s === undefined) return;
    s.lastPacket = meta.packet;
    const other = d.dir === 'client' ? 'server' : 'client';
    const otherDone = other === 'client' ? s.clientDone : s.serverDone;
    if (s.open && s.resetBy === null && !otherDone) {
      // RFC 9113 section 5.1 / 6.4: RST_STREAM closes the stream for its sender at once, but
      // the peer learns of it one trip later: what the peer sent meanwhile is on the wire,
      // sent legitimately, and decoded. The resetting side's direction ends here; the stream
      // ends when the peer's direction does (its own END_STREAM or RST_STREAM, or the TCP
      // connection's end). It stays counted among the streams tracked (STREAMS_MAX).
      s.resetBy = d.dir;
      if (d.dir === 'client') s.clientDone = true;
      else s.serverDone = true;
      s.ws![d.dir].end('rst', meta);
      return;
    }
    this.streams.delete(id);
    this.done(s, 'rst', meta);
  }

  /** the stream is over: its carried connection closes, or the request is listed */
  private done(s: H2Stream, reason: EndReason, meta: ChunkMeta): void {
    if (s.ws !== null) {
      // no answer captured: the handshake is still shown
      if (s.status === 0) this.answerMissing(s, meta);
      s.ws.close(reason, meta);
      return;
    }
    this.ctx.emit({
      type: 'http2-request',
      conn: this.ctx.conn,
      stream: s.id,
      ts: meta.ts,
      packet: s.lastPacket,
      method: s.method,
      path: s.path,
      host: s.host,
      status: s.status,
      requestBytes: s.up,
      responseBytes: s.down,
      reset: reason === 'rst',
      ...(s.pushed ? { pushed: true as const } : {}),
    });
  }

  private answerMissing(s: H2Stream, meta: ChunkMeta): void {
    const ws = s.ws!;
    ws.ctx.emit({ ...handshakeEvent(s, ws.ctx.conn, null, 0, meta), h2Settings: this.settingsSeen() });
  }

  /** both sides' SETTINGS so far, named (for the handshake pane: what allowed the extended CONNECT) */
  private settingsSeen(): { client: Array<[string, number]>; server: Array<[string, number]> } {
    const named = (m: Map<number, number>): Array<[string, number]> => [...m].map(([id, v]) => [SETTING_NAMES[id] || `0x${id.toString(16).padStart(4, '0')}`, v]);
    return { client: named(this.client.settings), server: named(this.server.settings) };
  }
}

/** The handshake event of an extended CONNECT (RFC 8441 section 5): no key, no accept; `rs` null = no answer. */
function handshakeEvent(s: H2Stream, conn: number, rs: HeaderList | null, responseBytes: number, meta: ChunkMeta): HandshakeEvent {
  const res = rs ?? [];
  return {
    type: 'handshake',
    conn,
    ts: meta.ts,
    packet: meta.packet,
    method: s.method,
    path: s.path,
    host: s.host,
    status: s.status,
    statusText: '',
    key: '',
    accept: '',
    expectedAccept: '',
    acceptValid: false,
    version: headerValue(s.req, 'sec-websocket-version') ?? '',
    origin: headerValue(s.req, 'origin') ?? '',
    protocol: headerValue(res, 'sec-websocket-protocol') ?? '',
    requestedProtocols: headerValue(s.req, 'sec-websocket-protocol') ?? '',
    extensions: headerValue(res, 'sec-websocket-extensions') ?? '',
    requestedExtensions: headerValue(s.req, 'sec-websocket-extensions') ?? '',
    websocket: s.status === 200,
    requestHeaders: s.req,
    responseHeaders: res,
    requestLine: `CONNECT ${s.path} (HTTP/2 stream ${s.id}, :protocol websocket)`,
    statusLine: rs ? `:status ${s.status}` : '',
    requestBytes: s.reqBytes,
    responseBytes,
    http2: true,
  };
}

/**
 * The server's first frame is SETTINGS without ACK on stream 0 (RFC 9113 section 3.4): the
 * header 00 00 LL 04 00 00 00 00 00 with LL a multiple of 6 from 6 to 60 (servers send 2..6
 * settings; an empty SETTINGS, nine bytes of little but zeros, is too weak a sign), then LL/6
 * settings whose identifiers are registered ones (0x1..0x10; RFC 9113 section 6.5.2, RFC 8441
 * section 3). Holds at most 69 bytes while it waits.
 */
function serverSettingsStart(b: Uint8Array): number {
  const head = [0, 0, -1, 4, 0, 0, 0, 0, 0];
  for (let i = 0; i < head.length && i < b.length; i++) {
    if (head[i] >= 0 && b[i] !== head[i]) return DETECT_NO;
    if (i === 2 && (b[2] === 0 || b[2] % 6 !== 0 || b[2] > 60)) return DETECT_NO;
  }
  if (b.length < 9 + (b.length >= 3 ? b[2] : 60)) return DETECT_MORE;
  for (let at = 9; at < 9 + b[2]; at += 6) {
    const id = (b[at] << 8) | b[at + 1];
    if (id === 0 || id > 0x10) return DETECT_NO;
  }
  return 0;
}

export const http2Module: ProtocolModule = {
  id: 'http2',
  claimsConnection: true,
  detect(bytes, dir, view) {
    if (view.midStream) return DETECT_NO;
    if (dir === 'server') return serverSettingsStart(bytes);
    // RFC 9113 section 3.4: h2c with prior knowledge starts with the preface, on any port
    const n = Math.min(bytes.length, PREFACE.length);
    for (let i = 0; i < n; i++) if (bytes[i] !== PREFACE[i]) return DETECT_NO;
    return n < PREFACE.length ? DETECT_MORE : 0;
  },
  create: (ctx, init) => new Http2Layer(ctx, init as Http2Init | undefined),
};
