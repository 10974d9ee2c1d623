/**
 * Deterministic generator of large WebSocket captures for the benchmark and the tests.
 *
 *   tsx scripts/gen-capture.ts --out F.pcap --bytes 200M [--deflate] [--connections 128]
 *                              [--seed 1] [--format pcap|pcapng] [--tcp-anomalies]
 *   import { generateCapture } from './gen-capture'
 *
 * One seed gives the same file byte for byte (sfc32 PRNG, no clock, no crypto randomness).
 * The capture is Ethernet/IPv4/TCP on loopback addresses: many connections from 127.0.0.x
 * to 127.0.0.1:8080, each with a 3-way handshake, an HTTP/1.1 Upgrade request with a random
 * Sec-WebSocket-Key and a 101 carrying the correct Sec-WebSocket-Accept (RFC 6455 section
 * 4.2.2), then interleaved frames both ways (client frames masked, server frames not,
 * section 5.1), text and binary messages of 16 B..64 KiB, some fragmented with control frames
 * in between (section 5.4), pings answered by pongs (5.5.2/5.5.3), a close handshake (5.5.1,
 * 7.1.2) and FINs. TCP segments carry at most 1460 bytes, frames straddle segments and small
 * frames share them; receivers ACK every second segment.
 *
 * With `deflate`, every connection negotiates permessage-deflate (RFC 7692): odd-numbered
 * connections with server_no_context_takeover + client_no_context_takeover, the others with
 * context takeover, emulated by compressing each message with the last 32 KiB of that
 * direction's earlier (compressed-message) plaintext as the preset dictionary, which is
 * exactly the window the receiving inflater holds (RFC 7692 section 7.2.3.2).
 *
 * Beside the capture goes FILE.truth.json (see `CaptureTruth`).
 *
 * Memory: the capture is streamed through a 4 MiB buffer; per connection only the bytes
 * queued but not yet segmented (at most one message) and, for deflate, a 32 KiB window.
 */
import { createHash, type Hash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { constants as zc, deflateRawSync, type ZlibOptions } from 'node:zlib';
import { CaptureWriter, ipv4, ipv4String, type CaptureFormat, type Endpoint } from './lib/capture-writer';
import { Prng } from './lib/prng';
import { binaryMessage, textMessage, type BinaryKind, type TextKind } from './lib/ws-content';

export interface GenerateOptions {
  out: string;
  /** target capture size in bytes (the file ends a little past it) */
  bytes: number;
  deflate?: boolean;
  connections?: number;
  seed?: number;
  format?: CaptureFormat;
  /** connections open at the same time (default min(connections, 32)) */
  concurrency?: number;
  /**
   * add TCP anomalies that lose nothing: 1% of data segments sent twice (retransmission),
   * 2% overtaken by the next segment (out of order). Default false.
   */
  tcpAnomalies?: boolean;
  /** every message as generated (payload uncompressed and unmasked; view valid during the call) */
  onMessage?: (m: GeneratedMessage) => void;
  /** wrap every connection in TLS (wss://): scripts/lib/bench-tls.ts */
  tls?: TlsWrap;
}

/**
 * What makes a generated connection wss://: the TLS handshake records each way, sent right
 * after the TCP handshake, and the sealing of every run of application bytes (the HTTP
 * upgrade, then WebSocket frames) into TLS records just before it is cut into segments. With
 * it, `wsPackets` in the truth counts packets by plaintext offsets and is only approximate.
 */
export interface TlsWrap {
  handshake(conn: number): Array<['client' | 'server', Uint8Array]>;
  /** the records carrying `plaintext` (a view valid during the call) */
  seal(conn: number, dir: 'client' | 'server', plaintext: Uint8Array): Uint8Array;
}

export interface GeneratedMessage {
  /** connection number, 0-based, in the order the connections open */
  conn: number;
  dir: 'client' | 'server';
  opcode: number;
  data: Uint8Array;
  /** frames the message was sent in */
  frames: number;
  compressed: boolean;
  /** the payload as framed before masking: the DEFLATE data (without 00 00 ff ff) when compressed */
  wire: Uint8Array;
}

export interface DirectionTruth {
  /** messages of every opcode (data and control) */
  messages: number;
  /** text + binary messages */
  dataMessages: number;
  frames: number;
  /** sum of data-message payload lengths, uncompressed */
  payloadBytes: number;
  /** SHA-256 over the uncompressed payloads of the data messages, concatenated in order */
  sha256: string;
}

export interface ConnectionTruth {
  id: number;
  client: string;
  server: string;
  path: string;
  protocol: string;
  extensions: string;
  fromClient: DirectionTruth;
  fromServer: DirectionTruth;
}

export interface CaptureTruth {
  generator: 'scripts/gen-capture.ts';
  seed: number;
  format: CaptureFormat;
  deflate: boolean;
  targetBytes: number;
  /** file size */
  bytes: number;
  packets: number;
  /** packets that complete at least one WebSocket frame (what `tshark -Y websocket` lists) */
  wsPackets: number;
  connections: number;
  frames: number;
  framesByOpcode: Record<string, number>;
  messages: number;
  messagesByOpcode: Record<string, number>;
  /** data messages sent with RSV1 (permessage-deflate) */
  compressedMessages: number;
  /** messages sent in more than one frame */
  fragmentedMessages: number;
  /** uncompressed data-message payload bytes */
  payloadBytes: number;
  /** payload bytes of all frames as on the wire (compressed where compressed) */
  wirePayloadBytes: number;
  /** SHA-256 over the ASCII hex digests fromClient.sha256 + fromServer.sha256 of every connection in id order */
  sha256: string;
  /** with tcpAnomalies: duplicated segments and swapped segment pairs */
  tcpAnomalies: { retransmissions: number; outOfOrder: number } | null;
  perConnection: ConnectionTruth[];
}

const MSS = 1460;
const WINDOW = 32768;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const SYN = 0x02;
const FIN = 0x01;
const PSH = 0x08;
const ACK = 0x10;
const EMPTY = new Uint8Array(0);
/** MSS option (RFC 793 section 3.1, kind 2): 1460 */
const MSS_OPTION = new Uint8Array([2, 4, MSS >> 8, MSS & 0xff]);
const OPCODE_KEYS: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
const TEXT_KINDS: TextKind[] = ['lorem', 'chat', 'chat', 'records'];
const BINARY_KINDS: BinaryKind[] = ['random', 'structured', 'structured'];

/** Bytes queued on one side, not yet cut into segments. */
class ByteQueue {
  buf = Buffer.allocUnsafe(1 << 17);
  head = 0;
  tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** make room for n bytes at the tail; returns their offset in `buf` (which may be new) */
  reserve(n: number): number {
    if (this.tail + n > this.buf.length) {
      if (this.head > 0) {
        this.buf.copyWithin(0, this.head, this.tail);
        this.tail -= this.head;
        this.head = 0;
      }
      if (this.tail + n > this.buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.tail + n));
        this.buf.copy(bigger, 0, 0, this.tail);
        this.buf = bigger;
      }
    }
    const at = this.tail;
    this.tail += n;
    return at;
  }

  consume(n: number): void {
    this.head += n;
    if (this.head === this.tail) this.head = this.tail = 0;
  }
}

class Side {
  /** next sequence number to send (32-bit, wraps) */
  seq: number;
  readonly q = new ByteQueue();
  /** stream offsets (bytes after the SYN) where queued frames end */
  private readonly frameEnds: number[] = [];
  private feHead = 0;
  /** stream bytes queued so far / put on the wire so far */
  queuedPos = 0;
  sentPos = 0;
  /** data segments sent since the peer last acknowledged */
  unacked = 0;
  /** permessage-deflate: last WINDOW bytes of compressed messages' plaintext */
  hist: Buffer = Buffer.alloc(0);
  readonly hash: Hash = createHash('sha256');
  messages = 0;
  dataMessages = 0;
  frames = 0;
  payloadBytes = 0;

  constructor(
    readonly ep: Endpoint,
    isn: number,
    readonly isClient: boolean,
    readonly conn: number,
  ) {
    this.seq = isn >>> 0;
  }

  frameQueued(): void {
    this.frameEnds.push(this.queuedPos);
  }

  /** how many queued frames end at or before stream offset `pos` (and forget them) */
  framesEndingBy(pos: number): number {
    let n = 0;
    const fe = this.frameEnds;
    while (this.feHead < fe.length && fe[this.feHead]! <= pos) {
      this.feHead++;
      n++;
    }
    if (this.feHead > 1024) {
      fe.splice(0, this.feHead);
      this.feHead = 0;
    }
    return n;
  }

  truth(): DirectionTruth {
    return {
      messages: this.messages,
      dataMessages: this.dataMessages,
      frames: this.frames,
      payloadBytes: this.payloadBytes,
      sha256: this.hash.digest('hex'),
    };
  }
}

interface Deflate {
  noContext: boolean;
}

class Conn {
  written = 0;
  path = '';
  protocol = '';
  extensions = '';
  constructor(
    readonly id: number,
    readonly client: Side,
    readonly server: Side,
    readonly budget: number,
    readonly deflate: Deflate | null,
  ) {}
}

class Generator {
  private readonly rng: Prng;
  private readonly w: CaptureWriter;
  /** integer microseconds since the epoch */
  private now = 1_700_000_000_000_000;
  private readonly scratch = Buffer.allocUnsafe(65536 + 16);
  private readonly server: Endpoint = { ip: ipv4(127, 0, 0, 1), port: 8080 };
  private wsPackets = 0;
  private readonly framesByOpcode: Record<string, number> = {};
  private readonly messagesByOpcode: Record<string, number> = {};
  private compressedMessages = 0;
  private fragmentedMessages = 0;
  private wirePayloadBytes = 0;
  private seqNo = 0;
  private readonly anomalies = { retransmissions: 0, outOfOrder: 0 };

  constructor(private readonly o: Required<Omit<GenerateOptions, 'onMessage' | 'tls'>> & Pick<GenerateOptions, 'onMessage' | 'tls'>) {
    this.rng = new Prng(o.seed);
    this.w = new CaptureWriter(o.out, o.format);
    for (const k of Object.values(OPCODE_KEYS)) {
      this.framesByOpcode[k] = 0;
      this.messagesByOpcode[k] = 0;
    }
    delete this.messagesByOpcode.continuation;
  }

  run(): CaptureTruth {
    const { rng, o } = this;
    const n = o.connections;
    const factors = Array.from({ length: n }, () => 0.3 + 1.4 * rng.float());
    const total = factors.reduce((a, b) => a + b, 0);
    const done: Conn[] = [];
    const active: Conn[] = [];
    let next = 0;
    const openNext = (): void => {
      const id = next++;
      const c = this.makeConn(id, (o.bytes * factors[id]!) / total);
      active.push(c);
      this.step(c, () => this.handshake(c));
    };
    while (active.length < Math.min(o.concurrency, n)) openNext();
    while (active.length > 0) {
      const i = rng.int(0, active.length - 1);
      const c = active[i]!;
      const last = next === n && active.length === 1;
      if (c.written >= c.budget && !(last && this.w.bytes < o.bytes)) {
        this.step(c, () => this.close(c));
        active.splice(i, 1);
        done.push(c);
        if (next < n) openNext();
      } else {
        this.step(c, () => this.exchange(c));
      }
      this.now += rng.int(0, 200);
    }
    this.w.close();
    done.sort((a, b) => a.id - b.id);
    return this.truth(done);
  }

  private step(c: Conn, f: () => void): void {
    const before = this.w.bytes;
    f();
    c.written += this.w.bytes - before;
  }

  private makeConn(id: number, budget: number): Conn {
    const { rng } = this;
    const clientEp: Endpoint = { ip: ipv4(127, 0, 0, 2 + (id % 250)), port: 40000 + id };
    // every 16th connection starts its client sequence just below 2^32 so it wraps (RFC 793 section 3.3)
    const cIsn = id % 16 === 3 ? 0x100000000 - rng.int(1, 20000) : rng.u32();
    const client = new Side(clientEp, cIsn, true, id);
    const server = new Side(this.server, rng.u32(), false, id);
    const deflate = this.o.deflate ? { noContext: id % 2 === 1 } : null;
    return new Conn(id, client, server, budget, deflate);
  }

  // ---- TCP ----

  private packet(from: Side, to: Side, flags: number, payload: Uint8Array = EMPTY, off = 0, len = 0, options?: Uint8Array, seq = from.seq): void {
    this.now += this.rng.int(1, 25);
    this.w.tcp(this.now, from.ep, to.ep, seq, to.seq, flags, payload, off, len, options);
  }

  private segment(from: Side, to: Side, len: number): void {
    const q = from.q;
    this.packet(from, to, PSH | ACK, q.buf, q.head, len);
    // tcpAnomalies: an identical copy, as a sender retransmits after a lost ACK
    if (this.o.tcpAnomalies && this.rng.chance(0.01)) {
      this.packet(from, to, PSH | ACK, q.buf, q.head, len);
      this.anomalies.retransmissions++;
    }
    this.sent(from, to, len, 1);
  }

  /** tcpAnomalies: the segment after `len1` bytes arrives before them (RFC 793 section 3.3 reordering) */
  private segmentPair(from: Side, to: Side, len1: number, len2: number): void {
    const q = from.q;
    this.packet(from, to, PSH | ACK, q.buf, q.head + len1, len2, undefined, (from.seq + len1) >>> 0);
    this.packet(from, to, PSH | ACK, q.buf, q.head, len1);
    this.anomalies.outOfOrder++;
    this.sent(from, to, len1 + len2, 2);
  }

  private sent(from: Side, to: Side, len: number, segments: number): void {
    from.seq = (from.seq + len) >>> 0;
    from.q.consume(len);
    from.sentPos += len;
    // the packet that completes a frame is the one tshark lists it in
    if (from.framesEndingBy(from.sentPos) > 0) this.wsPackets++;
    // this segment acknowledges everything the peer sent
    to.unacked = 0;
    from.unacked += segments;
    if (from.unacked >= 2) this.ack(to, from);
  }

  private ack(from: Side, to: Side): void {
    this.packet(from, to, ACK);
    to.unacked = 0;
  }

  /** cut everything queued on `from` into segments of at most MSS bytes, some cut shorter (`raw`: TLS handshake bytes, not sealed) */
  private flush(from: Side, to: Side, raw = false): void {
    const { rng } = this;
    if (this.o.tls && !raw && from.q.length > 0) {
      const q = from.q;
      const sealed = this.o.tls.seal(from.conn, from.isClient ? 'client' : 'server', q.buf.subarray(q.head, q.tail));
      q.consume(q.length);
      q.buf.set(sealed, q.reserve(sealed.length));
    }
    while (from.q.length > 0) {
      let len = Math.min(MSS, from.q.length);
      if (len > 1 && rng.chance(0.08)) len = rng.int(1, len - 1);
      if (this.o.tcpAnomalies && from.q.length > len && rng.chance(0.02)) {
        this.segmentPair(from, to, len, Math.min(MSS, from.q.length - len));
        continue;
      }
      this.segment(from, to, len);
    }
    if (from.unacked > 0 && rng.chance(0.5)) this.ack(to, from);
  }

  /** leave small amounts queued now and then so several frames share one segment */
  private maybeFlush(from: Side, to: Side): void {
    if (from.q.length < 600 && this.rng.chance(0.6)) return;
    this.flush(from, to);
  }

  private queueRaw(side: Side, s: string): void {
    const len = Buffer.byteLength(s, 'latin1');
    const at = side.q.reserve(len);
    side.q.buf.write(s, at, 'latin1');
    side.queuedPos += len;
  }

  private handshake(c: Conn): void {
    const { rng } = this;
    const cl = c.client;
    const sv = c.server;
    this.packet(cl, sv, SYN, EMPTY, 0, 0, MSS_OPTION);
    cl.seq = (cl.seq + 1) >>> 0;
    this.packet(sv, cl, SYN | ACK, EMPTY, 0, 0, MSS_OPTION);
    sv.seq = (sv.seq + 1) >>> 0;
    this.packet(cl, sv, ACK);
    for (const [dir, bytes] of this.o.tls?.handshake(c.id) ?? []) {
      const [from, to] = dir === 'client' ? [cl, sv] : [sv, cl];
      from.q.buf.set(bytes, from.q.reserve(bytes.length));
      this.flush(from, to, true);
    }

    const keyBytes = Buffer.allocUnsafe(16);
    rng.fill(keyBytes, 0, 16);
    const key = keyBytes.toString('base64');
    // RFC 6455 section 4.2.2 item 5.4: base64(SHA-1(key + GUID))
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    c.path = `/ws/${c.id}?room=${rng.int(1, 40)}`;
    const wantsProtocol = rng.chance(0.5);
    c.protocol = wantsProtocol ? 'chat' : '';
    let offer = '';
    if (c.deflate) {
      offer = 'permessage-deflate; client_max_window_bits';
      c.extensions = c.deflate.noContext
        ? 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'
        : 'permessage-deflate';
    }
    const req =
      `GET ${c.path} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:8080\r\n` +
      `User-Agent: wsscope-gen-capture/1\r\n` +
      `Upgrade: websocket\r\n` +
      `Connection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n` +
      `Origin: http://127.0.0.1:8080\r\n` +
      (wantsProtocol ? 'Sec-WebSocket-Protocol: chat, superchat\r\n' : '') +
      (offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : '') +
      '\r\n';
    this.queueRaw(cl, req);
    this.flush(cl, sv);
    const res =
      'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      (wantsProtocol ? 'Sec-WebSocket-Protocol: chat\r\n' : '') +
      (c.extensions ? `Sec-WebSocket-Extensions: ${c.extensions}\r\n` : '') +
      '\r\n';
    this.queueRaw(sv, res);
    this.flush(sv, cl);
  }

  // ---- WebSocket ----

  /** RFC 6455 section 5.2 framing; client frames masked with a fresh random key (5.3) */
  private queueFrame(side: Side, fin: boolean, rsv1: boolean, opcode: number, src: Uint8Array, off: number, len: number): void {
    const mask = side.isClient;
    const hdr = 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + (mask ? 4 : 0);
    const at = side.q.reserve(hdr + len);
    const b = side.q.buf;
    b[at] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
    const m = mask ? 0x80 : 0;
    let p = at + 2;
    if (len < 126) {
      b[at + 1] = m | len;
    } else if (len < 65536) {
      b[at + 1] = m | 126;
      b.writeUInt16BE(len, p);
      p += 2;
    } else {
      b[at + 1] = m | 127;
      b.writeUInt32BE(0, p);
      b.writeUInt32BE(len, p + 4);
      p += 8;
    }
    if (mask) {
      const k = this.rng.u32();
      b.writeUInt32BE(k, p);
      const k0 = k >>> 24;
      const k1 = (k >>> 16) & 0xff;
      const k2 = (k >>> 8) & 0xff;
      const k3 = k & 0xff;
      p += 4;
      let i = 0;
      for (; i + 4 <= len; i += 4) {
        b[p + i] = src[off + i]! ^ k0;
        b[p + i + 1] = src[off + i + 1]! ^ k1;
        b[p + i + 2] = src[off + i + 2]! ^ k2;
        b[p + i + 3] = src[off + i + 3]! ^ k3;
      }
      for (; i < len; i++) b[p + i] = src[off + i]! ^ (i % 4 === 0 ? k0 : i % 4 === 1 ? k1 : i % 4 === 2 ? k2 : k3);
    } else {
      b.set(src.subarray(off, off + len), p);
    }
    side.queuedPos += hdr + len;
    side.frameQueued();
    side.frames++;
    this.framesByOpcode[OPCODE_KEYS[opcode]!]!++;
    this.wirePayloadBytes += len;
  }

  private peer(c: Conn, s: Side): Side {
    return s === c.client ? c.server : c.client;
  }

  private record(c: Conn, side: Side, opcode: number, data: Uint8Array, frames: number, compressed: boolean, wire: Uint8Array = data): void {
    side.messages++;
    this.messagesByOpcode[OPCODE_KEYS[opcode]!]!++;
    if (frames > 1) this.fragmentedMessages++;
    if (compressed) this.compressedMessages++;
    if (opcode === 1 || opcode === 2) {
      side.dataMessages++;
      side.payloadBytes += data.length;
      side.hash.update(data);
    }
    this.o.onMessage?.({ conn: c.id, dir: side.isClient ? 'client' : 'server', opcode, data, frames, compressed, wire });
  }

  /** a ping from `side`, put on the wire, answered by a pong with the same payload (RFC 6455 section 5.5.3) */
  private pingPong(c: Conn, side: Side): void {
    const { rng } = this;
    const other = this.peer(c, side);
    const body = Buffer.allocUnsafe(rng.int(0, 16));
    rng.fill(body, 0, body.length);
    this.queueFrame(side, true, false, 9, body, 0, body.length);
    this.record(c, side, 9, body, 1, false);
    this.flush(side, other);
    this.queueFrame(other, true, false, 10, body, 0, body.length);
    this.record(c, other, 10, body, 1, false);
    this.maybeFlush(other, side);
  }

  /** RFC 7692 section 7.2.1: compress, end with a sync flush, drop the trailing 00 00 ff ff */
  private compress(side: Side, data: Buffer, noContext: boolean): Buffer {
    const opts: ZlibOptions = { finishFlush: zc.Z_SYNC_FLUSH, windowBits: 15 };
    if (!noContext && side.hist.length > 0) opts.dictionary = side.hist;
    const out = deflateRawSync(data, opts);
    const n = out.length;
    if (n < 4 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
      throw new Error('deflateRawSync with Z_SYNC_FLUSH did not end with 00 00 ff ff');
    }
    if (!noContext) {
      const joined = side.hist.length + data.length <= WINDOW ? Buffer.concat([side.hist, data]) : Buffer.concat([side.hist, data]).subarray(-WINDOW);
      side.hist = Buffer.from(joined);
    }
    return out.subarray(0, n - 4);
  }

  private messageSize(): number {
    const { rng } = this;
    const r = rng.float();
    if (r < 0.55) return rng.logInt(16, 256);
    if (r < 0.82) return rng.logInt(257, 4096);
    if (r < 0.96) return rng.logInt(4097, 32768);
    return rng.logInt(32769, 65536);
  }

  /** one data message from a random side, sometimes fragmented, sometimes with a ping */
  private exchange(c: Conn): void {
    const { rng } = this;
    const side = rng.chance(0.45) ? c.client : c.server;
    const other = this.peer(c, side);
    const opcode = rng.chance(0.65) ? 1 : 2;
    const size = this.messageSize();
    const seq = this.seqNo++;
    const data = this.scratch.subarray(0, size);
    if (opcode === 1) textMessage(rng, this.scratch, size, rng.pick(TEXT_KINDS), seq);
    else binaryMessage(rng, this.scratch, size, rng.pick(BINARY_KINDS), seq);

    // RFC 7692 section 6: an endpoint may send any message uncompressed; small ones often are
    const compressed = c.deflate !== null && !(size < 64 && rng.chance(0.5));
    const wire: Uint8Array = compressed ? this.compress(side, data, c.deflate!.noContext) : data;
    const fragments = size > 512 && wire.length >= 4 && rng.chance(0.12) ? rng.int(2, 4) : 1;
    this.record(c, side, opcode, data, fragments, compressed, wire);
    if (fragments === 1) {
      this.queueFrame(side, true, compressed, opcode, wire, 0, wire.length);
    } else {
      const cuts: number[] = [];
      for (let i = 1; i < fragments; i++) cuts.push(rng.int(1, wire.length - 1));
      cuts.sort((a, b) => a - b);
      cuts.push(wire.length);
      let start = 0;
      for (let i = 0; i < fragments; i++) {
        const end = cuts[i]!;
        // RSV1 marks the first frame of a compressed message only (RFC 7692 section 6.1)
        this.queueFrame(side, i === fragments - 1, compressed && i === 0, i === 0 ? opcode : 0, wire, start, end - start);
        start = end;
        // control frames may be injected between fragments (RFC 6455 section 5.4)
        if (i < fragments - 1 && rng.chance(0.25)) this.pingPong(c, side);
      }
    }
    this.maybeFlush(side, other);
    if (rng.chance(0.03)) this.pingPong(c, rng.chance(0.5) ? c.client : c.server);
  }

  /** close handshake (RFC 6455 section 7.1.2), then the server closes TCP first (7.1.1) */
  private close(c: Conn): void {
    const { rng } = this;
    const cl = c.client;
    const sv = c.server;
    this.flush(cl, sv);
    this.flush(sv, cl);
    const initiator = rng.chance(0.7) ? cl : sv;
    const responder = this.peer(c, initiator);
    const code = rng.pick([1000, 1000, 1001]);
    const reason = code === 1000 ? 'bye' : 'going away';
    const body = Buffer.alloc(2 + reason.length);
    body.writeUInt16BE(code, 0);
    body.write(reason, 2, 'latin1');
    this.queueFrame(initiator, true, false, 8, body, 0, body.length);
    this.record(c, initiator, 8, body, 1, false);
    this.flush(initiator, responder);
    const echo = body.subarray(0, 2);
    this.queueFrame(responder, true, false, 8, echo, 0, 2);
    this.record(c, responder, 8, echo, 1, false);
    this.flush(responder, initiator);
    this.finTcp(c);
  }

  /** the server closes TCP first (RFC 6455 section 7.1.1), the client answers */
  private finTcp(c: Conn): void {
    const cl = c.client;
    const sv = c.server;
    this.packet(sv, cl, FIN | ACK);
    sv.seq = (sv.seq + 1) >>> 0;
    this.packet(cl, sv, ACK);
    this.packet(cl, sv, FIN | ACK);
    cl.seq = (cl.seq + 1) >>> 0;
    this.packet(sv, cl, ACK);
  }

  // ---- twin mode (generateUncompressedTwin) ----

  private readonly twinConns = new Map<number, { c: Conn; closes: number }>();

  /**
   * Writes message `m` of another generator's run, uncompressed, on connection `m.conn` of
   * this capture: the connection is opened (handshake without permessage-deflate) at its
   * first message; a data message goes out in `m.frames` frames cut evenly; once both sides
   * have sent their close frame, TCP is closed.
   */
  replay(m: GeneratedMessage): void {
    let t = this.twinConns.get(m.conn);
    if (t === undefined) {
      t = { c: this.makeConn(m.conn, 0), closes: 0 };
      this.twinConns.set(m.conn, t);
      this.handshake(t.c);
    }
    const { c } = t;
    const side = m.dir === 'client' ? c.client : c.server;
    const other = this.peer(c, side);
    const frames = m.opcode < 8 && m.data.length >= m.frames ? m.frames : 1;
    this.record(c, side, m.opcode, m.data, frames, false);
    for (let i = 0, start = 0; i < frames; i++) {
      const end = i === frames - 1 ? m.data.length : Math.floor(((i + 1) * m.data.length) / frames);
      this.queueFrame(side, i === frames - 1, false, i === 0 ? m.opcode : 0, m.data, start, end - start);
      start = end;
    }
    if (m.opcode === 8 && ++t.closes === 2) {
      this.flush(side, other);
      this.flush(other, side);
      this.finTcp(c);
      return;
    }
    if (m.opcode >= 8) this.flush(side, other);
    else this.maybeFlush(side, other);
  }

  /** ends twin mode: flushes what is queued, closes the file, returns the truth */
  endReplay(): CaptureTruth {
    const conns = [...this.twinConns.values()].map((t) => t.c).sort((a, b) => a.id - b.id);
    for (const c of conns) {
      this.flush(c.client, c.server);
      this.flush(c.server, c.client);
    }
    this.w.close();
    return this.truth(conns);
  }

  private truth(conns: Conn[]): CaptureTruth {
    const per: ConnectionTruth[] = conns.map((c) => ({
      id: c.id,
      client: `${ipv4String(c.client.ep.ip)}:${c.client.ep.port}`,
      server: `${ipv4String(c.server.ep.ip)}:${c.server.ep.port}`,
      path: c.path,
      protocol: c.protocol,
      extensions: c.extensions,
      fromClient: c.client.truth(),
      fromServer: c.server.truth(),
    }));
    const all = createHash('sha256');
    let frames = 0;
    let messages = 0;
    let payloadBytes = 0;
    for (const p of per) {
      all.update(p.fromClient.sha256 + p.fromServer.sha256);
      frames += p.fromClient.frames + p.fromServer.frames;
      messages += p.fromClient.messages + p.fromServer.messages;
      payloadBytes += p.fromClient.payloadBytes + p.fromServer.payloadBytes;
    }
    return {
      generator: 'scripts/gen-capture.ts',
      seed: this.o.seed,
      format: this.o.format,
      deflate: this.o.deflate,
      targetBytes: this.o.bytes,
      bytes: this.w.bytes,
      packets: this.w.packets,
      wsPackets: this.wsPackets,
      connections: per.length,
      frames,
      framesByOpcode: this.framesByOpcode,
      messages,
      messagesByOpcode: this.messagesByOpcode,
      compressedMessages: this.compressedMessages,
      fragmentedMessages: this.fragmentedMessages,
      payloadBytes,
      wirePayloadBytes: this.wirePayloadBytes,
      sha256: all.digest('hex'),
      tcpAnomalies: this.o.tcpAnomalies ? { ...this.anomalies } : null,
      perConnection: per,
    };
  }
}

export function truthPath(out: string): string {
  return `${out}.truth.json`;
}

/** Write the capture and its FILE.truth.json; returns the truth. */
export async function generateCapture(opts: GenerateOptions): Promise<CaptureTruth> {
  const connections = opts.connections ?? 128;
  if (!(connections >= 1 && connections <= 20000)) throw new RangeError('connections must be 1..20000');
  if (!(opts.bytes > 0)) throw new RangeError('bytes must be > 0');
  const gen = new Generator({
    out: opts.out,
    bytes: opts.bytes,
    deflate: opts.deflate ?? false,
    connections,
    seed: opts.seed ?? 1,
    format: opts.format ?? 'pcap',
    concurrency: Math.max(1, opts.concurrency ?? Math.min(connections, 32)),
    tcpAnomalies: opts.tcpAnomalies ?? false,
    onMessage: opts.onMessage,
    tls: opts.tls,
  });
  const truth = gen.run();
  writeFileSync(truthPath(opts.out), JSON.stringify(truth, null, 1) + '\n');
  return truth;
}

/**
 * The permessage-deflate capture of `opts` (as generateCapture writes it) and, beside it in
 * `twinOut`, its uncompressed twin: the same connections, endpoints and messages in the same
 * order, every message sent uncompressed on connections that negotiated no extension. The
 * benchmark decodes the twin to measure what decoding the same messages costs without
 * inflating them (the second term of the permessage-deflate bound, docs/benchmarks.md).
 * Both are streamed: nothing but the message in flight is held.
 */
export async function generateUncompressedTwin(opts: GenerateOptions, twinOut: string): Promise<{ deflate: CaptureTruth; twin: CaptureTruth }> {
  if (opts.tls || opts.tcpAnomalies) throw new Error('generateUncompressedTwin: plain TCP captures only');
  const twinGen = new Generator({
    out: twinOut,
    bytes: opts.bytes,
    deflate: false,
    connections: opts.connections ?? 128,
    seed: (opts.seed ?? 1) + 1,
    format: opts.format ?? 'pcap',
    concurrency: 1,
    tcpAnomalies: false,
  });
  const onMessage = opts.onMessage;
  const deflate = await generateCapture({
    ...opts,
    deflate: true,
    onMessage: (m) => {
      twinGen.replay(m);
      onMessage?.(m);
    },
  });
  const twin = twinGen.endReplay();
  writeFileSync(truthPath(twinOut), JSON.stringify(twin, null, 1) + '\n');
  return { deflate, twin };
}

/** "200M", "1.5MB", "64k", "1048576" -> bytes */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const mult = { '': 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

async function main(argv: string[]): Promise<void> {
  const o: GenerateOptions = { out: '', bytes: 1 << 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--out') o.out = val();
    else if (a === '--bytes' || a === '--size') o.bytes = parseSize(val());
    else if (a === '--deflate') o.deflate = true;
    else if (a === '--tcp-anomalies') o.tcpAnomalies = true;
    else if (a === '--connections') o.connections = Number(val());
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--format') {
      const f = val();
      if (f !== 'pcap' && f !== 'pcapng') throw new Error('--format is pcap or pcapng');
      o.format = f;
    } else throw new Error(`unknown option ${a}`);
  }
  if (!o.out) throw new Error('usage: gen-capture --out FILE [--bytes 200M] [--deflate] [--connections N] [--seed N] [--format pcap|pcapng] [--tcp-anomalies]');
  const t0 = performance.now();
  const t = await generateCapture(o);
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${o.out}: ${(t.bytes / 1e6).toFixed(1)} MB, ${t.packets} packets, ${t.connections} connections, ` +
      `${t.frames} frames, ${t.messages} messages (${t.compressedMessages} compressed) in ${s.toFixed(1)} s`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
