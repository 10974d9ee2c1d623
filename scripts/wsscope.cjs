#!/usr/bin/env node
/**
 * Launcher of the wsscope CLI from source, run by scripts/wsscope (`npm run wsscope -- ...`,
 * package.json "bin"); `node scripts/wsscope.cjs ...` runs it directly.
 *
 * CommonJS, not an ES module: an `.mjs` entry makes Node set up its ES module loader before
 * running a line (about 5 ms of every run here; `node e.mjs` against `node e.cjs`).
 *
 * `read`, the throughput-critical command, runs from an esbuild bundle cached in
 * node_modules/.cache/wsscope/, rebuilt on the fly whenever one of the source files it was
 * built from is newer or gone (so there is never a separate build step, and never a stale
 * bundle). Loading ~40 TypeScript modules through tsx costs about half a second per run;
 * the bundle loads in a few milliseconds. Every other command runs through tsx in-process,
 * because they start helper processes from their own source files.
 *
 * The bundle is a CommonJS function run through node:vm with a V8 code cache beside it
 * (read.cjs.v8cache): the bytecode of every function the last uncached run compiled, so a run
 * neither parses the 370 KB bundle nor compiles its hot functions' bytecode again (about 13 ms
 * of a 0.23 s run on the benchmark capture, docs/benchmarks.md "third pass"). V8 checks the
 * cache against the source and its own version and flags, the launcher against a SHA-256 it
 * stores with it (V8 does not check the rest, and a damaged cache would abort the process); a
 * rejected, damaged or missing cache is written anew after the command (to a temporary name,
 * then renamed, so concurrent runs never read half a file). V8 rejects a cache made under other
 * flags, so runs with V8 flags (`node --cpu-prof scripts/wsscope.cjs`, NODE_OPTIONS) and runs
 * without keep a cache each, named by a hash of the flags (at most MAX_CACHES), instead of
 * rewriting one another's.
 * `import.meta.url` in the sources becomes the bundle's URL.
 */
'use strict';
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const root = dirname(__dirname);
/** code caches kept beside the bundle, one per set of V8 flags (about 330 KB each) */
const MAX_CACHES = 4;
const args = process.argv.slice(2);

/**
 * Is the bundle `out` older than a source it was built from? Its inputs (esbuild's metafile,
 * listed in `${out}.inputs` at build time) are checked, not every file under engine/: a file
 * that is not an input can only become one through an edit to an input, and checking 71
 * files instead of listing 18 directories and checking 123 halves the launcher's 4-7 ms.
 */
function stale(out) {
  let built;
  let inputs;
  try {
    built = statSync(out).mtimeMs;
    inputs = JSON.parse(readFileSync(`${out}.inputs`, 'utf8'));
  } catch {
    return true;
  }
  for (const f of inputs) {
    const st = statSync(join(root, f), { throwIfNoEntry: false });
    if (st === undefined || st.mtimeMs > built) return true;
  }
  return false;
}

/**
 * The code cache in `file` (a SHA-256 of the data, then the data), or undefined when it is
 * missing or damaged: V8 checks a cache's source, version and flags, but a release build
 * does not verify its payload, and a damaged payload aborts the process.
 */
function readCache(file) {
  let b;
  try {
    b = readFileSync(file);
  } catch {
    return undefined;
  }
  if (b.length <= 32) return undefined;
  const data = b.subarray(32);
  return createHash('sha256').update(data).digest().equals(b.subarray(0, 32)) ? data : undefined;
}

/** the bundle of `read`, built when a source is newer; returns its exports and a hook to run after the command */
function bundledRead() {
  const out = join(root, 'node_modules', '.cache', 'wsscope', 'read.cjs');
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const cacheFile = flags === '' ? `${out}.v8cache` : `${out}.${createHash('sha256').update(flags).digest('hex').slice(0, 12)}.v8cache`;
  if (stale(out)) {
    const { buildSync } = require('esbuild');
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const { metafile } = buildSync({
      entryPoints: [join(root, 'engine', 'cli', 'read.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      packages: 'external',
      define: { 'import.meta.url': '__bundleUrl' },
      outfile: tmp,
      logLevel: 'error',
      metafile: true,
      absWorkingDir: root,
    });
    // every cache was made for the old bundle
    for (const f of readdirSync(dirname(out))) if (f.endsWith('.v8cache')) rmSync(join(dirname(out), f), { force: true });
    writeFileSync(`${tmp}.inputs`, JSON.stringify(Object.keys(metafile.inputs)));
    renameSync(`${tmp}.inputs`, `${out}.inputs`);
    renameSync(tmp, out);
  }
  const cachedData = readCache(cacheFile);
  // the CommonJS wrapper on the first line, so the bundle's line numbers stay as they are;
  // strict, as the ES modules it was bundled from are
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __bundleUrl) {'use strict';${readFileSync(out, 'utf8')}\n})`, { filename: out, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(out), module, out, dirname(out), pathToFileURL(out).href);
  const saveCache = () => {
    if (cachedData !== undefined && !script.cachedDataRejected) return;
    // best effort: a read-only or full node_modules costs the next run its warm start, nothing more
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      // at most MAX_CACHES flag sets keep a cache: the least recently written goes
      const dir = dirname(out);
      const others = readdirSync(dir).filter((f) => f.endsWith('.v8cache') && join(dir, f) !== cacheFile);
      if (others.length >= MAX_CACHES) {
        const byAge = others.map((f) => [statSync(join(dir, f)).mtimeMs, f]).sort((a, b) => a[0] - b[0]);
        for (const [, f] of byAge.slice(0, others.length - MAX_CACHES + 1)) rmSync(join(dir, f), { force: true });
      }
      const data = script.createCachedData();
      writeFileSync(tmp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { flag: 'wx', mode: 0o600 });
      renameSync(tmp, cacheFile);
    } catch {
      rmSync(tmp, { force: true });
    }
  };
  return { readCommand: module.exports.readCommand, saveCache };
}

async function main() {
  if (args[0] === 'read' && !process.env.WSSCOPE_NO_BUNDLE) {
    const { readCommand, saveCache } = bundledRead();
    process.exitCode = await readCommand(args.slice(1));
    // after the command: the cache then holds the bytecode of what it ran
    saveCache();
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(join(root, 'bin', 'wsscope.ts')).href);
  }
}

main().catch((e) => {
  process.stderr.write(`wsscope: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
