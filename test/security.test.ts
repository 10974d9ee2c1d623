/**
 * Security checks that run with the test suite:
 *  - scripts/security-check.mjs (Electronegativity over electron/ and the built app in out/)
 *    reports nothing at MEDIUM severity / FIRM confidence or above, writes SARIF, and does
 *    see our real window options (a copy of electron/ with the sandbox and context isolation
 *    turned off must fail the gate: a scan that cannot see them would pass anything);
 *  - the eslint bans on HTML sinks (eslint.config.js) reject `v-html`, `innerHTML`,
 *    `outerHTML`, `insertAdjacentHTML` and `document.write` in files of a temporary project
 *    linted with the repository's own config.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'security-check.mjs');

interface Issue {
  id: string;
  severity: string;
  confidence: string;
  file: string;
  line: number;
}
interface Report {
  electron: string;
  targets: Array<{ name: string; input: string; excluded: string[]; checks: number; sarif: string; issues: Issue[]; gated: number; errors: unknown[] }>;
}

function runCheck(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-security-'));
  // Build the app once, fresh, so the app-build target scans the code as it is now (no other
  // test reads out/; `wsscope serve` builds to its own directory in the UI test).
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Electronegativity scan (scripts/security-check.mjs)', () => {
  it('finds nothing at MEDIUM severity / FIRM confidence in electron/ and in the built app, and writes SARIF for both', async () => {
    const sarifDir = join(dir, 'sarif');
    const r = await runCheck(['--json', '--no-build', '--sarif-dir', sarifDir]);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.targets.map((t) => [t.name, t.input])).toEqual([
      ['electron-src', 'electron'],
      ['app-build', 'out'],
    ]);
    for (const t of report.targets) {
      expect(t.errors, `${t.name}: files it could not parse`).toEqual([]);
      expect(t.checks).toBeGreaterThan(30);
      expect(t.issues.filter((i) => i.severity === 'MEDIUM' || i.severity === 'HIGH').filter((i) => i.confidence !== 'TENTATIVE'), t.name).toEqual([]);
      expect(t.gated).toBe(0);
      // exclusions are by check name and each one is documented in docs/security.md
      const doc = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
      for (const x of t.excluded) expect(doc, `docs/security.md explains excluding ${x}`).toContain(x);
      const sarif = JSON.parse(readFileSync(join(sarifDir, `${t.name}.sarif`), 'utf8')) as {
        version: string;
        runs: Array<{ tool: { driver: { name: string } }; results: Array<{ ruleId: string; level: string; properties: { severity: string } }> }>;
      };
      expect(sarif.version).toBe('2.1.0');
      expect(sarif.runs[0].tool.driver.name).toBe('Electronegativity');
      expect(sarif.runs[0].results.map((x) => x.ruleId)).toEqual(t.issues.map((i) => i.id));
      expect(sarif.runs[0].results.every((x) => x.level === 'note')).toBe(true);
    }
    expect(r.code).toBe(0);
  });

  it('fails the gate, listing the checks, on a copy of electron/ with the sandbox and context isolation turned off', async () => {
    const copy = join(dir, 'electron-weakened');
    cpSync(join(ROOT, 'electron'), copy, { recursive: true });
    const win = join(copy, 'main', 'window.ts');
    const src = readFileSync(win, 'utf8');
    const weakened = src.replace('contextIsolation: true', 'contextIsolation: false').replace('sandbox: true', 'sandbox: false').replace('webSecurity: true', 'webSecurity: false');
    expect(weakened).not.toBe(src);
    writeFileSync(win, weakened);
    const r = await runCheck(['--input', copy, '--sarif-dir', join(dir, 'sarif-weak')]);
    expect(r.code).toBe(1);
    for (const id of ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'WEB_SECURITY_JS_CHECK']) expect(r.stdout).toMatch(new RegExp(`FAIL ${id} \\w+/\\w+ \\S*window\\.ts:\\d+`));
    expect(r.stdout).toMatch(/security-check: [1-9]\d* finding\(s\) at MEDIUM severity \/ FIRM confidence or above/);
  });
});

describe('eslint bans on HTML sinks', () => {
  it('rejects v-html in a .vue file and innerHTML, outerHTML, insertAdjacentHTML and document.write in a .ts file', async () => {
    const proj = join(dir, 'lint');
    // a module with no imports: the temporary project holds nothing else to resolve
    cpSync(join(ROOT, 'shared', 'close.ts'), join(proj, 'clean.ts'));
    writeFileSync(join(proj, 'Payload.vue'), '<template>\n  <div v-html="payload" />\n</template>\n\n<script setup lang="ts">\ndefineProps<{ payload: string }>();\n</script>\n');
    writeFileSync(
      join(proj, 'sinks.ts'),
      [
        'export function show(el: HTMLElement, payload: string): void {',
        '  el.innerHTML = payload;',
        '  el.outerHTML = payload;',
        "  el.insertAdjacentHTML('beforeend', payload);",
        '  document.write(payload);',
        '  document.writeln(payload);',
        '  el.textContent = payload;',
        '}',
        '',
      ].join('\n'),
    );
    // the repository's config, applied to a project in a temporary directory
    const eslint = new ESLint({ cwd: proj, overrideConfigFile: join(ROOT, 'eslint.config.js') });
    const results = await eslint.lintFiles(['Payload.vue', 'sinks.ts', 'clean.ts']);
    const byFile = Object.fromEntries(results.map((r) => [r.filePath.slice(proj.length + 1), r.messages.filter((m) => m.severity === 2).map((m) => [m.line, m.ruleId])]));
    expect(byFile['Payload.vue']).toEqual([[2, 'vue/no-v-html']]);
    expect(byFile['sinks.ts']).toEqual([
      [2, 'no-restricted-syntax'],
      [3, 'no-restricted-syntax'],
      [4, 'no-restricted-syntax'],
      [5, 'no-restricted-syntax'],
      [6, 'no-restricted-syntax'],
    ]);
    // the same config passes a file without sinks: the errors above come from the bans
    expect(byFile['clean.ts']).toEqual([]);
  });
});
