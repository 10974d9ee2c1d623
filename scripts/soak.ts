/**
 * Soak benchmarks: does wsscope's memory stay flat over a long run? (docs/soak.md)
 *
 *   npx tsx scripts/soak.ts file [--gb 5] [--connections 4096] [--seed 1]
 *   npx tsx scripts/soak.ts live [--minutes 30] [--rate 5000] [--size 32] [--backend auto|cap|dumpcap]
 *
 * file: generates (once, into bench-data/, git-ignored) a plain WebSocket capture of --gb
 * 10^9 bytes with scripts/gen-capture.ts, decodes it with `wsscope read FILE --summary --json`
 * as a child process, samples the child's VmRSS every 250 ms and its read progress
 * (/proc/PID/io rchar), and prints RSS per 10% of progress, wall time, MB/s, the flatness
 * verdict (after the first 10%: max <= 1.2x the value at 10%, and < 300 MB) and whether the
 * message count equals the generator's truth sidecar.
 *
 * live: runs scripts/bench-live.ts's traffic generator (npm `ws` client -> server on
 * 127.0.0.1, --rate text messages/s of --size bytes, no permessage-deflate) for --minutes,
 * captured by `wsscope capture -i lo -f 'tcp port P' --json -w /tmp/...pcapng` as a child
 * process whose NDJSON is counted here; samples the VmRSS of the capture CLI and of every
 * descendant (dumpcap, helpers) each second; prints RSS per minute, messages sent vs decoded,
 * drops, and the flatness verdict after a 2-minute warm-up. The pcapng is deleted at the end.
 *
 * Both are benchmarks (they print figures and a verdict; exit status 1 when a check fails),
 * not unit tests. Linux only (reads /proc); live mode needs capture rights on `lo`.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCapture, truthPath, type CaptureTruth } from './gen-capture';
import { bucketMax, flatness, mb, MB, readChars, sampleTree, sparkline, type Flatness, type ProcRss } from './lib/soak-rss';
import { summaryMessages } from './lib/wsscope-cli';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'scripts', 'wsscope.cjs');
const LIMIT = 300 * MB;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function df(dir: string): string {
  try {
    return execFileSync('df', ['-h', dir], { encoding: 'utf8' }).trimEnd();
  } catch {
    return `df ${dir}: unavailable`;
  }
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function verdictLine(label: string, f: Flatness | null): string {
  if (!f) return `${label}: no samples after the warm-up`;
  return (
    `${label}: warm ${mb(f.warm)} MB, after warm-up min ${mb(f.minAfter)} / max ${mb(f.maxAfter)} / end ${mb(f.last)} MB, ` +
    `slope ${((f.slope * 60) / MB).toFixed(3)} MB/min -> ${f.flat ? 'FLAT' : 'NOT FLAT'} (${f.why})`
  );
}

function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once('close', (code) => r(code));
  });
}

// ------------------------------------------------------------------------------- file soak

async function ensureCapture(bytes: number, connections: number, seed: number): Promise<{ file: string; truth: CaptureTruth }> {
  const dir = join(ROOT, 'bench-data');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `ws-plain-seed${seed}-${bytes}B-c${connections}.pcap`);
  if (existsSync(file) && existsSync(truthPath(file))) {
    const truth = JSON.parse(readFileSync(truthPath(file), 'utf8')) as CaptureTruth;
    if (truth.bytes === statSync(file).size && truth.seed === seed && !truth.deflate && truth.connections === connections) {
      console.log(`reusing ${relative(ROOT, file)}`);
      return { file, truth };
    }
  }
  const free = freeBytes(dir);
  console.log(df(dir));
  if (free < bytes * 1.2) throw new Error(`not enough free disk for a ${mb(bytes, 0)} MB capture in ${dir} (${mb(free, 0)} MB free)`);
  const t0 = performance.now();
  const truth = await generateCapture({ out: file, bytes, connections, seed, format: 'pcap' });
  console.log(`generated ${relative(ROOT, file)}: ${mb(truth.bytes)} MB, ${truth.messages} messages, ${truth.connections} connections in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { file, truth };
}

interface FileSample {
  t: number;
  progress: number;
  rss: number;
}

async function fileSoak(gb: number, connections: number, seed: number): Promise<boolean> {
  const bytes = Math.round(gb * 1e9);
  const { file, truth } = await ensureCapture(bytes, connections, seed);
  // build the launcher's cached `read` bundle now, so the timed run does not include esbuild
  execFileSync(process.execPath, [CLI, 'read', '--help'], { stdio: 'ignore' });
  console.log(`decoding ${relative(ROOT, file)} (${mb(truth.bytes)} MB, ${truth.connections} connections, ${truth.messages} messages); load average ${loadavg()}`);

  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'read', file, '--summary', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-16384)));
  const samples: FileSample[] = [];
  const pid = child.pid!;
  const sample = (): void => {
    const tree = sampleTree(pid);
    const rchar = readChars(pid);
    if (tree.length === 0) return;
    const last = samples[samples.length - 1];
    const progress = rchar === null ? (last?.progress ?? 0) : Math.min(1, rchar / truth.bytes);
    samples.push({ t: (performance.now() - t0) / 1000, progress, rss: tree.reduce((a, p) => a + p.rss, 0) });
  };
  const timer = setInterval(sample, 250);
  sample();
  const code = await waitExit(child);
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;

  const messages = summaryMessages(stdout) ?? null;
  const warmIdx = samples.findIndex((s) => s.progress >= 0.1);
  const warmT = warmIdx >= 0 ? samples[warmIdx]!.t : wall * 0.1;
  const f = flatness(samples, warmT, LIMIT);
  const deciles = bucketMax(samples, (s) => s.progress, (s) => s.rss, 10, 0, 1);
  const decileTime = bucketMax(samples, (s) => s.progress, (s) => s.t, 10, 0, 1);

  console.log('\nprogress    RSS max MB   elapsed s');
  deciles.forEach((v, i) => console.log(`${String(i * 10).padStart(3)}-${String(i * 10 + 10).padEnd(3)}%   ${mb(v).padStart(10)}   ${decileTime[i] === null ? '-' : decileTime[i]!.toFixed(1).padStart(9)}`));
  const step = Math.max(1, Math.ceil(samples.length / 60));
  const spark = samples.filter((_, i) => i % step === 0).map((s) => s.rss);
  const all = samples.map((s) => s.rss);
  console.log(`\nRSS over time (${samples.length} samples every 250 ms, ${mb(Math.min(...all))}..${mb(Math.max(...all))} MB): ${sparkline(spark)}`);
  console.log(`wall ${wall.toFixed(1)} s, ${(truth.bytes / MB / wall).toFixed(1)} MB/s, ${Math.round(truth.messages / wall)} messages/s, exit ${code}`);
  console.log(verdictLine('RSS (wsscope read)', f));
  const countOk = messages === truth.messages;
  console.log(`messages: wsscope ${messages ?? '?'} vs truth ${truth.messages} -> ${countOk ? 'OK' : 'MISMATCH'}`);
  if (code !== 0) console.log(`stderr: ${stderr.trim()}`);
  console.log(
    JSON.stringify({
      mode: 'file',
      bytes: truth.bytes,
      connections: truth.connections,
      wall,
      mbPerS: truth.bytes / MB / wall,
      messages,
      truthMessages: truth.messages,
      rssDecilesMB: deciles.map((v) => (v === null ? null : +(v / MB).toFixed(1))),
      flat: f,
      loadavg: loadavg(),
    }),
  );
  return code === 0 && countOk && (f?.flat ?? false);
}

// ------------------------------------------------------------------------------- live soak

interface LiveSample {
  t: number;
  procs: ProcRss[];
  decoded: number;
}

interface GenResult {
  sent: number;
  received: number;
  seconds: number;
}

/** scripts/bench-live.ts --traffic: prints {port}, waits for a line on stdin, sends, prints the result. */
async function startTraffic(rate: number, seconds: number, size: number): Promise<{ port: number; child: ChildProcess; go: () => Promise<GenResult> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-live.ts'), '--traffic', String(rate), '--seconds', String(seconds), '--size', String(size)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  const rl = createInterface({ input: child.stdout! });
  const waiting: Array<(l: string) => void> = [];
  rl.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((r) => waiting.push(r));
  const port = (JSON.parse(await next()) as { port: number }).port;
  return {
    port,
    child,
    go: async () => {
      const result = next();
      child.stdin!.write('go\n');
      return JSON.parse(await result) as GenResult;
    },
  };
}

async function liveSoak(minutes: number, rate: number, size: number, backend: string): Promise<boolean> {
  const seconds = Math.round(minutes * 60);
  // a 32-byte message is one ~110-byte packet plus pcapng block overhead, and about half as
  // many ACKs; 400 B/message leaves a wide margin
  const estimate = rate * seconds * 400;
  console.log(df('/tmp'));
  const free = freeBytes('/tmp');
  if (free < estimate * 2) throw new Error(`not enough free disk in /tmp: ${mb(free, 0)} MB free, the capture may take ${mb(estimate, 0)} MB`);
  const dir = mkdtempSync('/tmp/wsscope-soak-');
  const file = join(dir, 'live.pcapng');
  const children: ChildProcess[] = [];
  try {
    const gen = await startTraffic(rate, seconds, size);
    children.push(gen.child);
    const args = [CLI, 'capture', '-i', 'lo', '-f', `tcp port ${gen.port}`, '--json', '-w', file];
    if (backend !== 'auto') args.push('--backend', backend);
    const cap = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    children.push(cap);
    let decoded = 0;
    let control = 0;
    const findings: Record<string, number> = {};
    let summary: Record<string, unknown> | null = null;
    let carry = '';
    cap.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (carry + chunk).split('\n');
      carry = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('{"type":"message"')) {
          if (l.includes('"opcode":1,')) decoded++;
          else control++;
        } else if (l.startsWith('{"type":"finding"')) {
          const id = (JSON.parse(l) as { id: string }).id;
          findings[id] = (findings[id] ?? 0) + 1;
        } else if (l.startsWith('{"type":"summary"')) summary = JSON.parse(l) as Record<string, unknown>;
      }
    });
    let stderr = '';
    let started: () => void = () => {};
    const startedP = new Promise<void>((r) => (started = r));
    cap.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-16384);
      if (stderr.includes('Capturing on')) started();
    });
    const exited = waitExit(cap);
    await Promise.race([startedP, exited.then(() => Promise.reject(new Error(`wsscope capture exited: ${stderr.trim()}`))), sleep(30_000).then(() => Promise.reject(new Error('wsscope capture did not start in 30 s')))]);
    console.log(`${stderr.trim().split('\n')[0]}`);
    console.log(`traffic: ${rate} messages/s of ${size} B for ${minutes} min on port ${gen.port}; capture CLI pid ${cap.pid}`);
    console.log('minute   CLI MB   children MB (name)          total MB   decoded        +this minute   load avg');

    const samples: LiveSample[] = [];
    const t0 = performance.now();
    let lastMinute = 0;
    let decodedAtMinute = 0;
    const label = (p: ProcRss): string => (p.pid === cap.pid ? 'wsscope capture' : `${p.name}`);
    const sample = (): void => {
      const t = (performance.now() - t0) / 1000;
      const procs = sampleTree(cap.pid!);
      if (procs.length === 0) return;
      samples.push({ t, procs, decoded });
      const minute = Math.floor(t / 60);
      if (minute > lastMinute) {
        lastMinute = minute;
        const inMinute = samples.filter((s) => s.t >= t - 60);
        const cli = Math.max(...inMinute.map((s) => s.procs.find((p) => p.pid === cap.pid)?.rss ?? 0));
        const kids = procs.filter((p) => p.pid !== cap.pid);
        const total = Math.max(...inMinute.map((s) => s.procs.reduce((a, p) => a + p.rss, 0)));
        console.log(
          `${String(minute).padStart(6)}   ${mb(cli).padStart(6)}   ${kids.map((p) => `${mb(p.rss)} (${p.name})`).join(', ').padEnd(26)}   ${mb(total).padStart(8)}   ${String(decoded).padStart(10)}   ${String(decoded - decodedAtMinute).padStart(12)}   ${loadavg()}`,
        );
        decodedAtMinute = decoded;
      }
    };
    const timer = setInterval(sample, 1000);
    const res = await gen.go();
    // every sent message decoded, or nothing new for 5 s (dumpcap delivers up to 250 ms late)
    let last = -1;
    let still = performance.now();
    while (decoded < res.sent && performance.now() - still < 5000) {
      await sleep(50);
      if (decoded !== last) {
        last = decoded;
        still = performance.now();
      }
    }
    sample();
    clearInterval(timer);
    cap.kill('SIGTERM');
    const killTimer = setTimeout(() => cap.kill('SIGKILL'), 60_000);
    const code = await exited;
    clearTimeout(killTimer);
    await waitExit(gen.child);
    const fileBytes = existsSync(file) ? statSync(file).size : 0;

    // ---- report
    const labels = new Map<number, string>();
    for (const s of samples) for (const p of s.procs) if (!labels.has(p.pid)) labels.set(p.pid, label(p));
    console.log(`\nRSS per minute (max of the 1 s samples), MB:`);
    const minutesN = Math.ceil(samples[samples.length - 1]!.t / 60);
    const series = [...labels].map(([pid, name]) => ({
      pid,
      name,
      points: samples.flatMap((s) => {
        const p = s.procs.find((x) => x.pid === pid);
        return p ? [{ t: s.t, rss: p.rss }] : [];
      }),
    }));
    series.push({ pid: 0, name: 'total', points: samples.map((s) => ({ t: s.t, rss: s.procs.reduce((a, p) => a + p.rss, 0) })) });
    console.log(`${'process'.padEnd(24)} ${Array.from({ length: minutesN }, (_, i) => String(i + 1).padStart(6)).join('')}`);
    for (const s of series) {
      const per = bucketMax(s.points, (p) => p.t, (p) => p.rss, minutesN, 0, minutesN * 60);
      console.log(`${`${s.name}${s.pid ? ` [${s.pid}]` : ''}`.padEnd(24)} ${per.map((v) => mb(v).padStart(6)).join('')}`);
    }
    const warmT = Math.min(120, (samples[samples.length - 1]!.t * 2) / 3);
    console.log(`\nflatness after a ${warmT.toFixed(0)} s warm-up (max <= 1.2x the value at the end of the warm-up, and < ${mb(LIMIT, 0)} MB):`);
    const verdicts = series.map((s) => ({ s, f: flatness(s.points, warmT, LIMIT) }));
    for (const { s, f } of verdicts) console.log(verdictLine(`  ${s.name}${s.pid ? ` [${s.pid}]` : ''}`, f));
    const drops = summary === null ? null : ((summary as { drops?: number | null }).drops ?? null);
    console.log(
      `\nsent ${res.sent} in ${res.seconds.toFixed(1)} s (${Math.round(res.sent / res.seconds)}/s), received by the server ${res.received}, decoded ${decoded} text messages (+${control} control), ` +
        `lost ${res.sent - decoded}; drops ${drops === null ? 'not reported' : drops}; findings ${JSON.stringify(findings)}; ` +
        `capture file ${mb(fileBytes)} MB; capture exit ${code}; summary ${JSON.stringify(summary)}`,
    );
    const allFlat = verdicts.every((v) => v.f?.flat ?? false);
    console.log(
      JSON.stringify({
        mode: 'live',
        minutes,
        rate,
        size,
        backend,
        sent: res.sent,
        decoded,
        drops,
        findings,
        fileBytes,
        flat: Object.fromEntries(verdicts.map(({ s, f }) => [`${s.name}${s.pid ? `[${s.pid}]` : ''}`, f])),
        loadavg: loadavg(),
      }),
    );
    return code === 0 && decoded === res.sent && allFlat;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    console.log(`deleted ${dir}`);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      gb: { type: 'string', default: '5' },
      connections: { type: 'string', default: '4096' },
      seed: { type: 'string', default: '1' },
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '5000' },
      size: { type: 'string', default: '32' },
      backend: { type: 'string', default: 'auto' },
    },
  });
  const mode = positionals[0];
  let ok: boolean;
  if (mode === 'file') ok = await fileSoak(Number(values.gb), Number(values.connections), Number(values.seed));
  else if (mode === 'live') ok = await liveSoak(Number(values.minutes), Number(values.rate), Number(values.size), values.backend!);
  else {
    console.error('usage: tsx scripts/soak.ts file [--gb 5] [--connections 4096] [--seed 1] | live [--minutes 30] [--rate 5000] [--size 32] [--backend auto|cap|dumpcap]');
    process.exitCode = 2;
    return;
  }
  console.log(ok ? 'soak: PASS' : 'soak: FAIL');
  process.exitCode = ok ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
