/**
 * Live-capture benchmark on `lo`: sustained WebSocket message rate that wsscope captures,
 * writes and decodes completely (and with 0 drops where the backend can tell), and the
 * packet-to-event latency (packet time stamp -> message event), per backend, beside dumpcap
 * alone on the same traffic.
 *
 *   npx tsx scripts/bench-live.ts [--seconds 3] [--rates 20000,50000,100000] [--backends cap,dumpcap] [--size 32]
 *
 * Traffic: a generator process (this script with --traffic) runs an npm `ws` server and
 * client on 127.0.0.1 and sends `rate` text messages per second of `size` bytes, client to
 * server, in 1 ms ticks, without permessage-deflate, for `seconds`. Must run as root (or
 * with capture rights). Prints one table row per run and a JSON line with every figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { startLiveCapture } from '../engine/capture/live';
import { parseDumpcapStats, findDumpcap } from '../engine/capture/live-dumpcap';
import { Pipeline } from '../engine/pipeline';

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------- traffic generator

async function traffic(rate: number, seconds: number, size: number): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  let received = 0;
  wss.on('connection', (ws) => ws.on('message', () => received++));
  const port = (wss.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  // wait for "go" on stdin: the capture is running
  await new Promise<void>((r) => createInterface({ input: process.stdin }).once('line', () => r()));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise<void>((r) => ws.once('open', () => r()));
  const payload = 'x'.repeat(size);
  let sent = 0;
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.round(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        ws.send(payload);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - t0) / 1000;
  // let the server read everything, then close
  const deadline = performance.now() + 10_000;
  while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  ws.close(1000, 'done');
  await new Promise<void>((r) => ws.once('close', () => r()));
  process.stdout.write(`${JSON.stringify({ sent, received, seconds: elapsed })}\n`);
  wss.close();
  process.exit(0);
}

interface Generator {
  port: number;
  child: ChildProcess;
  go(): Promise<{ sent: number; received: number; seconds: number }>;
}

function startGenerator(rate: number, seconds: number, size: number): Promise<Generator> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--traffic', String(rate), '--seconds', String(seconds), '--size', String(size)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: join(SELF, '..', '..'),
  });
  const rl = createInterface({ input: child.stdout! });
  const lines: Array<(l: string) => void> = [];
  rl.on('line', (l) => lines.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => lines.push(r));
  return next().then((l) => ({
    port: (JSON.parse(l) as { port: number }).port,
    child,
    go: async () => {
      const result = next();
      child.stdin!.write('go\n');
      return JSON.parse(await result) as { sent: number; received: number; seconds: number };
    },
  }));
}

// ---------------------------------------------------------------- measurements

interface Row {
  backend: string;
  rate: number;
  sent: number;
  msgsPerSec: number;
  decoded: number;
  packets: number;
  pktsPerSec: number;
  drops: number | null;
  p50ms: number;
  p99ms: number;
  maxms: number;
  /** finding ids seen (e.g. tcp-gap when bytes were lost), with counts */
  findings: Record<string, number>;
}

const pct = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function benchWsscope(backend: 'cap' | 'dumpcap', rate: number, seconds: number, size: number, dir: string): Promise<Row> {
  const gen = await startGenerator(rate, seconds, size);
  let decoded = 0;
  const lat: number[] = [];
  const origin = performance.timeOrigin;
  const findings: Record<string, number> = {};
  let truncated = 0;
  const pipe = new Pipeline((ev) => {
    if (ev.type === 'message' && ev.opcode === 1) {
      decoded++;
      lat.push(origin + performance.now() - ev.ts * 1000);
    } else if (ev.type === 'finding') findings[ev.id] = (findings[ev.id] ?? 0) + 1;
  });
  const r = await startLiveCapture(
    { iface: 'lo', filter: `tcp port ${gen.port}`, backend, file: join(dir, `${backend}-${rate}.pcapng`) },
    {
      packet: (rec) => {
        if (rec.origLen > rec.data.length) truncated++;
        pipe.packet(rec);
      },
      problem: (p) => pipe.problem(p),
    },
  );
  if (!r.ok) throw new Error(`${backend}: ${r.error.message}`);
  const res = await gen.go();
  // wait until every sent message is decoded (or nothing moves for 3 s)
  let last = -1;
  let still = performance.now();
  while (decoded < res.sent) {
    await new Promise((x) => setTimeout(x, 20));
    if (decoded !== last) {
      last = decoded;
      still = performance.now();
    } else if (performance.now() - still > 3000) break;
  }
  const status = await r.value.stop();
  pipe.finish();
  lat.sort((a, b) => a - b);
  return {
    backend: `wsscope/${backend}`,
    rate,
    sent: res.sent,
    msgsPerSec: Math.round(res.sent / res.seconds),
    decoded,
    packets: status.packets,
    pktsPerSec: Math.round(status.packets / res.seconds),
    drops: status.drops,
    p50ms: pct(lat, 50),
    p99ms: pct(lat, 99),
    maxms: lat.length ? lat[lat.length - 1] : NaN,
    findings: truncated ? { ...findings, 'packets-cut-by-snaplen': truncated } : findings,
  };
}

async function benchDumpcapAlone(rate: number, seconds: number, size: number, dir: string): Promise<Row> {
  const dumpcap = findDumpcap();
  if (!dumpcap) throw new Error('dumpcap is not installed');
  const gen = await startGenerator(rate, seconds, size);
  const child = spawn(dumpcap, ['-i', 'lo', '-f', `tcp port ${gen.port}`, '-B', '64', '-w', join(dir, `dumpcap-alone-${rate}.pcapng`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr += s));
  // dumpcap prints "File: ..." once it captures
  while (!/File: /.test(stderr)) await new Promise((x) => setTimeout(x, 10));
  const res = await gen.go();
  await new Promise((x) => setTimeout(x, 500)); // its 250 ms read timeout, then stop
  child.kill('SIGTERM');
  await new Promise((x) => child.once('close', x));
  const stats = parseDumpcapStats(stderr);
  return {
    backend: 'dumpcap alone',
    rate,
    sent: res.sent,
    msgsPerSec: Math.round(res.sent / res.seconds),
    decoded: NaN,
    packets: stats?.received ?? NaN,
    pktsPerSec: Math.round((stats?.received ?? NaN) / res.seconds),
    drops: stats?.drops ?? null,
    p50ms: NaN,
    p99ms: NaN,
    maxms: NaN,
    findings: {},
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      traffic: { type: 'string' },
      seconds: { type: 'string', default: '3' },
      size: { type: 'string', default: '32' },
      rates: { type: 'string', default: '20000,50000,100000' },
      backends: { type: 'string', default: 'cap,dumpcap' },
    },
  });
  const seconds = Number(values.seconds);
  const size = Number(values.size);
  if (values.traffic) return traffic(Number(values.traffic), seconds, size);
  const dir = mkdtempSync(join(tmpdir(), 'wsscope-bench-live-'));
  const rows: Row[] = [];
  try {
    for (const rate of values.rates!.split(',').map(Number)) {
      for (const b of values.backends!.split(',')) rows.push(await benchWsscope(b as 'cap' | 'dumpcap', rate, seconds, size, dir));
      rows.push(await benchDumpcapAlone(rate, seconds, size, dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const f = (n: number, d = 1): string => (Number.isNaN(n) ? '-' : n.toFixed(d));
  console.log('backend            target/s     sent/s  decoded/sent   packets/s  drops    p50 ms   p99 ms   max ms  findings');
  for (const r of rows) {
    console.log(
      `${r.backend.padEnd(18)} ${String(r.rate).padStart(8)} ${String(r.msgsPerSec).padStart(10)} ${`${Number.isNaN(r.decoded) ? '-' : r.decoded}/${r.sent}`.padStart(13)} ${String(r.pktsPerSec).padStart(11)} ${String(r.drops ?? 'n/a').padStart(6)} ${f(r.p50ms).padStart(9)} ${f(r.p99ms).padStart(8)} ${f(r.maxms).padStart(8)}  ${Object.entries(r.findings).map(([k, v]) => `${k}:${v}`).join(' ')}`,
    );
  }
  console.log(JSON.stringify({ seconds, size, rows }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
