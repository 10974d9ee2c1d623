/**
 * Re-segmentation of a real capture's TCP traffic, for the property "the same byte streams in
 * different segments decode to the same messages": every IPv4/TCP record is decoded, its
 * payload cut into pieces at the given sizes, the pieces shuffled and some duplicated (exact
 * copies, as retransmissions), each piece re-emitted as its own Ethernet/IPv4/TCP packet with
 * the right sequence number. Pieces of one original packet stay together, so the order of
 * bytes ACROSS packets (and directions) is kept: a request still precedes its answer.
 * Non-TCP records are copied unchanged (after Ethernet re-wrapping of the IP packet).
 *
 * Memory: returns fresh buffers; the input records are only read.
 */
import { NetDecoder } from '../../engine/net/decode';
import { ACK, FIN, PSH, RST, SYN, ether, ipv4, tcp, type Rec } from '../../test/kit/capture';
import type { ParsedRecord } from './fuzz-mutate';
import type { Prng } from './prng';

export interface ResegmentPlan {
  /** piece sizes, used cyclically */
  sizes: number[];
  /** probability that a piece is also sent a second time */
  dup: number;
  /** shuffle the pieces of a packet */
  shuffle: boolean;
}

/** Returns Ethernet records (LINKTYPE_ETHERNET). Throws on a record it cannot rebuild (IPv6). */
export function resegment(recs: readonly ParsedRecord[], plan: ResegmentPlan, r: Prng): Rec[] {
  const net = new NetDecoder();
  const out: Rec[] = [];
  let cut = 0;
  for (let no = 0; no < recs.length; no++) {
    const rec = recs[no]!;
    const d = net.decode({ no: no + 1, ts: rec.tsUs / 1e6, linkType: rec.linkType, data: rec.data, origLen: rec.origLen, iface: 0 });
    if (!d || d.protocol !== 6) continue;
    if (d.ipVersion !== 4) throw new Error('resegment: IPv4 only');
    const { src, dst, srcPort, dstPort, seq, ack, flags } = d;
    const payload = d.payload.slice();
    const seg = (off: number, len: number, f: number): Rec => ({
      tsUs: rec.tsUs,
      data: ether(0x0800, ipv4(src, dst, 6, tcp(srcPort, dstPort, (seq + off) >>> 0, ack, f, payload.subarray(off, off + len)))),
    });
    if (payload.length === 0 || (flags & (SYN | RST)) !== 0) {
      out.push(seg(0, payload.length, flags));
      continue;
    }
    const pieces: Array<[number, number]> = [];
    for (let off = 0; off < payload.length; ) {
      const len = Math.min(payload.length - off, Math.max(1, plan.sizes[cut++ % plan.sizes.length]!));
      pieces.push([off, len]);
      off += len;
    }
    const base = flags & ~(FIN | PSH);
    const list: Rec[] = [];
    pieces.forEach(([off, len], i) => {
      // FIN follows the last byte (RFC 9293 3.4): only the last piece carries it
      const last = i === pieces.length - 1;
      const p = seg(off, len, base | ACK | (last ? flags & (FIN | PSH) : 0));
      list.push(p);
      if (r.chance(plan.dup)) list.push({ ...p, data: p.data.slice() });
    });
    if (plan.shuffle) {
      for (let i = list.length - 1; i > 0; i--) {
        const j = r.int(0, i);
        const t = list[i]!;
        list[i] = list[j]!;
        list[j] = t;
      }
    }
    out.push(...list);
  }
  return out;
}
