/**
 * The contract of a subprotocol decoder: what runs on top of WebSocket messages (Socket.IO,
 * MQTT, JSON-RPC, GraphQL over WebSocket, ...) and turns them into application packets
 * (shared/events.ts `AppPacket`), the way a Wireshark sub-dissector is handed a WebSocket
 * payload.
 *
 *   MessageAssembler -> message event -> AppTap (tap.ts) -> AppDecoder.message -> `app` on the event
 *
 * An `AppProtocol` is a registered module (registry.ts): how it is recognised (the
 * negotiated `Sec-WebSocket-Protocol`, the handshake's URL, or a look at the first messages)
 * and how a decoder is made. An `AppDecoder` is one connection's state, both directions: it
 * is fed every complete data message (text and binary) in capture order and returns the
 * packets that message completes. It may carry state across messages (MQTT is a byte stream
 * per direction; a Socket.IO packet waits for its binary attachments); a packet split over
 * several messages belongs to the message that completes it.
 *
 * Memory: `m.data` is only valid during the call (the CLI reuses payload buffers): a decoder
 * that keeps bytes copies them. Every table and buffer a decoder keeps has a bound (`limits`);
 * hitting one is a `limit-reached` finding. Decoders never throw on hostile input: they report
 * `subprotocol-malformed` and go on; a throw is a bug, contained by the stack's boundary.
 */
import type { AppPacket, Direction, MessageEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import type { ChunkMeta } from '../types';

/** Bounds of one connection's decoder. */
export interface AppLimits {
  /** requests waiting for their reply, per connection (oldest let go past it) */
  maxPending: number;
  /** bytes a stream decoder (MQTT) holds for a packet not complete yet, per direction */
  maxStreamBytes: number;
  /** text messages longer than this are not parsed (JSON protocols), nor sniffed */
  maxParseBytes: number;
}

export const DEFAULT_APP_LIMITS: AppLimits = {
  maxPending: 4096,
  maxStreamBytes: 16 << 20,
  maxParseBytes: 16 << 20,
};

/** The protocols a connection may be given, in sniffing order (registry.ts implements it). */
export interface AppProtocols {
  get(id: string): AppProtocol | undefined;
  list(): readonly AppProtocol[];
}

/** Subprotocol decoding options (`SessionOptions.app`). */
export interface AppOptions {
  /** per connection id: the protocol to decode it as (`--decode CONN=ID`), or 'none' */
  decode?: Readonly<Record<number, string>>;
  /** the protocols (default: the process-wide registry) */
  protocols?: AppProtocols;
  /** look at the first messages of connections that neither subprotocol nor URL named (default on) */
  sniff?: boolean;
  limits?: Partial<AppLimits>;
}

/** What a decoder reaches of the engine. */
export interface AppContext {
  readonly conn: number;
  readonly limits: AppLimits;
  /**
   * The decoder sees the conversation from its start (the opening handshake was captured and
   * no data message went by before it). False: requests may predate what it saw, so a reply
   * to an unknown id is not a finding.
   */
  readonly fromStart: boolean;
  /** a finding about message `m` (direction, time, packet and last frame taken from it) */
  finding(id: FindingId, m: MessageEvent, text: string): void;
  /** a finding at the end of the connection */
  endFinding(id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string): void;
}

/** One connection's decoder state. */
export interface AppDecoder {
  /** the application packets data message `m` completes, in order (empty when none) */
  message(m: MessageEvent): AppPacket[];
  /** the connection is over: report requests never answered and packets never completed */
  finish(meta: ChunkMeta): void;
}

/** What the handshake said about the connection. */
export interface AppHints {
  /** negotiated subprotocol, '' for none */
  protocol: string;
  /** request target of the upgrade (path and query), '' when no handshake was captured */
  path: string;
  /** the opening handshake was captured */
  handshake: boolean;
  /**
   * one object per capture (the pipeline's Counters): decoders may share state between the
   * connections of one application session under it (an Engine.IO session's polling requests
   * and the WebSocket that upgrades it, socket-io.ts)
   */
  scope?: object;
}

export interface AppProtocol {
  /** the name `--decode CONN=ID` uses and `AppPacket.protocol` carries */
  readonly id: string;
  /** `Sec-WebSocket-Protocol` values that select it (compared case-insensitively) */
  readonly subprotocols: readonly string[];
  /** the upgrade's request target selects it (e.g. `/socket.io/?EIO=4`) */
  path?(path: string): boolean;
  /**
   * A look at one of the connection's first data messages: true = this protocol. Cheap and
   * conservative (a false yes puts a decoder on a connection that does not speak it); pure.
   */
  sniff?(m: MessageEvent, limits: AppLimits): boolean;
  create(ctx: AppContext, hints: AppHints): AppDecoder;
}

/**
 * The last text made by messageText and what it was made from: the sniffers (tap.ts) each
 * ask for the text of the same message, and decoding it once instead of three or four times
 * is most of what sniffing costs. One string, dropped at the next message.
 */
let lastData: Uint8Array | null = null;
let lastText = '';

/** Text of a text message, or null for binary, invalid UTF-8, cut or oversized messages. */
export function messageText(m: MessageEvent, limits: AppLimits): string | null {
  if (m.opcode !== 1 || !m.utf8Valid || m.truncated || m.data.length > limits.maxParseBytes) return null;
  // valid UTF-8 (checked above), so Buffer's decoder gives what TextDecoder would, with less
  // overhead per call on the short messages subprotocols send (a view, no copy)
  const d = m.data;
  // the same view of the same message (events are not changed once emitted)
  if (d === lastData) return lastText;
  lastText = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8');
  lastData = d;
  return lastText;
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** the other side of a connection (who answers a request from `d`) */
export function other(d: Direction): Direction {
  return d === 'client' ? 'server' : 'client';
}
