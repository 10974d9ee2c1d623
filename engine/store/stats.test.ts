import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { analyzeFile } from '../pipeline';
import { SessionStore } from './session-store';
import { RATE_BINS, rateBinSeconds } from './stats';
import { ALL_CONNECTIONS } from '../../shared/api';
import { SAMPLE_CHAT } from '../../test/kit/paths';

// resources/samples/chat.pcapng: two connections, 11 + 8 messages over 21 ms
let chat: SessionStore;
beforeAll(async () => {
  chat = new SessionStore(1);
  await analyzeFile(SAMPLE_CHAT, (ev) => chat.ingest(ev), { session: { keepWirePayload: true } });
});
afterAll(() => chat.close());

describe('connection statistics', () => {
  it('picks rate bins from a 1-2-5 ladder that split any duration into at most 60', () => {
    expect(rateBinSeconds(0.014)).toBe(0.0005);
    expect(rateBinSeconds(0)).toBe(0.000001);
    expect(rateBinSeconds(59)).toBe(1);
    expect(rateBinSeconds(61)).toBe(2);
    expect(rateBinSeconds(86_400)).toBe(1800);
    for (const d of [1e-5, 0.003, 0.7, 13, 400, 7200, 1e6]) expect(d / rateBinSeconds(d)).toBeLessThanOrEqual(RATE_BINS);
  });

  it('bins a 15 ms connection in sub-millisecond bins, not one per-second bar', () => {
    const one = chat.stats(1);
    expect(one?.messages).toBe(11);
    expect(one?.connections).toBe(1);
    // 11 messages from 2.5 ms to 7.4 ms after the capture's start: 100 us bins
    expect(one?.rate.binSeconds).toBe(0.0001);
    expect(one?.rate.bins.length).toBeGreaterThan(40);
    expect(one?.rate.bins.reduce((a, b) => a + b.messages, 0)).toBe(11);
    expect(one?.rate.bins.reduce((a, b) => a + b.bytes, 0)).toBe(one?.wireBytes);
    expect(one?.perSecond).toHaveLength(1);
  });

  it('adds all connections together for ALL_CONNECTIONS', () => {
    const a = chat.stats(1);
    const b = chat.stats(2);
    const all = chat.stats(ALL_CONNECTIONS);
    expect(a && b && all).toBeTruthy();
    if (!a || !b || !all) return;
    expect(all.conn).toBe(ALL_CONNECTIONS);
    expect(all.connections).toBe(2);
    expect(all.messages).toBe(a.messages + b.messages);
    expect(all.wireBytes).toBe(a.wireBytes + b.wireBytes);
    expect(all.headerBytes).toBe(a.headerBytes + b.headerBytes);
    expect(all.handshakeBytes).toBe(a.handshakeBytes + b.handshakeBytes);
    expect(all.compressedWireBytes).toBe(a.compressedWireBytes);
    expect(all.pollingBytesEstimate).toBe(a.pollingBytesEstimate + b.pollingBytesEstimate);
    expect(all.rate.bins.reduce((s, x) => s + x.messages, 0)).toBe(19);
    expect(all.rate.start).toBeLessThanOrEqual(a.rate.start);
  });
});
