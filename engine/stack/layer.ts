/**
 * The stream stack's contracts: how a protocol layer consumes one direction's ordered bytes,
 * how it is detected and made, and what it may reach of the engine. Shaped after gopacket's
 * `tcpassembly.Stream`/`StreamFactory` (ordered bytes with a skip count, a factory per
 * connection) and Wireshark's dissector tables (a registered dissector per protocol, tried
 * by heuristics or forced by "Decode As", handing what it carries to the next dissector).
 *
 *   TCP reassembly -> ConnStack (detection, containment) -> layer (http1, websocket, ...)
 *                                                             -> child layer (openChild)
 *                                                             -> nested stack (nest): the
 *                                                                bytes a layer carries (TLS
 *                                                                plaintext), detected anew
 *
 * A `ByteStream` is one direction of one layer. `push(bytes, skip, meta)` follows
 * `StreamSink.data` (engine/types.ts): skip 0 = contiguous, N > 0 = N bytes were lost just
 * before `bytes`, -1 = the start of the stream was not seen. The bytes are a view valid
 * during the call only: a layer that keeps bytes copies them. `end` comes once per direction
 * (FIN, RST, or the end of the capture); nothing is pushed after it.
 *
 * A `Layer` is one protocol instance on one connection (both directions: HTTP/1.1 pairs
 * requests with responses, WebSocket shares its extension state). Layers never throw on
 * purpose; when one does (a bug), the ConnStack's boundary contains it (connection-stack.ts).
 */
import type { Direction, EventSink } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import type { ChunkMeta } from '../types';
import type { Counters, SessionOptions } from '../ws/options';

export type EndReason = 'fin' | 'rst' | 'eof';

/** One direction's ordered bytes into one layer. FrameDecoder has this shape. */
export interface ByteStream {
  push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void;
  end(reason: EndReason, meta: ChunkMeta): void;
}

/** One protocol instance on one connection. */
export interface Layer {
  /**
   * The stream that consumes direction `dir` from now on (the same object on every call for
   * a direction). `resync`: the bytes may start anywhere in a protocol unit (mid-stream
   * pickup, or a direction that joins late), so the layer looks for a unit start first.
   */
  open(dir: Direction, resync: boolean): ByteStream;
  /**
   * The connection is over (both directions ended, or the capture did): emit what is
   * pending. Called before the stack ends the directions still open with `end('eof')`.
   */
  finish(meta: ChunkMeta): void;
}

/** What a detector sees besides the bytes. */
export interface DetectView {
  readonly clientPort: number;
  readonly serverPort: number;
  /** the direction's first chunk came without its stream start (skip -1), or a chunk was discarded */
  readonly midStream: boolean;
  /** no more bytes will come for this decision (the direction or the capture ended) */
  readonly final: boolean;
  /** bytes of this direction looked at and let go so far (bound a detector's patience with it) */
  readonly seen: number;
  /** the other direction was examined from its first byte and every module said no */
  readonly otherRejected: boolean;
  readonly opts: SessionOptions;
}

/** Detector answers besides "yes at offset N" (N >= 0). */
export const DETECT_NO = -1;
/** too few bytes to tell: hold these and ask again with more */
export const DETECT_MORE = -2;
/** these bytes cannot tell (mid-stream), the next chunk may: let them go, ask again */
export const DETECT_NEXT = -3;

/**
 * A protocol the stack can put on a connection. Detection order is registration order
 * (registry.ts); the first module to answer yes gets the direction.
 */
export interface ProtocolModule {
  readonly id: string;
  /**
   * Look at the first bytes of a direction: N >= 0 = yes, the protocol starts at offset N;
   * DETECT_NO, DETECT_MORE or DETECT_NEXT. Absent: only "Decode As" or openChild make it.
   * Pure: keeps nothing of `bytes`.
   */
  detect?(bytes: Uint8Array, dir: Direction, view: DetectView): number;
  /** the detector guesses (a heuristic): it runs only when heuristics are on */
  readonly heuristic?: boolean;
  /**
   * Once a layer of this module is on a connection, it takes every direction not yet
   * decided, and directions every module rejected join it resynchronising (WebSocket: both
   * directions of an upgraded connection are frames, whatever their first bytes were).
   */
  readonly claimsConnection?: boolean;
  /** make the connection's layer; `init` comes from the parent's `openChild` (undefined when detected) */
  create(ctx: LayerContext, init: unknown, meta: ChunkMeta): Layer;
}

/** The narrow part of the engine a layer reaches. One per connection, shared by its layers. */
export interface LayerContext {
  readonly conn: number;
  /** emit an event (counted by the pipeline) */
  readonly emit: EventSink;
  /** capture-wide frame/message indexes */
  readonly counters: Counters;
  readonly opts: SessionOptions;
  /** a finding; past 20 of one id on this connection they are counted, listed at the end */
  finding(id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string, frame?: number): void;
  /** the connection's layer of module `id`, made with `init` if there is none yet */
  openChild(id: string, init: unknown, meta: ChunkMeta): Layer;
  /** is a layer that claims the connection (see ProtocolModule.claimsConnection) on it? */
  claimed(): boolean;
  /**
   * From now on `dir`'s bytes go straight to `to`, when they came to a stream of `from` or
   * the direction was not decided yet (HTTP/1.1 -> WebSocket after a 101). False: the stack
   * does not feed that direction to `from`; the caller forwards itself.
   */
  handOff(from: Layer, dir: Direction, to: ByteStream, toId: string): boolean;
  /** `from` gives `dir` up (not its protocol after all): the direction is rejected */
  reject(from: Layer, dir: Direction): void;
  /**
   * A stack nested in this connection: its two entries take the bytes a layer carries
   * (TLS: each direction's decrypted application data) and detect what they are over the
   * same registry and Decode As, with their own layers and their own boundary, as if they
   * came from TCP. The caller pushes, ends and finishes it. Nesting deeper than
   * MAX_NESTING (connection-stack.ts) throws (a capture of TLS in TLS in TLS...).
   */
  nest(): NestedStack;
  /**
   * Open a connection carried inside this one (an HTTP/2 stream's WebSocket, RFC 8441): an
   * id from the pipeline's counter, a `connection` event with this connection's endpoints
   * plus `fields`, and a stack of its own (its own findings cap, its own boundary).
   */
  openConnection(fields: CarriedFields, meta: ChunkMeta): CarriedConnection;
}

/** A stack over the bytes a layer carries (see LayerContext.nest). */
export interface NestedStack {
  readonly client: ByteStream;
  readonly server: ByteStream;
  /** the carrying layer is finishing: flush the nested layers and end their open directions */
  finish(meta: ChunkMeta): void;
}

/** What a carried connection's `connection` event adds to the carrier's endpoints. */
export interface CarriedFields {
  http2: true;
  /** the HTTP/2 stream id that carries it */
  h2Stream: number;
}

/**
 * A connection inside a connection. The carrier pushes each direction's bytes into `client`
 * and `server` (they go through the carried stack's entries: detection, handOff, containment
 * as for a TCP connection) and calls `close` once, when its carrier unit ends.
 */
export interface CarriedConnection {
  readonly ctx: LayerContext;
  readonly client: ByteStream;
  readonly server: ByteStream;
  /** both directions end (`reason`), the layers flush, the `connection-end` event follows */
  close(reason: EndReason, meta: ChunkMeta): void;
}
