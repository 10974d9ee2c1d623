#!/usr/bin/env node
/**
 * Launcher of the wsscope CLI from source (`npm run wsscope -- ...`, package.json "bin").
 *
 * `read`, the throughput-critical command, runs from an esbuild bundle cached in
 * node_modules/.cache/wsscope/, rebuilt on the fly whenever a source file under engine/,
 * shared/ or bin/ is newer (so there is never a separate build step, and never a stale
 * bundle). Loading ~40 TypeScript modules through tsx costs about half a second per run;
 * the bundle loads in a few milliseconds. Every other command runs through tsx in-process,
 * because they start helper processes from their own source files.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);

function newestSource(dir, acc = 0) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) acc = newestSource(p, acc);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) acc = Math.max(acc, statSync(p).mtimeMs);
  }
  return acc;
}

async function bundledRead() {
  const out = join(root, 'node_modules', '.cache', 'wsscope', 'read.mjs');
  const newest = Math.max(newestSource(join(root, 'engine')), newestSource(join(root, 'shared')), newestSource(join(root, 'bin')));
  if (!existsSync(out) || statSync(out).mtimeMs < newest) {
    const { buildSync } = await import('esbuild');
    mkdirSync(dirname(out), { recursive: true });
    buildSync({
      entryPoints: [join(root, 'engine', 'cli', 'read.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: out,
      logLevel: 'error',
    });
  }
  return import(pathToFileURL(out).href);
}

try {
  if (args[0] === 'read' && !process.env.WSSCOPE_NO_BUNDLE) {
    const { readCommand } = await bundledRead();
    process.exitCode = await readCommand(args.slice(1));
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(join(root, 'bin', 'wsscope.ts')).href);
  }
} catch (e) {
  process.stderr.write(`wsscope: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
}
