/**
 * One TCP connection's decoder as a single object, for callers that feed both directions
 * themselves (tests, tools): HTTP/1.1 until a WebSocket upgrade is accepted, then WebSocket
 * frames in both directions (RFC 6455 sections 4 and 5). It is a ConnStack
 * (engine/stack/connection-stack.ts) over the default module registry, addressed by
 * direction; the pipeline uses ConnStack directly. StreamSink semantics for `data`: `skip`
 * 0 = contiguous, N > 0 = N bytes lost, -1 = start of stream not seen. Emits HandshakeEvent,
 * FrameEvent, MessageEvent and FindingEvent to `emit`, synchronously, in stream order. Never
 * throws: an internal error becomes a `decoder-error` finding, ends this connection's
 * decoding, and is kept in `lastError`.
 *
 * Without a handshake (mid-stream pickup, `assumeWebSocket`, or the heuristic) the frames
 * are decoded anyway; a `no-handshake` finding says so.
 *
 * Memory: `bytes` passed to `data` are only read during the call; see the layers for what
 * they copy. Events own their buffers.
 */
import type { Direction, EventSink } from '../../shared/events';
import type { ChunkMeta } from '../types';
import type { Http1Layer } from '../http/http1-layer';
import { ConnStack } from '../stack/connection-stack';
import { defaultRegistry } from '../stack/registry';
import { DEFAULT_SESSION_OPTIONS, type Counters, type SessionOptions } from './options';
import { looksLikeWebSocketStart } from './plausible';
import type { WebSocketLayer } from './ws-layer';

export { DEFAULT_SESSION_OPTIONS, type Counters, type SessionOptions };
export { looksLikeWebSocketStart };

export class TcpSession {
  private readonly stack: ConnStack;
  /** the internal error that stopped this connection's decoding (also reported as a finding) */
  lastError: unknown = null;

  constructor(
    readonly conn: number,
    emit: EventSink,
    counters: Counters,
    opts: SessionOptions,
  ) {
    this.stack = new ConnStack(conn, emit, counters, {
      session: opts,
      registry: defaultRegistry,
      decodeAs: opts.assumeWebSocket ? 'websocket' : undefined,
      onInternalError: (e) => {
        this.lastError = e;
      },
    });
  }

  get isWebSocket(): boolean {
    return this.stack.layer('websocket') !== undefined;
  }

  /** what the connection is now: HTTP, WebSocket, a WebSocket that is over, or neither */
  get state(): 'http' | 'websocket' | 'closed' | 'other' {
    const ws = this.stack.layer('websocket') as WebSocketLayer | undefined;
    if (ws) return ws.closed || this.stack.finished || (this.stack.client.ended && this.stack.server.ended) ? 'closed' : 'websocket';
    const http = this.stack.layer('http1') as Http1Layer | undefined;
    if (http?.speaking) return 'http';
    return this.stack.client.rejected || this.stack.server.rejected ? 'other' : 'http';
  }

  data(dir: Direction, bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    this.stack.entry(dir).push(bytes, skip, meta);
  }

  end(dir: Direction, reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    this.stack.entry(dir).end(reason, meta);
  }

  finish(meta: ChunkMeta): void {
    this.stack.finish(meta);
  }
}
