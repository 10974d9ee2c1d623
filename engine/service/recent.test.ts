import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECENT, RecentFiles } from './recent';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-recent-'));
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RecentFiles', () => {
  it('starts empty, creates its directory on the first add, and lists newest first', () => {
    const cfg = join(dir, 'a', 'b');
    const r = new RecentFiles(cfg);
    expect(r.list()).toEqual([]);
    r.add('/x/one.pcap');
    r.add('/x/two.pcap');
    expect(r.list()).toEqual(['/x/two.pcap', '/x/one.pcap']);
    expect(JSON.parse(readFileSync(join(cfg, 'recent.json'), 'utf8'))).toEqual(['/x/two.pcap', '/x/one.pcap']);
    // written through a temporary file that is renamed: nothing else is left behind
    expect(readdirSync(cfg)).toEqual(['recent.json']);
    expect(statSync(cfg).mode & 0o777).toBe(0o700);
    expect(statSync(join(cfg, 'recent.json')).mode & 0o777).toBe(0o600);
  });

  it('replaces a symlink planted at recent.json instead of writing through it', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched', { mode: 0o600 });
    const cfg = join(dir, 'cfg');
    new RecentFiles(cfg).add('/x/first.pcap');
    rmSync(join(cfg, 'recent.json'));
    symlinkSync(victim, join(cfg, 'recent.json'));
    new RecentFiles(cfg).add('/x/second.pcap');
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(join(cfg, 'recent.json')).isSymbolicLink()).toBe(false);
  });

  it(`keeps ${MAX_RECENT} entries, and a path opened again moves to the front once`, () => {
    const r = new RecentFiles(dir);
    for (let i = 0; i < 12; i++) r.add(`/c/${i}.pcap`);
    expect(r.list()).toEqual(Array.from({ length: MAX_RECENT }, (_, i) => `/c/${11 - i}.pcap`));
    r.add('/c/5.pcap');
    expect(r.list()).toHaveLength(MAX_RECENT);
    expect(r.list().slice(0, 3)).toEqual(['/c/5.pcap', '/c/11.pcap', '/c/10.pcap']);
    expect(r.list().filter((p) => p === '/c/5.pcap')).toHaveLength(1);
  });

  it('reads a damaged list as empty and a list with foreign entries as its strings', () => {
    const r = new RecentFiles(dir);
    writeFileSync(join(dir, 'recent.json'), '["/a.pcap", ');
    expect(r.list()).toEqual([]);
    writeFileSync(join(dir, 'recent.json'), '{"path": "/a.pcap"}');
    expect(r.list()).toEqual([]);
    writeFileSync(join(dir, 'recent.json'), JSON.stringify(['/a.pcap', 7, null, { p: 1 }, '/b.pcap']));
    expect(r.list()).toEqual(['/a.pcap', '/b.pcap']);
    r.add('/c.pcap');
    expect(r.list()).toEqual(['/c.pcap', '/a.pcap', '/b.pcap']);
  });

  it('never throws when the list cannot be saved', () => {
    // the config "directory" is a file: mkdir and the write fail
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = new RecentFiles(file);
    expect(() => r.add('/a.pcap')).not.toThrow();
    expect(r.list()).toEqual([]);
  });

  it('honours a smaller bound', () => {
    const r = new RecentFiles(dir, 2);
    for (const p of ['/1', '/2', '/3']) r.add(p);
    expect(r.list()).toEqual(['/3', '/2']);
  });
});
