#!/usr/bin/env node
// The README's test command: type-check, lint, then every vitest suite; ends with the plain
// "N passed, N failed, N skipped" line that CI reads.
//
//   node scripts/run-tests.mjs [--no-checks] [VITEST ARGS...]
//
// A run that executes too few tests fails, even when every test it ran passed: without
// arguments at least the floor in test/test-floor.json must run (raise it when you add tests,
// so that a suite that silently stops registering its tests is caught); with arguments (file
// filters, -t PATTERN, ...) at least one test must run, so a filter that matches nothing
// fails instead of passing. `--no-checks` skips the type-check and lint steps (for a quick
// filtered run; CI never passes it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const FLOOR_FILE = join(import.meta.dirname, '..', 'test', 'test-floor.json');

/** The floor of test/test-floor.json: the number of tests an unfiltered run must execute. */
export function readFloor(file = FLOOR_FILE) {
  const floor = JSON.parse(readFileSync(file, 'utf8')).minTests;
  if (!Number.isInteger(floor) || floor < 1) throw new Error(`${file}: minTests must be a positive integer`);
  return floor;
}

/**
 * The outcome of a vitest run from its JSON report (null when there is none) and exit status.
 * `filtered`: vitest was given arguments; `floor`: tests an unfiltered run must execute.
 */
export function verdict(report, status, { filtered, floor }) {
  if (!report) return { passed: 0, failed: 1, skipped: 0, ok: false, problem: 'vitest wrote no report (see its output above)' };
  const passed = report.numPassedTests;
  let failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  const skipped = report.numPendingTests + report.numTodoTests;
  if (!report.success && failed === 0) failed = 1;
  const executed = report.numPassedTests + report.numFailedTests;
  let problem;
  if (filtered && executed === 0) problem = 'the arguments given matched no test, so nothing was checked';
  else if (!filtered && executed < floor)
    problem = `only ${executed} tests ran, fewer than the floor of ${floor} in test/test-floor.json: a suite stopped registering its tests (or lower the floor, saying why)`;
  if (problem) failed = Math.max(failed, 1);
  return { passed, failed, skipped, ok: status === 0 && failed === 0, problem };
}

function main(argv) {
  const noChecks = argv.includes('--no-checks');
  const extra = argv.filter((a) => a !== '--no-checks');
  const floor = readFloor();
  const steps = noChecks
    ? []
    : [
        ['npm', ['run', '-s', 'typecheck']],
        ['npm', ['run', '-s', 'lint']],
      ];
  for (const [cmd, args] of steps) {
    console.log(`\n> ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) {
      console.log(`\n0 passed, 1 failed\n(${args.join(' ')} failed)`);
      return 1;
    }
  }
  // the JSON report goes to a fresh folder, so runs side by side (a test of this script) never mix
  const dir = mkdtempSync(join(tmpdir(), 'wsscope-vitest-'));
  const out = join(dir, 'results.json');
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra], {
    stdio: 'inherit',
  });
  let report = null;
  try {
    report = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    // no report: vitest failed before writing one; verdict() counts that as a failure
  }
  rmSync(dir, { recursive: true, force: true });
  const v = verdict(report, r.status, { filtered: extra.length > 0, floor });
  if (v.problem) console.log(`\nrun-tests: ${v.problem}`);
  console.log(`\n${v.passed} passed, ${v.failed} failed, ${v.skipped} skipped`);
  return v.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main(process.argv.slice(2)));
