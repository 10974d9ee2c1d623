/**
 * Self time per function from a V8 CPU profile (the `Profiler.stop` result of the Chrome
 * DevTools Protocol, also the .cpuprofile file format), for scripts/bench-ui.ts --profile:
 * which renderer functions the main thread spent its time in.
 *
 * Memory: reads the profile passed in; returns a fresh list.
 */

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }>;
  /** node id per sample */
  samples: number[];
  /** microseconds since the previous sample, per sample */
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  /** "name url:line" */
  fn: string;
  ms: number;
  /** share of all sampled time, 0..1 */
  share: number;
}

/** Functions by self time, highest first; `(idle)` and `(program)` included, as V8 names them. */
export function selfTimes(p: CpuProfile, top = 10): SelfTime[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const acc = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time after the last sample is unknown
    const dt = p.timeDeltas[i + 1] ?? 0;
    const n = byId.get(p.samples[i]!);
    if (!n) continue;
    const f = n.callFrame;
    const file = f.url ? f.url.slice(f.url.lastIndexOf('/') + 1).replace(/\?.*$/, '') : '';
    const key = `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
    acc.set(key, (acc.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...acc.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: us / 1000, share: total ? us / total : 0 }));
}
