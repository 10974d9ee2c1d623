// The bench's external measurement: peak RSS must reflect what the child really touched, and
// wall time must cover the child's whole life.
import { describe, it, expect } from 'vitest';
import { measure, measureBest, hasGnuTime } from './measure';

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
