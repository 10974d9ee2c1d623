/**
 * Hostile captures for the resource-bound tests and figures of docs/hardening.md ("Output
 * streams"): each is a loopback WebSocket conversation built to make a decoder or its output
 * grow with what the capture claims rather than with what it holds.
 *
 *   tsx scripts/gen-bombs.ts KIND OUT.pcap [--scale X]
 *   import { writeBomb, BOMBS } from './gen-bombs'
 *
 * Kinds (`BOMBS`):
 *  - `inflate-1gib`: one permessage-deflate message of about 1 MiB that inflates to 1 GiB
 *    (the corpus case `deflate-bomb-1gib`, scripts/lib/fuzz-corpus.ts);
 *  - `inflate-1gib-text`: the same as a text message (U+0000 is valid UTF-8, and JSON writes
 *    each as the 6 bytes \u0000);
 *  - `text-200mb`: one 200 MB text message (valid UTF-8, lorem ipsum);
 *  - `frame-2p62`: a frame header claiming 2^62 payload bytes, then 200 MB of payload;
 *  - `many-findings`: one connection whose server retransmits each of its 300,000 segments
 *    with other bytes (a `tcp-overlap-conflict` each, RFC 9293 section 3.10.7.4);
 *  - `inflate-8conn`: 8 connections, each sending 16 permessage-deflate messages that inflate
 *    to 64 MiB each (1 GiB per connection, 8 GiB in all) from about 8 MiB of capture.
 * `--scale` multiplies the sizes and counts (tests use less than the figures).
 *
 * Deterministic (no clock, no randomness). Memory: streamed through CaptureWriter's 4 MiB
 * buffer; a message is generated a segment at a time, the deflate pieces once.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { constants, deflateRawSync } from 'node:zlib';
import { CaptureWriter, ipv4, type Endpoint } from './lib/capture-writer';
import { CASES } from './lib/fuzz-corpus';
import { wsRequest, wsResponse } from '../test/kit/websocket';
import { ACK, FIN, PSH, SYN } from '../test/kit/capture';

const MSS = 1460;
const DEFLATE = 'permessage-deflate';

/** One TCP connection from 127.0.0.x to 127.0.0.1:8080, written as it is driven. */
class Conv {
  private readonly c: Endpoint;
  private readonly s: Endpoint = { ip: ipv4(127, 0, 0, 1), port: 8080 };
  private cseq = 1000;
  private sseq = 5000;
  private ts = 1_700_000_000_000_000;

  constructor(
    private readonly w: CaptureWriter,
    n: number,
  ) {
    this.c = { ip: ipv4(127, 0, 1 + (n >> 8), 1 + (n & 0xff)), port: 40000 + n };
  }

  /** The 3-way handshake and the HTTP/1.1 upgrade (RFC 6455 section 4). */
  open(extensions?: string): this {
    const o = extensions ? { extensions } : {};
    this.seg('c', SYN, new Uint8Array(0));
    this.cseq++;
    this.seg('s', SYN | ACK, new Uint8Array(0));
    this.sseq++;
    this.send('c', wsRequest(o));
    this.send('s', wsResponse(o));
    return this;
  }

  /** `bytes` in segments of at most MSS. */
  send(side: 'c' | 's', bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += MSS) this.seg(side, ACK | PSH, bytes.subarray(off, Math.min(bytes.length, off + MSS)));
  }

  /** One segment at the side's next sequence number (advanced by its length). */
  seg(side: 'c' | 's', flags: number, payload: Uint8Array): void {
    this.segAt(side, side === 'c' ? this.cseq : this.sseq, flags, payload);
    if (side === 'c') this.cseq = (this.cseq + payload.length) >>> 0;
    else this.sseq = (this.sseq + payload.length) >>> 0;
  }

  /** One segment at sequence number `seq` (a retransmission when it was sent before). */
  segAt(side: 'c' | 's', seq: number, flags: number, payload: Uint8Array): void {
    this.ts += 10;
    const [src, dst, ack] = side === 'c' ? [this.c, this.s, this.sseq] : [this.s, this.c, this.cseq];
    this.w.tcp(this.ts, src, dst, seq, ack, flags, payload, 0, payload.length);
  }

  seqOf(side: 'c' | 's'): number {
    return side === 'c' ? this.cseq : this.sseq;
  }

  close(): void {
    this.seg('c', FIN | ACK, new Uint8Array(0));
    this.seg('s', FIN | ACK, new Uint8Array(0));
  }
}

/** An unmasked (server) frame header for `length` payload bytes (RFC 6455 section 5.2). */
function serverHeader(opcode: number, length: bigint, rsv1 = false): Uint8Array {
  const first = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126n) return Uint8Array.of(first, Number(length));
  if (length < 65536n) return Uint8Array.of(first, 126, Number(length >> 8n), Number(length & 0xffn));
  const h = new Uint8Array(10);
  h[0] = first;
  h[1] = 127;
  new DataView(h.buffer).setBigUint64(2, length);
  return h;
}

/** A server message of `total` payload bytes after `header`, written a segment at a time. */
function sendLarge(conv: Conv, header: Uint8Array, total: number, fill: Uint8Array): void {
  conv.send('s', header);
  for (let off = 0; off < total; off += MSS) conv.seg('s', ACK, fill.subarray(0, Math.min(MSS, total - off)));
}

/** MSS bytes of ASCII prose, so any cut of it is valid UTF-8. */
function lorem(): Uint8Array {
  return Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(MSS / 57)).slice(0, MSS), 'latin1');
}

/**
 * A permessage-deflate message (RFC 7692 section 7.2.1) of `mib` MiB of zeros: 16 MiB pieces,
 * each ending on a sync flush and referring only to itself, concatenated, the last
 * 00 00 ff ff removed.
 */
function zeroMessage(mib: number): Uint8Array {
  const piece = deflateRawSync(Buffer.alloc(Math.min(mib, 16) << 20), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const n = Math.max(1, Math.round(mib / 16));
  const all = Buffer.concat(Array.from({ length: n }, () => piece));
  return all.subarray(0, all.length - 4);
}

type Builder = (w: CaptureWriter, scale: number) => void;

export const BOMBS: Record<string, Builder> = {
  'text-200mb': (w, scale) => {
    const conv = new Conv(w, 1).open();
    sendLarge(conv, serverHeader(1, BigInt(Math.round(200e6 * scale))), Math.round(200e6 * scale), lorem());
    conv.send('s', serverHeader(1, 11n));
    conv.send('s', Buffer.from('still alive'));
    conv.close();
  },
  'frame-2p62': (w, scale) => {
    const conv = new Conv(w, 1).open();
    sendLarge(conv, serverHeader(2, 1n << 62n), Math.round(200e6 * scale), new Uint8Array(MSS).fill(0x5a));
    conv.close();
  },
  'many-findings': (w, scale) => {
    const conv = new Conv(w, 1).open();
    const a = new Uint8Array(100).fill(0x61);
    const b = new Uint8Array(100).fill(0x62);
    a.set(serverHeader(2, 98n));
    b.set(serverHeader(2, 98n));
    for (let i = 0; i < Math.round(300_000 * scale); i++) {
      const seq = conv.seqOf('s');
      conv.seg('s', ACK | PSH, a);
      conv.segAt('s', seq, ACK | PSH, b); // the same range, other bytes
    }
    conv.close();
  },
  'inflate-1gib-text': (w) => {
    const conv = new Conv(w, 1).open(DEFLATE);
    const msg = zeroMessage(1024);
    conv.send('s', serverHeader(1, BigInt(msg.length), true));
    conv.send('s', msg);
    conv.send('s', serverHeader(1, 11n));
    conv.send('s', Buffer.from('still alive'));
    conv.close();
  },
  'inflate-8conn': (w, scale) => connBomb(w, { connections: 8, messages: Math.round(16 * scale), mib: 64 }),
};

/** The multi-connection bomb's shape: `connections` each sending `messages` messages that inflate to `mib` MiB (rounded to 16 past 16). */
export interface ConnBomb {
  connections: number;
  messages: number;
  mib: number;
}

/** Every connection opens with permessage-deflate, then they send their messages in turn. */
function connBomb(w: CaptureWriter, b: ConnBomb): void {
  const msg = zeroMessage(b.mib);
  const header = serverHeader(2, BigInt(msg.length), true);
  const convs = Array.from({ length: b.connections }, (_, i) => new Conv(w, i + 1).open(DEFLATE));
  for (let k = 0; k < b.messages; k++) {
    for (const conv of convs) {
      conv.send('s', header);
      conv.send('s', msg);
    }
  }
  for (const conv of convs) conv.close();
}

/** Write a multi-connection bomb of shape `b` to `out` (pcap): the fuzzer's bomb shape (scripts/fuzz.ts). */
export function writeConnBomb(out: string, b: ConnBomb): void {
  const w = new CaptureWriter(out, 'pcap');
  connBomb(w, b);
  w.close();
}

/** Write the capture of `kind` to `out` (pcap). */
export function writeBomb(kind: string, out: string, scale = 1): void {
  if (kind === 'inflate-1gib') {
    const c = CASES.find((x) => x.name === 'deflate-bomb-1gib');
    if (!c) throw new Error('corpus case deflate-bomb-1gib is missing');
    writeFileSync(out, c.build());
    return;
  }
  const build = BOMBS[kind];
  if (!build) throw new Error(`unknown kind ${kind} (known: inflate-1gib, ${Object.keys(BOMBS).join(', ')})`);
  const w = new CaptureWriter(out, 'pcap');
  build(w, scale);
  w.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [kind, out, flag, value] = process.argv.slice(2);
  if (!kind || !out) {
    console.error('usage: tsx scripts/gen-bombs.ts KIND OUT.pcap [--scale X]');
    process.exit(2);
  }
  writeBomb(kind, out, flag === '--scale' ? Number(value) : 1);
}
