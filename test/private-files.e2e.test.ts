/**
 * The symlink attack of issue 10, planted for real by an unprivileged local user (uid 65534
 * through setpriv) in a shared, sticky temp folder, against a root engine and a root CLI:
 * the old fixed capture folder `$TMPDIR/wsscope-captures` and the new per-user name, both
 * pre-created by that user and full of symlinks to a root-owned 0600 file. wsscope must
 * write through none of them, and that user must not be able to read the capture it makes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EngineService } from '../engine/service/engine-service';
import type { SessionInfo } from '../shared/api';
import { runWsscope } from './peers/wsscope';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
/** Runs a shell command as uid 65534; its exit status. */
const asNobody = (script: string): number => spawnSync('setpriv', [...NOBODY, 'sh', '-c', script], { stdio: 'ignore' }).status ?? -1;

let dir: string;
let shared: string;
let victim: string;
const SECRET = 'root-owned secret, must stay as it is\n';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-attack-'));
  chmodSync(dir, 0o755);
  // a shared temp folder like /tmp: everyone may create names in it, sticky
  shared = join(dir, 'tmp');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  victim = join(dir, 'victim');
  writeFileSync(victim, SECRET, { mode: 0o600 });
  // the attacker plants both folder names, open to all, filled with links to the victim
  const planted = [`wsscope-captures`, `wsscope-captures-${process.geteuid?.()}`].map((n) => join(shared, n));
  for (const d of planted) {
    const links = ['wsscope-lo.pcapng', 'recent.json'].map((n) => `ln -s ${victim} ${join(d, n)}`).join(' && ');
    expect(asNobody(`mkdir ${d} && chmod 777 ${d} && ${links}`)).toBe(0);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a local user who planted the capture folders with symlinks', () => {
  it('gets nothing from a root engine capture: the file is new, private, elsewhere, and unreadable to them', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = shared;
    const svc = new EngineService({ push: () => {}, configDir: join(dir, 'cfg') });
    let file = '';
    try {
      const started = await svc.call('startCapture', [{ iface: 'lo', filter: 'tcp port 9' }]);
      expect(started).toMatchObject({ ok: true, value: { kind: 'live' } });
      file = (started as { ok: true; value: SessionInfo }).value.path;
      expect((await svc.call('stopCapture', [])).ok).toBe(true);
    } finally {
      await svc.dispose();
      // assigning undefined would set the string "undefined"
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(readFileSync(victim, 'utf8')).toBe(SECRET);
    // not in either planted folder, but in a fresh folder of root's, 0700, the file 0600
    const folder = dirname(file);
    expect(folder.startsWith(join(shared, 'wsscope-captures-0-'))).toBe(true);
    expect(lstatSync(folder)).toMatchObject({ uid: 0 });
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).readUInt32LE(0)).toBe(0x0a0d0d0a);
    // the attacker can neither read it nor list the folder
    expect(asNobody(`cat ${file} > /dev/null`)).not.toBe(0);
    expect(asNobody(`ls ${folder} > /dev/null`)).not.toBe(0);
    // the planted folders hold only what the attacker put there
    for (const n of ['wsscope-captures', 'wsscope-captures-0']) expect(readdirSync(join(shared, n)).sort()).toEqual(['recent.json', 'wsscope-lo.pcapng']);
  });

  it('`wsscope capture -w` refuses a symlink or an existing file in one line, writing nothing', async () => {
    for (const target of [join(shared, 'wsscope-captures', 'wsscope-lo.pcapng'), victim]) {
      const run = runWsscope(['capture', '-i', 'lo', '-f', 'tcp port 9', '-w', target]);
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toBe(`wsscope capture: ${target} already exists; wsscope never overwrites a file there: choose a new name or remove it first.\n`);
    }
    expect(readFileSync(victim, 'utf8')).toBe(SECRET);
  });
});
