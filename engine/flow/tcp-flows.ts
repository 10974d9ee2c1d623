/**
 * The TCP flow table: connections by 4-tuple (both directions), port reuse, and eviction of
 * ended connections.
 *
 * Port reuse: a new SYN (a different initial sequence number) on a known 4-tuple closes the
 * old connection and starts a new one; a retransmitted SYN carries the same ISN.
 *
 * Ended connections stay for a grace period of capture time (Linux keeps TIME_WAIT for
 * 60 s), so late retransmissions and ACKs still match them instead of opening a phantom
 * connection; then they are dropped, so a long capture does not accumulate them.
 *
 * Memory: one entry per open or recently ended connection; the eviction queue is compacted
 * once more than half of it is spent.
 */
import type { ChunkMeta, DecodedPacket } from '../types';
import { TCP_ACK, TCP_SYN } from '../types';
import { FlowMap } from './flow-map';
import { TcpConn, type ConnHost } from './tcp-conn';

/** seconds of capture time an ended connection still matches late packets */
const ENDED_GRACE_S = 60;

export class TcpFlowTable {
  private readonly map = new FlowMap<TcpConn>();
  private readonly endedQueue: Array<{ conn: TcpConn; ts: number }> = [];
  private endedHead = 0;

  constructor(
    private readonly host: ConnHost,
    private readonly maxBufferedBytes: number,
  ) {}

  /** The connection of a segment: found, or new (after closing one a new SYN replaces). */
  lookup(d: DecodedPacket, meta: ChunkMeta): TcpConn {
    let conn = this.map.get(d.src, d.dst, d.srcPort, d.dstPort);
    if (conn && (d.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && conn.synSeq !== undefined && conn.synSeq !== d.seq) {
      conn.close(meta);
      this.map.delete(d.src, d.dst, d.srcPort, d.dstPort);
      this.map.delete(d.dst, d.src, d.dstPort, d.srcPort);
      conn = undefined;
    }
    if (!conn) {
      const v6 = d.ipVersion === 6;
      conn = new TcpConn(this.host, { addr: d.src, port: d.srcPort, v6 }, { addr: d.dst, port: d.dstPort, v6 }, this.maxBufferedBytes);
      conn.firstTs = meta.ts;
      conn.firstPacket = meta.packet;
      this.map.set(d.src, d.dst, d.srcPort, d.dstPort, conn);
      this.map.set(d.dst, d.src, d.dstPort, d.srcPort, conn);
    }
    return conn;
  }

  /** a connection's both directions ended at capture time `ts` */
  ended(conn: TcpConn, ts: number): void {
    this.endedQueue.push({ conn, ts });
  }

  /** drop connections ended more than the grace period before `now` */
  evict(now: number): void {
    const q = this.endedQueue;
    if (this.endedHead >= q.length) return;
    while (this.endedHead < q.length && now - q[this.endedHead].ts > ENDED_GRACE_S) {
      const { conn } = q[this.endedHead++];
      const { a, b } = conn;
      if (this.map.get(a.addr, b.addr, a.port, b.port) === conn) {
        this.map.delete(a.addr, b.addr, a.port, b.port);
        this.map.delete(b.addr, a.addr, b.port, a.port);
      }
    }
    if (this.endedHead > 1024 && this.endedHead * 2 > q.length) {
      q.splice(0, this.endedHead);
      this.endedHead = 0;
    }
  }

  /** every connection in the table, once */
  *all(): IterableIterator<TcpConn> {
    const seen = new Set<TcpConn>();
    for (const c of this.map.values()) {
      if (seen.has(c)) continue;
      seen.add(c);
      yield c;
    }
  }
}
