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
 * (`LAST`); the lanes are doubly linked lists in the order flows were (re)queued, and a head
 * touched since it was queued is moved to the tail when it is looked at (a second chance).
 * Idle checks run at most once a second of capture time.
 *
 * Each flow has a slot: its times and lane links are numbers in typed arrays indexed by the
 * slot, not fields of its TcpConn. Under a flood the head of a lane is a flow no packet touched
 * for thousands of flows, out of the CPU caches; looking at it, unlinking it and its neighbour
 * then cost a read of one array, not of objects and their boxed numbers spread over the heap.
 *
 * Flows are found by a flat map keyed by port pair (flow-map.ts). A flow that leaves the table
 * without ever carrying payload is kept as a spare and its TcpConn (with its reassemblers)
 * reused for a later flow, so a flood of flows allocates almost nothing per flow.
 *
 * Memory: one TcpConn, one map slot and one table slot (REC numbers and a lane byte) per
 * tracked flow, at most `maxFlows` of them (the slot arrays grow by doubling up to that), plus
 * at most SPARE_MAX spare TcpConns.
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
/** a free slot */
const GONE = 3;

/** the numbers of a slot's record (TcpFlowTable.rec) */
const LAST = 0;
const QUEUED = 1;
const PREV = 2;
const NEXT = 3;
const REC = 4;

/** the lane to give a flow up from first, at the cap */
const EVICT_ORDER = [ENDED, TRANSITORY, ESTABLISHED];
const IDLE_S = [TRANSITORY_IDLE_S, ESTABLISHED_IDLE_S, ENDED_GRACE_S];

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
  /** the flow in each slot (null: free) */
  private conns: Array<TcpConn | null> = [];
  /**
   * Per slot, REC numbers: capture time of the last packet and of the last (re)queueing, the
   * previous and next slot in its lane (-1: none). Typed, so that the look at a lane's head,
   * and its unlinking, read numbers in one array instead of the fields (and their boxed
   * numbers) of objects no packet touched for a long time: under a flood, that is every flow.
   */
  private rec = new Float64Array(0);
  /** per slot: its lane (GONE when free) */
  private laneOf = new Uint8Array(0);
  /** free slots (a stack) */
  private free = new Int32Array(0);
  private freeCount = 0;
  /** per lane: its oldest and newest slot (-1: empty) */
  private readonly heads = new Int32Array([-1, -1, -1]);
  private readonly tails = new Int32Array([-1, -1, -1]);
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
    if (conn && (d.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && conn.synSeq >= 0 && conn.synSeq !== d.seq) {
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
      if (this.freeCount === 0) this.grow();
      const slot = this.free[--this.freeCount];
      conn.slot = slot;
      this.conns[slot] = conn;
      this.rec[slot * REC + QUEUED] = meta.ts;
      this.push(TRANSITORY, slot);
      this.size++;
      this.map.add(conn);
    }
    this.rec[conn.slot * REC + LAST] = meta.ts;
    return conn;
  }

  /** a connection's both directions ended at capture time `ts` */
  ended(conn: TcpConn, ts: number): void {
    const slot = conn.slot;
    if (slot < 0 || this.laneOf[slot] === ENDED) return;
    this.unlink(slot);
    this.rec[slot * REC + LAST] = this.rec[slot * REC + QUEUED] = ts;
    this.push(ENDED, slot);
  }

  /** Evict the flows idle past their lane's limit at capture time `now` (at most once a second). */
  evict(now: number, packet: number): void {
    if (now - this.lastIdleCheck < 1 || this.size === 0) return;
    this.lastIdleCheck = now;
    const meta: ChunkMeta = { ts: now, packet };
    for (let lane = TRANSITORY; lane <= ENDED; lane++) {
      for (let s = this.head(lane); s >= 0 && now - this.rec[s * REC + LAST] > IDLE_S[lane]; s = this.head(lane)) this.remove(this.conns[s] as TcpConn, meta, true);
    }
  }

  /** more slots: twice as many, up to maxFlows (there are never more flows) */
  private grow(): void {
    const old = this.laneOf.length;
    const n = Math.min(Math.max(old * 2, 256), this.maxFlows);
    const rec = new Float64Array(n * REC);
    rec.set(this.rec);
    this.rec = rec;
    const laneOf = new Uint8Array(n).fill(GONE);
    laneOf.set(this.laneOf);
    this.laneOf = laneOf;
    // old slots are all taken (the stack is empty): the new ones are free, lowest on top
    this.free = new Int32Array(n);
    for (let i = n - 1; i >= old; i--) this.free[this.freeCount++] = i;
    for (let i = old; i < n; i++) this.conns.push(null);
  }

  /** append a slot to a lane (its newest) */
  private push(lane: number, slot: number): void {
    const r = this.rec;
    const tail = this.tails[lane];
    r[slot * REC + PREV] = tail;
    r[slot * REC + NEXT] = -1;
    if (tail >= 0) r[tail * REC + NEXT] = slot;
    else this.heads[lane] = slot;
    this.tails[lane] = slot;
    this.laneOf[slot] = lane;
  }

  /** take a slot out of its lane */
  private unlink(slot: number): void {
    const r = this.rec;
    const lane = this.laneOf[slot];
    const prev = r[slot * REC + PREV];
    const next = r[slot * REC + NEXT];
    if (prev >= 0) r[prev * REC + NEXT] = next;
    else this.heads[lane] = next;
    if (next >= 0) r[next * REC + PREV] = prev;
    else this.tails[lane] = prev;
    this.laneOf[slot] = GONE;
  }

  /**
   * The slot of the least recently active flow of a lane (-1: empty): heads touched since
   * they were queued go to the tail, transitory flows that carried payload since move to the
   * established lane.
   */
  private head(lane: number): number {
    const r = this.rec;
    for (let s = this.heads[lane]; s >= 0; s = this.heads[lane]) {
      if (lane === TRANSITORY && (this.conns[s] as TcpConn).hasData) {
        this.unlink(s);
        r[s * REC + QUEUED] = r[s * REC + LAST];
        this.push(ESTABLISHED, s);
      } else if (r[s * REC + LAST] > r[s * REC + QUEUED]) {
        this.unlink(s);
        r[s * REC + QUEUED] = r[s * REC + LAST];
        this.push(lane, s);
      } else return s;
    }
    return -1;
  }

  /** over the cap: give up the least recently active flow (ended, else transitory, else established) */
  private evictOne(meta: ChunkMeta): void {
    for (const lane of EVICT_ORDER) {
      const s = this.head(lane);
      if (s >= 0) {
        this.remove(this.conns[s] as TcpConn, meta, true);
        return;
      }
    }
  }

  /**
   * Take a flow out of the table; one that has not ended is closed first (buffered bytes
   * delivered, decoders finished) and, when `evicted`, counted.
   */
  private remove(conn: TcpConn, meta: ChunkMeta, evicted: boolean): void {
    const slot = conn.slot;
    if (slot < 0) return;
    const lane = this.laneOf[slot];
    this.unlink(slot);
    this.conns[slot] = null;
    this.free[this.freeCount++] = slot;
    conn.slot = -1;
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
    for (const c of this.conns) if (c !== null) out.push(c);
    return out.sort((x, y) => x.seq - y.seq);
  }
}
