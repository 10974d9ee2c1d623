/**
 * What the session store keeps beyond WebSocket frames and messages: each message's decoded
 * application packets (engine/app/, `MessageEvent.app`) with the reply -> request links
 * between them, each connection's TLS facts (`tls` event), how a WebSocket rides on HTTP/2
 * (the carried `connection` event's `parent`/`h2Stream`) and the plain HTTP/2 requests
 * (`http2-request` events). ingest.ts writes it (one function per event kind below);
 * detail.ts, query.ts, replay.ts and export.ts read it.
 *
 * Secrets: nothing here ever holds key material. A TLS event carries none; the client random
 * kept for a session without a key is public (it travels in the ClientHello) and is what a
 * user looks for in a key log.
 *
 * Links: a correlated reply carries `requestTs` (the ts of its request's message); the
 * request is the message of the same connection, other direction, with that ts that carried
 * packets. Messages with packets are keyed by (connection, direction, ts) for that lookup.
 *
 * Bounds: one entry per message that carried `app` (the message table's bound and the row
 * budget apply: a message dropped there is never indexed), at most MAX_SHAPES packet shapes, at most MAX_REPLIES_KEPT replies listed per
 * request, at most MAX_H2_REQUESTS plain HTTP/2 requests (further ones are counted only), at
 * most MAX_POLLING polling bodies (indexed by their Engine.IO `sid` for the connection detail).
 *
 * Memory: packets are kept encoded (`encode`: JSON in UTF-8, each packet as its shape and
 * values) in arena chunks, and the links and the (conn, dir, ts) lookup in typed columns, all
 * charged to the session's row budget (shared/column-table.ts RowBudget): a message whose
 * packets do not fit is not kept (ingest.ts counts it in `messages-not-listed`). Readers get
 * fresh objects decoded on demand (`packets`). TLS and HTTP/2 request events are kept as the
 * event gave them (the pipeline builds them per event and never reuses them).
 */
import type { AppFacets, AppFilter, H2Carriage, Http2RequestRow, TlsInfo } from '../../shared/api';
import type { AppPacket, AppValue, ConnectionEvent, Direction, FindingEvent, Http2RequestEvent, PollingEvent, TlsEvent } from '../../shared/events';
import { appName, describeApp } from '../../shared/app';
import { ChunkedTable, DEFAULT_MAX_ROWS, type RowBudget } from '../../shared/column-table';

/** replies listed per request (a subscription's stream of `next` stays bounded) */
export const MAX_REPLIES_KEPT = 256;
/** plain HTTP/2 requests kept per session */
export const MAX_H2_REQUESTS = 100_000;
/** Engine.IO polling bodies (`polling` events) kept, for the event log's replay */
export const MAX_POLLING = 100_000;

/** the client random a tls-no-key finding names (engine/tls/tls-layer.ts noKey) */
const CLIENT_RANDOM_RE = /client random ([0-9a-f]{64})/;

/**
 * Bytes of one arena chunk: the encoded packets of many messages (a larger record gets a chunk
 * of its own). A chunk is charged to the row budget whole when it is made.
 */
export const ARENA_CHUNK = 1 << 20;
/** first capacity of the (conn, dir, ts) -> row hash (slots of 4 bytes, at most half used) */
const FIRST_SLOTS = 1 << 12;
/**
 * Per message row: where its encoded packets are (arena chunk, offset, length; length 0: the
 * message carried no `app`), its request (row + 1, 0: none) and its replies as a list threaded
 * through the rows (first, last, next: row + 1) with their count (at most MAX_REPLIES_KEPT).
 */
const ROW_COLUMNS = { chunk: 'u32', off: 'u32', len: 'u32', req: 'u32', first: 'u32', last: 'u32', next: 'u32', replies: 'u16' } as const;

/** The connection, direction and time of message row `r` (the session's message table answers). */
export interface RowKeys {
  conn(r: number): number;
  dir(r: number): Direction;
  ts(r: number): number;
}

/**
 * The field names and the protocol and type of a packet, kept once for all the packets of
 * that shape: a packet is encoded as [shape, ...its other values] (a Socket.IO event: its
 * namespace, ack id, event name and arguments).
 */
interface Shape {
  protocol: string;
  type: string;
  keys: string[];
}
/** shapes kept per session (each decoder has a few dozen); a packet of a further shape is encoded whole */
export const MAX_SHAPES = 4096;
/** longest shape key kept ("protocol\0type\0field..."); a longer one is encoded whole */
const SHAPE_KEY_MAX = 512;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const tsBits = new Float64Array(1);
const tsWords = new Uint32Array(tsBits.buffer);

export class AppIndex {
  /** message row -> where its packets are, its request and replies (ROW_COLUMNS) */
  private readonly rows: ChunkedTable<typeof ROW_COLUMNS>;
  /** the encoded packets (JSON, UTF-8), in chunks of ARENA_CHUNK bytes or one record */
  private readonly arena: Uint8Array[] = [];
  /** bytes used in the last arena chunk */
  private arenaUsed = 0;
  /**
   * "conn/dir/ts" -> first message row with packets at that time, as an open-addressed hash of
   * row + 1 (0: empty) whose keys are read back from the message table (`key`): 8 bytes or
   * less a message, charged to the row budget as it doubles.
   */
  private slots = new Int32Array(0);
  /** packet shapes (protocol, type, field names in order), at most MAX_SHAPES */
  private readonly shapes: Shape[] = [];
  /** "protocol\0type\0field..." -> position in `shapes` */
  private readonly shapeIds = new Map<string, number>();
  private slotsUsed = 0;
  /** connection -> the TLS event that describes it */
  readonly tls = new Map<number, TlsEvent>();
  /** connection -> client random of a session without a key */
  readonly clientRandom = new Map<number, string>();
  /** carried connection -> its carriage */
  readonly h2 = new Map<number, H2Carriage>();
  readonly h2Requests: Http2RequestEvent[] = [];
  /** HTTP/2 requests dropped past MAX_H2_REQUESTS */
  h2RequestsDropped = 0;
  /** Engine.IO long-polling bodies (engine/http/polling.ts), at most MAX_POLLING */
  readonly polling: PollingEvent[] = [];
  /** Engine.IO sid -> positions in `polling` (those kept, so bounded by MAX_POLLING) */
  private readonly pollingBySid = new Map<string, number[]>();
  /** connection -> the protocol that decoded it */
  readonly connProtocol = new Map<number, string>();

  constructor(
    private readonly budget: RowBudget,
    private readonly keys: RowKeys,
    maxRows = DEFAULT_MAX_ROWS,
  ) {
    this.rows = new ChunkedTable(ROW_COLUMNS, { maxRows, budget });
  }

  /** The form a message's packets are kept in (JSON as UTF-8: a few bytes a field, no object). */
  encode(app: readonly AppPacket[]): Uint8Array {
    const out: unknown[] = [];
    for (const p of app) {
      const keys = Object.keys(p);
      const vals: unknown[] = [];
      let shapeKey = `${p.protocol}\0${p.type}`;
      let plain = typeof p.protocol === 'string' && typeof p.type === 'string';
      for (const k of keys) {
        const v = p[k];
        if (v === undefined) plain = false;
        shapeKey += `\0${k}`;
        if (k !== 'protocol' && k !== 'type') vals.push(v);
      }
      let id = plain && shapeKey.length <= SHAPE_KEY_MAX ? this.shapeIds.get(shapeKey) : undefined;
      if (plain && id === undefined && shapeKey.length <= SHAPE_KEY_MAX && this.shapes.length < MAX_SHAPES) {
        id = this.shapes.length;
        this.shapes.push({ protocol: p.protocol, type: p.type, keys });
        this.shapeIds.set(shapeKey, id);
      }
      // a packet of a new shape past MAX_SHAPES (or with an undefined field) is kept as it is
      out.push(id === undefined ? p : [id, ...vals]);
    }
    return utf8.encode(JSON.stringify(out));
  }

  /** The packets `encode` wrote (fresh objects, fields in their order). */
  private decode(bytes: Uint8Array): AppPacket[] {
    const list = JSON.parse(utf8Decoder.decode(bytes)) as (AppPacket | AppValue[])[];
    return list.map((e) => {
      if (!Array.isArray(e)) return e;
      const shape = this.shapes[e[0] as number];
      const p: AppPacket = { protocol: shape.protocol, type: shape.type };
      let at = 1;
      for (const k of shape.keys) if (k !== 'protocol' && k !== 'type') p[k] = e[at++];
      return p;
    });
  }

  /**
   * Takes the row budget for message row `r` and its encoded packets (`bytes` long): its
   * index rows, an arena chunk when the last one has no room, the hash doubling; false (and
   * the message is not to be kept) when the budget has no room.
   */
  reserve(r: number, bytes: number): boolean {
    if (!this.rows.reserve(r + 1 - this.rows.length)) return false;
    const chunk = this.arena.length === 0 || this.arenaUsed + bytes > this.arena[this.arena.length - 1].length ? Math.max(bytes, ARENA_CHUNK) : 0;
    const slots = this.slotsUsed + 1 > this.slots.length >> 1 ? Math.max(FIRST_SLOTS, this.slots.length * 2) * 4 : 0;
    return this.budget.take(chunk + slots);
  }

  /** Message row `r` (connection `conn`, direction `dir`, time `ts`) carried `app`, encoded as `bytes`; `reserve` took its room. */
  addMessage(r: number, conn: number, dir: Direction, ts: number, app: readonly AppPacket[], bytes: Uint8Array): void {
    this.rows.append(r + 1 - this.rows.length);
    const c = this.rows.cols;
    let last = this.arena.length - 1;
    if (last < 0 || this.arenaUsed + bytes.length > this.arena[last].length) {
      this.arena.push(new Uint8Array(Math.max(bytes.length, ARENA_CHUNK)));
      this.arenaUsed = 0;
      last++;
    }
    this.arena[last].set(bytes, this.arenaUsed);
    c.chunk.set(r, last);
    c.off.set(r, this.arenaUsed);
    c.len.set(r, bytes.length);
    this.arenaUsed += bytes.length;
    if (app.length === 0) return;
    if (!this.connProtocol.has(conn)) this.connProtocol.set(conn, app[0].protocol);
    this.index(r, conn, dir, ts);
    for (const p of app) {
      if (p.requestTs === undefined) continue;
      const req = this.find(conn, dir === 'client' ? 'server' : 'client', p.requestTs);
      if (req < 0 || c.req.get(r) !== 0) continue;
      c.req.set(r, req + 1);
      const n = c.replies.get(req);
      if (n >= MAX_REPLIES_KEPT) continue;
      c.replies.set(req, n + 1);
      const tail = c.last.get(req);
      if (tail === 0) c.first.set(req, r + 1);
      else c.next.set(tail - 1, r + 1);
      c.last.set(req, r + 1);
    }
  }

  /** the packets of message row `r` (a fresh list), or undefined when its message carried no `app` */
  packets(r: number): AppPacket[] | undefined {
    if (r >= this.rows.length) return undefined;
    const c = this.rows.cols;
    const len = c.len.get(r);
    if (len === 0) return undefined;
    const off = c.off.get(r);
    return this.decode(this.arena[c.chunk.get(r)].subarray(off, off + len));
  }

  /** the request row of reply row `r`, or undefined */
  requestOf(r: number): number | undefined {
    const q = r < this.rows.length ? this.rows.cols.req.get(r) : 0;
    return q === 0 ? undefined : q - 1;
  }

  /** the reply rows of request row `r` (at most MAX_REPLIES_KEPT), or undefined when none */
  repliesOf(r: number): number[] | undefined {
    if (r >= this.rows.length) return undefined;
    const c = this.rows.cols;
    const out: number[] = [];
    for (let x = c.first.get(r); x !== 0; x = c.next.get(x - 1)) out.push(x - 1);
    return out.length ? out : undefined;
  }

  /** the meaning column of message row `r` ('' for none) */
  meaning(r: number): string {
    const app = this.packets(r);
    return app && app.length ? describeApp(app) : '';
  }

  /** the hash slot of (conn, dir, ts) to start probing at */
  private hash(conn: number, dir: Direction, ts: number): number {
    tsBits[0] = ts;
    let h = Math.imul(conn ^ (dir === 'server' ? 0x9e3779b9 : 0), 0x85ebca6b) ^ tsWords[0];
    h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35) ^ tsWords[1];
    h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
    return (h ^ (h >>> 16)) & (this.slots.length - 1);
  }

  /** Makes row `r` the one of its (conn, dir, ts) unless an earlier row is. */
  private index(r: number, conn: number, dir: Direction, ts: number): void {
    if (this.find(conn, dir, ts) >= 0) return;
    if (this.slotsUsed + 1 > this.slots.length >> 1) this.grow();
    const s = this.slots;
    let i = this.hash(conn, dir, ts);
    while (s[i] !== 0) i = (i + 1) & (s.length - 1);
    s[i] = r + 1;
    this.slotsUsed++;
  }

  /** the first row with packets of (conn, dir, ts), or -1 */
  private find(conn: number, dir: Direction, ts: number): number {
    const s = this.slots;
    if (s.length === 0) return -1;
    for (let i = this.hash(conn, dir, ts); s[i] !== 0; i = (i + 1) & (s.length - 1)) {
      const r = s[i] - 1;
      if (this.keys.ts(r) === ts && this.keys.conn(r) === conn && this.keys.dir(r) === dir) return r;
    }
    return -1;
  }

  /** doubles the hash (its bytes were taken by `reserve`) */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(Math.max(FIRST_SLOTS, old.length * 2));
    const s = this.slots;
    for (const v of old) {
      if (v === 0) continue;
      const r = v - 1;
      let i = this.hash(this.keys.conn(r), this.keys.dir(r), this.keys.ts(r));
      while (s[i] !== 0) i = (i + 1) & (s.length - 1);
      s[i] = v;
    }
  }

  /** A carried connection was announced (RFC 8441: a WebSocket on an HTTP/2 stream). */
  addConnection(ev: ConnectionEvent): void {
    if (ev.parent !== undefined && ev.h2Stream !== undefined) this.h2.set(ev.id, { parent: ev.parent, stream: ev.h2Stream, settingSeen: this.h2.get(ev.id)?.settingSeen ?? true });
  }

  addTls(ev: TlsEvent): void {
    this.tls.set(ev.conn, ev);
  }

  /** Facts some findings add to a connection: the client random of a session without a key, a CONNECT without the server's setting. */
  addFinding(ev: Pick<FindingEvent, 'id' | 'conn' | 'text'>): void {
    if (ev.id === 'tls-no-key') {
      const m = CLIENT_RANDOM_RE.exec(ev.text);
      if (m) this.clientRandom.set(ev.conn, m[1]);
    } else if (ev.id === 'h2-connect-without-setting') {
      const c = this.h2.get(ev.conn);
      if (c) c.settingSeen = false;
    }
  }

  /** Stores an HTTP/2 request; false when the bound dropped it. */
  addH2Request(ev: Http2RequestEvent): boolean {
    if (this.h2Requests.length >= MAX_H2_REQUESTS) {
      this.h2RequestsDropped++;
      return false;
    }
    this.h2Requests.push(ev);
    return true;
  }

  /** Stores a polling event; false when the bound dropped it. */
  addPolling(ev: PollingEvent): boolean {
    if (this.polling.length >= MAX_POLLING) return false;
    if (ev.sid !== '') {
      let list = this.pollingBySid.get(ev.sid);
      if (!list) this.pollingBySid.set(ev.sid, (list = []));
      list.push(this.polling.length);
    }
    this.polling.push(ev);
    return true;
  }

  /** the polling bodies of Engine.IO session `sid`, in capture order */
  pollingOf(sid: string): PollingEvent[] {
    return (this.pollingBySid.get(sid) ?? []).map((i) => this.polling[i]);
  }

  /** The TLS facts of connection `conn`, or of the TLS connection carrying it (`parent`). */
  tlsInfo(conn: number, parent?: number): TlsInfo | undefined {
    const own = this.tls.get(conn);
    const ev = own ?? (parent === undefined ? undefined : this.tls.get(parent));
    if (!ev) return undefined;
    const via = own ? conn : (parent as number);
    const info: TlsInfo = { version: ev.version, cipherSuite: ev.cipherSuite, sni: ev.sni, alpn: ev.alpn, decrypted: ev.decrypted, records: { ...ev.records } };
    if (ev.reason !== undefined) info.reason = ev.reason;
    const cr = this.clientRandom.get(via);
    if (cr !== undefined && !ev.decrypted) info.clientRandom = cr;
    if (!own) info.via = via;
    return info;
  }

  /** the HTTP/2 requests of connection `conn`, in order */
  h2RequestsOf(conn: number): Http2RequestRow[] {
    const out: Http2RequestRow[] = [];
    for (const { type: _t, ...rest } of this.h2Requests) if (rest.conn === conn) out.push(rest);
    return out;
  }

  /** A test for message rows against a decoded-field filter; null when the filter asks nothing. */
  rowTest(f: AppFilter | undefined): ((r: number) => boolean) | null {
    if (!f || (!f.protocol && !f.type && !f.name)) return null;
    return (r) => {
      const app = this.packets(r);
      if (!app) return false;
      for (const p of app) {
        if (f.protocol && p.protocol !== f.protocol) continue;
        if (f.type && p.type !== f.type) continue;
        if (f.name && appName(p) !== f.name) continue;
        return true;
      }
      return false;
    };
  }

  /** Messages counted per decoded protocol, type and name (a message counts once per value), over `conn` or all (null). */
  facets(connOf: (r: number) => number, conn: number | null): AppFacets {
    const protos = new Map<string, number>();
    const types = new Map<string, number>();
    const names = new Map<string, number>();
    const seen = new Set<string>();
    const bump = (m: Map<string, number>, k: string): void => {
      if (seen.has(k)) return;
      seen.add(k);
      m.set(k, (m.get(k) ?? 0) + 1);
    };
    for (let r = 0; r < this.rows.length; r++) {
      // a row of no packets is "[]" (2 bytes) or absent (0)
      if (this.rows.cols.len.get(r) <= 2 || (conn !== null && connOf(r) !== conn)) continue;
      const app = this.packets(r) as AppPacket[];
      seen.clear();
      for (const p of app) {
        bump(protos, p.protocol);
        bump(types, `${p.protocol}\0${p.type}`);
        const n = appName(p);
        if (n) bump(names, `${p.protocol}\0\0${n}`);
      }
    }
    const split = (k: string, sep: string): [string, string] => {
      const at = k.indexOf(sep);
      return [k.slice(0, at), k.slice(at + sep.length)];
    };
    const byCount = <T extends { count: number }>(a: T[]): T[] => a.sort((x, y) => y.count - x.count);
    return {
      protocols: byCount([...protos].map(([protocol, count]) => ({ protocol, count }))),
      types: byCount(
        [...types].map(([k, count]) => {
          const [protocol, type] = split(k, '\0');
          return { protocol, type, count };
        }),
      ),
      names: byCount(
        [...names].map(([k, count]) => {
          const [protocol, name] = split(k, '\0\0');
          return { protocol, name, count };
        }),
      ),
    };
  }
}
