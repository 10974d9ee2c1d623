import { describe, it, expect } from 'vitest';
import { SessionStore } from './session-store';
import { PayloadStore } from './payload-store';
import { literalNeedles } from './query';
import { PREVIEW_MAX } from './preview';
import { analyzeFile } from '../pipeline';
import { connectionEvent, conversation, messageEvents } from '../../test/kit/events';
import { publicCapture } from '../../test/kit/paths';

async function loadCapture(name: string, budget?: number): Promise<SessionStore> {
  const s = new SessionStore(1, budget ? { payload: { budget, chunkSize: 256 } } : undefined);
  await analyzeFile(publicCapture(name), (ev) => s.ingest(ev));
  return s;
}

const ids = (a: Uint32Array): number[] => Array.from(a);

describe('queryMessages searches whole payloads', () => {
  it('finds a word past the preview of a text message (zeek broker capture)', async () => {
    const s = await loadCapture('zeek__broker-websocket.pcap');
    // the data-messages carry the timestamp near the end of 533 bytes, far past the preview
    const hits = s.query({ text: '2024-01-14T15:46:13' });
    expect(hits.length).toBeGreaterThan(0);
    for (const i of hits) {
      const row = s.message(i);
      expect(row?.preview.toLowerCase()).not.toContain('2024-01-14t15:46:13');
      expect(row?.length).toBeGreaterThan(PREVIEW_MAX);
    }
    // case-insensitive, and the same answer as a regex over the payloads
    expect(ids(s.query({ text: '2024-01-14t15:46:13' }))).toEqual(ids(hits));
    expect(ids(s.query({ text: '2024-01-14T15:46:13\\.\\d+', regex: true }))).toEqual(ids(hits));
    s.close();
  });

  it('matches binary payloads by their ASCII text and by hex, spaced or not (SSH over wstunnel)', async () => {
    const s = await loadCapture('zeek__wstunnel-ssh.pcap');
    // both ends open with their SSH identification string (RFC 4253 section 4.2)
    const banner = ids(s.query({ text: 'ssh-2.0-openssh' }));
    // two tunnelled SSH sessions: four identification strings
    expect(banner).toHaveLength(4);
    for (const i of banner) expect(s.message(i)?.kind).toBe('binary');
    expect(ids(s.query({ text: '5353482d322e30' }))).toEqual(banner);
    expect(ids(s.query({ text: '53 53 48 2d 32 2e 30' }))).toEqual(banner);
    expect(ids(s.query({ text: '53 53 48 2D 32 2E 30', dir: 'server' }))).toEqual(banner.filter((i) => s.message(i)?.dir === 'server'));
    // the host key algorithm name inside the server's key exchange reply, past byte 10
    const hostKey = ids(s.query({ text: 'ssh-ed25519' }));
    expect(hostKey.length).toBeGreaterThan(0);
    expect(ids(s.query({ text: Buffer.from('ssh-ed25519').toString('hex') }))).toEqual(hostKey);
    s.close();
  });

  it('reads spilled payloads as well as those in memory', async () => {
    const inMemory = await loadCapture('zeek__wstunnel-ssh.pcap');
    const spilled = await loadCapture('zeek__wstunnel-ssh.pcap', 1024);
    for (const text of ['ssh-ed25519', 'SSH-2.0', '00 00 00 0c 0a 15']) expect(ids(spilled.query({ text }))).toEqual(ids(inMemory.query({ text })));
    inMemory.close();
    spilled.close();
  });

  it('lets a scan read in-memory payloads in place, and only those', () => {
    const p = new PayloadStore({ budget: 1024, chunkSize: 256 });
    const offs = Array.from({ length: 40 }, (_, i) => p.append(new Uint8Array(100).fill(i)));
    // the oldest bytes were spilled: no view of them
    expect(p.spilledBytes).toBeGreaterThan(0);
    expect(p.chunkAt(offs[0])).toBeNull();
    const last = offs[39];
    const c = p.chunkAt(last);
    expect(c).not.toBeNull();
    expect(Array.from(c!.bytes.subarray(last - c!.start, last - c!.start + 100))).toEqual(Array.from(p.read(last, 100)));
    expect(p.chunkAt(p.size)).toBeNull();
    p.close();
    expect(p.chunkAt(last)).toBeNull();
  });

  it('matches close messages by their preview too, and hex only in whole bytes', () => {
    const s = new SessionStore(1);
    for (const e of conversation(1, 2)) s.ingest(e);
    expect(ids(s.query({ text: 'normal closure' }))).toEqual([2, 3]);
    expect(ids(s.query({ text: 'bye' }))).toEqual([2]);
    s.close();
    expect(literalNeedles('4d 51 54 54').map((n) => Array.from(n.bytes))).toContainEqual([0x4d, 0x51, 0x54, 0x54]);
    expect(literalNeedles('4d5').every((n) => n.folded)).toBe(true);
    expect(literalNeedles('4 d51').every((n) => n.folded)).toBe(true);
    expect(literalNeedles('4d').every((n) => n.folded)).toBe(true);
  });

  it('searches 1,000,000 payloads within a keystroke budget', () => {
    // rows for all of them (the default row budget keeps about 600,000 such messages)
    const s = new SessionStore(1, { maxRowBytes: 256 << 20 });
    s.ingest(connectionEvent(1, 0));
    const n = 1_000_000;
    for (let i = 0; i < n; i++) {
      const data = Buffer.from(`{"type":"tick","seq":${i},"pad":"${'x'.repeat(i % 7)}","symbol":"${i % 97 === 0 ? 'NEEDLE' : 'ABC'}"}`);
      for (const e of messageEvents({ conn: 1, dir: i & 1 ? 'server' : 'client', ts: i / 1000, opcode: 1, data, packet: i + 2 }, i, i)) s.ingest(e);
    }
    const t0 = performance.now();
    const hits = s.query({ text: 'needle' });
    const ms = performance.now() - t0;
    expect(hits.length).toBe(Math.ceil(n / 97));
    console.log(`payload search over 1M messages: ${ms.toFixed(0)} ms`);
    s.close();
  });
});
