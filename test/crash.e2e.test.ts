/**
 * Crash containment end to end: the engine process dying never costs the user the capture.
 *
 *  - live capture on `lo` with real npm `ws` peers: the engine host is SIGKILLed while it
 *    captures; the client reports `engine-crashed` naming the pcapng, marks the capture
 *    failed, the capture helper process does not outlive the host, the pcapng written so far
 *    reads cleanly in tshark, and opening it in the restarted engine shows the same frames;
 *  - `wsscope serve`: the crash reaches a real browser-side WebSocket client as an `error`
 *    push, and the page can reopen the file over the same socket;
 *  - a decoder that throws during a live capture (EngineService in-process) stops decoding,
 *    not capturing: one `error` push naming the file, and the file holds every frame;
 *  - `wsscope read` (engine in-process): an exception inside one connection's decoder is
 *    contained to that connection (a `decoder-error` finding); the read goes on, decodes the
 *    other connections and exits 0 with its summary.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { nodeFork, spawnEngine, type EngineClient } from '../engine/service/client';
import { startServe } from '../engine/serve/server';
import { EngineService } from '../engine/service/engine-service';
import { ModuleRegistry } from '../engine/stack/registry';
import { decodeFrame, encodeWire, type WireMessage } from '../shared/wire';
import type { ApiError, Batch, CaptureStatus, ProgressInfo, PushName, PushPayloads, Result, SessionInfo } from '../shared/api';
import { REPO, startPeer, textOf, type Peer } from './peers/peer';
import { tsharkFrameRows } from './peers/capture';

import { publicCapture } from './kit/paths';
import { batchRows } from '../shared/row-block';

const BROKER = publicCapture('zeek__broker-websocket.pcap');
// two WebSocket connections in one capture (see engine/pipeline.test.ts)
const WSTUNNEL = publicCapture('zeek__wstunnel-ssh.pcap');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function engine(name: string): EngineClient {
  const base = join(dir, name);
  return spawnEngine({ fork: nodeFork({ args: [`--config-dir=${join(base, 'cfg')}`, `--work-dir=${join(base, 'work')}`, `--capture-dir=${join(base, 'cap')}`] }) });
}

/** Resolves with the first push named `name` that satisfies `pred` (registered now). */
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

/** Pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/**
 * Waits for processes that are not our children to end. Nothing signals that to us, so this
 * polls /proc, bounded: it is the assertion (a capture helper must not outlive its host).
 */
async function gone(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (let left = pids.filter(alive); left.length; left = pids.filter(alive)) {
    if (Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

/** `wsscope read ...` as a real process (node --import tsx bin/wsscope.ts), with extra node flags. */
function readCli(args: string[], nodeArgs: string[] = []): Promise<{ code: number; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(REPO, 'bin', 'wsscope.ts'), 'read', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), lines: out.split('\n').filter(Boolean), stderr: err }));
  });
}

// no commas or tabs (tshark's field aggregation); unfragmented, uncompressed
const MESSAGES = Array.from({ length: 40 }, (_, i) => `crash-test message ${i} ${'x'.repeat(i * 7)}`);

describe.each(['cap', 'dumpcap'] as const)('engine killed during a live capture on lo (%s backend)', (backend) => {
  it('reports engine-crashed naming the pcapng, fails the capture, and the file reads in tshark and reopens with the same frames', async () => {
    const c = engine(`live-${backend}`);
    const server = await startPeer({ impl: 'node-ws', role: 'server' });
    let client: Peer | undefined;
    try {
      await c.ready();
      const hostPid = c.pid as number;
      let liveMessages = 0;
      c.onPush((n, p) => {
        if (n === 'batch') liveMessages += batchRows(p as Batch).length;
      });
      const running = nextPush(c, 'captureStatus', (s) => s.state === 'running');
      const started = await c.call('startCapture', [{ iface: 'lo', filter: `tcp port ${server.port}`, backend }]);
      expect(started).toMatchObject({ ok: true, value: { kind: 'live' } });
      const file = (started as { ok: true; value: SessionInfo }).value.path;
      expect(file.endsWith('.pcapng')).toBe(true);
      await running;

      // real traffic; the engine shows some of it live, then dies with the capture running
      const someShown = new Promise<void>((resolve) => {
        const off = c.onPush((n) => {
          if (n === 'batch' && liveMessages >= 10) {
            off();
            resolve();
          }
        });
      });
      client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, messages: MESSAGES });
      await someShown;
      const helpers = childrenOf(hostPid);
      expect(helpers.length, 'the capture runs in a helper process of the engine host').toBeGreaterThan(0);
      const error = nextPush(c, 'error');
      const failed = nextPush(c, 'captureStatus', (s) => s.state === 'failed');
      const none = nextPush(c, 'session', (s) => s.kind === 'none');
      process.kill(hostPid, 'SIGKILL');

      const e: ApiError = await error;
      expect(e.code).toBe('engine-crashed');
      expect(e.message).toContain('SIGKILL');
      expect(e.message).toContain('live capture on lo');
      expect(e.message).toContain(file);
      const st: CaptureStatus = await failed;
      expect(st).toMatchObject({ state: 'failed', iface: 'lo', file });
      expect(st.error).toBeUndefined(); // said once, by the error push
      await none;
      // what the live view had shown when the engine died (later batches are the reopen's)
      const shownLive = liveMessages;
      expect(await gone(helpers), 'capture helper processes left running after the host died').toEqual([]);

      // the peers finish on their own: the crash only cost the capture
      await client.done;

      // what was written reads cleanly: whole blocks only
      const t = spawnSync('tshark', ['-r', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
      // (tshark warns when run as root: that line is not about the file)
      expect(t.stderr.replace(/^Running as user .*\n/m, '')).toBe('');
      expect(t.status).toBe(0);
      const rows = tsharkFrameRows(file, server.port);
      expect(rows.length).toBeGreaterThanOrEqual(shownLive);
      const sentTexts = client.sent.map(textOf);
      for (const r of rows.filter((r) => r.masked && r.opcode === 1)) expect(sentTexts).toContain(r.payload);

      // reopen it in the restarted engine: the same frames, everything the live view had shown
      const done = nextPush(c, 'progress', (p: ProgressInfo) => p.done);
      const reopened = await c.call('openFile', [file]);
      expect(reopened).toMatchObject({ ok: true, value: { kind: 'file', path: file } });
      expect(c.pid).not.toBe(hostPid);
      await done;
      const q = await c.call('queryMessages', [{}]);
      expect(q.ok && q.value.total).toBe(rows.length);
      expect(q.ok && q.value.total).toBeGreaterThanOrEqual(shownLive);
      const first = await c.call('getMessageDetail', [0]);
      expect(first.ok && Buffer.from(first.value.data).toString()).toBe(rows[0].payload);
    } finally {
      await client?.stop();
      await server.stop();
      await c.close();
    }
  });
});

describe('engine killed while showing an uploaded file', () => {
  it("removes the dead host's scratch directory (the upload, the spill) and asks to drop the file again", async () => {
    // no --work-dir: the host makes its own scratch directory, as under `wsscope serve`
    const c = spawnEngine({ fork: nodeFork({ args: [`--config-dir=${join(dir, 'upload', 'cfg')}`] }) });
    try {
      await c.ready();
      const session = nextPush(c, 'session', (s) => s.kind === 'file');
      const done = nextPush(c, 'progress', (p) => p.done);
      const r = await c.call('openBytes', ['my capture.pcap', new Uint8Array(readFileSync(BROKER))]);
      expect(r).toMatchObject({ ok: true, value: { kind: 'file', path: 'my capture.pcap' } });
      // the session names the user's file; the stored copy is in the host's scratch folder
      expect(await session).toMatchObject({ path: 'my capture.pcap', upload: true });
      await done;
      const [scratch] = readdirSync(tmpdir())
        .filter((d) => d.startsWith(`wsscope-${c.pid}-`))
        .map((d) => join(tmpdir(), d));
      expect(readdirSync(join(scratch, 'uploads')).filter((f) => f.endsWith('-my_capture.pcap'))).toHaveLength(1);
      const error = nextPush(c, 'error');
      process.kill(c.pid as number, 'SIGKILL');
      expect(await error).toEqual({
        code: 'engine-crashed',
        message: 'The wsscope engine was killed (SIGKILL) while showing the uploaded file my capture.pcap. Drop my capture.pcap on the window again to continue.',
      });
      expect(existsSync(scratch)).toBe(false);
    } finally {
      await c.close();
    }
  });
});

describe('a decoder fault during a live capture', () => {
  it('is contained to its connection: a decoder-error finding, capture and file go on, no engine error', async () => {
    const pushes: Array<[PushName, unknown]> = [];
    const svc = new EngineService({
      push: (name, payload) => void pushes.push([name, payload]),
      configDir: join(dir, 'fault', 'cfg'),
      workDir: join(dir, 'fault', 'work'),
      captureDir: join(dir, 'fault', 'cap'),
      // a protocol layer that cannot even be made, detected on every connection
      pipeline: {
        registry: new ModuleRegistry([
          {
            id: 'faulty',
            detect: () => 0,
            create: () => {
              throw new Error('injected session fault');
            },
          },
        ]),
      },
    });
    const server = await startPeer({ impl: 'node-ws', role: 'server' });
    let client: Peer | undefined;
    try {
      const started = await svc.call('startCapture', [{ iface: 'lo', filter: `tcp port ${server.port}` }]);
      expect(started).toMatchObject({ ok: true, value: { kind: 'live' } });
      const file = (started as { ok: true; value: SessionInfo }).value.path;
      client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, messages: MESSAGES });
      await client.done;
      await server.sentCount(MESSAGES.length);
      const stopped = await svc.call('stopCapture', []);
      expect(stopped).toMatchObject({ ok: true, value: { state: 'stopped', file } });
      expect(pushes.filter(([n]) => n === 'error')).toEqual([]);
      const findings = pushes.filter(([n]) => n === 'batch').flatMap(([, p]) => (p as Batch).findings);
      const faults = findings.filter((f) => f.id === 'decoder-error');
      expect(faults).toHaveLength(1);
      expect(faults[0].text).toContain('injected session fault');
      // every message of both peers, plus the two close frames, is in the file
      const rows = tsharkFrameRows(file, server.port);
      expect(rows.filter((r) => r.opcode === 1).map((r) => r.payload).sort()).toEqual([...client.sent.map(textOf), ...server.sent.map(textOf)].sort());
      expect(rows.filter((r) => r.opcode === 1)).toHaveLength(2 * MESSAGES.length);
      expect(rows.filter((r) => r.opcode === 8)).toHaveLength(2);
    } finally {
      await client?.stop();
      await server.stop();
      await svc.dispose();
    }
  });
});

describe('wsscope serve when the engine dies', () => {
  it('pushes the error to the page, which can reopen the file over the same socket', async () => {
    const site = join(dir, 'site');
    mkdirSync(site, { recursive: true });
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>wsscope</title>');
    const eng = engine('serve');
    const srv = await startServe({ staticDir: site, host: '127.0.0.1', engine: eng, log: () => {} });
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { origin: srv.origin });
    const pushes: WireMessage[] = [];
    const results = new Map<number, (r: Result<unknown>) => void>();
    const waiters: Array<{ pred: (m: WireMessage) => boolean; resolve: (m: WireMessage) => void }> = [];
    ws.on('message', (data, isBinary) => {
      const m = decodeFrame(isBinary ? (data as Buffer) : String(data));
      if (m.t === 'result') results.get(m.id)?.(m.result);
      else pushes.push(m);
      for (const w of waiters.splice(0)) {
        if (w.pred(m)) w.resolve(m);
        else waiters.push(w);
      }
    });
    const push = (pred: (m: WireMessage) => boolean): Promise<WireMessage> => new Promise((resolve) => waiters.push({ pred, resolve }));
    let id = 0;
    const call = (name: string, args: unknown[]): Promise<Result<unknown>> =>
      new Promise((resolve) => {
        const n = ++id;
        results.set(n, resolve);
        ws.send(encodeWire({ t: 'call', id: n, name, args } as WireMessage));
      });
    try {
      await new Promise((r) => ws.once('open', r));
      await eng.ready();
      const loaded = push((m) => m.t === 'push' && m.name === 'progress' && m.payload.done);
      expect(await call('openFile', [BROKER])).toMatchObject({ ok: true });
      await loaded;

      const errorPush = push((m) => m.t === 'push' && m.name === 'error');
      const sessionNone = push((m) => m.t === 'push' && m.name === 'session' && m.payload.kind === 'none');
      const pid = eng.pid as number;
      process.kill(pid, 'SIGKILL');
      const m = await errorPush;
      expect(m.t === 'push' && m.name === 'error' && m.payload).toEqual({
        code: 'engine-crashed',
        message: `The wsscope engine was killed (SIGKILL) while showing ${BROKER}. The file is unchanged: open it again to continue.`,
      });
      await sessionNone;

      // the page reopens it: a fresh engine answers over the same socket
      const again = push((m) => m.t === 'push' && m.name === 'progress' && m.payload.done);
      expect(await call('openFile', [BROKER])).toMatchObject({ ok: true, value: { kind: 'file', path: BROKER } });
      const p = await again;
      expect(p.t === 'push' && p.name === 'progress' && p.payload.packets).toBe(22);
      expect(eng.pid).not.toBe(pid);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    } finally {
      ws.close();
      await srv.close();
      await eng.close();
    }
  });
});

describe('wsscope read with a decoder that throws', () => {
  it('contains the exception to one connection: decoder-error finding, the other connection decoded, exit 0 with the summary', async () => {
    const clean = await readCli([WSTUNNEL, '--json']);
    expect(clean.code).toBe(0);
    const cleanEvents = clean.lines.map((l) => JSON.parse(l) as { type: string; conn?: number; id?: string });
    const cleanMsgs = (conn: number): number => cleanEvents.filter((e) => e.type === 'message' && e.conn === conn).length;
    expect(cleanMsgs(1)).toBeGreaterThan(0);
    expect(cleanMsgs(2)).toBeGreaterThan(0);

    // A module loaded before the CLI registers a WebSocket layer that throws on connection 1's
    // third chunk, the way a plugin registers a module: the stack's boundary must contain it.
    const hook = join(dir, 'throwing-decoder.mjs');
    const registry = pathToFileURL(join(REPO, 'engine', 'stack', 'registry.ts')).href;
    writeFileSync(
      hook,
      `import { defaultRegistry } from ${JSON.stringify(registry)};
const ws = defaultRegistry.get('websocket');
let calls = 0;
defaultRegistry.register({
  ...ws,
  create(ctx, init, meta) {
    const layer = ws.create(ctx, init, meta);
    if (ctx.conn !== 1) return layer;
    return {
      finish: (m) => layer.finish(m),
      open(dir, resync) {
        const s = layer.open(dir, resync);
        return {
          push(bytes, skip, m) {
            if (++calls === 3) throw new Error('injected decoder fault');
            s.push(bytes, skip, m);
          },
          end: (reason, m) => s.end(reason, m),
        };
      },
    };
  },
});
`,
    );
    const cli = await readCli([WSTUNNEL, '--json'], ['--import', 'tsx', '--import', pathToFileURL(hook).href]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const events = cli.lines.map((l) => JSON.parse(l) as { type: string; conn?: number; id?: string; severity?: string; text?: string });
    const fault = events.filter((e) => e.type === 'finding' && e.id === 'decoder-error');
    expect(fault).toHaveLength(1);
    expect(fault[0]).toMatchObject({ conn: 1, severity: 'error' });
    expect(fault[0].text).toContain('in the websocket layer (injected decoder fault)');
    const msgs = (conn: number): number => events.filter((e) => e.type === 'message' && e.conn === conn).length;
    expect(msgs(1)).toBeLessThan(cleanMsgs(1));
    expect(msgs(2)).toBe(cleanMsgs(2));
    expect(events[events.length - 1].type).toBe('summary');
  });
});
