/**
 * `wsscope capture -w` onto a disk that fills up, for real: a 2 MiB tmpfs (mounted here; root
 * only, which CI is) and real WebSocket traffic on `lo` until it is full. The capture must stop
 * by itself, print its summary and say what was lost and what to do, and leave a pcapng that
 * ends on a block boundary: tshark and capinfos read it without complaint.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer, type Peer } from './peers/peer';
import { runWsscope } from './peers/wsscope';
import { tsharkPacketCount } from './peers/capture';

let dir: string;
let full: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-full-'));
  full = join(dir, 'full');
  mkdirSync(full);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', full]);
});

afterAll(() => {
  execFileSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

describe('wsscope capture -w onto a full disk', () => {
  it.each(['cap', 'dumpcap'])('(--backend %s) stops by itself, prints the summary and what to do, and leaves a pcapng tshark reads whole', async (backend) => {
    const file = join(full, `capture-${backend}.pcapng`);
    const server = await startPeer({ impl: 'node-ws', role: 'server', deflate: false });
    let client: Peer | undefined;
    try {
      const cli = runWsscope(['capture', '-i', 'lo', '-f', `tcp port ${server.port}`, '--backend', backend, '-w', file, '--no-color']);
      await cli.stderrMatch(/Capturing on lo/);
      // about 6 MB each way: three times what the disk holds
      const many = Array.from({ length: 3000 }, (_, i) => `message ${i} ${'x'.repeat(2000)}`);
      client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, deflate: false, messages: many });
      expect(await cli.exited).toBe(1);
      const err = cli.stderr();
      expect(err).not.toMatch(/\n\s+at /); // no stack trace
      expect(err).toMatch(
        new RegExp(
          `^wsscope capture: The disk holding ${file} is full \\(ENOSPC\\): capture stopped, and the packets that arrived after that were not written\\. Free space there, or capture to a file on another disk \\(-w FILE\\), and start again\\. The (\\d+) packet\\(s\\) captured so far are in ${file}\\.$`,
          'm',
        ),
      );
      const summary = cli.lines[cli.lines.length - 1];
      const m = /^(\d+) packets, 1 connections, (\d+) messages, \d+ findings; drops: [^;]+; file: (.+)$/.exec(summary);
      expect(m, summary).not.toBeNull();
      expect(m?.[3]).toBe(file);
      const decoded = Number(m?.[1]);
      expect(Number(m?.[2])).toBeGreaterThan(10);
      // every packet decoded is in the file, and the file reads back whole (tsharkPacketCount throws on "cut short")
      expect(tsharkPacketCount(file)).toBe(decoded);
      const info = execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(info).toMatch(new RegExp(`Number of packets:\\s+${decoded}\\n`));
      expect(statSync(file).size).toBeGreaterThan(1 << 20);
    } finally {
      await client?.stop();
      await server.stop();
      rmSync(file, { force: true });
    }
  });
});
