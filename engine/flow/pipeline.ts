/**
 * The pipeline: capture records in, engine events out (shared/events.ts), synchronously.
 *
 *   PacketRecord -> NetDecoder (link/IP/TCP/UDP) -> TcpFlowTable (tcp-flows.ts) -> TcpConn
 *     (tcp-conn.ts: a TcpReassembler per side, roles) -> ConnStack (engine/stack/: detection,
 *     HTTP/1.1, WebSocket, ...) ; UdpFlows (udp-flows.ts) -> datagram events
 *
 * This file wires those parts and owns what is capture-wide: packet and event counts, the
 * reassembly budget (budget.ts) and gap expiry (gap-expiry.ts), connection ids, the
 * findings about the capture itself, and the summary. Connections reach it only through
 * the `ConnHost` they are given.
 *
 * Errors: a packet the decoders choke on is reported (`decoder-error`, conn 0) and skipped;
 * a connection's failure is contained to that connection (tcp-conn.ts, the stack's
 * boundary); `onInternalError` hears of every one.
 *
 * Memory: records are only looked at during `packet()`; the reassemblers copy what they
 * must buffer; nothing keeps a reference to a record's bytes afterwards.
 */
import type { CaptureFileReader, CaptureProblem, CaptureSink, ChunkMeta, DecodedPacket, PacketRecord } from '../types';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../types';
import type { Direction, EngineEvent, EventSink, FindingEvent, SummaryEvent } from '../../shared/events';
import { FINDINGS, type FindingId } from '../../shared/findings';
import { NetDecoder } from '../net/decode';
import { ConnStack, FindingCap, type InternalErrorHook } from '../stack/connection-stack';
import { defaultRegistry, type ModuleRegistry } from '../stack/registry';
import { DEFAULT_SESSION_OPTIONS, type Counters, type SessionOptions } from '../ws/options';
import { KeyLog } from '../tls/keylog';
import { ReadBackLink } from '../tcp/history';
import { ReassemblyBudget } from './budget';
import { endpointString } from './flow-map';
import { FILE_GAP_TIMEOUT_S, GapExpiry } from './gap-expiry';
import type { Side, TcpConn, ConnHost } from './tcp-conn';
import { DEFAULT_MAX_FLOWS, evictedFlowsText, TcpFlowTable } from './tcp-flows';
import { UdpFlows } from './udp-flows';

export interface PipelineOptions {
  /** server ports whose connections are decoded as WebSocket without a handshake (Decode As) */
  wsPorts: number[];
  /** detect WebSocket frames on connections whose handshake was not captured */
  heuristic: boolean;
  /** max out-of-order bytes buffered per TCP direction before a hole is declared lost */
  maxBufferedBytes: number;
  /** max out-of-order bytes buffered over all TCP streams together (same remedy) */
  maxTotalBufferedBytes: number;
  /** TCP flows tracked at once; over it the least recently active is evicted (tcp-flows.ts) */
  maxFlows: number;
  /**
   * Seconds (capture time) a hole may hold back the data after it before it is declared lost:
   * FILE_GAP_TIMEOUT_S (10 s) for files, so what follows a hole stays in capture order; about
   * 1 s for live capture, so one lost packet does not freeze a conversation on screen.
   */
  gapTimeoutSeconds: number;
  session: Partial<SessionOptions>;
  /** Decode As: server port -> id of the module forced on its connections (wsPorts add 'websocket') */
  decodeAs?: Record<number, string>;
  /** the protocol modules detected on each connection (default: the process-wide registry) */
  registry?: ModuleRegistry;
  /** told of every internal error contained (besides its decoder-error finding) */
  onInternalError?: InternalErrorHook;
  /**
   * TLS secrets (--keylog files); pcapng Decryption Secrets Blocks are added to it as they
   * are read (`secrets`). Absent: the pipeline makes an empty one for those blocks.
   */
  keyLog?: KeyLog;
}

/** pcapng secrets type of a TLS key log (the DSB's 'TLSK') */
export const SECRETS_TLS_KEY_LOG = 0x544c534b;

/** gapTimeoutSeconds for live capture */
export const LIVE_GAP_TIMEOUT_S = 1;

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  wsPorts: [],
  heuristic: true,
  maxBufferedBytes: 4 << 20,
  maxTotalBufferedBytes: 64 << 20,
  maxFlows: DEFAULT_MAX_FLOWS,
  gapTimeoutSeconds: FILE_GAP_TIMEOUT_S,
  session: {},
};

const EMPTY = new Uint8Array(0);

export class Pipeline implements CaptureSink {
  readonly opts: PipelineOptions;
  private readonly net = new NetDecoder();
  private readonly tcp: TcpFlowTable;
  private readonly udp: UdpFlows;
  private readonly budget: ReassemblyBudget;
  private readonly gaps: GapExpiry;
  private readonly sessionOpts: SessionOptions;
  private readonly registry: ModuleRegistry;
  readonly keyLog: KeyLog;
  private readonly counters: Counters = { frames: 0, messages: 0 };
  /** Decode As by server port (wsPorts and decodeAs together) */
  private readonly decodeAs: Map<number, string>;
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
  private malformed = 0;
  private packetErrors = 0;
  private finished: SummaryEvent | undefined;
  private readonly emit: EventSink;
  /** the meta of the TCP packet being decoded, refilled for each (see tcpPacket) */
  private readonly meta: ChunkMeta = { ts: 0, packet: 0 };
  /** the per-id cap on findings about the capture itself (conn 0) */
  private readonly captureCap = new FindingCap();
  /** the capture file's reader while a file source reads it (delivered bytes are read back, tcp/history.ts) */
  private readonly readBack = new ReadBackLink();

  constructor(
    private readonly sink: EventSink,
    opts: Partial<PipelineOptions> = {},
  ) {
    this.opts = { ...DEFAULT_PIPELINE_OPTIONS, ...opts };
    this.keyLog = this.opts.keyLog ?? new KeyLog();
    this.sessionOpts = { ...DEFAULT_SESSION_OPTIONS, heuristic: this.opts.heuristic, keyLog: this.keyLog, ...this.opts.session };
    this.registry = this.opts.registry ?? defaultRegistry;
    this.decodeAs = new Map(this.opts.wsPorts.map((p) => [p, 'websocket']));
    for (const [port, id] of Object.entries(this.opts.decodeAs ?? {})) this.decodeAs.set(Number(port), id);
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
    const finding = (id: FindingId, conn: number, dir: Direction | undefined, meta: ChunkMeta, text: string): void => this.finding(id, conn, dir, meta, text);
    const host: ConnHost = {
      emit: this.emit,
      finding,
      nextId: () => this.nextConn++,
      makeStack: (conn) => this.makeStack(conn),
      ended: (conn, ts) => this.tcp.ended(conn, ts),
      onInternalError: this.opts.onInternalError,
      readBack: this.readBack,
    };
    this.budget = new ReassemblyBudget(this.opts.maxTotalBufferedBytes);
    this.tcp = new TcpFlowTable(host, this.opts.maxBufferedBytes, this.budget, this.opts.maxFlows);
    this.udp = new UdpFlows(this.emit, host.nextId, this.opts.maxFlows);
    this.gaps = new GapExpiry(this.opts.gapTimeoutSeconds, this.budget);
  }

  private makeStack(conn: TcpConn): ConnStack {
    const server = conn.server.port;
    return new ConnStack(conn.id, this.emit, this.counters, {
      session: this.sessionOpts,
      registry: this.registry,
      decodeAs: this.decodeAs.get(server),
      clientPort: conn.client.port,
      serverPort: server,
      onInternalError: this.opts.onInternalError,
      // a connection carried inside this one (an HTTP/2 stream's WebSocket): same endpoints
      carrier: (fields, parent, meta) => {
        const id = this.nextConn++;
        this.emit({ type: 'connection', id, transport: 'tcp', client: endpointString(conn.client), server: endpointString(conn.server), ts: meta.ts, packet: meta.packet, roleBy: conn.roleBy, parent, ...fields });
        return id;
      },
    });
  }

  private finding(id: FindingId, conn: number, dir: Direction | undefined, meta: ChunkMeta, text: string): void {
    const ev: FindingEvent = { type: 'finding', id, severity: FINDINGS[id].severity, conn, ts: meta.ts, packet: meta.packet, text };
    if (dir) ev.dir = dir;
    this.emit(ev);
  }

  /** records seen so far */
  get packetCount(): number {
    return this.packets;
  }

  packet(rec: PacketRecord): void {
    this.packets++;
    // caplen when the source gives it: reading `data` would make the view the decoder avoids
    const caplen = rec.caplen ?? rec.data.length;
    this.bytes += caplen;
    if (this.firstTs < 0) this.firstTs = rec.ts;
    this.lastTs = rec.ts;
    this.lastPacket = rec.no;
    if (rec.origLen > caplen) this.snapCut++;
    // A bug must never end the whole analysis: a packet the decoders choke on is reported
    // and skipped (connection-level failures are contained in TcpConn and the stack).
    try {
      if (this.budget.holding.size > 0) this.gaps.tick({ ts: rec.ts, packet: rec.no });
      this.tcp.evict(rec.ts, rec.no);
      const d = this.net.decode(rec);
      if (!d) return;
      if (d.protocol === 6) this.tcpPacket(d, rec);
      else if (d.protocol === 17) this.udp.packet(d, rec);
    } catch (e) {
      this.opts.onInternalError?.(e, { conn: 0, layer: 'packet' });
      if (++this.packetErrors <= 20) {
        this.finding('decoder-error', 0, undefined, { ts: rec.ts, packet: rec.no }, `Packet ${rec.no} was skipped after an internal error (${e instanceof Error ? e.message : String(e)}).`);
      }
    }
  }

  /**
   * A pcapng Decryption Secrets Block: TLS key log text is added to the key log (connections
   * still waiting for their keys pick them up); a line it cannot use is a finding, no secret in it.
   */
  secrets(type: number, data: Uint8Array): void {
    if (type !== SECRETS_TLS_KEY_LOG) return;
    for (const w of this.keyLog.addText(data, 'decryption secrets block')) {
      if (this.captureCap.take('tls-keylog-line')) this.emit({ type: 'finding', id: 'tls-keylog-line', severity: FINDINGS['tls-keylog-line'].severity, conn: 0, ts: this.lastTs, packet: this.lastPacket, text: w });
    }
  }

  /** the file source's positional reader (CaptureSink.fileReader): given before the first record, withdrawn after the last */
  fileReader(reader: CaptureFileReader | null): void {
    this.readBack.reader = reader;
  }

  /** a problem the capture reader reported (truncated file, corrupt block, ...) */
  problem(p: CaptureProblem): void {
    const id: FindingId = p.kind === 'truncated-capture' ? 'truncated-capture' : p.kind === 'unknown-link-type' ? 'unsupported-link-type' : 'corrupt-capture';
    if (this.captureCap.take(id)) this.emit({ type: 'finding', id, severity: FINDINGS[id].severity, conn: 0, ts: this.lastTs, packet: p.packet || this.lastPacket, text: p.text });
  }

  private tcpPacket(d: DecodedPacket, rec: PacketRecord): void {
    // one meta for every packet, refilled: whoever keeps it past the call copies it (ChunkMeta)
    const meta = this.meta;
    meta.ts = rec.ts;
    meta.packet = rec.no;
    const conn = this.tcp.lookup(d, meta);
    const side: Side = conn.a.port === d.srcPort && conn.a.addr === d.src ? 'a' : 'b';
    const syn = (d.flags & TCP_SYN) !== 0;
    if (syn) conn.syn(side, (d.flags & TCP_ACK) !== 0);
    if (syn && (d.flags & TCP_ACK) === 0) conn.synSeq = d.seq;
    if (conn.failed) return;
    // one function with tcpSegment's work inlined by hand: V8 compiles each hot level of the
    // per-packet chain with its callees inlined, so every level costs a compile of its own
    try {
      if (conn.clientSide) conn.announce(meta);
      // a handshake or teardown segment without payload on a flow that carried none yet is the
      // connection's own business (tcp-conn.ts `control`); anything else engages the reassemblers
      if (conn.engaged || !conn.control(side, d.seq, d.flags, d.payload.length + d.missing, d.ack, meta)) {
        if (!conn.engaged) conn.engage(meta);
        const before = conn.ra.bufferedBytes + conn.rb.bufferedBytes;
        (side === 'a' ? conn.ra : conn.rb).segment(d.seq, d.flags, d.payload, d.missing, meta, d.payloadPos);
        // the peer's acknowledgment: holes it covers are lost to the capture (reassembler.ts)
        if ((d.flags & TCP_ACK) !== 0) (side === 'a' ? conn.rb : conn.ra).acknowledge(d.ack);
        // RFC 9293 3.10.7.4: a reset aborts the whole connection, so the other direction ends too
        // (what it had buffered is delivered first, holes as skips).
        if ((d.flags & TCP_RST) !== 0) (side === 'a' ? conn.rb : conn.ra).flush(meta);
        // in-order data (the common case) leaves nothing buffered before or after: no bookkeeping
        if (before !== 0 || conn.ra.bufferedBytes + conn.rb.bufferedBytes !== 0) this.budget.update(conn, before, meta, this.tcp);
      }
      if ((d.flags & (TCP_FIN | TCP_RST)) !== 0 && !conn.clientSide) {
        // a connection that ends before any role evidence: fall back to ports
        conn.decideRoles(side, EMPTY);
        conn.announce(meta);
      }
    } catch (e) {
      conn.fail(e, meta);
    }
  }

  /** End of capture: flush every stream and emit the summary (also returned). */
  finish(): SummaryEvent {
    if (this.finished) return this.finished;
    const meta: ChunkMeta = { ts: this.lastTs, packet: this.lastPacket };
    for (const conn of this.tcp.all()) {
      conn.contain(meta, () => conn.announce(meta));
      conn.close(meta);
    }
    if (this.snapCut > 0) {
      this.emit({ type: 'finding', id: 'truncated-capture', severity: 'info', conn: 0, ts: this.lastTs, packet: this.lastPacket, text: `${this.snapCut} packet(s) were cut by the capture's snap length; their missing bytes are reported as gaps.` });
    }
    if (this.malformed > 20) {
      this.emit({ type: 'finding', id: 'malformed-packet', severity: FINDINGS['malformed-packet'].severity, conn: 0, ts: this.lastTs, packet: this.lastPacket, text: `${this.malformed - 20} more packet(s) with malformed IP/TCP/UDP headers were skipped.` });
    }
    const evicted = evictedFlowsText(this.tcp.evicted, this.udp.evicted, this.tcp.maxFlows);
    if (evicted) this.emit({ type: 'finding', id: 'evicted-flows', severity: FINDINGS['evicted-flows'].severity, conn: 0, ts: this.lastTs, packet: this.lastPacket, text: evicted });
    this.captureCap.flush(this.emit, 0, meta, 'this capture');
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
