import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiError, Batch, ProgressInfo, PushName, PushPayloads, SessionInfo } from '../../shared/api';
import { CaptureFileError } from '../capture/file-source';
import { analyzeFile } from '../pipeline';
import { BatchPump } from './pump';
import { Sessions } from './sessions';
import type { Analyzer } from './types';
import { batchRows } from '../../shared/row-block';

// 1743 bytes, 15 packets, 7 messages (test/corpus/clean-baseline.expected.json)
const CLEAN = fileURLToPath(new URL('../../test/corpus/clean-baseline.pcap', import.meta.url));
const GZIP = fileURLToPath(new URL('../../test/corpus/gzip-capture.pcap.gz', import.meta.url));

type Push = { [K in PushName]: [K, PushPayloads[K]] }[PushName];

let dir: string;
let pushes: Push[];
let pump: BatchPump;
let sessions: Sessions;

function make(analyze: Analyzer = analyzeFile): Sessions {
  const push = (name: PushName, payload: unknown): void => void pushes.push([name, payload] as Push);
  pump = new BatchPump({ push, intervalMs: 10, source: () => sessions.store });
  sessions = new Sessions({ push, pump, analyze, workDir: join(dir, 'work'), pipeline: {} });
  return sessions;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-sessions-'));
  pushes = [];
  make();
});

afterEach(async () => {
  pump.close();
  await sessions.cancelAnalysis(new Error('test over'));
  await sessions.close();
  rmSync(dir, { recursive: true, force: true });
});

const of = <K extends PushName>(name: K): Array<PushPayloads[K]> => pushes.filter((p) => p[0] === name).map((p) => p[1] as PushPayloads[K]);

describe('Sessions', () => {
  it('opens a pcap and a gzip capture, each a new session whose store the analysis fills', async () => {
    expect(await sessions.openFile(CLEAN)).toEqual({ ok: true, value: { id: 1, kind: 'file', path: CLEAN, totalBytes: 1743 } });
    await sessions.idle();
    expect(sessions.store?.messageCount).toBe(7);
    expect(of('progress').at(-1)).toEqual({ bytesRead: 1743, totalBytes: 1743, packets: 15, done: true });
    const r = await sessions.openFile(GZIP);
    expect(r).toMatchObject({ ok: true, value: { id: 2, kind: 'file', path: GZIP } });
    await sessions.idle();
    expect(of('session').map((s) => s.id)).toEqual([1, 2]);
    expect(sessions.store?.session).toBe(2);
    expect(of('batch').filter((b) => b.session === 2).flatMap(batchRows).length).toBeGreaterThan(0);
  });

  it('leaves the current session alone when a path is missing, a directory or not a capture', async () => {
    await sessions.openFile(CLEAN);
    await sessions.idle();
    const before = sessions.info;
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'hello world');
    const short = join(dir, 'short.pcap');
    writeFileSync(short, new Uint8Array([0xd4, 0xc3]));
    const errors: Array<ApiError['code']> = [];
    for (const p of [join(dir, 'nope.pcap'), dir, notes, short]) {
      const r = await sessions.openFile(p);
      errors.push(r.ok ? ('ok' as never) : r.error.code);
    }
    expect(errors).toEqual(['not-found', 'io', 'not-a-capture', 'not-a-capture']);
    expect(sessions.info).toEqual(before);
    expect(of('session')).toHaveLength(1);
    expect(sessions.store?.messageCount).toBe(7);
  });

  it('reports a failed analysis with its code and a last progress saying how far it read', async () => {
    make(async (path, emit, opts) => {
      await analyzeFile(path, emit, opts);
      throw new CaptureFileError('io', 'EIO: i/o error, read');
    });
    await sessions.openFile(CLEAN);
    await sessions.idle();
    expect(of('error')).toEqual([{ code: 'io', message: 'Reading clean-baseline.pcap failed: EIO: i/o error, read' }]);
    // the rows decoded before the failure were pushed, then the end
    expect(of('batch').flatMap((b: Batch) => batchRows(b))).toHaveLength(7);
    expect(pushes.at(-1)).toEqual(['progress', { bytesRead: 1743, totalBytes: 1743, packets: 15, done: true, incomplete: 'reading the file failed (see the error)' } satisfies ProgressInfo]);
  });

  it('reports an unexpected analysis failure as internal', async () => {
    make(async () => {
      throw new TypeError('x is undefined');
    });
    await sessions.openFile(CLEAN);
    await sessions.idle();
    expect(of('error')).toEqual([{ code: 'internal', message: 'Reading clean-baseline.pcap failed: x is undefined' }]);
    expect(pushes.at(-1)).toEqual(['progress', { bytesRead: 0, totalBytes: 1743, packets: 0, done: true, incomplete: 'reading the file failed (see the error)' }]);
  });

  it('cancels the running analysis quietly: no error, and idle resolves', async () => {
    let aborted: unknown;
    make(
      (_path, _emit, opts) =>
        new Promise((_res, rej) =>
          opts.signal?.addEventListener('abort', () => {
            aborted = opts.signal?.reason;
            rej(opts.signal?.reason);
          }),
        ),
    );
    await sessions.openFile(CLEAN);
    await sessions.cancelAnalysis(new Error('stop it'));
    await sessions.idle();
    expect((aborted as Error).message).toBe('stop it');
    expect(of('error')).toEqual([]);
    expect(of('progress')).toEqual([]);
  });

  it('switches sessions only once the work reading the old store has finished', async () => {
    await sessions.openFile(CLEAN);
    await sessions.idle();
    const old = sessions.store;
    const order: string[] = [];
    // the work ends a full event-loop turn later: a switch that did not wait would be done by then
    const gate = new Promise<void>((r) => setImmediate(r));
    const work = sessions.using(
      gate.then(() => {
        // still the old store, and still open: a query over it answers
        order.push(`work saw ${sessions.store === old ? 'old' : 'new'} store, ${old?.query({ dir: 'client' }).length} client rows`);
        return 'done';
      }),
    );
    const replaced = sessions.replace('file', CLEAN, 1743).then(() => order.push('replaced'));
    expect(await work).toBe('done');
    await replaced;
    expect(order).toEqual(['work saw old store, 3 client rows', 'replaced']);
    expect(sessions.store).not.toBe(old);
  });

  it('a rejected piece of work does not hold the store forever', async () => {
    await sessions.openFile(CLEAN);
    await sessions.idle();
    await expect(sessions.using(Promise.reject(new Error('export failed')))).rejects.toThrow('export failed');
    await sessions.replace('none', '', 0);
    expect(sessions.info).toMatchObject({ id: 2, kind: 'none' });
  });

  it('stores an upload under a safe name and removes it when another session replaces it', async () => {
    const r = await sessions.openBytes('..\\..\\evil name.pcap', new Uint8Array(readFileSync(CLEAN)));
    expect(r).toMatchObject({ ok: true, value: { id: 1, kind: 'file', path: '..\\..\\evil name.pcap', totalBytes: 1743, upload: true } });
    await sessions.idle();
    const uploads = join(dir, 'work', 'uploads');
    const [stored] = readdirSync(uploads);
    expect(stored).toMatch(/^[0-9a-f]{12}-evil_name\.pcap$/);
    // the session shows the page's name, never the stored copy's temporary path
    expect(sessions.info).toEqual(r.ok && r.value);
    await sessions.openFile(CLEAN);
    expect(readdirSync(uploads)).toEqual([]);
  });

  it('removes an upload that is not a capture at once, and one still shown on close', async () => {
    const bad = await sessions.openBytes('notes.pcap', new TextEncoder().encode('hello world'));
    expect(bad).toMatchObject({ ok: false, error: { code: 'not-a-capture' } });
    const uploads = join(dir, 'work', 'uploads');
    expect(readdirSync(uploads)).toEqual([]);
    await sessions.openBytes('good.pcap', new Uint8Array(readFileSync(CLEAN)));
    await sessions.idle();
    expect(readdirSync(uploads)).toHaveLength(1);
    await sessions.close();
    expect(readdirSync(uploads)).toEqual([]);
    expect(sessions.store).toBeNull();
  });

  it('abandon and retarget touch only the session of the store they name', async () => {
    const first = await sessions.replace('live', join(dir, 'a.pcapng'), 0);
    sessions.retarget(first, join(dir, 'b.pcapng'));
    expect(sessions.info).toEqual({ id: 1, kind: 'live', path: join(dir, 'b.pcapng'), totalBytes: 0 } satisfies SessionInfo);
    await sessions.openFile(CLEAN);
    await sessions.idle();
    const shown = sessions.info;
    sessions.retarget(first, join(dir, 'c.pcapng'));
    sessions.abandon(first);
    expect(sessions.info).toEqual(shown);
    expect(of('session').map((s) => s.kind)).toEqual(['live', 'file']);
    const second = sessions.store;
    if (second) sessions.abandon(second);
    expect(sessions.info).toEqual({ id: 2, kind: 'none', path: '', totalBytes: 0 });
    expect(of('session').at(-1)).toEqual({ id: 2, kind: 'none', path: '', totalBytes: 0 });
    expect(existsSync(join(dir, 'work'))).toBe(true);
  });
});
