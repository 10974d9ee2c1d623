import { describe, it, expect, afterAll } from 'vitest';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLog } from './keylog';
import { KeyLogFollower } from './keylog-follow';

const tmp = mkdtempSync(join(tmpdir(), 'wsscope-keylog-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const R = (n: number): string => n.toString(16).padStart(64, '0');
const line = (n: number): string => `CLIENT_RANDOM ${R(n)} ${'ab'.repeat(48)}\n`;

describe('following a growing key log', () => {
  it('waits for the file, reads whole lines as they are appended, a half-written line on a later poll', () => {
    const path = join(tmp, 'grow.keys');
    const log = new KeyLog();
    const warnings: string[] = [];
    const f = new KeyLogFollower(log, path, (w) => warnings.push(w));
    expect(f.poll()).toBe(0);
    writeFileSync(path, `# keys\n${line(1)}`);
    expect(f.poll()).toBe(2);
    expect(log.size).toBe(1);
    const l2 = line(2);
    appendFileSync(path, l2.slice(0, 50));
    expect(f.poll()).toBe(0);
    expect(log.lookup(Buffer.from(R(2), 'hex'))).toBeUndefined();
    appendFileSync(path, `${l2.slice(50)}garbage\n`);
    expect(f.poll()).toBe(2);
    expect(log.lookup(Buffer.from(R(2), 'hex'))?.master).toBeDefined();
    // line numbers count from the start of the file
    expect(warnings).toEqual([`${path}: line 4: unknown label "garbage"; the line is ignored.`]);
  });

  it('reads a truncated or replaced file again from its start', () => {
    const path = join(tmp, 'replace.keys');
    const log = new KeyLog();
    const f = new KeyLogFollower(log, path, () => {});
    writeFileSync(path, line(1) + line(2));
    f.poll();
    writeFileSync(path, line(3));
    expect(f.poll()).toBe(1);
    expect(log.size).toBe(3);
  });
});
