import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureFileError, readCaptureFile } from './file-source';
import { CaptureParser } from './pcap-parser';
import type { CaptureProblem, CaptureSink, PacketRecord } from '../types';

import { CAPTURE_FIXTURES as FIX, PUBLIC_CAPTURES as PUBLIC } from '../../test/kit/paths';

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-fs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Got {
  recs: string[];
  problems: CaptureProblem[];
  sink: CaptureSink;
}
function collector(): Got {
  const g: Got = { recs: [], problems: [], sink: { packet: () => undefined } };
  g.sink = {
    packet: (r: PacketRecord) => g.recs.push(`${r.no} ${r.ts} ${r.iface} ${r.linkType} ${r.origLen} ${Buffer.from(r.data).toString('hex')}`),
    problem: (p) => g.problems.push(p),
  };
  return g;
}
function inMemory(bytes: Uint8Array): string[] {
  const g = collector();
  const p = new CaptureParser(g.sink);
  p.push(bytes);
  p.end();
  return g.recs;
}

describe('readCaptureFile', () => {
  it('streams a capture in small reads and gives the records a single in-memory parse gives, with progress up to the file size', async () => {
    const path = join(PUBLIC, 'emmunaf-websocket-dissector-plugin__test.pcapng');
    const bytes = new Uint8Array(readFileSync(path));
    const g = collector();
    const progress: number[] = [];
    const res = await readCaptureFile(path, g.sink, { chunkSize: 4099, onProgress: (n, total) => progress.push(n, total) });
    expect(res).toEqual({ format: 'pcapng', bytes: bytes.length, packets: 758, gzip: false });
    expect(g.recs).toEqual(inMemory(bytes));
    expect(g.problems).toEqual([]);
    const reads = progress.filter((_, i) => i % 2 === 0);
    expect(reads.every((n, i) => i === 0 || n > reads[i - 1])).toBe(true);
    expect(reads[reads.length - 1]).toBe(bytes.length);
    expect(progress[1]).toBe(bytes.length);
  });

  it('reads a gzip-compressed pcapng (gzip -9) like the plain file', async () => {
    const g = collector();
    const res = await readCaptureFile(join(FIX, 'arkime.pcapng.gz'), g.sink, { chunkSize: 512 });
    expect(res).toMatchObject({ format: 'pcapng', packets: 19, gzip: true });
    expect(g.recs).toEqual(inMemory(new Uint8Array(readFileSync(join(FIX, 'arkime.pcapng')))));
  });

  it('reports a gzip stream cut short as a truncated capture and keeps the records decoded before', async () => {
    const gz = readFileSync(join(FIX, 'arkime.pcapng.gz'));
    const path = join(tmp, 'cut.pcapng.gz');
    writeFileSync(path, gz.subarray(0, gz.length - 300));
    const g = collector();
    const res = await readCaptureFile(path, g.sink);
    expect(res.gzip).toBe(true);
    expect(res.packets).toBeGreaterThan(0);
    expect(res.packets).toBeLessThan(19);
    expect(g.problems.map((p) => p.kind)).toContain('truncated-capture');
  });

  it('rejects a missing file with code not-found', async () => {
    const err = await readCaptureFile(join(tmp, 'nope.pcap'), collector().sink).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaptureFileError);
    expect(err).toMatchObject({ code: 'not-found' });
    expect((err as Error).message).toMatch(/nope\.pcap: no such file/);
  });

  it('rejects a text file, an empty file and gzip-compressed text with code not-a-capture, before any record', async () => {
    const empty = join(tmp, 'empty.pcap');
    writeFileSync(empty, '');
    const gzText = join(tmp, 'text.gz');
    writeFileSync(gzText, gzipSync(Buffer.from('hello, not a capture')));
    for (const path of [join(FIX, 'not-a-capture.txt'), empty, gzText]) {
      const g = collector();
      const err = await readCaptureFile(path, g.sink).catch((e: unknown) => e);
      expect(err, path).toMatchObject({ code: 'not-a-capture' });
      expect(g.recs).toEqual([]);
    }
  });

  it('rejects a directory with code io', async () => {
    await expect(readCaptureFile(tmp, collector().sink)).rejects.toMatchObject({ code: 'io' });
  });

  it('stops when its signal aborts', async () => {
    const ctl = new AbortController();
    const g = collector();
    const path = join(PUBLIC, 'emmunaf-websocket-dissector-plugin__test.pcapng');
    const p = readCaptureFile(path, g.sink, { chunkSize: 1000, signal: ctl.signal, onProgress: (n) => n > 5000 && ctl.abort(new Error('user cancelled')) });
    await expect(p).rejects.toThrow('user cancelled');
    expect(g.recs.length).toBeLessThan(758);
  });

  it("lets a sink's own exception through unchanged, for plain and gzip files", async () => {
    for (const f of [join(PUBLIC, 'arkime__websocket.pcap'), join(FIX, 'arkime.pcapng.gz')]) {
      const boom = new TypeError('sink bug');
      const err = await readCaptureFile(f, { packet: (r) => { if (r.no === 3) throw boom; } }).catch((e: unknown) => e);
      expect(err).toBe(boom);
    }
  });

  it('reports damage inside a file through the sink, not as an error', async () => {
    const g = collector();
    const res = await readCaptureFile(join(FIX, 'truncated.pcap'), g.sink, { chunkSize: 100 });
    expect(res.packets).toBe(9);
    expect(g.problems.map((p) => p.kind)).toEqual(['truncated-capture']);
  });
});
