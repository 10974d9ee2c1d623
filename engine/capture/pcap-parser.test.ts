import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { CaptureParser, isCaptureMagic } from './pcap-parser';
import type { CaptureInterfaceInfo, CaptureProblem, PacketRecord } from '../types';
import { ACK, PSH, concat, ether, ipv4, ngBlock, ngEpbRaw, ngIdb, ngPb, ngShb, ngSpb, pcap, pcapHeader, tcp } from '../../test/kit/capture';

import { CAPTURE_FIXTURES as FIX, PUBLIC_CAPTURES as PUBLIC, publicCaptureNames } from '../../test/kit/paths';

const publicCaptures = publicCaptureNames();
const fixtureCaptures = readdirSync(FIX).filter((f) => /\.pcap(ng)?$/.test(f));

interface Rec {
  no: number;
  ts: number;
  linkType: number;
  iface: number;
  origLen: number;
  hex: string;
}
interface Result {
  recs: Rec[];
  problems: CaptureProblem[];
  ifaces: CaptureInterfaceInfo[];
  format: string | undefined;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** Feed `bytes` in pieces whose sizes cycle through `sizes` (empty = one push). */
function parse(bytes: Uint8Array, sizes: number[] = []): Result {
  const r: Result = { recs: [], problems: [], ifaces: [], format: undefined };
  const p = new CaptureParser({
    packet: (rec: PacketRecord) => r.recs.push({ no: rec.no, ts: rec.ts, linkType: rec.linkType, iface: rec.iface, origLen: rec.origLen, hex: hex(rec.data) }),
    problem: (x) => r.problems.push(x),
    iface: (i) => r.ifaces.push(i),
  });
  if (sizes.length === 0) p.push(bytes);
  else {
    let k = 0;
    for (let o = 0; o < bytes.length; k++) {
      const n = sizes[k % sizes.length];
      // copy, so a parser that kept a view of an old chunk would see garbage
      p.push(bytes.slice(o, o + n));
      o += n;
    }
  }
  p.end();
  r.format = p.format;
  return r;
}

const pkt = (s: string): Uint8Array =>
  ether(0x0800, ipv4('10.1.1.1', '10.1.1.2', 6, tcp(1, 2, 0, 0, PSH | ACK, new TextEncoder().encode(s), { checksum: ['10.1.1.1', '10.1.1.2'] })));

const readPub = (f: string): Uint8Array => new Uint8Array(readFileSync(join(PUBLIC, f)));
const readFix = (f: string): Uint8Array => new Uint8Array(readFileSync(join(FIX, f)));

describe('CaptureParser on the public captures', () => {
  for (const f of publicCaptures) {
    it(`reads ${f} with the packet count tshark reports, and no problem`, () => {
      const summary = JSON.parse(readFileSync(join(PUBLIC, `${f}.tshark.json`), 'utf8')).capture_summary;
      const r = parse(readPub(f));
      expect(r.problems).toEqual([]);
      expect(r.recs.length).toBe(summary.packets);
      expect(r.recs.map((x) => x.no)).toEqual(r.recs.map((_, i) => i + 1));
      expect(r.format).toBe(summary.capinfos.file_type.startsWith('pcapng') ? 'pcapng' : 'pcap');
    });
  }
});

describe('split writes give the same records as one push', () => {
  for (const f of [...publicCaptures.map((x) => join(PUBLIC, x)), ...fixtureCaptures.map((x) => join(FIX, x))]) {
    it(`${f.split('/').pop()}: byte by byte and in odd chunk sizes`, () => {
      const bytes = new Uint8Array(readFileSync(f));
      const whole = parse(bytes);
      expect(parse(bytes, [1])).toEqual(whole);
      expect(parse(bytes, [7, 13, 1, 4093, 3])).toEqual(whole);
      expect(parse(bytes, [16, 24, 100])).toEqual(whole);
    });
  }
});

describe('the one-loop path for whole records', () => {
  it('leaves every EPB it cannot hand on to the block parser: the same records and problems as byte by byte, in both byte orders', () => {
    for (const bigEndian of [false, true]) {
      const o = { bigEndian };
      const badTrailer = ngEpbRaw(0, 3n, pkt('trailer'), o);
      new DataView(badTrailer.buffer).setUint32(badTrailer.length - 4, badTrailer.length + 4, !bigEndian);
      const bytes = concat([
        ngShb(o),
        ngIdb({ linkType: 1, ...o }),
        ngEpbRaw(0, 1n, pkt('one'), o),
        ngEpbRaw(7, 2n, pkt('no such interface'), o),
        ngEpbRaw(0, 2n, pkt('caplen'), { ...o, caplen: 4000 }),
        ngEpbRaw(0, 3n, pkt('two'), o),
        badTrailer,
        ngEpbRaw(0, 4n, pkt('three'), o),
      ]);
      const whole = parse(bytes);
      expect(whole.recs.map((x) => Buffer.from(x.hex, 'hex').subarray(54).toString())).toEqual(['one', 'two', 'three']);
      expect(whole.recs.map((x) => x.ts)).toEqual([1e-6, 3e-6, 4e-6]);
      expect(whole.problems.map((p) => p.text.replace(/ at offset \d+/, ''))).toEqual([
        'packet refers to interface 7, which this section did not describe',
        'packet: captured length 4000 is larger than its block',
        expect.stringMatching(/trailing length .* differs from leading length/),
        expect.stringMatching(/^skipped \d+ bytes; blocks resume/),
      ]);
      expect(parse(bytes, [1])).toEqual(whole);
      expect(parse(bytes, [5, 97])).toEqual(whole);
    }
  });
});

describe('zero copy', () => {
  it('hands out views of the pushed chunk when a record lies wholly inside it, and copies only a straddling one', () => {
    const bytes = readPub('arkime__websocket.pcap');
    const buffers: ArrayBufferLike[] = [];
    const p = new CaptureParser({ packet: (rec) => buffers.push(rec.data.buffer) });
    p.push(bytes);
    expect(buffers.length).toBe(19);
    expect(buffers.every((b) => b === bytes.buffer)).toBe(true);

    const seen: boolean[] = [];
    const chunkA = bytes.slice(0, 200);
    const chunkB = bytes.slice(200);
    const q = new CaptureParser({ packet: (rec) => seen.push(rec.data.buffer === chunkA.buffer || rec.data.buffer === chunkB.buffer) });
    q.push(chunkA);
    q.push(chunkB);
    q.end();
    expect(seen.length).toBe(19);
    // the record that straddles offset 200 is copied; all the others are views
    expect(seen.filter((x) => !x).length).toBe(1);
  });
});

describe('pcap variants', () => {
  it('reads a big-endian pcap like its little-endian twin', () => {
    const le = parse(readPub('arkime__websocket.pcap'));
    const be = pcap(
      le.recs.map((r) => ({ tsUs: Math.floor(r.ts) * 1e6 + Math.round((r.ts - Math.floor(r.ts)) * 1e6), data: Buffer.from(r.hex, 'hex'), origLen: r.origLen })),
      { linkType: 1, bigEndian: true },
    );
    const r = parse(be);
    expect(r.problems).toEqual([]);
    expect(r.recs).toEqual(le.recs);
  });

  it('reads nanosecond pcap timestamps (editcap -F nsecpcap) as the same instants', () => {
    const us = parse(readPub('arkime__websocket.pcap'));
    const ns = parse(readFix('arkime-nsec.pcap'));
    expect(ns.ifaces).toEqual([{ id: 0, linkType: 1, snaplen: 262144, tsResolution: 1e-9 }]);
    expect(us.ifaces[0].tsResolution).toBe(1e-6);
    expect(ns.recs.map((r) => r.hex)).toEqual(us.recs.map((r) => r.hex));
    ns.recs.forEach((r, i) => expect(Math.abs(r.ts - us.recs[i].ts)).toBeLessThan(1e-6));
  });

  it('strips the FCS announced in the link-type field (F bit, length in 16-bit words)', () => {
    const frame = ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, new Uint8Array(8)));
    const withFcs = concat([frame, Uint8Array.of(1, 2, 3, 4)]);
    const file = pcap([{ tsUs: 1e6, data: withFcs }], { linkType: (1 | 0x04000000 | (2 << 28)) >>> 0 });
    const r = parse(file);
    expect(r.ifaces[0].linkType).toBe(1);
    expect(r.recs[0].hex).toBe(hex(frame));
    expect(r.recs[0].origLen).toBe(frame.length);
  });

  it('reads a pcap with no records and reports nothing', () => {
    const r = parse(pcapHeader({ linkType: 1 }));
    expect(r.recs).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.format).toBe('pcap');
  });

  it('raises origLen to the captured length when a writer put a smaller one', () => {
    const r = parse(pcap([{ tsUs: 1e6, data: new Uint8Array(60), origLen: 10 }], { linkType: 1 }));
    expect(r.recs[0].origLen).toBe(60);
  });
});

describe('pcapng', () => {
  it('reads editcap -F pcapng output like the pcap it came from', () => {
    const a = parse(readPub('arkime__websocket.pcap'));
    const b = parse(readFix('arkime.pcapng'));
    expect(b.format).toBe('pcapng');
    expect(b.problems).toEqual([]);
    expect(b.recs).toEqual(a.recs);
  });

  it('keeps per-interface link type and timestamp resolution (mergecap of SLL microseconds + Ethernet nanoseconds)', () => {
    const r = parse(readFix('two-links.pcapng'));
    expect(r.problems).toEqual([]);
    expect(r.ifaces.map((i) => [i.id, i.linkType, i.tsResolution])).toEqual([
      [0, 113, 1e-6],
      [1, 1, 1e-9],
    ]);
    const sll = parse(readPub('suricata-verify__websocket-ping__input.pcap')).recs;
    const eth = parse(readFix('arkime-nsec.pcap')).recs;
    expect(r.recs.length).toBe(sll.length + eth.length);
    const on0 = r.recs.filter((x) => x.iface === 0);
    const on1 = r.recs.filter((x) => x.iface === 1);
    expect(on0.map((x) => [x.linkType, x.hex, x.ts])).toEqual(sll.map((x) => [113, x.hex, x.ts]));
    expect(on1.map((x) => [x.linkType, x.hex])).toEqual(eth.map((x) => [1, x.hex]));
    on1.forEach((x, i) => expect(Math.abs(x.ts - eth[i].ts)).toBeLessThan(1e-6));
  });

  it('applies if_tsresol (10^-9 and 2^-20) and if_tsoffset, and reports if_name and if_description (times as tshark shows them)', () => {
    const r = parse(readFix('raw-ipv4-ipv6.pcapng'));
    expect(r.ifaces).toEqual([
      { id: 0, linkType: 228, name: 'v4if', description: 'IPv4 only', snaplen: 262144, tsResolution: 1e-9 },
      { id: 1, linkType: 229, name: 'v6if', description: 'IPv6 only', snaplen: 262144, tsResolution: Math.pow(2, -20) },
    ]);
    const tsv = readFileSync(join(FIX, 'raw-ipv4-ipv6.pcapng.tshark.tsv'), 'utf8').trim().split('\n').slice(1);
    const want = tsv.map((l) => Number(l.split('\t')[1]));
    expect(r.recs.map((x) => x.iface)).toEqual([0, 1, 0]);
    r.recs.forEach((x, i) => expect(Math.abs(x.ts - want[i])).toBeLessThan(1e-6));
  });

  it('reads big-endian sections, SPB (snaplen of IDB 0, last timestamp), the obsolete Packet Block, and skips NRB/ISB/custom/unknown blocks', () => {
    for (const order of [{ bigEndian: false }, { bigEndian: true }]) {
      const file = concat([
        ngShb(order),
        ngIdb({ linkType: 1, snaplen: 40, ...order }),
        ngBlock(4, Uint8Array.of(1, 0, 4, 0, 10, 0, 0, 1, 0, 0, 0, 0), order), // NRB
        ngEpbRaw(0, 5_000_000n, pkt('epb'), order),
        ngSpb({ data: pkt('spb, cut to the snap length') }, order),
        ngBlock(0x40000bad, new Uint8Array(20), order), // custom
        ngBlock(0x99, new Uint8Array(8), order), // unknown
        ngPb(0, 6_000_000n, pkt('pb'), order),
        ngBlock(5, new Uint8Array(16), order), // ISB
      ]);
      const r = parse(file);
      expect(r.problems).toEqual([]);
      expect(r.recs.length).toBe(3);
      expect(r.recs[0]).toMatchObject({ no: 1, ts: 5, iface: 0, linkType: 1, hex: hex(pkt('epb')) });
      // SPB: captured length = min(original length, IDB 0 snaplen); no timestamp, the last one stays
      expect(r.recs[1]).toMatchObject({ no: 2, ts: 5, origLen: pkt('spb, cut to the snap length').length, hex: hex(pkt('spb, cut to the snap length').subarray(0, 40)) });
      expect(r.recs[2]).toMatchObject({ no: 3, ts: 6, hex: hex(pkt('pb')) });
      expect(parse(file, [1])).toEqual(r);
    }
  });

  it('numbers interfaces globally across sections, each section in its own byte order', () => {
    const file = concat([
      ngShb(),
      ngIdb({ linkType: 1 }),
      ngEpbRaw(0, 1_000_000n, pkt('a')),
      ngShb({ bigEndian: true }),
      ngIdb({ linkType: 101, bigEndian: true }),
      ngIdb({ linkType: 1, tsresol: 3, bigEndian: true }),
      ngEpbRaw(1, 2000n, pkt('b'), { bigEndian: true }),
      ngEpbRaw(0, 3_000_000n, pkt('c').subarray(14), { bigEndian: true }),
    ]);
    const r = parse(file);
    expect(r.problems).toEqual([]);
    expect(r.ifaces.map((i) => [i.id, i.linkType])).toEqual([
      [0, 1],
      [1, 101],
      [2, 1],
    ]);
    expect(r.recs.map((x) => [x.iface, x.linkType, x.ts])).toEqual([
      [0, 1, 1],
      [2, 1, 2],
      [1, 101, 3],
    ]);
  });

  it('reports a packet that names an interface its section did not describe, and goes on', () => {
    const r = parse(concat([ngShb(), ngIdb({ linkType: 1 }), ngEpbRaw(3, 1n, pkt('x')), ngEpbRaw(0, 1n, pkt('y'))]));
    expect(r.recs.map((x) => x.hex)).toEqual([hex(pkt('y'))]);
    expect(r.problems.map((p) => p.kind)).toEqual(['corrupt-block']);
    expect(r.problems[0].text).toMatch(/interface 3/);
  });
});

describe('bad input', () => {
  it('reports a text file as a bad header on its first bytes and nothing else', () => {
    const bytes = readFix('not-a-capture.txt');
    expect(isCaptureMagic(bytes)).toBe(false);
    const r = parse(bytes);
    expect(r.recs).toEqual([]);
    expect(r.problems).toEqual([{ kind: 'bad-header', packet: 0, offset: 0, text: 'not a pcap or pcapng file (first bytes 47455420)' }]);
    expect(parse(bytes, [1])).toEqual(r);
  });

  it('stops with a bad header on an unknown pcap version, and a pcapng section header whose byte-order magic is neither order (also one 8 bytes short)', () => {
    const v3 = pcapHeader({ linkType: 1 });
    v3[4] = 3;
    const badBom = ngShb();
    badBom[8] = 0x11;
    const noShb = Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0);
    for (const [bytes, text] of [
      [v3, /version 3\.4/],
      [badBom, /byte-order magic/],
      [concat([noShb, ngIdb({ linkType: 1 })]), /byte-order magic/],
    ] as Array<[Uint8Array, RegExp]>) {
      const r = parse(concat([bytes, ngEpbRaw(0, 1n, pkt('x'))]));
      expect(r.recs).toEqual([]);
      expect(r.problems.map((p) => p.kind)).toEqual(['bad-header']);
      expect(r.problems[0].text).toMatch(text);
    }
  });

  it("reads Kuznetsov's modified pcap (magic 0xa1b2cd34, 24-byte record headers)", () => {
    const head = pcapHeader({ linkType: 1 });
    head.set([0x34, 0xcd, 0xb2, 0xa1], 0);
    const recs = [pkt('k1'), pkt('k2')].map((d, i) => {
      const h = new DataView(new ArrayBuffer(24));
      h.setUint32(0, 100 + i, true);
      h.setUint32(4, 500000, true);
      h.setUint32(8, d.length, true);
      h.setUint32(12, d.length, true);
      return concat([new Uint8Array(h.buffer), d]);
    });
    const r = parse(concat([head, ...recs]));
    expect(r.problems).toEqual([]);
    expect(r.recs.map((x) => [x.ts, x.hex])).toEqual([
      [100.5, hex(pkt('k1'))],
      [101.5, hex(pkt('k2'))],
    ]);
  });

  it('recognises every capture magic', () => {
    for (const f of publicCaptures) expect(isCaptureMagic(readPub(f).subarray(0, 4))).toBe(true);
    expect(isCaptureMagic(Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4))).toBe(true);
    expect(isCaptureMagic(Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1))).toBe(true);
    expect(isCaptureMagic(Uint8Array.of(0xa1, 0xb2))).toBe(false);
    expect(isCaptureMagic(Uint8Array.of(0x1f, 0x8b, 8, 0))).toBe(false);
  });

  it('resynchronises after a pcapng block whose length is not a multiple of 4', () => {
    const r = parse(readFix('bad-blocklen.pcapng'));
    expect(r.recs.length).toBe(3);
    expect(r.recs.map((x) => Buffer.from(x.hex, 'hex').subarray(54).toString())).toEqual(['one', 'two', 'three']);
    expect(r.problems.map((p) => p.kind)).toEqual(['corrupt-block', 'corrupt-block']);
    expect(r.problems[0].text).toMatch(/bad length 7/);
    expect(r.problems[1].text).toMatch(/resume/);
  });

  it('resynchronises after a pcap record header with an absurd captured length', () => {
    const r = parse(readFix('huge-caplen.pcap'));
    expect(r.recs.map((x) => Buffer.from(x.hex, 'hex').subarray(54).toString())).toEqual(['first', 'third']);
    expect(r.recs.map((x) => x.no)).toEqual([1, 2]);
    expect(r.problems.map((p) => p.kind)).toEqual(['corrupt-block', 'corrupt-block']);
    expect(r.problems[0].text).toMatch(/2147483632/);
  });

  it('reads the records of an unknown link type and says it cannot decode them', () => {
    const r = parse(readFix('unknown-link.pcap'));
    expect(r.recs.length).toBe(2);
    expect(r.problems.map((p) => p.kind)).toEqual(['unknown-link-type']);
    expect(r.problems[0].text).toMatch(/147/);
  });

  it('reports a file that ends inside a record as truncated and keeps the records before it', () => {
    const r = parse(readFix('truncated.pcap'));
    expect(r.recs.length).toBe(9);
    expect(r.problems.map((p) => p.kind)).toEqual(['truncated-capture']);
    expect(r.problems[0].text).toMatch(/record 10/);
  });

  it('rejects pcapng block lengths of 0, under 12, and over 256 MiB, and a block running past the end of the file', () => {
    const good = concat([ngShb(), ngIdb({ linkType: 1 })]);
    // 0, under 12, over 256 MiB, and a packet block over the 16 MiB that is ever buffered
    for (const len of [0, 8, 0x7ffffffc, 20 * 1024 * 1024]) {
      const bad = Uint8Array.of(6, 0, 0, 0, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >>> 24);
      const r = parse(concat([good, bad, ngEpbRaw(0, 1n, pkt('after'))]));
      expect(r.problems[0].kind).toBe('corrupt-block');
      expect(r.recs.map((x) => x.hex)).toEqual([hex(pkt('after'))]);
    }
    const cut = concat([good, ngEpbRaw(0, 1n, pkt('whole')), ngEpbRaw(0, 2n, pkt('cut off')).subarray(0, 30)]);
    const r = parse(cut);
    expect(r.recs.length).toBe(1);
    expect(r.problems.map((p) => p.kind)).toEqual(['truncated-capture']);
    // a skipped block (ISB) claiming 100 MiB is skipped without being buffered, then found cut
    const isb = Uint8Array.of(5, 0, 0, 0, 0, 0, 0x40, 0x06);
    const r2 = parse(concat([good, ngEpbRaw(0, 1n, pkt('before')), isb, new Uint8Array(64)]), [16]);
    expect(r2.recs.length).toBe(1);
    expect(r2.problems.map((p) => p.kind)).toEqual(['truncated-capture']);
    expect(r2.problems[0].text).toMatch(/bytes short/);
  });

  it('never throws when a small capture is cut at any byte offset, and reports truncation exactly when the cut is inside a unit', () => {
    for (const name of ['arkime__websocket.pcap', 'zeek__oversized-close-frame.pcapng']) {
      const bytes = readPub(name);
      const full = parse(bytes);
      // file offsets where a record/block ends
      const ends = new Set<number>();
      for (let cut = 0; cut <= bytes.length; cut++) {
        const r = parse(bytes.subarray(0, cut));
        expect(r.recs).toEqual(full.recs.slice(0, r.recs.length));
        if (cut < 4) expect(r.problems.map((p) => p.kind)).toEqual(['bad-header']);
        else if (r.problems.length === 0) ends.add(cut);
        else expect(r.problems.map((p) => p.kind)).toEqual(['truncated-capture']);
      }
      // only the unit boundaries are clean cuts: one per record plus the header(s)
      expect(ends.has(bytes.length)).toBe(true);
      expect(ends.size).toBeLessThanOrEqual(full.recs.length + 3);
      expect(ends.size).toBeGreaterThanOrEqual(full.recs.length + 1);
    }
  });

  it('survives random bytes after a valid header without throwing or looping', () => {
    const heads = [pcapHeader({ linkType: 1 }), concat([ngShb(), ngIdb({ linkType: 1 })]), concat([ngShb({ bigEndian: true }), ngIdb({ linkType: 1, bigEndian: true })])];
    fc.assert(
      fc.property(fc.constantFrom(...heads), fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), (head, tail, step) => {
        const bytes = concat([head, tail]);
        const one = parse(bytes);
        expect(parse(bytes, [step])).toEqual(one);
      }),
      { numRuns: 300 },
    );
  });
});
