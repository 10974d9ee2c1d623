import { describe, it, expect, expectTypeOf, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALLS, err, ok, type CallName, type ConnStats, type ExportOptions, type Result } from '../../shared/api';
import { dispatch, type CallHandlers } from './dispatch';
import { EngineService } from './engine-service';

let dir: string;
let svc: EngineService;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-dispatch-'));
  svc = new EngineService({ push: () => {}, configDir: join(dir, 'cfg'), workDir: join(dir, 'work'), captureDir: join(dir, 'cap'), loadLive: async () => null });
});

afterEach(async () => {
  await svc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Arguments every call accepts (with nothing loaded). */
const VALID: { [K in CallName]: unknown[] } = {
  listInterfaces: [],
  validateFilter: ['tcp port 80', 'lo'],
  openFile: [join(tmpdir(), 'wsscope-dispatch-no-such-file.pcap')],
  openFileDialog: [],
  openBytes: ['x.pcap', new Uint8Array(4)],
  recentFiles: [],
  startCapture: [{ iface: 'lo' }],
  stopCapture: [],
  currentSession: [],
  replay: [],
  getMessageDetail: [0],
  getHandshake: [1],
  getStats: [1],
  queryMessages: [{}],
  exportData: ['ndjson'],
  cancel: ['query'],
  getAppFacets: [null],
  getHttp2Requests: [1],
  getEngineIoSession: [1],
  listDecoders: [],
  setDecoder: [1, 'mqtt'],
  addKeyLog: [join(tmpdir(), 'wsscope-dispatch-no-such-keylog.txt')],
  addKeyLogDialog: [],
  addKeyLogBytes: ['keys.txt', new Uint8Array(4)],
  keyLogs: [],
};

describe('the handler map', () => {
  it('has exactly one handler per call of the contract', () => {
    expect(Object.keys(svc.handlers).sort()).toEqual([...CALLS].sort());
    for (const name of CALLS) expect(typeof svc.handlers[name]).toBe('function');
    // the same at compile time: keys are the call names, handlers take the contract's arguments
    expectTypeOf<keyof CallHandlers>().toEqualTypeOf<CallName>();
    expectTypeOf<Parameters<CallHandlers['exportData']>>().toEqualTypeOf<[format: 'ndjson' | 'har' | 'pcapng', path?: string | undefined, opts?: ExportOptions | undefined]>();
    expectTypeOf<Awaited<ReturnType<CallHandlers['getStats']>>>().toEqualTypeOf<Result<ConnStats>>();
  });

  it('routes every call name to its handler (none answers "unknown call")', async () => {
    for (const name of CALLS) {
      const r = await svc.call(name, VALID[name]);
      expect(typeof r.ok, name).toBe('boolean');
      if (!r.ok) {
        expect(r.error.code, name).not.toBe('bad-request');
        expect(r.error.message, name).not.toMatch(/^Unknown call/);
      }
    }
  });
});

describe('dispatch', () => {
  it('answers bad-request to names that are not calls, whatever they are, and never throws', async () => {
    const hostile = { toString: () => { throw new Error('toString trap'); } };
    const names: unknown[] = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', 'openfile', 'x'.repeat(500), 42, null, undefined, {}, [], hostile, Symbol('call')];
    for (const name of names) {
      const r = await dispatch(svc.handlers, name, []);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.code).toBe('bad-request');
      expect(!r.ok && r.error.message).toMatch(/^Unknown call /);
      expect(!r.ok && r.error.message.length).toBeLessThan(100);
    }
    expect(await dispatch(svc.handlers, '__proto__', [])).toEqual(err('bad-request', 'Unknown call "__proto__".'));
    expect(await dispatch(svc.handlers, 42, [])).toEqual(err('bad-request', 'Unknown call (a number).'));
  });

  it('checks the argument list and its values before the handler runs', async () => {
    const seen: unknown[][] = [];
    const handlers: CallHandlers = {
      ...svc.handlers,
      exportData: (...args) => {
        seen.push(args);
        return ok({ path: 'x' });
      },
    };
    expect(await dispatch(handlers, 'exportData', 'ndjson')).toEqual(err('bad-request', 'The arguments must be a list.'));
    expect(await dispatch(handlers, 'exportData', [])).toEqual(err('bad-request', 'exportData takes 1 to 3 arguments, got 0.'));
    expect(await dispatch(handlers, 'exportData', ['csv'])).toEqual(err('bad-request', 'The export format must be one of ndjson, har, pcapng.'));
    expect(await dispatch(handlers, 'exportData', ['har', ''])).toEqual(err('bad-request', 'The path must be a non-empty string.'));
    expect(seen).toEqual([]);
    // a trailing undefined is an absent argument (IPC and JSON keep or drop it)
    expect(await dispatch(handlers, 'exportData', ['ndjson', undefined])).toEqual(ok({ path: 'x' }));
    expect(await dispatch(handlers, 'exportData', ['pcapng', '/tmp/out.pcapng'])).toEqual(ok({ path: 'x' }));
    // a filter after a path left out (null over JSON), and a bad filter refused
    expect(await dispatch(handlers, 'exportData', ['har', null, { filter: { conn: 2 } }])).toEqual(ok({ path: 'x' }));
    expect((await dispatch(handlers, 'exportData', ['har', null, { filter: { conn: 'x' } }])).ok).toBe(false);
    expect(seen).toEqual([['ndjson', undefined], ['pcapng', '/tmp/out.pcapng'], ['har', undefined, { filter: { conn: 2 } }]]);
  });

  it('turns what a handler throws or rejects with into an internal error', async () => {
    const handlers: CallHandlers = {
      ...svc.handlers,
      getStats: () => {
        throw new Error('stats exploded');
      },
      recentFiles: () => Promise.reject(new RangeError('list too long')),
      replay: () => {
        throw 'a string';
      },
    };
    expect(await dispatch(handlers, 'getStats', [1])).toEqual(err('internal', 'wsscope failed in getStats: stats exploded'));
    expect(await dispatch(handlers, 'recentFiles', [])).toEqual(err('internal', 'wsscope failed in recentFiles: list too long'));
    expect(await dispatch(handlers, 'replay', [])).toEqual(err('internal', 'wsscope failed in replay: a string'));
  });
});
