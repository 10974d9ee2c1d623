/**
 * RFC 6455 as a stream-stack layer (engine/stack/layer.ts): per direction a FrameDecoder
 * feeding a MessageAssembler (fragments, control frames, permessage-deflate, findings),
 * both directions sharing the connection's WebSocket state (WsShared). The stream a
 * direction's bytes go to is the FrameDecoder itself: no wrapper on the hot path.
 *
 * Made three ways: as the child of HTTP/1.1 after an accepted upgrade (`init` carries what
 * the handshake negotiated), by "Decode As" (`--ws-port`), or by the heuristic detector on
 * a connection whose handshake was not captured; the last two report `no-handshake`. It
 * claims its connection: once it is on, every direction is frames (see ProtocolModule).
 *
 * Memory: see frame-decoder.ts and assembler.ts; this file keeps two decoders.
 */
import type { DeflateParams, Direction } from '../../shared/events';
import type { ChunkMeta } from '../types';
import { DETECT_MORE, DETECT_NEXT, DETECT_NO, type ByteStream, type Layer, type LayerContext, type ProtocolModule } from '../stack/layer';
import { attachApp, type AppTap } from '../app/tap';
import { MessageAssembler, type DeflateMode, type WsShared } from './assembler';
import { FrameDecoder } from './frame-decoder';
import { payloadLengthAt, plausibleHeaderAt, type Expectation } from './plausible';
import { unmask } from './unmask';
import { validUtf8 } from './utf8';

/** What the opening handshake negotiated (absent: no handshake was captured). */
export interface WebSocketInit {
  mode: DeflateMode;
  deflate: DeflateParams | null;
  /** negotiated extensions other than permessage-deflate */
  foreignExtensions: string[];
  /** the subprotocol the server chose (Sec-WebSocket-Protocol), '' for none: what a subprotocol decoder keys on */
  protocol: string;
  /** request target of the upgrade, which a subprotocol decoder may key on too (`/socket.io/?EIO=4`) */
  path?: string;
}

/** bytes looked at to decide what an unknown stream is */
const DETECT_MAX = 64 * 1024;

export class WebSocketLayer implements Layer {
  readonly shared: WsShared;
  /** negotiated subprotocol ('' when none or no handshake) */
  readonly protocol: string;
  private client: FrameDecoder | null = null;
  private server: FrameDecoder | null = null;
  /** the subprotocol decoder tapping this connection's messages (engine/app/), if any */
  readonly app: AppTap | null;

  constructor(ctx: LayerContext, init: WebSocketInit | undefined, meta: ChunkMeta) {
    // Written twice so that V8 does not treat them as constants: the first close frame of the
    // capture would otherwise throw away the optimized frame path that reads them (frameStart,
    // inlined into the per-packet chain) and have it compiled again.
    const closeSent = { client: true, server: true };
    closeSent.client = closeSent.server = false;
    this.shared = {
      conn: ctx.conn,
      emit: ctx.emit,
      counters: ctx.counters,
      opts: ctx.opts,
      deflateMode: init?.mode ?? 'unknown',
      deflate: init?.deflate ?? null,
      foreignExtensions: init?.foreignExtensions ?? [],
      closeSent,
      pings: { client: [], server: [] },
      inflated: 0,
      finding: ctx.finding,
      onClose: () => {},
    };
    this.protocol = init?.protocol ?? '';
    // taps shared.emit when a decoder applies; connections it does not concern are untouched
    this.app = attachApp(this.shared, ctx.conn, ctx.finding, ctx.opts.app, { protocol: this.protocol, path: init?.path ?? '', handshake: init !== undefined, scope: ctx.counters });
    if (!init) ctx.finding('no-handshake', undefined, meta, 'WebSocket frames decoded without a captured opening handshake; extension parameters are unknown.');
  }

  /** both sides sent a close frame */
  get closed(): boolean {
    return this.shared.closeSent.client && this.shared.closeSent.server;
  }

  open(dir: Direction, resync: boolean): ByteStream {
    // events consumed during the emit (ephemeral payloads) take frame headers as views too
    const shared = this.shared.opts.ephemeralPayloads;
    if (dir === 'client') return (this.client ??= new FrameDecoder(new MessageAssembler(this.shared, 'client'), resync, shared));
    return (this.server ??= new FrameDecoder(new MessageAssembler(this.shared, 'server'), resync, shared));
  }

  finish(meta: ChunkMeta): void {
    // the stack ends the frame decoders still open; the subprotocol decoder lists what is pending
    this.app?.finish(meta);
  }
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

export const webSocketModule: ProtocolModule = {
  id: 'websocket',
  heuristic: true,
  claimsConnection: true,
  detect(bytes, dir, view) {
    // the other side, seen from its first byte, spoke something else: one lucky-looking
    // direction must not turn the connection into WebSocket
    if (view.otherRejected) return DETECT_NO;
    const at = detectFrames(bytes, dir, view.midStream);
    if (at >= 0) return at;
    if (view.seen >= DETECT_MAX) return DETECT_NO;
    if (at === -2) return DETECT_MORE;
    // mid-stream: the next chunk may start at a frame boundary
    return view.midStream ? DETECT_NEXT : DETECT_NO;
  },
  create: (ctx, init, meta) => new WebSocketLayer(ctx, init as WebSocketInit | undefined, meta),
};
