/**
 * The one typed contract between the engine and the UI.
 *
 * The renderer only ever talks to an object of type `WsscopeApi`. Two implementations:
 *  - Electron: electron/preload exposes it as `window.api` over IPC (channel names below);
 *  - browser shell (`wsscope serve`): renderer/src/api/ws-client.ts speaks it over one
 *    WebSocket to engine/serve, with the same call names and event names.
 *
 * Everything here survives structured clone (numbers, strings, booleans, Uint8Array, plain
 * objects and arrays). Calls never throw across the boundary: they resolve to `Result<T>`.
 * No Node types in this file.
 */
import type { AppPacket, AppValue, Direction, FindingEvent, HandshakeEvent, Http2RequestEvent, Severity, TlsEvent } from './events';

// ---------------------------------------------------------------- results and errors

export type ErrorCode =
  | 'not-found'
  | 'not-a-capture'
  | 'io'
  | 'permission-denied'
  | 'no-such-interface'
  | 'invalid-filter'
  | 'interface-down'
  | 'dumpcap-missing'
  | 'capture-running'
  | 'no-capture'
  | 'engine-crashed'
  | 'bad-request'
  | 'unsupported'
  | 'cancelled'
  | 'internal'
  /** a disk wsscope writes to (scratch folder, capture file) is full or failing */
  | 'disk-full';

export interface ApiError {
  code: ErrorCode;
  /** one sentence a person understands, saying what to do where possible */
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = (code: ErrorCode, message: string): Result<never> => ({ ok: false, error: { code, message } });

// ---------------------------------------------------------------- DTOs

export interface InterfaceInfo {
  name: string;
  description: string;
  addresses: string[];
  loopback: boolean;
  up: boolean;
  running: boolean;
}

export interface CaptureOptions {
  iface: string;
  filter?: string;
  snaplen?: number;
  bufferSize?: number;
  promiscuous?: boolean;
  durationSeconds?: number;
  count?: number;
  backend?: 'auto' | 'cap' | 'dumpcap';
}

/** What is loaded now: a file, a live capture, or nothing. */
export interface SessionInfo {
  id: number;
  kind: 'file' | 'live' | 'none';
  /** file opened, or the pcapng being written by a live capture; an upload's: the user's file name */
  path: string;
  /** for files: size in bytes */
  totalBytes: number;
  /**
   * true: an upload (browser shell): `path` is the name the user's file had, the capture read
   * is a temporary copy that cannot be opened again by that name (absent otherwise)
   */
  upload?: true;
}

export interface ConnectionRow {
  id: number;
  transport: 'tcp' | 'udp';
  client: string;
  server: string;
  ts: number;
  websocket: boolean;
  /** "ws://host/path" when a handshake was seen */
  url: string;
  protocol: string;
  extensions: string;
  state: 'open' | 'closing' | 'closed' | 'failed';
  /** HTTP status of the upgrade answer (0 = none seen) */
  status: number;
  messages: number;
  frames: number;
  datagrams: number;
  findings: number;
  /** bytes of WebSocket frames on the wire (headers + payloads), both directions */
  wireBytes: number;
  /** message payload bytes after unmasking and inflation */
  payloadBytes: number;
  /** compressed payload bytes on the wire, for messages with RSV1 */
  compressedWireBytes: number;
  /** inflated size of those */
  compressedPayloadBytes: number;
  handshakeBytes: number;
  lastTs: number;
  /** a TLS connection (itself, or the one carrying it): what its handshake said, never key material */
  tls?: TlsInfo;
  /** a WebSocket carried on an HTTP/2 stream (RFC 8441) */
  h2?: H2Carriage;
  /** plain HTTP/2 requests listed on this connection (it carries HTTP/2) */
  http2Requests?: number;
  /** the subprotocol decoder of this connection (engine/app/ id), once it decoded a packet */
  app?: string;
  /** the decoder the user chose for it (`setDecoder`), 'none' = off; absent = automatic */
  decodeAs?: string;
}

/**
 * A TLS connection as the UI lists it (the `tls` event, shared/events.ts TlsEvent): SNI,
 * version, suite, ALPN, and decrypted or why not. No secret ever: the client random is public
 * (it travels in the ClientHello) and is what a user looks for in a key log.
 */
export type TlsInfo = Pick<TlsEvent, 'version' | 'cipherSuite' | 'sni' | 'alpn' | 'decrypted' | 'reason' | 'records'> & {
  /** hex client random of a session without a key (from its tls-no-key finding) */
  clientRandom?: string;
  /** true when this row is carried by the TLS connection `via` (HTTP/2 over TLS) */
  via?: number;
};

/** How a WebSocket rides on HTTP/2 (RFC 8441). */
export interface H2Carriage {
  /** the TCP connection carrying the HTTP/2 session */
  parent: number;
  /** the stream id of the extended CONNECT */
  stream: number;
  /** false when the CONNECT came without the server's SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 */
  settingSeen: boolean;
}

/** One plain HTTP/2 request on a connection (the `http2-request` event without its type). */
export type Http2RequestRow = Omit<Http2RequestEvent, 'type'>;

/** Packets described per polling body in an EngineIoSession at most (the rest counted). */
export const ENGINE_IO_PACKETS_LISTED = 32;
/** Polling bodies listed in an EngineIoSession at most (the rest counted). */
export const ENGINE_IO_BODIES_LISTED = 500;

/** One body of an Engine.IO long-polling exchange (a `polling` event), as the connection detail lists it. */
export interface PollingBodyRow {
  /** the HTTP/1.1 connection that carried it */
  conn: number;
  /** client: a POST's payload; server: the answer to a GET (or POST) */
  dir: Direction;
  ts: number;
  packet: number;
  method: string;
  length: number;
  /** not decoded (cut, over a bound, or not decodable) */
  truncated: boolean;
  /** meaning of each packet it carried (the timeline's meaning text), at most ENGINE_IO_PACKETS_LISTED */
  packets: string[];
  /** packets it carried in all */
  packetCount: number;
}

/**
 * The Engine.IO session a WebSocket connection upgraded (its handshake's `sid`): the
 * long-polling bodies of the same `sid` on other connections, before and after the upgrade.
 */
export interface EngineIoSession {
  sid: string;
  /** Engine.IO protocol version from the URLs' `EIO=` (3: Socket.IO 2, 4: Socket.IO 3 and 4) */
  eio: number;
  /** the WebSocket connection and the time of its opening handshake */
  conn: number;
  upgradeTs: number;
  /** polling bodies of the session, all of them (`bodies` lists the first ENGINE_IO_BODIES_LISTED) */
  total: number;
  /** of those, the ones before the upgrade's handshake */
  beforeUpgrade: number;
  /** first and last body's time (0 when none) */
  first: number;
  last: number;
  /** the HTTP connections that carried them, in order of first use */
  conns: number[];
  bodies: PollingBodyRow[];
}

/** Decoded fields the timeline can be filtered on (all given ones must match one packet). */
export interface AppFilter {
  protocol?: string;
  type?: string;
  /** event (Socket.IO), topic (MQTT, Phoenix, WAMP), destination (STOMP), method (JSON-RPC), ... */
  name?: string;
}

/** How many messages carry packets with each decoded value (shared/app.ts `appName`). */
export interface AppFacets {
  protocols: Array<{ protocol: string; count: number }>;
  types: Array<{ protocol: string; type: string; count: number }>;
  names: Array<{ protocol: string; name: string; count: number }>;
}

/** The key logs loaded into the engine: names and counts only, never a secret. */
export interface KeyLogInfo {
  files: Array<{ name: string; sessions: number; warnings: number }>;
  /** client randoms with a secret, over all files */
  sessions: number;
  /** TLS connections of the current session that are decrypted */
  decrypted: number;
  /** TLS connections of the current session */
  tlsConnections: number;
}

/** One timeline row. `preview` is plain text (never HTML), at most ~200 chars. */
export interface MessageRow {
  index: number;
  conn: number;
  dir: Direction;
  ts: number;
  opcode: number;
  length: number;
  wireLength: number;
  compressed: boolean;
  /** first frame's bits */
  fin: boolean;
  rsv: number;
  masked: boolean;
  frames: number;
  truncated: boolean;
  preview: string;
  /** payload kind used for the preview */
  kind: 'text' | 'binary' | 'close' | 'ping' | 'pong' | 'other';
  findings: number;
  code?: number;
  /** what the message means (shared/app.ts describeAppPacket of its packets, ' · ' between), plain text */
  meaning?: string;
}

export interface FrameDetail {
  index: number;
  ts: number;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  maskKey: string;
  length: number;
  header: Uint8Array;
  /** wire (masked) payload, possibly cut to `detailByteLimit` */
  wirePayload: Uint8Array;
  /** unmasked payload, possibly cut the same way */
  payload: Uint8Array;
  packets: number[];
}

export interface MessageDetail {
  row: MessageRow;
  frames: FrameDetail[];
  /** unmasked, reassembled, inflated payload, possibly cut to `detailByteLimit` */
  data: Uint8Array;
  dataTruncated: boolean;
  closeCode?: number;
  closeReason?: string;
  closeMeaning?: string;
  findings: FindingRow[];
  /** the application packets the message completes (engine/app/), when its connection has a decoder */
  app?: AppPacket[];
  /** a reply: the message index of its request */
  request?: number;
  /** a request: the message indexes of its replies (at most DETAIL_MAX_REPLIES) */
  replies?: number[];
  /**
   * a binary payload that parses completely as MessagePack or CBOR (a map or an array), and as
   * protobuf wire format without a schema (an opt-in view): engine/app/binary-tree.ts
   */
  trees?: Array<{ format: 'msgpack' | 'cbor' | 'protobuf'; value: AppValue }>;
}

export type FindingRow = Omit<FindingEvent, 'type'> & {
  index: number;
  /** the timeline message (MessageRow.index) this finding is about, when it is known */
  message?: number;
};

export interface ConnStats {
  conn: number;
  wireBytes: number;
  payloadBytes: number;
  headerBytes: number;
  handshakeBytes: number;
  compressedWireBytes: number;
  compressedPayloadBytes: number;
  messages: number;
  /** per-second buckets since the connection opened */
  perSecond: Array<{ t: number; messages: number; bytes: number }>;
  /** what the same messages would cost as HTTP polling requests carrying the handshake's headers */
  pollingBytesEstimate: number;
  /** connections counted: 1, or every WebSocket connection for ALL_CONNECTIONS */
  connections: number;
  /**
   * Messages and wire bytes in `binSeconds`-wide buckets from capture time `start`: a bin
   * width from a 1-2-5 ladder giving at most 60 buckets, so 14 ms of traffic gets 250 us bins
   * and a day gets 30 min ones.
   */
  rate: { start: number; binSeconds: number; bins: Array<{ messages: number; bytes: number }> };
}
/** getStats(ALL_CONNECTIONS): the figures of all connections together (0 is never a connection's id). */
export const ALL_CONNECTIONS = 0;

export interface ProgressInfo {
  bytesRead: number;
  totalBytes: number;
  packets: number;
  done: boolean;
  /**
   * set when the session holds less than the capture (a disk that filled up, a cancelled
   * read, the kept-payload limit): one sentence saying what is missing
   */
  incomplete?: string;
}

export interface CaptureStatus {
  state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  iface: string;
  backend: 'cap' | 'dumpcap' | '';
  packets: number;
  bytes: number;
  /** null when the backend cannot tell (cap exposes no pcap_stats) */
  drops: number | null;
  file: string;
  error?: ApiError;
}

/** What the engine pushes, batched every ~50 ms (never one push per packet). */
export interface Batch {
  session: number;
  /** new or changed connections (upsert by id) */
  connections: ConnectionRow[];
  /** new timeline rows as objects, in index order (tests and small shells; see `rows`) */
  messages: MessageRow[];
  /**
   * new timeline rows by column, in index order, after those of `messages`: what the engine
   * sends (shared/row-block.ts has the layout; `batchRows` turns both into objects)
   */
  rows?: RowBlock;
  findings: FindingRow[];
  /** handshakes completed in this batch */
  handshakes: HandshakeEvent[];
  totals: { packets: number; messages: number; findings: number; connections: number };
}

/**
 * Timeline rows packed by column (shared/row-block.ts): `count` rows, their numbers in
 * `data`, their previews joined by "\n" (a preview never holds one: controls are shown as
 * control pictures).
 */
export interface RowBlock {
  count: number;
  data: Uint8Array;
  previews: string;
  /** the rows' decoded meanings joined by "\n" ('' for none), absent when no row has one */
  meanings?: string;
}

export interface MessageQuery {
  text?: string;
  regex?: boolean;
  dir?: Direction | '';
  opcodes?: number[];
  conn?: number | null;
  findingsOnly?: boolean;
  severity?: Severity | '';
  /** decoded fields (runs in the engine whatever the session's size) */
  app?: AppFilter;
}

/** Options of exportData. */
export interface ExportOptions {
  /** pcapng: embed the loaded key logs as a Decryption Secrets Block (they decrypt the traffic) */
  secrets?: boolean;
  /** NDJSON and HAR: only the messages this query matches (the UI's filtered timeline), with their connections */
  filter?: MessageQuery;
}

export type ExportFormat = 'ndjson' | 'har' | 'pcapng';

/**
 * What `cancel` stops: `open` the reading of the file being loaded (the session keeps what
 * was read; the last progress says it is incomplete), `query` the running message queries,
 * `export` the running exports (they answer `cancelled` and leave no file behind).
 */
export type CancelKind = 'open' | 'query' | 'export';

// ---------------------------------------------------------------- the contract

export interface WsscopeApi {
  listInterfaces(): Promise<Result<InterfaceInfo[]>>;
  validateFilter(filter: string, iface?: string): Promise<Result<true>>;
  /**
   * open a capture by path (Electron dialog paths, drag-and-drop, recent files, `serve FILE`).
   * `name`: the name the session shows instead of the path (a browser upload stored under a
   * temporary path shows the user's file name); a file opened with a name is not added to the
   * recent files, whose entries must be paths that can be opened again.
   */
  openFile(path: string, name?: string): Promise<Result<SessionInfo>>;
  /** Electron only: show the open dialog; resolves null when cancelled */
  openFileDialog(): Promise<Result<SessionInfo | null>>;
  /** browser shell: upload the bytes of a dropped file */
  openBytes(name: string, bytes: Uint8Array): Promise<Result<SessionInfo>>;
  recentFiles(): Promise<Result<string[]>>;
  startCapture(opts: CaptureOptions): Promise<Result<SessionInfo>>;
  stopCapture(): Promise<Result<CaptureStatus>>;
  currentSession(): Promise<Result<SessionInfo>>;
  /**
   * Push the current session again from its first row, as batches, for a page that joined
   * late (a reload, a second browser tab, a live capture already running). Pages ignore rows
   * they already have (by index).
   */
  replay(): Promise<Result<SessionInfo>>;
  getMessageDetail(index: number): Promise<Result<MessageDetail>>;
  getHandshake(conn: number): Promise<Result<HandshakeEvent | null>>;
  /** one connection's figures, or all connections' together with ALL_CONNECTIONS */
  getStats(conn: number): Promise<Result<ConnStats>>;
  /** the matching message indexes, in order (filtering runs in the engine) */
  queryMessages(q: MessageQuery): Promise<Result<{ indexes: Uint32Array; total: number }>>;
  /**
   * Electron: asks for a path with a save dialog when `path` is omitted; browser: returns the
   * bytes for download. `opts.filter` (NDJSON and HAR): only the messages that match it, with
   * their connections; pcapng is always the whole capture (`opts.secrets` embeds the key logs).
   */
  exportData(format: ExportFormat, path?: string, opts?: ExportOptions): Promise<Result<{ path: string; bytes?: Uint8Array }>>;
  /** stops the long work of one kind (see CancelKind); answers how many were stopped */
  cancel(what: CancelKind): Promise<Result<{ cancelled: number }>>;
  /** counts of decoded protocols, types and names, over one connection or all (null) */
  getAppFacets(conn: number | null): Promise<Result<AppFacets>>;
  /** the plain HTTP/2 requests of a connection carrying HTTP/2 */
  getHttp2Requests(conn: number): Promise<Result<Http2RequestRow[]>>;
  /** the Engine.IO long-polling session a WebSocket connection upgraded (same `sid`); null when it names none */
  getEngineIoSession(conn: number): Promise<Result<EngineIoSession | null>>;
  /** the subprotocol decoders there are (ids for setDecoder) */
  listDecoders(): Promise<Result<string[]>>;
  /** decode connection `conn` as `protocol` ('none': no decoder, '': automatic); re-reads the file */
  setDecoder(conn: number, protocol: string): Promise<Result<SessionInfo>>;
  /** load a TLS key log by path (re-reads the file open now; a live capture uses it at once) */
  addKeyLog(path: string): Promise<Result<KeyLogInfo>>;
  /** Electron only: pick a key log with the open dialog; resolves null when cancelled */
  addKeyLogDialog(): Promise<Result<KeyLogInfo | null>>;
  /** a key log dropped on the window or picked in the browser */
  addKeyLogBytes(name: string, bytes: Uint8Array): Promise<Result<KeyLogInfo>>;
  /** what key logs are loaded (names and counts) */
  keyLogs(): Promise<Result<KeyLogInfo>>;

  onBatch(cb: (b: Batch) => void): () => void;
  onProgress(cb: (p: ProgressInfo) => void): () => void;
  onCaptureStatus(cb: (s: CaptureStatus) => void): () => void;
  onSession(cb: (s: SessionInfo) => void): () => void;
  onError(cb: (e: ApiError) => void): () => void;
}

/** Call names (renderer -> engine), one per method; IPC channel = `wsscope:<name>`. */
export const CALLS = [
  'listInterfaces',
  'validateFilter',
  'openFile',
  'openFileDialog',
  'openBytes',
  'recentFiles',
  'startCapture',
  'stopCapture',
  'currentSession',
  'replay',
  'getMessageDetail',
  'getHandshake',
  'getStats',
  'queryMessages',
  'exportData',
  'cancel',
  'getAppFacets',
  'getHttp2Requests',
  'getEngineIoSession',
  'listDecoders',
  'setDecoder',
  'addKeyLog',
  'addKeyLogDialog',
  'addKeyLogBytes',
  'keyLogs',
] as const satisfies ReadonlyArray<keyof WsscopeApi>;
export type CallName = (typeof CALLS)[number];

/** Pushed event names (engine -> renderer); IPC channel = `wsscope:event:<name>`. */
export const PUSHES = ['batch', 'progress', 'captureStatus', 'session', 'error'] as const;
export type PushName = (typeof PUSHES)[number];

export interface PushPayloads {
  batch: Batch;
  progress: ProgressInfo;
  captureStatus: CaptureStatus;
  session: SessionInfo;
  error: ApiError;
}

export type CallArgs<K extends CallName> = Parameters<WsscopeApi[K]>;
export type CallResult<K extends CallName> = Awaited<ReturnType<WsscopeApi[K]>>;

export const callChannel = (name: CallName): string => `wsscope:${name}`;
export const pushChannel = (name: PushName): string => `wsscope:event:${name}`;

/** Bytes of a payload sent in a MessageDetail at most (the rest is fetched by export). */
export const DETAIL_BYTE_LIMIT = 1 << 20;
