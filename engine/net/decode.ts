/**
 * Link / IP / transport header walk: PacketRecord -> DecodedPacket.
 *
 * Link types (LINKTYPE_* of https://www.tcpdump.org/linktypes.html): Ethernet (1) with
 * 802.1Q / 802.1ad / QinQ tags (0x8100, 0x88a8, 0x9100), 802.3 LLC/SNAP and PPPoE session
 * frames; Linux cooked SLL (113) and SLL2 (276); BSD NULL (0, address family in the capturing
 * host's byte order) and LOOP (108, network order); raw IP (101, 12, 14, 228 IPv4, 229 IPv6).
 * IPv4 with options (RFC 791), IPv6 with extension headers (RFC 8200 section 4), fragments of
 * both reassembled by ./ipfrag (bounded). TCP (RFC 9293 section 3.1) and UDP (RFC 768).
 *
 * Contract: `decode(rec)` returns null for anything that is not an IP packet it can walk
 * (counted in `stats`; malformed headers also go to `onProblem`), and for IP fragments until
 * their datagram is complete; the complete datagram is returned on its last fragment, with
 * `payload` in a new buffer owned by the caller.
 *
 * Memory: the returned DecodedPacket is ONE object reused by every call of this decoder:
 * read (or copy) its fields before the next `decode`. `payload` is a view of the record's
 * bytes (valid during the record's callback) except for reassembled datagrams; `payloadPos`
 * says where a TCP payload view lies in the capture file (-1 when unknown). A record that
 * says where its bytes lie (`buf`, `off`, `caplen`) is read there without making `data`; the
 * decoder holds that buffer (and the ArrayBuffer of the last one a payload view was made of)
 * until the next `decode` but never reads it outside one. Address strings come
 * from a bounded cache (./addr) and may be kept.
 */
import type { DecodedPacket, PacketRecord } from '../types';
import { AddressCache } from './addr';
import { ViewMaker } from './bytes';
import { FragmentReassembler, type FragmentLimits, type FragmentStats } from './ipfrag';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_12 = 12;
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const SUPPORTED = new Set([
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW_12,
  LINKTYPE_RAW_14,
  LINKTYPE_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
]);

export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED.has(linkType);
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_PPPOE_SESSION = 0x8864;
const ARPHRD_NETLINK = 824;
const NO_PAYLOAD = new Uint8Array(0);
/** more stacked VLAN tags than this is not a real frame */
const MAX_TAGS = 8;
/** more IPv6 extension headers than this is not a real packet */
const MAX_EXT_HEADERS = 16;

export interface NetDecodeStats {
  packets: number;
  decoded: number;
  /** link type not decoded */
  unsupportedLink: number;
  /** not IPv4/IPv6 (ARP, LLDP, ...) */
  nonIp: number;
  /** headers cut before the transport header could be read */
  truncated: number;
  badIp: number;
  badTcp: number;
  badUdp: number;
  /** fragments held back (their datagram is not complete yet, or was dropped) */
  fragments: number;
  reassembled: number;
}

export interface NetProblem {
  kind: 'truncated' | 'bad-ip' | 'bad-tcp' | 'bad-udp';
  packet: number;
  text: string;
}

export interface NetDecoderOptions {
  fragments?: Partial<FragmentLimits>;
}

export class NetDecoder {
  readonly stats: NetDecodeStats = {
    packets: 0,
    decoded: 0,
    unsupportedLink: 0,
    nonIp: 0,
    truncated: 0,
    badIp: 0,
    badTcp: 0,
    badUdp: 0,
    fragments: 0,
    reassembled: 0,
  };
  onProblem?: (p: NetProblem) => void;
  readonly addresses = new AddressCache();
  private readonly frag: FragmentReassembler;
  private readonly out: DecodedPacket = {
    ipVersion: 4,
    src: '',
    dst: '',
    protocol: 0,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    payload: new Uint8Array(0),
    missing: 0,
    payloadPos: -1,
  };
  private no = 0;
  /** the record being decoded: its bytes are d[base, n), origLen and ts as in the record */
  private d: Uint8Array = NO_PAYLOAD;
  private base = 0;
  private n = 0;
  private origLen = 0;
  private ts = 0;
  /** capture-file offset of d[base] (-1: unknown) */
  private filePos = -1;
  /** the TCP payload views (one ArrayBuffer lookup per capture chunk, not per packet) */
  private readonly views = new ViewMaker();

  constructor(opts: NetDecoderOptions = {}) {
    this.frag = new FragmentReassembler(opts.fragments);
  }

  /** fragment reassembly counters (dropped datagrams, overlaps) */
  get fragmentStats(): Readonly<FragmentStats> {
    return this.frag.stats;
  }

  /** datagrams whose fragments never all arrived: dropped ones plus those still incomplete */
  get incompleteDatagrams(): number {
    return this.frag.stats.dropped + this.frag.inFlight;
  }

  decode(rec: PacketRecord): DecodedPacket | null {
    this.stats.packets++;
    this.no = rec.no;
    // The record's bytes are d[b, n): the source's buffer when the record says where in it
    // they are (no view made per packet), else its `data` view. Offsets below are into d.
    let d: Uint8Array;
    let b: number;
    const buf = rec.buf;
    if (buf !== undefined) {
      d = buf;
      b = rec.off ?? 0;
      this.n = b + (rec.caplen ?? 0);
    } else {
      d = rec.data;
      b = 0;
      this.n = d.length;
    }
    this.d = d;
    this.base = b;
    this.origLen = rec.origLen;
    this.ts = rec.ts;
    this.filePos = rec.filePos ?? -1;
    const n = this.n - b;
    let off = b;
    let etype = 0;
    switch (rec.linkType) {
      case LINKTYPE_ETHERNET:
        if (n < 14) return this.short('Ethernet header');
        etype = (d[b + 12] << 8) | d[b + 13];
        off = b + 14;
        if (etype <= 1500) {
          // IEEE 802.3 length field: only LLC/SNAP (AA AA 03, RFC 1042) carries an EtherType.
          if (n < 22 || d[b + 14] !== 0xaa || d[b + 15] !== 0xaa || d[b + 16] !== 0x03) return this.nonIp();
          etype = (d[b + 20] << 8) | d[b + 21];
          off = b + 22;
        }
        break;
      case LINKTYPE_LINUX_SLL:
        if (n < 16) return this.short('Linux cooked header');
        if (((d[b + 2] << 8) | d[b + 3]) === ARPHRD_NETLINK) return this.nonIp();
        etype = (d[b + 14] << 8) | d[b + 15];
        off = b + 16;
        break;
      case LINKTYPE_LINUX_SLL2:
        if (n < 20) return this.short('Linux cooked v2 header');
        if (((d[b + 8] << 8) | d[b + 9]) === ARPHRD_NETLINK) return this.nonIp();
        etype = (d[b] << 8) | d[b + 1];
        off = b + 20;
        break;
      case LINKTYPE_NULL: {
        if (n < 4) return this.short('loopback header');
        // The family is in the capturing host's byte order: a big-endian host leaves the
        // first two bytes zero for every family value we know.
        const fam = d[b] === 0 && d[b + 1] === 0 ? (d[b + 2] << 8) | d[b + 3] : d[b] | (d[b + 1] << 8);
        return this.byFamily(fam, b + 4);
      }
      case LINKTYPE_LOOP:
        if (n < 4) return this.short('loopback header');
        return this.byFamily(((d[b] << 24) | (d[b + 1] << 16) | (d[b + 2] << 8) | d[b + 3]) >>> 0, b + 4);
      case LINKTYPE_RAW:
      case LINKTYPE_RAW_12:
      case LINKTYPE_RAW_14:
        if (n < 1) return this.short('IP header');
        return this.ipByVersion(b);
      case LINKTYPE_IPV4:
        return this.ipv4(b);
      case LINKTYPE_IPV6:
        return this.ipv6(b);
      default:
        this.stats.unsupportedLink++;
        return null;
    }
    // VLAN tags (IEEE 802.1Q / 802.1ad, and the pre-standard 0x9100 QinQ): 4 bytes each, the
    // inner EtherType in the last 2.
    for (let tags = 0; etype === ETH_VLAN || etype === ETH_QINQ || etype === ETH_QINQ_OLD; tags++) {
      if (tags >= MAX_TAGS) return this.nonIp();
      if (this.n < off + 4) return this.short('VLAN tag');
      etype = (d[off + 2] << 8) | d[off + 3];
      off += 4;
    }
    if (etype === ETH_IPV4) return this.ipv4(off);
    if (etype === ETH_IPV6) return this.ipv6(off);
    if (etype === ETH_PPPOE_SESSION) {
      // RFC 2516 section 4: 6-byte PPPoE header, then the PPP protocol (RFC 1661): 0x0021 IPv4, 0x0057 IPv6.
      if (this.n < off + 8) return this.short('PPPoE header');
      const ppp = (d[off + 6] << 8) | d[off + 7];
      if (ppp === 0x0021) return this.ipv4(off + 8);
      if (ppp === 0x0057) return this.ipv6(off + 8);
    }
    return this.nonIp();
  }

  private byFamily(fam: number, off: number): DecodedPacket | null {
    if (fam === 2) return this.ipv4(off);
    // AF_INET6 differs per BSD: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (Darwin).
    if (fam === 24 || fam === 28 || fam === 30) return this.ipv6(off);
    return this.nonIp();
  }

  private ipByVersion(off: number): DecodedPacket | null {
    const v = this.d[off] >> 4;
    if (v === 4) return this.ipv4(off);
    if (v === 6) return this.ipv6(off);
    return this.nonIp();
  }

  private nonIp(): null {
    this.stats.nonIp++;
    return null;
  }

  private short(what: string): null {
    this.stats.truncated++;
    this.onProblem?.({ kind: 'truncated', packet: this.no, text: `packet ${this.no}: ${what} cut short` });
    return null;
  }

  private bad(kind: 'bad-ip' | 'bad-tcp' | 'bad-udp', text: string): null {
    if (kind === 'bad-ip') this.stats.badIp++;
    else if (kind === 'bad-tcp') this.stats.badTcp++;
    else this.stats.badUdp++;
    this.onProblem?.({ kind, packet: this.no, text: `packet ${this.no}: ${text}` });
    return null;
  }

  private ipv4(off: number): DecodedPacket | null {
    const d = this.d;
    const n = this.n;
    if (n < off + 20) return this.short('IPv4 header');
    const vihl = d[off];
    if (vihl >> 4 !== 4) return this.bad('bad-ip', `IPv4 header with version ${vihl >> 4}`);
    const hl = (vihl & 0x0f) * 4;
    // RFC 791 section 3.1: IHL counts 32-bit words, minimum 5.
    if (hl < 20) return this.bad('bad-ip', `IPv4 header length ${hl} < 20`);
    if (n < off + hl) return this.short('IPv4 options');
    let total = (d[off + 2] << 8) | d[off + 3];
    // A total length of 0 is what Linux shows for TSO super-segments: trust the capture.
    if (total === 0) total = this.origLen - (off - this.base);
    if (total < hl) return this.bad('bad-ip', `IPv4 total length ${total} < header length ${hl}`);
    const o = this.out;
    o.ipVersion = 4;
    o.src = this.addresses.v4(d, off + 12);
    o.dst = this.addresses.v4(d, off + 16);
    const proto = d[off + 9];
    // Bytes past `total` are link padding (Ethernet minimum frame); bytes short of it were cut.
    const segEnd = off + total;
    const capEnd = segEnd < n ? segEnd : n;
    const fragField = (d[off + 6] << 8) | d[off + 7];
    const more = (fragField & 0x2000) !== 0;
    const fragOff = (fragField & 0x1fff) * 8;
    if (more || fragOff > 0) {
      const id = (d[off + 4] << 8) | d[off + 5];
      const key = `4|${o.src}|${o.dst}|${id}|${proto}`;
      const part = d.subarray(off + hl, capEnd);
      const whole = this.frag.add(key, this.ts, fragOff, more, part, capEnd < segEnd);
      if (whole === null) {
        this.stats.fragments++;
        return null;
      }
      this.stats.reassembled++;
      return this.transport(proto, whole, 0, whole.length, whole.length);
    }
    return this.transport(proto, d, off + hl, segEnd, capEnd);
  }

  private ipv6(off: number): DecodedPacket | null {
    let d = this.d;
    const n = this.n;
    if (n < off + 40) return this.short('IPv6 header');
    if (d[off] >> 4 !== 6) return this.bad('bad-ip', `IPv6 header with version ${d[off] >> 4}`);
    const plen = (d[off + 4] << 8) | d[off + 5];
    const o = this.out;
    o.ipVersion = 6;
    o.src = this.addresses.v6(d, off + 8);
    o.dst = this.addresses.v6(d, off + 24);
    let nh = d[off + 6];
    let p = off + 40;
    // Payload length 0 means a jumbogram (RFC 2675) or a TSO/BIG TCP capture: trust the
    // capture, except with No Next Header (59), where 0 is simply empty and the rest is padding.
    let segEnd = plen === 0 && nh !== 59 ? this.base + this.origLen : p + plen;
    let capEnd = segEnd < n ? segEnd : n;
    for (let i = 0; i < MAX_EXT_HEADERS; i++) {
      if (nh === 0 || nh === 43 || nh === 60 || nh === 51) {
        // Hop-by-hop, Routing, Destination Options: (len + 1) * 8 bytes (RFC 8200 section
        // 4.3-4.6); AH: (len + 2) * 4 bytes (RFC 4302 section 2.2).
        if (capEnd < p + 2) return capEnd < segEnd ? this.short('IPv6 extension header') : this.bad('bad-ip', 'IPv6 extension header past the payload');
        const len = nh === 51 ? (d[p + 1] + 2) * 4 : (d[p + 1] + 1) * 8;
        nh = d[p];
        p += len;
        if (p > segEnd) return this.bad('bad-ip', 'IPv6 extension header longer than the payload');
        if (p > capEnd) return this.short('IPv6 extension header');
        continue;
      }
      if (nh === 44) {
        // Fragment header (RFC 8200 section 4.5): next header, reserved, offset(13) res(2) M(1), id(32).
        if (capEnd < p + 8) return capEnd < segEnd ? this.short('IPv6 fragment header') : this.bad('bad-ip', 'IPv6 fragment header past the payload');
        const next = d[p];
        const fo = ((d[p + 2] << 8) | d[p + 3]) & 0xfff8;
        const more = (d[p + 3] & 1) !== 0;
        p += 8;
        nh = next;
        // RFC 6946: an atomic fragment (offset 0, M = 0) is processed on its own.
        if (fo === 0 && !more) continue;
        const id = ((d[p - 4] << 24) | (d[p - 3] << 16) | (d[p - 2] << 8) | d[p - 1]) >>> 0;
        const key = `6|${o.src}|${o.dst}|${id}`;
        const whole = this.frag.add(key, this.ts, fo, more, d.subarray(p, capEnd), capEnd < segEnd);
        if (whole === null) {
          this.stats.fragments++;
          return null;
        }
        this.stats.reassembled++;
        // Walk the fragmentable part (more extension headers, then transport) in the new buffer.
        d = whole;
        p = 0;
        segEnd = whole.length;
        capEnd = whole.length;
        continue;
      }
      return this.transport(nh, d, p, segEnd, capEnd);
    }
    return this.bad('bad-ip', `more than ${MAX_EXT_HEADERS} IPv6 extension headers`);
  }

  /**
   * Fill `out` with the transport header at d[off..): `segEnd` is where the IP header says the
   * segment ends, `capEnd` where the captured bytes end (<= segEnd).
   */
  private transport(proto: number, d: Uint8Array, off: number, segEnd: number, capEnd: number): DecodedPacket | null {
    const o = this.out;
    o.protocol = proto;
    if (proto === 6) {
      if (segEnd - off < 20) {
        if (capEnd < segEnd) return this.short('TCP header');
        return this.bad('bad-tcp', `TCP segment of ${segEnd - off} bytes is shorter than a TCP header`);
      }
      if (capEnd - off < 20) return this.short('TCP header');
      // RFC 9293 section 3.1: data offset in 32-bit words, minimum 5.
      const hl = (d[off + 12] >> 4) * 4;
      if (hl < 20) return this.bad('bad-tcp', `TCP data offset ${hl} < 20`);
      if (off + hl > segEnd) return this.bad('bad-tcp', `TCP header length ${hl} runs past the segment`);
      if (off + hl > capEnd) return this.short('TCP options');
      o.srcPort = (d[off] << 8) | d[off + 1];
      o.dstPort = (d[off + 2] << 8) | d[off + 3];
      o.seq = ((d[off + 4] << 24) | (d[off + 5] << 16) | (d[off + 6] << 8) | d[off + 7]) >>> 0;
      o.ack = ((d[off + 8] << 24) | (d[off + 9] << 16) | (d[off + 10] << 8) | d[off + 11]) >>> 0;
      o.flags = d[off + 13];
      o.window = (d[off + 14] << 8) | d[off + 15];
      // pure ACKs (about a third of a bulk transfer's packets) share one empty payload
      o.payload = capEnd > off + hl ? this.views.view(d, off + hl, capEnd - off - hl) : NO_PAYLOAD;
      o.missing = segEnd - capEnd;
      // a file position only for a view of the record (a reassembled datagram is a new buffer)
      o.payloadPos = this.filePos >= 0 && d === this.d ? this.filePos + (off + hl - this.base) : -1;
    } else if (proto === 17) {
      if (capEnd - off < 8) {
        if (capEnd < segEnd) return this.short('UDP header');
        return this.bad('bad-udp', `UDP datagram of ${segEnd - off} bytes is shorter than a UDP header`);
      }
      const ulen = (d[off + 4] << 8) | d[off + 5];
      // RFC 768: length includes the header. 0 appears with IPv6 jumbograms (RFC 2675).
      if (ulen !== 0 && ulen < 8) return this.bad('bad-udp', `UDP length ${ulen} < 8`);
      let end = segEnd;
      if (ulen >= 8 && off + ulen < segEnd) end = off + ulen;
      const cend = capEnd < end ? capEnd : end;
      o.srcPort = (d[off] << 8) | d[off + 1];
      o.dstPort = (d[off + 2] << 8) | d[off + 3];
      o.seq = 0;
      o.ack = 0;
      o.flags = 0;
      o.window = 0;
      o.payload = d.subarray(off + 8, cend);
      o.missing = end - cend;
      o.payloadPos = -1;
    } else {
      o.srcPort = 0;
      o.dstPort = 0;
      o.seq = 0;
      o.ack = 0;
      o.flags = 0;
      o.window = 0;
      o.payload = d.subarray(off, capEnd);
      o.missing = segEnd - capEnd;
      o.payloadPos = -1;
    }
    this.stats.decoded++;
    return o;
  }
}
