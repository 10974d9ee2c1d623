/**
 * The event stream: what the engine produces and what both the CLI (`wsscope read --json`)
 * and the UI consume. Field names and types of the wire form (`toWire` in engine/cli/json.ts)
 * are the ones docs/events.md documents; the engine-side objects carry a few extra fields
 * (raw bytes, ids) that the JSON form drops or converts.
 *
 * No Node types here: `Uint8Array` only, so every event survives structured clone.
 * Times are seconds since the epoch as numbers (microsecond precision).
 */

export type Direction = 'client' | 'server';
export type Severity = 'error' | 'warning' | 'info';

export interface ConnectionEvent {
  type: 'connection';
  id: number;
  transport: 'tcp' | 'udp';
  /** "IP:PORT", IPv6 as "[addr]:port" */
  client: string;
  server: string;
  ts: number;
  /** packet (1-based record number) that opened it */
  packet: number;
  /** how the client side was decided */
  roleBy: 'syn' | 'http' | 'mask' | 'port';
  /** a connection carried inside another (RFC 8441: a WebSocket on an HTTP/2 stream) */
  http2?: true;
  /** the HTTP/2 stream id that carries it */
  h2Stream?: number;
  /** id of the TCP connection that carries it */
  parent?: number;
}

export interface HandshakeEvent {
  type: 'handshake';
  conn: number;
  ts: number;
  /** packet that completed the response (or the request when no response was seen) */
  packet: number;
  method: string;
  path: string;
  host: string;
  /** HTTP status of the answer; 0 when no answer was captured */
  status: number;
  statusText: string;
  key: string;
  accept: string;
  /** base64(SHA-1(key + GUID)) computed from the key */
  expectedAccept: string;
  acceptValid: boolean;
  version: string;
  origin: string;
  /** negotiated subprotocol (response header) */
  protocol: string;
  /** requested subprotocols (request header) */
  requestedProtocols: string;
  /** negotiated extensions (response header) */
  extensions: string;
  requestedExtensions: string;
  /** true when the connection switched to WebSocket */
  websocket: boolean;
  /** raw header lines, in order, for the handshake pane */
  requestHeaders: Array<[string, string]>;
  responseHeaders: Array<[string, string]>;
  requestLine: string;
  statusLine: string;
  /** bytes of the request and response heads on the wire */
  requestBytes: number;
  responseBytes: number;
  /** permessage-deflate parameters when negotiated */
  deflate?: DeflateParams;
  /** RFC 8441 extended CONNECT on an HTTP/2 stream: no key, no accept; status 200 accepts */
  http2?: true;
  /**
   * HTTP/2: the SETTINGS each side had sent when the stream opened (RFC 9113 section 6.5.2
   * names, e.g. ENABLE_CONNECT_PROTOCOL, the server's permission, RFC 8441 section 3), in
   * the order first sent; unregistered identifiers as 0xNNNN
   */
  h2Settings?: { client: Array<[string, number]>; server: Array<[string, number]> };
  /**
   * Engine.IO session id named by the upgrade URL (`sid=`): the WebSocket that upgrades a
   * long-polling session, whose `polling` events carry the same `sid`
   */
  sid?: string;
}

export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** 8..15 */
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export interface FrameEvent {
  type: 'frame';
  conn: number;
  dir: Direction;
  ts: number;
  /** capture-wide frame index, 0-based */
  index: number;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** 8 hex digits, "" when not masked */
  maskKey: string;
  /** payload length as declared by the header */
  length: number;
  /** header size on the wire (2..14) */
  headerLength: number;
  /** packet (1-based record) that completed the frame */
  packet: number;
  /** first packet that carried a byte of the frame */
  firstPacket: number;
  /** raw header bytes (2..14) */
  header: Uint8Array;
  /** the payload as it was on the wire (still masked); may be a prefix when limits cut it */
  wirePayload?: Uint8Array;
}

export interface MessageEvent {
  type: 'message';
  conn: number;
  dir: Direction;
  ts: number;
  /** capture-wide message index, 0-based */
  index: number;
  opcode: number;
  compressed: boolean;
  /** payload length after unmasking, reassembly and inflation */
  length: number;
  /** bytes of payload on the wire (sum of frame payload lengths) */
  wireLength: number;
  /** frame indexes that made this message */
  frames: number[];
  packet: number;
  /** unmasked, reassembled, inflated payload (may be cut at a limit: see `truncated`) */
  data: Uint8Array;
  /** true when `data` is not the whole payload (limit hit, gap, decompression failure) */
  truncated: boolean;
  /** for text messages: whether `data` is valid UTF-8 */
  utf8Valid: boolean;
  /** close frames only */
  code?: number;
  reason?: string;
  /**
   * On a connection with a subprotocol decoder (engine/app/): the application packets this
   * message completes, in order (often one, possibly none, possibly several). Absent on
   * connections without a decoder.
   */
  app?: AppPacket[];
}

/** A JSON-like value: what decoded application fields hold (survives structured clone). */
export type AppValue = string | number | boolean | null | AppValue[] | { [k: string]: AppValue };

/**
 * One application packet decoded from WebSocket messages (docs/events.md lists the protocols,
 * their `type`s and fields). Correlated replies carry `latencyMs` and `requestTs` (the `ts`
 * of the request's message).
 */
export interface AppPacket {
  protocol: string;
  type: string;
  latencyMs?: number;
  requestTs?: number;
  [field: string]: AppValue | undefined;
}

export interface FindingEvent {
  type: 'finding';
  id: string;
  severity: Severity;
  conn: number;
  dir?: Direction;
  ts: number;
  packet: number;
  /** frame index when the finding is about one frame */
  frame?: number;
  text: string;
}

/** One plain HTTP/2 request on a connection (not a WebSocket): listed, not decoded further. */
export interface Http2RequestEvent {
  type: 'http2-request';
  conn: number;
  /** stream id */
  stream: number;
  ts: number;
  /** packet that ended the exchange (or the last one seen of it) */
  packet: number;
  method: string;
  path: string;
  /** :authority */
  host: string;
  /** :status, 0 when no response headers were captured */
  status: number;
  /** DATA payload bytes (padding excluded) each way */
  requestBytes: number;
  responseBytes: number;
  /** the stream was reset (RST_STREAM) */
  reset: boolean;
  /** a server push: the request came in the server's PUSH_PROMISE (RFC 9113 section 8.4) */
  pushed?: true;
}

/**
 * One body of an Engine.IO long-polling exchange over HTTP/1.1 (engine/http/polling.ts): a
 * POST's payload (client) or a GET's or POST's answer (server), decoded into the same
 * Socket.IO packets a WebSocket message gives.
 */
export interface PollingEvent {
  type: 'polling';
  conn: number;
  dir: Direction;
  ts: number;
  /** packet that ended the body */
  packet: number;
  /** method and target of the request the body belongs to */
  method: string;
  path: string;
  /** Engine.IO session id (the URL's `sid`, or the one the open packet names); '' when neither */
  sid: string;
  /** body bytes after content decoding (before it when not decoded) */
  length: number;
  /** the body was not decoded (cut by a limit or by the end of the capture, or not decodable) */
  truncated: boolean;
  /** the packets of the payload, in order */
  app: AppPacket[];
}

export interface DatagramEvent {
  type: 'datagram';
  conn: number;
  dir: Direction;
  ts: number;
  length: number;
  packet: number;
}

export interface ConnectionEndEvent {
  type: 'connection-end';
  conn: number;
  ts: number;
  packet: number;
  reason: 'fin' | 'rst' | 'eof';
}

/**
 * One TLS connection (engine/tls/tls-layer.ts): emitted once, before its first decrypted
 * application data, or when decryption failed, or at the end of a connection that was not
 * decrypted. The messages inside a decrypted connection are those of a plaintext one.
 */
export interface TlsEvent {
  type: 'tls';
  conn: number;
  ts: number;
  packet: number;
  /** "TLS 1.3", "TLS 1.2", ...; "" when no ServerHello was captured */
  version: string;
  /** IANA name (TLS_AES_128_GCM_SHA256), or 0xNNNN when unknown; "" without a ServerHello */
  cipherSuite: string;
  /** server_name of the ClientHello, "" when absent */
  sni: string;
  /** ALPN protocol the server selected, "" when none */
  alpn: string;
  decrypted: boolean;
  /** why not decrypted (no key for this session, decryption failed at record N, ...) */
  reason?: string;
  /** TLS records seen so far in each direction */
  records: { client: number; server: number };
}

export interface SummaryEvent {
  type: 'summary';
  packets: number;
  connections: number;
  messages: number;
  frames: number;
  findings: number;
  bytes: number;
  /** seconds between first and last packet */
  seconds: number;
}

export type EngineEvent =
  | ConnectionEvent
  | HandshakeEvent
  | FrameEvent
  | MessageEvent
  | FindingEvent
  | DatagramEvent
  | Http2RequestEvent
  | PollingEvent
  | ConnectionEndEvent
  | TlsEvent
  | SummaryEvent;

export type EventSink = (ev: EngineEvent) => void;
