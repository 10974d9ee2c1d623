/**
 * Throughput at scale, for `npm run bench`: the same generated traffic at `--scale` times the
 * size of a benchmark capture (3 by default), the wsscope CLI and tshark timed on it in
 * alternation, as on the capture itself.
 *
 * Why: a whole command is a fixed part (process start, loading, warm-up) plus bytes over
 * throughput. wsscope's fixed part is Node's start, loading the bundle and V8 compiling the
 * hot path while the first megabytes run through it in the interpreter, about 0.1-0.15 s
 * (docs/benchmarks.md, "warm-up"); on a 100-200 MB capture that is 40-60% of a 0.2-0.3 s
 * command, while tshark's 0.26 s start-up is under a tenth of its 2-5 s. The ratio of whole
 * commands on that capture therefore measures start-up as much as throughput. At three times
 * the size the fixed parts are a smaller share; and the two sizes together give each tool's
 * marginal rate (extra bytes over extra seconds), its throughput with no fixed part at all.
 * Both are printed beside the whole-command ratio on the standard capture, never instead of it.
 *
 *   const s = await benchScale({ label: 'wss', runs: 3, small, large, check });
 *   s.lines  // "- ..." report lines
 *   s.ratio  // tshark's wall over the CLI's on the large capture (best run of each)
 *
 * Memory: the two commands' stdout in the untimed runs, which the caller's check reads (a
 * summary line; tshark's one line per WebSocket packet).
 */
import { measure, measureAlternating, median, roundRatios, type Measured } from './measure';

const MB = 1e6;

/** the standard capture's figures, already measured */
export interface ScaleSmall {
  bytes: number;
  /** best wall seconds of the CLI and of tshark */
  cli: number;
  tshark: number;
}

/** the larger capture and the two commands to time on it */
export interface ScaleLarge {
  bytes: number;
  cli: [string, string[]];
  tshark: [string, string[]];
}

export interface ScaleOptions {
  /** what the lines call the case ("plain", "wss") */
  label: string;
  runs: number;
  small: ScaleSmall;
  large: ScaleLarge;
  /** problems with the two commands' output (counts against the capture's truth; an untimed run of each); [] when right */
  check(cli: Measured, tshark: Measured): string[];
}

export interface ScaleResult {
  /** tshark's wall over the CLI's on the large capture, best run of each (NaN when one failed) */
  ratio: number;
  /** the same, each round */
  rounds: number[];
  /** tshark's marginal seconds over the CLI's between the two sizes */
  marginal: number;
  cli: Measured;
  tshark: Measured;
  problems: string[];
  lines: string[];
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
/** MB per second, NaN unless the seconds are positive */
const rate = (mb: number, s: number): number => (s > 0 ? mb / s : NaN);

/**
 * The marginal ratio of two tools between two sizes: tshark's extra seconds over the CLI's
 * (NaN unless both took longer on the larger capture; a rate from a negative difference means nothing).
 */
export function marginalRatio(small: { cli: number; tshark: number }, large: { cli: number; tshark: number }): number {
  const dc = large.cli - small.cli;
  const dt = large.tshark - small.tshark;
  return dc > 0 && dt > 0 ? dt / dc : NaN;
}

export async function benchScale(o: ScaleOptions): Promise<ScaleResult> {
  const { small, large } = o;
  // one untimed run of each first, whose output is checked (and the page cache holds the
  // file for both); the timed runs discard tshark's output, as on the standard capture
  const problems: string[] = [];
  const first = [await measure(...large.cli, { captureStdout: true }), await measure(...large.tshark, { captureStdout: true })] as const;
  const alt = await measureAlternating(o.runs, [
    { cmd: large.cli[0], args: large.cli[1] },
    { cmd: large.tshark[0], args: large.tshark[1] },
  ]);
  const [cli, tshark] = alt.best;
  for (const [name, m] of [['CLI', first[0]], ['tshark', first[1]], ['CLI', cli], ['tshark', tshark]] as const) {
    if (m.exitCode !== 0) problems.push(`${name} exit ${m.exitCode}: ${m.stderr.slice(0, 200)}`);
  }
  if (problems.length === 0) problems.push(...o.check(first[0], first[1]));
  const ok = problems.length === 0;
  const ratio = ok ? tshark.wall / cli.wall : NaN;
  const rounds = ok ? roundRatios(alt.rounds, 1, 0) : [];
  const marginal = ok ? marginalRatio(small, { cli: cli.wall, tshark: tshark.wall }) : NaN;
  const dMB = (large.bytes - small.bytes) / MB;
  const lines = [
    `- ${o.label} at ${f1(large.bytes / MB)} MB (the same traffic, ${f1(large.bytes / small.bytes)}x the size): wsscope CLI ${f2(cli.wall)} s (peak RSS ${f1(cli.peakRss / MB)} MB) vs tshark ${f2(tshark.wall)} s (${f1(tshark.peakRss / MB)} MB) = ${f1(ratio)}x (best run of each, timed in alternation${rounds.length ? `; round by round ${rounds.map((x) => `${f1(x)}x`).join(', ')} (median ${f1(median(rounds))}x)` : ''})`,
    `- ${o.label}, marginal throughput between ${f1(small.bytes / MB)} and ${f1(large.bytes / MB)} MB (the extra ${f1(dMB)} MB over the extra seconds, no start-up in it): wsscope ${f1(rate(dMB, cli.wall - small.cli))} MB/s, tshark ${f1(rate(dMB, tshark.wall - small.tshark))} MB/s = ${f1(marginal)}x`,
    `- ${o.label} at ${f1(large.bytes / MB)} MB, correctness (counts against the truth, both tools): ${ok ? 'OK' : `FAILED: ${problems.slice(0, 3).join('; ')}`}`,
  ];
  return { ratio, rounds, marginal, cli, tshark, problems, lines };
}

/** WebSocket frames in `tshark -T fields` output whose last field is websocket.opcode (comma-separated per packet) */
export function tsharkOpcodeCount(stdout: string): number {
  let n = 0;
  for (const line of stdout.split('\n')) {
    const f = line.slice(line.lastIndexOf('\t') + 1);
    if (f !== '') n += f.split(',').length;
  }
  return n;
}
