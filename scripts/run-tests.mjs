#!/usr/bin/env node
// The README's test command: type-check, lint, then every vitest suite; ends with the plain
// "N passed, N failed, N skipped" line that CI reads.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const steps = [
  ['npm', ['run', '-s', 'typecheck']],
  ['npm', ['run', '-s', 'lint']],
];
for (const [cmd, args] of steps) {
  console.log(`\n> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(`\n0 passed, 1 failed\n(${args.join(' ')} failed)`);
    process.exit(1);
  }
}
const out = '.vitest-results.json';
rmSync(out, { force: true });
const extra = process.argv.slice(2);
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra], {
  stdio: 'inherit',
});
let passed = 0, failed = 0, skipped = 0;
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests;
  failed = j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0);
  skipped = j.numPendingTests + j.numTodoTests;
  if (!j.success && failed === 0) failed = 1;
} catch {
  failed = Math.max(failed, 1);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
