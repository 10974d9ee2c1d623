/**
 * Byte-level builders for hand-made (and deliberately broken) captures: link layers
 * (Ethernet with VLAN tags, Linux SLL/SLL2, BSD NULL, raw IP), IPv4/IPv6 (with options,
 * extension headers and fragments), TCP/UDP, pcap and pcapng file writers (either byte
 * order), and `Conv`, a two-sided TCP conversation that tracks sequence numbers and speaks the
 * WebSocket opening handshake (./websocket.ts). Used by the tests, the corpus
 * (scripts/lib/fuzz-corpus.ts), the fuzzer and test/fixtures/capture/make-fixtures.ts.
 *
 * Every builder takes explicit override knobs (IHL, data offset, caplen, block length, ...)
 * so a test can write exactly the malformed field it wants; defaults are well-formed. The IPv4
 * header checksum (RFC 791 section 3.1) is always computed; TCP and UDP checksums (RFC 9293
 * section 3.1, RFC 768) when the caller passes the pseudo-header addresses (`checksum`).
 *
 * Memory: every function returns a fresh Uint8Array that the caller owns; inputs are copied.
 */
import { ascii, be16, concat, fold, sum16, type Bytes } from './bytes';
import { wsRequest, wsResponse, type HandshakeOpts, type ResponseOpts } from './websocket';

export { ascii, concat, type Bytes } from './bytes';

export const LT_NULL = 0;
export const LT_ETHERNET = 1;
export const LT_RAW = 101;
export const LT_LINUX_SLL = 113;
export const LT_LINUX_SLL2 = 276;

// ---------- link layers ----------

/** Ethernet II with zero MACs and optional 802.1Q/802.1ad tags (outermost first: [tpid, vid]). */
export function ether(etherType: number, payload: Bytes, tags: Array<[number, number]> = []): Bytes {
  const h = new Uint8Array(12 + tags.length * 4 + 2);
  h[5] = 1;
  h[11] = 2;
  let o = 12;
  for (const [tpid, vid] of tags) {
    h.set(be16(tpid), o);
    h.set(be16(vid & 0x0fff), o + 2);
    o += 4;
  }
  h.set(be16(etherType), o);
  return concat([h, payload]);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL): packet type, ARPHRD, address, protocol. */
export function sll(protocol: number, payload: Bytes): Bytes {
  const h = new Uint8Array(16);
  h.set(be16(0), 0); // sent to us
  h.set(be16(772), 2); // ARPHRD_LOOPBACK
  h.set(be16(6), 4);
  h.set(be16(protocol), 14);
  return concat([h, payload]);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): protocol first, then ifindex, ARPHRD, ... */
export function sll2(protocol: number, payload: Bytes): Bytes {
  const h = new Uint8Array(20);
  h.set(be16(protocol), 0);
  h[7] = 1; // interface index 1
  h.set(be16(772), 8);
  h[10] = 0;
  h[11] = 6;
  return concat([h, payload]);
}

/**
 * BSD loopback (LINKTYPE_NULL): the address family as 4 bytes in the capturing host's byte
 * order (little-endian unless `bigEndian`; LINKTYPE_LOOP always writes it big-endian).
 */
export function nullLoop(family: number, payload: Bytes, bigEndian = false): Bytes {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, family >>> 0, !bigEndian);
  return concat([h, payload]);
}

// ---------- IP ----------

export interface Ipv4Opts {
  /** override the IHL nibble (header words) without changing the bytes written */
  ihl?: number;
  options?: Bytes;
  id?: number;
  /** flags+fragment offset field (offset in 8-byte units, MF = 0x2000) */
  fragField?: number;
  /** override the total length field */
  totalLength?: number;
  ttl?: number;
}

export function ipv4Addr(s: string): Bytes {
  return Uint8Array.from(s.split('.').map(Number));
}

export function ipv6Addr(s: string): Bytes {
  // expand "::" (enough for the loopback / documentation addresses used here)
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => out.set(be16(parseInt(g, 16)), i * 2));
  return out;
}

export function ipv4(src: string, dst: string, protocol: number, payload: Bytes, o: Ipv4Opts = {}): Bytes {
  const opts = o.options ?? new Uint8Array(0);
  const hl = 20 + opts.length;
  const h = new Uint8Array(hl);
  h[0] = 0x40 | ((o.ihl ?? hl / 4) & 0x0f);
  h.set(be16(o.totalLength ?? hl + payload.length), 2);
  h.set(be16(o.id ?? 1), 4);
  h.set(be16(o.fragField ?? 0x4000), 6);
  h[8] = o.ttl ?? 64;
  h[9] = protocol;
  h.set(ipv4Addr(src), 12);
  h.set(ipv4Addr(dst), 16);
  h.set(opts, 20);
  h.set(be16(fold(sum16(h, 0))), 10);
  return concat([h, payload]);
}

/**
 * An IPv4 datagram's payload cut into fragments of at most `size` bytes (a multiple of 8,
 * RFC 791 section 3.2), all with the same identification; MF set on all but the last.
 */
export function ipv4Fragments(src: string, dst: string, protocol: number, payload: Bytes, size: number, o: Ipv4Opts = {}): Bytes[] {
  const out: Bytes[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const more = off + size < payload.length ? 0x2000 : 0;
    out.push(ipv4(src, dst, protocol, payload.subarray(off, off + size), { ...o, fragField: more | (off / 8) }));
  }
  return out;
}

export interface Ipv6Ext {
  /** next-header value that announces this extension (0 hop-by-hop, 43 routing, 44 fragment, 60 destination options) */
  type: number;
  /** body after the next-header byte (and length byte, except for fragment headers) */
  body: Bytes;
}

/** IPv6 (RFC 8200) with extension headers in order; each gets its next-header and length byte. */
export function ipv6(src: string, dst: string, protocol: number, payload: Bytes, exts: Ipv6Ext[] = []): Bytes {
  const parts: Bytes[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const next = i + 1 < exts.length ? exts[i + 1]!.type : protocol;
    if (e.type === 44) {
      // fragment header: fixed 8 bytes (next, reserved, offset+M, identification)
      const f = new Uint8Array(8);
      f[0] = next;
      f.set(e.body.subarray(0, 6), 2);
      parts.push(f);
    } else {
      const len = 2 + e.body.length;
      const padded = (len + 7) & ~7;
      const x = new Uint8Array(padded);
      x[0] = next;
      x[1] = padded / 8 - 1;
      x.set(e.body, 2);
      parts.push(x);
    }
  }
  const extBytes = concat(parts);
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h.set(be16(extBytes.length + payload.length), 4);
  h[6] = exts.length ? exts[0]!.type : protocol;
  h[7] = 64;
  h.set(ipv6Addr(src), 8);
  h.set(ipv6Addr(dst), 24);
  return concat([h, extBytes, payload]);
}

/**
 * An IPv6 packet's fragmentable part (`protocol` names its first header) cut into fragments of
 * at most `size` bytes (a multiple of 8), each behind a Fragment header (RFC 8200 section 4.5).
 */
export function ipv6Fragments(src: string, dst: string, protocol: number, fragmentable: Bytes, size: number, id: number): Bytes[] {
  const out: Bytes[] = [];
  for (let off = 0; off < fragmentable.length; off += size) {
    const more = off + size < fragmentable.length ? 1 : 0;
    const body = Uint8Array.of((off >> 8) & 0xff, (off & 0xf8) | more, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
    out.push(ipv6(src, dst, protocol, fragmentable.subarray(off, off + size), [{ type: 44, body }]));
  }
  return out;
}

// ---------- transport ----------

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** Source and destination address of the IP header a segment will travel in (for its checksum). */
export type PseudoAddrs = [src: string, dst: string];

export interface TcpOpts {
  /** override the data-offset nibble (32-bit words) without changing the bytes written */
  dataOffset?: number;
  options?: Bytes;
  window?: number;
  /** compute the checksum over this pseudo-header (else the field stays 0) */
  checksum?: PseudoAddrs;
}

/** RFC 9293 section 3.1 / RFC 8200 section 8.1: the sum of the pseudo-header and the segment. */
function transportChecksum(seg: Bytes, protocol: number, [src, dst]: PseudoAddrs): number {
  const v6 = src.includes(':');
  const a = v6 ? ipv6Addr(src) : ipv4Addr(src);
  const b = v6 ? ipv6Addr(dst) : ipv4Addr(dst);
  const len = seg.length;
  const tail = v6 ? Uint8Array.of(0, 0, len >> 8, len & 0xff, 0, 0, 0, protocol) : Uint8Array.of(0, protocol, len >> 8, len & 0xff);
  return fold(sum16(seg, sum16(tail, sum16(b, sum16(a)))));
}

export function tcp(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payload: Bytes, o: TcpOpts = {}): Bytes {
  const opts = o.options ?? new Uint8Array(0);
  const hl = 20 + opts.length;
  const h = new Uint8Array(hl);
  h.set(be16(srcPort), 0);
  h.set(be16(dstPort), 2);
  new DataView(h.buffer).setUint32(4, seq >>> 0);
  new DataView(h.buffer).setUint32(8, ack >>> 0);
  h[12] = ((o.dataOffset ?? hl / 4) & 0x0f) << 4;
  h[13] = flags;
  h.set(be16(o.window ?? 65535), 14);
  h.set(opts, 20);
  const seg = concat([h, payload]);
  if (o.checksum) seg.set(be16(transportChecksum(seg, 6, o.checksum)), 16);
  return seg;
}

export function udp(srcPort: number, dstPort: number, payload: Bytes, checksum?: PseudoAddrs): Bytes {
  const h = new Uint8Array(8);
  h.set(be16(srcPort), 0);
  h.set(be16(dstPort), 2);
  h.set(be16(8 + payload.length), 4);
  const seg = concat([h, payload]);
  // a computed 0 is sent as ffff: 0 means "no checksum" (RFC 768)
  if (checksum) seg.set(be16(transportChecksum(seg, 17, checksum) || 0xffff), 6);
  return seg;
}

// ---------- capture files ----------

/** One capture record. `caplen`/`origLen` override the record header fields; `iface` is for pcapng. */
export interface Rec {
  /** timestamp in microseconds since the epoch (integer) */
  tsUs: number;
  data: Bytes;
  origLen?: number;
  caplen?: number;
  iface?: number;
}

export interface PcapOpts {
  linkType: number;
  snaplen?: number;
  nanos?: boolean;
  bigEndian?: boolean;
  major?: number;
  minor?: number;
}

export function pcapHeader(o: PcapOpts): Bytes {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  const le = !o.bigEndian;
  v.setUint32(0, o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, o.major ?? 2, le);
  v.setUint16(6, o.minor ?? 4, le);
  v.setUint32(16, (o.snaplen ?? 262144) >>> 0, le);
  v.setUint32(20, o.linkType >>> 0, le);
  return h;
}

export function pcapRecord(r: Rec, o: { nanos?: boolean; bigEndian?: boolean } = {}): Bytes {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  const le = !o.bigEndian;
  const sec = Math.floor(r.tsUs / 1e6);
  const us = r.tsUs - sec * 1e6;
  v.setUint32(0, sec >>> 0, le);
  v.setUint32(4, o.nanos ? us * 1000 : us, le);
  v.setUint32(8, (r.caplen ?? r.data.length) >>> 0, le);
  v.setUint32(12, (r.origLen ?? r.data.length) >>> 0, le);
  return concat([h, r.data]);
}

export function pcap(recs: readonly Rec[], o: PcapOpts): Bytes {
  return concat([pcapHeader(o), ...recs.map((r) => pcapRecord(r, o))]);
}

/** Byte order of a pcapng section: little-endian unless `bigEndian`. */
export interface NgOrder {
  bigEndian?: boolean;
}

/** A pcapng block: type, total length (overridable: `lenField`), body padded to 4, trailing length. */
export function ngBlock(type: number, body: Bytes, o: NgOrder & { lenField?: number } = {}): Bytes {
  const le = !o.bigEndian;
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  v.setUint32(0, type >>> 0, le);
  v.setUint32(4, (o.lenField ?? total) >>> 0, le);
  b.set(body, 8);
  v.setUint32(total - 4, (o.lenField ?? total) >>> 0, le);
  return b;
}

/** One option (code, length, value padded to 4). */
export function ngOption(code: number, value: Bytes, o: NgOrder = {}): Bytes {
  const b = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = new DataView(b.buffer);
  v.setUint16(0, code, !o.bigEndian);
  v.setUint16(2, value.length, !o.bigEndian);
  b.set(value, 4);
  return b;
}

/** Section Header Block: byte-order magic, version 1.0, section length -1 (unknown). */
export function ngShb(o: NgOrder = {}): Bytes {
  const le = !o.bigEndian;
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, 1, le);
  v.setUint16(6, 0, le);
  v.setInt32(8, -1, le);
  v.setInt32(12, -1, le);
  return ngBlock(0x0a0d0d0a, body, o);
}

export interface NgIfaceOpts extends NgOrder {
  linkType: number;
  snaplen?: number;
  /** if_tsresol byte (6 = microseconds, 9 = nanoseconds, 0x80 | n = 2^-n) */
  tsresol?: number;
  /** if_tsoffset, seconds added to every timestamp */
  tsoffset?: number;
  name?: string;
  description?: string;
}

/** Interface Description Block; options in the order if_name, if_description, if_tsresol, if_tsoffset. */
export function ngIdb(o: NgIfaceOpts): Bytes {
  const le = !o.bigEndian;
  const opts: Bytes[] = [];
  if (o.name !== undefined) opts.push(ngOption(2, ascii(o.name), o));
  if (o.description !== undefined) opts.push(ngOption(3, ascii(o.description), o));
  if (o.tsresol !== undefined) opts.push(ngOption(9, Uint8Array.of(o.tsresol), o));
  if (o.tsoffset !== undefined) {
    const off = new Uint8Array(8);
    new DataView(off.buffer).setBigInt64(0, BigInt(o.tsoffset), le);
    opts.push(ngOption(14, off, o));
  }
  if (opts.length) opts.push(new Uint8Array(4)); // opt_endofopt
  const head = new Uint8Array(8);
  const v = new DataView(head.buffer);
  v.setUint16(0, o.linkType, le);
  v.setUint32(4, (o.snaplen ?? 262144) >>> 0, le);
  return ngBlock(1, concat([head, ...opts]), o);
}

/**
 * A packet block body's common part: interface (32 bits, or 16 + 16 reserved for the obsolete
 * Packet Block), timestamp high/low in the interface's units, caplen, original length, data.
 */
function packetBody(iface: Bytes, units: bigint, data: Bytes, caplen: number, origLen: number, le: boolean): Bytes {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, Number((units >> 32n) & 0xffffffffn), le);
  v.setUint32(4, Number(units & 0xffffffffn), le);
  v.setUint32(8, caplen >>> 0, le);
  v.setUint32(12, origLen >>> 0, le);
  return concat([iface, h, data]);
}

/** Enhanced Packet Block with a raw timestamp in the interface's units. */
export function ngEpbRaw(iface: number, units: bigint, data: Bytes, o: NgOrder & { origLen?: number; caplen?: number } = {}): Bytes {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, iface >>> 0, !o.bigEndian);
  return ngBlock(6, packetBody(id, units, data, o.caplen ?? data.length, o.origLen ?? data.length, !o.bigEndian), o);
}

/** Enhanced Packet Block of a record, its timestamp in microseconds (tsresol 6) or nanoseconds (9). */
export function ngEpb(r: Rec, tsresol = 6): Bytes {
  const units = tsresol === 9 ? BigInt(r.tsUs) * 1000n : BigInt(r.tsUs);
  return ngEpbRaw(r.iface ?? 0, units, r.data, r);
}

/** Obsolete Packet Block (type 2): 16-bit interface id, 16-bit drop count. */
export function ngPb(iface: number, units: bigint, data: Bytes, o: NgOrder & { origLen?: number } = {}): Bytes {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint16(0, iface, !o.bigEndian);
  return ngBlock(2, packetBody(id, units, data, data.length, o.origLen ?? data.length, !o.bigEndian), o);
}

/** Simple Packet Block: original length, then the data (cut to the interface's snap length by the reader). */
export function ngSpb(r: Pick<Rec, 'data' | 'origLen'>, o: NgOrder = {}): Bytes {
  const body = new Uint8Array(4 + r.data.length);
  new DataView(body.buffer).setUint32(0, (r.origLen ?? r.data.length) >>> 0, !o.bigEndian);
  body.set(r.data, 4);
  return ngBlock(3, body, o);
}

export function pcapng(recs: readonly Rec[], ifaces: NgIfaceOpts[]): Bytes {
  return concat([ngShb(), ...ifaces.map(ngIdb), ...recs.map((r) => ngEpb(r, ifaces[r.iface ?? 0]?.tsresol ?? 6))]);
}

// ---------- a TCP conversation ----------

export type Side = 'c' | 's';
export type LinkKind = 'eth' | 'vlan' | 'qinq' | 'sll' | 'sll2' | 'raw' | 'null';

export interface ConvOpts {
  v6?: boolean;
  link?: LinkKind;
  clientPort?: number;
  serverPort?: number;
  /** initial sequence numbers */
  isnC?: number;
  isnS?: number;
  /** first timestamp, microseconds */
  t0?: number;
  /** IPv6 extension headers on every packet */
  v6ext?: Ipv6Ext[];
}

export function linkTypeOf(k: LinkKind): number {
  switch (k) {
    case 'sll':
      return LT_LINUX_SLL;
    case 'sll2':
      return LT_LINUX_SLL2;
    case 'raw':
      return LT_RAW;
    case 'null':
      return LT_NULL;
    default:
      return LT_ETHERNET;
  }
}

/** Wrap an IP packet in the given link layer. */
export function linkWrap(k: LinkKind, ip: Bytes, v6: boolean): Bytes {
  const et = v6 ? 0x86dd : 0x0800;
  switch (k) {
    case 'eth':
      return ether(et, ip);
    case 'vlan':
      return ether(et, ip, [[0x8100, 42]]);
    case 'qinq':
      return ether(et, ip, [
        [0x88a8, 100],
        [0x8100, 42],
      ]);
    case 'sll':
      return sll(et, ip);
    case 'sll2':
      return sll2(et, ip);
    case 'raw':
      return ip;
    case 'null':
      return nullLoop(v6 ? 30 : 2, ip);
  }
}

/** A TCP connection between 127.0.0.1:54321 (client) and 127.0.0.1:8080 (server), as records. */
export class Conv {
  readonly recs: Rec[] = [];
  readonly link: LinkKind;
  readonly v6: boolean;
  readonly cAddr: string;
  readonly sAddr: string;
  readonly cPort: number;
  readonly sPort: number;
  /** next sequence number per side */
  seq: Record<Side, number>;
  t: number;
  private readonly ext: Ipv6Ext[];
  private ipId = 1;

  constructor(o: ConvOpts = {}) {
    this.link = o.link ?? 'eth';
    this.v6 = o.v6 ?? false;
    this.cAddr = this.v6 ? '::1' : '127.0.0.1';
    this.sAddr = this.v6 ? '::1' : '127.0.0.1';
    this.cPort = o.clientPort ?? 54321;
    this.sPort = o.serverPort ?? 8080;
    this.seq = { c: (o.isnC ?? 1000) >>> 0, s: (o.isnS ?? 5000) >>> 0 };
    this.t = o.t0 ?? 1_700_000_000_000_000;
    this.ext = o.v6ext ?? [];
  }

  get linkType(): number {
    return linkTypeOf(this.link);
  }

  /** The link-layer bytes of one TCP segment from `side` (no record added). */
  segment(side: Side, seq: number, flags: number, payload: Bytes, topts: TcpOpts = {}, ipo: Ipv4Opts = {}): Bytes {
    const other: Side = side === 'c' ? 's' : 'c';
    const [sp, dp] = side === 'c' ? [this.cPort, this.sPort] : [this.sPort, this.cPort];
    const [sa, da] = side === 'c' ? [this.cAddr, this.sAddr] : [this.sAddr, this.cAddr];
    const t = tcp(sp, dp, seq, flags & ACK ? this.seq[other] : 0, flags, payload, topts);
    const ip = this.v6 ? ipv6(sa, da, 6, t, this.ext) : ipv4(sa, da, 6, t, { id: this.ipId++ & 0xffff, ...ipo });
    return linkWrap(this.link, ip, this.v6);
  }

  /** Add a raw record (advances the clock by 100 us). */
  push(data: Bytes, extra: Partial<Rec> = {}): Rec {
    this.t += 100;
    const r: Rec = { tsUs: this.t, data, ...extra };
    this.recs.push(r);
    return r;
  }

  /** SYN, SYN-ACK, ACK (RFC 9293 section 3.5). */
  open(): this {
    this.push(this.segment('c', this.seq.c, SYN, new Uint8Array(0)));
    this.seq.c = (this.seq.c + 1) >>> 0;
    this.push(this.segment('s', this.seq.s, SYN | ACK, new Uint8Array(0)));
    this.seq.s = (this.seq.s + 1) >>> 0;
    this.push(this.segment('c', this.seq.c, ACK, new Uint8Array(0)));
    return this;
  }

  /** Send bytes from `side` in segments of at most `mss` bytes; returns the records added. */
  send(side: Side, bytes: Bytes, mss = 1400): Rec[] {
    const out: Rec[] = [];
    if (bytes.length === 0) return out;
    for (let o = 0; o < bytes.length; o += mss) {
      const piece = bytes.subarray(o, Math.min(bytes.length, o + mss));
      out.push(this.push(this.segment(side, this.seq[side], ACK | PSH, piece)));
      this.seq[side] = (this.seq[side] + piece.length) >>> 0;
    }
    return out;
  }

  /**
   * Send one TCP segment from `side` as IPv4 fragments of `fragSize` bytes of IP payload
   * (a multiple of 8, RFC 791 section 3.2); fragments listed in `drop` are left out.
   */
  sendFragmented(side: Side, bytes: Bytes, fragSize: number, drop: number[] = []): void {
    const other: Side = side === 'c' ? 's' : 'c';
    const [sp, dp] = side === 'c' ? [this.cPort, this.sPort] : [this.sPort, this.cPort];
    const t = tcp(sp, dp, this.seq[side], this.seq[other], ACK | PSH, bytes);
    const id = this.ipId++ & 0xffff;
    for (let o = 0, i = 0; o < t.length; o += fragSize, i++) {
      const piece = t.subarray(o, Math.min(t.length, o + fragSize));
      const more = o + fragSize < t.length ? 0x2000 : 0;
      if (drop.includes(i)) continue;
      this.push(linkWrap(this.link, ipv4(this.cAddr, this.sAddr, 6, piece, { id, fragField: more | (o / 8) }), false));
    }
    this.seq[side] = (this.seq[side] + bytes.length) >>> 0;
  }

  /** FIN from both sides. */
  close(): this {
    this.push(this.segment('c', this.seq.c, FIN | ACK, new Uint8Array(0)));
    this.seq.c = (this.seq.c + 1) >>> 0;
    this.push(this.segment('s', this.seq.s, FIN | ACK, new Uint8Array(0)));
    this.seq.s = (this.seq.s + 1) >>> 0;
    this.push(this.segment('c', this.seq.c, ACK, new Uint8Array(0)));
    return this;
  }

  /** The standard opening: TCP handshake, upgrade request and 101 answer. */
  upgrade(req: HandshakeOpts = {}, res: ResponseOpts = {}): this {
    this.open();
    this.send('c', wsRequest(req));
    this.send('s', wsResponse(res));
    return this;
  }

  pcap(extra: Partial<PcapOpts> = {}): Bytes {
    return pcap(this.recs, { linkType: this.linkType, ...extra });
  }

  pcapng(extra: Partial<NgIfaceOpts> = {}): Bytes {
    return pcapng(this.recs, [{ linkType: this.linkType, ...extra }]);
  }
}

