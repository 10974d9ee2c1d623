import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostEnv, nodeFork, spawnEngine, type EngineClient, type WatchdogOptions } from './client';
import { generateCapture } from '../../scripts/gen-capture';
import { publicCapture } from '../../test/kit/paths';
import type { ApiError, Batch, ProgressInfo, PushName, PushPayloads, SessionInfo } from '../../shared/api';
import { batchRows } from '../../shared/row-block';

let dir: string;
let big: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-client-'));
  big = join(dir, 'big.pcap');
  // big enough that decoding in the child takes well over one batch interval
  await generateCapture({ out: big, bytes: 40 * 1024 * 1024, connections: 16, seed: 7 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function engine(watchdog?: WatchdogOptions): EngineClient {
  return spawnEngine({
    fork: nodeFork({ args: [`--config-dir=${join(dir, 'cfg')}`, `--work-dir=${join(dir, 'work')}`, `--capture-dir=${join(dir, 'cap')}`] }),
    watchdog,
  });
}

/** Resolves with the first push named `name` that satisfies `pred`. */
function nextPush<K extends PushName>(c: EngineClient, name: K, pred: (p: PushPayloads[K]) => boolean = () => true): Promise<PushPayloads[K]> {
  return new Promise((resolve) => {
    const off = c.onPush((n, payload) => {
      if ((n as PushName) === name && pred(payload as PushPayloads[K])) {
        off();
        resolve(payload as PushPayloads[K]);
      }
    });
  });
}

describe('hostEnv', () => {
  it('drops NODE_EXTRA_CA_CERTS, adds the malloc threshold and keeps the rest, a threshold the user set included', () => {
    expect(hostEnv({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' })).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(hostEnv({ MALLOC_MMAP_THRESHOLD_: '65536' })).toEqual({ MALLOC_MMAP_THRESHOLD_: '65536' });
  });
});

describe('engine client and host process', () => {
  it('runs calls in a child process and relays its pushes', async () => {
    const c = engine();
    try {
      await c.ready();
      expect(c.pid).toBeGreaterThan(0);
      expect(c.pid).not.toBe(process.pid);
      const session = nextPush(c, 'session');
      const done = nextPush(c, 'progress', (p) => p.done);
      const batches: Batch[] = [];
      c.onPush((n, p) => {
        if (n === 'batch') batches.push(p as Batch);
      });
      const r = await c.call('openFile', [publicCapture('zeek__broker-websocket.pcap')]);
      expect(r).toMatchObject({ ok: true, value: { kind: 'file' } });
      expect(await session).toMatchObject({ kind: 'file' });
      expect((await done).packets).toBe(22);
      expect(batches.flatMap(batchRows)).toHaveLength(9);
      // typed arrays cross the process boundary intact
      const q = await c.call('queryMessages', [{ dir: 'server' }]);
      expect(q.ok && q.value.indexes).toBeInstanceOf(Uint32Array);
      const d = await c.call('getMessageDetail', [0]);
      expect(d.ok && d.value.data).toBeInstanceOf(Uint8Array);
      expect(await c.callRaw('getStats', ['1'])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    } finally {
      await c.close();
    }
    expect(c.pid).toBeUndefined();
  });

  it('reports engine-crashed when the host is killed mid-file, then restarts it on the next call', async () => {
    const c = engine();
    try {
      await c.ready();
      const firstPid = c.pid as number;
      const errors: ApiError[] = [];
      c.onPush((n, p) => {
        if (n === 'error') errors.push(p as ApiError);
      });
      const midway = nextPush(c, 'progress', (p: ProgressInfo) => !p.done && p.bytesRead < p.totalBytes);
      expect((await c.call('openFile', [big])).ok).toBe(true);
      await midway;
      process.kill(firstPid, 'SIGKILL');
      // sent after the kill: the host can never answer it
      const pending = await c.call('getStats', [1]);
      expect(pending).toMatchObject({ ok: false, error: { code: 'engine-crashed' } });
      expect(errors).toHaveLength(1);
      expect(errors[0].code).toBe('engine-crashed');
      expect(errors[0].message).toContain('SIGKILL');
      expect(errors[0].message).toContain(big);

      // the next call starts a fresh host, with nothing loaded
      const cur = await c.call('currentSession', []);
      expect(cur).toEqual({ ok: true, value: { id: 0, kind: 'none', path: '', totalBytes: 0 } satisfies SessionInfo });
      expect(c.pid).toBeGreaterThan(0);
      expect(c.pid).not.toBe(firstPid);

      // and the file can be reopened and read to the end
      const done = nextPush(c, 'progress', (p) => p.done);
      expect((await c.call('openFile', [big])).ok).toBe(true);
      const end = await done;
      expect(end.packets).toBeGreaterThan(1000);
      const q = await c.call('queryMessages', [{}]);
      expect(q.ok && q.value.total).toBeGreaterThan(1000);
    } finally {
      await c.close();
    }
  });

  it('keeps a busy host that answers pings, and replaces one that stops answering, reported like a crash', async () => {
    const c = engine({ intervalMs: 100, timeoutMs: 1500 });
    try {
      await c.ready();
      const errors: ApiError[] = [];
      c.onPush((n, p) => {
        if (n === 'error') errors.push(p as ApiError);
      });
      // decoding 40 MiB takes several timeouts' worth of time: the host keeps answering
      const first = c.pid as number;
      const done = nextPush(c, 'progress', (p) => p.done);
      expect((await c.call('openFile', [big])).ok).toBe(true);
      await done;
      expect(errors).toEqual([]);
      expect(c.pid).toBe(first);
      // a host whose event loop no longer turns (stopped, as if spinning in a loop)
      const crashed = nextPush(c, 'error');
      const none = nextPush(c, 'session', (s) => s.kind === 'none');
      process.kill(first, 'SIGSTOP');
      const e = await crashed;
      expect(e.code).toBe('engine-crashed');
      // the silence it measured is at least the timeout (more when the machine is busy)
      expect(Number(/no reply for (\d+) s/.exec(e.message)?.[1])).toBeGreaterThanOrEqual(2);
      expect(e.message.replace(/no reply for \d+ s/, 'no reply for N s')).toBe(
        `The wsscope engine stopped answering (no reply for N s) and was restarted while showing ${big}. The file is unchanged: open it again to continue.`,
      );
      await none;
      // a fresh host is already there, and it answers
      await c.ready();
      expect(c.pid).toBeGreaterThan(0);
      expect(c.pid).not.toBe(first);
      expect(() => process.kill(first, 0)).toThrow(/ESRCH/);
      expect(await c.call('currentSession', [])).toEqual({ ok: true, value: { id: 0, kind: 'none', path: '', totalBytes: 0 } });
    } finally {
      await c.close();
    }
  });
});
