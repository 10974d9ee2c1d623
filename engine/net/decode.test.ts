import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureParser } from '../capture/pcap-parser';
import { NetDecoder, type NetProblem } from './decode';
import type { DecodedPacket, PacketRecord } from '../types';
import { ACK, PSH, concat, ether, ipv4, ipv6, nullLoop, pcap, sll, sll2, tcp, udp, type TcpOpts } from '../../test/kit/capture';

import { CAPTURE_FIXTURES as FIX, PUBLIC_CAPTURES as PUBLIC, publicCaptureNames } from '../../test/kit/paths';

type Out = Omit<DecodedPacket, 'payload'> & { payload: string };

function snapshot(d: DecodedPacket | null): Out | null {
  if (d === null) return null;
  return { ...d, payload: Buffer.from(d.payload).toString('hex') };
}

function decodeFile(path: string, dec = new NetDecoder()): { recs: number; out: Array<Out | null> } {
  const out: Array<Out | null> = [];
  const p = new CaptureParser({ packet: (r) => out.push(snapshot(dec.decode(r))) });
  p.push(new Uint8Array(readFileSync(path)));
  p.end();
  return { recs: p.packets, out };
}

function rec(data: Uint8Array, linkType = 1, origLen = data.length, ts = 1): PacketRecord {
  return { no: 1, ts, linkType, data, origLen, iface: 0 };
}

const te = new TextEncoder();
const tcp4 = (payload: string, over: TcpOpts = {}): Uint8Array =>
  ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1000, 80, 7, 9, PSH | ACK, te.encode(payload), { checksum: ['10.0.0.1', '10.0.0.2'], ...over }), { fragField: 0 });

describe('NetDecoder against tshark on the public captures', () => {
  for (const f of publicCaptureNames()) {
    it(`${f}: same TCP flows, packets per flow and payload bytes per flow as tshark`, () => {
      const j = JSON.parse(readFileSync(join(PUBLIC, `${f}.tshark.json`), 'utf8'));
      const { out } = decodeFile(join(PUBLIC, f));
      const flows = new Map<string, { packets: number; bytes: number }>();
      for (const d of out) {
        if (d === null || d.protocol !== 6) continue;
        const ep = (a: string, p: number): string => (d.ipVersion === 6 ? `[${a}]:${p}` : `${a}:${p}`);
        const key = [ep(d.src, d.srcPort), ep(d.dst, d.dstPort)].sort().join(' ');
        const f0 = flows.get(key) ?? { packets: 0, bytes: 0 };
        f0.packets++;
        f0.bytes += d.payload.length / 2 + d.missing;
        flows.set(key, f0);
      }
      const want = new Map<string, { packets: number; bytes: number }>();
      for (const t of j.flows.tcp as Array<{ endpoints: string[]; packets: number; payload_bytes: number }>) {
        want.set([...t.endpoints].sort().join(' '), { packets: t.packets, bytes: t.payload_bytes });
      }
      expect(flows).toEqual(want);
    });
  }
});

function tsvRows(name: string): Array<Record<string, string>> {
  const lines = readFileSync(join(FIX, `${name}.tshark.tsv`), 'utf8').trimEnd().split('\n');
  const head = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']));
  });
}

describe('NetDecoder against tshark on the link-type and fragment fixtures', () => {
  for (const name of ['vlan.pcap', 'raw.pcap', 'raw-ipv4-ipv6.pcapng', 'null-be.pcap', 'loop.pcap', 'ipv4-frag.pcap', 'ipv6-frag.pcap', 'sll2.pcapng', 'two-links.pcapng']) {
    it(`${name}: addresses, ports, sequence numbers and lengths match tshark frame by frame`, () => {
      const rows = tsvRows(name);
      const { out } = decodeFile(join(FIX, name));
      expect(out.length).toBe(rows.length);
      rows.forEach((row, i) => {
        const d = out[i];
        const src = row['ip.src'] || row['ipv6.src'];
        const dst = row['ip.dst'] || row['ipv6.dst'];
        if (row['tcp.srcport'] !== '') {
          expect(d, `frame ${i + 1}`).not.toBeNull();
          expect([d!.src, d!.dst, d!.protocol, d!.srcPort, d!.dstPort, d!.seq, d!.payload.length / 2 + d!.missing]).toEqual([
            src,
            dst,
            6,
            Number(row['tcp.srcport']),
            Number(row['tcp.dstport']),
            Number(row['tcp.seq_raw']),
            Number(row['tcp.len']),
          ]);
          expect(d!.ipVersion).toBe(row['ip.src'] !== '' ? 4 : 6);
        } else if (row['udp.srcport'] !== '') {
          expect(d, `frame ${i + 1}`).not.toBeNull();
          expect([d!.src, d!.dst, d!.protocol, d!.srcPort, d!.dstPort, d!.payload.length / 2 + d!.missing]).toEqual([
            src,
            dst,
            17,
            Number(row['udp.srcport']),
            Number(row['udp.dstport']),
            Number(row['udp.length']) - 8,
          ]);
        } else {
          // a fragment held back, or not IP at all (ARP)
          expect(d, `frame ${i + 1}`).toBeNull();
        }
      });
    });
  }

  it('returns the reassembled IPv4 datagrams with their original payload bytes', () => {
    const { out } = decodeFile(join(FIX, 'ipv4-frag.pcap'));
    const tcpDone = out[5]!;
    const want = Buffer.alloc(3000);
    for (let i = 0; i < 3000; i++) want[i] = (i * 7) & 0xff;
    expect(tcpDone.payload).toBe(want.toString('hex'));
    expect(tcpDone.missing).toBe(0);
    expect(out[6]!.payload).toBe(Buffer.alloc(2000, 0x55).toString('hex'));
  });

  it('walks the extension headers inside a reassembled IPv6 datagram', () => {
    const dec = new NetDecoder();
    const { out } = decodeFile(join(FIX, 'ipv6-frag.pcap'), dec);
    const want = Buffer.alloc(3000);
    for (let i = 0; i < 3000; i++) want[i] = i & 0xff;
    expect(out[3]!.payload).toBe(want.toString('hex'));
    expect(dec.stats).toMatchObject({ packets: 4, decoded: 2, fragments: 2, reassembled: 1 });
  });
});

describe('NetDecoder on hand-made packets', () => {
  it('makes payload views of the right buffer when records come from read buffers that are reused and alternate', () => {
    // the capture file as the file source hands it on: chunks of 700 bytes read in turn into
    // two buffers that are refilled (the same objects), one at a byteOffset; the payload
    // views reuse the ArrayBuffer looked up for the previous record when the buffer is the same
    const file = pcap(Array.from({ length: 40 }, (_, i) => ({ tsUs: 1e6 + i, data: ether(0x0800, tcp4(`segment ${i} `.repeat(1 + (i % 7)))) })), { linkType: 1 });
    const bufs = [new Uint8Array(700), new Uint8Array(new ArrayBuffer(1024), 100, 700)];
    const dec = new NetDecoder();
    const got: string[] = [];
    const p = new CaptureParser({ packet: (r) => got.push(Buffer.from(dec.decode(r)?.payload ?? []).toString()) });
    for (let at = 0, k = 0; at < file.length; at += 700, k++) {
      const b = bufs[k % 2];
      const n = Math.min(700, file.length - at);
      b.set(file.subarray(at, at + n));
      p.push(b.subarray(0, n));
    }
    p.end();
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `segment ${i} `.repeat(1 + (i % 7))));
  });

  it('returns one reused object (callers copy what they keep)', () => {
    const dec = new NetDecoder();
    const a = dec.decode(rec(ether(0x0800, tcp4('a'))));
    const b = dec.decode(rec(ether(0x0800, tcp4('b'))));
    expect(a).toBe(b);
  });

  it('decodes Linux cooked v1 and v2 headers built by hand', () => {
    const dec = new NetDecoder();
    expect(dec.decode(rec(sll(0x0800, tcp4('x')), 113))).toMatchObject({ src: '10.0.0.1', dstPort: 80 });
    expect(dec.decode(rec(sll2(0x0800, tcp4('x')), 276))).toMatchObject({ src: '10.0.0.1', dstPort: 80 });
  });

  it('detects the byte order of a BSD NULL header (little- and big-endian writers)', () => {
    const dec = new NetDecoder();
    expect(dec.decode(rec(nullLoop(2, tcp4('x')), 0))).toMatchObject({ ipVersion: 4 });
    expect(dec.decode(rec(nullLoop(2, tcp4('x'), true), 0))).toMatchObject({ ipVersion: 4 });
    const v6 = ipv6('::1', '::1', 17, udp(1, 2, te.encode('q'), ['::1', '::1']));
    for (const fam of [24, 28, 30]) expect(dec.decode(rec(nullLoop(fam, v6), 0))).toMatchObject({ ipVersion: 6, protocol: 17 });
    expect(dec.decode(rec(nullLoop(7, v6), 0))).toBeNull();
    expect(dec.stats.nonIp).toBe(1);
  });

  it('sets missing to the payload bytes that the snap length cut', () => {
    const dec = new NetDecoder();
    const frame = ether(0x0800, tcp4('0123456789abcdefghij'));
    const d = dec.decode(rec(frame.subarray(0, frame.length - 15), 1, frame.length))!;
    expect(new TextDecoder().decode(d.payload)).toBe('01234');
    expect(d.missing).toBe(15);
    // cut inside the TCP header: nothing to decode
    expect(dec.decode(rec(frame.subarray(0, 14 + 20 + 10), 1, frame.length))).toBeNull();
    expect(dec.stats.truncated).toBe(1);
  });

  it('trims Ethernet padding past the IPv4 total length', () => {
    const frame = concat([ether(0x0800, tcp4('')), new Uint8Array(6)]);
    const d = new NetDecoder().decode(rec(frame))!;
    expect(d.payload.length).toBe(0);
    expect(d.missing).toBe(0);
  });

  it('skips IPv4 options (IHL > 5) and TCP options', () => {
    const seg = tcp(5, 6, 0, 0, PSH | ACK, te.encode('opt'), { options: Uint8Array.of(2, 4, 5, 180, 1, 1, 4, 2), checksum: ['10.0.0.1', '10.0.0.2'] });
    const ip = ipv4('10.0.0.1', '10.0.0.2', 6, seg, { options: Uint8Array.of(0x94, 4, 0, 0), fragField: 0 });
    const d = new NetDecoder().decode(rec(ether(0x0800, ip)))!;
    expect(new TextDecoder().decode(d.payload)).toBe('opt');
    expect([d.srcPort, d.dstPort]).toEqual([5, 6]);
  });

  it('rejects an IPv4 header length under 20, a TCP data offset under 5 and one past the segment, and a UDP length under 8', () => {
    const dec = new NetDecoder();
    const problems: NetProblem[] = [];
    dec.onProblem = (p) => problems.push(p);
    expect(dec.decode(rec(ether(0x0800, ipv4('1.1.1.1', '2.2.2.2', 6, new Uint8Array(20), { ihl: 4 }))))).toBeNull();
    expect(dec.decode(rec(ether(0x0800, tcp4('x', { dataOffset: 4 }))))).toBeNull();
    expect(dec.decode(rec(ether(0x0800, tcp4('x', { dataOffset: 15 }))))).toBeNull();
    const u = udp(1, 2, te.encode('abc'), ['1.1.1.1', '2.2.2.2']);
    u[5] = 4;
    expect(dec.decode(rec(ether(0x0800, ipv4('1.1.1.1', '2.2.2.2', 17, u))))).toBeNull();
    expect(dec.stats).toMatchObject({ badIp: 1, badTcp: 2, badUdp: 1, decoded: 0 });
    expect(problems.map((p) => p.kind)).toEqual(['bad-ip', 'bad-tcp', 'bad-tcp', 'bad-udp']);
  });

  it('uses the UDP length when it is shorter than the IP payload', () => {
    const u = udp(1, 2, te.encode('abcdef'), ['1.1.1.1', '2.2.2.2']);
    u[5] = 8 + 3;
    const d = new NetDecoder().decode(rec(ether(0x0800, ipv4('1.1.1.1', '2.2.2.2', 17, u))))!;
    expect(new TextDecoder().decode(d.payload)).toBe('abc');
  });

  it('reports other IP protocols with their number and the IP payload, and stops at ESP and No Next Header', () => {
    const dec = new NetDecoder();
    const icmp = dec.decode(rec(ether(0x0800, ipv4('1.1.1.1', '2.2.2.2', 1, Uint8Array.of(8, 0, 0, 0)))))!;
    expect([icmp.protocol, icmp.srcPort, icmp.payload.length]).toEqual([1, 0, 4]);
    const esp = dec.decode(rec(ether(0x86dd, ipv6('::1', '::2', 50, new Uint8Array(16), [{ type: 0, body: new Uint8Array(6) }]))))!;
    expect([esp.protocol, esp.payload.length]).toEqual([50, 16]);
    // on Ethernet the 54-byte frame is padded to 60: the padding is not payload
    const none = dec.decode(rec(concat([ether(0x86dd, ipv6('::1', '::2', 59, new Uint8Array(0))), new Uint8Array(6)])))!;
    expect([none.protocol, none.payload.length]).toEqual([59, 0]);
  });

  it('walks an IPv6 Authentication Header (length in 4-byte units) to TCP', () => {
    const seg = tcp(7, 8, 0, 0, PSH | ACK, te.encode('ah'), { checksum: ['::1', '::2'] });
    const ah = new Uint8Array(16);
    ah[0] = 6;
    ah[1] = 2; // (2 + 2) * 4 = 16 bytes
    const d = new NetDecoder().decode(rec(ether(0x86dd, ipv6('::1', '::2', 51, concat([ah, seg])))))!;
    expect([d.protocol, d.srcPort, new TextDecoder().decode(d.payload)]).toEqual([6, 7, 'ah']);
  });

  it('treats an atomic IPv6 fragment (offset 0, M = 0) as a whole packet (RFC 6946)', () => {
    const seg = udp(9, 10, te.encode('atomic'), ['::1', '::2']);
    const fh = Uint8Array.of(17, 0, 0, 0, 0, 0, 0, 1);
    const d = new NetDecoder().decode(rec(ether(0x86dd, ipv6('::1', '::2', 44, concat([fh, seg])))))!;
    expect(new TextDecoder().decode(d.payload)).toBe('atomic');
  });

  it('counts non-IP frames and unsupported link types without decoding them', () => {
    const dec = new NetDecoder();
    expect(dec.decode(rec(ether(0x0806, new Uint8Array(28))))).toBeNull();
    expect(dec.decode(rec(tcp4('x'), 147))).toBeNull();
    expect(dec.decode(rec(new Uint8Array(5)))).toBeNull();
    expect(dec.stats).toMatchObject({ nonIp: 1, unsupportedLink: 1, truncated: 1 });
  });

  it('gives up on a frame stacked with more VLAN tags than any real network uses', () => {
    const tags: Array<[number, number]> = new Array(9).fill([0x8100, 1]);
    expect(new NetDecoder().decode(rec(ether(0x0800, tcp4('x'), tags)))).toBeNull();
  });

  it('reads a Linux TSO capture whose IPv4 total length is 0 to the end of the frame', () => {
    const ip = tcp4('super segment');
    ip[2] = 0;
    ip[3] = 0;
    const d = new NetDecoder().decode(rec(ether(0x0800, ip)))!;
    expect(new TextDecoder().decode(d.payload)).toBe('super segment');
  });

  it('holds at most the configured number of IPv4 datagrams in reassembly', () => {
    const dec = new NetDecoder({ fragments: { maxDatagrams: 4 } });
    for (let id = 0; id < 100; id++) {
      const f = ipv4('1.1.1.1', '2.2.2.2', 17, new Uint8Array(16), { id, fragField: 0x2000 });
      expect(dec.decode(rec(ether(0x0800, f)))).toBeNull();
    }
    expect(dec.fragmentStats.dropped).toBe(96);
  });
});
