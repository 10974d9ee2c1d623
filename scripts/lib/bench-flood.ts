/**
 * The benchmark's flow-flood cases (issue 10): `wsscope read --summary` on 1,000,000 SYNs that
 * never complete and on 1,000,000 complete connections that carry nothing (scripts/gen-flood.ts),
 * each measured from outside (wall time, peak RSS: scripts/lib/measure.ts) against the target:
 * peak RSS at most FLOOD_RSS_TARGET_MB, and throughput in MB/s beside the plain benchmark
 * capture's (time linear in file size). Like every timed figure of the benchmark, the time is
 * the fastest of `runs` runs; the peak RSS is the highest of them (the bound holds in every run).
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
import { measure } from './measure';
import { wsscopeCli } from './wsscope-cli';

export const FLOOD_RSS_TARGET_MB = 300;
const FLOWS = 1_000_000;
const MB = 1e6;

export interface FloodBench {
  lines: string[];
  targets: string[];
  ok: boolean;
  rows: Array<{ shape: FloodShape; bytes: number; wall: number; peakRss: number; mbps: number }>;
}

export async function benchFloods(o: { dir: string; keep: boolean; runs: number; plainMBps?: number }): Promise<FloodBench> {
  const out: FloodBench = { lines: [], targets: [], ok: true, rows: [] };
  for (const shape of ['syn', 'tiny'] as const) {
    const file = join(o.dir, `flood-${shape}-${FLOWS}.pcap`);
    const want = FLOWS * (shape === 'syn' ? 70 : 280) + 24;
    if (!existsSync(file) || statSync(file).size !== want) generateFlood({ out: file, shape, flows: FLOWS });
    let m = await measure(...wsscopeCli('read', file, '--summary', '--json'), { captureStdout: true });
    for (let i = 1; i < o.runs && m.exitCode === 0; i++) {
      const r = await measure(...wsscopeCli('read', file, '--summary', '--json'), { captureStdout: true });
      const peakRss = Math.max(m.peakRss, r.peakRss);
      m = r.exitCode !== 0 || r.wall < m.wall ? { ...r, peakRss } : { ...m, peakRss };
    }
    const bytes = statSync(file).size;
    const mbps = bytes / MB / m.wall;
    // packets per second too: a flood's packets are 70 bytes, the plain capture's about 850
    const packets = FLOWS * (shape === 'syn' ? 1 : 4);
    out.rows.push({ shape, bytes, wall: m.wall, peakRss: m.peakRss, mbps });
    const rssMb = m.peakRss / 2 ** 20;
    const okRss = m.exitCode === 0 && rssMb <= FLOOD_RSS_TARGET_MB;
    out.ok &&= okRss;
    const what = shape === 'syn' ? '1,000,000 SYNs that never complete' : '1,000,000 complete connections without payload';
    out.lines.push(`flood (${what}): ${(bytes / MB).toFixed(0)} MB in ${m.wall.toFixed(2)} s = ${mbps.toFixed(1)} MB/s (${(packets / m.wall / 1e6).toFixed(2)} M packets/s), peak RSS ${rssMb.toFixed(0)} MB`);
    const pace = o.plainMBps ? `, ${((mbps / o.plainMBps) * 100).toFixed(0)}% of the plain capture's ${o.plainMBps.toFixed(0)} MB/s` : '';
    out.targets.push(`- target flood ${shape}: peak RSS ${rssMb.toFixed(0)} MB <= ${FLOOD_RSS_TARGET_MB} MB: ${okRss ? 'met' : 'NOT met'}; ${mbps.toFixed(1)} MB/s${pace}`);
    if (!o.keep) rmSync(file, { force: true });
  }
  return out;
}
