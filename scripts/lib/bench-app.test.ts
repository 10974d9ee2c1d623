import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../../engine/pipeline';
import type { AppPacket, EngineEvent } from '../../shared/events';
import { generateSocketIo } from './bench-app';

const dir = mkdtempSync(join(tmpdir(), 'wsscope-bench-app-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Socket.IO bench capture', () => {
  it('decodes to exactly the messages generated, each a Socket.IO packet, acks correlated, no finding', async () => {
    const file = join(dir, 'sio.pcap');
    const n = generateSocketIo(file, 1e6, 3);
    const evs: EngineEvent[] = [];
    await analyzeFile(file, (e) => evs.push(e));
    const msgs = evs.filter((e) => e.type === 'message');
    expect(msgs).toHaveLength(n);
    const app = msgs.flatMap((m) => (m.type === 'message' ? (m.app ?? []) : [])) as AppPacket[];
    expect(new Set(app.map((p) => p.protocol))).toEqual(new Set(['socket.io']));
    // a BINARY_EVENT completes with its attachment's message: one message fewer carries a packet
    expect(msgs.filter((m) => m.type === 'message' && (m.app ?? []).length === 0).length).toBe(app.filter((p) => p.type === 'BINARY_EVENT').length);
    const acks = app.filter((p) => p.type === 'ACK');
    expect(acks.length).toBeGreaterThan(100);
    expect(acks.every((p) => typeof p.latencyMs === 'number')).toBe(true);
    expect(evs.filter((e) => e.type === 'finding')).toEqual([]);
  });
});
