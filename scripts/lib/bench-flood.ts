/**
 * The benchmark's flow-flood cases (issue 10): `wsscope read --summary` on 1,000,000 SYNs that
 * never complete and on 1,000,000 complete connections that carry nothing (scripts/gen-flood.ts),
 * each measured from outside (wall time, peak RSS: scripts/lib/measure.ts) against the target:
 * peak RSS at most FLOOD_RSS_TARGET_MB, and throughput in MB/s beside the plain benchmark
 * capture's. Time linear in file size is checked on the shape itself: each is timed at 250,000,
 * 500,000 and 1,000,000 flows, and the marginal rates (MB more over seconds more, between
 * consecutive sizes, so the command's fixed start-up cancels out) must agree within LINEAR_SLACK.
 * Like every timed figure of the benchmark, the time is the fastest of `runs` runs, the three
 * sizes timed in alternation (scripts/lib/measure.ts measureAlternating); the peak RSS is the
 * highest of all runs (the bound holds in every run).
 *
 *   import { benchFloods } from './lib/bench-flood'
 *   const r = await benchFloods({ dir, keep, runs, plainMBps });   // r.lines, r.targets, r.ok
 *
 * The captures go to `dir` (reused when present with the same size, deleted unless `keep`).
 * Memory: the child's stdout (one summary line) only.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateFlood, type FloodShape } from '../gen-flood';
import { measureAlternating, type Measured, type Timed } from './measure';
import { wsscopeCli } from './wsscope-cli';

export const FLOOD_RSS_TARGET_MB = 300;

const FLOWS = 1_000_000;
/** the sizes timed for the linearity check, the last the one reported */
const LINEARITY_FLOWS = [FLOWS / 4, FLOWS / 2, FLOWS];
/** how far apart the two marginal rates may be and still count as linear (timing noise of best-of-N runs) */
const LINEAR_SLACK = 1.25;
const MB = 1e6;

export interface FloodBench {
  lines: string[];
  targets: string[];
  ok: boolean;
  rows: Array<{ shape: FloodShape; bytes: number; wall: number; peakRss: number; mbps: number }>;
}

/** `wsscope read FILE --summary --json`, its peak RSS the highest of all runs (the bound holds in every run) */
function cliOf(file: string): Timed {
  const [cmd, args] = wsscopeCli('read', file, '--summary', '--json');
  return { cmd, args, opts: { captureStdout: true, maxRss: true } };
}

export async function benchFloods(o: { dir: string; keep: boolean; runs: number; plainMBps?: number }): Promise<FloodBench> {
  const out: FloodBench = { lines: [], targets: [], ok: true, rows: [] };
  for (const shape of ['syn', 'tiny'] as const) {
    // the same shape at a quarter, half and all of FLOWS: time linear in size means the same time
    // per flow between sizes (the marginal rate), whatever the command's fixed start-up
    const files = LINEARITY_FLOWS.map((flows) => {
      const file = join(o.dir, `flood-${shape}-${flows}.pcap`);
      const want = flows * (shape === 'syn' ? 70 : 280) + 24;
      if (!existsSync(file) || statSync(file).size !== want) generateFlood({ out: file, shape, flows });
      return file;
    });
    // the three sizes in alternation (measureAlternating): the marginal rates compare their times
    let sizes: Array<{ flows: number; bytes: number; m: Measured }>;
    try {
      const alt = await measureAlternating(o.runs, files.map(cliOf));
      sizes = LINEARITY_FLOWS.map((flows, k) => ({ flows, bytes: statSync(files[k]).size, m: alt.best[k] }));
    } finally {
      if (!o.keep) for (const f of files) rmSync(f, { force: true });
    }
    const { bytes, m } = sizes[sizes.length - 1];
    const mbps = bytes / MB / m.wall;
    // packets per second too: a flood's packets are 70 bytes, the plain capture's about 850
    const packets = FLOWS * (shape === 'syn' ? 1 : 4);
    out.rows.push({ shape, bytes, wall: m.wall, peakRss: m.peakRss, mbps });
    const rssMb = Math.max(...sizes.map((x) => x.m.peakRss)) / 2 ** 20;
    const okRss = sizes.every((x) => x.m.exitCode === 0) && rssMb <= FLOOD_RSS_TARGET_MB;
    out.ok &&= okRss;
    const what = shape === 'syn' ? '1,000,000 SYNs that never complete' : '1,000,000 complete connections without payload';
    out.lines.push(`flood (${what}): ${(bytes / MB).toFixed(0)} MB in ${m.wall.toFixed(2)} s = ${mbps.toFixed(1)} MB/s (${(packets / m.wall / 1e6).toFixed(2)} M packets/s), peak RSS ${rssMb.toFixed(0)} MB`);
    const marginal = sizes.slice(1).map((x, i) => (x.bytes - sizes[i].bytes) / MB / (x.m.wall - sizes[i].m.wall));
    out.lines.push(
      `flood ${shape}, time against size: ${sizes.map((x) => `${x.flows.toLocaleString('en-US')} flows ${x.m.wall.toFixed(3)} s`).join(', ')}; ` +
        `marginal rate ${marginal.map((r, i) => `${sizes[i].flows / 1000}k->${sizes[i + 1].flows / 1000}k ${r.toFixed(1)} MB/s`).join(', ')}`,
    );
    const linear = marginal.length === 2 && marginal[1] > 0 && marginal[0] > 0 && Math.max(marginal[0] / marginal[1], marginal[1] / marginal[0]) <= LINEAR_SLACK;
    const pace = o.plainMBps ? `, ${((mbps / o.plainMBps) * 100).toFixed(0)}% of the plain capture's ${o.plainMBps.toFixed(0)} MB/s` : '';
    out.targets.push(
      `- target flood ${shape}: peak RSS ${rssMb.toFixed(0)} MB <= ${FLOOD_RSS_TARGET_MB} MB: ${okRss ? 'met' : 'NOT met'}; ` +
        `time linear in size (marginal rates within ${LINEAR_SLACK}x of each other): ${linear ? 'met' : 'NOT met'}; ${mbps.toFixed(1)} MB/s${pace}`,
    );
  }
  return out;
}
