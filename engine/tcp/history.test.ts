import { describe, it, expect, afterEach } from 'vitest';
import { TcpReassembler } from './reassembler';
import { MAX_ENTRIES } from './history';
import { TCP_ACK, TCP_SYN } from '../types';
import { SegmentFile, type HistoryMode } from '../../test/kit/segment-file';

// The conflict history keeps delivered bytes as file positions or copies (history.ts); these
// drive a TcpReassembler with a 64 KiB window, as the pipeline does, over a real file.

const WINDOW = 65536;
const ISN = 999;
const files: SegmentFile[] = [];
afterEach(() => {
  for (const f of files.splice(0)) f.close();
});

/** deterministic stream bytes */
const streamBytes = (n: number, salt = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + salt * 7 + (i >> 8)) & 0xff);

interface Driver {
  r: TcpReassembler;
  file: SegmentFile;
  conflicts: Array<[number, number]>;
  /** the segment at stream offset `off`; `copy` forces no file position; returns the file position given */
  send(off: number, payload: Uint8Array, copy?: boolean): number;
}

function driver(mode: HistoryMode): Driver {
  const file = new SegmentFile(mode);
  files.push(file);
  const conflicts: Array<[number, number]> = [];
  const r = new TcpReassembler({ data: () => {}, end: () => {}, conflict: (o, n) => void conflicts.push([o, n]) }, { conflictWindow: WINDOW, readBack: file.link });
  r.segment(ISN, TCP_SYN, new Uint8Array(0), 0, { ts: 0, packet: 1 });
  let packet = 2;
  return {
    r,
    file,
    conflicts,
    send(off, payload, copy = false) {
      const pos = copy ? -1 : file.put(payload);
      r.segment((ISN + 1 + off) >>> 0, TCP_ACK, payload, 0, { ts: packet, packet: packet++ }, pos);
      return pos;
    },
  };
}

/** `stream` sent in order in segments of `seg` bytes; returns their file positions */
function sendStream(d: Driver, stream: Uint8Array, seg: number): number[] {
  const pos: number[] = [];
  for (let o = 0; o < stream.length; o += seg) pos.push(d.send(o, stream.subarray(o, Math.min(stream.length, o + seg))));
  return pos;
}

/** stream[off, off + len) with the bytes at `changed` (absolute offsets) flipped */
function altered(stream: Uint8Array, off: number, len: number, changed: number[]): Uint8Array {
  const b = stream.slice(off, off + len);
  for (const c of changed) b[c - off] ^= 0x5a;
  return b;
}

describe('delivered bytes kept as file positions', () => {
  it('reads nothing back while the stream is in order, and only the overlapped bytes on a retransmission', () => {
    const stream = streamBytes(50_000);
    const d = driver('file');
    sendStream(d, stream, 1448);
    expect(d.file.reads).toBe(0);
    // an identical retransmission: read back, no conflict
    d.send(10_000, stream.subarray(10_000, 11_448));
    expect(d.conflicts).toEqual([]);
    const reads = d.file.reads;
    expect(reads).toBeGreaterThan(0);
    d.send(20_000, altered(stream, 20_000, 1448, [20_100, 20_102]));
    expect(d.conflicts).toEqual([[20_100, 3]]);
  });

  it('finds the same conflicts as the copying history when the window holds more segments than entries', () => {
    // 20-byte segments: 3276 of them in the window, far more than MAX_ENTRIES file entries;
    // as the window slides, file entries and copies alternate
    expect(WINDOW / 20).toBeGreaterThan(MAX_ENTRIES * 5);
    const stream = streamBytes(150_000, 1);
    const probes: Array<[number, number, number[]]> = [
      [100, 40, [110]], // long out of the window
      [84_000, 1000, [84_400, 84_900]], // the window starts at 150,000 - 65,536 = 84,464
      [100_000, 300, [100_000, 100_299]], // across many segments
      [135_000, 100, [135_010, 135_050]], // where file entries came back as old ones left the window
      [149_000, 1000, [149_500]], // the newest
      [120_000, 2, []], // identical
    ];
    const results = (['copy', 'file', 'mixed'] as const).map((mode) => {
      const d = driver(mode);
      sendStream(d, stream, 20);
      for (const [off, len, changed] of probes) d.send(off, altered(stream, off, len, changed));
      return d;
    });
    expect(results[0].conflicts).toEqual([
      [84_900, 1],
      [100_000, 300],
      [135_010, 41],
      [149_500, 1],
    ]);
    expect(results[1].conflicts).toEqual(results[0].conflicts);
    expect(results[2].conflicts).toEqual(results[0].conflicts);
    expect(results[1].file.reads).toBeGreaterThan(0);
  });

  it('keeps copied bytes in the window while file bytes grow it, and compares both kinds in one retransmission', () => {
    // a copy, 30 KB of file bytes, another copy (the ring grows past its first 4 KiB), more file bytes
    const stream = streamBytes(61_000, 2);
    const runs: Array<[number, number, boolean]> = [
      [0, 100, true],
      [100, 30_000, false],
      [30_100, 5_000, true],
      [35_100, 25_900, false],
    ];
    const results = (['copy', 'file'] as const).map((mode) => {
      const d = driver(mode);
      for (const [off, len, copy] of runs) for (let o = off; o < off + len; o += 1000) d.send(o, stream.subarray(o, Math.min(off + len, o + 1000)), copy);
      d.send(0, altered(stream, 0, 300, [50, 250])); // the first copy and the file bytes after it
      d.send(30_000, altered(stream, 30_000, 200, [30_150])); // the second copy
      d.send(35_000, altered(stream, 35_000, 200, [35_050, 35_150])); // copy, then file bytes
      return d.conflicts;
    });
    expect(results[0]).toEqual([
      [50, 201],
      [30_150, 1],
      [35_050, 101],
    ]);
    expect(results[1]).toEqual(results[0]);
  });

  it('compares only the last 64 KiB of the run, as the copying history does', () => {
    const stream = streamBytes(100_000, 3);
    const results = (['copy', 'file'] as const).map((mode) => {
      const d = driver(mode);
      sendStream(d, stream, 1400);
      // 100,000 - 65,536 = 34,464: the window starts inside this retransmission
      d.send(34_000, altered(stream, 34_000, 1000, [34_100, 34_900]));
      return d.conflicts;
    });
    expect(results[0]).toEqual([[34_900, 1]]);
    expect(results[1]).toEqual(results[0]);
  });

  it('reads the file about once per window in a burst of retransmissions, with the findings of the copying history', () => {
    // every segment sent twice, the second copy changed (scripts/gen-bombs.ts many-findings)
    const stream = streamBytes(300_000, 7);
    const results = (['copy', 'file'] as const).map((mode) => {
      const d = driver(mode);
      sendStream(d, stream.subarray(0, 100_000), 1000);
      for (let o = 100_000; o < stream.length; o += 1000) {
        d.send(o, stream.subarray(o, o + 1000));
        d.send(o, altered(stream, o, 1000, [o + 500]));
      }
      return d;
    });
    expect(results[0].conflicts).toHaveLength(200);
    expect(results[0].conflicts[0]).toEqual([100_500, 1]);
    expect(results[1].conflicts).toEqual(results[0].conflicts);
    // 200 retransmissions over 200 KB: the first of each 64 KiB reads, the rest find copies
    expect(results[1].file.reads).toBeGreaterThan(0);
    expect(results[1].file.reads).toBeLessThanOrEqual(4);
  });

  it('treats bytes the file no longer has as not comparable when it is truncated under the reader', () => {
    const stream = streamBytes(10_000, 4);
    const d = driver('file');
    const pos = sendStream(d, stream, 1000);
    // the file now ends in the middle of the 6th segment (offsets 5000..5999)
    d.file.truncate(pos[5] + 500);
    // (the retransmissions are not appended to the file: it stays cut)
    d.send(1000, altered(stream, 1000, 1000, [1500]), true); // still in the file: reported
    d.send(7000, altered(stream, 7000, 1000, [7500]), true); // past the end: a short read, nothing
    d.send(5000, altered(stream, 5000, 1000, [5100]), true); // half there: the segment is not comparable
    d.send(4500, altered(stream, 4500, 2000, [4600, 5600, 6200]), true); // only the complete segment's byte
    expect(d.conflicts).toEqual([
      [1500, 1],
      [4600, 1],
    ]);
  });

  it('does not report a file rewritten in place as a conflict (its first byte changed)', () => {
    const stream = streamBytes(5000, 5);
    const d = driver('file');
    const pos = sendStream(d, stream, 1000);
    d.file.overwrite(pos[2], new Uint8Array(1000).fill(0x33));
    // the true bytes retransmitted: what the file holds now is not what was delivered
    d.send(2000, stream.subarray(2000, 3000));
    d.send(1900, altered(stream, 1900, 300, [1950, 2050]));
    d.send(2500, altered(stream, 2500, 100, [2550])); // from the middle of the rewritten bytes
    expect(d.conflicts).toEqual([[1950, 1]]);
  });

  it('compares nothing kept as a file position once the read of the file is over, and copies what comes after', () => {
    const stream = streamBytes(6000, 6);
    const d = driver('file');
    sendStream(d, stream.subarray(0, 3000), 1000);
    d.file.link.reader = null; // the file source withdrew its reader
    for (let o = 3000; o < 6000; o += 1000) d.send(o, stream.subarray(o, o + 1000));
    d.send(500, altered(stream, 500, 1000, [600]));
    d.send(4000, altered(stream, 4000, 1000, [4200]));
    expect(d.conflicts).toEqual([[4200, 1]]);
    expect(d.file.reads).toBe(0);
  });
});
