import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { TcpReassembler } from './reassembler';
import type { ReassemblerOptions } from './reassembler';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../types';
import type { ChunkMeta, StreamSink } from '../types';
import { publicCapture } from '../../test/kit/paths';
import { HISTORY_MODES, SegmentFile, type HistoryMode } from '../../test/kit/segment-file';

// Conflicts with delivered bytes are found in a history that copies them or reads them back
// from the capture file (history.ts): every case with a conflict window runs in each mode
// (test/kit/segment-file.ts) and must give the same output.

const MAX = 0xffffffff;
const latin1 = new TextDecoder('latin1');
const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

type Out =
  | ['data', string, number, number] // bytes, skip, packet
  | ['end', string, number] // reason, packet
  | ['conflict', number, number, number]; // offset, length, packet

/** Records every sink call; copies data (the view is only valid during the call). */
class Recorder implements StreamSink {
  out: Out[] = [];
  data(b: Uint8Array, skip: number, meta: ChunkMeta): void {
    this.out.push(['data', latin1.decode(b), skip, meta.packet]);
  }
  end(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    this.out.push(['end', reason, meta.packet]);
  }
  conflict(offset: number, length: number, meta: ChunkMeta): void {
    this.out.push(['conflict', offset, length, meta.packet]);
  }
}

interface Seg {
  seq: number;
  flags?: number;
  data?: string;
  /** bytes of the segment cut by the snap length, after `data` */
  missing?: number;
}
type Step = Seg | 'flush';

interface Case {
  name: string;
  opts?: ReassemblerOptions;
  steps: Step[];
  want: Out[];
  stats?: Partial<TcpReassembler['stats']>;
}

const SYN = (isn: number): Seg => ({ seq: isn, flags: TCP_SYN });

/** Packet number of step i is i + 1; the flush meta too. The history as `mode` says. */
function run(c: Case, mode: HistoryMode = 'copy'): { out: Out[]; r: TcpReassembler } {
  const rec = new Recorder();
  const file = new SegmentFile(mode);
  try {
    const r = new TcpReassembler(rec, { ...c.opts, readBack: file.link });
    feedSteps(r, c.steps, file);
    return { out: rec.out, r };
  } finally {
    file.close();
  }
}

/** Feeds steps to `r` (packet number of step i is i + 1; the flush meta too); payloads go through `file` when given. */
function feedSteps(r: TcpReassembler, steps: Step[], file?: SegmentFile): void {
  steps.forEach((s, i) => {
    const meta = { ts: 1000 + i, packet: i + 1 };
    if (s === 'flush') r.flush(meta);
    else {
      const payload = bytes(s.data ?? '');
      r.segment(s.seq, (s.flags ?? 0) | TCP_ACK, payload, s.missing ?? 0, meta, file ? file.put(payload) : -1);
    }
  });
}

// ISN 999: data starts at 1000 (offset 0).
const cases: Case[] = [
  {
    name: 'delivers in-order segments as they come and ends at the FIN',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1003, data: 'def' }, { seq: 1006, flags: TCP_FIN }],
    want: [['data', 'abc', 0, 2], ['data', 'def', 0, 3], ['end', 'fin', 4]],
  },
  {
    name: 'holds a reordered segment until the bytes before it arrive, with its own packet number',
    steps: [SYN(999), { seq: 1003, data: 'def' }, { seq: 1000, data: 'abc' }, { seq: 1006, data: 'ghi' }, 'flush'],
    want: [['data', 'abc', 0, 3], ['data', 'def', 0, 2], ['data', 'ghi', 0, 4], ['end', 'eof', 5]],
    stats: { outOfOrder: 1, delivered: 9, skipped: 0 },
  },
  {
    name: 'reorders three segments arriving backwards',
    steps: [SYN(999), { seq: 1006, data: 'ghi' }, { seq: 1003, data: 'def' }, { seq: 1000, data: 'abc' }],
    want: [['data', 'abc', 0, 4], ['data', 'def', 0, 3], ['data', 'ghi', 0, 2]],
  },
  {
    name: 'trims the front of a segment overlapping delivered bytes',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1002, data: 'cdef' }],
    want: [['data', 'abc', 0, 2], ['data', 'def', 0, 3]],
    stats: { overlaps: 1 },
  },
  {
    name: 'trims the tail of an in-order segment overlapping buffered bytes (first copy wins)',
    steps: [SYN(999), { seq: 1004, data: 'efg' }, { seq: 1000, data: 'abcde' }],
    want: [['data', 'abcd', 0, 3], ['data', 'efg', 0, 2]],
  },
  {
    name: 'keeps a buffered piece when a later segment covers it on both sides',
    steps: [SYN(999), { seq: 1001, data: 'bcd' }, { seq: 1000, data: 'abcdef' }],
    want: [['data', 'a', 0, 3], ['data', 'bcd', 0, 2], ['data', 'ef', 0, 3]],
  },
  {
    name: 'fills only the holes between buffered pieces from a spanning segment',
    steps: [SYN(999), { seq: 1001, data: 'bc' }, { seq: 1005, data: 'fg' }, { seq: 1001, data: 'bcdefgh' }, { seq: 1000, data: 'a' }],
    want: [['data', 'a', 0, 5], ['data', 'bc', 0, 2], ['data', 'de', 0, 4], ['data', 'fg', 0, 3], ['data', 'h', 0, 4]],
  },
  {
    name: 'drops a segment lying entirely inside a buffered one',
    steps: [SYN(999), { seq: 1001, data: 'bcdef' }, { seq: 1002, data: 'cd' }, { seq: 1000, data: 'a' }],
    want: [['data', 'a', 0, 4], ['data', 'bcdef', 0, 2]],
    stats: { retransmits: 1 },
  },
  {
    name: 'ignores an identical retransmission of delivered bytes',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1000, data: 'abc' }, { seq: 1003, data: 'd' }],
    want: [['data', 'abc', 0, 2], ['data', 'd', 0, 4]],
    stats: { retransmits: 1, conflicts: 0 },
  },
  {
    name: 'reports a conflicting retransmission of buffered bytes and keeps the first copy',
    steps: [SYN(999), { seq: 1003, data: 'def' }, { seq: 1003, data: 'dXf' }, { seq: 1000, data: 'abc' }],
    want: [['conflict', 4, 1, 3], ['data', 'abc', 0, 4], ['data', 'def', 0, 2]],
    stats: { conflicts: 1 },
  },
  {
    name: 'reports the span of differing bytes in an overlap with a buffered piece',
    steps: [SYN(999), { seq: 1002, data: 'cdefg' }, { seq: 1000, data: 'abXdeYgh' }],
    want: [['data', 'ab', 0, 3], ['conflict', 2, 4, 3], ['data', 'cdefg', 0, 2], ['data', 'h', 0, 3]],
  },
  {
    name: 'reports a conflicting retransmission of delivered bytes within the conflict window',
    opts: { conflictWindow: 4 },
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1003, data: 'def' }, { seq: 1001, data: 'bXdeYg' }],
    want: [['data', 'abc', 0, 2], ['data', 'def', 0, 3], ['conflict', 2, 4, 4], ['data', 'g', 0, 4]],
  },
  {
    name: 'checks delivered bytes only as far back as the conflict window reaches',
    opts: { conflictWindow: 2 },
    steps: [SYN(999), { seq: 1000, data: 'abcd' }, { seq: 1000, data: 'XbcY' }],
    want: [['data', 'abcd', 0, 2], ['conflict', 3, 1, 3]],
  },
  {
    name: 'does not look at delivered bytes without a conflict window (zero-copy in-order path)',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1000, data: 'aXc' }],
    want: [['data', 'abc', 0, 2]],
    stats: { retransmits: 1, conflicts: 0 },
  },
  {
    name: 'reassembles a reordered stream crossing 2^32',
    steps: [SYN(MAX - 2), { seq: 2, data: 'ef' }, { seq: 0, data: 'cd' }, { seq: MAX - 1, data: 'ab' }, { seq: 4, flags: TCP_FIN }],
    want: [['data', 'ab', 0, 4], ['data', 'cd', 0, 3], ['data', 'ef', 0, 2], ['end', 'fin', 5]],
  },
  {
    name: 'starts the data at 0 when the ISN is 2^32-1',
    steps: [SYN(MAX), { seq: 3, data: 'def' }, { seq: 0, data: 'abc' }, { seq: MAX, data: 'zab' }],
    want: [['data', 'abc', 0, 3], ['data', 'def', 0, 2]],
  },
  {
    name: 'carries one segment across the wrap and trims its retransmission',
    opts: { conflictWindow: 16 },
    steps: [SYN(MAX - 3), { seq: MAX - 2, data: 'abcdef' }, { seq: MAX, data: 'cdefgh' }],
    want: [['data', 'abcdef', 0, 2], ['data', 'gh', 0, 3]],
    stats: { conflicts: 0 },
  },
  {
    name: 'reports lost first bytes as a skip at flush when the SYN was seen',
    steps: [SYN(999), { seq: 1003, data: 'def' }, 'flush'],
    want: [['data', 'def', 3, 2], ['end', 'eof', 3]],
    stats: { skipped: 3, gaps: 1 },
  },
  {
    name: 'reports a lost middle segment as a skip at flush',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1006, data: 'ghi' }, { seq: 1012, data: 'm' }, 'flush'],
    want: [['data', 'abc', 0, 2], ['data', 'ghi', 3, 3], ['data', 'm', 3, 4], ['end', 'eof', 5]],
    stats: { skipped: 6, delivered: 7 },
  },
  {
    name: 'ends with the FIN packet at flush when the bytes before the FIN were lost',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1010, flags: TCP_FIN }, 'flush'],
    want: [['data', 'abc', 0, 2], ['end', 'fin', 3]],
    stats: { skipped: 7 },
  },
  {
    name: 'marks the first chunk of a mid-stream pickup with skip -1 and drops earlier bytes',
    steps: [{ seq: 5000, data: 'abc' }, { seq: 5003, data: 'def' }, { seq: 4997, data: 'xyz' }, { seq: 4999, data: 'zab' }, 'flush'],
    want: [['data', 'abc', -1, 1], ['data', 'def', 0, 2], ['end', 'eof', 5]],
    stats: { beforeStart: 4, retransmits: 1 },
  },
  {
    name: 'starts a mid-stream pickup at the first data, not at a pure ACK before it',
    steps: [{ seq: 7000 }, { seq: 6990, data: '0123456789' }, { seq: 7000, data: 'ab' }],
    want: [['data', '0123456789', -1, 2], ['data', 'ab', 0, 3]],
  },
  {
    name: 'delivers data carried by the SYN',
    steps: [{ seq: 999, flags: TCP_SYN, data: 'hi' }, { seq: 1002, data: '!' }, { seq: 999, flags: TCP_SYN, data: 'hi' }],
    want: [['data', 'hi', 0, 1], ['data', '!', 0, 2]],
  },
  {
    name: 'remembers a FIN arriving before the data it follows',
    steps: [SYN(999), { seq: 1006, flags: TCP_FIN, data: 'ghi' }, { seq: 1003, data: 'def' }, { seq: 1000, data: 'abc' }],
    want: [['data', 'abc', 0, 4], ['data', 'def', 0, 3], ['data', 'ghi', 0, 2], ['end', 'fin', 2]],
  },
  {
    name: 'remembers a bare FIN arriving early and ends with its packet number',
    steps: [SYN(999), { seq: 1006, flags: TCP_FIN }, { seq: 1000, data: 'abc' }, { seq: 1003, data: 'def' }],
    want: [['data', 'abc', 0, 3], ['data', 'def', 0, 4], ['end', 'fin', 2]],
  },
  {
    name: 'ignores and counts data after the FIN',
    steps: [SYN(999), { seq: 1000, data: 'abc', flags: TCP_FIN }, { seq: 1003, data: 'def' }, { seq: 1004 }, 'flush'],
    want: [['data', 'abc', 0, 2], ['end', 'fin', 2]],
    stats: { afterEnd: 1 },
  },
  {
    name: 'cuts a segment straddling an early FIN and drops buffered bytes past it',
    steps: [SYN(999), { seq: 1010, data: 'klm' }, { seq: 1004, data: 'efgh' }, { seq: 1006, flags: TCP_FIN }, { seq: 1000, data: 'abcd' }],
    want: [['data', 'abcd', 0, 5], ['data', 'ef', 0, 3], ['end', 'fin', 4]],
    stats: { afterEnd: 2 },
  },
  {
    name: 'on RST delivers buffered data with skips over holes, then ends',
    steps: [
      SYN(999),
      { seq: 1000, data: 'abc' },
      { seq: 1006, data: 'ghi' },
      { seq: 1009, data: 'jk' },
      { seq: 1020, data: 'zz' },
      { seq: 1011, flags: TCP_RST },
      { seq: 1003, data: 'def' },
    ],
    want: [['data', 'abc', 0, 2], ['data', 'ghi', 3, 3], ['data', 'jk', 0, 4], ['data', 'zz', 9, 5], ['end', 'rst', 6]],
    stats: { afterEnd: 1 },
  },
  {
    name: 'ends a mid-stream pickup at a first-seen RST without data',
    steps: [{ seq: 42, flags: TCP_RST }, { seq: 42, data: 'late' }, 'flush'],
    want: [['end', 'rst', 1]],
  },
  {
    name: 'ignores keep-alives of zero and one byte at next-1',
    opts: { conflictWindow: 64 },
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1002 }, { seq: 1002, data: '\0' }, { seq: 1003, data: 'def' }],
    want: [['data', 'abc', 0, 2], ['data', 'def', 0, 5]],
    stats: { keepAlives: 2, conflicts: 0, retransmits: 0 },
  },
  {
    name: 'ignores a keep-alive at the end of buffered data while a hole is open',
    steps: [SYN(999), { seq: 1000, data: 'ab' }, { seq: 1004, data: 'ef' }, { seq: 1005, data: '\0' }, { seq: 1005 }, { seq: 1002, data: 'cd' }],
    want: [['data', 'ab', 0, 2], ['data', 'cd', 0, 6], ['data', 'ef', 0, 3]],
    stats: { keepAlives: 2, conflicts: 0, retransmits: 0 },
  },
  {
    name: 'ignores a keep-alive sent right after the SYN',
    steps: [SYN(999), { seq: 999, data: 'x' }, { seq: 1000, data: 'a' }],
    want: [['data', 'a', 0, 3]],
    stats: { keepAlives: 1 },
  },
  {
    name: 'delivers the byte of a zero-window probe once: its retransmission is trimmed',
    steps: [SYN(999), { seq: 1000, data: 'abc' }, { seq: 1003, data: 'd' }, { seq: 1003, data: 'd' }, { seq: 1003, data: 'def' }],
    want: [['data', 'abc', 0, 2], ['data', 'd', 0, 3], ['data', 'ef', 0, 5]],
  },
  {
    name: 'turns a snap-length-cut tail into a skip before the next data',
    steps: [SYN(999), { seq: 1000, data: 'abc', missing: 3 }, { seq: 1006, data: 'ghi' }, { seq: 1009, data: '', missing: 2 }, { seq: 1011, data: 'l' }],
    want: [['data', 'abc', 0, 2], ['data', 'ghi', 3, 3], ['data', 'l', 2, 5]],
    stats: { cutBytes: 5, skipped: 5, delivered: 7 },
  },
  {
    name: 'keeps the cut tail of a buffered segment as a skip when it is flushed in order',
    steps: [SYN(999), { seq: 1006, data: 'gh', missing: 2 }, { seq: 1010, data: 'k' }, { seq: 1000, data: 'abcdef' }],
    want: [['data', 'abcdef', 0, 4], ['data', 'gh', 0, 2], ['data', 'k', 2, 3]],
  },
  {
    name: 'does not invent bytes when a later full copy overlaps a cut tail (first copy wins)',
    steps: [SYN(999), { seq: 1000, data: 'ab', missing: 2 }, { seq: 1000, data: 'abcd' }, { seq: 1004, data: 'e' }],
    want: [['data', 'ab', 0, 2], ['data', 'e', 2, 4]],
  },
  {
    name: 'declares the oldest hole lost when the buffered bytes exceed the bound',
    opts: { maxBufferedBytes: 4 },
    steps: [SYN(999), { seq: 1002, data: 'cd' }, { seq: 1004, data: 'ef' }, { seq: 1007, data: 'hi' }, { seq: 1006, data: 'g' }, { seq: 1000, data: 'ab' }],
    want: [['data', 'cd', 2, 2], ['data', 'ef', 0, 3], ['data', 'g', 0, 5], ['data', 'hi', 0, 4]],
    stats: { gaps: 1, skipped: 2, retransmits: 1 },
  },
  {
    name: 'declares the oldest hole lost when the buffered pieces exceed the count bound',
    opts: { maxSegments: 2 },
    steps: [SYN(999), { seq: 1001, data: 'b' }, { seq: 1003, data: 'd' }, { seq: 1005, data: 'f' }, 'flush'],
    want: [['data', 'b', 1, 2], ['data', 'd', 1, 3], ['data', 'f', 1, 4], ['end', 'eof', 5]],
  },
  {
    name: 'delivers a single segment larger than the bound at once, after its hole',
    opts: { maxBufferedBytes: 3 },
    steps: [SYN(999), { seq: 1002, data: 'cdefgh' }, { seq: 1008, data: 'i' }],
    want: [['data', 'cdefgh', 2, 2], ['data', 'i', 0, 3]],
  },
];

describe('TcpReassembler step tables', () => {
  for (const c of cases) {
    it(c.name, () => {
      for (const mode of c.opts?.conflictWindow ? HISTORY_MODES : (['copy'] as const)) {
        const { out, r } = run(c, mode);
        expect(out, mode).toEqual(c.want);
        if (c.stats) expect(r.stats, mode).toMatchObject(c.stats);
        expect(r.bufferedBytes).toBeLessThanOrEqual(c.opts?.maxBufferedBytes ?? 4 << 20);
      }
    });
  }

  it('hands in-order payloads to the sink as the same view, without copying', () => {
    const seen: Uint8Array[] = [];
    const r = new TcpReassembler({ data: (b) => seen.push(b), end: () => {} });
    const p = bytes('hello');
    r.segment(99, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 1 });
    r.segment(100, TCP_ACK, p, 0, { ts: 0, packet: 2 });
    expect(seen[0]).toBe(p);
  });

  it('copies buffered segments so a reused capture buffer cannot change them', () => {
    const rec = new Recorder();
    const r = new TcpReassembler(rec);
    const buf = bytes('def');
    r.segment(99, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 1 });
    r.segment(103, TCP_ACK, buf, 0, { ts: 0, packet: 2 });
    buf.set(bytes('XXX'));
    r.segment(100, TCP_ACK, bytes('abc'), 0, { ts: 0, packet: 3 });
    expect(rec.out).toEqual([['data', 'abc', 0, 3], ['data', 'def', 0, 2]]);
  });

  it('keeps the meta values of a buffered segment even when the caller reuses the meta object', () => {
    const rec = new Recorder();
    const r = new TcpReassembler(rec);
    const meta = { ts: 1, packet: 1 };
    r.segment(99, TCP_SYN, new Uint8Array(0), 0, meta);
    meta.packet = 2;
    r.segment(103, TCP_ACK, bytes('def'), 0, meta);
    meta.packet = 3;
    r.segment(100, TCP_ACK, bytes('abc'), 0, meta);
    expect(rec.out).toEqual([['data', 'abc', 0, 3], ['data', 'def', 0, 2]]);
  });

  it('keeps exact stream offsets past 4 GiB, where sequence numbers have wrapped around the ISN', () => {
    const isn = 0x12345678;
    const seqAt = (o: number) => (isn + 1 + o) >>> 0;
    const block = new Uint8Array(65536);
    const meta = { ts: 0, packet: 1 };
    let delivered = 0;
    let conflictAt = -1;
    const r = new TcpReassembler({ data: (b) => (delivered += b.length), end: () => {}, conflict: (o) => (conflictAt = o) });
    r.segment(isn, TCP_SYN, new Uint8Array(0), 0, meta);
    // 65537 blocks of 64 KiB: 2^32 + 2^16 bytes, so sequence numbers pass the ISN again.
    const blocks = 65537;
    for (let k = 0; k < blocks; k++) r.segment(seqAt(k * 65536), TCP_ACK, block, 0, meta);
    const end = blocks * 65536;
    expect(delivered).toBe(end);
    expect(r.offset).toBe(end);
    // An out-of-order segment and a conflicting copy of it: the offset is exact past 2^32.
    r.segment(seqAt(end + 10), TCP_ACK, bytes('xyz'), 0, meta);
    r.segment(seqAt(end + 10), TCP_ACK, bytes('xYz'), 0, meta);
    expect(conflictAt).toBe(end + 11);
    expect(r.bufferedBytes).toBe(3);
  });

  it('ends exactly once and ignores everything after the end', () => {
    const rec = new Recorder();
    const r = new TcpReassembler(rec);
    r.segment(10, TCP_FIN, bytes('a'), 0, { ts: 0, packet: 1 });
    r.flush({ ts: 0, packet: 2 });
    r.segment(11, TCP_RST, new Uint8Array(0), 0, { ts: 0, packet: 3 });
    r.flush({ ts: 0, packet: 4 });
    expect(rec.out).toEqual([['data', 'a', -1, 1], ['end', 'fin', 1]]);
    expect(r.ended).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// Properties

/** mulberry32: small deterministic PRNG so each fast-check case is reproducible from a seed */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(a: T[], rnd: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

interface RawSeg {
  off: number;
  len: number;
  /** captured bytes (a prefix of len) */
  cap: number;
  fin: boolean;
}

/** Cuts [0, n) into segments of 1..maxSeg bytes; the last carries the FIN. */
function cutStream(n: number, maxSeg: number, rnd: () => number): RawSeg[] {
  const segs: RawSeg[] = [];
  let off = 0;
  while (off < n) {
    const len = Math.min(n - off, 1 + Math.floor(rnd() * maxSeg));
    segs.push({ off, len, cap: len, fin: false });
    off += len;
  }
  if (segs.length > 0) segs[segs.length - 1].fin = true;
  return segs;
}

/** Random duplicates and overlapping retransmits: arbitrary sub-ranges of the stream. */
function retransmits(n: number, count: number, maxSeg: number, rnd: () => number): RawSeg[] {
  const out: RawSeg[] = [];
  for (let k = 0; k < count && n > 0; k++) {
    const off = Math.floor(rnd() * n);
    const len = Math.min(n - off, 1 + Math.floor(rnd() * maxSeg * 2));
    out.push({ off, len, cap: len, fin: false });
  }
  return out;
}

const ISNS = [0, 1, 0x7ffffffe, 0x7fffffff, 0x80000000, MAX - 1, MAX];

interface Chunk {
  bytes: Uint8Array;
  skip: number;
}

function feed(
  isn: number,
  stream: Uint8Array,
  segs: RawSeg[],
  opts: ReassemblerOptions | undefined,
  check?: (r: TcpReassembler) => void,
  file?: SegmentFile,
): { chunks: Chunk[]; ends: string[]; r: TcpReassembler } {
  const chunks: Chunk[] = [];
  const ends: string[] = [];
  const r = new TcpReassembler(
    {
      data: (b, skip) => chunks.push({ bytes: b.slice(), skip }),
      end: (reason) => ends.push(reason),
    },
    file ? { ...opts, readBack: file.link } : opts,
  );
  r.segment(isn, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 0 });
  segs.forEach((s, i) => {
    const seq = (isn + 1 + s.off) >>> 0;
    const payload = stream.subarray(s.off, s.off + s.cap);
    r.segment(seq, TCP_ACK | (s.fin ? TCP_FIN : 0), payload, s.len - s.cap, { ts: i, packet: i + 1 }, file ? file.put(payload) : -1);
    check?.(r);
  });
  r.flush({ ts: 0, packet: segs.length + 1 });
  return { chunks, ends, r };
}

const streamArb = fc.uint8Array({ minLength: 0, maxLength: 6000 });
const isnArb = fc.oneof(fc.constantFrom(...ISNS), fc.nat(MAX), fc.integer({ min: MAX - 3000, max: MAX }));

describe('TcpReassembler properties', () => {
  it('reassembles any shuffled stream with duplicates and overlapping retransmits exactly', () => {
    fc.assert(
      fc.property(streamArb, isnArb, fc.integer(), fc.integer({ min: 1, max: 1500 }), fc.nat(40), fc.boolean(), (stream, isn, seed, maxSeg, dups, window) => {
        const rnd = prng(seed);
        const segs = shuffle([...cutStream(stream.length, maxSeg, rnd), ...retransmits(stream.length, dups, maxSeg, rnd)], rnd);
        for (const mode of window ? HISTORY_MODES : (['copy'] as const)) {
          const file = new SegmentFile(mode);
          try {
            const { chunks, ends, r } = feed(isn, stream, segs, window ? { conflictWindow: 4096 } : undefined, undefined, file);
            expect(chunks.every((c) => c.skip === 0)).toBe(true);
            expect(Buffer.concat(chunks.map((c) => c.bytes)).equals(Buffer.from(stream))).toBe(true);
            expect(ends).toEqual([stream.length > 0 ? 'fin' : 'eof']);
            expect(r.stats.conflicts).toBe(0);
            expect(r.stats.skipped).toBe(0);
          } finally {
            file.close();
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('puts every delivered byte at its offset when segments are lost, cut or over the bound', () => {
    fc.assert(
      fc.property(
        streamArb.filter((s) => s.length > 0),
        isnArb,
        fc.integer(),
        fc.integer({ min: 1, max: 1500 }),
        fc.nat(20),
        fc.double({ min: 0, max: 0.6, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 8000 })),
        (stream, isn, seed, maxSeg, dups, lossRate, cutRate, maxBufferedBytes) => {
          const rnd = prng(seed);
          const base = cutStream(stream.length, maxSeg, rnd);
          const last = base[base.length - 1];
          // The last segment is kept so the total length is known from the deliveries.
          const kept = base.filter((s) => s === last || rnd() >= lossRate);
          const segs = [...kept, ...retransmits(stream.length, dups, maxSeg, rnd)];
          // Segments holding the last byte stay uncut: its delivery marks the total length.
          for (const s of segs) if (s.off + s.len < stream.length && rnd() < cutRate) s.cap = Math.floor(rnd() * s.len);
          shuffle(segs, rnd);
          const max = maxBufferedBytes ?? 4 << 20;
          const { chunks, ends, r } = feed(isn, stream, segs, { maxBufferedBytes }, (x) => expect(x.bufferedBytes).toBeLessThanOrEqual(max));
          let pos = 0;
          for (const c of chunks) {
            expect(c.skip).toBeGreaterThanOrEqual(0);
            expect(c.bytes.length).toBeGreaterThan(0);
            pos += c.skip;
            expect(Buffer.from(c.bytes).equals(Buffer.from(stream.subarray(pos, pos + c.bytes.length)))).toBe(true);
            pos += c.bytes.length;
          }
          expect(pos).toBe(stream.length);
          expect(r.stats.delivered + r.stats.skipped).toBe(stream.length);
          expect(ends).toEqual(['fin']);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws, never exceeds its bounds and keeps the sink contract on arbitrary segment soup', () => {
    const segArb = fc.record({
      near: fc.boolean(),
      delta: fc.integer({ min: -3000, max: 3000 }),
      seq: fc.nat(MAX),
      flags: fc.oneof(fc.constant(TCP_ACK), fc.nat(0xff)),
      data: fc.uint8Array({ maxLength: 700 }),
      missing: fc.oneof(fc.constant(0), fc.nat(2000)),
    });
    fc.assert(
      fc.property(
        fc.nat(MAX),
        fc.array(segArb, { maxLength: 120 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(128),
        (base, segs, maxBufferedBytes, maxSegments, conflictWindow) => {
          // every sink call, in order: the same in each history mode
          const logs = HISTORY_MODES.map((mode) => {
            const log: string[] = [];
            let ended = 0;
            let chunks = 0;
            const file = new SegmentFile(mode);
            try {
              const r = new TcpReassembler(
                {
                  data: (b, skip, meta) => {
                    expect(ended).toBe(0);
                    expect(b.length).toBeGreaterThan(0);
                    expect(skip === -1 ? chunks === 0 : skip >= 0).toBe(true);
                    chunks++;
                    log.push(`data ${Buffer.from(b).toString('hex')} ${skip} ${meta.packet}`);
                  },
                  end: (reason, meta) => {
                    ended++;
                    log.push(`end ${reason} ${meta.packet}`);
                  },
                  conflict: (offset, length, meta) => {
                    expect(offset).toBeGreaterThanOrEqual(0);
                    expect(length).toBeGreaterThan(0);
                    log.push(`conflict ${offset} ${length} ${meta.packet}`);
                  },
                },
                { maxBufferedBytes, maxSegments, conflictWindow, readBack: file.link },
              );
              segs.forEach((s, i) => {
                const seq = s.near ? (base + s.delta) >>> 0 : s.seq;
                r.segment(seq, s.flags, s.data, s.missing, { ts: i, packet: i + 1 }, file.put(s.data));
                expect(r.bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes);
                expect(r.bufferedBytes).toBeGreaterThanOrEqual(0);
              });
              r.flush({ ts: 0, packet: 0 });
              expect(ended).toBe(1);
              expect(r.bufferedBytes).toBe(0);
              log.push(JSON.stringify(r.stats));
            } finally {
              file.close();
            }
            return log;
          });
          expect(logs[1]).toEqual(logs[0]);
          expect(logs[2]).toEqual(logs[0]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// A real capture, walked with a minimal inline pcap/Ethernet/IPv4/TCP reader (the engine's
// decoder is written elsewhere; this test must not depend on it).

interface CapSeg {
  dir: string;
  seq: number;
  flags: number;
  payload: Uint8Array;
  packet: number;
}

function readPcapTcp(path: string): CapSeg[] {
  const f = readFileSync(path);
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  expect(le || magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1).toBe(true);
  expect(dv.getUint32(20, le)).toBe(1); // LINKTYPE_ETHERNET
  const out: CapSeg[] = [];
  let p = 24;
  let no = 0;
  while (p + 16 <= f.length) {
    const incl = dv.getUint32(p + 8, le);
    const rec = p + 16;
    p = rec + incl;
    no++;
    let e = rec + 12;
    let type = dv.getUint16(e);
    while (type === 0x8100 || type === 0x88a8) {
      e += 4;
      type = dv.getUint16(e);
    }
    if (type !== 0x0800) continue;
    const ip = e + 2;
    const ihl = (f[ip] & 0x0f) * 4;
    const total = dv.getUint16(ip + 2);
    if (f[ip + 9] !== 6) continue;
    const tcp = ip + ihl;
    const doff = (f[tcp + 12] >> 4) * 4;
    const src = `${f.subarray(ip + 12, ip + 16).join('.')}:${dv.getUint16(tcp)}`;
    const dst = `${f.subarray(ip + 16, ip + 20).join('.')}:${dv.getUint16(tcp + 2)}`;
    out.push({
      dir: `${src}>${dst}`,
      seq: dv.getUint32(tcp + 4),
      flags: f[tcp + 13],
      payload: f.subarray(tcp + doff, ip + total),
      packet: no,
    });
  }
  return out;
}

function reassemble(segs: CapSeg[]): { data: Buffer; ends: string[]; r: TcpReassembler } {
  const parts: Buffer[] = [];
  const ends: string[] = [];
  const r = new TcpReassembler({
    data: (b, skip) => {
      expect(skip).toBe(0);
      parts.push(Buffer.from(b));
    },
    end: (reason) => ends.push(reason),
  });
  for (const s of segs) r.segment(s.seq, s.flags, s.payload, 0, { ts: 0, packet: s.packet });
  r.flush({ ts: 0, packet: 0 });
  return { data: Buffer.concat(parts), ends, r };
}

describe('TcpReassembler on zeek__wstunnel-https.pcap', () => {
  const segs = readPcapTcp(publicCapture('zeek__wstunnel-https.pcap'));
  const dirs = [...new Set(segs.map((s) => s.dir))];

  it('reassembles both directions in capture order to the bytes tshark counts', () => {
    expect(dirs.length).toBe(2);
    const client = reassemble(segs.filter((s) => s.dir === '127.0.0.1:39992>127.0.0.1:8888'));
    const server = reassemble(segs.filter((s) => s.dir === '127.0.0.1:8888>127.0.0.1:39992'));
    expect(client.data.subarray(0, 25).toString('latin1')).toBe('GET /v1/events HTTP/1.1\r\n');
    expect(server.data.subarray(0, 34).toString('latin1')).toBe('HTTP/1.1 101 Switching Protocols\r\n');
    // tshark: flows.tcp[0].payload_bytes = 87718 for the whole connection.
    expect(client.data.length + server.data.length).toBe(87718);
    expect(client.ends).toEqual(['fin']);
    expect(server.ends).toEqual(['eof']);
  });

  it('gives the same bytes per direction when the segments after the SYN are shuffled', () => {
    for (const dir of dirs) {
      const inOrder = segs.filter((s) => s.dir === dir);
      const want = reassemble(inOrder);
      for (let seed = 1; seed <= 20; seed++) {
        // SYN stays first (it fixes the ISN); an RST stays last (it ends at once by design).
        const first = inOrder[0];
        expect(first.flags & TCP_SYN).toBe(TCP_SYN);
        const rest = inOrder.slice(1).filter((s) => (s.flags & TCP_RST) === 0);
        const rsts = inOrder.filter((s) => (s.flags & TCP_RST) !== 0);
        const got = reassemble([first, ...shuffle([...rest], prng(seed)), ...rsts]);
        expect(got.data.equals(want.data)).toBe(true);
        expect(got.ends).toEqual(want.ends);
      }
    }
  });
});

describe('retransmission history', () => {
  it('grows its ring as data is delivered and still catches a conflicting retransmit 40 KiB back', () => {
    const stream = Uint8Array.from({ length: 60_000 }, (_, i) => (i * 7 + 3) & 0xff);
    const conflicts: Array<[number, number]> = [];
    const r = new TcpReassembler({ data: () => {}, end: () => {}, conflict: (o, n) => void conflicts.push([o, n]) }, { conflictWindow: 65536 });
    r.segment(999, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 1 });
    for (let o = 0; o < stream.length; o += 1460) r.segment(1000 + o, TCP_ACK, stream.subarray(o, Math.min(stream.length, o + 1460)), 0, { ts: 1, packet: 2 });
    // an identical retransmission far back: nothing to report
    r.segment(1000 + 20_000, TCP_ACK, stream.subarray(20_000, 21_460), 0, { ts: 2, packet: 3 });
    expect(conflicts).toEqual([]);
    // the same range with 3 bytes changed
    const bad = stream.slice(20_000, 21_460);
    bad[100] ^= 1;
    bad[101] ^= 1;
    bad[102] ^= 1;
    r.segment(1000 + 20_000, TCP_ACK, bad, 0, { ts: 3, packet: 4 });
    expect(conflicts).toEqual([[20_100, 3]]);
  });

  it('catches a conflicting retransmit of the last small message while its ring is still small', () => {
    const conflicts: number[] = [];
    const r = new TcpReassembler({ data: () => {}, end: () => {}, conflict: (o) => void conflicts.push(o) }, { conflictWindow: 65536 });
    r.segment(0, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 1 });
    for (let i = 0, s = 1; i < 100; i++, s += 40) r.segment(s, TCP_ACK, new Uint8Array(40).fill(i), 0, { ts: i, packet: i + 2 });
    r.segment(1 + 99 * 40, TCP_ACK, new Uint8Array(40).fill(99), 0, { ts: 200, packet: 300 });
    expect(conflicts).toEqual([]);
    r.segment(1 + 99 * 40, TCP_ACK, new Uint8Array(40).fill(7), 0, { ts: 201, packet: 301 });
    expect(conflicts).toEqual([99 * 40]);
  });
});

describe('spare history rings', () => {
  it('a ring handed over from an ended stream holds none of its bytes for the next stream', () => {
    const window = 65536;
    // stream A fills a full-size ring with 0xaa and ends: its ring becomes a spare
    const a = new TcpReassembler({ data: () => {}, end: () => {} }, { conflictWindow: window });
    a.segment(0, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 1 });
    for (let o = 0; o < 70_000; o += 1400) a.segment(1 + o, TCP_ACK, new Uint8Array(1400).fill(0xaa), 0, { ts: 1, packet: 2 });
    a.segment(1 + 70_000, TCP_FIN | TCP_ACK, new Uint8Array(0), 0, { ts: 2, packet: 3 });
    expect(a.ended).toBe(true);
    // stream B takes a ring: an identical retransmission of its own bytes is no conflict, a
    // changed one is reported at the changed byte, and bytes it never delivered are not compared
    const conflicts: Array<[number, number]> = [];
    const b = new TcpReassembler({ data: () => {}, end: () => {}, conflict: (o, n) => void conflicts.push([o, n]) }, { conflictWindow: window });
    b.segment(100, TCP_SYN, new Uint8Array(0), 0, { ts: 3, packet: 4 });
    b.segment(101, TCP_ACK, new Uint8Array(50).fill(0x01), 0, { ts: 4, packet: 5 });
    b.segment(101, TCP_ACK, new Uint8Array(50).fill(0x01), 0, { ts: 5, packet: 6 });
    expect(conflicts).toEqual([]);
    const changed = new Uint8Array(60).fill(0x01);
    changed[10] = 0xaa;
    b.segment(101, TCP_ACK, changed, 0, { ts: 6, packet: 7 });
    expect(conflicts).toEqual([[10, 1]]);
    expect(b.offset).toBe(60);
  });
});

describe('reset', () => {
  it('makes a used reassembler reassemble the next stream exactly like a new one', () => {
    const opts = { conflictWindow: 65536, maxBufferedBytes: 8 };
    // the first stream leaves every kind of state behind: a hole with buffered bytes, a ring,
    // an early FIN, an acknowledgment, counters
    const used: Step[] = [SYN(999), { seq: 1000, data: 'abcd' }, { seq: 1006, data: 'gh' }, { seq: 1009, flags: TCP_FIN }, { seq: 1000, data: 'abXd' }];
    // the next one: mid-stream pickup (no SYN), reorder, a retransmission that conflicts, a gap over the bound
    const next: Step[] = [{ seq: 5000, data: 'xy' }, { seq: 5004, data: 'zz' }, { seq: 5002, data: 'vw' }, { seq: 5000, data: 'xQ' }, { seq: 5020, data: '0123456789' }, 'flush'];
    const fresh = new Recorder();
    const f = new TcpReassembler(fresh, opts);
    feedSteps(f, next);
    const rec = new Recorder();
    const r = new TcpReassembler(rec, opts);
    feedSteps(r, used);
    r.acknowledge(1003);
    expect(r.bufferedBytes).toBeGreaterThan(0);
    r.reset();
    rec.out = [];
    feedSteps(r, next);
    expect(rec.out).toEqual(fresh.out);
    expect(r.stats).toEqual(f.stats);
    expect([r.offset, r.bufferedBytes, r.ended]).toEqual([f.offset, f.bufferedBytes, f.ended]);
  });
});
