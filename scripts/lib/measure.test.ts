// The bench's external measurement: peak RSS must reflect what the child really touched, and
// wall time must cover the child's whole life.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { measure, measureAlternating, measureBest, median, roundRatios, hasGnuTime } from './measure';

const MB = 1e6;

describe('measure', () => {
  it('reports the peak RSS of a child that touches 150 MB, and a wall time covering its work', async () => {
    expect(hasGnuTime()).toBe(true);
    const m = await measure(process.execPath, ['-e', 'const b = Buffer.alloc(150e6, 1); const t = Date.now(); while (Date.now() - t < 200); process.stdout.write(String(b[b.length - 1]))'], { captureStdout: true });
    expect(m.exitCode).toBe(0);
    expect(m.stdout).toBe('1');
    expect(m.rssSource).toBe('gnu-time');
    expect(m.peakRss).toBeGreaterThan(150 * MB);
    expect(m.peakRss).toBeLessThan(400 * MB);
    expect(m.wall).toBeGreaterThanOrEqual(0.2);
  });

  it('reports a small peak RSS for a child that allocates nothing', async () => {
    const m = await measure(process.execPath, ['-e', '0']);
    expect(m.exitCode).toBe(0);
    expect(m.peakRss).toBeGreaterThan(10 * MB);
    expect(m.peakRss).toBeLessThan(120 * MB);
  });

  it('returns the failing run with its exit code instead of a faster success', async () => {
    const m = await measureBest(3, process.execPath, ['-e', 'process.exit(3)']);
    expect(m.exitCode).toBe(3);
  });
});

describe('measureAlternating', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsscope-measure-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the commands in turn, round after round, and keeps the fastest run of each', async () => {
    const log = join(dir, 'order');
    // B sleeps longer than A in every round: its best is still the slower one
    const a = { cmd: 'sh', args: ['-c', `echo A >> ${log}; sleep 0.05`] };
    const b = { cmd: 'sh', args: ['-c', `echo B >> ${log}; sleep 0.15`] };
    const r = await measureAlternating(3, [a, b]);
    expect(readFileSync(log, 'utf8')).toBe('A\nB\nA\nB\nA\nB\n');
    expect(r.rounds).toHaveLength(3);
    for (const [wa, wb] of r.rounds) {
      expect(wa).toBeGreaterThanOrEqual(0.05);
      expect(wb).toBeGreaterThanOrEqual(0.15);
    }
    expect(r.best[0].wall).toBe(Math.min(...r.rounds.map((x) => x[0])));
    expect(r.best[1].wall).toBe(Math.min(...r.rounds.map((x) => x[1])));
    const ratios = roundRatios(r.rounds, 1, 0);
    expect(ratios).toEqual(r.rounds.map(([wa, wb]) => wb / wa));
    expect(ratios.every((x) => x > 1)).toBe(true);
  });

  it('does not run a failed command again, keeps timing the others, and counts no round it failed in', async () => {
    const log = join(dir, 'order');
    const r = await measureAlternating(3, [
      { cmd: 'sh', args: ['-c', `echo A >> ${log}; exit 3`] },
      { cmd: 'sh', args: ['-c', `echo B >> ${log}`] },
    ]);
    expect(readFileSync(log, 'utf8')).toBe('A\nB\nB\nB\n');
    expect(r.best[0].exitCode).toBe(3);
    expect(r.best[1].exitCode).toBe(0);
    expect(r.rounds).toEqual([]);
  });

  it('with maxRss, reports the highest peak RSS of all runs beside the fastest run', async () => {
    // the first run touches 150 MB and is slow; the later ones touch nothing and are fast
    const mark = join(dir, 'ran');
    const script = `const fs = require('fs'); if (!fs.existsSync(${JSON.stringify(mark)})) { fs.writeFileSync(${JSON.stringify(mark)}, ''); const b = Buffer.alloc(150e6, 1); const t = Date.now(); while (Date.now() - t < 300); }`;
    const cmd = { cmd: process.execPath, args: ['-e', script] };
    const withMax = await measureAlternating(3, [{ ...cmd, opts: { maxRss: true } }]);
    expect(withMax.best[0].wall).toBeLessThan(withMax.rounds[0][0]);
    expect(withMax.best[0].peakRss).toBeGreaterThan(150 * MB);
    rmSync(mark);
    const plain = await measureAlternating(3, [cmd]);
    expect(plain.best[0].peakRss).toBeLessThan(120 * MB);
  });

  it('median: the middle value, the mean of the two middle ones, NaN for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
