/**
 * The wsscope command as the benchmarks run it: `scripts/wsscope` (package.json "bin", what
 * `npm run wsscope` and an installed `wsscope` run), so every figure is the command a user
 * types, start-up included.
 *
 *   import { summaryMessages, wsscopeCli } from './wsscope-cli'
 *   const m = await measure(...wsscopeCli('read', file, '--summary', '--json'), { captureStdout: true })
 *   summaryMessages(m.stdout)   // the summary's message count
 *
 * That script starts the launcher (scripts/wsscope.cjs) without NODE_EXTRA_CA_CERTS, which
 * costs every Node process here 30 ms at start and does nothing for wsscope (the script says
 * why). `launcherCli` runs the launcher directly with this process's environment instead, so
 * a report can show what the variable costs beside the figure that counts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** [executable, arguments] of `wsscope ARGS...` */
export function wsscopeCli(...args: string[]): [string, string[]] {
  return [join(ROOT, 'scripts', 'wsscope'), args];
}

/**
 * The same in another checkout `root` (a comparison against main, say), which may predate the
 * `scripts/wsscope` command: then its launcher, `.cjs` or the older `.mjs`, run with node.
 */
export function wsscopeCliIn(root: string, ...args: string[]): [string, string[]] {
  const bin = join(root, 'scripts', 'wsscope');
  if (existsSync(bin)) return [bin, args];
  const cjs = join(root, 'scripts', 'wsscope.cjs');
  return [process.execPath, [existsSync(cjs) ? cjs : join(root, 'scripts', 'wsscope.mjs'), ...args]];
}

/**
 * The message count in the summary of `wsscope read --summary --json`, the last line it printed
 * (undefined when that line is missing or not a summary with a count).
 */
export function summaryMessages(stdout: string): number | undefined {
  try {
    const v = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { messages?: unknown };
    return typeof v.messages === 'number' ? v.messages : undefined;
  } catch {
    return undefined;
  }
}

/** [executable, arguments] of `node scripts/wsscope.cjs ARGS...`, environment as it is */
export function launcherCli(...args: string[]): [string, string[]] {
  return [process.execPath, [join(ROOT, 'scripts', 'wsscope.cjs'), ...args]];
}

/** the environment's NODE_EXTRA_CA_CERTS, which `wsscope` drops (undefined when unset) */
export function extraCaCerts(): string | undefined {
  return process.env.NODE_EXTRA_CA_CERTS || undefined;
}
