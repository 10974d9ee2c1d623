/**
 * The `--json` case of `npm run bench`: the whole command `wsscope read FILE --json` (stdout
 * to /dev/null: the encoding and the writes are timed, not a reader) against
 * `wsscope read FILE --summary --json` on the same capture, run in alternation, best of `runs`
 * each, so a burst of load on a shared machine hits both alike. Target (issue 10): `--json`
 * takes at most 1.5x the time of `--summary`. With GNU time, each run's CPU time (user + sys,
 * the child's own `%U %S`) is taken too, and the verdict also gives the ratio of the smallest
 * CPU times: on a machine that other work keeps busy, wall times stretch with the load while
 * CPU times barely move.
 *
 *   import { benchJson } from './lib/bench-json'       (scripts/bench.ts, per capture)
 *   tsx scripts/lib/bench-json.ts FILE [--runs N] [--against DIR]
 *
 * `--against DIR` also times DIR's CLI (another checkout, e.g. main) in the same alternation:
 * the A/B figures of docs/hardening.md.
 *
 * Memory: nothing is kept of the children's output.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hasGnuTime, measure, type Measured } from './measure';
import { wsscopeCliIn } from './wsscope-cli';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const JSON_RATIO_TARGET = 1.5;
const MB = 1e6;

export interface JsonBenchRow {
  name: string;
  wall: number;
  peakRss: number;
  note?: string;
}

/** A run and its CPU time (user + sys seconds; NaN without GNU time). */
type Run = Measured & { cpu: number };

export interface JsonBench {
  /** best --summary and --json runs of this checkout (and of `against`, when given) */
  summary: Run;
  json: Run;
  ratio: number;
  /** smallest --json CPU time over smallest --summary CPU time (NaN without GNU time) */
  cpuRatio: number;
  against?: { summary: Run; json: Run; ratio: number; cpuRatio: number };
  /** rows for scripts/bench.ts's table */
  rows: JsonBenchRow[];
  /** one line: the ratio and whether the target holds */
  verdict: string;
}

function cliArgs(root: string, file: string, json: boolean): [string, string[]] {
  return wsscopeCliIn(root, 'read', file, ...(json ? ['--json'] : ['--summary', '--json']));
}

/** One run of the command, with its CPU time from GNU time when there is one (written to a side file, as measure does for RSS). */
async function run([cmd, args]: [string, string[]]): Promise<Run> {
  if (!hasGnuTime()) return { ...(await measure(cmd, args)), cpu: NaN };
  const dir = mkdtempSync(join(tmpdir(), 'wsscope-bench-json-'));
  try {
    const m = await measure('/usr/bin/time', ['-f', '%U %S', '-o', join(dir, 'cpu'), cmd, ...args]);
    const [user, sys] = readFileSync(join(dir, 'cpu'), 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    return { ...m, cpu: user + sys };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** the faster of two runs, carrying the smaller CPU time of the two */
function better(a: Run | undefined, b: Run): Run {
  if (b.exitCode !== 0) throw new Error(`${b.stderr.split('\n')[0] ?? ''} (exit ${b.exitCode})`);
  if (a === undefined) return b;
  return { ...(b.wall < a.wall ? b : a), cpu: Math.min(a.cpu, b.cpu) };
}

export async function benchJson(file: string, runs: number, againstRoot?: string): Promise<JsonBench> {
  const roots = againstRoot ? [ROOT, againstRoot] : [ROOT];
  // one untimed run of each first: the launcher rebuilds its bundle when a source changed
  for (const r of roots) await measure(...cliArgs(r, file, false));
  const best: Array<{ summary?: Run; json?: Run }> = roots.map(() => ({}));
  for (let i = 0; i < Math.max(1, runs); i++) {
    for (let k = 0; k < roots.length; k++) {
      best[k].summary = better(best[k].summary, await run(cliArgs(roots[k], file, false)));
      best[k].json = better(best[k].json, await run(cliArgs(roots[k], file, true)));
    }
  }
  const [own, other] = best as Array<{ summary: Run; json: Run }>;
  const ratio = own.json.wall / own.summary.wall;
  const cpuRatio = own.json.cpu / own.summary.cpu;
  const cpuNote = Number.isNaN(cpuRatio) ? '' : `, CPU ${cpuRatio.toFixed(2)}x (${own.json.cpu.toFixed(2)} s vs ${own.summary.cpu.toFixed(2)} s user+sys)`;
  const verdict = `read --json ${ratio.toFixed(2)}x read --summary (${own.json.wall.toFixed(2)} s vs ${own.summary.wall.toFixed(2)} s, alternated, best of ${runs}${cpuNote}); target <= ${JSON_RATIO_TARGET}x: ${ratio <= JSON_RATIO_TARGET ? 'holds' : 'MISSED'}`;
  const rows: JsonBenchRow[] = [{ name: 'wsscope read --json (CLI, stdout to /dev/null)', wall: own.json.wall, peakRss: own.json.peakRss, note: verdict }];
  const res: JsonBench = { summary: own.summary, json: own.json, ratio, cpuRatio, rows, verdict };
  if (other) {
    res.against = { ...other, ratio: other.json.wall / other.summary.wall, cpuRatio: other.json.cpu / other.summary.cpu };
    rows.push({ name: `read --json of ${againstRoot}`, wall: other.json.wall, peakRss: other.json.peakRss, note: `${res.against.ratio.toFixed(2)}x its --summary (${other.summary.wall.toFixed(2)} s), CPU ${res.against.cpuRatio.toFixed(2)}x` });
  }
  return res;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const file = args[0];
  if (!file) {
    console.error('usage: tsx scripts/lib/bench-json.ts FILE [--runs N] [--against DIR]');
    process.exit(2);
  }
  const at = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const r = await benchJson(resolve(file), Number(at('--runs') ?? 5), at('--against'));
  for (const row of [{ name: 'read --summary --json', wall: r.summary.wall, peakRss: r.summary.peakRss }, ...r.rows, ...(r.against ? [{ name: `read --summary of ${at('--against')}`, wall: r.against.summary.wall, peakRss: r.against.summary.peakRss }] : [])]) {
    console.log(`${row.name.padEnd(50)} ${row.wall.toFixed(2)} s  ${(row.peakRss / MB).toFixed(0)} MB  ${'note' in row && row.note ? row.note : ''}`);
  }
}
