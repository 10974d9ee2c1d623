/**
 * startLiveCapture on real interfaces (CI runs as root): limits, a decoder that falls
 * behind, an interface going down mid-capture (an `ifb` device this test creates), filters.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLiveCapture, validateFilter } from './live';
import type { CaptureStatus } from '../../shared/api';
import { startPeer } from '../../test/peers/peer';
import { tsharkPacketCount } from '../../test/peers/capture';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-livecap-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BACKENDS = ['cap', 'dumpcap'] as const;

describe('startLiveCapture', () => {
  it.each(BACKENDS)('with the %s backend stops by itself after --count packets, and the file holds exactly them', async (backend) => {
    const server = await startPeer({ impl: 'node-ws', role: 'server' });
    try {
      const file = join(dir, `count-${backend}.pcapng`);
      const states: string[] = [];
      let seen = 0;
      const r = await startLiveCapture({ iface: 'lo', filter: `tcp port ${server.port}`, backend, file, count: 5 }, { packet: () => seen++ }, (s) => states.push(s.state));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, messages: ['a', 'b', 'c', 'd'] });
      const final = await r.value.done;
      await client.done;
      await client.stop();
      expect(final).toMatchObject({ state: 'stopped', packets: 5, backend, file });
      expect(seen).toBe(5);
      expect(tsharkPacketCount(file)).toBe(5);
      // periodic reports repeat 'running'
      expect(states.filter((s, i) => s !== states[i - 1])).toEqual(['starting', 'running', 'stopping', 'stopped']);
    } finally {
      await server.stop();
    }
  });

  it('stops by itself when the duration is over', async () => {
    const file = join(dir, 'duration.pcapng');
    const t0 = performance.now();
    const r = await startLiveCapture({ iface: 'lo', filter: 'tcp port 9', backend: 'cap', file, durationSeconds: 0.3 }, { packet: () => {} });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const final = await r.value.done;
    expect(final.state).toBe('stopped');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(tsharkPacketCount(file)).toBe(0);
  });

  it('decodes every packet when the decoder falls behind, reading the backlog back from the file', async () => {
    const server = await startPeer({ impl: 'node-ws', role: 'server' });
    try {
      const file = join(dir, 'behind.pcapng');
      const numbers: number[] = [];
      // no in-memory queue at all and the shortest decode turns: everything comes back from the file
      const r = await startLiveCapture(
        { iface: 'lo', filter: `tcp port ${server.port}`, backend: 'cap', file, maxQueuedBytes: 0, decodeBudgetMs: 0 },
        { packet: (rec) => numbers.push(rec.no) },
      );
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, messages: Array.from({ length: 500 }, (_, i) => `m${i}`) });
      await client.done;
      await client.stop();
      const final = await r.value.stop();
      expect(final.packets).toBeGreaterThan(20);
      expect(numbers).toEqual(Array.from({ length: final.packets }, (_, i) => i + 1));
      expect(tsharkPacketCount(file)).toBe(final.packets);
    } finally {
      await server.stop();
    }
  });

  describe('on an interface that goes down mid-capture', () => {
    const ifname = `wss${process.pid % 100000}`;
    beforeAll(() => {
      execFileSync('ip', ['link', 'add', ifname, 'type', 'ifb']);
      execFileSync('ip', ['link', 'set', ifname, 'up']);
    });
    afterAll(() => {
      if (existsSync(`/sys/class/net/${ifname}`)) execFileSync('ip', ['link', 'del', ifname]);
    });

    it.each(BACKENDS)('the %s backend fails with interface-down and keeps a readable file', async (backend) => {
      execFileSync('ip', ['link', 'set', ifname, 'up']);
      const file = join(dir, `down-${backend}.pcapng`);
      const statuses: CaptureStatus[] = [];
      const r = await startLiveCapture({ iface: ifname, backend, file }, { packet: () => {} }, (s) => statuses.push(s));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      execFileSync('ip', ['link', 'set', ifname, 'down']);
      const final = await r.value.done;
      expect(final.state).toBe('failed');
      expect(final.error?.code).toBe('interface-down');
      expect(final.error?.message).toBe(
        `Interface ${ifname} went down; capture stopped (bring it up with \`sudo ip link set ${ifname} up\` and start again). The 0 packet(s) captured so far are in ${file}.`,
      );
      expect(statuses[statuses.length - 1].state).toBe('failed');
      expect(tsharkPacketCount(file)).toBe(0);
    });
  });

  it('refuses an unknown interface, naming the available ones', async () => {
    const r = await startLiveCapture({ iface: 'nosuch0', file: join(dir, 'x.pcapng') }, { packet: () => {} });
    expect(r).toMatchObject({ ok: false, error: { code: 'no-such-interface' } });
    if (!r.ok) expect(r.error.message).toMatch(/available: .*\blo\b/);
  });
});

describe('validateFilter', () => {
  it('accepts a filter libpcap compiles and an empty one', () => {
    expect(validateFilter('tcp port 8080 and host 127.0.0.1', 'lo')).toEqual({ ok: true, value: true });
    expect(validateFilter('  ', 'lo')).toEqual({ ok: true, value: true });
  });

  it("rejects a filter libpcap cannot compile, with libpcap's reason", () => {
    expect(validateFilter('tcp port', 'lo')).toEqual({
      ok: false,
      error: { code: 'invalid-filter', message: 'Invalid capture filter "tcp port": can\'t parse filter expression: syntax error.' },
    });
    expect(validateFilter('port 99999', 'lo')).toMatchObject({ ok: false, error: { code: 'invalid-filter', message: expect.stringMatching(/port 99999.*out of range|illegal port/) } });
  });
});
