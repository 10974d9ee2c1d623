/**
 * The launcher's bundle and V8 code cache (scripts/wsscope.cjs): `read` runs its bundle with
 * the cache beside it; a run that found a usable cache leaves it as it is, a damaged one (which
 * would abort V8) is refused by the launcher's checksum and written anew, an edited source
 * (one of the bundle's inputs) rebuilds the bundle, and the output is the same whichever way
 * the bundle was compiled.
 *
 * And the command in front of it (scripts/wsscope, the package's bin): run through a relative
 * symbolic link as npm links it, it starts the launcher without NODE_EXTRA_CA_CERTS. Node warns
 * on stderr when the file that variable names cannot be loaded, which makes the variable's
 * presence visible from outside: the launcher run directly shows the warning, the command not.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './kit/paths';

const BUNDLE = join(REPO_ROOT, 'node_modules', '.cache', 'wsscope', 'read.cjs');
const CACHE = `${BUNDLE}.v8cache`;
const CAPTURE = join(REPO_ROOT, 'test', 'captures', 'public', 'zeek__two-binary-fragments.pcap');

function read(...v8Flags: string[]): string {
  const r = spawnSync(process.execPath, [...v8Flags, join(REPO_ROOT, 'scripts', 'wsscope.cjs'), 'read', CAPTURE, '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('the launcher code cache', () => {
  it('keeps a cache V8 accepts, rewrites a damaged one, and decodes the same either way', () => {
    const first = read();
    expect(first).toContain('"type":"message"');
    const cache = readFileSync(CACHE);
    expect(cache.length).toBeGreaterThan(10_000);
    // accepted: not written again (same bytes, same file)
    const ino = statSync(CACHE).ino;
    expect(read()).toBe(first);
    expect(statSync(CACHE).ino).toBe(ino);
    expect(readFileSync(CACHE).equals(cache)).toBe(true);
    // damaged (every byte after the checksum and V8's header flipped): refused, decoded from source, replaced
    const bad = Buffer.from(cache);
    for (let i = 32 + 64; i < bad.length; i++) bad[i] ^= 0xff;
    writeFileSync(`${CACHE}.test.tmp`, bad);
    renameSync(`${CACHE}.test.tmp`, CACHE);
    expect(read()).toBe(first);
    const again = readFileSync(CACHE);
    expect(again.equals(bad)).toBe(false);
    expect(again.length).toBeGreaterThan(10_000);
    expect(read()).toBe(first);
    // other V8 flags (V8 rejects a cache made under other flags): a cache of their own, the first left as it is
    const kept = statSync(CACHE);
    const before = new Set(readdirSync(dirname(CACHE)).filter((f) => f.endsWith('.v8cache')));
    expect(read('--max-semi-space-size=8')).toBe(first);
    const added = readdirSync(dirname(CACHE)).filter((f) => f.endsWith('.v8cache') && !before.has(f));
    expect(added.length).toBeLessThanOrEqual(1);
    expect(readdirSync(dirname(CACHE)).filter((f) => f.endsWith('.v8cache')).length).toBeLessThanOrEqual(4);
    expect(statSync(CACHE).ino).toBe(kept.ino);
    expect(statSync(CACHE).mtimeMs).toBe(kept.mtimeMs);
    const flagged = readdirSync(dirname(CACHE)).filter((f) => /^read\.cjs\.[0-9a-f]{12}\.v8cache$/.test(f));
    expect(flagged.length).toBeGreaterThan(0);
    expect(read('--max-semi-space-size=8')).toBe(first);
    expect(statSync(CACHE).mtimeMs).toBe(kept.mtimeMs);
  });

  it('rebuilds the bundle when one of its sources is newer, and writes a cache for the new one', () => {
    const first = read();
    const built = statSync(BUNDLE).mtimeMs;
    const inputs = JSON.parse(readFileSync(`${BUNDLE}.inputs`, 'utf8')) as string[];
    expect(inputs).toContain('engine/flow/pipeline.ts');
    // an edit (its time only: the content stays) to a source the bundle was built from
    const src = join(REPO_ROOT, 'engine', 'flow', 'pipeline.ts');
    const now = new Date(Math.max(Date.now(), Math.ceil(built) + 1));
    utimesSync(src, now, now);
    expect(read()).toBe(first);
    expect(statSync(BUNDLE).mtimeMs).toBeGreaterThan(built);
    expect(statSync(CACHE).mtimeMs).toBeGreaterThanOrEqual(statSync(BUNDLE).mtimeMs);
    expect(read()).toBe(first);
  });
});

describe('the wsscope command (scripts/wsscope)', () => {
  it('runs the launcher through a relative bin link, without NODE_EXTRA_CA_CERTS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsscope-bin-'));
    try {
      const bin = join(dir, 'node_modules', '.bin');
      mkdirSync(bin, { recursive: true });
      symlinkSync(relative(bin, join(REPO_ROOT, 'scripts', 'wsscope')), join(bin, 'wsscope'));
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') };
      const args = ['read', CAPTURE, '--summary', '--json'];
      // the oracle: the launcher alone, with the variable, makes Node warn about the file
      const direct = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), ...args], { cwd: dir, env, encoding: 'utf8' });
      expect(direct.status).toBe(0);
      expect(direct.stderr).toContain('missing.pem');
      const viaBin = spawnSync(join('node_modules', '.bin', 'wsscope'), args, { cwd: dir, env, encoding: 'utf8' });
      expect(viaBin.stderr).toBe('');
      expect(viaBin.status).toBe(0);
      expect(viaBin.stdout).toBe(direct.stdout);
      expect(JSON.parse(viaBin.stdout.trim().split('\n').pop() ?? '{}').messages).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
