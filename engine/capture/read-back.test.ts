/**
 * Reading delivered bytes back from the capture file (engine/tcp/history.ts): the file source's
 * positional reader and its lifetime, the records' `filePos`, the TCP payload's `payloadPos`,
 * and the pipeline finding the same retransmission conflicts by reading back as by copying
 * (a gzip'd copy of the same capture has no file positions, so its history copies).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCaptureFile } from './file-source';
import { CaptureParser } from './pcap-parser';
import { NetDecoder } from '../net/decode';
import { Pipeline } from '../flow/pipeline';
import { analyzeFile } from '../analyze';
import type { CaptureFileReader, CaptureSink, PacketRecord } from '../types';
import type { EngineEvent, FindingEvent } from '../../shared/events';
import { ACK, Conv, concat } from '../../test/kit/capture';
import { sf } from '../../test/kit/websocket';
import { PUBLIC_CAPTURES as PUBLIC } from '../../test/kit/paths';

let tmp = '';
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'wsscope-readback-')));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** this process's file descriptors open on `path` (Linux /proc) */
function fdsOn(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
}

describe('the file source reader', () => {
  it('gives every pcap and pcapng record the file offset of its bytes, readable back while the file is read', async () => {
    for (const [name, count] of [
      ['arkime__websocket.pcap', 19],
      ['emmunaf-websocket-dissector-plugin__test.pcapng', 758],
    ] as const) {
      let reader: CaptureFileReader | null = null;
      let records = 0;
      const buf = new Uint8Array(65536);
      const sink: CaptureSink = {
        fileReader: (r) => (reader = r ?? reader),
        packet: (rec: PacketRecord) => {
          records++;
          const pos = rec.filePos ?? -1;
          expect(pos, `${name} #${rec.no}`).toBeGreaterThan(0);
          expect(reader?.readAt(pos, buf, rec.data.length)).toBe(rec.data.length);
          expect(Buffer.from(buf.subarray(0, rec.data.length)).equals(Buffer.from(rec.data)), `${name} #${rec.no}`).toBe(true);
        },
      };
      // small reads: records straddle them and are assembled in the parser's own buffer
      await readCaptureFile(join(PUBLIC, name), sink, { chunkSize: 4099 });
      expect(records).toBe(count);
    }
  });

  it('gives no reader and no file positions for a gzip file', async () => {
    const path = join(tmp, 'arkime.pcap.gz');
    writeFileSync(path, gzipSync(readFileSync(join(PUBLIC, 'arkime__websocket.pcap'))));
    const positions = new Set<number>();
    let readers = 0;
    await readCaptureFile(path, { fileReader: () => void readers++, packet: (rec) => void positions.add(rec.filePos ?? -1) });
    expect(readers).toBe(0);
    expect([...positions]).toEqual([-1]);
  });

  it('withdraws the reader and closes the file when the read ends, when the sink throws and when it is aborted', async () => {
    const path = join(tmp, 'lifetime.pcapng');
    copyFileSync(join(PUBLIC, 'emmunaf-websocket-dissector-plugin__test.pcapng'), path);
    const magic = new Uint8Array(4);
    for (const how of ['done', 'sink error', 'abort'] as const) {
      const calls: Array<CaptureFileReader | null> = [];
      const ctl = new AbortController();
      let open: string[] = [];
      const sink: CaptureSink = {
        fileReader: (r) => void calls.push(r),
        packet: (rec) => {
          if (rec.no === 1) open = fdsOn(path);
          if (how === 'sink error' && rec.no === 3) throw new Error('sink bug');
        },
      };
      const done = readCaptureFile(path, sink, { chunkSize: 1000, signal: ctl.signal, onProgress: (n) => how === 'abort' && n > 5000 && ctl.abort(new Error('cancelled')) });
      if (how === 'done') await done;
      else await expect(done).rejects.toThrow(how === 'abort' ? 'cancelled' : 'sink bug');
      // during the read: one descriptor on the file, the reader reading it
      expect(open, how).toHaveLength(1);
      expect(calls.length, how).toBe(2);
      const reader = calls[0] as CaptureFileReader;
      expect(calls[1], how).toBeNull();
      // after: no descriptor left, and the reader answers "over" instead of reading, even
      // when the descriptor's number now belongs to another file (POSIX hands out the lowest)
      expect(fdsOn(path), how).toEqual([]);
      const other = openSync(join(PUBLIC, 'arkime__websocket.pcap'), 'r');
      try {
        expect(reader.readAt(0, magic, 4), how).toBe(-1);
      } finally {
        closeSync(other);
      }
    }
  });
});

/**
 * A WebSocket server stream of 40 text messages, one segment of it sent as IPv4 fragments
 * (its payload comes in a new buffer: no file position), then retransmissions of delivered
 * bytes: identical, changed, and changed across the fragmented part. Returns the capture and
 * the expected conflicts (stream offset and length).
 */
function retransmissions(): { conv: Conv; conflicts: Array<[number, number]> } {
  const c = new Conv().upgrade();
  const stream = concat(Array.from({ length: 40 }, (_, i) => sf(1, `message ${i} `.repeat(100).slice(0, 1000))));
  const start = c.seq.s;
  const base = (start - 5001) >>> 0; // the 101 answer came first in this direction
  c.send('s', stream.subarray(0, 20_000), 1400);
  c.sendFragmented('s', stream.subarray(20_000, 21_000), 256);
  c.send('s', stream.subarray(21_000), 1400);
  const again = (off: number, len: number, flip: number[]): void => {
    const b = stream.slice(off, off + len);
    for (const f of flip) b[f - off] ^= 0x20;
    c.push(c.segment('s', (start + off) >>> 0, ACK, b));
  };
  again(1000, 1400, []);
  again(5000, 700, [5100]);
  again(19_900, 300, [19_950, 20_100]);
  again(20_500, 1000, [21_400]);
  again(39_000, 1000, [39_001, 39_998]);
  c.close();
  return {
    conv: c,
    conflicts: [
      [base + 5100, 1],
      [base + 19_950, 151],
      [base + 21_400, 1],
      [base + 39_001, 998],
    ],
  };
}

/** the pipeline over `path`, as analyzeFile drives it, counting the reads back */
async function decode(path: string): Promise<{ events: EngineEvent[]; reads: number }> {
  const events: EngineEvent[] = [];
  const pipe = new Pipeline((e) => events.push(e));
  let reads = 0;
  const sink: CaptureSink = {
    packet: (r) => pipe.packet(r),
    problem: (p) => pipe.problem(p),
    fileReader: (r) => pipe.fileReader(r && { readAt: (pos, dst, len) => (reads++, r.readAt(pos, dst, len)) }),
  };
  await readCaptureFile(path, sink);
  pipe.finish();
  return { events, reads };
}

describe('conflicts found by reading delivered bytes back', () => {
  it('points a TCP payload at its bytes in the file, and a reassembled datagram nowhere', () => {
    const bytes = retransmissions().conv.pcap();
    const net = new NetDecoder();
    let inFile = 0;
    let reassembled = 0;
    const p = new CaptureParser(
      {
        packet: (rec) => {
          const d = net.decode(rec);
          if (d === null || d.payload.length === 0) return;
          if (d.payloadPos < 0) {
            reassembled++;
            return;
          }
          inFile++;
          expect(Buffer.from(bytes.subarray(d.payloadPos, d.payloadPos + d.payload.length)).equals(Buffer.from(d.payload))).toBe(true);
        },
      },
      { filePositions: true },
    );
    p.push(bytes);
    p.end();
    expect(net.stats.reassembled).toBe(1);
    expect(reassembled).toBe(1);
    expect(inFile).toBeGreaterThan(30);
  });

  it('reports the same conflicts, and every other event, from a plain file (read back) as from its gzip copy (copied)', async () => {
    const { conv, conflicts } = retransmissions();
    const plain = join(tmp, 'retransmissions.pcap');
    const ng = join(tmp, 'retransmissions.pcapng');
    const gz = join(tmp, 'retransmissions.pcap.gz');
    writeFileSync(plain, conv.pcap());
    writeFileSync(ng, conv.pcapng());
    writeFileSync(gz, gzipSync(conv.pcap()));
    const fromPlain = await decode(plain);
    const fromNg = await decode(ng);
    const fromGz = await decode(gz);
    const found = fromPlain.events
      .filter((e): e is FindingEvent => e.type === 'finding' && e.id === 'tcp-overlap-conflict')
      .map((f) => {
        const m = /^(\d+) retransmitted bytes at stream offset (\d+) /.exec(f.text);
        return [Number(m?.[2]), Number(m?.[1])];
      });
    expect(found).toEqual(conflicts);
    expect(fromPlain.reads).toBeGreaterThan(0);
    expect(fromNg.reads).toBeGreaterThan(0);
    expect(fromGz.reads).toBe(0);
    expect(fromGz.events).toEqual(fromPlain.events);
    const noSummary = (evs: EngineEvent[]) => evs.filter((e) => e.type !== 'summary');
    expect(noSummary(fromNg.events)).toEqual(noSummary(fromPlain.events));
    // analyzeFile is that same pipeline on that same file source
    const viaAnalyze: EngineEvent[] = [];
    await analyzeFile(plain, (e) => viaAnalyze.push(e));
    expect(viaAnalyze).toEqual(fromPlain.events);
  });
});
