import { execFileSync } from 'node:child_process';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineService, type Analyzer } from './engine-service';
import type { Batch, CallName, SessionInfo } from '../../shared/api';
import { analyzeFile } from '../pipeline';
import { toWire } from '../cli/json';
import { connectionEvent, handshakeEvent, messageEvents } from '../../test/kit/events';
import { testService, type Push } from '../../test/kit/service';

import { PUBLIC_CAPTURES as CAPTURES } from '../../test/kit/paths';
import { batchRows } from '../../shared/row-block';

const BROKER = `${CAPTURES}/zeek__broker-websocket.pcap`;


let dir: string;
let pushes: Push[];
let svc: EngineService;

function make(extra: Partial<ConstructorParameters<typeof EngineService>[0]> = {}): EngineService {
  return testService(dir, pushes, extra);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-svc-'));
  pushes = [];
  svc = make();
});

afterEach(async () => {
  await svc.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const batches = (): Batch[] => pushes.filter((p): p is ['batch', Batch] => p[0] === 'batch').map((p) => p[1]);

describe('EngineService argument validation', () => {
  const cases: Array<[string, unknown[]]> = [
    ['openFile', []],
    ['openFile', [42]],
    ['openFile', ['']],
    ['openFile', ['a\0b']],
    ['openFile', ['a', 'b', 'c']],
    ['openFile', ['a', 42]],
    ['openFile', ['a', '']],
    ['openBytes', ['x.pcap', 'not bytes']],
    ['openBytes', ['', new Uint8Array(4)]],
    ['getMessageDetail', [-1]],
    ['getMessageDetail', [1.5]],
    ['getMessageDetail', ['3']],
    ['getMessageDetail', [2 ** 32]],
    ['getHandshake', [null]],
    ['getStats', [{}]],
    ['queryMessages', [null]],
    ['queryMessages', [{ text: 5 }]],
    ['queryMessages', [{ text: '(', regex: true }]],
    // what RE2 does not run (shared/regex.ts): lookbehind, backreferences
    ['queryMessages', [{ text: '(?<=a)b', regex: true }]],
    ['queryMessages', [{ text: '(a)\\1', regex: true }]],
    ['queryMessages', [{ dir: 'up' }]],
    ['queryMessages', [{ opcodes: [16] }]],
    ['queryMessages', [{ conn: -2 }]],
    ['queryMessages', [{ severity: 'fatal' }]],
    ['queryMessages', [{ text: 'x'.repeat(1001) }]],
    ['exportData', ['csv']],
    ['exportData', ['har', 7]],
    ['cancel', []],
    ['cancel', ['everything']],
    ['startCapture', [{}]],
    ['startCapture', [{ iface: 'lo', snaplen: 10 }]],
    ['startCapture', [{ iface: 'lo', backend: 'pcap' }]],
    ['startCapture', [{ iface: 'lo', count: 0 }]],
    ['validateFilter', [1]],
    ['validateFilter', ['tcp', '']],
    ['currentSession', [1]],
    ['recentFiles', ['x']],
  ];
  for (const [name, args] of cases) {
    it(`answers bad-request to ${name}(${JSON.stringify(args).slice(1, -1).slice(0, 40)})`, async () => {
      const r = await svc.call(name, args);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('bad-request');
    });
  }

  it('answers bad-request to an unknown call name and to arguments that are not a list', async () => {
    expect(await svc.call('__proto__', [])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await svc.call('openFile', 'x')).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });
});

describe('EngineService with capture files', () => {
  it('tells missing files, non-captures and directories apart', async () => {
    expect(await svc.call('openFile', [join(dir, 'nope.pcap')])).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'hello world');
    expect(await svc.call('openFile', [txt])).toMatchObject({ ok: false, error: { code: 'not-a-capture' } });
    expect(await svc.call('openFile', [dir])).toMatchObject({ ok: false, error: { code: 'io' } });
    expect(await svc.call('exportData', ['ndjson'])).toMatchObject({ ok: false, error: { code: 'no-capture' } });
  });

  it('refuses a FIFO, a device and a directory at once with one sentence, and goes on serving', async () => {
    const fifo = join(dir, 'capture.pcap');
    execFileSync('mkfifo', [fifo]);
    // a FIFO nobody writes to: opening it for reading used to block the engine for good
    expect(await svc.call('openFile', [fifo])).toEqual({ ok: false, error: { code: 'io', message: `${fifo} is a named pipe (FIFO), not a capture file: wsscope opens regular files only.` } });
    expect(await svc.call('openFile', ['/dev/zero'])).toEqual({ ok: false, error: { code: 'io', message: '/dev/zero is a character device, not a capture file: wsscope opens regular files only.' } });
    expect(await svc.call('openFile', [dir])).toEqual({ ok: false, error: { code: 'io', message: `${dir} is a directory, not a capture file: wsscope opens regular files only.` } });
    expect(pushes).toEqual([]);
    expect(await svc.call('openFile', [BROKER])).toMatchObject({ ok: true, value: { kind: 'file', path: BROKER } });
    await svc.idle();
  });

  it('opens a capture, pushes the session, batches and a final progress, and answers reads', async () => {
    const r = await svc.call('openFile', [BROKER]);
    expect(r).toMatchObject({ ok: true, value: { kind: 'file', path: BROKER, totalBytes: 5103 } });
    await svc.idle();
    expect(pushes[0]).toEqual(['session', { id: 1, kind: 'file', path: BROKER, totalBytes: 5103 }]);
    const rows = batches().flatMap(batchRows);
    expect(rows.map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const last = pushes.filter((p) => p[0] === 'progress').at(-1);
    expect(last?.[1]).toMatchObject({ done: true, packets: 22 });

    const q = await svc.call('queryMessages', [{ dir: 'client' }]);
    expect(q.ok && Array.from((q.value as { indexes: Uint32Array }).indexes)).toEqual(rows.filter((m) => m.dir === 'client').map((m) => m.index));
    const d = await svc.call('getMessageDetail', [0]);
    expect(d).toMatchObject({ ok: true, value: { row: { index: 0, masked: true } } });
    expect(await svc.call('getMessageDetail', [999])).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await svc.call('getHandshake', [1])).toMatchObject({ ok: true, value: { status: 101, path: '/v1/messages/json' } });
    expect(await svc.call('getHandshake', [77])).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await svc.call('getStats', [1])).toMatchObject({ ok: true, value: { conn: 1, messages: 9, pollingBytesEstimate: 9 * 410 } });
    expect(await svc.call('recentFiles', [])).toEqual({ ok: true, value: [BROKER] });
  });

  it('replays the whole session from its first row for a page that joined late', async () => {
    await svc.call('openFile', [BROKER]);
    await svc.idle();
    const before = batches();
    pushes.length = 0;
    expect(await svc.call('replay', [])).toMatchObject({ ok: true, value: { kind: 'file', path: BROKER } });
    const again = batches();
    expect(again.flatMap((b) => batchRows(b).map((m) => m.index))).toEqual(before.flatMap((b) => batchRows(b).map((m) => m.index)));
    expect(again.flatMap((b) => b.findings.map((f) => f.id))).toEqual(before.flatMap((b) => b.findings.map((f) => f.id)));
    expect(again.flatMap((b) => b.connections.map((c) => c.id))).toContain(1);
    expect(again.flatMap((b) => b.handshakes)).toHaveLength(1);
  });

  it('exports NDJSON equal to the CLI lines, HAR, and pcapng that decodes to the same messages', async () => {
    await svc.call('openFile', [BROKER]);
    await svc.idle();
    const want: string[] = [];
    await analyzeFile(BROKER, (ev) => {
      const w = toWire(ev);
      if (w) want.push(JSON.stringify(w) + '\n');
    });
    const nd = await svc.call('exportData', ['ndjson']);
    expect(nd.ok).toBe(true);
    if (!nd.ok) return;
    const v = nd.value as { path: string; bytes: Uint8Array };
    expect(v.path).toBe('zeek__broker-websocket.ndjson');
    expect(Buffer.from(v.bytes).toString('utf8')).toBe(want.join(''));

    const harPath = join(dir, 'out.har');
    expect(await svc.call('exportData', ['har', harPath])).toEqual({ ok: true, value: { path: harPath } });
    const har = JSON.parse(readFileSync(harPath, 'utf8'));
    expect(har.log.entries[0]._webSocketMessages.length).toBe(8); // 8 text messages, the close is not a data frame

    const pcapng = join(dir, 'copy.pcapng');
    expect(await svc.call('exportData', ['pcapng', pcapng])).toEqual({ ok: true, value: { path: pcapng } });
    expect(readFileSync(pcapng).readUInt32LE(0)).toBe(0x0a0d0d0a);
    let messages = 0;
    const sum = await analyzeFile(pcapng, (ev) => {
      if (ev.type === 'message') messages++;
    });
    expect(messages).toBe(9);
    expect(sum.packets).toBe(22);
  });

  it('cancels the running analysis when another file is opened', async () => {
    let aborted = false;
    const slow: Analyzer = (path, emit, opts) =>
      path === BROKER
        ? analyzeFile(path, emit, opts)
        : new Promise((_res, rej) => {
            emit({ type: 'connection', id: 1, transport: 'tcp', client: 'a:1', server: 'b:2', ts: 1, packet: 1, roleBy: 'syn' });
            opts.signal?.addEventListener('abort', () => {
              aborted = true;
              rej(opts.signal?.reason);
            });
          });
    await svc.dispose();
    svc = make({ analyze: slow });
    const first = `${CAPTURES}/zeek__http-websocket.pcap`;
    expect((await svc.call('openFile', [first])).ok).toBe(true);
    expect((await svc.call('openFile', [BROKER])).ok).toBe(true);
    expect(aborted).toBe(true);
    await svc.idle();
    const sessions = pushes.filter((p) => p[0] === 'session').map((p) => (p[1] as SessionInfo).id);
    expect(sessions).toEqual([1, 2]);
    // after the second session started, every batch belongs to it
    const afterSecond = pushes.slice(pushes.findIndex((p) => p[0] === 'session' && (p[1] as SessionInfo).id === 2));
    expect(afterSecond.filter((p) => p[0] === 'batch').every((p) => (p[1] as Batch).session === 2)).toBe(true);
    expect(pushes.some((p) => p[0] === 'error')).toBe(false);
  });

  it('opens uploaded bytes from a file whose name tries to escape the upload directory', async () => {
    const bytes = new Uint8Array(readFileSync(BROKER));
    const r = await svc.call('openBytes', ['../../../etc/evil name.pcap', bytes]);
    expect(r).toMatchObject({ ok: true, value: { kind: 'file', path: '../../../etc/evil name.pcap' } });
    await svc.idle();
    const uploads = readdirSync(join(dir, 'work', 'uploads'));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatch(/^[0-9a-f]{12}-evil_name\.pcap$/);
    expect(batches().flatMap(batchRows)).toHaveLength(9);
    // uploads are not "recent files"
    expect(await svc.call('recentFiles', [])).toEqual({ ok: true, value: [] });
    await svc.dispose();
    expect(existsSync(join(dir, 'work'))).toBe(true);
    expect(readdirSync(join(dir, 'work', 'uploads'))).toHaveLength(0);
  });

  it('answers unsupported for live capture when the capture module is missing', async () => {
    expect(await svc.call('startCapture', [{ iface: 'lo' }])).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(await svc.call('listInterfaces', [])).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(await svc.call('stopCapture', [])).toMatchObject({ ok: false, error: { code: 'no-capture' } });
    expect(await svc.call('openFileDialog', [])).toMatchObject({ ok: false, error: { code: 'unsupported' } });
  });

  it('keeps at most ten recent files, newest first', async () => {
    const names = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f)).slice(0, 12);
    for (const n of names) await svc.call('openFile' as CallName, [join(CAPTURES, n)]);
    await svc.idle();
    const r = await svc.call('recentFiles', []);
    expect(r).toEqual({ ok: true, value: names.slice(2).reverse().map((n) => join(CAPTURES, n)) });
  });
});

describe('EngineService exports of big sessions', () => {
  const CONNS = 20;
  const PER_CONN = 6_000;

  /** An analyzer that emits CONNS interleaved conversations (capture-wide indexes, as the pipeline numbers them). */
  const bigSession: Analyzer = async (_path, emit) => {
    let frame = 0;
    let message = 0;
    let packet = 1;
    for (let c = 1; c <= CONNS; c++) {
      emit(connectionEvent(c, 1700000000));
      emit(handshakeEvent(c, 1700000000.001));
    }
    for (let i = 0; i < PER_CONN; i++) {
      for (let c = 1; c <= CONNS; c++) {
        const data = Buffer.from(`{"conn":${c},"seq":${i},"body":"${'x'.repeat(40)}"}`);
        for (const ev of messageEvents({ conn: c, dir: i % 2 ? 'server' : 'client', ts: 1700000001 + i / 1000, opcode: 1, data, packet: packet++ }, frame++, message++)) emit(ev);
      }
    }
    const summary = { type: 'summary' as const, packets: packet, connections: CONNS, messages: message, frames: frame, findings: 0, bytes: 0, seconds: PER_CONN / 1000 };
    emit(summary);
    return summary;
  };

  /** a fresh service whose analyzer is `analyze`, with `file` opened and decoded */
  async function openWith(analyze: Analyzer, file: string): Promise<void> {
    await svc.dispose();
    svc = make({ analyze });
    await svc.call('openFile', [file]);
    await svc.idle();
  }

  it('serves other calls while an export of 120,000 messages runs, and the export holds every event', async () => {
    await openWith(bigSession, BROKER);
    const out = join(dir, 'big.ndjson');
    const order: string[] = [];
    const exp = svc.call('exportData', ['ndjson', out]).then((r) => {
      order.push('export');
      return r;
    });
    // a query issued after the export started is answered before it ends
    const q = await svc.call('queryMessages', [{ text: '"seq":5999' }]);
    order.push('query');
    expect(q.ok && (q.value as { indexes: Uint32Array }).indexes.length).toBe(CONNS);
    expect(await exp).toEqual({ ok: true, value: { path: out } });
    expect(order).toEqual(['query', 'export']);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    // connections, handshakes, a frame and a message each, the summary
    expect(lines.length).toBe(2 * CONNS + 2 * CONNS * PER_CONN + 1);
    expect(JSON.parse(lines.at(-2)!)).toMatchObject({ type: 'message', conn: CONNS, text: `{"conn":${CONNS},"seq":${PER_CONN - 1},"body":"${'x'.repeat(40)}"}` });
  });

  it('exports HAR for many connections in one pass (each entry with its own messages, in order)', async () => {
    await openWith(bigSession, BROKER);
    const out = join(dir, 'big.har');
    expect(await svc.call('exportData', ['har', out])).toEqual({ ok: true, value: { path: out } });
    const har = JSON.parse(readFileSync(out, 'utf8')) as { log: { entries: Array<{ _wsscopeConnection: number; _webSocketMessages: Array<{ data: string }> }> } };
    expect(har.log.entries.map((e) => e._wsscopeConnection)).toEqual(Array.from({ length: CONNS }, (_, i) => i + 1));
    for (const e of har.log.entries) {
      expect(e._webSocketMessages).toHaveLength(PER_CONN);
      expect(e._webSocketMessages.map((m) => JSON.parse(m.data).seq)).toEqual(Array.from({ length: PER_CONN }, (_, i) => i));
      expect(e._webSocketMessages.every((m) => JSON.parse(m.data).conn === e._wsscopeConnection)).toBe(true);
    }
  });

  it('opening another file waits for a running export of the current session, which completes', async () => {
    // the first file's events are the big synthetic session, the second's the real capture
    await openWith((path, emit, opts) => (path === BROKER ? analyzeFile(path, emit, opts) : bigSession(path, emit, opts)), `${CAPTURES}/zeek__http-websocket.pcap`);
    const out = join(dir, 'first.ndjson');
    const exp = svc.call('exportData', ['ndjson', out]);
    expect((await svc.call('openFile', [BROKER])).ok).toBe(true);
    expect(await exp).toEqual({ ok: true, value: { path: out } });
    expect(readFileSync(out, 'utf8').trimEnd().split('\n').length).toBe(2 * CONNS + 2 * CONNS * PER_CONN + 1);
  });

  it('shutting the engine down stops a running export, which answers with the reason and leaves the old file as it was', async () => {
    await openWith(bigSession, BROKER);
    const out = join(dir, 'stopped.ndjson');
    writeFileSync(out, 'the previous export\n');
    // the export writes its first slice, then yields: dispose runs in that gap
    const exp = svc.call('exportData', ['ndjson', out]);
    await svc.dispose();
    expect(await exp).toEqual({ ok: false, error: { code: 'cancelled', message: `The export was cancelled (engine shutting down); ${out} was not written.` } });
    // the half-written export was a temp file beside the target (engine/fs/private.ts replaceFile): gone
    expect(readFileSync(out, 'utf8')).toBe('the previous export\n');
    expect(readdirSync(dir).filter((n) => n.includes('stopped'))).toEqual(['stopped.ndjson']);
  });
});
