import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFloor, verdict, type VitestReport } from './run-tests.mjs';
import { REPO_ROOT } from '../test/kit/paths';

const report = (o: Partial<VitestReport>): VitestReport => ({
  success: true,
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  ...o,
});

/** `node scripts/run-tests.mjs --no-checks ARGS` in the repository; its exit status and output. */
function runTests(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'run-tests.mjs'), '--no-checks', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('npm test (scripts/run-tests.mjs)', () => {
  it('fails an unfiltered run that executed fewer tests than the floor, even with no failure', () => {
    const v = verdict(report({ numPassedTests: 99, numPendingTests: 50 }), 0, { filtered: false, floor: 100 });
    expect(v).toMatchObject({ ok: false, passed: 99, failed: 1, skipped: 50 });
    expect(v.problem).toMatch(/only 99 tests ran, fewer than the floor of 100/);
    expect(verdict(report({ numPassedTests: 100 }), 0, { filtered: false, floor: 100 })).toMatchObject({ ok: true, failed: 0 });
  });

  it('fails a filtered run that executed no test, and passes one that executed any', () => {
    expect(verdict(report({ numPendingTests: 12 }), 0, { filtered: true, floor: 100 })).toMatchObject({ ok: false, failed: 1, skipped: 12 });
    expect(verdict(report({ numPassedTests: 1 }), 0, { filtered: true, floor: 100 })).toMatchObject({ ok: true });
  });

  it('fails when vitest wrote no report or exited non-zero', () => {
    expect(verdict(null, 1, { filtered: false, floor: 1 })).toMatchObject({ ok: false, failed: 1 });
    expect(verdict(report({ numPassedTests: 5 }), 1, { filtered: true, floor: 1 }).ok).toBe(false);
    expect(verdict(report({ success: false, numPassedTests: 5 }), 0, { filtered: true, floor: 1 })).toMatchObject({ ok: false, failed: 1 });
  });

  it('reads the floor from test/test-floor.json and refuses one that is not a positive integer', () => {
    expect(Number.isInteger(readFloor())).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'wsscope-floor-'));
    try {
      for (const bad of ['0', '12.5', '"many"']) {
        writeFileSync(join(dir, 'floor.json'), `{ "minTests": ${bad} }`);
        expect(() => readFloor(join(dir, 'floor.json'))).toThrow(/minTests must be a positive integer/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero, with the closing counts line, when a test-name filter matches nothing', () => {
    const r = runTests(['test/wire.test.ts', '-t', 'no test is called this 7f3c']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('matched no test');
    expect(r.out).toMatch(/\n0 passed, 1 failed, \d+ skipped\n/);
  });

  it('exits non-zero when a file filter matches no test file', () => {
    const r = runTests(['test/no-such-suite-7f3c']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/\n0 passed, 1 failed, 0 skipped\n/);
  });

  it('exits zero when the filter selects tests that pass', () => {
    const r = runTests(['test/wire.test.ts']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/\n[1-9]\d* passed, 0 failed, 0 skipped\n/);
  });
});
