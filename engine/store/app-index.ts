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
 * Bounds: one entry per message that carried `app` (the message table's bound applies: a
 * message dropped there is never indexed), at most MAX_REPLIES_KEPT replies listed per
 * request, at most MAX_H2_REQUESTS plain HTTP/2 requests (further ones are counted only), at
 * most MAX_POLLING polling bodies (indexed by their Engine.IO `sid` for the connection detail).
 *
 * Memory: packets are kept as the event gave them (the pipeline builds them per message and
 * never reuses them); TLS and HTTP/2 request events likewise.
 */
import type { AppFacets, AppFilter, H2Carriage, Http2RequestRow, TlsInfo } from '../../shared/api';
import type { AppPacket, ConnectionEvent, Direction, FindingEvent, Http2RequestEvent, PollingEvent, TlsEvent } from '../../shared/events';
import { appName, describeApp } from '../../shared/app';

/** replies listed per request (a subscription's stream of `next` stays bounded) */
export const MAX_REPLIES_KEPT = 256;
/** plain HTTP/2 requests kept per session */
export const MAX_H2_REQUESTS = 100_000;
/** Engine.IO polling bodies (`polling` events) kept, for the event log's replay */
export const MAX_POLLING = 100_000;

const NO_PACKETS: readonly AppPacket[] = Object.freeze([]) as readonly AppPacket[];
/** the client random a tls-no-key finding names (engine/tls/tls-layer.ts noKey) */
const CLIENT_RANDOM_RE = /client random ([0-9a-f]{64})/;

export class AppIndex {
  /** message row -> its packets (an empty list: a message of a decoded connection that completed none) */
  readonly packets = new Map<number, readonly AppPacket[]>();
  /** reply row -> request row */
  readonly requestOf = new Map<number, number>();
  /** request row -> reply rows */
  readonly repliesOf = new Map<number, number[]>();
  /** "conn/dir/ts" -> first message row with packets at that time */
  private readonly byTime = new Map<string, number>();
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

  /** Message row `r` (connection `conn`, direction `dir`, time `ts`) carried `app`. */
  addMessage(r: number, conn: number, dir: Direction, ts: number, app: readonly AppPacket[]): void {
    this.packets.set(r, app.length === 0 ? NO_PACKETS : app);
    if (app.length === 0) return;
    if (!this.connProtocol.has(conn)) this.connProtocol.set(conn, app[0].protocol);
    const key = `${conn}/${dir}/${ts}`;
    if (!this.byTime.has(key)) this.byTime.set(key, r);
    for (const p of app) {
      if (p.requestTs === undefined) continue;
      const req = this.byTime.get(`${conn}/${dir === 'client' ? 'server' : 'client'}/${p.requestTs}`);
      if (req === undefined || this.requestOf.has(r)) continue;
      this.requestOf.set(r, req);
      let list = this.repliesOf.get(req);
      if (!list) this.repliesOf.set(req, (list = []));
      if (list.length < MAX_REPLIES_KEPT) list.push(r);
    }
  }

  /** the meaning column of message row `r` ('' for none) */
  meaning(r: number): string {
    const app = this.packets.get(r);
    return app && app.length ? describeApp(app) : '';
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
      const app = this.packets.get(r);
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
    for (const [r, app] of this.packets) {
      if (app.length === 0 || (conn !== null && connOf(r) !== conn)) continue;
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
