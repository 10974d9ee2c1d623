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
 *   s.lines     // "- ..." report lines
 *   s.ratio     // tshark's wall over the CLI's on the large capture (best run of each)
 *   s.marginal  // tshark's extra seconds over the CLI's between the sizes (median of the rounds)
 *
 * Each round runs the CLI and tshark on both captures (the standard one again), so a round's
 * differences between the sizes come from one stretch of the VM's speed.
 *
 * Memory: the two commands' stdout in the untimed runs, which the caller's check reads (a
 * summary line; tshark's one line per WebSocket packet).
 */
import { measure, measureAlternating, median, roundRatios, type Measured } from './measure';
import { tsharkOpcodeCount } from './tshark-ws';
import { summaryMessages } from './wsscope-cli';

const MB = 1e6;

/** a capture and the two commands to time on it */
export interface ScaleCapture {
  bytes: number;
  cli: [string, string[]];
  tshark: [string, string[]];
}

export interface ScaleOptions {
  /** what the lines call the case ("plain", "wss") */
  label: string;
  runs: number;
  /** the standard capture (already checked by the caller) */
  small: ScaleCapture;
  /** the same traffic at a larger size */
  large: ScaleCapture;
  /** problems with the two commands' output on the large capture (counts against its truth; an untimed run of each); [] when right */
  check(cli: Measured, tshark: Measured): string[];
}

export interface ScaleResult {
  /** tshark's wall over the CLI's on the large capture, best run of each (NaN when one failed) */
  ratio: number;
  /** the same, each round */
  rounds: number[];
  /** the median over the rounds of tshark's extra seconds over the CLI's between the two sizes */
  marginal: number;
  /** best runs on the large capture */
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

/** columns of benchScale's alternation, and their names in its problems */
const [CLI_S, CLI_L, TSHARK_S, TSHARK_L] = [0, 1, 2, 3];
const NAMES = ['CLI', 'CLI at scale', 'tshark', 'tshark at scale'];

export async function benchScale(o: ScaleOptions): Promise<ScaleResult> {
  const { small, large } = o;
  // one untimed run of each first, whose output is checked (and the page cache holds the
  // file for both); the timed runs discard tshark's output, as on the standard capture
  const problems: string[] = [];
  const first = [await measure(...large.cli, { captureStdout: true }), await measure(...large.tshark, { captureStdout: true })] as const;
  // both sizes in one alternation, so that each round's differences come from one stretch
  // of the VM's speed (differences of runs minutes apart can be off by more than themselves)
  const cmds = [small.cli, large.cli, small.tshark, large.tshark];
  const alt = await measureAlternating(
    o.runs,
    cmds.map(([cmd, args]) => ({ cmd, args })),
  );
  const failed = (name: string, m: Measured): string[] => (m.exitCode !== 0 ? [`${name} exit ${m.exitCode}: ${m.stderr.slice(0, 200)}`] : []);
  problems.push(...failed(NAMES[CLI_L], first[0]), ...failed(NAMES[TSHARK_L], first[1]), ...alt.best.flatMap((m, i) => failed(NAMES[i], m)));
  if (problems.length === 0) problems.push(...o.check(first[0], first[1]));
  const ok = problems.length === 0;
  const cli = alt.best[CLI_L];
  const tshark = alt.best[TSHARK_L];
  const ratio = ok ? tshark.wall / cli.wall : NaN;
  const rounds = ok ? roundRatios(alt.rounds, TSHARK_L, CLI_L) : [];
  const dMB = (large.bytes - small.bytes) / MB;
  const margins = ok ? alt.rounds.map((r) => marginalRatio({ cli: r[CLI_S], tshark: r[TSHARK_S] }, { cli: r[CLI_L], tshark: r[TSHARK_L] })) : [];
  const cliRates = alt.rounds.map((r) => rate(dMB, r[CLI_L] - r[CLI_S]));
  const tsharkRates = alt.rounds.map((r) => rate(dMB, r[TSHARK_L] - r[TSHARK_S]));
  const marginal = median(margins.filter(Number.isFinite));
  const list = (xs: number[], unit: string): string => xs.map((x) => `${f1(x)}${unit}`).join(', ');
  const lines = [
    `- ${o.label} at ${f1(large.bytes / MB)} MB (the same traffic, ${f1(large.bytes / small.bytes)}x the size): wsscope CLI ${f2(cli.wall)} s (peak RSS ${f1(cli.peakRss / MB)} MB) vs tshark ${f2(tshark.wall)} s (${f1(tshark.peakRss / MB)} MB) = ${f1(ratio)}x (best run of each, timed in alternation${rounds.length ? `; round by round ${list(rounds, 'x')} (median ${f1(median(rounds))}x)` : ''})`,
    `- ${o.label}, marginal throughput from ${f1(small.bytes / MB)} to ${f1(large.bytes / MB)} MB (the extra ${f1(dMB)} MB over the extra seconds, both sizes in each round, no start-up in it): wsscope ${list(cliRates, '')} MB/s, tshark ${list(tsharkRates, '')} MB/s; ratio round by round ${list(margins, 'x')} (median ${f1(marginal)}x)`,
    `- ${o.label} at ${f1(large.bytes / MB)} MB, correctness (counts against the truth, both tools): ${ok ? 'OK' : `FAILED: ${problems.slice(0, 3).join('; ')}`}`,
  ];
  return { ratio, rounds, marginal, cli, tshark, problems, lines };
}

/**
 * The usual check of the large capture: the CLI's summary (`read --summary --json`, its last
 * line) counts the truth's messages, and tshark's output its WebSocket frames.
 */
export function countsCheck(truth: { messages: number; frames: number }): ScaleOptions['check'] {
  return (cli, tshark) => {
    const p: string[] = [];
    const messages = summaryMessages(cli.stdout);
    if (messages !== truth.messages) p.push(`CLI at scale: ${messages} messages (truth ${truth.messages})`);
    const frames = tsharkOpcodeCount(tshark.stdout);
    if (frames !== truth.frames) p.push(`tshark at scale: ${frames} WebSocket frames (truth ${truth.frames})`);
    return p;
  };
}
