/**
 * Live capture through EngineService without capture privileges: the live module is
 * injected. Loaders that fail the way real ones do (a module that is not there, a native
 * addon that is not a shared object) must reach the caller with their own reason; a stand-in
 * backend that feeds the packets of a real capture (test/corpus/clean-baseline.pcap) through
 * the capture sink drives a whole live session. The real backends are tested in
 * test/live-capture.test.ts.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { err, ok, type Batch, type CaptureStatus, type PushName, type PushPayloads, type Result, type SessionInfo } from '../../shared/api';
import { readCaptureFile } from '../capture/file-source';
import { EngineService, type LiveLoader, type LiveModule } from './engine-service';
import { batchRows } from '../../shared/row-block';

const CLEAN = fileURLToPath(new URL('../../test/corpus/clean-baseline.pcap', import.meta.url));

type Push = { [K in PushName]: [K, PushPayloads[K]] }[PushName];

let dir: string;
let pushes: Push[];
let svc: EngineService | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-svc-live-'));
  pushes = [];
});

afterEach(async () => {
  await svc?.dispose();
  svc = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function make(loadLive: LiveLoader): EngineService {
  svc = new EngineService({
    push: (name, payload) => pushes.push([name, payload] as Push),
    configDir: join(dir, 'config'),
    workDir: join(dir, 'work'),
    captureDir: join(dir, 'captures'),
    batchMs: 10,
    loadLive,
  });
  return svc;
}

const errorOf = (r: Result<unknown>): { code: string; message: string } => (r.ok ? { code: 'ok', message: '' } : r.error);

describe('loading the live backend', () => {
  it('answers with the import error of a live module that is not there', async () => {
    const missing = join(dir, 'no-such-live.js');
    let reason = '';
    const s = make(async () => {
      try {
        return (await import(missing)) as LiveModule;
      } catch (e) {
        reason = (e as Error).message;
        throw e;
      }
    });
    for (const [name, args] of [
      ['listInterfaces', []],
      ['validateFilter', ['tcp']],
      ['startCapture', [{ iface: 'lo' }]],
    ] as const) {
      const e = errorOf(await s.call(name, args));
      expect(e.code).toBe('unsupported');
      expect(reason).toContain('no-such-live.js');
      expect(e.message).toBe(`Live capture is not available: ${reason}`);
    }
    // a start that could not load anything leaves the session alone
    expect(pushes.filter(([n]) => n === 'session')).toEqual([]);
  });

  it('answers with the first line of a native addon that fails to load, without its stack', async () => {
    const bad = join(dir, 'cap.node');
    writeFileSync(bad, 'this is not a shared object\n');
    const requireHere = createRequire(import.meta.url);
    let thrown: Error | undefined;
    const s = make(async () => {
      try {
        requireHere(bad);
      } catch (e) {
        thrown = e as Error;
        throw e;
      }
      return null;
    });
    const e = errorOf(await s.call('listInterfaces', []));
    expect(thrown).toBeDefined();
    const firstLine = (thrown as Error).message.split('\n')[0];
    expect(firstLine).toContain(bad);
    expect(e).toEqual({ code: 'unsupported', message: `Live capture is not available: ${firstLine}` });
  });

  it('keeps a multi-line loader error (require stack) to its first line', async () => {
    const requireHere = createRequire(import.meta.url);
    let thrown: Error | undefined;
    const s = make(async () => {
      try {
        return requireHere('./no-such-live-backend') as LiveModule;
      } catch (e) {
        thrown = e as Error;
        throw e;
      }
    });
    const e = errorOf(await s.call('startCapture', [{ iface: 'lo' }]));
    // Node's "Cannot find module" message carries the require stack on further lines
    expect((thrown as Error).message.split('\n').length).toBeGreaterThan(1);
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe(`Live capture is not available: ${(thrown as Error).message.split('\n')[0]}`);
    expect(e.message).not.toContain('\n');
  });

  it('says so when the build has no live module', async () => {
    const s = make(async () => null);
    expect(await s.call('listInterfaces', [])).toEqual(err('unsupported', 'Live capture is not available in this build.'));
  });

  it('loads the real live module by default and lists the loopback interface', async () => {
    svc = new EngineService({ push: () => {}, configDir: join(dir, 'config'), workDir: join(dir, 'work') });
    const r = await svc.call('listInterfaces', []);
    expect(r.ok).toBe(true);
    expect(r.ok && (r.value as Array<{ name: string; loopback: boolean }>).some((i) => i.loopback)).toBe(true);
  });
});

/**
 * A live module whose "capture" is the packets of `src`: the file is copied where the
 * service asked, its records go through the sink, and stop() ends it once they all went.
 */
function replayingBackend(src: string): LiveModule {
  return {
    listInterfaces: () => [{ name: 'lo', description: '', addresses: ['127.0.0.1'], loopback: true, up: true, running: true }],
    validateFilter: () => ok(true),
    async startLiveCapture(opts, sink, onStatus) {
      if (opts.iface !== 'lo') return err('no-such-interface', `There is no interface ${opts.iface}.`);
      const file = opts.file ?? join(dir, 'live.pcap');
      copyFileSync(src, file);
      const status: CaptureStatus = { state: 'running', iface: opts.iface, backend: 'dumpcap', packets: 0, bytes: 0, drops: 0, file };
      onStatus({ ...status });
      const fed = readCaptureFile(src, {
        packet: (rec) => {
          status.packets++;
          sink.packet(rec);
        },
        problem: (p) => sink.problem?.(p),
      });
      let finish!: (s: CaptureStatus) => void;
      const done = new Promise<CaptureStatus>((r) => (finish = r));
      return ok({
        file,
        done,
        async stop() {
          await fed;
          const final: CaptureStatus = { ...status, state: 'stopped' };
          onStatus(final);
          finish(final);
          return final;
        },
      });
    },
  };
}

describe('a live session', () => {
  it('decodes what the backend captures into a session that is refused a second start or a file while it runs', async () => {
    const s = make(async () => replayingBackend(CLEAN));
    const started = await s.call('startCapture', [{ iface: 'lo' }]);
    expect(started).toMatchObject({ ok: true, value: { id: 1, kind: 'live', totalBytes: 0 } });
    const file = (started as { ok: true; value: SessionInfo }).value.path;
    expect(file.startsWith(join(dir, 'captures', 'wsscope-lo-'))).toBe(true);
    expect(pushes[0]).toEqual(['session', { id: 1, kind: 'live', path: file, totalBytes: 0 }]);

    expect(errorOf(await s.call('startCapture', [{ iface: 'lo' }])).code).toBe('capture-running');
    expect(errorOf(await s.call('openFile', [CLEAN])).code).toBe('capture-running');
    expect(errorOf(await s.call('openBytes', ['x.pcap', new Uint8Array(4)])).code).toBe('capture-running');

    const stopped = await s.call('stopCapture', []);
    expect(stopped).toMatchObject({ ok: true, value: { state: 'stopped', packets: 15, file } });
    const batches = pushes.filter((p): p is ['batch', Batch] => p[0] === 'batch').map((p) => p[1]);
    expect(batches.flatMap(batchRows).map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batches.every((b) => b.session === 1)).toBe(true);
    expect(pushes.filter(([n]) => n === 'captureStatus').map(([, p]) => (p as CaptureStatus).state)).toEqual(['running', 'stopped']);
    expect(await s.call('getHandshake', [1])).toMatchObject({ ok: true, value: { status: 101, path: '/chat' } });
    expect(await s.call('stopCapture', [])).toMatchObject({ ok: false, error: { code: 'no-capture' } });
    // the capture file is the user's: a file can be opened now, and the capture stays
    expect(await s.call('openFile', [file])).toMatchObject({ ok: true, value: { id: 2, kind: 'file', path: file } });
    await s.dispose();
    await expect(readCaptureFile(file, { packet: () => {} })).resolves.toMatchObject({ packets: 15 });
  });

  it('passes a backend start error through and leaves a session that shows nothing', async () => {
    const s = make(async () => replayingBackend(CLEAN));
    const r = await s.call('startCapture', [{ iface: 'eth9' }]);
    expect(r).toEqual(err('no-such-interface', 'There is no interface eth9.'));
    const sessions = pushes.filter(([n]) => n === 'session').map(([, p]) => p as SessionInfo);
    expect(sessions.map((x) => [x.id, x.kind])).toEqual([
      [1, 'live'],
      [1, 'none'],
    ]);
    expect(await s.call('currentSession', [])).toEqual(ok({ id: 1, kind: 'none', path: '', totalBytes: 0 }));
    expect(await s.call('stopCapture', [])).toMatchObject({ ok: false, error: { code: 'no-capture' } });
  });
});
