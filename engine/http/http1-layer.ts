/**
 * HTTP/1.1 as a stream-stack layer (engine/stack/layer.ts): message heads are read and
 * bodies skipped (RFC 9112) in both directions, requests paired with responses, until a
 * WebSocket upgrade is accepted (RFC 6455 section 4); then the layer opens its `websocket`
 * child with what the handshake negotiated (permessage-deflate parameters, other
 * extensions) and hands both directions to it, bytes after the 101 included.
 *
 * Engine.IO long-polling (`transport=polling` on an Engine.IO URL): the bodies of those
 * requests and of their responses are kept, bounded, and decoded (polling.ts) into `polling`
 * events; an upgrade whose URL names an Engine.IO `sid` puts it on its handshake event.
 *
 * An accepted `Upgrade: h2c` (RFC 7540 section 3.2) hands both directions to the `http2`
 * child the same way.
 *
 * Detection: a direction whose first bytes look like a request (METHOD SP) or, from the
 * server, a response ("HTTP/"). A direction that stops being HTTP (a gap, an unparsable or
 * oversized head, a 101 to another protocol) is rejected back to the stack.
 *
 * While an upgrade request waits for its answer, what the client sends next is held (at
 * most 8 MiB, copied): after a 101 it is frames, after a refusal it is HTTP again. When the
 * capture ends with no answer and the held bytes start with a masked frame, the server side
 * was not captured: they are decoded as WebSocket anyway.
 *
 * Memory: heads are copied into the HeadReader (bounded, 64 KiB), held client bytes as said;
 * bodies and whatever follows are read in place. Events own their buffers.
 */
import type { DeflateParams, Direction } from '../../shared/events';
import { keepMeta, type ChunkMeta } from '../types';
import { DETECT_MORE, DETECT_NO, type ByteStream, type EndReason, type Layer, type LayerContext, type ProtocolModule } from '../stack/layer';
import type { WebSocketInit } from '../ws/ws-layer';
import type { Http2Init } from '../h2/h2-layer';
import { looksLikeWebSocketStart } from '../ws/plausible';
import { BodySkipper } from './body';
import { EnginePolling, engineIoSid, isPollingTarget, type PollBody } from './polling';
import { parseExtensions } from './extensions';
import { HeadReader, headerTokens, headerValue, looksLikeHttpStart } from './head';
import { buildHandshake, checkRequest, isWebSocketUpgrade, toRequest, toResponse, type HandshakeFinding, type UpgradeRequest, type UpgradeResponse } from './upgrade';

/** bytes a client may send after its upgrade request before the answer is seen */
const AWAIT_MAX = 8 * 1024 * 1024;

/** idle: never given to this layer; gone: given up (rejected to the stack); ws: handed on */
type Mode = 'idle' | 'http' | 'await' | 'gone' | 'ws';

interface Stashed {
  bytes: Uint8Array;
  skip: number;
  meta: ChunkMeta;
}

interface Pending {
  req: UpgradeRequest;
  upgrade: boolean;
  method: string;
  /** an Engine.IO polling request: its response body is decoded too */
  poll: boolean;
}

class Http1Direction implements ByteStream {
  mode: Mode = 'idle';
  readonly head = new HeadReader();
  readonly body = new BodySkipper();
  /** the Engine.IO polling body being kept (its BodySkipper's sink) */
  poll: PollBody | null = null;
  ended = false;
  endWhileAwait: { reason: EndReason; meta: ChunkMeta } | null = null;
  stash: Stashed[] = [];
  stashBytes = 0;
  stashDropped = 0;
  /** the child's stream, when the stack would not hand the direction over (a nested stack) */
  next: ByteStream | null = null;

  constructor(
    private readonly layer: Http1Layer,
    readonly dir: Direction,
  ) {}

  push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (this.next !== null) this.next.push(bytes, skip, meta);
    else this.layer.data(this, bytes, skip, meta);
  }

  end(reason: EndReason, meta: ChunkMeta): void {
    if (this.next !== null) {
      this.next.end(reason, meta);
      return;
    }
    this.ended = true;
    this.layer.bodyEnd(this, meta);
    if (this.mode === 'await') this.endWhileAwait = { reason, meta: keepMeta(meta) };
  }
}

export class Http1Layer implements Layer {
  private readonly client: Http1Direction;
  private readonly server: Http1Direction;
  private readonly queue: Pending[] = [];
  private deflate: DeflateParams | null = null;
  private foreign: string[] = [];
  private protocol = '';
  /** the module the connection was handed to (websocket, or http2 after an h2c upgrade) */
  private childId = 'websocket';
  /** request target of the accepted upgrade (a subprotocol decoder may key on it) */
  private path = '';
  /** Engine.IO polling decoding, from the connection's first polling request on */
  private polling: EnginePolling | null = null;

  constructor(private readonly ctx: LayerContext) {
    this.client = new Http1Direction(this, 'client');
    this.server = new Http1Direction(this, 'server');
  }

  /** a direction is still HTTP (reading messages, or waiting for the answer to an upgrade) */
  get speaking(): boolean {
    const m = (d: Http1Direction): boolean => d.mode === 'http' || d.mode === 'await';
    return m(this.client) || m(this.server);
  }

  open(dir: Direction): ByteStream {
    const d = dir === 'client' ? this.client : this.server;
    if (d.mode === 'idle') d.mode = 'http';
    return d;
  }

  finish(meta: ChunkMeta): void {
    this.bodyEnd(this.client, meta);
    this.bodyEnd(this.server, meta);
    // an upgrade request nobody answered (in the capture)
    for (const p of this.queue) if (p.upgrade) this.emitHandshake(p.req, null);
    this.queue.length = 0;
    // The answer is missing but the client went on sending frames (a capture that lost the
    // server side): decode them, extension parameters unknown.
    const c = this.client;
    if (c.mode === 'await' && c.stash.length > 0 && !this.ctx.claimed() && looksLikeWebSocketStart(c.stash[0].bytes)?.masked) {
      const init: WebSocketInit = { mode: 'unknown', deflate: this.deflate, foreignExtensions: this.foreign, protocol: this.protocol };
      this.handClient(this.ctx.openChild('websocket', init, meta));
    }
  }

  data(d: Http1Direction, bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (d.ended && d.mode !== 'await') return;
    if (d.mode === 'await') {
      this.stash(d, bytes, skip, meta);
    } else if (d.mode === 'http') {
      if (skip > 0) {
        this.ctx.finding('tcp-gap', d.dir, meta, `${skip} bytes of HTTP were lost; the rest of this direction is not decoded.`);
        this.giveUp(d);
        return;
      }
      this.httpPush(d, bytes, 0, meta);
    }
  }

  private giveUp(d: Http1Direction): void {
    d.mode = 'gone';
    this.ctx.reject(this, d.dir);
  }

  private stash(d: Http1Direction, bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (d.stashBytes + bytes.length > AWAIT_MAX) {
      if (d.stashDropped === 0) this.ctx.finding('limit-reached', 'client', meta, `Over ${AWAIT_MAX} bytes sent before the upgrade was answered; the rest is treated as lost.`);
      d.stashDropped += bytes.length + Math.max(skip, 0);
      return;
    }
    const s = d.stashDropped > 0 ? d.stashDropped + Math.max(skip, 0) : skip;
    d.stashDropped = 0;
    d.stash.push({ bytes: new Uint8Array(bytes), skip: s, meta: keepMeta(meta) });
    d.stashBytes += bytes.length;
  }

  private httpPush(d: Http1Direction, bytes: Uint8Array, start: number, meta: ChunkMeta): void {
    let p = start;
    const n = bytes.length;
    while (p < n) {
      if (d.mode !== 'http') return;
      if (!d.body.done) {
        const r = d.body.push(bytes, p);
        if (r < 0) return;
        p = r;
        this.bodyEnd(d, meta);
        continue;
      }
      const r = d.head.push(bytes, p);
      if (r === -1) return;
      if (r === -2) {
        this.giveUp(d);
        return;
      }
      p = r;
      const head = d.head.take();
      if (d.dir === 'client') {
        const req = toRequest(head, meta);
        if (req.method === '') {
          this.giveUp(d);
          return;
        }
        const upgrade = isWebSocketUpgrade(head);
        const poll = !upgrade && this.pollingOn(req.target);
        this.queue.push({ req, upgrade, method: req.method, poll });
        d.body.start(...bodyOf(head.headers, false, 0, req.method));
        if (poll) this.bodyStart(d, req.method, req.target, head.headers);
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
          this.giveUp(d);
          return;
        }
        // RFC 9110 section 15.2: interim answers (100 Continue...) precede the real one
        if (res.status >= 100 && res.status < 200 && res.status !== 101) continue;
        const pending = this.queue.shift();
        if (pending?.upgrade || (pending === undefined && res.status === 101)) {
          if (this.emitHandshake(pending?.req ?? null, res)) {
            this.switchToWebSocket(meta, bytes.subarray(p));
            return;
          }
          // rejected: the client's held bytes are HTTP again
          this.releaseClient();
        } else if (res.status === 101 && pending !== undefined && headerTokens(pending.req.head.headers, 'upgrade').includes('h2c') && headerTokens(head.headers, 'upgrade').includes('h2c')) {
          // RFC 7540 section 3.2: HTTP/2 from the byte after the 101; the client starts with
          // the connection preface, the server with SETTINGS
          const rq = pending.req;
          const init: Http2Init = { preface: true, upgraded: { method: rq.method, path: rq.target, host: headerValue(rq.head.headers, 'host') ?? '', meta: rq.meta } };
          this.switchTo('http2', init, meta, bytes.subarray(p));
          return;
        } else if (res.status === 101) {
          // another protocol: not ours
          this.giveUp(this.client);
          this.giveUp(this.server);
          return;
        }
        d.body.start(...bodyOf(head.headers, true, res.status, pending?.method ?? 'GET'));
        // the answer to a POST is `ok`, not a payload (engine.io's polling transport)
        if (pending?.poll === true && pending.method !== 'POST') this.bodyStart(d, pending.method, pending.req.target, head.headers);
      }
    }
  }

  /** Engine.IO polling on `target` is decoded (not turned off for this connection) */
  private pollingOn(target: string): boolean {
    if (!isPollingTarget(target) || this.ctx.opts.app?.decode?.[this.ctx.conn] === 'none') return false;
    this.polling ??= new EnginePolling(this.ctx);
    return true;
  }

  /** keep the body `d` starts (a polling body); one with no bytes is nothing to keep */
  private bodyStart(d: Http1Direction, method: string, target: string, headers: Array<[string, string]>): void {
    if (d.body.done || this.polling === null) return;
    d.poll = this.polling.begin(d.dir, method, target, headers);
    d.body.sink = d.poll;
  }

  /** `d`'s body ended (or `d` did): decode the polling body it kept */
  bodyEnd(d: Http1Direction, meta: ChunkMeta): void {
    const b = d.poll;
    if (b === null || this.polling === null) return;
    d.poll = null;
    d.body.sink = null;
    // a body read to the connection's end (no length) is whole when the direction ended
    const whole = !d.body.bad && (d.body.done || (d.body.mode === 'eof' && d.ended));
    this.polling.end(b, meta, whole);
  }

  /** Emit the handshake and its findings; true when the connection switched to WebSocket. */
  private emitHandshake(req: UpgradeRequest | null, res: UpgradeResponse | null): boolean {
    const out = buildHandshake(this.ctx.conn, req, res);
    // the WebSocket that upgrades an Engine.IO polling session names it (polling.ts)
    const sid = engineIoSid(out.event.path);
    if (sid !== '') out.event.sid = sid;
    this.ctx.emit(out.event);
    this.emitFindings(out.findings);
    if (out.event.websocket) {
      this.deflate = out.deflate;
      this.foreign = parseExtensions(out.event.extensions)
        .map((e) => e.name)
        .filter((n) => n !== 'permessage-deflate');
      this.protocol = out.event.protocol;
      this.path = out.event.path;
    }
    return out.event.websocket;
  }

  private emitFindings(list: HandshakeFinding[]): void {
    for (const f of list) this.ctx.finding(f.id, f.dir, f.meta, f.text);
  }

  private switchToWebSocket(meta: ChunkMeta, serverRest: Uint8Array): void {
    const init: WebSocketInit = { mode: this.deflate ? 'negotiated' : 'none', deflate: this.deflate, foreignExtensions: this.foreign, protocol: this.protocol, path: this.path };
    this.switchTo('websocket', init, meta, serverRest);
  }

  /** both directions go to the child `id` (made with `init`), the server's from `serverRest` on */
  private switchTo(id: string, init: unknown, meta: ChunkMeta, serverRest: Uint8Array): void {
    const child = this.ctx.openChild(id, init, meta);
    this.childId = id;
    const s = child.open('server', false);
    this.hand(this.server, s);
    if (serverRest.length > 0) s.push(serverRest, 0, meta);
    const c = this.client;
    if (c.mode === 'await' || c.mode === 'idle' || c.mode === 'http') this.handClient(child);
    else {
      c.stash = [];
      c.stashBytes = 0;
    }
  }

  /** the client's direction goes to the WebSocket layer, with what it sent while waiting */
  private handClient(ws: Layer): void {
    const c = this.client;
    const stash = c.stash;
    c.stash = [];
    c.stashBytes = 0;
    const cs = ws.open('client', false);
    this.hand(c, cs);
    for (const s of stash) cs.push(s.bytes, s.skip, s.meta);
    if (c.endWhileAwait) {
      cs.end(c.endWhileAwait.reason, c.endWhileAwait.meta);
      c.endWhileAwait = null;
    }
  }

  private hand(d: Http1Direction, to: ByteStream): void {
    const wasOurs = d.mode !== 'idle' && d.mode !== 'gone';
    d.mode = 'ws';
    if (!this.ctx.handOff(this, d.dir, to, this.childId) && wasOurs) d.next = to;
  }

  private releaseClient(): void {
    const c = this.client;
    if (c.mode !== 'await') return;
    c.mode = 'http';
    const stash = c.stash;
    c.stash = [];
    c.stashBytes = 0;
    for (const s of stash) {
      if ((c.mode as Mode) === 'await') this.stash(c, s.bytes, s.skip, s.meta);
      else if (s.skip > 0) this.data(c, s.bytes, s.skip, s.meta);
      else this.httpPush(c, s.bytes, 0, s.meta);
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

export const http1Module: ProtocolModule = {
  id: 'http1',
  detect(bytes, dir) {
    const r = looksLikeHttpStart(bytes, 0, bytes.length, dir === 'server');
    return r === 'yes' ? 0 : r === 'maybe' ? DETECT_MORE : DETECT_NO;
  },
  create: (ctx) => new Http1Layer(ctx),
};
