/**
 * `npm run fuzz`: mutation fuzzer of the capture decoder.
 *
 *   tsx scripts/fuzz.ts [--count N] [--seed S] [--time-limit-ms 5000] [--rss-limit-mb 512]
 *                       [--workers 1] [--out fuzz-out]
 *
 * Sources: the public captures (test/captures/public, or the folder in $WSSCOPE_PUBLIC_CAPTURES),
 * resources/samples/*.pcapng, the committed corpus (test/corpus) and, made for the run, wss://
 * captures decoded with their key logs (scripts/lib/fuzz-tls.ts). Input i gets its own seed
 * (derived from --seed and i), which picks the source and the mutation (scripts/lib/fuzz-mutate:
 * ~2% byte errors like `editcap -E 0.02`, truncation, interesting values, splices, and record
 * shuffles, duplicates, drops, snap cuts); every 8th input is the subprotocol shape instead
 * (scripts/lib/fuzz-app: well-framed WebSocket messages with mutated Socket.IO, MQTT, STOMP,
 * ... content). Each input is decoded in a worker process under a
 * time and memory limit (scripts/lib/fuzz-runner). A crash (exception escaping the engine, or
 * a worker that dies), a hang (over the time limit) or an RSS over the limit is a failure; the
 * input is saved to --out with its seed. Exit status 1 on any failure.
 *
 * Every FLOOD_EVERY-th input is a flow flood instead (scripts/gen-flood.ts, `floodInput`):
 * 12,000-30,000 SYNs that never complete or complete connections without payload, started
 * 100 to 100,000 per second of capture time (so both the cap and idle eviction by time are
 * hit), decoded under the same time and RSS limits.
 *
 * Every BOMB_EVERY-th input is a multi-connection decompression bomb (scripts/gen-bombs.ts,
 * `bombInput`): 2-9 permessage-deflate connections, each sending 1-2 messages that inflate to
 * 1, 8 or 80 MiB (past the 64 MiB per-message limit), so the per-message, per-connection and
 * per-file inflate budgets are hit side by side; same limits.
 *
 * Last line: `fuzz: N inputs, C crashes, H hangs, max RSS M MiB`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFlood, type FloodOptions } from './gen-flood';
import { writeConnBomb, type ConnBomb } from './gen-bombs';
import { parseArgs } from 'node:util';
import { FuzzPool, type JobResult } from './lib/fuzz-runner';
import { mutate, parseRecords } from './lib/fuzz-mutate';
import { tlsShapeSources } from './lib/fuzz-tls';
import { APP_EVERY, APP_SOURCE, appInput } from './lib/fuzz-app';
import { CORPUS, PUBLIC_CAPTURES, REPO_ROOT } from '../test/kit/paths';

const PUBLIC = process.env.WSSCOPE_PUBLIC_CAPTURES ?? PUBLIC_CAPTURES;

export interface FuzzOptions {
  count: number;
  seed: number;
  timeLimitMs: number;
  rssLimitMb: number;
  workers: number;
  out: string;
  /** progress lines to stderr every ~2 s */
  progress: boolean;
  /** sources override (default: public captures, samples, corpus) */
  sources?: string[];
}

export interface FuzzStats {
  inputs: number;
  crashes: number;
  hangs: number;
  rssOver: number;
  /** inputs where the engine caught an internal error itself (not a crash, but a bug) */
  swallowed: number;
  maxRssMb: number;
  /** slowest input, ms */
  maxMs: number;
  seconds: number;
  failures: Array<{ index: number; seed: number; source: string; status: string; desc?: string; error?: string; saved: string }>;
  /** inputs per mutation kind (first word of the description) */
  kinds: Record<string, number>;
}

/** Capture files in `dir`; a missing folder throws (every default source is in the repository). */
function listCaptures(dir: string, exts: RegExp): string[] {
  return readdirSync(dir)
    .filter((f) => exts.test(f))
    .sort()
    .map((f) => join(dir, f));
}

export function defaultSources(): string[] {
  return [
    ...listCaptures(PUBLIC, /\.(pcap|pcapng)$/),
    ...listCaptures(join(REPO_ROOT, 'resources/samples'), /\.pcapng$/),
    ...listCaptures(CORPUS, /\.(pcap|pcapng|pcap\.gz)$/),
  ];
}

/** one input in this many is a flow flood */
export const FLOOD_EVERY = 50;

/** The flow-flood input of seed `s`: its shape, size and pace (see the module comment). */
export function floodInput(dir: string, s: number): FloodOptions {
  return { out: join(dir, `flood-${s}.pcap`), shape: s & 1 ? 'syn' : 'tiny', flows: 12_000 + (s % 18_001), rate: [100, 1000, 100_000][s % 3]!, seed: s };
}

/** one input in this many is a multi-connection bomb (at a different index than the floods) */
export const BOMB_EVERY = 100;

/** The multi-connection bomb of seed `s` (see the module comment). */
export function bombInput(s: number): ConnBomb {
  return { connections: 2 + (s % 8), messages: 1 + ((s >>> 3) & 1), mib: [1, 8, 80][(s >>> 4) % 3]! };
}

/** splitmix32 of (seed, i): independent seeds per input */
export function inputSeed(seed: number, i: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** the input a seed makes of source file `path` */
function mutatedSource(path: string, seed: number): { bytes: Uint8Array; desc: string } {
  const file = readFileSync(path);
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.length);
  return mutate(bytes, parseRecords(bytes), seed);
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzStats> {
  // the TLS shape: generated wss captures with their keys, in a folder deleted at the end
  const tlsDir = o.sources ? null : mkdtempSync(join(tmpdir(), 'wsscope-fuzz-tls-'));
  try {
    return await fuzzSources(o, o.sources ?? [...defaultSources(), ...(await tlsShapeSources(tlsDir!))]);
  } finally {
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
  }
}

async function fuzzSources(o: FuzzOptions, sources: string[]): Promise<FuzzStats> {
  if (sources.length === 0) throw new Error('fuzz: no source captures found');
  const pool = new FuzzPool({ workers: o.workers, timeLimitMs: o.timeLimitMs, rssLimitMb: o.rssLimitMb, sources });
  const st: FuzzStats = { inputs: 0, crashes: 0, hangs: 0, rssOver: 0, swallowed: 0, maxRssMb: 0, maxMs: 0, seconds: 0, failures: [], kinds: {} };
  const t0 = performance.now();
  let lastReport = t0;
  let next = 0;

  const save = (i: number, s: number, src: number, r: JobResult): void => {
    mkdirSync(o.out, { recursive: true });
    const m = src === APP_SOURCE ? appInput(s) : mutatedSource(sources[src]!, s);
    const base = join(o.out, `${r.error?.startsWith('swallowed') ? 'swallowed' : r.status}-seed${o.seed}-i${i}`);
    writeFileSync(`${base}.pcapng`, m.bytes);
    const info = { seed: o.seed, index: i, inputSeed: s, source: sources[src] ?? 'app shape', mutation: m.desc, status: r.status, ms: r.ms, rssMb: r.rss, error: r.error };
    writeFileSync(`${base}.json`, JSON.stringify(info, null, 1) + '\n');
    st.failures.push({ index: i, seed: s, source: sources[src] ?? 'app shape', status: r.status, desc: m.desc, error: r.error, saved: `${base}.pcapng` });
  };

  const floods = mkdtempSync(join(tmpdir(), 'wsscope-fuzz-flood-'));
  /** A generated input (`make` writes it to its path), decoded and saved when it fails. */
  const generated = async (i: number, s: number, path: string, make: () => void, source: string, desc: string): Promise<JobResult> => {
    make();
    const r = await pool.run({ type: 'file', id: i, path });
    if (r.status !== 'ok' || r.swallowed) {
      mkdirSync(o.out, { recursive: true });
      const saved = join(o.out, `${r.status}-seed${o.seed}-i${i}.pcap`);
      copyFileSync(path, saved);
      st.failures.push({ index: i, seed: s, source, status: r.status, desc, error: r.error ?? r.swallowed, saved });
    }
    rmSync(path, { force: true });
    return { ...r, desc };
  };
  const flood = (i: number, s: number): Promise<JobResult> => {
    const f = floodInput(floods, s);
    return generated(i, s, f.out, () => generateFlood(f), 'gen-flood', `flood ${f.shape} ${f.flows} flows at ${f.rate}/s`);
  };
  const bomb = (i: number, s: number): Promise<JobResult> => {
    const b = bombInput(s);
    const path = join(floods, `bomb-${s}.pcap`);
    return generated(i, s, path, () => writeConnBomb(path, b), 'gen-bombs', `bomb ${b.connections} connections x ${b.messages} x ${b.mib} MiB`);
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= o.count) return;
      const s = inputSeed(o.seed, i);
      // every APP_EVERY-th input: the subprotocol shape (scripts/lib/fuzz-app.ts)
      const src = i % APP_EVERY === APP_EVERY - 1 ? APP_SOURCE : s % sources.length;
      const isFlood = i % FLOOD_EVERY === FLOOD_EVERY - 1;
      const isBomb = !isFlood && i % BOMB_EVERY === BOMB_EVERY / 2 + 24;
      const r = isFlood ? await flood(i, s) : isBomb ? await bomb(i, s) : await pool.run({ type: 'fuzz', id: i, seed: s, source: src });
      st.inputs++;
      const kind = (r.desc ?? '?').split(' ')[0]!;
      st.kinds[kind] = (st.kinds[kind] ?? 0) + 1;
      if (r.ms > st.maxMs && r.status === 'ok') st.maxMs = r.ms;
      if (r.status === 'crash' || r.status === 'died') st.crashes++;
      else if (r.status === 'hang') st.hangs++;
      else if (r.status === 'rss') st.rssOver++;
      if (isFlood || isBomb) {
        if (r.swallowed) st.swallowed++;
      } else if (r.status !== 'ok') save(i, s, src, r);
      else if (r.swallowed) {
        st.swallowed++;
        save(i, s, src, { ...r, status: 'ok', error: `swallowed: ${r.swallowed}` });
      }
      const now = performance.now();
      if (o.progress && now - lastReport > 2000) {
        lastReport = now;
        const rate = st.inputs / ((now - t0) / 1000);
        process.stderr.write(`fuzz: ${st.inputs}/${o.count} inputs, ${st.crashes} crashes, ${st.hangs} hangs, ${st.rssOver} over RSS, max RSS ${pool.maxRss.toFixed(0)} MiB, ${rate.toFixed(0)} inputs/s\n`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.workers }, worker));
  } finally {
    pool.close();
    rmSync(floods, { recursive: true, force: true });
  }
  st.maxRssMb = pool.maxRss;
  st.seconds = (performance.now() - t0) / 1000;
  return st;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      'time-limit-ms': { type: 'string', default: '5000' },
      'rss-limit-mb': { type: 'string', default: '512' },
      workers: { type: 'string', default: '1' },
      out: { type: 'string', default: join(REPO_ROOT, 'fuzz-out') },
    },
  });
  const o: FuzzOptions = {
    count: Number(values.count),
    seed: Number(values.seed),
    timeLimitMs: Number(values['time-limit-ms']),
    rssLimitMb: Number(values['rss-limit-mb']),
    workers: Math.max(1, Number(values.workers)),
    out: resolve(values.out!),
    progress: true,
  };
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`fuzz: --${k} is not a number`);
  const st = await runFuzz(o);
  for (const f of st.failures.slice(0, 20)) process.stderr.write(`FAIL ${f.status} input ${f.index} (seed ${f.seed}) ${f.source} [${f.desc}] -> ${f.saved}\n  ${(f.error ?? '').split('\n').slice(0, 3).join('\n  ')}\n`);
  process.stderr.write(`mutations: ${Object.entries(st.kinds).map(([k, n]) => `${k} ${n}`).join(', ')}; slowest input ${st.maxMs.toFixed(0)} ms; ${st.seconds.toFixed(1)} s; ${st.rssOver} over the RSS limit; ${st.swallowed} with an internal error the engine swallowed\n`);
  process.stdout.write(`fuzz: ${st.inputs} inputs, ${st.crashes} crashes, ${st.hangs} hangs, max RSS ${st.maxRssMb.toFixed(0)} MiB\n`);
  return st.crashes + st.hangs + st.rssOver > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main();
}
