import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chownSync, chmodSync, closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateFile, ensurePrivateDir, makeScratchDir, PrivateFsError, removeStaleScratchDirs, replaceFile, replaceFileSync, writePrivateFile } from './private';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-private-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (p: string): number => statSync(p).mode & 0o777;

/** The pid of a process that has exited (a child we waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('private files', () => {
  it('creates a new file with mode 0600 and refuses a name that exists, a symlink included', () => {
    const p = join(dir, 'new.bin');
    writePrivateFile(p, 'secret');
    expect(mode(p)).toBe(0o600);
    expect(() => writePrivateFile(p, 'again')).toThrow(/already exists; wsscope never overwrites/);
    expect(readFileSync(p, 'utf8')).toBe('secret');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched', { mode: 0o600 });
    const link = join(dir, 'link');
    symlinkSync(victim, link);
    expect(() => createPrivateFile(link)).toThrow(PrivateFsError);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nothing-here'), dangling);
    expect(() => createPrivateFile(dangling)).toThrow(PrivateFsError);
    expect(existsSync(join(dir, 'nothing-here'))).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });

  it('opens a new private file for appending: after a truncation to 0, writes start at the beginning again', () => {
    const p = join(dir, 'stream.json');
    const fd = createPrivateFile(p, false, true);
    try {
      writeSync(fd, 'first line\n');
      ftruncateSync(fd, 0);
      writeSync(fd, 'second\n');
    } finally {
      closeSync(fd);
    }
    expect(mode(p)).toBe(0o600);
    expect(readFileSync(p, 'utf8')).toBe('second\n');
    expect(() => createPrivateFile(p, false, true)).toThrow(/already exists/);
  });

  it('replaces a target by renaming a new private file over it: a symlink there is replaced, not written through', async () => {
    const victim = join(dir, 'victim2');
    writeFileSync(victim, 'untouched', { mode: 0o600 });
    const target = join(dir, 'export.json');
    symlinkSync(victim, target);
    replaceFileSync(target, '{"a":1}');
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}');
    expect(mode(target)).toBe(0o600);
    // a failed write leaves the old content and no temp file
    await expect(
      replaceFile(target, (tmp) => {
        closeSync(createPrivateFile(tmp));
        throw new Error('disk on fire');
      }),
    ).rejects.toThrow('disk on fire');
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}');
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).not.toMatch(/\.tmp/);
  });

  it('makes scratch folders 0700 and checks a folder it did not make for owner and mode', () => {
    const s = makeScratchDir(dir);
    expect(s).toMatch(/\/wsscope-\d+-[0-9a-f]{12}$/);
    expect(mode(s)).toBe(0o700);
    const fresh = ensurePrivateDir(join(dir, 'a', 'b'));
    expect(mode(fresh)).toBe(0o700);
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => ensurePrivateDir(open)).toThrow(/is open to other users \(mode 777\)/);
    const readable = join(dir, 'readable');
    mkdirSync(readable, { mode: 0o755 });
    expect(ensurePrivateDir(readable)).toBe(readable);
    expect(() => ensurePrivateDir(readable, true)).toThrow(/is open to other users \(mode 755\)/);
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    expect(() => ensurePrivateDir(theirs)).toThrow(/belongs to another user \(uid 65534\)/);
    const link = join(dir, 'linked');
    symlinkSync(fresh, link);
    expect(() => ensurePrivateDir(link)).toThrow(/is a symbolic link/);
  });

  it('removes the scratch folders of dead wsscope processes of this user, and nothing else', () => {
    const parent = join(dir, 'stale');
    mkdirSync(parent);
    const dead = deadPid();
    const stale = join(parent, `wsscope-${dead}-0123456789ab`);
    mkdirSync(join(stale, 'uploads'), { recursive: true });
    writeFileSync(join(stale, 'uploads', 'big.pcap'), 'x');
    // a symlink inside is removed, not followed
    const keep = join(dir, 'keep.txt');
    writeFileSync(keep, 'keep');
    symlinkSync(keep, join(stale, 'link'));
    const living = join(parent, `wsscope-${process.ppid}-0123456789ab`);
    mkdirSync(living);
    const mine = join(parent, `wsscope-${process.pid}-0123456789ab`);
    mkdirSync(mine);
    const othersDead = join(parent, `wsscope-${dead}-ba9876543210`);
    mkdirSync(othersDead);
    chownSync(othersDead, 65534, 65534);
    const notOurs = join(parent, `wsscope-live-${dead}`);
    mkdirSync(notOurs);
    expect(removeStaleScratchDirs(parent)).toEqual([stale]);
    expect([stale, living, mine, othersDead, notOurs].map((p) => existsSync(p))).toEqual([false, true, true, true, true]);
    expect(readFileSync(keep, 'utf8')).toBe('keep');
  });
});
