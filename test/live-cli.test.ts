/**
 * `wsscope capture` and `wsscope interfaces` as a user runs them: the real CLI process,
 * real peers on `lo`, real signals (SIGINT to stop, SIGKILL to crash), real privilege loss
 * (setpriv to `nobody`).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startPeer, type Peer } from './peers/peer';
import { runWsscope } from './peers/wsscope';
import { tsharkPacketCount } from './peers/capture';
import { CaptureParser } from '../engine/capture/pcap-parser';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-cli-'));
  chmodSync(dir, 0o777); // the unprivileged runs write here too
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOBODY = { user: 'nobody', group: 'nogroup' };
const MESSAGES = ['one', 'two', 'three'];

interface WireEvent {
  type: string;
  dir?: string;
  opcode?: number;
  text?: string;
  packet?: number;
  [k: string]: unknown;
}
const parseLines = (lines: string[]): WireEvent[] => lines.map((l) => JSON.parse(l) as WireEvent);
const wireMessages = (evs: WireEvent[], dir: string): string[] => evs.filter((e) => e.type === 'message' && e.dir === dir && e.opcode === 1).map((e) => e.text ?? '');

/** Packets the parser reads from a file, and any problem it reports. */
function parseFile(file: string): { packets: number; problems: string[] } {
  let packets = 0;
  const problems: string[] = [];
  const p = new CaptureParser({ packet: () => packets++, problem: (x) => problems.push(`${x.kind}: ${x.text}`) });
  p.push(readFileSync(file));
  p.end();
  return { packets, problems };
}

describe('wsscope capture', () => {
  it.each(['cap', 'dumpcap'])('with --backend %s --json prints each message as it is captured, and on SIGINT a summary with drops and the file', async (backend) => {
    const file = join(dir, `sigint-${backend}.pcapng`);
    const server = await startPeer({ impl: 'node-ws', role: 'server', deflate: true });
    let client: Peer | undefined;
    try {
      const cli = runWsscope(['capture', '-i', 'lo', '-f', `tcp port ${server.port}`, '--backend', backend, '-w', file, '--json']);
      expect(await cli.stderrMatch(/Capturing on lo \(backend \w+\) -> [^;\s]+/)).toBe(`Capturing on lo (backend ${backend}) -> ${file}`);
      client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, deflate: true, messages: MESSAGES });
      await client.done;
      // live: the messages are printed while the capture still runs
      await cli.linesUntil((lines) => wireMessages(parseLines(lines), 'server').length === MESSAGES.length, 'the echoed messages');
      expect(wireMessages(parseLines(cli.lines), 'client')).toEqual(MESSAGES);
      cli.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      const evs = parseLines(cli.lines);
      const summary = evs[evs.length - 1];
      expect(summary).toMatchObject({ type: 'summary', connections: 1, messages: 2 * MESSAGES.length + 2, backend, file });
      expect(summary.drops).toBe(backend === 'cap' ? null : 0);
      expect(summary.packets).toBe(tsharkPacketCount(file));
      expect(cli.stderr()).toContain(backend === 'cap' ? 'drops: not reported by the cap backend' : 'drops: 0');
      expect(cli.stderr()).toContain(`file: ${file}`);
    } finally {
      await client?.stop();
      await server.stop();
    }
  });

  it('prints readable lines and a closing summary in text mode, choosing dumpcap on lo by default (cap would cut 64 KiB frames)', async () => {
    const file = join(dir, 'text.pcapng');
    const server = await startPeer({ impl: 'python', role: 'server', deflate: false });
    try {
      const cli = runWsscope(['capture', '-i', 'lo', '-f', `tcp port ${server.port}`, '-w', file, '--no-color']);
      await cli.stderrMatch(/Capturing on lo \(backend dumpcap\)/);
      const client = await startPeer({ impl: 'python', role: 'client', port: server.port, deflate: false, messages: ['plain text line'] });
      await client.done;
      await cli.linesUntil((lines) => lines.filter((l) => l.includes('"plain text line"')).length === 2, 'both directions of the message');
      expect(cli.lines.find((l) => l.includes('C->S') && l.includes('"plain text line"'))).toMatch(/^#1 .* C->S text +15B "plain text line"$/);
      cli.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(cli.lines[cli.lines.length - 1]).toMatch(/^\d+ packets, 1 connections, 4 messages, \d+ findings; drops: 0; file: /);
    } finally {
      await server.stop();
    }
  });

  it.each(['cap', 'dumpcap'])('refuses an invalid filter with libpcap\'s message (--backend %s)', async (backend) => {
    const cli = runWsscope(['capture', '-i', 'lo', '-f', 'tcp port', '--backend', backend, '-w', join(dir, `bad-filter-${backend}.pcapng`)]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/^wsscope capture: Invalid capture filter "tcp port": .*syntax error\.$/m);
    expect(cli.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('refuses an unknown interface and lists the available ones', async () => {
    const cli = runWsscope(['capture', '-i', 'nosuch0', '-w', join(dir, 'nosuch.pcapng')]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/^wsscope capture: There is no interface named "nosuch0"; available: .*\blo\b.*\(see `wsscope interfaces`\)\.$/m);
  });

  it.each(['auto', 'cap', 'dumpcap'])('without capture privileges (--backend %s) says how to get them', async (backend) => {
    // the CLI runs as nobody from this checkout, so every folder above it must let others in
    // (a clone inside a folder from `mktemp -d`, mode 0700, failed here with tsx not found)
    const probe = spawnSync('setpriv', [`--reuid=${NOBODY.user}`, `--regid=${NOBODY.group}`, '--clear-groups', 'test', '-r', join(REPO, 'node_modules', 'tsx', 'package.json')]);
    expect(probe.status, `user ${NOBODY.user} cannot read ${REPO}: clone the repository where other users may enter (not inside a 0700 folder)`).toBe(0);
    const cli = runWsscope(['capture', '-i', 'lo', '--backend', backend, '-w', join(dir, `nobody-${backend}.pcapng`)], { asUser: NOBODY });
    expect(await cli.exited).toBe(1);
    const msg = cli.stderr();
    expect(msg).toMatch(/^wsscope capture: Permission denied capturing on lo \(.*Operation not permitted.*\)/m);
    expect(msg).toContain('sudo setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap');
    expect(msg).toContain('`wireshark` group');
    expect(msg).toContain('run the CLI with sudo');
  });

  it('killed with SIGKILL mid-conversation, leaves a pcapng that tshark reads whole, holding every packet it had decoded', async () => {
    const file = join(dir, 'killed.pcapng');
    const server = await startPeer({ impl: 'node-ws', role: 'server', deflate: false });
    let client: Peer | undefined;
    try {
      const cli = runWsscope(['capture', '-i', 'lo', '-f', `tcp port ${server.port}`, '--backend', 'cap', '-w', file, '--json']);
      await cli.stderrMatch(/Capturing on lo/);
      const many = Array.from({ length: 3000 }, (_, i) => `message ${i} ${'x'.repeat(i % 200)}`);
      client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, deflate: false, messages: many });
      await cli.linesUntil((lines) => lines.length >= 300, '300 events');
      cli.kill('SIGKILL');
      expect(await cli.exited).toBe(137);
      const printed = parseLines(cli.lines);
      const lastDecoded = Math.max(...printed.map((e) => (typeof e.packet === 'number' ? e.packet : 0)));
      expect(lastDecoded).toBeGreaterThan(10);
      // tshark reads the file without complaint (execFileSync throws on "cut short")
      const inFile = tsharkPacketCount(file);
      expect(inFile).toBeGreaterThanOrEqual(lastDecoded);
      expect(parseFile(file)).toEqual({ packets: inFile, problems: [] });
    } finally {
      await client?.stop();
      await server.stop();
    }
  });
});

describe('wsscope interfaces', () => {
  it('lists lo as an up, running loopback interface with its addresses, as JSON and as text', async () => {
    const json = runWsscope(['interfaces', '--json']);
    expect(await json.exited).toBe(0);
    const list = JSON.parse(json.stdout()) as Array<{ name: string; loopback: boolean; up: boolean; running: boolean; addresses: string[] }>;
    expect(list.find((i) => i.name === 'lo')).toMatchObject({ loopback: true, up: true, running: true, addresses: expect.arrayContaining(['127.0.0.1']) });
    const text = runWsscope(['interfaces']);
    expect(await text.exited).toBe(0);
    expect(text.lines.find((l) => l.startsWith('lo '))).toMatch(/^lo +loopback,up,running +127\.0\.0\.1/);
  });
});
