/**
 * One TCP connection seen by the inspector: HTTP/1.1 until a WebSocket upgrade is accepted,
 * then WebSocket frames in both directions (RFC 6455 sections 4 and 5). Fed by the pipeline's
 * per-direction reassembly (StreamSink semantics: `skip` 0 = contiguous, N > 0 = N bytes lost,
 * -1 = start of stream not seen); emits HandshakeEvent, FrameEvent, MessageEvent and
 * FindingEvent to `emit`, synchronously, in stream order. Never throws.
 *
 * Without a handshake (mid-stream pickup, a configured WebSocket port, or the heuristic) the
 * frames are decoded anyway; a `no-handshake` finding says so.
 *
 * Memory: `bytes` passed to `data` are only read during the call. Head bytes, bytes a client
 * sends while its upgrade is unanswered (bounded), and payloads are copied; events own their
 * buffers.
 */
import type { Direction, EventSink } from '../../shared/events';
import { FINDINGS, type FindingId } from '../../shared/findings';
import type { ChunkMeta } from '../types';
import { BodySkipper } from '../http/body';
import { parseExtensions } from '../http/extensions';
import { HeadReader, headerTokens, headerValue, looksLikeHttpStart } from '../http/head';
import {
  buildHandshake,
  checkRequest,
  isWebSocketUpgrade,
  toRequest,
  toResponse,
  type HandshakeFinding,
  type UpgradeRequest,
} from '../http/upgrade';
import { MessageAssembler, type WsShared } from './assembler';
import { copyOf, FrameDecoder } from './frame-decoder';
import { looksLikeWebSocketStart, payloadLengthAt, plausibleHeaderAt, type Expectation } from './plausible';
import { unmask } from './unmask';
import { validUtf8 } from './utf8';
import { DEFAULT_SESSION_OPTIONS, type Counters, type SessionOptions } from './options';

export { DEFAULT_SESSION_OPTIONS, type Counters, type SessionOptions };
export { looksLikeWebSocketStart };

/** findings of one id listed per connection before they are only counted */
const FINDINGS_PER_ID = 20;
/** bytes a client may send after its upgrade request before the answer is seen */
const AWAIT_MAX = 8 * 1024 * 1024;
/** bytes looked at to decide what an unknown stream is */
const DETECT_MAX = 64 * 1024;

type Mode = 'undecided' | 'http' | 'await' | 'ws' | 'other';

interface Stashed {
  bytes: Uint8Array;
  skip: number;
  meta: ChunkMeta;
}

interface DirState {
  mode: Mode;
  /** bytes held while deciding what the stream is */
  pre: Uint8Array | null;
  preSkip: number;
  seen: number;
  head: HeadReader;
  body: BodySkipper;
  decoder: FrameDecoder | null;
  /** first chunk of this direction had skip -1 */
  midStream: boolean;
  ended: boolean;
  endWhileAwait: { reason: 'fin' | 'rst' | 'eof'; meta: ChunkMeta } | null;
  stash: Stashed[];
  stashBytes: number;
  stashDropped: number;
  gotData: boolean;
  /** examined from the stream's first byte and found to be neither HTTP nor WebSocket */
  notWs: boolean;
}

interface Pending {
  req: UpgradeRequest;
  upgrade: boolean;
  method: string;
}

function newDir(): DirState {
  return {
    mode: 'undecided',
    pre: null,
    preSkip: 0,
    seen: 0,
    head: new HeadReader(),
    body: new BodySkipper(),
    decoder: null,
    midStream: false,
    ended: false,
    endWhileAwait: null,
    stash: [],
    stashBytes: 0,
    stashDropped: 0,
    gotData: false,
    notWs: false,
  };
}

export class TcpSession {
  private readonly conn: number;
  private readonly emit: EventSink;
  private readonly opts: SessionOptions;
  private readonly shared: WsShared;
  private readonly dirs: Record<Direction, DirState> = { client: newDir(), server: newDir() };
  private readonly queue: Pending[] = [];
  private st: 'http' | 'websocket' | 'closed' | 'other' = 'http';
  private ws = false;
  private readonly counts = new Map<string, number>();
  private finished = false;
  /** last internal error swallowed (the session never throws); for tests and debugging */
  lastError: unknown = null;

  constructor(conn: number, emit: EventSink, counters: Counters, opts: SessionOptions) {
    this.conn = conn;
    this.emit = emit;
    this.opts = opts;
    this.shared = {
      conn,
      emit,
      counters,
      opts,
      deflateMode: 'unknown',
      deflate: null,
      foreignExtensions: [],
      closeSent: { client: false, server: false },
      pings: { client: [], server: [] },
      inflated: 0,
      finding: (id, dir, meta, text, frame) => this.finding(id, dir, meta, text, frame),
      onClose: () => {
        if (this.shared.closeSent.client && this.shared.closeSent.server) this.st = 'closed';
      },
    };
  }

  get isWebSocket(): boolean {
    return this.ws;
  }

  get state(): 'http' | 'websocket' | 'closed' | 'other' {
    return this.st;
  }

  data(dir: Direction, bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    try {
      this.dataInner(dir, bytes, skip, meta);
    } catch (e) {
      // never throw into the pipeline: this direction is given up
      this.lastError = e;
      this.dirs[dir].mode = 'other';
    }
  }

  end(dir: Direction, reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    try {
      const d = this.dirs[dir];
      if (d.ended) return;
      d.ended = true;
      if (d.mode === 'await') {
        d.endWhileAwait = { reason, meta };
        return;
      }
      if (d.mode === 'undecided' && d.pre !== null) {
        const pre = d.pre;
        d.pre = null;
        this.decide(dir, pre, d.preSkip, meta, true);
      }
      d.decoder?.end(reason, meta);
      if (this.ws && this.dirs.client.ended && this.dirs.server.ended) this.st = 'closed';
    } catch (e) {
      this.lastError = e;
    }
  }

  finish(meta: ChunkMeta): void {
    if (this.finished) return;
    this.finished = true;
    try {
      // an upgrade request nobody answered (in the capture)
      for (const p of this.queue) {
        if (p.upgrade) this.emitHandshake(p.req, null);
      }
      this.queue.length = 0;
      // The answer is missing but the client went on sending frames (a capture that lost the
      // server side): decode them, extension parameters unknown.
      const c = this.dirs.client;
      if (c.mode === 'await' && c.stash.length > 0 && !this.ws && looksLikeWebSocketStart(c.stash[0].bytes)?.masked) {
        this.startWebSocket(meta, 'unknown', false);
        this.startDecoder('client', false);
        const stash = c.stash;
        c.stash = [];
        for (const s of stash) (c.decoder as FrameDecoder).push(s.bytes, s.skip, s.meta);
        if (c.endWhileAwait) (c.decoder as FrameDecoder).end(c.endWhileAwait.reason, c.endWhileAwait.meta);
      }
      for (const dir of ['client', 'server'] as const) {
        const d = this.dirs[dir];
        if (d.mode === 'undecided' && d.pre !== null) {
          const pre = d.pre;
          d.pre = null;
          this.decide(dir, pre, d.preSkip, meta, true);
        }
        if (!d.ended || d.mode === 'await') d.decoder?.end('eof', meta);
        d.ended = true;
      }
      if (this.ws) this.st = 'closed';
      for (const [id, n] of this.counts) {
        if (n > FINDINGS_PER_ID) {
          const more = n - FINDINGS_PER_ID;
          this.emit({
            type: 'finding',
            id,
            severity: FINDINGS[id as FindingId].severity,
            conn: this.conn,
            ts: meta.ts,
            packet: meta.packet,
            text: `${more} more ${id} finding${more === 1 ? '' : 's'} on this connection were not listed.`,
          });
        }
      }
    } catch (e) {
      this.lastError = e;
    }
  }

  // ---------------------------------------------------------------------------------------

  private finding(id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string, frame?: number): void {
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n > FINDINGS_PER_ID) return;
    this.emit({
      type: 'finding',
      id,
      severity: FINDINGS[id].severity,
      conn: this.conn,
      ...(dir ? { dir } : {}),
      ts: meta.ts,
      packet: meta.packet,
      ...(frame !== undefined ? { frame } : {}),
      text,
    });
  }

  private dataInner(dir: Direction, bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    const d = this.dirs[dir];
    if (d.ended && d.mode !== 'await') return;
    if (!d.gotData) {
      d.gotData = true;
      if (skip < 0) d.midStream = true;
    }
    switch (d.mode) {
      case 'ws':
        (d.decoder as FrameDecoder).push(bytes, skip, meta);
        return;
      case 'other':
        return;
      case 'await':
        this.stash(d, bytes, skip, meta);
        return;
      case 'http':
        if (skip > 0) {
          this.finding('tcp-gap', dir, meta, `${skip} bytes of HTTP were lost; the rest of this direction is not decoded.`);
          this.giveUp(dir);
          return;
        }
        this.httpPush(dir, bytes, 0, meta);
        return;
      case 'undecided': {
        let buf = bytes;
        let s = skip;
        if (d.pre !== null) {
          if (skip > 0) {
            // lost bytes while deciding: what was held cannot be joined with what follows
            d.pre = null;
          } else {
            buf = concat(d.pre, bytes);
            s = d.preSkip;
            d.pre = null;
          }
        }
        this.decide(dir, buf, s, meta, false);
        return;
      }
    }
  }

  /** First bytes of a direction: HTTP, WebSocket (assumed or detected) or something else. */
  private decide(dir: Direction, buf: Uint8Array, skip: number, meta: ChunkMeta, final: boolean): void {
    const d = this.dirs[dir];
    d.seen += buf.length;
    const http = looksLikeHttpStart(buf, 0, buf.length, dir === 'server');
    if (http === 'yes' && !this.ws) {
      d.mode = 'http';
      if (this.st === 'other') this.st = 'http';
      this.httpPush(dir, buf, 0, meta);
      return;
    }
    if (http === 'maybe' && !final) {
      this.hold(d, buf, skip);
      return;
    }
    if (this.ws) {
      this.startDecoder(dir, skip < 0 || d.midStream);
      (d.decoder as FrameDecoder).push(buf, skip > 0 ? skip : 0, meta);
      return;
    }
    if (this.opts.assumeWebSocket) {
      this.startWebSocket(meta, 'unknown', true);
      this.startDecoder(dir, skip < 0 || d.midStream);
      (d.decoder as FrameDecoder).push(buf, skip > 0 ? skip : 0, meta);
      return;
    }
    // the other side, seen from its first byte, spoke something else: one lucky-looking
    // direction must not turn the connection into WebSocket
    const otherDir = this.dirs[dir === 'client' ? 'server' : 'client'];
    if (this.opts.heuristic && !otherDir.notWs) {
      const at = detectFrames(buf, dir, skip < 0 || d.midStream);
      if (at >= 0) {
        this.startWebSocket(meta, 'unknown', true);
        this.startDecoder(dir, false);
        if (at > 0) this.finding('resync', dir, meta, `Skipped ${at} bytes to the first plausible frame header.`);
        (d.decoder as FrameDecoder).push(at === 0 ? buf : buf.subarray(at), 0, meta);
        return;
      }
      if (at === -2 && !final && d.seen < DETECT_MAX) {
        this.hold(d, buf, skip);
        return;
      }
      if (!final && d.seen < DETECT_MAX && (skip < 0 || d.midStream)) {
        // mid-stream: the next chunk may start at a frame boundary
        d.midStream = true;
        return;
      }
    }
    d.mode = 'other';
    if (!d.midStream) d.notWs = true;
    if (this.dirs.client.mode !== 'http' && this.dirs.server.mode !== 'http') this.st = 'other';
  }

  private hold(d: DirState, buf: Uint8Array, skip: number): void {
    d.seen -= buf.length;
    d.pre = copyOf(buf, 0, buf.length);
    d.preSkip = skip;
  }

  private startWebSocket(meta: ChunkMeta, mode: 'unknown' | 'negotiated' | 'none', noHandshake: boolean): void {
    if (this.ws) return;
    this.ws = true;
    this.st = 'websocket';
    this.shared.deflateMode = mode;
    if (noHandshake) this.finding('no-handshake', undefined, meta, 'WebSocket frames decoded without a captured opening handshake; extension parameters are unknown.');
    for (const dir of ['client', 'server'] as const) {
      const d = this.dirs[dir];
      // a direction already written off (not HTTP, not a frame start) rejoins via resync
      if (d.mode === 'other') this.startDecoder(dir, true);
    }
  }

  private startDecoder(dir: Direction, resync: boolean): void {
    const d = this.dirs[dir];
    if (d.decoder === null) d.decoder = new FrameDecoder(new MessageAssembler(this.shared, dir), resync);
    d.mode = 'ws';
  }

  private giveUp(dir: Direction): void {
    this.dirs[dir].mode = 'other';
    if (!this.ws) this.st = 'other';
  }

  private stash(d: DirState, bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (d.stashBytes + bytes.length > AWAIT_MAX) {
      if (d.stashDropped === 0) this.finding('limit-reached', 'client', meta, `Over ${AWAIT_MAX} bytes sent before the upgrade was answered; the rest is treated as lost.`);
      d.stashDropped += bytes.length + Math.max(skip, 0);
      return;
    }
    const s = d.stashDropped > 0 ? d.stashDropped + Math.max(skip, 0) : skip;
    d.stashDropped = 0;
    d.stash.push({ bytes: copyOf(bytes, 0, bytes.length), skip: s, meta });
    d.stashBytes += bytes.length;
  }

  private httpPush(dir: Direction, bytes: Uint8Array, start: number, meta: ChunkMeta): void {
    const d = this.dirs[dir];
    let p = start;
    const n = bytes.length;
    while (p < n) {
      if (d.mode !== 'http') return;
      if (!d.body.done) {
        const r = d.body.push(bytes, p);
        if (r < 0) return;
        p = r;
        continue;
      }
      const r = d.head.push(bytes, p);
      if (r === -1) return;
      if (r === -2) {
        this.giveUp(dir);
        return;
      }
      p = r;
      const head = d.head.take();
      if (dir === 'client') {
        const req = toRequest(head, meta);
        if (req.method === '') {
          this.giveUp(dir);
          return;
        }
        const upgrade = isWebSocketUpgrade(head);
        this.queue.push({ req, upgrade, method: req.method });
        d.body.start(...bodyOf(head.headers, false, 0, req.method));
        if (upgrade) {
          this.emitFindings(checkRequest(req));
          if (d.body.done) {
            d.mode = 'await';
            if (p < n) this.stash(d, bytes.subarray(p), 0, meta);
            return;
          }
        }
      } else {
        const res = toResponse(head, meta);
        if (res === null) {
          this.giveUp(dir);
          return;
        }
        // RFC 9110 section 15.2: interim answers (100 Continue...) precede the real one
        if (res.status >= 100 && res.status < 200 && res.status !== 101) continue;
        const pending = this.queue.shift();
        if (pending?.upgrade || (pending === undefined && res.status === 101)) {
          const out = this.emitHandshake(pending?.req ?? null, res);
          if (out) {
            this.switchToWebSocket(meta, bytes.subarray(p));
            return;
          }
          // rejected: the client's held bytes are HTTP again
          this.releaseClient();
        } else if (res.status === 101) {
          // another protocol (h2c...): not ours
          this.giveUp('client');
          this.giveUp('server');
          return;
        }
        d.body.start(...bodyOf(head.headers, true, res.status, pending?.method ?? 'GET'));
      }
    }
  }

  /** Emit the handshake and its findings; true when the connection switched to WebSocket. */
  private emitHandshake(req: UpgradeRequest | null, res: ReturnType<typeof toResponse>): boolean {
    const out = buildHandshake(this.conn, req, res);
    this.emit(out.event);
    this.emitFindings(out.findings);
    if (out.event.websocket) {
      this.shared.deflate = out.deflate;
      this.shared.foreignExtensions = parseExtensions(out.event.extensions)
        .map((e) => e.name)
        .filter((n) => n !== 'permessage-deflate');
    }
    return out.event.websocket;
  }

  private emitFindings(list: HandshakeFinding[]): void {
    for (const f of list) this.finding(f.id, f.dir, f.meta, f.text);
  }

  private switchToWebSocket(meta: ChunkMeta, serverRest: Uint8Array): void {
    this.startWebSocket(meta, this.shared.deflate ? 'negotiated' : 'none', false);
    this.startDecoder('server', false);
    const sd = this.dirs.server;
    if (serverRest.length > 0) (sd.decoder as FrameDecoder).push(serverRest, 0, meta);
    const c = this.dirs.client;
    const wasAwait = c.mode === 'await' || c.mode === 'undecided';
    const stash = c.stash;
    c.stash = [];
    c.stashBytes = 0;
    if (wasAwait || c.mode === 'http') {
      this.startDecoder('client', false);
      for (const s of stash) (c.decoder as FrameDecoder).push(s.bytes, s.skip, s.meta);
      if (c.endWhileAwait) {
        (c.decoder as FrameDecoder).end(c.endWhileAwait.reason, c.endWhileAwait.meta);
        c.endWhileAwait = null;
      }
    }
  }

  private releaseClient(): void {
    const c = this.dirs.client;
    if (c.mode !== 'await') return;
    c.mode = 'http';
    const stash = c.stash;
    c.stash = [];
    c.stashBytes = 0;
    for (const s of stash) {
      if ((c.mode as Mode) === 'await') this.stash(c, s.bytes, s.skip, s.meta);
      else if (s.skip > 0) this.dataInner('client', s.bytes, s.skip, s.meta);
      else this.httpPush('client', s.bytes, 0, s.meta);
    }
    if (c.endWhileAwait && (c.mode as Mode) !== 'await') c.endWhileAwait = null;
  }
}

/** RFC 9112 section 6.3: how long is the body of this message? */
function bodyOf(headers: Array<[string, string]>, response: boolean, status: number, method: string): ['none' | 'length' | 'chunked' | 'eof', number] {
  if (response && (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200))) return ['none', 0];
  if (headerTokens(headers, 'transfer-encoding').includes('chunked')) return ['chunked', 0];
  const cl = headerValue(headers, 'content-length');
  if (cl !== undefined) {
    const v = Number(cl.split(',')[0].trim());
    if (Number.isSafeInteger(v) && v >= 0) return ['length', v];
    return response ? ['eof', 0] : ['none', 0];
  }
  return response ? ['eof', 0] : ['none', 0];
}

/**
 * Heuristic detection of WebSocket frames at the start of a chunk (no handshake). Conservative,
 * because random bytes (TLS, compressed data) contain plausible-looking headers: the chunk
 * must be tiled by plausible frames from its first byte (text payloads valid UTF-8). When the
 * stream start is known (SYN seen), the last frame may run past the chunk; mid-stream, the
 * chunk must end exactly on a frame boundary, or hold two whole frames before one that runs
 * past. Returns 0 (frames start here), -1 = not WebSocket, -2 = too few bytes to tell.
 */
function detectFrames(buf: Uint8Array, dir: Direction, midStream: boolean): number {
  const exp: Expectation = { masked: dir === 'client', rsv1: true, continuation: false };
  const n = buf.length;
  let i = 0;
  let whole = 0;
  for (let k = 0; k < 64 && i < n; k++) {
    const hl = plausibleHeaderAt(buf, i, n, exp);
    if (hl === 0) return -1;
    if (hl < 0) return whole > 0 && !midStream ? 0 : -2;
    const len = payloadLengthAt(buf, i);
    const next = i + hl + len;
    if (next > n) {
      if (midStream) return whole >= 2 ? 0 : -1;
      return whole > 0 || len > 4096 ? 0 : -2;
    }
    if ((buf[i] & 0x4f) === 0x01 && !textPlausible(buf, i, hl, len)) return -1;
    whole++;
    i = next;
    exp.masked = (buf[i - len - hl + 1] & 0x80) !== 0;
    exp.continuation = true;
  }
  return 0;
}

/** an uncompressed text frame's payload is UTF-8 */
function textPlausible(buf: Uint8Array, i: number, hl: number, len: number): boolean {
  const start = i + hl;
  if ((buf[i + 1] & 0x80) === 0) return validUtf8(buf.subarray(start, start + len));
  return validUtf8(unmask(buf.subarray(start, start + len), buf.subarray(start - 4, start)));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
