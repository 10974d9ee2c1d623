/**
 * One TCP connection in the flow table: a TcpReassembler per side, the roles, and the
 * connection's stream stack once it is announced. It reaches the rest of the engine only
 * through `ConnHost` (ids, events, findings, making its stack, being told it ended).
 *
 *   segment -> TcpReassembler (side a|b) -> SideSink -> stack entry (client|server) -> layers
 *
 * Roles: the SYN sender (set by the flow table), else roles.ts on the first payload. The
 * connection is announced (a `connection` event) at its SYN, on the first data or at the
 * end, so the event carries the decided roles. Its stack is made on the first data, so a
 * flow that never carries a byte (a SYN flood) costs no decoders.
 *
 * Handshake first: until a segment needs them, the reassemblers are not used at all. The
 * segments of a handshake or a teardown without payload (SYN, SYN-ACK, bare ACKs, a FIN at
 * the next sequence number) change a stream's state in three ways only: where it starts
 * (the ISN), how far the peer acknowledged it, that it ended; `control` keeps those per side
 * in plain fields, with the reassembler's rules (tcp/reassembler.ts), and ends a side itself.
 * The first segment it does not handle (payload, a RST, a FIN after a hole) hands that state
 * to the reassemblers (`engage`, TcpReassembler.resume), which take every segment from then
 * on. A flow that never carries payload (a SYN flood, a scan, connections opened and closed
 * unused) so costs no reassembly work, no flush when it goes, and no reset when the flow
 * table reuses the object: events and findings are those the reassemblers would have caused.
 *
 * Findings raised here (tcp-overlap-conflict, the budget's limit-reached) are under the
 * per-id cap (FINDINGS_PER_ID, `FindingCap`), counted once the connection is over.
 *
 * Containment: a reassembly failure stops this connection with a `decoder-error` finding
 * (the stack contains its own layers' failures the same way); nothing escapes to the
 * other connections.
 *
 * Memory: the reassemblers buffer out-of-order bytes (bounded by `maxBufferedBytes`, shared
 * budget in budget.ts); the stack is dropped when both directions have ended. The flow
 * table's bookkeeping (lane, times, links) lives in the fields below it owns.
 */
import type { Direction, EngineEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import type { ChunkMeta, StreamSink } from '../types';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../types';
import { TcpReassembler } from '../tcp/reassembler';
import type { ReadBackLink } from '../tcp/history';
import { seqDiff } from '../tcp/seq';
import { FindingCap, reportInternalError, type ConnStack, type DirEntry, type InternalErrorHook } from '../stack/connection-stack';
import { endpointString, type Endpoint } from './flow-map';
import { decideRoles, type RoleEvidence } from './roles';

export type Side = 'a' | 'b';

/** What a connection needs of the engine around it. */
export interface ConnHost {
  emit(ev: EngineEvent): void;
  finding(id: FindingId, conn: number, dir: Direction | undefined, meta: ChunkMeta, text: string): void;
  /** the next connection id (ids follow announcement order) */
  nextId(): number;
  /** the stream stack of a newly announced connection */
  makeStack(conn: TcpConn): ConnStack;
  /** both directions ended at capture time `ts` */
  ended(conn: TcpConn, ts: number): void;
  readonly onInternalError?: InternalErrorHook;
  /** the reader of the capture file being read, for the conflict history (tcp/history.ts) */
  readonly readBack?: ReadBackLink;
}

/** One side's ordered bytes, handed to the stack's entry for that side's role. */
class SideSink implements StreamSink {
  /** the stack's entry for this side (set when the connection is announced) */
  entry: DirEntry | null = null;

  constructor(
    private readonly conn: TcpConn,
    readonly side: Side,
  ) {}

  data(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (this.entry !== null) this.entry.push(bytes, skip, meta);
    else this.conn.entryFor(this.side, bytes, meta)?.push(bytes, skip, meta);
  }

  end(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    this.conn.sideEnded(this.side, reason, meta);
  }

  conflict(offset: number, length: number, meta: ChunkMeta): void {
    this.conn.conflict(this.side, offset, length, meta);
  }
}

export class TcpConn {
  // Field order is memory order (V8 lays fields out as they are first defined): what the flow
  // table and `sideEnded` read when a flow goes comes first, so that a flow no packet touched
  // for long (a flood's) costs the fewest cache lines when it is evicted.
  id = 0;
  /** payload was delivered (the stack exists since) */
  hasData = false;
  /** the reassemblers hold the streams' state (see the module comment); until then nxt/acked do */
  engaged = false;
  /** the flow table's: its slot (-1: not in the table), order of creation */
  slot = -1;
  seq = 0;
  /** the flow map's (flow-map.ts) */
  mapKey = 0;
  /** decoding stopped after an internal error */
  failed = false;
  announced = false;
  endedA = false;
  endedB = false;
  closedAnnounced = false;
  endReason: 'fin' | 'rst' | 'eof' = 'fin';
  stack: ConnStack | undefined;
  /** findings raised here, per id (made on the first) */
  private cap: FindingCap | null = null;
  /** role of side a; undefined until decided */
  clientSide: Side | undefined;
  roleBy: RoleEvidence = 'port';
  /**
   * ISN of the SYN that opened the flow, -1 before one: a number field, not `number |
   * undefined`, so V8 keeps it as a double in place instead of a new heap number per flow
   */
  synSeq = -1;
  firstTs = 0;
  firstPacket = 0;
  /** per side before `engage`: sequence number of the first data byte (after the SYN), -1 before a SYN */
  private nxtA = -1;
  private nxtB = -1;
  /** per side before `engage`: stream offset the peer acknowledged, -1 for none (the reassembler's `acked`) */
  private ackedA = -1;
  private ackedB = -1;
  readonly ra: TcpReassembler;
  readonly rb: TcpReassembler;
  private readonly sa: SideSink;
  private readonly sb: SideSink;

  constructor(
    private readonly host: ConnHost,
    readonly a: Endpoint,
    readonly b: Endpoint,
    maxBufferedBytes: number,
  ) {
    this.sa = new SideSink(this, 'a');
    this.sb = new SideSink(this, 'b');
    // V8 folds a field written only once into optimized code as a constant: the first
    // connection to end would then throw away the per-packet path (the reassembler's segment
    // and what it is inlined into) and compile it again. A second write makes them plain fields.
    this.endedA = this.endedB = this.closedAnnounced = this.engaged = true;
    this.endedA = this.endedB = this.closedAnnounced = this.engaged = false;
    this.nxtA = this.nxtB = this.ackedA = this.ackedB = 0;
    this.nxtA = this.nxtB = this.ackedA = this.ackedB = -1;
    // an ISN is mostly above V8's small integers: the field is a double from the start, so the
    // first such ISN does not change its representation under optimized code
    this.synSeq = 0x80000000;
    this.synSeq = -1;
    // conflictWindow: keep the last 64 KiB delivered per direction so a retransmission that
    // differs from what was already delivered is flagged too; read from a capture file, the
    // bytes are kept as where they lie in it, else copied (tcp/history.ts).
    const readBack = host.readBack;
    this.ra = new TcpReassembler(this.sa, { maxBufferedBytes, conflictWindow: 65536, readBack });
    this.rb = new TcpReassembler(this.sb, { maxBufferedBytes, conflictWindow: 65536, readBack });
  }

  /**
   * This object as a new connection from `src`:`srcPort` to `dst`:`dstPort`, for the flow
   * table's pool (tcp-flows.ts): only a connection that never carried payload is reused, so it
   * never made a stack and nothing outside the table holds it (its events carried copies).
   * Every field the class initializes is set here again.
   */
  reuse(src: string, srcPort: number, dst: string, dstPort: number, v6: boolean): void {
    this.a.addr = src;
    this.a.port = srcPort;
    this.a.v6 = v6;
    this.b.addr = dst;
    this.b.port = dstPort;
    this.b.v6 = v6;
    this.id = 0;
    this.clientSide = undefined;
    this.roleBy = 'port';
    this.synSeq = -1;
    this.stack = undefined;
    this.announced = this.endedA = this.endedB = this.closedAnnounced = this.failed = this.hasData = false;
    this.endReason = 'fin';
    this.firstTs = this.firstPacket = 0;
    this.seq = 0;
    this.slot = -1;
    this.cap = null;
    // the side entries are null (only a connection with payload makes a stack and sets them);
    // reassemblers never engaged are as new
    if (this.engaged) {
      this.ra.reset();
      this.rb.reset();
    }
    this.engaged = false;
    this.nxtA = this.nxtB = this.ackedA = this.ackedB = -1;
  }

  get client(): Endpoint {
    return this.clientSide === 'a' ? this.a : this.b;
  }

  get server(): Endpoint {
    return this.clientSide === 'a' ? this.b : this.a;
  }

  dirOf(side: Side): Direction {
    return side === this.clientSide ? 'client' : 'server';
  }

  /** A SYN (RFC 9293 3.5: the SYN sender opens; a SYN-ACK comes from the server). */
  syn(side: Side, ack: boolean): void {
    if (this.clientSide) return;
    this.clientSide = !ack ? side : side === 'a' ? 'b' : 'a';
    this.roleBy = 'syn';
  }

  /** Decide the roles from the first payload one side sent (roles.ts). */
  decideRoles(side: Side, firstBytes: Uint8Array): void {
    const sender = side === 'a' ? this.a : this.b;
    const other = side === 'a' ? this.b : this.a;
    const v = decideRoles(firstBytes, sender.port, other.port);
    this.clientSide = v.senderIsClient ? side : side === 'a' ? 'b' : 'a';
    this.roleBy = v.by;
  }

  /**
   * First data of a side: decide roles and announce (if not yet), make the stack, return the
   * side's entry (null once the connection's decoding is over).
   */
  entryFor(side: Side, bytes: Uint8Array, meta: ChunkMeta): DirEntry | null {
    if (!this.announced) {
      if (!this.clientSide) this.decideRoles(side, bytes);
      this.announce(meta);
    }
    this.hasData = true;
    this.makeStack();
    return (side === 'a' ? this.sa : this.sb).entry;
  }

  /** the stack of an announced connection, made on first use (none after it finished) */
  private makeStack(): ConnStack | undefined {
    if (this.stack || !this.announced || this.closedAnnounced) return this.stack;
    const stack = this.host.makeStack(this);
    this.stack = stack;
    this.sa.entry = this.clientSide === 'a' ? stack.client : stack.server;
    this.sb.entry = this.clientSide === 'a' ? stack.server : stack.client;
    return stack;
  }

  /** Emit the `connection` event (once); the stack comes with the first data. */
  announce(meta: ChunkMeta): void {
    if (this.announced) return;
    if (!this.clientSide) this.decideRoles('a', new Uint8Array(0));
    this.announced = true;
    this.id = this.host.nextId();
    this.host.emit({
      type: 'connection',
      id: this.id,
      transport: 'tcp',
      client: endpointString(this.client),
      server: endpointString(this.server),
      ts: this.firstTs || meta.ts,
      packet: this.firstPacket || meta.packet,
      roleBy: this.roleBy,
    });
  }

  sideEnded(side: Side, reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    if (side === 'a') this.endedA = true;
    else this.endedB = true;
    if (reason !== 'fin') this.endReason = reason;
    if (!this.announced) return;
    // no stack: no byte was delivered, so there is nothing for decoders to end or flush
    const stack = this.stack;
    stack?.entry(this.dirOf(side)).end(reason, meta);
    if (this.endedA && this.endedB && !this.closedAnnounced) {
      this.closedAnnounced = true;
      // Both directions are over: flush the decoders and let go of them (their buffers), so
      // memory follows the connections open at once, not every connection ever seen.
      if (stack !== undefined) {
        stack.finish(meta);
        this.stack = undefined;
        // (without a stack the entries are null already: this spares a flood's flows a look
        // at two objects that are out of the caches by then)
        this.sa.entry = this.sb.entry = null;
      }
      this.cap?.flush(this.host.emit, this.id, meta, 'this connection');
      this.cap = null;
      this.host.emit({ type: 'connection-end', conn: this.id, ts: meta.ts, packet: meta.packet, reason: this.endReason });
      this.host.ended(this, meta.ts);
    }
  }

  conflict(side: Side, offset: number, length: number, meta: ChunkMeta): void {
    this.finding('tcp-overlap-conflict', side, meta, `${length} retransmitted bytes at stream offset ${offset} differ from the copy seen first; the first copy is kept.`);
  }

  /** A finding about this connection's TCP (after its announcement, before its end), under the per-id cap. */
  finding(id: FindingId, side: Side, meta: ChunkMeta, text: string): void {
    if (!this.announced || this.closedAnnounced) return;
    if ((this.cap ??= new FindingCap()).take(id)) this.host.finding(id, this.id, this.dirOf(side), meta, text);
  }

  /**
   * A segment without payload, before the reassemblers are engaged (see the module comment):
   * the state change `segment` and the peer's `acknowledge` would make, done here; false, with
   * nothing changed, when the segment needs the reassemblers (payload, RST, SYN+FIN, a FIN
   * sequenced after the next byte: the bytes before it are missing).
   */
  control(side: Side, seq: number, flags: number, len: number, ack: number, meta: ChunkMeta): boolean {
    if (len !== 0 || (flags & TCP_RST) !== 0) return false;
    const a = side === 'a';
    if ((flags & (TCP_SYN | TCP_FIN)) !== 0 && !(a ? this.endedA : this.endedB)) {
      const nxt = a ? this.nxtA : this.nxtB;
      if ((flags & TCP_FIN) === 0) {
        // RFC 9293 3.4: the SYN takes one sequence number, data starts after it; a SYN on a
        // started side (a retransmission) moves nothing
        if (nxt < 0) {
          if (a) this.nxtA = (seq + 1) >>> 0;
          else this.nxtB = (seq + 1) >>> 0;
        }
      } else {
        if ((flags & TCP_SYN) !== 0) return false;
        // a FIN at or before the next byte ends the side at once (nothing is missing before
        // it); one that starts the side (no SYN seen) is at its first byte
        if (nxt >= 0 && seqDiff(seq, nxt) > 0) return false;
        this.sideEnded(side, 'fin', meta);
      }
    }
    if ((flags & TCP_ACK) !== 0) {
      // the peer's acknowledgment of the other side (TcpReassembler.acknowledge, nothing buffered)
      if (a ? !this.endedB && this.nxtB >= 0 : !this.endedA && this.nxtA >= 0) {
        const off = seqDiff(ack, a ? this.nxtB : this.nxtA);
        if (a) {
          if (off > this.ackedB) this.ackedB = off;
        } else if (off > this.ackedA) this.ackedA = off;
      }
    }
    return true;
  }

  /** From now on the reassemblers take every segment: they start from the state `control` kept. */
  engage(meta: ChunkMeta): void {
    this.engaged = true;
    this.ra.resume(this.nxtA, this.ackedA, this.endedA, meta);
    this.rb.resume(this.nxtB, this.ackedB, this.endedB, meta);
  }

  /** End of capture, eviction or port reuse: deliver what is buffered (holes as skips), finish the stack. */
  close(meta: ChunkMeta): void {
    if (this.failed) return;
    if (!this.engaged) {
      // nothing buffered and no stack: the reassemblers' flush would only end the open sides
      try {
        if (!this.endedA) this.sideEnded('a', 'eof', meta);
        if (!this.endedB) this.sideEnded('b', 'eof', meta);
      } catch (e) {
        this.fail(e, meta);
      }
      return;
    }
    this.contain(meta, () => {
      this.ra.flush(meta);
      this.rb.flush(meta);
      this.stack?.finish(meta);
    });
  }

  /** run reassembly work inside this connection's boundary */
  contain(meta: ChunkMeta, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.fail(e, meta);
    }
  }

  /** A reassembly failure: this connection stops being decoded (see the module comment). */
  fail(e: unknown, meta: ChunkMeta): void {
    if (this.failed) return;
    this.failed = true;
    if (this.stack) this.stack.fail(e, 'tcp', meta);
    else reportInternalError(this.host.emit, this.id, 'tcp', e, meta, this.host.onInternalError);
  }
}

