/**
 * WebSocket traffic for the live benchmarks (scripts/bench-live.ts, scripts/bench-ui.ts): a
 * child process runs an npm `ws` server and client on 127.0.0.1 (an ephemeral port, so runs
 * never collide with other traffic on `lo`) and, once told to go, sends `rate` text messages
 * per second of `size` bytes, client to server, in 1 ms ticks, without permessage-deflate,
 * for `seconds`; then closes with 1000 (2 close frames on the wire).
 *
 *   node --import tsx scripts/lib/bench-traffic.ts RATE SECONDS SIZE
 *   stdout: {"port":N}            then waits for a line on stdin ("go")
 *           {"sent":N,"received":N,"seconds":S}  when done, and exits
 *
 * A separate process, so the sender's event loop is not the measuring process's.
 * Memory: one payload string, reused for every message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

const SELF = fileURLToPath(import.meta.url);

export interface TrafficResult {
  sent: number;
  received: number;
  /** seconds from the first send to the last */
  seconds: number;
}

export interface Generator {
  port: number;
  child: ChildProcess;
  /** start sending; resolves when the sender is done and closed */
  go(): Promise<TrafficResult>;
  /** kill the child if it is still running (after a failure) */
  kill(): void;
}

/** The generator's body: run in the child (also `scripts/bench-live.ts --traffic RATE`, which scripts/soak.ts uses). */
export async function traffic(rate: number, seconds: number, size: number): Promise<void> {
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

/** Start a traffic child; resolves once its server listens (its port is known). */
export function startGenerator(rate: number, seconds: number, size: number): Promise<Generator> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, String(rate), String(seconds), String(size)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  const rl = createInterface({ input: child.stdout! });
  const waiting: Array<{ ok: (l: string) => void; fail: (e: Error) => void }> = [];
  rl.on('line', (l) => waiting.shift()?.ok(l));
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.fail(new Error(`traffic generator exited with ${code}`));
  });
  const next = (): Promise<string> => new Promise((ok, fail) => waiting.push({ ok, fail }));
  return next().then((l) => ({
    port: (JSON.parse(l) as { port: number }).port,
    child,
    go: async () => {
      const result = next();
      child.stdin!.write('go\n');
      return JSON.parse(await result) as TrafficResult;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  }));
}

if (process.argv[1] === SELF) {
  const [rate, seconds, size] = process.argv.slice(2).map(Number);
  if (!(rate! > 0 && seconds! > 0 && size! >= 0)) {
    process.stderr.write('usage: bench-traffic.ts RATE SECONDS SIZE\n');
    process.exit(2);
  }
  void traffic(rate!, seconds!, size!);
}
