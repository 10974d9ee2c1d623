import { describe, it, expect } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { SessionStore } from './session-store';
import { PayloadStore } from './payload-store';
import { MemorySink, writeHar, writeNdjson } from './export';
import { conversation, messageEvents, connectionEvent } from '../../test/kit/events';
import { toWire } from '../cli/json';
import { analyzeFile } from '../pipeline';
import type { EngineEvent, FindingEvent } from '../../shared/events';

import { PUBLIC_CAPTURES as CAPTURES } from '../../test/kit/paths';
import { batchRows } from '../../shared/row-block';

function load(evs: EngineEvent[], opts?: ConstructorParameters<typeof SessionStore>[1]): SessionStore {
  const s = new SessionStore(1, opts);
  for (const e of evs) s.ingest(e);
  return s;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('SessionStore', () => {
  it('keeps connection counters and state through a closing handshake', () => {
    const s = load(conversation(1, 4));
    const [c] = s.connections();
    expect(c).toMatchObject({ id: 1, websocket: true, url: 'ws://example.test:8080/chat', status: 101, state: 'closed', messages: 6, frames: 6 });
    expect(c.handshakeBytes).toBe(310);
    // payload: 4 JSON texts + 5-byte and 2-byte close payloads
    const texts = [0, 1, 2, 3].map((i) => `{"seq":${i},"msg":"hello ${i}"}`.length).reduce((a, b) => a + b, 0);
    expect(c.payloadBytes).toBe(texts + 7);
    // client frames carry 6-byte headers (mask), server frames 2
    expect(c.wireBytes).toBe(texts + 7 + 3 * 6 + 3 * 2);
    s.close();
  });

  it('hands out batches of what changed since the previous one', () => {
    const evs = conversation(1, 4);
    const s = new SessionStore(7);
    for (const e of evs.slice(0, 6)) s.ingest(e); // connection, handshake, two messages
    const b1 = s.takeBatch();
    expect(b1?.session).toBe(7);
    expect(batchRows(b1!).map((m) => m.index)).toEqual([0, 1]);
    expect(b1?.handshakes).toHaveLength(1);
    expect(b1?.connections).toHaveLength(1);
    expect(s.takeBatch()).toBeNull();
    for (const e of evs.slice(6)) s.ingest(e);
    const b2 = s.takeBatch();
    expect(batchRows(b2!).map((m) => m.index)).toEqual([2, 3, 4, 5]);
    expect(b2?.handshakes).toHaveLength(0);
    expect(b2?.totals).toMatchObject({ messages: 6, connections: 1 });
    s.close();
  });

  it('builds timeline rows with first-frame bits, previews and close codes', () => {
    const s = load(conversation(1, 2));
    const b0 = s.takeBatch();
    const rows = b0 ? batchRows(b0) : [];
    expect(rows[0]).toMatchObject({ dir: 'client', opcode: 1, fin: true, masked: true, rsv: 0, kind: 'text', preview: '{"seq":0,"msg":"hello 0"}' });
    expect(rows[1]).toMatchObject({ dir: 'server', masked: false });
    expect(rows[2]).toMatchObject({ opcode: 8, kind: 'close', code: 1000, preview: '1000 Normal Closure: bye' });
    s.close();
  });

  it('makes control characters and bidi overrides visible in previews, and shows binary as hex', () => {
    const evs: EngineEvent[] = [connectionEvent(1, 1)];
    const hostile = Buffer.from('a\u0000b\nc\u202eevil\u2066x');
    evs.push(...messageEvents({ conn: 1, dir: 'server', ts: 2, opcode: 1, data: hostile, packet: 2 }, 0, 0));
    evs.push(...messageEvents({ conn: 1, dir: 'server', ts: 3, opcode: 2, data: Uint8Array.of(0, 1, 0xab, 0xff), packet: 3 }, 1, 1));
    evs.push(...messageEvents({ conn: 1, dir: 'server', ts: 4, opcode: 1, data: Buffer.from('x'.repeat(500)), packet: 4 }, 2, 2));
    const s = load(evs);
    expect(s.message(0)?.preview).toBe('a\u2400b\u240ac⟨U+202E⟩evil⟨U+2066⟩x');
    expect(s.message(1)?.preview).toBe('00 01 ab ff');
    expect(s.message(1)?.kind).toBe('binary');
    const long = s.message(2)?.preview ?? '';
    expect(long.length).toBeLessThanOrEqual(201);
    expect(long.endsWith('…')).toBe(true);
    s.close();
  });

  it('gives message details with unmasked frame payloads and the raw header bytes', () => {
    const s = load(conversation(1, 2));
    const d = s.detail(0);
    expect(d).not.toBeNull();
    if (!d) return;
    expect(text(d.data)).toBe('{"seq":0,"msg":"hello 0"}');
    expect(d.frames).toHaveLength(1);
    const f = d.frames[0];
    expect(f.masked).toBe(true);
    expect(f.maskKey).toBe('37fa213d');
    expect(f.header[0]).toBe(0x81);
    expect(f.header.length).toBe(6);
    expect(text(f.payload)).toBe('{"seq":0,"msg":"hello 0"}');
    expect(text(f.wirePayload)).not.toBe(text(f.payload));
    const close = s.detail(2);
    expect(close).toMatchObject({ closeCode: 1000, closeReason: 'bye', closeMeaning: 'Normal Closure' });
    expect(s.detail(99)).toBeNull();
    s.close();
  });

  it('attaches frame findings to their message, also when the finding precedes the message', () => {
    const evs = conversation(1, 2);
    const finding = (frame: number): FindingEvent => ({
      type: 'finding',
      id: 'zero-mask-key',
      severity: 'info',
      conn: 1,
      dir: 'client',
      ts: 1,
      packet: 5,
      frame,
      text: 'x',
    });
    // before message 0 (right after its frame), and after message 1
    const frame0 = evs.findIndex((e) => e.type === 'frame' && e.index === 0);
    evs.splice(frame0 + 1, 0, finding(0));
    const msg1 = evs.findIndex((e) => e.type === 'message' && e.index === 1);
    evs.splice(msg1 + 1, 0, { ...finding(1), severity: 'error', id: 'invalid-utf8' });
    const s = load(evs);
    expect(s.message(0)?.findings).toBe(1);
    expect(s.message(1)?.findings).toBe(1);
    expect(s.detail(1)?.findings.map((f) => f.id)).toEqual(['invalid-utf8']);
    expect(Array.from(s.query({ findingsOnly: true }))).toEqual([0, 1]);
    expect(Array.from(s.query({ severity: 'error' }))).toEqual([1]);
    expect(s.connections()[0].findings).toBe(2);
    // each finding row names its message, whichever came first
    expect(s.takeBatch()?.findings.map((f) => [f.id, f.message])).toEqual([
      ['zero-mask-key', 0],
      ['invalid-utf8', 1],
    ]);
    s.close();
  });

  it('filters by text, regex, direction, opcode and connection', () => {
    const s = load([...conversation(1, 6), ...conversation(2, 2, 1700000100).map((e) => renumber(e, 8))]);
    expect(Array.from(s.query({ text: 'HELLO 3' }))).toEqual([3]);
    expect(Array.from(s.query({ text: 'hello [45]', regex: true }))).toEqual([4, 5]);
    expect(Array.from(s.query({ dir: 'server', conn: 1, opcodes: [1] }))).toEqual([1, 3, 5]);
    expect(Array.from(s.query({ opcodes: [8] }))).toEqual([6, 7, 10, 11]);
    expect(Array.from(s.query({ conn: 2 }))).toEqual([8, 9, 10, 11]);
    expect(Array.from(s.query({ text: '"seq":1' }))).toEqual([1, 9]);
    // plain text is literal and case-insensitive, metacharacters included
    expect(Array.from(s.query({ text: '"SEQ":1,"Msg' }))).toEqual([1, 9]);
    expect(Array.from(s.query({ text: 'hello .' }))).toEqual([]);
    expect(Array.from(s.query({ text: '[45]' }))).toEqual([]);
    s.close();
  });

  it('computes per-second buckets and the polling estimate', () => {
    const s = load(conversation(1, 150));
    const st = s.stats(1);
    expect(st?.messages).toBe(152);
    // messages every 10 ms from t0+0.01: seconds 0 and 1 are full
    expect(st?.perSecond[0]).toMatchObject({ t: 0, messages: 99 });
    expect(st?.perSecond.reduce((a, b) => a + b.messages, 0)).toBe(152);
    expect(st?.pollingBytesEstimate).toBe(152 * 310);
    expect(st?.wireBytes).toBe(st ? st.payloadBytes + st.headerBytes : -1);
    expect(s.stats(42)).toBeNull();
    s.close();
  });

  it('exports NDJSON lines identical to toWire of the original events, in order', async () => {
    const evs = conversation(1, 3);
    const s = load(evs);
    const out = new MemorySink();
    await writeNdjson(s, out);
    const want = evs.map((e) => toWire(e)).filter((w) => w !== null).map((w) => JSON.stringify(w) + '\n').join('');
    expect(text(out.bytes())).toBe(want);
    s.close();
  });

  it('exports HAR 1.2 with the handshake and Chrome-style _webSocketMessages', async () => {
    const evs = conversation(1, 2);
    evs.push(...messageEvents({ conn: 1, dir: 'server', ts: 1700000000.5, opcode: 2, data: Uint8Array.of(1, 2, 3), packet: 40 }, 10, 10));
    const s = load(evs);
    const out = new MemorySink();
    await writeHar(s, out);
    const har = JSON.parse(text(out.bytes()));
    expect(har.log.version).toBe('1.2');
    const [e] = har.log.entries;
    expect(e.request).toMatchObject({ method: 'GET', url: 'ws://example.test:8080/chat', httpVersion: 'HTTP/1.1' });
    expect(e.request.headers).toContainEqual({ name: 'Sec-WebSocket-Key', value: 'dGhlIHNhbXBsZSBub25jZQ==' });
    expect(e.response).toMatchObject({ status: 101, statusText: 'Switching Protocols' });
    expect(e._resourceType).toBe('websocket');
    expect(e._webSocketMessages).toEqual([
      { type: 'send', time: 1700000000.01, opcode: 1, data: '{"seq":0,"msg":"hello 0"}' },
      { type: 'receive', time: 1700000000.02, opcode: 1, data: '{"seq":1,"msg":"hello 1"}' },
      { type: 'receive', time: 1700000000.5, opcode: 2, data: 'AQID' },
    ]);
    s.close();
  });

  it('exports a text message that is not UTF-8 to HAR with its opcode, U+FFFD for the bad bytes and the exact bytes in base64', async () => {
    const evs = conversation(1, 0);
    const [f, m] = messageEvents({ conn: 1, dir: 'client', ts: 1700000000.25, opcode: 1, data: Uint8Array.of(0x68, 0x69, 0xff), packet: 40 }, 10, 0);
    m.utf8Valid = false;
    evs.push(f, m);
    const s = load(evs);
    const out = new MemorySink();
    await writeHar(s, out);
    const har = JSON.parse(text(out.bytes()));
    expect(har.log.entries[0]._webSocketMessages).toEqual([{ type: 'send', time: 1700000000.25, opcode: 1, data: 'hi\uFFFD', _wsscopeBase64: 'aGn/' }]);
    s.close();
  });

  it('spills payloads past the memory budget to disk and reads them back', () => {
    const evs = conversation(1, 2000, 1700000000, (i) => `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26))));
    const s = load(evs, { payload: { budget: 64 * 1024, chunkSize: 16 * 1024 } });
    expect(s.payloads.spilledBytes).toBeGreaterThan(1_000_000);
    expect(s.payloads.memoryBytes).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
    const spill = s.payloads.spillPath;
    expect(statSync(spill).size).toBe(s.payloads.spilledBytes);
    for (const i of [0, 1, 777, 1999]) {
      const d = s.detail(i);
      expect(text(d?.data ?? new Uint8Array())).toBe(`${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26))));
      expect(text(d?.frames[0].payload ?? new Uint8Array())).toBe(text(d?.data ?? new Uint8Array()));
    }
    s.close();
    expect(existsSync(spill)).toBe(false);
  });

  it('answers queries over 1,000,000 messages', () => {
    // rows for all of them (the default row budget keeps about 600,000 such messages)
    const s = new SessionStore(1, { payload: { budget: 8 << 20 }, maxRowBytes: 256 << 20 });
    s.ingest(connectionEvent(1, 0));
    const n = 1_000_000;
    const data = new Uint8Array(0);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const [f, m] = messageEvents({ conn: 1, dir: i & 1 ? 'server' : 'client', ts: i / 1000, opcode: 1, data, packet: i + 2 }, i, i);
      s.ingest(f);
      // payloads are what the search reads: each message its own text, its frame no bytes
      m.data = Buffer.from(`{"type":"tick","seq":${i},"symbol":"${i % 97 === 0 ? 'NEEDLE' : 'ABC'}"}`);
      s.ingest(m);
    }
    const ingestMs = performance.now() - t0;
    const q0 = performance.now();
    const hits = s.query({ text: 'needle' });
    const textMs = performance.now() - q0;
    const q1 = performance.now();
    const server = s.query({ dir: 'server', opcodes: [1] });
    const colMs = performance.now() - q1;
    const q2 = performance.now();
    const re = s.query({ text: 'seq":99999\\d', regex: true });
    const reMs = performance.now() - q2;
    expect(hits.length).toBe(Math.ceil(n / 97));
    expect(hits[1]).toBe(97);
    expect(server.length).toBe(n / 2);
    expect(Array.from(re)).toEqual([999990, 999991, 999992, 999993, 999994, 999995, 999996, 999997, 999998, 999999]);
    console.log(`store 1M: ingest ${ingestMs.toFixed(0)} ms, text ${textMs.toFixed(0)} ms, columns ${colMs.toFixed(0)} ms, regex ${reMs.toFixed(0)} ms, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
    s.close();
  });
});

describe('SessionStore on real captures', () => {
  for (const name of ['zeek__broker-websocket.pcap', 'suricata-verify__websocket-compressed__example_websocket.pcap', 'zeek__fragmented-http-reply.pcap']) {
    it(`replays ${name} into the same NDJSON as the pipeline's own events`, async () => {
      const s = new SessionStore(1);
      const direct: string[] = [];
      await analyzeFile(`${CAPTURES}/${name}`, (ev) => {
        s.ingest(ev);
        const w = toWire(ev);
        if (w) direct.push(JSON.stringify(w) + '\n');
      }, { session: { keepWirePayload: true } });
      const out = new MemorySink();
      await writeNdjson(s, out);
      expect(text(out.bytes())).toBe(direct.join(''));
      const b = s.takeBatch();
      expect(batchRows(b!).length).toBe(s.messageCount);
      expect(b?.connections.some((c) => c.websocket && c.status === 101)).toBe(true);
      s.close();
    });
  }

  it('shows the inflated text and the compressed wire sizes of permessage-deflate messages', async () => {
    const s = new SessionStore(1);
    await analyzeFile(`${CAPTURES}/suricata-verify__websocket-compressed__example_websocket.pcap`, (ev) => s.ingest(ev), { session: { keepWirePayload: true } });
    const b0 = s.takeBatch();
    const rows = b0 ? batchRows(b0) : [];
    const compressed = rows.filter((r) => r.compressed);
    expect(compressed.length).toBe(10);
    expect(compressed[0].rsv).toBe(4);
    const c = s.connections()[0];
    expect(c.extensions).toContain('permessage-deflate');
    expect(c.compressedPayloadBytes).toBeGreaterThan(c.compressedWireBytes);
    const d = s.detail(compressed[0].index);
    expect(d?.data.length).toBe(compressed[0].length);
    expect(d?.frames[0].rsv1).toBe(true);
    s.close();
  });
});

describe('PayloadStore', () => {
  it('reads ranges that straddle the spill file and memory', () => {
    const p = new PayloadStore({ budget: 1024, chunkSize: 256 });
    const all = new Uint8Array(10_000);
    for (let i = 0; i < all.length; i++) all[i] = (i * 7) & 0xff;
    for (let o = 0; o < all.length; o += 333) p.append(all.subarray(o, Math.min(all.length, o + 333)));
    expect(p.size).toBe(all.length);
    expect(p.spilledBytes).toBeGreaterThan(0);
    for (const [o, n] of [[0, 10], [p.spilledBytes - 5, 10], [0, 10_000], [9_990, 10]]) {
      expect(Buffer.from(p.read(o, n)).equals(Buffer.from(all.subarray(o, o + n)))).toBe(true);
    }
    expect(() => p.read(9_995, 10)).toThrow(RangeError);
    p.close();
  });

  it('keeps at most `limit` bytes, memory and spill file together: the prefix that fits, then nothing', () => {
    const p = new PayloadStore({ budget: 1024, chunkSize: 256, limit: 3000 });
    const blob = new Uint8Array(1000).map((_, i) => i & 0xff);
    const offsets = [0, 1, 2, 3].map(() => p.append(blob));
    expect(offsets).toEqual([0, 1000, 2000, 3000]);
    expect(p.size).toBe(3000);
    expect(p.cut).toBe(1000);
    expect(p.memoryBytes).toBeLessThanOrEqual(1024);
    expect(statSync(p.spillPath).size).toBe(p.spilledBytes);
    expect(Buffer.from(p.read(2000, 1000)).equals(Buffer.from(blob))).toBe(true);
    const partial = new PayloadStore({ budget: 1024, chunkSize: 256, limit: 1500 });
    partial.append(blob);
    const at = partial.append(blob);
    expect(partial.size - at).toBe(500);
    expect(Buffer.from(partial.read(at, 500)).equals(Buffer.from(blob.subarray(0, 500)))).toBe(true);
    p.close();
    partial.close();
  });
});

function renumber(e: EngineEvent, by: number): EngineEvent {
  if (e.type === 'frame') return { ...e, index: e.index + by };
  if (e.type === 'message') return { ...e, index: e.index + by, frames: e.frames.map((f) => f + by) };
  return e;
}
