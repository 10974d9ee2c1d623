/**
 * SessionStore: everything the UI can ask about one loaded capture, fed by EngineEvents. A
 * thin front over the parts that do the work:
 *
 *  - session-data.ts: the tables (connections; messages, frames and datagrams in column
 *    tables; payload bytes in a PayloadStore that spills to a temp file; the event log) and
 *    their bounds;
 *  - ingest.ts: writes each event into them (the only writer);
 *  - batches.ts: `takeBatch()`, what changed since the previous call, for the UI feed;
 *  - query.ts, detail.ts, stats.ts: `query`, `detail`, `stats`;
 *  - replay.ts: the events again in their original order, for the exports (export.ts).
 *
 * Single-threaded, synchronous. Memory: `ingest` copies the payload bytes it keeps (small
 * events such as handshakes and findings are kept as given, they are structured-clone safe);
 * every read returns fresh objects. `close()` releases the spill file.
 */
import type { ConnectionEvent, EngineEvent, HandshakeEvent, MessageEvent } from '../../shared/events';
import type { AppFacets, Batch, ConnStats, ConnectionRow, EngineIoSession, Http2RequestRow, MessageDetail, MessageQuery, MessageRow } from '../../shared/api';
import { BatchFeed } from './batches';
import { engineIoSession, messageDetail } from './detail';
import { ingest, notePacketCount } from './ingest';
import type { PayloadStore } from './payload-store';
import { compileQuery, queryMessages, scanMessages } from './query';
import { messageEvent, messageRowsByConnection, replayEvents } from './replay';
import { timelineRow } from './rows';
import { SessionData, type SessionDataOptions } from './session-data';
import { connectionStats } from './stats';


export type SessionStoreOptions = SessionDataOptions;

/** Rows a paced query scans between looks at the clock (a few ms of RE2 at most). */
const QUERY_SLICE_ROWS = 8192;
/** How long a paced query runs before it yields (ms). */
const QUERY_SLICE_MS = 20;

export class SessionStore {
  private readonly d: SessionData;
  private readonly feed: BatchFeed;

  constructor(
    readonly session: number,
    opts: Partial<SessionStoreOptions> = {},
  ) {
    this.d = new SessionData(opts);
    this.feed = new BatchFeed(this.d, session);
  }

  get payloads(): PayloadStore {
    return this.d.payloads;
  }

  get messageCount(): number {
    return this.d.messages.length;
  }

  get frameCount(): number {
    return this.d.frames.length;
  }

  get findingCount(): number {
    return this.d.findings.length;
  }

  /** connections listed (with a row) */
  get connectionCount(): number {
    return this.d.conns.size;
  }

  /** connections that carried nothing, counted but not listed (session-data.ts QUIET_ROWS) */
  get unlistedConnections(): number {
    return this.d.unlisted;
  }

  /** packets seen, as far as the events tell (max packet number; exact after the summary) */
  get packetCount(): number {
    return this.d.packetCount;
  }

  /** frames and messages whose payload bytes were not kept whole (the payload limit, or a failed spill write) */
  get payloadCuts(): number {
    return this.d.payloadCuts;
  }

  /** events dropped because a table reached its bound (SessionStoreOptions.maxRows) */
  get droppedEvents(): number {
    return this.d.dropped;
  }

  setPackets(n: number): void {
    notePacketCount(this.d, n);
  }

  close(): void {
    this.d.payloads.close();
  }

  /** The EventSink: bind once, `store.ingest.bind(store)` or `(ev) => store.ingest(ev)`. */
  ingest(ev: EngineEvent): void {
    ingest(this.d, ev);
  }

  // ------------------------------------------------------------------ batches

  /** Make the next batches start again from the first row, connection and finding. */
  rewind(): void {
    this.feed.rewind();
  }

  /** What changed since the previous call, or null when nothing did. */
  takeBatch(): Batch | null {
    return this.feed.take();
  }

  /** true when `takeBatch` would return rows not yet handed out */
  get pending(): boolean {
    return this.feed.pending;
  }

  // ------------------------------------------------------------------ reads

  connections(): ConnectionRow[] {
    return this.d.connOrder.map((id) => this.connectionRow(id) as ConnectionRow);
  }

  connectionRow(conn: number): ConnectionRow | null {
    const c = this.d.conns.get(conn);
    return c ? { ...c.row } : null;
  }

  handshake(conn: number): HandshakeEvent | null {
    return this.d.conns.get(conn)?.handshake ?? null;
  }

  hasConnection(conn: number): boolean {
    return this.d.conns.has(conn);
  }

  /** The timeline row of message `index`, or null. */
  message(index: number): MessageRow | null {
    const r = this.d.messageRow(index);
    return r < 0 ? null : timelineRow(this.d, r);
  }

  /** Matching message indexes, in order (query.ts; throws SyntaxError on a bad regex). */
  query(q: MessageQuery): Uint32Array {
    return queryMessages(this.d, q);
  }

  /**
   * `query`, scanned QUERY_SLICE_ROWS rows at a time, giving the event loop a turn whenever
   * QUERY_SLICE_MS passed, so a query over millions of rows never holds up other calls; rejects
   * with the signal's reason once it is aborted. Covers the rows present when it started.
   */
  async queryPaced(q: MessageQuery, signal?: AbortSignal): Promise<Uint32Array> {
    signal?.throwIfAborted();
    const c = compileQuery(q);
    const n = this.d.messages.length;
    const out = new Uint32Array(n);
    let k = 0;
    let t = performance.now();
    for (let from = 0; from < n; from += QUERY_SLICE_ROWS) {
      k = scanMessages(this.d, c, from, Math.min(n, from + QUERY_SLICE_ROWS), out, k);
      if (performance.now() - t >= QUERY_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        t = performance.now();
      }
    }
    return out.slice(0, k);
  }

  /** Everything about message `index` for the detail pane, or null. */
  detail(index: number): MessageDetail | null {
    return messageDetail(this.d, index);
  }

  /** Per-connection figures, or null (stats.ts). */
  stats(conn: number): ConnStats | null {
    return connectionStats(this.d, conn);
  }

  // ------------------------------------------------------------------ replay (exports)

  /** Events ingested so far (the end to pass to `events` for a snapshot). */
  get eventCount(): number {
    return this.d.log.length;
  }

  /**
   * Replays the events in their original order (payloads re-read from memory or disk), up to
   * `end` (default: all, including any ingested while the replay runs).
   */
  events(end = Infinity): Generator<EngineEvent> {
    return replayEvents(this.d, end);
  }

  /** Message rows [0, end) grouped by connection, each in order (replay.ts). */
  messageRowsByConnection(end = this.d.messages.length): Map<number, number[]> {
    return messageRowsByConnection(this.d, end);
  }

  /** Message row `r` as its event (payload re-read from memory or disk). */
  messageEventAt(r: number): MessageEvent {
    return messageEvent(this.d, r);
  }

  // ------------------------------------------------------------------ decoded packets, TLS, HTTP/2 (app-index.ts)

  /** Message counts per decoded protocol, type and name, over connection `conn` or all (null). */
  appFacets(conn: number | null): AppFacets {
    const conns = this.d.messages.cols.conn;
    return this.d.app.facets((r) => conns.get(r), conn);
  }

  /** The plain HTTP/2 requests of connection `conn`. */
  http2Requests(conn: number): Http2RequestRow[] {
    return this.d.app.h2RequestsOf(conn);
  }

  /** The Engine.IO session WebSocket connection `conn` upgraded, with its polling bodies (detail.ts). */
  engineIoSession(conn: number): EngineIoSession | null {
    return engineIoSession(this.d, conn);
  }

  /** TLS connections: [decrypted, all]. */
  tlsCounts(): [number, number] {
    let dec = 0;
    for (const t of this.d.app.tls.values()) if (t.decrypted) dec++;
    return [dec, this.d.app.tls.size];
  }

  /** The decoders the user chose per connection, shown on their rows (set before ingesting). */
  setDecodeAs(map: Readonly<Record<number, string>>): void {
    this.d.decodeAs = map;
  }

  connectionIds(): number[] {
    return [...this.d.connOrder];
  }

  connectionEvent(conn: number): ConnectionEvent | null {
    return this.d.conns.get(conn)?.ev ?? null;
  }
}
