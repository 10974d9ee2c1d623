/**
 * The malformed-capture corpus: one entry per case, each with a deterministic builder of the
 * file's bytes, a sentence saying what it checks, and the finding ids the spec REQUIRES
 * (written by hand from RFC 6455 / RFC 7692 / the capture formats, not copied from the
 * engine's output). `scripts/make-corpus.ts` writes the files and golden decodes,
 * `test/hardening.test.ts` checks them, `docs/hardening.md` lists them.
 *
 * Cases marked `commit: false` are large (the 1 GiB inflation bomb, a million frames) and are
 * generated into a temporary directory at test time; their golden decode is still committed.
 *
 * Memory: builders return fresh buffers; the big ones are a few MiB.
 */
import { createHash } from 'node:crypto';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import type { FindingId } from '../../shared/findings';
import { ACK, Conv, LT_ETHERNET, PSH, ether, ipv4, udp, ascii, concat, ngBlock, ngIdb, ngShb, ngSpb, ngEpb, pcap, pcapHeader, pcapRecord, type Bytes, type ConvOpts, type Rec } from '../../test/kit/capture';
import { KEY, acceptFor, cf, closePayload, sf, type HandshakeOpts, type ResponseOpts } from '../../test/kit/websocket';
import type { Golden } from './fuzz-golden';
import { APP_CASES } from './fuzz-corpus-app';

export interface CorpusCase {
  name: string;
  /** file extension: pcap, pcapng, pcap.gz, txt */
  ext: string;
  /** what the case checks (one sentence, for docs/hardening.md) */
  checks: string;
  /** finding ids that MUST be present (from the spec) */
  expect: FindingId[];
  /** finding ids that must NOT be present */
  absent?: FindingId[];
  /** the reader must reject the file with this CaptureFileError code instead of decoding it */
  rejects?: 'not-a-capture';
  /** false: generated at test time into a temp dir (too big to commit) */
  commit?: boolean;
  /** extra check on the decode; returns a complaint or null */
  check?: (g: Golden) => string | null;
  build: () => Bytes;
}

const DEFLATE = 'permessage-deflate';

/** RFC 7692 section 7.2.1: raw DEFLATE, sync flush, the trailing 00 00 ff ff removed. */
export function deflateMessage(data: Bytes): Bytes {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return new Uint8Array(out.buffer, out.byteOffset, out.length - 4).slice();
}

interface WsOpts {
  conv?: ConvOpts;
  req?: HandshakeOpts;
  res?: ResponseOpts;
  /** end with FIN from both sides (default true) */
  fin?: boolean;
}

/** TCP + HTTP upgrade, then `body`, then FIN both ways. */
function ws(body: (c: Conv) => void, o: WsOpts = {}): Conv {
  const c = new Conv(o.conv).upgrade(o.req, o.res);
  body(c);
  if (o.fin !== false) c.close();
  return c;
}

/** A clean exchange: text each way, ping/pong, binary, closing handshake. */
function basic(o: WsOpts = {}): Conv {
  return ws((c) => {
    c.send('c', cf(1, 'hello'));
    c.send('s', sf(1, 'world'));
    c.send('c', cf(9, 'p1'));
    c.send('s', sf(10, 'p1'));
    c.send('s', sf(2, Uint8Array.from({ length: 300 }, (_, i) => i & 0xff)));
    c.send('c', cf(8, closePayload(1000, 'bye')));
    c.send('s', sf(8, closePayload(1000, 'bye')));
  }, o);
}

const basicPcap = (o: WsOpts = {}): Bytes => basic(o).pcap();

function messagesOf(g: Golden): number {
  return g.summary?.messages ?? 0;
}

/** Complaint unless the clean exchange's 7 messages all came through. */
function allSeven(g: Golden): string | null {
  return messagesOf(g) === 7 ? null : `expected the 7 messages of the clean exchange, got ${messagesOf(g)}`;
}

/**
 * Complaint unless a whole `dir` message with `opcode` carries exactly `data` (by the golden's
 * 16-hex-digit SHA-256 prefix) and arrived in `frames` frames.
 */
function hasMessage(g: Golden, dir: 'client' | 'server', opcode: number, data: Bytes, frames: number): string | null {
  const sha = createHash('sha256').update(data).digest('hex').slice(0, 16);
  const want = [` ${dir} `, ` op${opcode} len${data.length} `, ` sha${sha} frames${frames} `];
  const whole = g.messages.some((m) => want.every((w) => m.includes(w)) && !m.includes(' trunc '));
  return whole ? null : `expected a whole ${dir} message op${opcode} len${data.length} sha${sha} in ${frames} frames`;
}

function someTruncated(g: Golden): string | null {
  return g.messages.some((m) => m.includes(' trunc ')) ? null : 'expected a message marked truncated';
}

const u8 = (...b: number[]): Bytes => Uint8Array.from(b);

/** Insert `extra` records after record index `at`. */
function insertAfter(c: Conv, at: number, ...extra: Rec[]): void {
  c.recs.splice(at + 1, 0, ...extra);
}

function reservedOpcodeCase(op: number): CorpusCase {
  return {
    name: `ws-reserved-opcode-${op}`,
    ext: 'pcap',
    checks: `client frame with reserved ${op < 8 ? 'data' : 'control'} opcode ${op} (RFC 6455 5.2)`,
    expect: ['reserved-opcode'],
    build: () =>
      ws((c) => {
        c.send('c', cf(op, 'x'));
        c.send('s', sf(1, 'after'));
      }).pcap(),
  };
}

function closeCodeCase(code: number, valid: boolean): CorpusCase {
  return {
    name: `ws-close-code-${code}`,
    ext: 'pcap',
    checks: valid ? `close code ${code} is allowed on the wire (RFC 6455 7.4.2)` : `close code ${code} may not be sent on the wire (RFC 6455 7.4.1/7.4.2)`,
    expect: valid ? [] : ['invalid-close-code'],
    absent: valid ? ['invalid-close-code'] : [],
    // the client's close, as built below, comes through with its code and reason
    check: (g) => (g.messages.some((m) => / client #\d+ op8 .* code(\d+) reason"x"$/.exec(m)?.[1] === String(code)) ? null : `expected the client close ${code} "x"`),
    build: () =>
      ws((c) => {
        c.send('c', cf(8, closePayload(code, 'x')));
        c.send('s', sf(8, closePayload(1000)));
      }).pcap(),
  };
}

/** 1 GiB of zeros as one permessage-deflate message of about 1 MiB (RFC 7692 7.2.1). */
function bombPayload(): Bytes {
  const piece = deflateRawSync(Buffer.alloc(16 << 20), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  // each piece ends on a sync-flush boundary (00 00 ff ff) and references only its own bytes,
  // so 64 copies form one valid stream of 1 GiB; the last marker is removed per RFC 7692.
  const parts: Bytes[] = [];
  for (let i = 0; i < 64; i++) parts.push(piece);
  const all = concat(parts);
  return all.subarray(0, all.length - 4);
}

export const CASES: CorpusCase[] = [
  // ---------------- capture files: pcap ----------------
  {
    name: 'clean-baseline',
    ext: 'pcap',
    checks: 'well-formed exchange (text, ping/pong, binary, close) decodes without findings',
    expect: [],
    absent: ['tcp-gap', 'truncated-capture', 'unmasked-client-frame', 'masked-server-frame', 'invalid-close-code'],
    check: allSeven,
    build: () => basicPcap(),
  },
  {
    name: 'pcap-caplen-lt-len',
    ext: 'pcap',
    checks: 'snaplen 300 cuts the packet of a 300-byte frame (caplen < len): the cut bytes are a gap, that message is truncated, the close frames after it decode',
    expect: ['truncated-capture', 'tcp-gap'],
    check: (g) => someTruncated(g) ?? (g.messages.filter((m) => m.includes(' op8 ')).length === 2 ? null : 'expected both close messages after the cut frame'),
    build: () => snapCut(300),
  },
  {
    name: 'pcap-snaplen-cuts-handshake',
    ext: 'pcap',
    checks: 'snaplen 100 cuts the upgrade request and answer themselves: gaps reported, nothing thrown',
    expect: ['truncated-capture', 'tcp-gap'],
    build: () => snapCut(100),
  },
  {
    name: 'pcap-caplen-gt-len',
    ext: 'pcap',
    checks: 'records whose caplen exceeds the original length (trailing padding) decode normally',
    expect: [],
    absent: ['tcp-gap', 'tcp-overlap-conflict'],
    check: allSeven,
    build: () => {
      const c = basic();
      const recs = c.recs.map((r) => ({ ...r, data: concat([r.data, new Uint8Array(10)]), origLen: r.data.length }));
      return pcap(recs, { linkType: LT_ETHERNET });
    },
  },
  {
    name: 'pcap-snaplen-0',
    ext: 'pcap',
    checks: 'a header snaplen of 0 does not cut or reject records',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => basic().pcap({ snaplen: 0 }),
  },
  {
    name: 'pcap-snaplen-max',
    ext: 'pcap',
    checks: 'a header snaplen of 2^32-1 is accepted',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => basic().pcap({ snaplen: 0xffffffff }),
  },
  {
    name: 'pcap-big-endian-nanos',
    ext: 'pcap',
    checks: 'big-endian nanosecond pcap decodes like the little-endian one',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => basic().pcap({ bigEndian: true, nanos: true }),
  },
  {
    name: 'pcap-caplen-huge',
    ext: 'pcap',
    checks: 'a record claiming caplen 2^31-1 mid-file is reported and the reader resyncs on the next record',
    expect: ['corrupt-capture'],
    build: () => {
      const c = basic();
      const parts: Bytes[] = [pcapHeader({ linkType: LT_ETHERNET })];
      c.recs.forEach((r, i) => {
        if (i === 6) parts.push(pcapRecord({ ...r, caplen: 0x7fffffff }));
        else parts.push(pcapRecord(r));
      });
      return concat(parts);
    },
  },
  {
    name: 'pcap-bad-version',
    ext: 'pcap',
    checks: 'pcap major version 3 is refused as a bad header, not decoded as garbage',
    expect: ['corrupt-capture'],
    build: () => basic().pcap({ major: 3 }),
  },
  {
    name: 'pcap-only-header',
    ext: 'pcap',
    checks: 'a pcap file of only its 24-byte header: zero packets, no error',
    expect: [],
    absent: ['truncated-capture'],
    check: (g) => (g.summary?.packets === 0 ? null : 'expected 0 packets'),
    build: () => pcapHeader({ linkType: LT_ETHERNET }),
  },
  {
    name: 'pcap-header-cut',
    ext: 'pcap',
    checks: 'a pcap file cut inside its file header (10 bytes)',
    expect: ['truncated-capture'],
    build: () => pcapHeader({ linkType: LT_ETHERNET }).subarray(0, 10),
  },
  {
    name: 'pcap-cut-in-record-header',
    ext: 'pcap',
    checks: 'file ends 8 bytes into a record header: earlier records decode, truncation reported',
    expect: ['truncated-capture'],
    build: () => {
      const b = basicPcap();
      const c = basic();
      const lastLen = 16 + c.recs[c.recs.length - 1]!.data.length;
      return b.subarray(0, b.length - lastLen + 8);
    },
  },
  {
    name: 'ws-file-cut-mid-header',
    ext: 'pcap',
    checks: 'file ends inside the record that carries a frame header (after 1 header byte)',
    expect: ['truncated-capture'],
    build: () => {
      const c = ws((cc) => {
        cc.send('c', cf(1, 'first'));
        cc.send('s', sf(1, 'second message'));
      }, { fin: false });
      const b = c.pcap();
      // the last record ends with 2-byte header + 14-byte payload: keep 1 header byte
      return b.subarray(0, b.length - 15);
    },
  },
  {
    name: 'ws-file-cut-mid-frame',
    ext: 'pcap',
    checks: 'file ends inside the record that carries a frame payload',
    expect: ['truncated-capture'],
    build: () => {
      const c = ws((cc) => {
        cc.send('c', cf(1, 'first'));
        cc.send('s', sf(2, new Uint8Array(1000).fill(0x41)));
      }, { fin: false });
      const b = c.pcap();
      return b.subarray(0, b.length - 500);
    },
  },
  {
    name: 'unknown-linktype-pcap',
    ext: 'pcap',
    checks: 'link type 147 (USER0) is not decoded and produces no connection',
    expect: ['unsupported-link-type'],
    check: (g) => (g.connections.length === 0 ? null : 'expected no connections'),
    build: () => pcap(basic().recs, { linkType: 147 }),
  },
  // ---------------- capture files: pcapng ----------------
  {
    name: 'pcapng-clean',
    ext: 'pcapng',
    checks: 'the clean exchange as pcapng with nanosecond timestamps',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => basic().pcapng({ tsresol: 9 }),
  },
  {
    name: 'pcapng-block-len-0',
    ext: 'pcapng',
    checks: 'a block with total length 0 is corrupt; the reader resyncs on the next block',
    expect: ['corrupt-capture'],
    build: () => {
      const c = basic();
      const bad = new Uint8Array(8);
      new DataView(bad.buffer).setUint32(0, 6, true);
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...c.recs.slice(0, 5).map((r) => ngEpb(r)), bad, ...c.recs.slice(5).map((r) => ngEpb(r))]);
    },
  },
  {
    name: 'pcapng-block-len-unaligned',
    ext: 'pcapng',
    checks: 'a block length that is not a multiple of 4 is corrupt',
    expect: ['corrupt-capture'],
    build: () => {
      const c = basic();
      const bad = ngEpb(c.recs[5]!).slice();
      new DataView(bad.buffer).setUint32(4, bad.length - 2, true);
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...c.recs.slice(0, 5).map((r) => ngEpb(r)), bad, ...c.recs.slice(6).map((r) => ngEpb(r))]);
    },
  },
  {
    name: 'pcapng-block-past-eof',
    ext: 'pcapng',
    checks: 'the last block claims 1 MiB, past the end of the file',
    expect: ['truncated-capture'],
    build: () => {
      const c = basic();
      const last = ngEpb(c.recs[c.recs.length - 1]!).slice();
      new DataView(last.buffer).setUint32(4, 1 << 20, true);
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...c.recs.slice(0, -1).map((r) => ngEpb(r)), last]);
    },
  },
  {
    name: 'pcapng-epb-caplen-past-block',
    ext: 'pcapng',
    checks: 'an EPB whose captured length is larger than its block',
    expect: ['corrupt-capture'],
    build: () => {
      const c = basic();
      const bad = ngEpb(c.recs[4]!).slice();
      new DataView(bad.buffer).setUint32(8 + 12, 60000, true);
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...c.recs.map((r, i) => (i === 4 ? bad : ngEpb(r)))]);
    },
  },
  {
    name: 'pcapng-epb-unknown-iface',
    ext: 'pcapng',
    checks: 'an EPB refers to interface 7, which was never described',
    expect: ['corrupt-capture'],
    build: () => {
      const c = basic();
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...c.recs.map((r, i) => ngEpb(i === 2 ? { ...r, iface: 7 } : r))]);
    },
  },
  {
    name: 'pcapng-unknown-linktype',
    ext: 'pcapng',
    checks: 'an interface with link type 4242 is not decoded; no connection',
    expect: ['unsupported-link-type'],
    check: (g) => (g.connections.length === 0 ? null : 'expected no connections'),
    build: () => basic().pcapng({ linkType: 4242 }),
  },
  {
    name: 'pcapng-simple-packet-blocks',
    ext: 'pcapng',
    checks: 'packets in Simple Packet Blocks (no timestamps) decode',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...basic().recs.map((r) => ngSpb(r))]),
  },
  {
    name: 'pcapng-two-sections',
    ext: 'pcapng',
    checks: 'two sections, the second with its own interface (Ethernet then raw IP)',
    expect: [],
    absent: ['truncated-capture'],
    // both sections' conversations, each the clean exchange's 7 messages after a 101
    check: (g) => {
      const packets = basic().recs.length + basic({ conv: { link: 'raw', clientPort: 40000 } }).recs.length;
      const s = g.summary;
      if (s?.packets !== packets || s.connections !== 2 || s.messages !== 14) return `expected ${packets} packets, 2 connections, 14 messages; got ${JSON.stringify(s)}`;
      return g.handshakes.filter((h) => h.includes(' 101 acceptok ws1 ')).length === 2 ? null : 'expected two good 101 handshakes';
    },
    build: () => {
      const a = basic();
      const b = basic({ conv: { link: 'raw', clientPort: 40000 } });
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...a.recs.map((r) => ngEpb(r)), ngShb(), ngIdb({ linkType: b.linkType }), ...b.recs.map((r) => ngEpb(r))]);
    },
  },
  {
    name: 'pcapng-only-shb',
    ext: 'pcapng',
    checks: 'a pcapng file of only its section header block',
    expect: [],
    absent: ['truncated-capture'],
    check: (g) => (g.summary?.packets === 0 ? null : 'expected 0 packets'),
    build: () => ngShb(),
  },
  {
    name: 'pcapng-custom-block',
    ext: 'pcapng',
    checks: 'an unknown block type between packets is skipped',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => {
      const c = basic();
      return concat([ngShb(), ngIdb({ linkType: LT_ETHERNET }), ...c.recs.slice(0, 4).map((r) => ngEpb(r)), ngBlock(0x40000bad, new Uint8Array(37).fill(7)), ...c.recs.slice(4).map((r) => ngEpb(r))]);
    },
  },
  // ---------------- whole-file oddities ----------------
  {
    name: 'empty-file',
    ext: 'pcap',
    checks: 'a 0-byte file is refused as not a capture (no crash)',
    expect: [],
    rejects: 'not-a-capture',
    build: () => new Uint8Array(0),
  },
  {
    name: 'text-file',
    ext: 'txt',
    checks: 'a text file is refused as not a capture',
    expect: [],
    rejects: 'not-a-capture',
    build: () => ascii('GET / HTTP/1.1\r\nHost: example\r\n\r\nthis is not a capture file\n'),
  },
  {
    name: 'gzip-capture',
    ext: 'pcap.gz',
    checks: 'a gzip-compressed pcap decodes like the plain one',
    expect: [],
    absent: ['truncated-capture'],
    check: allSeven,
    build: () => new Uint8Array(gzipSync(basicPcap(), { level: 9 })),
  },
  {
    name: 'gzip-cut',
    ext: 'pcap.gz',
    checks: 'a gzip stream cut short keeps what was decoded and reports the truncation',
    expect: ['truncated-capture'],
    build: () => {
      const big = ws((c) => {
        for (let i = 0; i < 40; i++) c.send('s', sf(1, `message number ${i} `.repeat(20)));
      }).pcap();
      const z = gzipSync(big, { level: 1 });
      return new Uint8Array(z.subarray(0, Math.floor(z.length / 2)));
    },
  },
  // ---------------- link layers ----------------
  ...(['vlan', 'qinq', 'sll', 'sll2', 'raw', 'null'] as const).map(
    (link): CorpusCase => ({
      name: `link-${link}`,
      ext: 'pcap',
      checks: `the clean exchange over ${link === 'vlan' ? '802.1Q-tagged Ethernet' : link === 'qinq' ? 'double-tagged (802.1ad + 802.1Q) Ethernet' : link === 'null' ? 'BSD NULL loopback' : link === 'raw' ? 'raw IP (LINKTYPE_RAW)' : `Linux cooked capture ${link === 'sll' ? 'v1' : 'v2'}`}`,
      expect: [],
      absent: ['truncated-capture'],
      check: allSeven,
      build: () => basicPcap({ conv: { link } }),
    }),
  ),
  {
    name: 'ipv6-null-loopback',
    ext: 'pcap',
    checks: 'IPv6 over BSD NULL (AF_INET6 = 30, Darwin)',
    expect: [],
    check: allSeven,
    build: () => basicPcap({ conv: { link: 'null', v6: true } }),
  },
  {
    name: 'ipv6-ext-headers',
    ext: 'pcap',
    checks: 'IPv6 with hop-by-hop, routing and destination-options headers before TCP (RFC 8200 4)',
    expect: [],
    check: allSeven,
    build: () =>
      basicPcap({
        conv: {
          v6: true,
          v6ext: [
            { type: 0, body: u8(1, 4, 0, 0, 0, 0) },
            { type: 43, body: u8(0, 0, 0, 0, 0, 0) },
            { type: 60, body: u8(1, 4, 0, 0, 0, 0) },
          ],
        },
      }),
  },
  {
    name: 'ipv6-atomic-fragment',
    ext: 'pcap',
    checks: 'IPv6 fragment header with offset 0 and M=0 (atomic fragment, RFC 8200 4.5) around every segment',
    expect: [],
    check: allSeven,
    build: () => basicPcap({ conv: { v6: true, v6ext: [{ type: 44, body: u8(0, 0, 0, 0, 0, 9) }] } }),
  },
  // ---------------- IP / TCP headers ----------------
  {
    name: 'ipv4-ihl-lt-5',
    ext: 'pcap',
    checks: 'an extra packet with IHL 4 carrying conflicting bytes is dropped, not decoded',
    expect: ['malformed-packet'],
    absent: ['tcp-overlap-conflict', 'invalid-utf8', 'tcp-gap'],
    check: allSeven,
    build: () => {
      const c = basic();
      const bogus = c.segment('s', 5001, ACK | PSH, ascii('JUNKJUNKJUNK'), {}, { ihl: 4 });
      insertAfter(c, 4, { tsUs: c.recs[4]!.tsUs + 1, data: bogus });
      return c.pcap();
    },
  },
  {
    name: 'ipv4-ihl-past-end',
    ext: 'pcap',
    checks: 'an extra packet with IHL 15 but a 45-byte packet is dropped',
    expect: [],
    absent: ['tcp-overlap-conflict', 'tcp-gap'],
    check: allSeven,
    build: () => {
      const c = basic();
      insertAfter(c, 4, { tsUs: c.recs[4]!.tsUs + 1, data: c.segment('c', 1001, ACK, ascii('JUNK!'), {}, { ihl: 15 }) });
      return c.pcap();
    },
  },
  {
    name: 'ipv4-total-length-short',
    ext: 'pcap',
    checks: 'an extra packet whose IPv4 total length is below its header length is dropped',
    expect: ['malformed-packet'],
    absent: ['tcp-overlap-conflict', 'tcp-gap'],
    check: allSeven,
    build: () => {
      const c = basic();
      insertAfter(c, 4, { tsUs: c.recs[4]!.tsUs + 1, data: c.segment('c', 1001, ACK, ascii('JUNK!'), {}, { totalLength: 12 }) });
      return c.pcap();
    },
  },
  {
    name: 'tcp-doff-lt-5',
    ext: 'pcap',
    checks: 'an extra segment with TCP data offset 4 is dropped',
    expect: ['malformed-packet'],
    absent: ['tcp-overlap-conflict', 'tcp-gap'],
    check: allSeven,
    build: () => {
      const c = basic();
      insertAfter(c, 4, { tsUs: c.recs[4]!.tsUs + 1, data: c.segment('c', 1001, ACK | PSH, ascii('JUNKJUNK'), { dataOffset: 4 }) });
      return c.pcap();
    },
  },
  {
    name: 'tcp-doff-past-segment',
    ext: 'pcap',
    checks: 'an extra segment with data offset 15 in a 28-byte segment is dropped',
    expect: ['malformed-packet'],
    absent: ['tcp-overlap-conflict', 'tcp-gap'],
    check: allSeven,
    build: () => {
      const c = basic();
      insertAfter(c, 4, { tsUs: c.recs[4]!.tsUs + 1, data: c.segment('c', 1001, ACK | PSH, ascii('JUNKJUNK'), { dataOffset: 15 }) });
      return c.pcap();
    },
  },
  {
    name: 'ipv4-fragments',
    ext: 'pcap',
    checks: 'a frame carried in three IPv4 fragments is reassembled (RFC 791)',
    expect: [],
    absent: ['ip-fragments-incomplete', 'tcp-gap'],
    check: (g) => (g.messages.some((m) => m.includes('op2 len1000 ')) ? null : 'expected the 1000-byte binary message'),
    build: () =>
      ws((c) => {
        c.send('c', cf(1, 'before'));
        c.sendFragmented('s', sf(2, new Uint8Array(1000).fill(0x5a)), 400);
        c.send('s', sf(1, 'after'));
      }).pcap(),
  },
  {
    name: 'ipv4-fragment-missing',
    ext: 'pcap',
    checks: 'a datagram whose middle fragment never arrives: incomplete fragments and a TCP gap',
    expect: ['ip-fragments-incomplete', 'tcp-gap'],
    build: () =>
      ws((c) => {
        c.send('c', cf(1, 'before'));
        c.sendFragmented('s', sf(2, new Uint8Array(1000).fill(0x5a)), 400, [1]);
        c.send('s', sf(1, 'after'));
      }).pcap(),
  },
  {
    name: 'udp-noise',
    ext: 'pcap',
    checks: 'UDP datagrams (one with a length field past the packet) next to the WebSocket connection',
    expect: [],
    check: allSeven,
    build: () => {
      const c = basic();
      const dns = (payload: Bytes, lenField?: number): Bytes => {
        const d = udp(5353, 53, payload);
        if (lenField !== undefined) new DataView(d.buffer, d.byteOffset).setUint16(4, lenField);
        return ether(0x0800, ipv4('127.0.0.1', '127.0.0.53', 17, d));
      };
      insertAfter(c, 3, { tsUs: c.recs[3]!.tsUs + 1, data: dns(ascii('query')) }, { tsUs: c.recs[3]!.tsUs + 2, data: dns(ascii('bad length'), 4000) });
      return c.pcap();
    },
  },
  // ---------------- TCP reassembly ----------------
  {
    name: 'tcp-gap-mid-frame',
    ext: 'pcap',
    checks: 'one segment in the middle of a 5000-byte frame is not captured: gap, message marked truncated',
    expect: ['tcp-gap'],
    check: someTruncated,
    build: () => {
      const c = ws((cc) => {
        const recs = cc.send('s', sf(2, new Uint8Array(5000).fill(0x33)), 1000);
        cc.recs.splice(cc.recs.indexOf(recs[2]!), 1);
        cc.send('s', sf(1, 'after the gap'));
      });
      return c.pcap();
    },
  },
  {
    name: 'tcp-gap-in-header',
    ext: 'pcap',
    checks: 'the segment holding a frame header is lost: gap, then the decoder resynchronises',
    expect: ['tcp-gap'],
    check: (g) => (g.summary?.messages === 3 ? null : `expected the 3 messages around the lost one, got ${g.summary?.messages}`),
    build: () => {
      const c = ws((cc) => {
        cc.send('s', sf(1, 'one'));
        const lost = cc.send('s', sf(1, 'two'));
        cc.recs.splice(cc.recs.indexOf(lost[0]!), 1);
        cc.send('s', sf(1, 'three'));
        cc.send('s', sf(1, 'four'));
      });
      return c.pcap();
    },
  },
  {
    name: 'tcp-retransmit-conflict',
    ext: 'pcap',
    checks: 'a retransmission with different bytes for the same sequence range (first copy wins)',
    expect: ['tcp-overlap-conflict'],
    build: () => {
      const c = ws((cc) => {
        const seq = cc.seq.s;
        cc.send('s', sf(1, 'original text'));
        cc.push(cc.segment('s', seq, ACK | PSH, sf(1, 'FORGED!! text')));
        cc.send('s', sf(1, 'next'));
      });
      return c.pcap();
    },
  },
  {
    name: 'tcp-retransmit-same',
    ext: 'pcap',
    checks: 'an identical retransmission is not a conflict and does not duplicate the message',
    expect: [],
    absent: ['tcp-overlap-conflict', 'tcp-gap'],
    check: (g) => (g.summary?.messages === 2 ? null : `expected 2 messages, got ${g.summary?.messages}`),
    build: () =>
      ws((cc) => {
        const r = cc.send('s', sf(1, 'original text'));
        cc.push(r[0]!.data);
        cc.send('s', sf(1, 'next'));
      }).pcap(),
  },
  {
    name: 'tcp-seq-wrap',
    ext: 'pcap',
    checks: 'sequence numbers wrap past 2^32 in the middle of a frame (RFC 9293 3.4)',
    expect: [],
    absent: ['tcp-gap', 'tcp-overlap-conflict'],
    check: allSeven,
    build: () => basicPcap({ conv: { isnS: 0xfffffe00, isnC: 0xffffff80 } }),
  },
  {
    name: 'tcp-out-of-order',
    ext: 'pcap',
    checks: 'the segments of a 6000-byte frame arrive in reverse order',
    expect: [],
    absent: ['tcp-gap', 'tcp-overlap-conflict'],
    check: (g) => (g.messages.some((m) => m.includes('op2 len6000 ') && !m.includes(' trunc ')) ? null : 'expected the whole 6000-byte message'),
    build: () => {
      const c = ws((cc) => {
        const recs = cc.send('s', sf(2, Uint8Array.from({ length: 6000 }, (_, i) => (i * 7) & 0xff)), 1000);
        const at = cc.recs.indexOf(recs[0]!);
        cc.recs.splice(at, recs.length, ...recs.slice().reverse());
        cc.send('c', cf(1, 'thanks'));
      });
      return c.pcap();
    },
  },
  {
    name: 'tcp-no-syn',
    ext: 'pcap',
    checks: 'capture starts after the TCP handshake but before the HTTP upgrade',
    expect: [],
    check: allSeven,
    build: () => {
      const c = basic();
      c.recs.splice(0, 3);
      return c.pcap();
    },
  },
  {
    name: 'tcp-rst-mid-frame',
    ext: 'pcap',
    checks: 'a RST arrives in the middle of a frame: the partial message is flushed, nothing hangs',
    expect: ['incomplete-frame'],
    check: someTruncated,
    build: () => {
      const c = ws((cc) => {
        const frame = sf(2, new Uint8Array(3000).fill(1));
        cc.send('s', frame.subarray(0, 1500));
        cc.push(cc.segment('s', cc.seq.s, 0x04 | ACK, new Uint8Array(0)));
      }, { fin: false });
      return c.pcap();
    },
  },
  // ---------------- HTTP upgrade (RFC 6455 section 4) ----------------
  {
    name: 'hs-wrong-accept',
    ext: 'pcap',
    checks: 'Sec-WebSocket-Accept does not match the key (RFC 6455 4.2.2)',
    expect: ['bad-accept'],
    build: () => basicPcap({ res: { accept: acceptFor('AAAAAAAAAAAAAAAAAAAAAA==') } }),
  },
  {
    name: 'hs-bad-version',
    ext: 'pcap',
    checks: 'Sec-WebSocket-Version 8 (RFC 6455 4.1 requires 13)',
    expect: ['bad-version'],
    build: () => basicPcap({ req: { version: '8' } }),
  },
  {
    name: 'hs-missing-key',
    ext: 'pcap',
    checks: 'no Sec-WebSocket-Key header (RFC 6455 4.1)',
    expect: ['missing-key'],
    build: () => basicPcap({ req: { key: null } }),
  },
  {
    name: 'hs-missing-upgrade',
    ext: 'pcap',
    checks: 'the request has no Upgrade header (RFC 6455 4.1)',
    expect: ['bad-upgrade-headers'],
    build: () => basicPcap({ req: { upgrade: null } }),
  },
  {
    name: 'hs-rejected-403',
    ext: 'pcap',
    checks: 'the upgrade is answered 403: failed handshake, no frames decoded from the body',
    expect: ['handshake-rejected'],
    check: (g) => (g.summary?.frames === 0 ? null : 'expected no frames'),
    build: () => {
      const c = new Conv();
      c.open();
      c.send('c', (wsRequestBytes()));
      c.send('s', ascii('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\n\x81\x02hi'));
      c.close();
      return c.pcap();
    },
  },
  {
    name: 'hs-extension-not-offered',
    ext: 'pcap',
    checks: 'the server accepts permessage-deflate that the client never offered (RFC 6455 9.1)',
    expect: ['extension-not-negotiated'],
    build: () => basicPcap({ res: { extensions: DEFLATE } }),
  },
  {
    name: 'hs-protocol-not-offered',
    ext: 'pcap',
    checks: 'the server picks subprotocol "chat" that the client never offered (RFC 6455 4.1)',
    expect: ['protocol-not-negotiated'],
    build: () => basicPcap({ res: { protocol: 'chat' } }),
  },
  {
    name: 'hs-one-byte-segments',
    ext: 'pcap',
    checks: 'request and 101 answer arrive one byte per segment',
    expect: [],
    check: (g) => (g.handshakes.length === 1 && g.handshakes[0]!.includes(' 101 ') ? null : 'expected one 101 handshake'),
    build: () => {
      const c = new Conv();
      c.open();
      c.send('c', wsRequestBytes(), 1);
      c.send('s', (respBytes()), 1);
      c.send('c', cf(1, 'hello'), 1);
      c.close();
      return c.pcap();
    },
  },
  // ---------------- frame header (RFC 6455 section 5.2) ----------------
  {
    name: 'ws-len64-high-bit',
    ext: 'pcap',
    checks: 'a 64-bit payload length of 2^63 (most significant bit set)',
    expect: ['length-high-bit-set'],
    build: () =>
      ws((c) => {
        c.send('s', sf(2, new Uint8Array(20), { declared: 1n << 63n, lenForm: 64 }));
      }).pcap(),
  },
  {
    name: 'ws-len64-2p53-plus-1',
    ext: 'pcap',
    checks: 'a 64-bit payload length of 2^53+1 (not a safe JS integer) with the stream ending early',
    expect: ['incomplete-frame'],
    check: (g) => (g.messages.every((m) => !m.includes('len9007199254740993 ') || m.includes(' trunc ')) ? null : 'a 2^53+1 message cannot be complete'),
    build: () =>
      ws((c) => {
        c.send('s', sf(2, new Uint8Array(200).fill(9), { declared: (1n << 53n) + 1n, lenForm: 64 }));
      }).pcap(),
  },
  {
    name: 'ws-non-minimal-length',
    ext: 'pcap',
    checks: 'a 5-byte payload in the 16-bit and 64-bit length forms (RFC 6455 5.2: minimal bytes MUST be used)',
    expect: ['non-minimal-length'],
    build: () =>
      ws((c) => {
        c.send('s', sf(1, 'hello', { lenForm: 16 }));
        c.send('s', sf(1, 'hello', { lenForm: 64 }));
      }).pcap(),
  },
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map(reservedOpcodeCase),
  {
    name: 'ws-rsv1-without-extension',
    ext: 'pcap',
    checks: 'RSV1 set with no extension negotiated (RFC 6455 5.2)',
    expect: ['rsv-without-extension'],
    build: () => ws((c) => c.send('s', sf(1, 'hi', { rsv1: true }))).pcap(),
  },
  {
    name: 'ws-rsv2',
    ext: 'pcap',
    checks: 'RSV2 set with no extension negotiated',
    expect: ['rsv-without-extension'],
    build: () => ws((c) => c.send('s', sf(1, 'hi', { rsv2: true }))).pcap(),
  },
  {
    name: 'ws-rsv3',
    ext: 'pcap',
    checks: 'RSV3 set with no extension negotiated',
    expect: ['rsv-without-extension'],
    build: () => ws((c) => c.send('c', cf(1, 'hi', { rsv3: true }))).pcap(),
  },
  {
    name: 'ws-masked-server-frame',
    ext: 'pcap',
    checks: 'a server frame that is masked (RFC 6455 5.1)',
    expect: ['masked-server-frame'],
    absent: ['unmasked-client-frame'],
    build: () => ws((c) => c.send('s', sf(1, 'masked by server', { mask: u8(1, 2, 3, 4) }))).pcap(),
  },
  {
    name: 'ws-unmasked-client-frame',
    ext: 'pcap',
    checks: 'a client frame that is not masked (RFC 6455 5.1)',
    expect: ['unmasked-client-frame'],
    absent: ['masked-server-frame'],
    build: () => ws((c) => c.send('c', cf(1, 'not masked', { mask: null }))).pcap(),
  },
  {
    name: 'ws-zero-mask-key',
    ext: 'pcap',
    checks: 'a client mask key of 00000000 (legal but predictable, RFC 6455 5.3)',
    expect: ['zero-mask-key'],
    absent: ['unmasked-client-frame'],
    build: () => ws((c) => c.send('c', cf(1, 'zero key', { mask: u8(0, 0, 0, 0) }))).pcap(),
  },
  // ---------------- fragmentation and control frames (5.4, 5.5) ----------------
  {
    name: 'ws-continuation-without-start',
    ext: 'pcap',
    checks: 'a continuation frame with no message in progress (RFC 6455 5.4)',
    expect: ['unexpected-continuation'],
    build: () =>
      ws((c) => {
        c.send('s', sf(0, 'orphan'));
        c.send('s', sf(1, 'fine'));
      }).pcap(),
  },
  {
    name: 'ws-interleaved-data-message',
    ext: 'pcap',
    checks: 'a new text frame while a fragmented message is unfinished (RFC 6455 5.4)',
    expect: ['interleaved-data-message'],
    build: () =>
      ws((c) => {
        c.send('c', cf(1, 'part one ', { fin: false }));
        c.send('c', cf(1, 'intruder'));
        c.send('c', cf(0, 'part two'));
      }).pcap(),
  },
  {
    name: 'ws-ping-between-fragments',
    ext: 'pcap',
    checks: 'a ping between the fragments of a text message is legal (RFC 6455 5.4)',
    expect: [],
    absent: ['interleaved-data-message', 'unexpected-continuation', 'fragmented-control-frame'],
    check: (g) => (g.messages.some((m) => m.includes('op1 len16 ')) ? null : 'expected the 16-byte reassembled text'),
    build: () =>
      ws((c) => {
        c.send('c', cf(1, 'part one', { fin: false }));
        c.send('c', cf(9, 'ping'));
        c.send('c', cf(0, 'part two'));
        c.send('s', sf(10, 'ping'));
      }).pcap(),
  },
  {
    name: 'ws-fragmented-ping',
    ext: 'pcap',
    checks: 'a ping with FIN clear (control frames must not be fragmented, RFC 6455 5.5)',
    expect: ['fragmented-control-frame'],
    build: () =>
      ws((c) => {
        c.send('c', cf(9, 'pi', { fin: false }));
        c.send('c', cf(0, 'ng'));
      }).pcap(),
  },
  {
    name: 'ws-control-frame-too-long',
    ext: 'pcap',
    checks: 'a ping with a 126-byte payload (RFC 6455 5.5: at most 125)',
    expect: ['control-frame-too-long'],
    build: () => ws((c) => c.send('s', sf(9, new Uint8Array(126).fill(0x70)))).pcap(),
  },
  {
    name: 'ws-pong-mismatch',
    ext: 'pcap',
    checks: 'the pong answering a ping carries different data (RFC 6455 5.5.3)',
    expect: ['pong-mismatch'],
    build: () =>
      ws((c) => {
        c.send('c', cf(9, 'abc'));
        c.send('s', sf(10, 'xyz'));
      }).pcap(),
  },
  {
    name: 'ws-unsolicited-pong',
    ext: 'pcap',
    checks: 'a pong with no ping before it (allowed heartbeat, RFC 6455 5.5.3)',
    expect: ['unsolicited-pong'],
    absent: ['pong-mismatch'],
    build: () => ws((c) => c.send('s', sf(10, 'beat'))).pcap(),
  },
  // ---------------- UTF-8 (5.6, 8.1) ----------------
  {
    name: 'ws-invalid-utf8-text',
    ext: 'pcap',
    checks: 'a text message with bytes ff fe (RFC 6455 8.1)',
    expect: ['invalid-utf8'],
    build: () => ws((c) => c.send('s', sf(1, u8(0x68, 0x69, 0xff, 0xfe)))).pcap(),
  },
  {
    name: 'ws-invalid-utf8-close-reason',
    ext: 'pcap',
    checks: 'a close reason that is not UTF-8 (RFC 6455 5.5.1)',
    expect: ['invalid-utf8'],
    build: () => ws((c) => c.send('c', cf(8, closePayload(1000, u8(0xc3, 0x28))))).pcap(),
  },
  {
    name: 'ws-utf8-split-valid',
    ext: 'pcap',
    checks: 'a euro sign split across two fragments is valid UTF-8 once reassembled',
    expect: [],
    absent: ['invalid-utf8'],
    // "a€b" (61 e2 82 ac 62), reassembled from the two frames built below
    check: (g) => hasMessage(g, 'server', 1, u8(0x61, 0xe2, 0x82, 0xac, 0x62), 2) ?? (g.messages.some((m) => m.includes(' op1 len5 ') && m.includes(' u1 ')) ? null : 'expected it marked valid UTF-8'),
    build: () =>
      ws((c) => {
        c.send('s', sf(1, u8(0x61, 0xe2, 0x82), { fin: false }));
        c.send('s', sf(0, u8(0xac, 0x62)));
      }).pcap(),
  },
  {
    name: 'ws-utf8-split-invalid',
    ext: 'pcap',
    checks: 'a 3-byte sequence started in one fragment and broken in the next',
    expect: ['invalid-utf8'],
    build: () =>
      ws((c) => {
        c.send('s', sf(1, u8(0x61, 0xe2, 0x82), { fin: false }));
        c.send('s', sf(0, u8(0x41, 0x62)));
      }).pcap(),
  },
  // ---------------- close (5.5.1, 7.4) ----------------
  ...[1005, 1006, 999, 5000, 2999].map((code) => closeCodeCase(code, false)),
  closeCodeCase(3000, true),
  {
    name: 'ws-close-payload-1-byte',
    ext: 'pcap',
    checks: 'a close frame with a 1-byte payload (RFC 6455 5.5.1)',
    expect: ['close-payload-too-short'],
    build: () => ws((c) => c.send('c', cf(8, u8(0x03)))).pcap(),
  },
  {
    name: 'ws-frame-after-close',
    ext: 'pcap',
    checks: 'a text frame after the same side sent close (RFC 6455 5.5.1)',
    expect: ['frame-after-close'],
    build: () =>
      ws((c) => {
        c.send('c', cf(8, closePayload(1000)));
        c.send('c', cf(1, 'too late'));
        c.send('s', sf(8, closePayload(1000)));
      }).pcap(),
  },
  // ---------------- permessage-deflate (RFC 7692) ----------------
  {
    name: 'deflate-clean',
    ext: 'pcap',
    checks: 'negotiated permessage-deflate, compressed messages both ways (with context takeover)',
    expect: [],
    absent: ['decompression-failed', 'rsv-without-extension'],
    check: (g) => (g.messages.filter((m) => m.includes(' z1 ') && !m.includes(' trunc ')).length === 3 ? null : 'expected 3 whole compressed messages'),
    build: () =>
      ws(
        (c) => {
          const t = ascii('compress me please, compress me please');
          c.send('c', cf(1, deflateMessage(t), { rsv1: true }));
          c.send('s', sf(1, deflateMessage(t), { rsv1: true }));
          c.send('s', sf(1, deflateMessage(ascii('second, independent stream')), { rsv1: true }));
        },
        { req: { extensions: DEFLATE }, res: { extensions: `${DEFLATE}; server_no_context_takeover; client_no_context_takeover` } },
      ).pcap(),
  },
  {
    name: 'deflate-corrupt',
    ext: 'pcap',
    checks: 'an RSV1 message whose payload is not DEFLATE data (RFC 7692 7.2.2)',
    expect: ['decompression-failed'],
    build: () =>
      ws((c) => c.send('s', sf(1, u8(0xff, 0xff, 0xff, 0xff, 0x13, 0x37), { rsv1: true })), {
        req: { extensions: DEFLATE },
        res: { extensions: DEFLATE },
      }).pcap(),
  },
  {
    name: 'deflate-rsv1-on-continuation',
    ext: 'pcap',
    checks: 'RSV1 set on a continuation frame (RFC 7692 6.1)',
    expect: ['rsv1-on-continuation'],
    build: () =>
      ws(
        (c) => {
          const z = deflateMessage(ascii('fragmented compressed text'));
          c.send('s', sf(1, z.subarray(0, 5), { rsv1: true, fin: false }));
          c.send('s', sf(0, z.subarray(5), { rsv1: true }));
        },
        { req: { extensions: DEFLATE }, res: { extensions: DEFLATE } },
      ).pcap(),
  },
  {
    name: 'deflate-rsv1-on-ping',
    ext: 'pcap',
    checks: 'RSV1 set on a control frame (RFC 7692 6.1)',
    expect: ['rsv1-on-control-frame'],
    build: () => ws((c) => c.send('s', sf(9, 'ping', { rsv1: true })), { req: { extensions: DEFLATE }, res: { extensions: DEFLATE } }).pcap(),
  },
  {
    name: 'deflate-bomb-1gib',
    ext: 'pcap',
    commit: false,
    checks: 'a 1 MiB compressed message that inflates to 1 GiB is cut at the inflate limit (64 MiB)',
    expect: ['decompressed-size-limit'],
    check: someTruncated,
    build: () =>
      ws(
        (c) => {
          c.send('c', cf(1, 'send the bomb'));
          c.send('s', sf(2, bombPayload(), { rsv1: true }), 65000);
          c.send('s', sf(1, 'still alive'));
        },
        { req: { extensions: DEFLATE }, res: { extensions: DEFLATE } },
      ).pcap(),
  },
  {
    name: 'ws-million-empty-continuations',
    ext: 'pcap',
    commit: false,
    checks: 'one text message made of 1,000,000 empty continuation frames: bounded time and memory, fragment list capped',
    expect: ['limit-reached'],
    check: (g) => (g.summary !== undefined && g.summary.frames >= 1_000_002 ? null : 'expected all 1,000,002 frames'),
    build: () => {
      const n = 1_000_000;
      const body = new Uint8Array(2 * n);
      for (let i = 0; i < n; i++) body[2 * i] = 0x00;
      return ws((c) => {
        c.send('s', concat([sf(1, 'start', { fin: false }), body, sf(0, 'end')]), 65000);
      }).pcap();
    },
  },
  {
    name: 'ws-stream-ends-mid-header',
    ext: 'pcap',
    checks: 'the TCP stream ends (FIN) after the first byte of a frame header',
    expect: ['incomplete-frame'],
    check: (g) => (g.summary?.messages === 1 ? null : `expected only the complete message, got ${g.summary?.messages}`),
    build: () =>
      ws((c) => {
        c.send('s', sf(1, 'complete'));
        c.send('s', u8(0x81));
      }).pcap(),
  },
  {
    name: 'ws-stream-ends-mid-payload',
    ext: 'pcap',
    checks: 'the TCP stream ends (FIN) in the middle of a frame payload: message flushed as truncated',
    expect: ['incomplete-frame'],
    check: someTruncated,
    build: () =>
      ws((c) => {
        c.send('s', sf(2, new Uint8Array(1000).fill(4)).subarray(0, 600));
      }).pcap(),
  },
  {
    name: 'ws-many-frames-per-segment',
    ext: 'pcap',
    checks: '300 small frames packed in one TCP segment',
    expect: [],
    check: (g) => (g.summary?.messages === 300 ? null : `expected 300 messages, got ${g.summary?.messages}`),
    build: () =>
      ws((c) => {
        const parts: Bytes[] = [];
        for (let i = 0; i < 300; i++) parts.push(sf(1, `m${i}`));
        c.send('s', concat(parts), 60000);
      }).pcap(),
  },
  {
    name: 'ws-frames-byte-by-byte',
    ext: 'pcap',
    checks: 'frames (7-, 16- and 64-bit lengths) delivered one byte per segment',
    expect: [],
    absent: ['tcp-gap'],
    check: (g) => (g.summary?.messages === 3 ? null : `expected 3 messages, got ${g.summary?.messages}`),
    build: () =>
      ws((c) => {
        c.send('c', concat([cf(1, 'tiny'), cf(2, new Uint8Array(200).fill(2))]), 1);
        const big = cf(2, new Uint8Array(70000).fill(3));
        c.send('c', big.subarray(0, 14), 1);
        c.send('c', big.subarray(14), 60000);
      }).pcap(),
  },  // the subprotocol decoders' malformed inputs (scripts/lib/fuzz-corpus-app.ts)
  ...APP_CASES,
];

function wsRequestBytes(o: HandshakeOpts = {}): Bytes {
  const lines = ['GET /chat HTTP/1.1', 'Host: 127.0.0.1:8080', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${o.key ?? KEY}`, 'Sec-WebSocket-Version: 13', 'Origin: http://127.0.0.1:8080'];
  return ascii(lines.join('\r\n') + '\r\n\r\n');
}

function respBytes(): Bytes {
  return ascii(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(KEY)}\r\n\r\n`);
}

/** The clean exchange captured with a small snap length (records cut, origLen kept). */
function snapCut(snap: number): Bytes {
  const c = basic();
  const recs = c.recs.map((r) => (r.data.length > snap ? { ...r, data: r.data.subarray(0, snap), origLen: r.data.length } : r));
  return pcap(recs, { linkType: LT_ETHERNET, snaplen: snap });
}

