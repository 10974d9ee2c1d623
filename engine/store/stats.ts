/**
 * Per-connection statistics (ConnStats of shared/api.ts): byte totals from the connection
 * row, messages per second since the connection opened, and what the same messages would
 * cost as HTTP polling. One pass over the message columns.
 *
 * Memory: returns fresh objects; the buckets map lives for the call only (one entry per
 * second that saw a message).
 */
import type { ConnStats } from '../../shared/api';
import type { SessionData } from './session-data';

/** Buckets are listed densely (empty seconds included) up to this many seconds, sparsely beyond. */
const DENSE_SECONDS = 86_400;

/**
 * Figures of connection `conn`, or null when there is none. `perSecond[i].t` is whole
 * seconds since the connection opened.
 */
export function connectionStats(d: SessionData, conn: number): ConnStats | null {
  const c = d.conns.get(conn);
  if (!c) return null;
  const n = d.messages.length;
  const { conn: conns, ts, wireLength, headerBytes } = d.messages.cols;
  const t0 = c.ev.ts || (n ? ts[0] : 0);
  const buckets = new Map<number, { t: number; messages: number; bytes: number }>();
  let maxT = -1;
  let messages = 0;
  for (let r = 0; r < n; r++) {
    if (conns[r] !== conn) continue;
    messages++;
    const t = Math.max(0, Math.floor(ts[r] - t0));
    let b = buckets.get(t);
    if (!b) buckets.set(t, (b = { t, messages: 0, bytes: 0 }));
    b.messages++;
    b.bytes += wireLength[r] + headerBytes[r];
    if (t > maxT) maxT = t;
  }
  let perSecond: ConnStats['perSecond'];
  if (maxT >= 0 && maxT <= DENSE_SECONDS) {
    perSecond = [];
    for (let t = 0; t <= maxT; t++) perSecond.push(buckets.get(t) ?? { t, messages: 0, bytes: 0 });
  } else perSecond = [...buckets.values()].sort((a, b) => a.t - b.t);
  const hs = c.handshake;
  // What HTTP polling would cost: one request + response head per message, heads as big as
  // the captured handshake's (a lower bound: polling also carries bodies and empty polls).
  const perPoll = hs ? hs.requestBytes + hs.responseBytes : 0;
  return {
    conn,
    wireBytes: c.row.wireBytes,
    payloadBytes: c.row.payloadBytes,
    headerBytes: c.headerBytes,
    handshakeBytes: c.row.handshakeBytes,
    compressedWireBytes: c.row.compressedWireBytes,
    compressedPayloadBytes: c.row.compressedPayloadBytes,
    messages,
    perSecond,
    pollingBytesEstimate: messages * perPoll,
  };
}
