/**
 * Streaming writer of synthetic Ethernet/IPv4/TCP packets into a pcap (LINKTYPE_ETHERNET,
 * microsecond timestamps, little-endian) or pcapng (SHB + one IDB "lo" + EPBs) file.
 *
 * Each packet is assembled straight into one output buffer (4 MiB) that is flushed with
 * `fs.writeSync` when full, so a capture of any size is written with bounded memory.
 * IPv4 header checksums (RFC 791 section 3.1) and TCP checksums over the pseudo-header
 * (RFC 793 section 3.1) are computed, so no tool flags the packets as bad.
 *
 * Memory: the payload view handed to `tcp()` is copied before the call returns; the caller
 * may reuse it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type CaptureFormat = 'pcap' | 'pcapng';

export const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262144;
const ETH_LEN = 14;
const IP_LEN = 20;
const BUF_SIZE = 4 << 20;

/** An IPv4 endpoint; `ip` is the address as an unsigned 32-bit integer. */
export interface Endpoint {
  ip: number;
  port: number;
}

export function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function ipv4String(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** One's-complement sum of 16-bit big-endian words (odd tail padded with zero). */
function sum16(b: Uint8Array, off: number, len: number, acc: number): number {
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i === end) acc += b[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

export class CaptureWriter {
  /** bytes written to the file so far (including what still sits in the buffer) */
  bytes = 0;
  packets = 0;
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(BUF_SIZE);
  private pos = 0;
  private readonly ipId = new Map<number, number>();

  constructor(
    path: string,
    readonly format: CaptureFormat,
  ) {
    this.fd = openSync(path, 'w');
    if (format === 'pcap') this.pcapHeader();
    else this.pcapngHeader();
  }

  private reserve(n: number): number {
    if (this.pos + n > BUF_SIZE) this.flush();
    const at = this.pos;
    this.pos += n;
    this.bytes += n;
    return at;
  }

  private flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }

  private pcapHeader(): void {
    const o = this.reserve(24);
    const b = this.buf;
    b.writeUInt32LE(0xa1b2c3d4, o); // microsecond resolution
    b.writeUInt16LE(2, o + 4);
    b.writeUInt16LE(4, o + 6);
    b.writeInt32LE(0, o + 8);
    b.writeUInt32LE(0, o + 12);
    b.writeUInt32LE(SNAPLEN, o + 16);
    b.writeUInt32LE(LINKTYPE_ETHERNET, o + 20);
  }

  private pcapngHeader(): void {
    const b = this.buf;
    // Section Header Block, section length unknown (-1)
    let o = this.reserve(28);
    b.writeUInt32LE(0x0a0d0d0a, o);
    b.writeUInt32LE(28, o + 4);
    b.writeUInt32LE(0x1a2b3c4d, o + 8);
    b.writeUInt16LE(1, o + 12);
    b.writeUInt16LE(0, o + 14);
    b.writeInt32LE(-1, o + 16);
    b.writeInt32LE(-1, o + 20);
    b.writeUInt32LE(28, o + 24);
    // Interface Description Block with if_name "lo"; default if_tsresol = microseconds
    o = this.reserve(32);
    b.writeUInt32LE(1, o);
    b.writeUInt32LE(32, o + 4);
    b.writeUInt16LE(LINKTYPE_ETHERNET, o + 8);
    b.writeUInt16LE(0, o + 10);
    b.writeUInt32LE(SNAPLEN, o + 12);
    b.writeUInt16LE(2, o + 16); // if_name
    b.writeUInt16LE(2, o + 18);
    b.write('lo\0\0', o + 20, 'latin1');
    b.writeUInt32LE(0, o + 24); // opt_endofopt
    b.writeUInt32LE(32, o + 28);
  }

  /**
   * Append one TCP segment. `tsUs` is the timestamp in integer microseconds since the epoch;
   * `options` are raw TCP option bytes (length a multiple of 4).
   */
  tcp(
    tsUs: number,
    src: Endpoint,
    dst: Endpoint,
    seq: number,
    ack: number,
    flags: number,
    payload: Uint8Array,
    payOff: number,
    payLen: number,
    options?: Uint8Array,
  ): void {
    const tcpLen = 20 + (options ? options.length : 0);
    const pktLen = ETH_LEN + IP_LEN + tcpLen + payLen;
    const pad = (4 - (pktLen & 3)) & 3;
    const ng = this.format === 'pcapng';
    const recLen = ng ? 28 + pktLen + pad + 4 : 16 + pktLen;
    const o = this.reserve(recLen);
    const b = this.buf;
    const sec = Math.floor(tsUs / 1e6);
    let p: number;
    if (ng) {
      const hi = Math.floor(tsUs / 4294967296);
      b.writeUInt32LE(6, o);
      b.writeUInt32LE(recLen, o + 4);
      b.writeUInt32LE(0, o + 8);
      b.writeUInt32LE(hi, o + 12);
      b.writeUInt32LE(tsUs - hi * 4294967296, o + 16);
      b.writeUInt32LE(pktLen, o + 20);
      b.writeUInt32LE(pktLen, o + 24);
      p = o + 28;
      if (pad) b.fill(0, p + pktLen, p + pktLen + pad);
      b.writeUInt32LE(recLen, p + pktLen + pad);
    } else {
      b.writeUInt32LE(sec, o);
      b.writeUInt32LE(tsUs - sec * 1e6, o + 4);
      b.writeUInt32LE(pktLen, o + 8);
      b.writeUInt32LE(pktLen, o + 12);
      p = o + 16;
    }
    // Ethernet: zero MAC addresses, as Linux loopback captures show them
    b.fill(0, p, p + 12);
    b.writeUInt16BE(0x0800, p + 12);
    // IPv4 (RFC 791 section 3.1): no options, DF set, TTL 64
    const ip = p + ETH_LEN;
    const id = this.ipId.get(src.ip * 65536 + src.port) ?? 0;
    this.ipId.set(src.ip * 65536 + src.port, (id + 1) & 0xffff);
    b[ip] = 0x45;
    b[ip + 1] = 0;
    b.writeUInt16BE(IP_LEN + tcpLen + payLen, ip + 2);
    b.writeUInt16BE(id, ip + 4);
    b.writeUInt16BE(0x4000, ip + 6);
    b[ip + 8] = 64;
    b[ip + 9] = 6;
    b.writeUInt16BE(0, ip + 10);
    b.writeUInt32BE(src.ip, ip + 12);
    b.writeUInt32BE(dst.ip, ip + 16);
    b.writeUInt16BE(fold(sum16(b, ip, IP_LEN, 0)), ip + 10);
    // TCP (RFC 793 section 3.1)
    const t = ip + IP_LEN;
    b.writeUInt16BE(src.port, t);
    b.writeUInt16BE(dst.port, t + 2);
    b.writeUInt32BE(seq >>> 0, t + 4);
    b.writeUInt32BE(flags & 0x10 ? ack >>> 0 : 0, t + 8);
    b[t + 12] = (tcpLen / 4) << 4;
    b[t + 13] = flags;
    b.writeUInt16BE(65535, t + 14);
    b.writeUInt16BE(0, t + 16);
    b.writeUInt16BE(0, t + 18);
    if (options) b.set(options, t + 20);
    if (payLen) b.set(payload.subarray(payOff, payOff + payLen), t + tcpLen);
    // pseudo-header: source, destination, zero + protocol, TCP length
    let acc = (src.ip >>> 16) + (src.ip & 0xffff) + (dst.ip >>> 16) + (dst.ip & 0xffff) + 6 + tcpLen + payLen;
    acc = sum16(b, t, tcpLen + payLen, acc);
    b.writeUInt16BE(fold(acc), t + 16);
    this.packets++;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
