/**
 * Order after TCP loss, on a real conversation: two `ws` connections recorded with dumpcap on
 * `lo` (a 1 MiB client message, then pings both ways and a few messages; then a second
 * connection), three segments of the 1 MiB message deleted with `editcap`, and the result
 * decoded by the engine and by `wsscope read --json`. The peer's ACKs show the deleted bytes
 * were received, so the hole is declared at once: every message comes out in capture-time
 * order, the second connection's events after the first's, no pong is taken for unsolicited,
 * and the cut message is marked truncated with its `tcp-gap` finding.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { captureLo } from './peers/capture';
import { analyzeFile } from '../engine/pipeline';
import { REPO_ROOT } from './kit/paths';
import type { EngineEvent, FrameEvent, MessageEvent } from '../shared/events';

const BIG = 1 << 20;
let dir: string;
let cut: string;
let whole: EngineEvent[];

/** resolves with the next event `name` of `em` (its arguments) */
function next(em: { once(name: string, f: (...a: unknown[]) => void): unknown }, name: string): Promise<unknown[]> {
  return new Promise((resolve) => em.once(name, (...a: unknown[]) => resolve(a)));
}

/** does `act` and waits for `name` on `on` (listening first, so the answer cannot be missed) */
async function exchange(on: { once(name: string, f: (...a: unknown[]) => void): unknown }, name: string, act: () => void): Promise<void> {
  const p = next(on, name);
  act();
  await p;
}

async function conversation(port: number, wss: WebSocketServer): Promise<void> {
  // connection 1: a 1 MiB message, an answer, pings both ways, a last message, close
  const c = new WebSocket(`ws://127.0.0.1:${port}/big`);
  const [server] = (await Promise.all([next(wss, 'connection'), next(c, 'open')]))[0] as [WebSocket];
  const big = new Uint8Array(BIG).map((_, i) => (i * 7) & 0xff);
  await exchange(server, 'message', () => c.send(big));
  await exchange(c, 'message', () => server.send('got it'));
  await exchange(c, 'pong', () => c.ping('client ping'));
  await exchange(server, 'pong', () => server.ping('server ping'));
  await exchange(server, 'message', () => c.send('tail'));
  await exchange(c, 'close', () => c.close(1000, 'done'));
  // connection 2, after the first has ended
  const c2 = new WebSocket(`ws://127.0.0.1:${port}/second`);
  const [s2] = (await Promise.all([next(wss, 'connection'), next(c2, 'open')]))[0] as [WebSocket];
  await exchange(s2, 'message', () => c2.send('second connection'));
  await exchange(c2, 'close', () => c2.close(1000, 'bye'));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-loss-'));
  const file = join(dir, 'conversation.pcapng');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await next(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const live = await captureLo({ backend: 'dumpcap', port, file });
  try {
    await conversation(port, wss);
    const ended = (evs: EngineEvent[]): boolean => evs.filter((e) => e.type === 'connection-end').length >= 2;
    await live.until(ended, 'both connections to end');
  } finally {
    await live.stop();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  whole = [];
  await analyzeFile(file, (e) => whole.push(e));
  // the packets that carry the middle of the 1 MiB message (client to server, with payload)
  const msg = whole.find((e): e is MessageEvent => e.type === 'message' && e.length === BIG);
  if (!msg) throw new Error('the recording holds no 1 MiB message');
  const frame = whole.find((e): e is FrameEvent => e.type === 'frame' && e.index === msg.frames[0]) as FrameEvent;
  const clientPort = (whole.find((e) => e.type === 'connection') as { client: string }).client.split(':')[1];
  const rows = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.srcport', '-e', 'tcp.len'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t').map(Number));
  const carrying = rows.filter(([no, sp, len]) => no > frame.firstPacket && no < frame.packet && String(sp) === clientPort && len > 0).map(([no]) => no);
  if (carrying.length < 6) throw new Error(`the 1 MiB message crossed in only ${carrying.length + 2} segments`);
  const drop = [1, Math.floor(carrying.length / 2), carrying.length - 2].map((i) => carrying[i]);
  cut = join(dir, 'cut.pcapng');
  execFileSync('editcap', [file, cut, ...drop.map(String)]);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const messages = (evs: EngineEvent[]): MessageEvent[] => evs.filter((e): e is MessageEvent => e.type === 'message');

/** the checks both the engine's and the CLI's events must pass */
function checkOrder(evs: Array<{ type: string; ts?: number; conn?: number; id?: unknown; frame?: number }>): void {
  const ms = evs.filter((e) => e.type === 'message');
  const ts = ms.map((m) => m.ts as number);
  expect(ts, 'message events in capture-time order').toEqual([...ts].sort((a, b) => a - b));
  // nothing of the first connection after the second one appears
  const second = evs.findIndex((e) => e.type === 'connection' && e.id === 2);
  expect(second).toBeGreaterThan(0);
  expect(evs.slice(second).filter((e) => e.type === 'message' && e.conn === 1)).toEqual([]);
  const ids = evs.filter((e) => e.type === 'finding').map((e) => e.id);
  expect(ids).not.toContain('unsolicited-pong');
  expect(ids).not.toContain('pong-mismatch');
}

describe('order after TCP loss in a real conversation with three segments deleted', () => {
  it('records a clean conversation first (the reference)', () => {
    expect(whole.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
    expect(messages(whole).map((m) => [m.conn, m.dir, m.opcode])).toEqual([
      [1, 'client', 2],
      [1, 'server', 1],
      [1, 'client', 9],
      [1, 'server', 10],
      [1, 'server', 9],
      [1, 'client', 10],
      [1, 'client', 1],
      [1, 'client', 8],
      [1, 'server', 8],
      [2, 'client', 1],
      [2, 'client', 8],
      [2, 'server', 8],
    ]);
  });

  it('decodes every message in capture-time order, pongs matched, the cut message marked (engine)', async () => {
    const evs: EngineEvent[] = [];
    await analyzeFile(cut, (e) => evs.push(e));
    checkOrder(evs);
    const ms = messages(evs);
    // the same messages as in the whole recording, in the same order
    expect(ms.map((m) => [m.conn, m.dir, m.opcode])).toEqual(messages(whole).map((m) => [m.conn, m.dir, m.opcode]));
    const big = ms[0];
    expect([big.truncated, big.wireLength]).toEqual([true, BIG]);
    const gaps = evs.filter((e) => e.type === 'finding' && e.id === 'tcp-gap');
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.type === 'finding' && g.conn === 1 && g.dir === 'client' && g.frame === big.frames[0])).toBe(true);
    expect(ms.slice(1).every((m) => !m.truncated)).toBe(true);
  });

  it('prints the same order through wsscope read --json (CLI)', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), 'read', cut, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const evs = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; ts?: number; conn?: number; id?: unknown; length?: number; dir?: string });
    checkOrder(evs);
    // the wire form has no `truncated` yet: the cut message is shorter than the 1 MiB sent
    const big = evs.find((e) => e.type === 'message');
    expect(big && big.dir === 'client' && (big.length ?? BIG) < BIG).toBe(true);
    expect(evs.some((e) => e.type === 'finding' && e.id === 'tcp-gap' && e.conn === 1 && e.dir === 'client')).toBe(true);
  });
});
