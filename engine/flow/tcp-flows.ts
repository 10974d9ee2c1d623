/**
 * The TCP flow table: connections by 4-tuple (both directions), port reuse, and a bound on
 * the flows tracked at once, kept by evicting idle flows by capture time.
 *
 * Port reuse: a new SYN (a different initial sequence number) on a known 4-tuple closes the
 * old connection and starts a new one; a retransmitted SYN carries the same ISN.
 *
 * Every flow sits in one of three lanes, each in least-recently-active order:
 * - `transitory`: no payload yet (a SYN, a handshake, a connection that never spoke). Idle
 *   for TRANSITORY_IDLE_S it is evicted: a SYN that never completes (RFC 5382 REQ-5: a NAT
 *   may forget a transitory connection after 4 minutes).
 * - `established`: payload seen. Idle for ESTABLISHED_IDLE_S (RFC 5382 REQ-5: 2 h 4 min,
 *   the least a NAT keeps an established connection) it is evicted: the connection went
 *   quiet and is gone on any real path.
 * - `ended`: both directions ended. It stays ENDED_GRACE_S (Linux keeps TIME_WAIT for 60 s),
 *   so late retransmissions and ACKs still match it instead of opening a phantom connection.
 * Over `maxFlows`, the flow given up for a new one is the least recently active ended flow,
 * else transitory one, else established one. An evicted flow that had not ended is closed
 * (its buffered bytes delivered with skips over holes, its decoders finished, its
 * `connection-end` emitted with reason `eof`) and counted; `finish` reports the count as one
 * `evicted-flows` finding. A later packet of an evicted 4-tuple starts a new connection.
 *
 * Least recently active without work per packet: a packet only stores its time on the flow
 * (`lastTs`); the lanes are intrusive doubly linked lists in the order flows were (re)queued,
 * and a head touched since it was queued is moved to the tail when it is looked at (a second
 * chance), so the head of a lane is always its least recently active flow. Idle checks run at
 * most once a second of capture time.
 *
 * Flows are found by a flat map keyed by port pair (flow-map.ts). A flow that leaves the table
 * without ever carrying payload is kept as a spare and its TcpConn (with its reassemblers)
 * reused for a later flow, so a flood of flows allocates almost nothing per flow.
 *
 * Memory: one TcpConn and one map slot per tracked flow, at most `maxFlows` of them, plus at
 * most SPARE_MAX spare TcpConns; the lanes are pointers in the TcpConns themselves.
 */
import type { ChunkMeta, DecodedPacket } from '../types';
import { TCP_ACK, TCP_SYN } from '../types';
import type { ReassemblyBudget } from './budget';
import { FlowMap } from './flow-map';
import { TcpConn, type ConnHost } from './tcp-conn';

/** seconds of capture time an ended connection still matches late packets */
const ENDED_GRACE_S = 60;
/** seconds of capture time a flow without payload may stay idle (RFC 5382 REQ-5) */
export const TRANSITORY_IDLE_S = 240;
/** seconds of capture time a flow with payload may stay idle (RFC 5382 REQ-5) */
export const ESTABLISHED_IDLE_S = 7440;
/** flows tracked at once before the least recently active is evicted for a new one */
export const DEFAULT_MAX_FLOWS = 5_000;
/**
 * Removed flows kept for reuse. A flood evicts one flow per new one, so a few suffice; reuse
 * spares the allocation of a TcpConn, its reassemblers and sinks per flow, which otherwise
 * live as long as the table keeps a flow and so cost the garbage collector most of a flood's
 * time.
 */
const SPARE_MAX = 64;

const TRANSITORY = 0;
const ESTABLISHED = 1;
const ENDED = 2;
/** not in the table any more */
export const GONE = 3;

/** the lane to give a flow up from first, at the cap */
const EVICT_ORDER = [ENDED, TRANSITORY, ESTABLISHED];
const IDLE_S = [TRANSITORY_IDLE_S, ESTABLISHED_IDLE_S, ENDED_GRACE_S];

/** One lane: flows linked through their `prev`/`next`, oldest first. */
class Lane {
  head: TcpConn | null = null;
  tail: TcpConn | null = null;

  push(c: TcpConn): void {
    c.prev = this.tail;
    c.next = null;
    if (this.tail) this.tail.next = c;
    else this.head = c;
    this.tail = c;
  }

  unlink(c: TcpConn): void {
    if (c.prev) c.prev.next = c.next;
    else this.head = c.next;
    if (c.next) c.next.prev = c.prev;
    else this.tail = c.prev;
    c.prev = c.next = null;
  }
}

/** What was evicted before it ended (the `evicted-flows` finding). */
export interface EvictedCounts {
  /** flows that never carried payload */
  transitory: number;
  /** flows with payload that went quiet or were the least recently active at the cap */
  established: number;
}

/** The `evicted-flows` finding's sentence (null when nothing was evicted); `udp`: UDP flows forgotten. */
export function evictedFlowsText(tcp: EvictedCounts, udp: number, maxFlows: number): string | null {
  const n = tcp.transitory + tcp.established;
  const parts: string[] = [];
  if (n > 0) parts.push(`${n} TCP flow(s) were evicted before they ended: ${tcp.transitory} without payload (idle past ${TRANSITORY_IDLE_S} s, or over the cap), ${tcp.established} with payload (idle past ${ESTABLISHED_IDLE_S} s, or the least recently active over the cap of ${maxFlows} flows tracked at once); their decoding ended there.`);
  if (udp > 0) parts.push(`${udp} UDP flow(s) were forgotten over the cap of ${maxFlows} flows tracked at once (a later datagram starts a new one).`);
  return parts.length > 0 ? parts.join(' ') : null;
}

export class TcpFlowTable {
  private readonly map = new FlowMap<TcpConn>();
  private readonly lanes = [new Lane(), new Lane(), new Lane()];
  private size = 0;
  /** removed flows that never carried payload, for reuse (at most SPARE_MAX) */
  private readonly spare: TcpConn[] = [];
  /** flows made so far: each flow's `seq`, the order of `all()` */
  private made = 0;
  private lastIdleCheck = -Infinity;
  readonly evicted: EvictedCounts = { transitory: 0, established: 0 };

  constructor(
    private readonly host: ConnHost,
    private readonly maxBufferedBytes: number,
    private readonly budget: ReassemblyBudget,
    readonly maxFlows = DEFAULT_MAX_FLOWS,
  ) {}

  /** flows tracked now */
  get count(): number {
    return this.size;
  }

  /** The connection of a segment: found, or new (after closing one a new SYN replaces). */
  lookup(d: DecodedPacket, meta: ChunkMeta): TcpConn {
    let conn = this.map.get(d.src, d.dst, d.srcPort, d.dstPort);
    if (conn && (d.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && conn.synSeq !== undefined && conn.synSeq !== d.seq) {
      this.remove(conn, meta, false);
      conn = undefined;
    }
    if (!conn) {
      if (this.size >= this.maxFlows) this.evictOne(meta);
      const v6 = d.ipVersion === 6;
      conn = this.spare.pop();
      if (conn !== undefined) conn.reuse(d.src, d.srcPort, d.dst, d.dstPort, v6);
      else conn = new TcpConn(this.host, { addr: d.src, port: d.srcPort, v6 }, { addr: d.dst, port: d.dstPort, v6 }, this.maxBufferedBytes);
      conn.seq = this.made++;
      conn.firstTs = meta.ts;
      conn.firstPacket = meta.packet;
      conn.lane = TRANSITORY;
      conn.queuedTs = meta.ts;
      this.lanes[TRANSITORY].push(conn);
      this.size++;
      this.map.add(conn);
    }
    conn.lastTs = meta.ts;
    return conn;
  }

  /** a connection's both directions ended at capture time `ts` */
  ended(conn: TcpConn, ts: number): void {
    if (conn.lane === GONE || conn.lane === ENDED) return;
    this.lanes[conn.lane].unlink(conn);
    conn.lane = ENDED;
    conn.lastTs = conn.queuedTs = ts;
    this.lanes[ENDED].push(conn);
  }

  /** Evict the flows idle past their lane's limit at capture time `now` (at most once a second). */
  evict(now: number, packet: number): void {
    if (now - this.lastIdleCheck < 1 || this.size === 0) return;
    this.lastIdleCheck = now;
    const meta: ChunkMeta = { ts: now, packet };
    for (let lane = TRANSITORY; lane <= ENDED; lane++) {
      for (let c = this.head(lane); c !== null && now - c.lastTs > IDLE_S[lane]; c = this.head(lane)) this.remove(c, meta, true);
    }
  }

  /**
   * The least recently active flow of a lane: heads touched since they were queued go to the
   * tail, transitory flows that carried payload since move to the established lane.
   */
  private head(lane: number): TcpConn | null {
    const l = this.lanes[lane];
    for (let c = l.head; c !== null; c = l.head) {
      if (lane === TRANSITORY && c.hasData) {
        l.unlink(c);
        c.lane = ESTABLISHED;
        c.queuedTs = c.lastTs;
        this.lanes[ESTABLISHED].push(c);
      } else if (c.lastTs > c.queuedTs) {
        l.unlink(c);
        c.queuedTs = c.lastTs;
        l.push(c);
      } else return c;
    }
    return null;
  }

  /** over the cap: give up the least recently active flow (ended, else transitory, else established) */
  private evictOne(meta: ChunkMeta): void {
    for (const lane of EVICT_ORDER) {
      const c = this.head(lane);
      if (c !== null) {
        this.remove(c, meta, true);
        return;
      }
    }
  }

  /**
   * Take a flow out of the table; one that has not ended is closed first (buffered bytes
   * delivered, decoders finished) and, when `evicted`, counted.
   */
  private remove(conn: TcpConn, meta: ChunkMeta, evicted: boolean): void {
    const lane = conn.lane;
    if (lane === GONE) return;
    this.lanes[lane].unlink(conn);
    conn.lane = GONE;
    this.size--;
    if (lane !== ENDED) {
      if (evicted) {
        if (conn.hasData) this.evicted.established++;
        else this.evicted.transitory++;
      }
      if (conn.engaged) {
        const before = conn.ra.bufferedBytes + conn.rb.bufferedBytes;
        conn.close(meta);
        this.budget.update(conn, before, meta, this);
      } else conn.close(meta);
    }
    this.map.delete(conn);
    // only engaged reassemblers ever buffer
    if (conn.engaged) this.budget.holding.delete(conn);
    // only a flow that never carried payload is reused: one that did made a stack, which its
    // layers (and the closures they gave out) may still reference
    if (!conn.hasData && this.spare.length < SPARE_MAX) this.spare.push(conn);
  }

  /** every connection in the table, once, oldest first (the end-of-capture events follow this order) */
  all(): TcpConn[] {
    const out: TcpConn[] = [];
    for (const l of this.lanes) for (let c = l.head; c !== null; c = c.next) out.push(c);
    return out.sort((x, y) => x.seq - y.seq);
  }
}
