/**
 * Run one command and measure it from the outside: wall time (performance.now around the
 * process's life) and peak resident set size. Peak RSS comes from GNU time (`/usr/bin/time
 * -f %M`, the kernel's ru_maxrss of the waited-for child, written to a side file so the
 * command's own stderr stays untouched); without GNU time, from polling VmHWM in
 * /proc/PID/status every 10 ms (a high-water mark, so only the last read before exit counts;
 * it may miss growth in the final 10 ms).
 *
 * Memory: collects the child's stdout only when asked (`captureStdout`), else discards it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  /** seconds */
  wall: number;
  /** peak RSS in bytes (0 when unknown) */
  peakRss: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  rssSource: 'gnu-time' | 'proc-vmhwm' | 'none';
}

const GNU_TIME = '/usr/bin/time';

export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

function readVmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function measure(cmd: string, args: string[], opts: { captureStdout?: boolean; cwd?: string } = {}): Promise<Measured> {
  const gnu = hasGnuTime();
  const dir = gnu ? mkdtempSync(join(tmpdir(), 'wsscope-bench-')) : '';
  const timeFile = join(dir, 'time.txt');
  const [file, argv] = gnu ? [GNU_TIME, ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const child = spawn(file, argv, { cwd: opts.cwd, stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 64) err.push(d);
  });
  let hwm = 0;
  const poll = gnu
    ? undefined
    : setInterval(() => {
        if (child.pid !== undefined) hwm = Math.max(hwm, readVmHwm(child.pid));
      }, 10);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const wall = (performance.now() - t0) / 1000;
  if (poll) clearInterval(poll);
  let peakRss = hwm;
  let rssSource: Measured['rssSource'] = hwm > 0 ? 'proc-vmhwm' : 'none';
  if (gnu) {
    try {
      // GNU time writes "Command exited with non-zero status N" before the figures on failure
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      peakRss = Number(lines[lines.length - 1]) * 1024;
      rssSource = 'gnu-time';
    } catch {
      rssSource = 'none';
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { wall, peakRss, exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), rssSource };
}

/** what measureBest and measureAlternating take beside the command: measure's options, and `maxRss` */
export interface BestOptions {
  captureStdout?: boolean;
  cwd?: string;
  /** the result's peak RSS is the highest of all runs, for a bound that must hold in every run */
  maxRss?: boolean;
}

/**
 * Run the command `runs` times and keep the fastest run (on a shared machine the minimum is
 * the run least disturbed by other load); stops early when a run fails. measureAlternating of
 * one command.
 */
export async function measureBest(runs: number, cmd: string, args: string[], opts: BestOptions = {}): Promise<Measured> {
  return (await measureAlternating(runs, [{ cmd, args, opts }])).best[0];
}

/** one command of measureAlternating */
export interface Timed {
  cmd: string;
  args: string[];
  opts?: BestOptions;
}

export interface Alternated {
  /** each command's fastest run (as measureBest), or its failed one */
  best: Measured[];
  /** wall seconds of each round in which every command ran and succeeded, one per command in the given order */
  rounds: number[][];
}

/**
 * Time several commands in alternation, `runs` rounds of A, B, ... each, and keep each
 * command's fastest run. The speed of a shared VM drifts by 20% and more over minutes: timed
 * one block after the other, two commands whose ratio is the figure (wsscope against tshark)
 * would each see another stretch of that drift; alternated, both are timed in the same
 * stretches. `rounds` gives the walls of each round for a per-round ratio beside the ratio of
 * the bests. A command that fails is not run again (its failed run is its result).
 */
export async function measureAlternating(runs: number, cmds: Timed[]): Promise<Alternated> {
  const best: Array<Measured | undefined> = cmds.map(() => undefined);
  const peak = cmds.map(() => 0);
  const rounds: number[][] = [];
  for (let i = 0; i < Math.max(1, runs); i++) {
    const walls: number[] = [];
    for (let k = 0; k < cmds.length; k++) {
      const b = best[k];
      if (b !== undefined && b.exitCode !== 0) continue;
      const m = await measure(cmds[k].cmd, cmds[k].args, cmds[k].opts);
      peak[k] = Math.max(peak[k], m.peakRss);
      if (b === undefined || m.exitCode !== 0 || m.wall < b.wall) best[k] = m;
      if (m.exitCode === 0) walls.push(m.wall);
    }
    if (walls.length === cmds.length) rounds.push(walls);
  }
  return { best: (best as Measured[]).map((m, k) => (cmds[k].opts?.maxRss ? { ...m, peakRss: peak[k] } : m)), rounds };
}

/** `a / b` in each round of measureAlternating (columns `a` and `b` of its `rounds`) */
export function roundRatios(rounds: number[][], a: number, b: number): number[] {
  return rounds.map((r) => r[a] / r[b]);
}

/** the median of some numbers (NaN for none) */
export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
