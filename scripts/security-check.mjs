#!/usr/bin/env node
/**
 * Electron security scan for CI: runs Electronegativity (Doyensec, 1.10.3) offline over the
 * Electron sources (electron/) and over the built app (out/: main, engine host, preload,
 * renderer), writes one SARIF 2.1.0 file per target and fails when any finding is at MEDIUM
 * severity and FIRM confidence or above. Builds the app first (`npm run build`) when out/
 * is missing. See docs/security.md for the findings and every exclusion.
 *
 *   node scripts/security-check.mjs                 # both targets, SARIF in out/security/
 *   node scripts/security-check.mjs --input DIR     # scan DIR instead (repeatable)
 *   node scripts/security-check.mjs --sarif-dir DIR --json
 *   node scripts/security-check.mjs --rebuild       # npm run build first, even if out/ exists (CI)
 *
 * Exit status: 0 no finding at the gate, 1 findings at the gate (listed), 2 the scan failed
 * (bad arguments, a file Electronegativity could not parse, the build failed).
 *
 * Why the runner and not `npx electronegativity`: the package's CLI requires `commander`
 * without declaring it, and resolves the hoisted commander 14, whose API it predates
 * (`commander.version is not a function`). The runner (the package's `main`) is what the CLI
 * calls, with the same options as
 *   electronegativity -i DIR -x AvailableSecurityFixesGlobalCheck[,...] -e VERSION -r -o FILE.sarif
 * Offline: the runner asks an S3 bucket for translations before every scan; the HTTP client
 * it uses for that (`got`, and only that file uses it once AvailableSecurityFixesGlobalCheck,
 * which fetches Electron's release list, is excluded) is replaced by one that answers 404 at
 * once, so the bundled en-US strings are used and nothing leaves the machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));

/** Checks no target runs: it downloads Electron's release list (network) to compare versions. */
export const ALWAYS_EXCLUDED = ['AvailableSecurityFixesGlobalCheck'];

/**
 * A manual-review check that flags every `preload` option, whatever the preload does. Ours
 * was reviewed (docs/security.md, "Exclusions"): sandboxed, one contextBridge object with one
 * method per call on its own channel, no ipcRenderer or Node API handed to the page; the
 * test 'preload api' in electron/main/main.test.ts pins that shape. Inline `eng-disable`
 * comments cannot carry this: the bundler drops them from out/.
 */
const REVIEWED = ['PreloadJSCheck'];

/**
 * The default targets. Each exclusion beyond ALWAYS_EXCLUDED is a documented false positive
 * (docs/security.md, "Exclusions"), scoped to the one target where it is false.
 */
export const TARGETS = [
  {
    name: 'electron-src',
    dir: 'electron',
    // The sources hold no HTML: the CSP is sent as a header by the app:// handler
    // (electron/main/window.ts APP_CSP), a shape CSPJSCheck does not recognise, so the global
    // check reports "no CSP" here. The app-build target scans the same CSP in the built page.
    exclude: [...ALWAYS_EXCLUDED, ...REVIEWED, 'CSPGlobalCheck'],
  },
  { name: 'app-build', dir: 'out', exclude: [...ALWAYS_EXCLUDED, ...REVIEWED] },
];

/** The gate: MEDIUM severity (value 2) and FIRM confidence (value 1) or above. */
export const GATE = { severity: 'MEDIUM', confidence: 'FIRM' };
const SEVERITY = { INFORMATIONAL: 0, LOW: 1, MEDIUM: 2, HIGH: 3 };
const CONFIDENCE = { TENTATIVE: 0, FIRM: 1, CERTAIN: 2 };

export function atGate(issue) {
  return SEVERITY[issue.severity] >= SEVERITY[GATE.severity] && CONFIDENCE[issue.confidence] >= CONFIDENCE[GATE.confidence];
}

function parseArgs(argv) {
  const o = { inputs: [], sarifDir: join(ROOT, 'out', 'security'), json: false, build: true, rebuild: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--input' || a === '-i') o.inputs.push(argv[++i]);
    else if (a === '--sarif-dir') o.sarifDir = resolve(argv[++i] ?? '');
    else if (a === '--json') o.json = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--rebuild') o.rebuild = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.inputs.some((x) => !x)) throw new Error('--input wants a directory');
  return o;
}

/** Electronegativity's runner, with its translation download answered locally. */
function loadRunner() {
  const main = require.resolve('@doyensec/electronegativity');
  const i18nFile = join(dirname(main), 'locales', 'i18n.js');
  const gotPath = createRequire(i18nFile).resolve('got');
  const stub = new Module(gotPath);
  stub.filename = gotPath;
  stub.loaded = true;
  stub.exports = () => Promise.resolve({ statusCode: 404, body: '' });
  require.cache[gotPath] = stub;
  return require(main);
}

function electronVersion() {
  return JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
}

const BUILT = ['out/main/index.js', 'out/main/host.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const SOURCES = ['electron', 'engine', 'renderer', 'shared', 'electron.vite.config.ts'];

/** Newest modification time under `p` (files only, bounded walk). */
function newest(p, depth = 0) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  if (depth > 8) return t;
  for (const e of readdirSync(p)) if (e !== 'node_modules') t = Math.max(t, newest(join(p, e), depth + 1));
  return t;
}

/** Sources changed after the last build: the app-build target scans out/ as it is. */
export function buildIsStale() {
  const built = Math.min(...BUILT.map((f) => statSync(join(ROOT, f)).mtimeMs));
  return SOURCES.some((s) => existsSync(join(ROOT, s)) && newest(join(ROOT, s)) > built);
}

/** Builds when out/ is incomplete (or when forced); returns whether out/ is older than the sources. */
function ensureBuild(force) {
  const need = BUILT;
  if (!force && need.every((f) => existsSync(join(ROOT, f)))) return buildIsStale();
  process.stderr.write('security-check: out/ is incomplete, running npm run build\n');
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (status ${r.status})`);
  return false;
}

function toIssue(i, dir) {
  return {
    id: i.id,
    severity: i.severity.name,
    confidence: i.confidence.name,
    file: i.file === 'N/A' ? 'N/A' : relative(ROOT, resolve(dir, i.file)),
    line: i.location?.line ?? 0,
    column: i.location?.column ?? 0,
    manualReview: !!i.manualReview,
    description: i.description,
    sample: typeof i.sample === 'string' ? i.sample.slice(0, 300) : undefined,
  };
}

/**
 * SARIF 2.1.0 as Electronegativity writes it (rules by check id, wiki links), plus what its
 * writer leaves out and a gate needs: severity and confidence (result properties) and a
 * level that says which results fail the build ("error") and which are for review ("note").
 */
function sarif(target, version, issues) {
  const rules = [];
  for (const i of issues) {
    if (rules.some((r) => r.id === i.id)) continue;
    rules.push({
      id: i.id,
      fullDescription: { text: i.description },
      helpUri: `https://github.com/doyensec/electronegativity/wiki/${i.id}`,
      properties: { category: 'Security' },
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'Electronegativity', version, informationUri: 'https://github.com/doyensec/electronegativity', rules } },
        automationDetails: { id: `wsscope/${target.name}` },
        properties: { input: target.dir, excludedChecks: target.exclude, gate: GATE },
        results: issues.map((i) => ({
          ruleId: i.id,
          level: atGate(i) ? 'error' : 'note',
          message: { text: i.description },
          properties: { severity: i.severity, confidence: i.confidence, manualReview: i.manualReview, ...(i.sample ? { sample: i.sample } : {}) },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: i.file === 'N/A' ? target.dir : i.file },
                region: { startLine: Math.max(1, i.line), startColumn: i.column + 1 },
              },
            },
          ],
        })),
      },
    ],
  };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`security-check: ${e.message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write('Usage: node scripts/security-check.mjs [--input DIR]... [--sarif-dir DIR] [--json] [--rebuild | --no-build]\n');
    return 0;
  }
  const targets = o.inputs.length
    ? o.inputs.map((d, n) => ({ name: `input-${n + 1}`, dir: relative(ROOT, resolve(d)) || '.', abs: resolve(d), exclude: [...ALWAYS_EXCLUDED] }))
    : TARGETS.map((t) => ({ ...t, abs: join(ROOT, t.dir) }));
  let staleBuild = false;
  try {
    if (!o.inputs.length && o.build) staleBuild = ensureBuild(o.rebuild);
  } catch (e) {
    process.stderr.write(`security-check: ${e.message}\n`);
    return 2;
  }
  const run = loadRunner();
  const version = JSON.parse(readFileSync(require.resolve('@doyensec/electronegativity/package.json'), 'utf8')).version;
  const electron = electronVersion();
  mkdirSync(o.sarifDir, { recursive: true });
  const report = { electron, gate: GATE, staleBuild, targets: [] };
  if (staleBuild && !o.json) process.stdout.write('security-check: note: sources changed after out/ was built; app-build scans out/ as built (--rebuild builds first)\n');
  let failed = 0;
  let broken = false;
  for (const t of targets) {
    if (!existsSync(t.abs)) {
      process.stderr.write(`security-check: ${t.dir} does not exist\n`);
      broken = true;
      continue;
    }
    const r = await run(
      {
        input: t.abs,
        customScan: [],
        excludeFromScan: t.exclude,
        isRelative: true,
        isVerbose: true,
        electronVersionOverride: electron,
        parserPlugins: [],
      },
      false,
    );
    const issues = r.issues.map((i) => toIssue(i, t.abs));
    const gated = issues.filter(atGate);
    // a file it could not parse is a file it did not check: that fails the scan
    const errors = r.errors.filter((e) => !e.tolerable).map((e) => ({ file: relative(ROOT, e.file), message: e.message }));
    const sarifFile = join(o.sarifDir, `${t.name}.sarif`);
    writeFileSync(sarifFile, JSON.stringify(sarif(t, version, issues), null, 1));
    report.targets.push({ name: t.name, input: t.dir, excluded: t.exclude, checks: r.globalChecks + r.atomicChecks, sarif: relative(ROOT, sarifFile), issues, gated: gated.length, errors });
    failed += gated.length;
    if (errors.length) broken = true;
    if (!o.json) {
      process.stdout.write(`${t.name} (${t.dir}): ${r.atomicChecks} atomic + ${r.globalChecks} global checks, excluded ${t.exclude.join(', ')}; ${issues.length} finding(s), ${gated.length} at the gate -> ${relative(ROOT, sarifFile)}\n`);
      for (const i of issues) {
        const mark = atGate(i) ? 'FAIL' : 'note';
        process.stdout.write(`  ${mark} ${i.id} ${i.severity}/${i.confidence} ${i.file}:${i.line}:${i.column}${i.manualReview ? ' (manual review)' : ''}\n       ${i.description}${i.sample ? `\n       ${i.sample}` : ''}\n`);
      }
      for (const e of errors) process.stdout.write(`  ERROR could not parse ${e.file}: ${e.message}\n`);
    }
  }
  if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`security-check: ${failed} finding(s) at ${GATE.severity} severity / ${GATE.confidence} confidence or above (Electron ${electron})\n`);
  return broken ? 2 : failed > 0 ? 1 : 0;
}

process.exitCode = await main();
