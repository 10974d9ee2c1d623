/**
 * Generator of a capture with very many small WebSocket messages (default payloads of at
 * most 64 bytes), for the UI bench's filter-latency figure at 1,000,000 messages. scripts/gen-capture.ts
 * makes realistic mixes of 16 B..64 KiB messages (about 3.5 KB on average, so a million
 * messages would be a 3.5 GB file); this makes the message count, not the byte count, large.
 *
 *   import { generateSmallMessageCapture, FILTER_PROBES } from './lib/bench-small-capture'
 *
 * The capture: Ethernet/IPv4/TCP (pcap), `connections` connections from 127.0.0.x:410NN to
 * 127.0.0.1:8081, each a 3-way handshake, an HTTP/1.1 Upgrade with a random Sec-WebSocket-Key
 * and a 101 with the matching Accept (RFC 6455 section 4.2.2), then single-frame messages in
 * both directions (client frames masked, section 5.3): 95% text, JSON like
 * `{"s":17,"sym":"S42","op":"tick","x":"..."}` padded to a size drawn from minSize..maxSize
 * (at least its unpadded length, 30-38 bytes), 5% binary of random bytes of a size drawn from
 * minSize..maxSize; several frames
 * share one TCP segment (at most 1460 bytes, frames never split), the receiver ACKs every
 * second segment; a close handshake (1000, section 5.5.1) and FINs at the end.
 * `messages` counts every message the engine reports, the 2 close frames per connection
 * included, so the UI shows exactly that many rows.
 *
 * FILE.truth.json beside it holds the counts and, for each of `FILTER_PROBES`, how many
 * messages the timeline filter must show, computed with the engine's rules (case-insensitive
 * match over the timeline preview, which for these payloads is the whole text).
 *
 * Deterministic: one seed gives one file (sfc32). Memory: one 4 MiB output buffer (the
 * CaptureWriter's) and one segment buffer per direction.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CaptureWriter, ipv4, type Endpoint } from './capture-writer';
import { Prng } from './prng';

export interface SmallCaptureOptions {
  out: string;
  /** messages the engine will report, close frames included (default 1,000,000) */
  messages?: number;
  connections?: number;
  seed?: number;
  /** data payload bytes, inclusive (default 16..64) */
  minSize?: number;
  maxSize?: number;
}

/** A timeline filter the UI bench types, with the MessageQuery fields it sets. */
export interface FilterProbe {
  name: string;
  text?: string;
  regex?: boolean;
  opcodes?: number[];
}

export const FILTER_PROBES: readonly FilterProbe[] = [
  { name: 'text "sym":"S42"', text: '"sym":"S42"' },
  { name: 'text trade', text: 'trade' },
  { name: 'regex sym":"S[12]\\d"', text: 'sym":"S[12]\\d"', regex: true },
  { name: 'regex "s":\\d+7,', text: '"s":\\d+7,', regex: true },
  { name: 'opcode binary', opcodes: [2] },
];

export interface SmallCaptureTruth {
  generator: 'scripts/lib/bench-small-capture.ts';
  seed: number;
  bytes: number;
  packets: number;
  connections: number;
  /** every message, close frames included */
  messages: number;
  text: number;
  binary: number;
  close: number;
  minSize: number;
  maxSize: number;
  /** probe name -> messages the filter must show */
  expected: Record<string, number>;
}

export function smallTruthPath(out: string): string {
  return `${out}.truth.json`;
}

const MSS = 1460;
const SYN = 0x02;
const FIN = 0x01;
const PSH = 0x08;
const ACK = 0x10;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPS = ['tick', 'quote', 'trade', 'book'];
const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789';
const MSS_OPTION = new Uint8Array([2, 4, MSS >> 8, MSS & 0xff]);
const EMPTY = new Uint8Array(0);

interface Side {
  ep: Endpoint;
  seq: number;
  client: boolean;
  /** frames waiting to go out in one segment */
  seg: Buffer;
  segLen: number;
  unacked: number;
}

interface Conn {
  client: Side;
  server: Side;
}

/** How the engine matches a probe's text (engine/store/session-store.ts `query`): case-insensitive. */
function probeTest(p: FilterProbe): ((text: string | null, opcode: number) => boolean) | null {
  if (p.opcodes) {
    const ops = new Set(p.opcodes);
    return (_t, op) => ops.has(op);
  }
  if (!p.text) return null;
  const re = new RegExp(p.regex ? p.text : p.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
  return (t) => t !== null && re.test(t);
}

class SmallGenerator {
  private readonly rng: Prng;
  private readonly w: CaptureWriter;
  private now = 1_700_000_000_000_000;
  private readonly server: Endpoint = { ip: ipv4(127, 0, 0, 1), port: 8081 };
  private readonly payload = Buffer.allocUnsafe(256);

  constructor(private readonly o: Required<SmallCaptureOptions>) {
    this.rng = new Prng(o.seed);
    this.w = new CaptureWriter(o.out, 'pcap');
  }

  run(): SmallCaptureTruth {
    const { o, rng } = this;
    const tests = FILTER_PROBES.map((p) => [p.name, probeTest(p)] as const);
    const expected: Record<string, number> = {};
    for (const p of FILTER_PROBES) expected[p.name] = 0;
    const conns: Conn[] = [];
    for (let id = 0; id < o.connections; id++) {
      const c = this.open(id);
      conns.push(c);
    }
    const data = o.messages - 2 * o.connections;
    let text = 0;
    let binary = 0;
    for (let i = 0; i < data; i++) {
      const c = conns[rng.int(0, conns.length - 1)]!;
      const fromClient = rng.chance(0.5);
      const side = fromClient ? c.client : c.server;
      const peer = fromClient ? c.server : c.client;
      const size = rng.int(o.minSize, o.maxSize);
      let s: string | null = null;
      let opcode: number;
      if (rng.chance(0.05)) {
        opcode = 2;
        rng.fill(this.payload, 0, size);
        binary++;
      } else {
        opcode = 1;
        s = `{"s":${i},"sym":"S${rng.int(0, 96)}","op":"${OPS[rng.int(0, OPS.length - 1)]}"`;
        // pad with a field to the drawn size (a few bytes over when the base is already longer)
        const room = size - s.length - 1;
        s = room >= 8 ? `${s},"x":"${PAD.slice(0, room - 7)}"}` : `${s}}`;
        this.payload.write(s, 0, 'latin1');
        text++;
      }
      const len = s === null ? size : s.length;
      for (const [name, test] of tests) if (test?.(s, opcode)) expected[name]!++;
      this.frame(side, peer, opcode, this.payload, len);
      // a burst of small messages shares segments; now and then the sender pushes early
      if (side.segLen > 900 || rng.chance(0.15)) this.flush(side, peer);
      this.now += rng.int(1, 15);
    }
    for (const c of conns) this.close(c);
    this.w.close();
    return {
      generator: 'scripts/lib/bench-small-capture.ts',
      seed: o.seed,
      bytes: this.w.bytes,
      packets: this.w.packets,
      connections: o.connections,
      messages: text + binary + 2 * o.connections,
      text,
      binary,
      close: 2 * o.connections,
      minSize: o.minSize,
      maxSize: o.maxSize,
      expected,
    };
  }

  private side(ep: Endpoint, client: boolean): Side {
    return { ep, seq: this.rng.u32(), client, seg: Buffer.allocUnsafe(MSS), segLen: 0, unacked: 0 };
  }

  private packet(from: Side, to: Side, flags: number, payload: Uint8Array = EMPTY, len = 0, options?: Uint8Array): void {
    this.now += this.rng.int(1, 5);
    this.w.tcp(this.now, from.ep, to.ep, from.seq, to.seq, flags, payload, 0, len, options);
    from.seq = (from.seq + len + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
  }

  /** send what `from` has queued as one segment; the receiver ACKs every second one */
  private flush(from: Side, to: Side): void {
    if (from.segLen === 0) return;
    this.packet(from, to, PSH | ACK, from.seg, from.segLen);
    from.segLen = 0;
    to.unacked = 0;
    if (++from.unacked >= 2) {
      this.packet(to, from, ACK);
      from.unacked = 0;
    }
  }

  private raw(from: Side, to: Side, s: string): void {
    const b = Buffer.from(s, 'latin1');
    for (let off = 0; off < b.length; off += MSS) {
      const n = Math.min(MSS, b.length - off);
      b.copy(from.seg, 0, off, off + n);
      from.segLen = n;
      this.flush(from, to);
    }
  }

  /** RFC 6455 section 5.2 header (payloads here are < 126 bytes), client frames masked (5.3) */
  private frame(from: Side, to: Side, opcode: number, src: Uint8Array, len: number): void {
    const hdr = 2 + (from.client ? 4 : 0);
    if (from.segLen + hdr + len > MSS) this.flush(from, to);
    const b = from.seg;
    let p = from.segLen;
    b[p] = 0x80 | opcode;
    b[p + 1] = (from.client ? 0x80 : 0) | len;
    p += 2;
    if (from.client) {
      const k = this.rng.u32();
      b.writeUInt32BE(k, p);
      p += 4;
      for (let i = 0; i < len; i++) b[p + i] = src[i]! ^ ((k >>> (24 - 8 * (i & 3))) & 0xff);
    } else {
      b.set(src.subarray(0, len), p);
    }
    from.segLen = p + len;
  }

  private open(id: number): Conn {
    const { rng } = this;
    const client = this.side({ ip: ipv4(127, 0, 0, 2 + (id % 250)), port: 41000 + id }, true);
    const server = this.side(this.server, false);
    this.packet(client, server, SYN, EMPTY, 0, MSS_OPTION);
    this.packet(server, client, SYN | ACK, EMPTY, 0, MSS_OPTION);
    this.packet(client, server, ACK);
    const keyBytes = Buffer.allocUnsafe(16);
    rng.fill(keyBytes, 0, 16);
    const key = keyBytes.toString('base64');
    // RFC 6455 section 4.2.2 item 5.4: base64(SHA-1(key + GUID))
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    this.raw(
      client,
      server,
      `GET /feed/${id} HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:8081\r\n\r\n`,
    );
    this.raw(server, client, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    return { client, server };
  }

  /** client closes with 1000, the server echoes it (RFC 6455 section 5.5.1), server FIN first (7.1.1) */
  private close(c: Conn): void {
    const code = new Uint8Array([0x03, 0xe8]);
    this.flush(c.server, c.client);
    this.frame(c.client, c.server, 8, code, 2);
    this.flush(c.client, c.server);
    this.frame(c.server, c.client, 8, code, 2);
    this.flush(c.server, c.client);
    this.packet(c.server, c.client, FIN | ACK);
    this.packet(c.client, c.server, FIN | ACK);
    this.packet(c.server, c.client, ACK);
  }
}

/** Write the capture and FILE.truth.json; returns the truth. */
export function generateSmallMessageCapture(opts: SmallCaptureOptions): SmallCaptureTruth {
  const o: Required<SmallCaptureOptions> = {
    out: opts.out,
    messages: opts.messages ?? 1_000_000,
    connections: opts.connections ?? 4,
    seed: opts.seed ?? 1,
    minSize: opts.minSize ?? 16,
    maxSize: opts.maxSize ?? 64,
  };
  if (!(o.connections >= 1 && o.connections <= 250)) throw new RangeError('connections must be 1..250');
  if (!(o.messages > 2 * o.connections)) throw new RangeError('messages must exceed 2 close frames per connection');
  if (!(o.minSize >= 1 && o.maxSize <= 125 && o.minSize <= o.maxSize)) throw new RangeError('sizes must be 1..125 (one-byte frame length)');
  const truth = new SmallGenerator(o).run();
  writeFileSync(smallTruthPath(o.out), JSON.stringify(truth, null, 1) + '\n');
  return truth;
}
