/**
 * RSS sampling for the soak benchmarks (scripts/soak.ts): a process and all its
 * descendants, read from Linux /proc (VmRSS in /proc/PID/status, children from
 * /proc/PID/task/TID/children), plus the flatness verdict and text renderings.
 *
 * Contract: every function is synchronous and cheap (a few small /proc reads); a process
 * that exits between two reads is skipped, never an error. Linux only.
 * Memory: a sample is a small array; the caller owns the series it accumulates.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** 10^6 bytes: RSS and throughput in the same (decimal) MB as scripts/bench.ts */
export const MB = 1e6;

export interface ProcRss {
  pid: number;
  /** /proc/PID/status Name (comm, at most 15 characters: "node", "dumpcap", ...) */
  name: string;
  /** bytes */
  rss: number;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process exited
  }
}

/** Name and VmRSS of one process, or null when it is gone (or a zombie, which has no VmRSS). */
export function readRss(pid: number): ProcRss | null {
  const s = readOrNull(`/proc/${pid}/status`);
  if (s === null) return null;
  const name = /^Name:\s*(.*)$/m.exec(s)?.[1] ?? '?';
  const kb = /^VmRSS:\s*(\d+)\s*kB/m.exec(s)?.[1];
  if (kb === undefined) return null;
  return { pid, name, rss: Number(kb) * 1024 };
}

/** Direct children of pid, over all its threads (a child may belong to any thread). */
export function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    const c = readOrNull(`/proc/${pid}/task/${tid}/children`);
    if (c) for (const p of c.trim().split(/\s+/)) if (p) out.push(Number(p));
  }
  return out;
}

/** The process and every descendant (depth-bounded against pid reuse cycles). */
export function sampleTree(root: number): ProcRss[] {
  const out: ProcRss[] = [];
  const todo: Array<[number, number]> = [[root, 0]];
  while (todo.length > 0) {
    const [pid, depth] = todo.shift()!;
    const r = readRss(pid);
    if (r) out.push(r);
    if (depth < 8) for (const c of childrenOf(pid)) todo.push([c, depth + 1]);
  }
  return out;
}

/** Bytes read by the process so far (/proc/PID/io rchar: counts pread too), or null. */
export function readChars(pid: number): number | null {
  const s = readOrNull(`/proc/${pid}/io`);
  const m = s === null ? undefined : /^rchar:\s*(\d+)/m.exec(s)?.[1];
  return m === undefined ? null : Number(m);
}

export interface Flatness {
  /** RSS at the end of the warm-up (the first sample at or after it) */
  warm: number;
  minAfter: number;
  maxAfter: number;
  last: number;
  /** least-squares slope after the warm-up, bytes per second of the run */
  slope: number;
  flat: boolean;
  why: string;
}

/**
 * The soak verdict: flat when, after the warm-up, RSS never exceeds 1.2x its value at the
 * end of the warm-up and stays below `limit` bytes.
 */
export function flatness(series: Array<{ t: number; rss: number }>, warmupT: number, limit = 300 * MB): Flatness | null {
  const after = series.filter((s) => s.t >= warmupT);
  if (after.length === 0) return null;
  const warm = after[0]!.rss;
  let minAfter = Infinity;
  let maxAfter = 0;
  let st = 0;
  let sr = 0;
  for (const s of after) {
    minAfter = Math.min(minAfter, s.rss);
    maxAfter = Math.max(maxAfter, s.rss);
    st += s.t;
    sr += s.rss;
  }
  const n = after.length;
  const mt = st / n;
  const mr = sr / n;
  let num = 0;
  let den = 0;
  for (const s of after) {
    num += (s.t - mt) * (s.rss - mr);
    den += (s.t - mt) ** 2;
  }
  const slope = den > 0 ? num / den : 0;
  const ratioOk = maxAfter <= 1.2 * warm;
  const limitOk = maxAfter < limit;
  const flat = ratioOk && limitOk;
  const why = flat
    ? `max ${(maxAfter / MB).toFixed(1)} MB <= 1.2 x ${(warm / MB).toFixed(1)} MB and < ${limit / MB} MB`
    : [!ratioOk ? `max ${(maxAfter / MB).toFixed(1)} MB > 1.2 x ${(warm / MB).toFixed(1)} MB` : '', !limitOk ? `max ${(maxAfter / MB).toFixed(1)} MB >= ${limit / MB} MB` : '']
        .filter(Boolean)
        .join('; ');
  return { warm, minAfter, maxAfter, last: after[n - 1]!.rss, slope, flat, why };
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between min and max of the values (a flat line when equal). */
export function sparkline(values: number[]): string {
  if (values.length === 0) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi > lo ? Math.min(BARS.length - 1, Math.floor(((v - lo) / (hi - lo)) * BARS.length)) : 0]).join('');
}

/** Split the series into `buckets` equal spans of `key` (0..1 or time) and take each span's max. */
export function bucketMax<T>(series: T[], key: (s: T) => number, value: (s: T) => number, buckets: number, lo: number, hi: number): Array<number | null> {
  const out: Array<number | null> = new Array<number | null>(buckets).fill(null);
  const span = (hi - lo) / buckets;
  for (const s of series) {
    const k = key(s);
    const b = Math.min(buckets - 1, Math.max(0, Math.floor((k - lo) / span)));
    const v = value(s);
    out[b] = out[b] === null ? v : Math.max(out[b]!, v);
  }
  return out;
}

export const mb = (b: number | null | undefined, d = 1): string => (b === null || b === undefined || !Number.isFinite(b) ? '-' : (b / MB).toFixed(d));
