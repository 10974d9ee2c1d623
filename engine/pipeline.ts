/**
 * The pipeline: capture records in, engine events out (shared/events.ts), synchronously.
 *
 *   PacketRecord -> NetDecoder (link/IP/TCP/UDP) -> flow table (this file) ->
 *     TCP: one TcpReassembler per direction -> TcpSession (HTTP upgrade + WebSocket)
 *     UDP: datagram events
 *
 * The flow table decides which side of a TCP connection is the client: the SYN sender
 * (or the receiver of a SYN-ACK); without a handshake, the side that sends an HTTP request
 * (or receives an HTTP response), else the side that masks WebSocket frames (RFC 6455
 * section 5.1: clients mask), else the side with the higher (ephemeral) port.
 *
 * Memory: records are only looked at during `packet()`; the reassemblers copy what they
 * must buffer; nothing keeps a reference to a record's bytes afterwards.
 */
import type { CaptureProblem, ChunkMeta, DecodedPacket, PacketRecord, StreamSink } from './types';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './types';
import type { Direction, EngineEvent, EventSink, FindingEvent, SummaryEvent } from '../shared/events';
import { FINDINGS, type FindingId } from '../shared/findings';
import { NetDecoder } from './net/decode';
import { TcpReassembler } from './tcp/reassembler';
import {
  DEFAULT_SESSION_OPTIONS,
  TcpSession,
  looksLikeWebSocketStart,
  type Counters,
  type SessionOptions,
} from './ws/session';
import { readCaptureFile } from './capture/file-source';

export interface PipelineOptions {
  /** server ports whose connections are decoded as WebSocket without a handshake (Decode As) */
  wsPorts: number[];
  /** detect WebSocket frames on connections whose handshake was not captured */
  heuristic: boolean;
  /** max out-of-order bytes buffered per TCP direction before a hole is declared lost */
  maxBufferedBytes: number;
  /** max out-of-order bytes buffered over all TCP streams together (same remedy) */
  maxTotalBufferedBytes: number;
  /**
   * Seconds (capture time) a hole may hold back the data after it before it is declared lost.
   * Infinity for files (a late retransmission can always still come); about 1 s for live
   * capture, so one lost packet does not freeze a conversation on screen.
   */
  gapTimeoutSeconds: number;
  session: Partial<SessionOptions>;
  /** how a TCP connection's decoder is made (tests hand in their own) */
  createSession?: (conn: number, emit: EventSink, counters: Counters, opts: SessionOptions) => SessionLike;
}

/** What the pipeline needs of a connection's decoder (TcpSession implements it). */
export type SessionLike = Pick<TcpSession, 'data' | 'end' | 'finish'>;

/** seconds of capture time an ended connection still matches late packets */
const ENDED_GRACE_S = 60;

/** gapTimeoutSeconds for live capture */
export const LIVE_GAP_TIMEOUT_S = 1;

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  wsPorts: [],
  heuristic: true,
  maxBufferedBytes: 4 << 20,
  maxTotalBufferedBytes: 64 << 20,
  gapTimeoutSeconds: Infinity,
  session: {},
};

type Side = 'a' | 'b';

interface Endpoint {
  addr: string;
  port: number;
  v6: boolean;
}

function endpointString(e: Endpoint): string {
  return e.v6 ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

const HTTP_METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE '];

function startsWithAscii(bytes: Uint8Array, s: string): boolean {
  if (bytes.length < s.length) return false;
  for (let i = 0; i < s.length; i++) if (bytes[i] !== s.charCodeAt(i)) return false;
  return true;
}

/** What the first payload bytes of a side say about its role: 'client', 'server' or unknown. */
function roleFromPayload(bytes: Uint8Array): 'client' | 'server' | undefined {
  for (const m of HTTP_METHODS) if (startsWithAscii(bytes, m)) return 'client';
  if (startsWithAscii(bytes, 'HTTP/1.')) return 'server';
  const ws = looksLikeWebSocketStart(bytes);
  if (ws) return ws.masked ? 'client' : 'server';
  return undefined;
}

class TcpConn {
  id = 0;
  /** role of side a; undefined until decided */
  clientSide: Side | undefined;
  roleBy: 'syn' | 'http' | 'mask' | 'port' = 'port';
  announced = false;
  synSeq: number | undefined;
  readonly ra: TcpReassembler;
  readonly rb: TcpReassembler;
  session: SessionLike | undefined;
  endedA = false;
  endedB = false;
  endReason: 'fin' | 'rst' | 'eof' = 'fin';
  closedAnnounced = false;
  /** data that arrived before the roles were known (only the very first chunk can) */
  firstTs = 0;
  firstPacket = 0;

  constructor(
    readonly pipe: Pipeline,
    readonly a: Endpoint,
    readonly b: Endpoint,
    maxBufferedBytes: number,
  ) {
    // conflictWindow: keep the last 64 KiB delivered per direction so a retransmission that
    // differs from what was already delivered is flagged too (about 0.2 us per segment).
    this.ra = new TcpReassembler(this.sinkFor('a'), { maxBufferedBytes, conflictWindow: 65536 });
    this.rb = new TcpReassembler(this.sinkFor('b'), { maxBufferedBytes, conflictWindow: 65536 });
  }

  /**
   * A decoder bug must not end the whole capture's analysis: the connection stops being
   * decoded, a `decoder-error` finding says so, every other connection goes on.
   */
  failed = false;
  fail(e: unknown, meta: ChunkMeta): void {
    if (this.failed) return;
    this.failed = true;
    const msg = e instanceof Error ? e.message : String(e);
    this.pipe.finding('decoder-error', this.id, undefined, meta, `Decoding of this connection stopped after an internal error (${msg}); other connections are not affected.`);
  }

  dirOf(side: Side): Direction {
    return side === this.clientSide ? 'client' : 'server';
  }

  private sinkFor(side: Side): StreamSink {
    return {
      data: (bytes, skip, meta) => {
        if (!this.clientSide) this.pipe.decideRoles(this, side, bytes);
        this.pipe.ensureAnnounced(this, meta);
        if (this.failed) return;
        try {
          this.session!.data(this.dirOf(side), bytes, skip, meta);
        } catch (e) {
          this.fail(e, meta);
        }
      },
      end: (reason, meta) => {
        if (side === 'a') this.endedA = true;
        else this.endedB = true;
        if (reason !== 'fin') this.endReason = reason;
        if (!this.session) return;
        if (!this.failed) {
          try {
            this.session.end(this.dirOf(side), reason, meta);
          } catch (e) {
            this.fail(e, meta);
          }
        }
        if (this.endedA && this.endedB && !this.closedAnnounced) {
          this.closedAnnounced = true;
          // Both directions are over: flush the decoder and let go of it (its buffers), so
          // memory follows the connections open at once, not every connection ever seen.
          if (!this.failed) {
            try {
              this.session.finish(meta);
            } catch (e) {
              this.fail(e, meta);
            }
          }
          this.session = undefined;
          this.pipe.emitEvent({ type: 'connection-end', conn: this.id, ts: meta.ts, packet: meta.packet, reason: this.endReason });
          this.pipe.connectionEnded(this, meta.ts);
        }
      },
      conflict: (offset, length, meta) => {
        if (!this.session) return;
        this.pipe.finding('tcp-overlap-conflict', this.id, this.dirOf(side), meta, `${length} retransmitted bytes at stream offset ${offset} differ from the copy seen first; the first copy is kept.`);
      },
    };
  }
}

/**
 * Flows keyed by (src, dst, srcPort, dstPort) without building a key string per packet: the
 * decoder hands out cached address strings, whose hashes V8 keeps, so three small Map
 * lookups cost less than hashing a freshly concatenated string.
 */
class FlowMap<T> {
  private readonly bySrc = new Map<string, Map<string, Map<number, T>>>();

  get(src: string, dst: string, sp: number, dp: number): T | undefined {
    return this.bySrc.get(src)?.get(dst)?.get(sp * 65536 + dp);
  }

  set(src: string, dst: string, sp: number, dp: number, v: T): void {
    let byDst = this.bySrc.get(src);
    if (!byDst) this.bySrc.set(src, (byDst = new Map()));
    let byPorts = byDst.get(dst);
    if (!byPorts) byDst.set(dst, (byPorts = new Map()));
    byPorts.set(sp * 65536 + dp, v);
  }

  delete(src: string, dst: string, sp: number, dp: number): void {
    this.bySrc.get(src)?.get(dst)?.delete(sp * 65536 + dp);
  }

  *values(): IterableIterator<T> {
    for (const byDst of this.bySrc.values()) for (const byPorts of byDst.values()) yield* byPorts.values();
  }
}

class UdpFlow {
  constructor(
    readonly id: number,
    readonly client: Endpoint,
  ) {}
}

export class Pipeline {
  readonly opts: PipelineOptions;
  private readonly net = new NetDecoder();
  private readonly tcp = new FlowMap<TcpConn>();
  private readonly udp = new FlowMap<UdpFlow>();
  private readonly sessionOpts: SessionOptions;
  private readonly counters: Counters = { frames: 0, messages: 0 };
  private readonly wsPorts: Set<number>;
  private nextConn = 1;
  private packets = 0;
  private bytes = 0;
  private firstTs = -1;
  private lastTs = 0;
  private lastPacket = 0;
  private messages = 0;
  private frames = 0;
  private findings = 0;
  private snapCut = 0;
  private totalBuffered = 0;
  /** connections with out-of-order data waiting behind a hole */
  private readonly holding = new Set<TcpConn>();
  private lastGapCheck = 0;
  private malformed = 0;
  private packetErrors = 0;
  private problems = 0;
  private finished: SummaryEvent | undefined;
  private readonly emit: EventSink;

  constructor(
    private readonly sink: EventSink,
    opts: Partial<PipelineOptions> = {},
  ) {
    this.opts = { ...DEFAULT_PIPELINE_OPTIONS, ...opts };
    this.sessionOpts = { ...DEFAULT_SESSION_OPTIONS, heuristic: this.opts.heuristic, ...this.opts.session };
    this.wsPorts = new Set(this.opts.wsPorts);
    // Malformed IP/TCP/UDP headers: the first few are reported one by one, the rest counted
    // (a capture of garbage must not produce a finding per packet).
    this.net.onProblem = (p) => {
      if (p.kind === 'truncated') return; // snap-length cuts are summarised at finish
      if (++this.malformed <= 20) this.emit({ type: 'finding', id: 'malformed-packet', severity: FINDINGS['malformed-packet'].severity, conn: 0, ts: this.lastTs, packet: p.packet, text: p.text });
    };
    this.emit = (ev: EngineEvent) => {
      if (ev.type === 'message') this.messages++;
      else if (ev.type === 'frame') this.frames++;
      else if (ev.type === 'finding') this.findings++;
      this.sink(ev);
    };
  }

  /**
   * Ended connections stay in the flow table for a grace period of capture time (Linux keeps
   * TIME_WAIT for 60 s), so late retransmissions and ACKs still match them instead of opening
   * a phantom connection; then they are dropped, so a long capture does not accumulate them.
   */
  private readonly endedQueue: Array<{ conn: TcpConn; ts: number }> = [];
  private endedHead = 0;

  connectionEnded(conn: TcpConn, ts: number): void {
    this.endedQueue.push({ conn, ts });
  }

  private evictEnded(now: number): void {
    const q = this.endedQueue;
    while (this.endedHead < q.length && now - q[this.endedHead].ts > ENDED_GRACE_S) {
      const { conn } = q[this.endedHead++];
      const { a, b } = conn;
      if (this.tcp.get(a.addr, b.addr, a.port, b.port) === conn) {
        this.tcp.delete(a.addr, b.addr, a.port, b.port);
        this.tcp.delete(b.addr, a.addr, b.port, a.port);
      }
    }
    if (this.endedHead > 1024 && this.endedHead * 2 > q.length) {
      q.splice(0, this.endedHead);
      this.endedHead = 0;
    }
  }

  /** used by TcpConn */
  emitEvent(ev: EngineEvent): void {
    this.emit(ev);
  }

  finding(id: FindingId, conn: number, dir: Direction | undefined, meta: ChunkMeta, text: string): void {
    const ev: FindingEvent = { type: 'finding', id, severity: FINDINGS[id].severity, conn, ts: meta.ts, packet: meta.packet, text };
    if (dir) ev.dir = dir;
    this.emit(ev);
  }

  packet(rec: PacketRecord): void {
    this.packets++;
    this.bytes += rec.data.length;
    if (this.firstTs < 0) this.firstTs = rec.ts;
    this.lastTs = rec.ts;
    this.lastPacket = rec.no;
    if (rec.origLen > rec.data.length) this.snapCut++;
    if (this.holding.size > 0 && rec.ts - this.lastGapCheck >= 0.1) this.expireHoles(rec);
    if (this.endedHead < this.endedQueue.length) this.evictEnded(rec.ts);
    // A bug must never end the whole analysis: a packet the decoders choke on is reported
    // and skipped (connection-level failures are contained in tcpPacket).
    try {
      const d = this.net.decode(rec);
      if (!d) return;
      if (d.protocol === 6) this.tcpPacket(d, rec);
      else if (d.protocol === 17) this.udpPacket(d, rec);
    } catch (e) {
      if (++this.packetErrors <= 20) {
        this.finding('decoder-error', 0, undefined, { ts: rec.ts, packet: rec.no }, `Packet ${rec.no} was skipped after an internal error (${e instanceof Error ? e.message : String(e)}).`);
      }
    }
  }

  /** a problem the capture reader reported (truncated file, corrupt block, ...) */
  problem(p: CaptureProblem): void {
    this.problems++;
    const id: FindingId = p.kind === 'truncated-capture' ? 'truncated-capture' : p.kind === 'unknown-link-type' ? 'unsupported-link-type' : 'corrupt-capture';
    this.emit({ type: 'finding', id, severity: FINDINGS[id].severity, conn: 0, ts: this.lastTs, packet: p.packet || this.lastPacket, text: p.text });
  }

  private tcpPacket(d: DecodedPacket, rec: PacketRecord): void {
    let conn = this.tcp.get(d.src, d.dst, d.srcPort, d.dstPort);
    const syn = (d.flags & TCP_SYN) !== 0;
    const ack = (d.flags & TCP_ACK) !== 0;
    // Port reuse: a new SYN (a different initial sequence number) on a known 4-tuple starts
    // a new connection; a retransmitted SYN carries the same ISN.
    if (conn && syn && !ack && conn.synSeq !== undefined && conn.synSeq !== d.seq) {
      this.closeConn(conn, { ts: rec.ts, packet: rec.no });
      this.tcp.delete(d.src, d.dst, d.srcPort, d.dstPort);
      this.tcp.delete(d.dst, d.src, d.dstPort, d.srcPort);
      conn = undefined;
    }
    if (!conn) {
      const v6 = d.ipVersion === 6;
      conn = new TcpConn(this, { addr: d.src, port: d.srcPort, v6 }, { addr: d.dst, port: d.dstPort, v6 }, this.opts.maxBufferedBytes);
      conn.firstTs = rec.ts;
      conn.firstPacket = rec.no;
      this.tcp.set(d.src, d.dst, d.srcPort, d.dstPort, conn);
      this.tcp.set(d.dst, d.src, d.dstPort, d.srcPort, conn);
    }
    const side: Side = conn.a.port === d.srcPort && conn.a.addr === d.src ? 'a' : 'b';
    if (syn && !conn.clientSide) {
      // RFC 9293 3.5: the SYN sender opens; a SYN-ACK comes from the server.
      const senderIsClient = !ack;
      conn.clientSide = senderIsClient ? side : side === 'a' ? 'b' : 'a';
      conn.roleBy = 'syn';
    }
    if (syn && !ack) conn.synSeq = d.seq;
    const meta: ChunkMeta = { ts: rec.ts, packet: rec.no };
    if (conn.failed) return;
    try {
      this.tcpSegment(conn, side, d, meta);
    } catch (e) {
      conn.fail(e, meta);
    }
  }

  private tcpSegment(conn: TcpConn, side: Side, d: DecodedPacket, meta: ChunkMeta): void {
    if (conn.clientSide) this.ensureAnnounced(conn, meta);
    const before = conn.ra.bufferedBytes + conn.rb.bufferedBytes;
    (side === 'a' ? conn.ra : conn.rb).segment(d.seq, d.flags, d.payload, d.missing, meta);
    // RFC 9293 3.10.7.4: a reset aborts the whole connection, so the other direction ends too
    // (what it had buffered is delivered first, holes as skips).
    if ((d.flags & TCP_RST) !== 0) (side === 'a' ? conn.rb : conn.ra).flush(meta);
    const after = conn.ra.bufferedBytes + conn.rb.bufferedBytes;
    if (after > 0) this.holding.add(conn);
    else if (before > 0) this.holding.delete(conn);
    if (after !== before) {
      this.totalBuffered += after - before;
      if (this.totalBuffered > this.opts.maxTotalBufferedBytes) this.releaseReassemblyMemory(meta);
    }
    if ((d.flags & (TCP_FIN | TCP_RST)) !== 0 && !conn.clientSide) {
      // a connection that ends before any role evidence: fall back to ports
      this.decideRoles(conn, side, new Uint8Array(0));
      this.ensureAnnounced(conn, meta);
    }
  }

  /** Live capture: holes open longer than gapTimeoutSeconds are declared lost (tcp-gap). */
  private expireHoles(rec: PacketRecord): void {
    this.lastGapCheck = rec.ts;
    const limit = this.opts.gapTimeoutSeconds;
    if (!(limit < Infinity)) return;
    const meta: ChunkMeta = { ts: rec.ts, packet: rec.no };
    for (const conn of this.holding) {
      if (conn.failed) {
        this.holding.delete(conn);
        continue;
      }
      try {
        for (const r of [conn.ra, conn.rb]) {
          while (rec.ts - r.waitingSince > limit) {
            const released = r.releaseFirstHole();
            this.totalBuffered -= released;
            if (released === 0) break;
          }
        }
      } catch (e) {
        conn.fail(e, meta);
      }
      if (conn.ra.bufferedBytes + conn.rb.bufferedBytes === 0) this.holding.delete(conn);
    }
  }

  /**
   * Over the shared reassembly budget: give up on the oldest hole of the stream holding the
   * most out-of-order bytes (its bytes become a gap), until under budget. Never an OOM.
   */
  private releaseReassemblyMemory(meta: ChunkMeta): void {
    const seen = new Set<TcpConn>();
    while (this.totalBuffered > this.opts.maxTotalBufferedBytes) {
      let worst: TcpReassembler | undefined;
      let worstConn: TcpConn | undefined;
      seen.clear();
      for (const c of this.tcp.values()) {
        if (seen.has(c)) continue;
        seen.add(c);
        for (const r of [c.ra, c.rb]) if (!worst || r.bufferedBytes > worst.bufferedBytes) [worst, worstConn] = [r, c];
      }
      if (!worst || worst.bufferedBytes === 0 || !worstConn) return;
      const released = worst.releaseFirstHole();
      this.totalBuffered -= released;
      if (worstConn.session) {
        this.finding('limit-reached', worstConn.id, worstConn.dirOf(worst === worstConn.ra ? 'a' : 'b'), meta, `All TCP streams together buffered more than ${this.opts.maxTotalBufferedBytes} out-of-order bytes; a missing range of this stream was declared lost to free ${released} bytes.`);
      }
      if (released === 0) return;
    }
  }

  /** Decide the client side from the first payload one side sent (see module comment). */
  decideRoles(conn: TcpConn, side: Side, firstBytes: Uint8Array): void {
    const other: Side = side === 'a' ? 'b' : 'a';
    const r = firstBytes.length ? roleFromPayload(firstBytes) : undefined;
    if (r) {
      conn.clientSide = r === 'client' ? side : other;
      conn.roleBy = startsWithAscii(firstBytes, 'HTTP/1.') || HTTP_METHODS.some((m) => startsWithAscii(firstBytes, m)) ? 'http' : 'mask';
      return;
    }
    // ephemeral ports are the higher ones (RFC 6335 section 6)
    const pa = conn.a.port;
    const pb = conn.b.port;
    conn.clientSide = pa > pb ? 'a' : pb > pa ? 'b' : side;
    conn.roleBy = 'port';
  }

  ensureAnnounced(conn: TcpConn, meta: ChunkMeta): void {
    if (conn.announced) return;
    conn.announced = true;
    conn.id = this.nextConn++;
    const client = conn.clientSide === 'a' ? conn.a : conn.b;
    const server = conn.clientSide === 'a' ? conn.b : conn.a;
    this.emit({
      type: 'connection',
      id: conn.id,
      transport: 'tcp',
      client: endpointString(client),
      server: endpointString(server),
      ts: conn.firstTs || meta.ts,
      packet: conn.firstPacket || meta.packet,
      roleBy: conn.roleBy,
    });
    const sopts = { ...this.sessionOpts, assumeWebSocket: this.wsPorts.has(server.port) };
    conn.session = this.opts.createSession
      ? this.opts.createSession(conn.id, this.emit, this.counters, sopts)
      : new TcpSession(conn.id, this.emit, this.counters, sopts);
  }

  private udpPacket(d: DecodedPacket, rec: PacketRecord): void {
    let flow = this.udp.get(d.src, d.dst, d.srcPort, d.dstPort);
    if (!flow) {
      const v6 = d.ipVersion === 6;
      const client: Endpoint = { addr: d.src, port: d.srcPort, v6 };
      flow = new UdpFlow(this.nextConn++, client);
      this.udp.set(d.src, d.dst, d.srcPort, d.dstPort, flow);
      this.udp.set(d.dst, d.src, d.dstPort, d.srcPort, flow);
      this.emit({
        type: 'connection',
        id: flow.id,
        transport: 'udp',
        client: endpointString(client),
        server: endpointString({ addr: d.dst, port: d.dstPort, v6 }),
        ts: rec.ts,
        packet: rec.no,
        roleBy: 'port',
      });
    }
    const dir: Direction = flow.client.port === d.srcPort && flow.client.addr === d.src ? 'client' : 'server';
    this.emit({ type: 'datagram', conn: flow.id, dir, ts: rec.ts, length: d.payload.length + d.missing, packet: rec.no });
  }

  private closeConn(conn: TcpConn, meta: ChunkMeta): void {
    if (conn.failed) return;
    try {
      conn.ra.flush(meta);
      conn.rb.flush(meta);
    } catch (e) {
      conn.fail(e, meta);
      return;
    }
    if (conn.session && !conn.failed) {
      try {
        conn.session.finish(meta);
      } catch (e) {
        conn.fail(e, meta);
      }
    }
  }

  /** End of capture: flush every stream and emit the summary (also returned). */
  finish(): SummaryEvent {
    if (this.finished) return this.finished;
    const meta: ChunkMeta = { ts: this.lastTs, packet: this.lastPacket };
    const seen = new Set<TcpConn>();
    for (const conn of this.tcp.values()) {
      if (seen.has(conn)) continue;
      seen.add(conn);
      try {
        if (!conn.clientSide) this.decideRoles(conn, 'a', new Uint8Array(0));
        this.ensureAnnounced(conn, meta);
        this.closeConn(conn, meta);
      } catch (e) {
        conn.fail(e, meta);
      }
    }
    if (this.snapCut > 0) {
      this.emit({ type: 'finding', id: 'truncated-capture', severity: 'info', conn: 0, ts: this.lastTs, packet: this.lastPacket, text: `${this.snapCut} packet(s) were cut by the capture's snap length; their missing bytes are reported as gaps.` });
    }
    if (this.malformed > 20) {
      this.emit({ type: 'finding', id: 'malformed-packet', severity: FINDINGS['malformed-packet'].severity, conn: 0, ts: this.lastTs, packet: this.lastPacket, text: `${this.malformed - 20} more packet(s) with malformed IP/TCP/UDP headers were skipped.` });
    }
    const incomplete = this.net.incompleteDatagrams;
    if (incomplete > 0) {
      this.emit({ type: 'finding', id: 'ip-fragments-incomplete', severity: FINDINGS['ip-fragments-incomplete'].severity, conn: 0, ts: this.lastTs, packet: this.lastPacket, text: `${incomplete} IP datagram(s) never completed: fragments were missing or invalid, so their bytes are lost.` });
    }
    const summary: SummaryEvent = {
      type: 'summary',
      packets: this.packets,
      connections: this.nextConn - 1,
      messages: this.messages,
      frames: this.frames,
      findings: this.findings,
      bytes: this.bytes,
      seconds: this.firstTs < 0 ? 0 : this.lastTs - this.firstTs,
    };
    this.finished = summary;
    this.sink(summary);
    return summary;
  }
}

export interface AnalyzeOptions extends Partial<PipelineOptions> {
  onProgress?: (bytesRead: number, totalBytes: number, packets: number) => void;
  signal?: AbortSignal;
}

/** Decode a capture file, streaming, emitting every event; resolves with the summary. */
export async function analyzeFile(path: string, emit: EventSink, opts: AnalyzeOptions = {}): Promise<SummaryEvent> {
  const { onProgress, signal, ...popts } = opts;
  const pipe = new Pipeline(emit, popts);
  let packets = 0;
  await readCaptureFile(
    path,
    {
      packet: (rec) => {
        packets++;
        pipe.packet(rec);
      },
      problem: (p) => pipe.problem(p),
    },
    {
      signal,
      onProgress: onProgress ? (read, total) => onProgress(read, total, packets) : undefined,
    },
  );
  return pipe.finish();
}
