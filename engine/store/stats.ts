/**
 * Connection statistics (ConnStats of shared/api.ts), of one connection or, for
 * ALL_CONNECTIONS, of every connection together: byte totals from the connection rows,
 * messages per second since the connection opened, the message rate in bins sized to the
 * traffic's duration, and what the same messages would cost as HTTP polling. One pass over
 * the message columns.
 *
 * Memory: returns fresh objects; the per-second map lives for the call only (one entry per
 * second that saw a message); rate bins are at most RATE_BINS.
 */
import { ALL_CONNECTIONS, type ConnStats } from '../../shared/api';
import type { ConnRec, SessionData } from './session-data';

/** Buckets are listed densely (empty seconds included) up to this many seconds, sparsely beyond. */
const DENSE_SECONDS = 86_400;
/** Most rate bins: enough for a readable chart in a 400 px pane. */
export const RATE_BINS = 60;

/**
 * The smallest width of the 1-2-5 ladder (1 us ... 500 s, then 10 min, 30 min, 1 h, 6 h, 1 day,
 * 1 week) that splits `duration` seconds into at most `maxBins` bins.
 */
export function rateBinSeconds(duration: number, maxBins = RATE_BINS): number {
  const need = Math.max(0, duration) / maxBins;
  for (let e = -6; e <= 2; e++) {
    for (const m of [1, 2, 5]) {
      const w = m * 10 ** e;
      if (w >= need) return Number(w.toPrecision(1));
    }
  }
  for (const w of [600, 1800, 3600, 21_600, 86_400, 604_800]) if (w >= need) return w;
  return Math.ceil(need / 604_800) * 604_800;
}

/**
 * Figures of connection `conn` (or of all connections for ALL_CONNECTIONS), or null when there
 * is no such connection. `perSecond[i].t` is whole seconds since the connection (for all: the
 * first connection) opened.
 */
export function connectionStats(d: SessionData, conn: number): ConnStats | null {
  const all = conn === ALL_CONNECTIONS;
  const recs: ConnRec[] = [];
  if (all) {
    for (const c of d.conns.values()) if (c.row.websocket) recs.push(c);
  } else {
    const c = d.conns.get(conn);
    if (!c) return null;
    recs.push(c);
  }
  const n = d.messages.length;
  const { conn: conns, ts } = d.messages.cols;
  let t0 = Number.POSITIVE_INFINITY;
  for (const c of recs) if (c.ev.ts && c.ev.ts < t0) t0 = c.ev.ts;
  // first pass: the span of the messages (bins fit it), the count per connection (polling)
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let messages = 0;
  const perConn = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    const c = conns.get(r);
    if (!all && c !== conn) continue;
    messages++;
    const t = ts.get(r);
    if (t < first) first = t;
    if (t > last) last = t;
    if (all) perConn.set(c, (perConn.get(c) ?? 0) + 1);
  }
  if (!Number.isFinite(t0)) t0 = messages ? first : 0;
  const start = messages ? first : t0;
  const binSeconds = rateBinSeconds(messages ? last - first : 0);
  const nBins = messages ? Math.min(RATE_BINS + 1, Math.floor((last - first) / binSeconds) + 1) : 0;
  const bins = Array.from({ length: nBins }, () => ({ messages: 0, bytes: 0 }));
  const buckets = new Map<number, { t: number; messages: number; bytes: number }>();
  let maxT = -1;
  for (let r = 0; r < n; r++) {
    if (!all && conns.get(r) !== conn) continue;
    const tr = ts.get(r);
    const bytes = d.messageWireLength(r) + messageHeaderBytes(d, r);
    const t = Math.max(0, Math.floor(tr - t0));
    let b = buckets.get(t);
    if (!b) buckets.set(t, (b = { t, messages: 0, bytes: 0 }));
    b.messages++;
    b.bytes += bytes;
    if (t > maxT) maxT = t;
    const bin = bins[Math.min(nBins - 1, Math.floor((tr - start) / binSeconds))];
    bin.messages++;
    bin.bytes += bytes;
  }
  let perSecond: ConnStats['perSecond'];
  if (maxT >= 0 && maxT <= DENSE_SECONDS) {
    perSecond = [];
    for (let t = 0; t <= maxT; t++) perSecond.push(buckets.get(t) ?? { t, messages: 0, bytes: 0 });
  } else perSecond = [...buckets.values()].sort((a, b) => a.t - b.t);
  // What HTTP polling would cost: one request + response head per message, heads as big as
  // the captured handshake's (a lower bound: polling also carries bodies and empty polls).
  const perPoll = (c: ConnRec): number => (c.handshake ? c.handshake.requestBytes + c.handshake.responseBytes : 0);
  const out: ConnStats = {
    conn,
    wireBytes: 0,
    payloadBytes: 0,
    headerBytes: 0,
    handshakeBytes: 0,
    compressedWireBytes: 0,
    compressedPayloadBytes: 0,
    messages,
    perSecond,
    pollingBytesEstimate: 0,
    connections: recs.length,
    rate: { start, binSeconds, bins },
  };
  for (const c of recs) {
    out.wireBytes += c.row.wireBytes;
    out.payloadBytes += c.row.payloadBytes;
    out.headerBytes += c.headerBytes;
    out.handshakeBytes += c.row.handshakeBytes;
    out.compressedWireBytes += c.row.compressedWireBytes;
    out.compressedPayloadBytes += c.row.compressedPayloadBytes;
    out.pollingBytesEstimate += (all ? (perConn.get(c.ev.id) ?? 0) : messages) * perPoll(c);
  }
  return out;
}

/** Header bytes of message row `r`'s frames (those with rows). */
function messageHeaderBytes(d: SessionData, r: number): number {
  const m = d.messages.cols;
  if (m.framesCount.get(r) === 1) {
    const fr = d.frameRow(m.frames.get(r));
    return fr < 0 ? 0 : d.frameHeaderLen(fr);
  }
  let n = 0;
  for (const fi of d.messageFrames(r)) {
    const fr = d.frameRow(fi);
    if (fr >= 0) n += d.frameHeaderLen(fr);
  }
  return n;
}
