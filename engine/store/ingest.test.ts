import { describe, it, expect } from 'vitest';
import { SessionStore } from './session-store';
import { MemorySink, writeNdjson } from './export';
import { connectionEvent, conversation } from '../../test/kit/events';
import { QUIET_ROWS } from './session-data';
import { toWire } from '../cli/json';
import type { ConnectionEvent, EngineEvent, FrameEvent, MessageEvent } from '../../shared/events';

const lines = (evs: EngineEvent[]): string =>
  evs
    .map((e) => toWire(e))
    .filter((w) => w !== null)
    .map((w) => JSON.stringify(w) + '\n')
    .join('');

async function ndjson(s: SessionStore): Promise<string> {
  const out = new MemorySink();
  await writeNdjson(s, out);
  return new TextDecoder().decode(out.bytes());
}

describe('ingest bounds', () => {
  it('drops frames and messages past maxRows whole, counts them, and replays exactly what it kept', async () => {
    const evs = conversation(1, 20); // 22 messages of one frame each
    const s = new SessionStore(1, { maxRows: 10 });
    for (const e of evs) s.ingest(e);
    expect(s.messageCount).toBe(10);
    expect(s.frameCount).toBe(10);
    expect(s.droppedEvents).toBe(24);
    const kept = evs.filter((e) => (e.type !== 'frame' && e.type !== 'message') || e.index < 10);
    expect(await ndjson(s)).toBe(lines(kept));
    const c = s.connections()[0];
    expect(c).toMatchObject({ messages: 10, frames: 10, state: 'closed' });
    expect(s.detail(9)?.frames).toHaveLength(1);
    expect(s.detail(10)).toBeNull();
    expect(s.takeBatch()?.totals.messages).toBe(10);
    s.close();
  });

  it('drops every event once the event log is full (four rows per maxRows)', async () => {
    const evs = conversation(1, 3);
    const s = new SessionStore(1, { maxRows: 1 });
    for (const e of evs) s.ingest(e);
    // connection, handshake, frame 0, message 0 fill the log's 4 rows
    expect(await ndjson(s)).toBe(lines(evs.slice(0, 4)));
    expect(s.eventCount).toBe(4);
    expect(s.droppedEvents).toBe(evs.length - 4);
    s.close();
  });

  it('past QUIET_ROWS connections, lists a connection with its first event and counts one that ended without any', async () => {
    const s = new SessionStore(1);
    const t0 = 1700000000;
    for (let id = 1; id <= QUIET_ROWS; id++) s.ingest(connectionEvent(id, t0));
    const empty = QUIET_ROWS + 1;
    const ws = QUIET_ROWS + 2;
    const open = QUIET_ROWS + 3;
    s.ingest(connectionEvent(empty, t0 + 1));
    const conv = conversation(ws, 2, t0 + 2);
    s.ingest(conv[0]); // announced: quiet until its handshake
    // never carries anything, never ends; over UDP, from an IPv6 endpoint
    const openEv: ConnectionEvent = { ...connectionEvent(open, t0 + 2.5), transport: 'udp', client: '[2001:db8:ffff:ffff:ffff:ffff:ffff:1]:65535', roleBy: 'port' };
    s.ingest(openEv);
    s.ingest({ type: 'connection-end', conn: empty, ts: t0 + 3, packet: 9, reason: 'eof' });
    expect(s.connectionCount).toBe(QUIET_ROWS);
    for (const e of conv.slice(1)) s.ingest(e);
    s.ingest({ type: 'summary', packets: 20, connections: QUIET_ROWS + 3, messages: 4, frames: 4, findings: 0, bytes: 0, seconds: 3 });

    // the one that carried something has its row; the open one got its row at the summary;
    // the empty one is counted, in the total and in one finding about connection 0
    expect(s.connectionRow(ws)).toMatchObject({ client: `127.0.0.1:${40000 + ws}`, websocket: true, messages: 4 });
    expect(s.connectionRow(open)).toMatchObject({ state: 'open', messages: 0 });
    expect(s.connectionEvent(open)).toEqual(openEv);
    expect(s.connectionEvent(ws)).toEqual(conv[0]);
    expect(s.connectionRow(empty)).toBeNull();
    expect(s.unlistedConnections).toBe(1);
    let b = s.takeBatch();
    expect(b?.totals.connections).toBe(QUIET_ROWS + 4); // + connection 0, which the finding is about
    const finding = b?.findings.find((f) => f.id === 'connections-not-listed');
    expect(finding).toMatchObject({ conn: 0, severity: 'warning', ts: t0 + 3, packet: 9 });
    expect(finding?.text).toMatch(/^1 connection\(s\) ended without carrying anything/);
    for (; b; b = s.takeBatch()) expect(b.connections.map((c) => c.id)).not.toContain(empty);

    // the export replays a listed connection's event right before its first one, nothing of the empty one
    const out = (await ndjson(s)).trim().split('\n').map((l) => JSON.parse(l) as { type: string; id?: number; conn?: number });
    const at = out.findIndex((e) => e.type === 'connection' && e.id === ws);
    expect(out[at + 1]).toMatchObject({ type: 'handshake', conn: ws });
    // the events waiting came back as they were given
    expect(out[at]).toEqual(toWire(conv[0]));
    expect(out.find((e) => e.type === 'connection' && e.id === open)).toEqual(toWire(openEv));
    expect(out.some((e) => e.id === empty || e.conn === empty)).toBe(false);
    expect(out.slice(-3).map((e) => e.type)).toEqual(['connection', 'finding', 'summary']);
    s.close();
  });

  it('keeps maxFindings finding rows, counts the rest on their connection, and says how many at the summary', () => {
    const s = new SessionStore(1, { maxFindings: 3 });
    const evs = conversation(1, 2);
    for (const e of evs.slice(0, -1)) s.ingest(e);
    for (let i = 0; i < 5; i++) s.ingest({ type: 'finding', id: 'tcp-gap', severity: 'warning', conn: 1, ts: 1700000001 + i, packet: 30 + i, text: `gap ${i}` });
    s.ingest(evs[evs.length - 1]);
    s.ingest({ type: 'summary', packets: 40, connections: 1, messages: 4, frames: 4, findings: 5, bytes: 0, seconds: 5 });
    expect(s.connectionRow(1)?.findings).toBe(5);
    const b = s.takeBatch();
    expect(b?.findings.map((f) => f.text.slice(0, 5))).toEqual(['gap 0', 'gap 1', 'gap 2', '2 mor']);
    expect(b?.findings[3]).toMatchObject({ id: 'findings-not-listed', conn: 0, ts: 1700000005, packet: 34 });
    expect(b?.totals.findings).toBe(4);
    s.close();
  });

  it('keeps rows while the row budget lasts, then the first messages only, and says how many it dropped at the summary', async () => {
    // the first chunk of each table (256 rows of messages, frames, log types and log
    // references) and a little more: no room for a second chunk of messages
    const firstChunks = 256 * (43 + 37 + 1 + 4);
    const s = new SessionStore(1, { maxRowBytes: firstChunks + 4096 });
    const evs = conversation(1, 400); // 402 messages of one frame each
    for (const e of evs) s.ingest(e);
    s.ingest({ type: 'summary', packets: 900, connections: 1, messages: 402, frames: 402, findings: 0, bytes: 0, seconds: 5 });
    expect(s.messageCount).toBe(256);
    expect(s.frameCount).toBe(256);
    // the rows kept are the first ones: each message is the one of its index, with its frame
    expect(s.message(255)?.preview).toBe('{"seq":255,"msg":"hello 255"}');
    expect(s.detail(255)?.frames.map((f) => f.index)).toEqual([255]);
    expect(s.detail(256)).toBeNull();
    const b = s.takeBatch();
    const f = b?.findings.find((x) => x.id === 'messages-not-listed');
    expect(f?.text).toMatch(/^146 message\(s\) and \d+ other event\(s\) .* bound/);
    // the export holds the kept events in order, then the finding and the summary
    const out = (await ndjson(s)).trim().split('\n').map((l) => JSON.parse(l) as { type: string; id?: string; text?: string });
    expect(out.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(Array.from({ length: 256 }, (_, i) => `{"seq":${i},"msg":"hello ${i}"}`));
    expect(out.slice(-2).map((e) => e.id ?? e.type)).toEqual(['messages-not-listed', 'summary']);
    s.close();
  });

  it('charges kept findings to the row budget: past it they are counted on their connection, not listed', () => {
    // room for the first chunks of a short conversation, and about 20 findings of 300 characters
    const s = new SessionStore(1, { maxRowBytes: 256 * (43 + 37 + 1 + 4) + 20 * (192 + 600) });
    const evs = conversation(1, 2);
    for (const e of evs.slice(0, -1)) s.ingest(e);
    for (let i = 0; i < 100; i++) s.ingest({ type: 'finding', id: 'tcp-gap', severity: 'warning', conn: 1, ts: 1700000001 + i, packet: 30 + i, text: `gap ${i} `.padEnd(300, '.') });
    s.ingest(evs[evs.length - 1]);
    s.ingest({ type: 'summary', packets: 200, connections: 1, messages: 4, frames: 4, findings: 100, bytes: 0, seconds: 5 });
    expect(s.connectionRow(1)?.findings).toBe(100);
    const b = s.takeBatch();
    const kept = b?.findings.filter((f) => f.id === 'tcp-gap').length ?? 0;
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThan(21);
    expect(b?.findings.find((f) => f.id === 'findings-not-listed')?.text).toMatch(new RegExp(`^${100 - kept} more finding\\(s\\) were seen past the 50000 this session keeps \\(or past its row budget\\)`));
    s.close();
  });
});

describe('narrow row columns', () => {
  it('gives back what they cannot hold: indexes that are not row numbers, far first packets, 70,000 frames, cut payloads', async () => {
    const t0 = 1700000000;
    const evs: EngineEvent[] = conversation(1, 3, t0).map((e) =>
      // capture-wide indexes that do not start at 0 (RowIndexes keeps them)
      e.type === 'frame' ? { ...e, index: e.index + 7 } : e.type === 'message' ? { ...e, index: e.index + 7, frames: e.frames.map((f) => f + 7) } : e,
    );
    const frames = evs.filter((e): e is FrameEvent => e.type === 'frame');
    const messages = evs.filter((e): e is MessageEvent => e.type === 'message');
    // a frame 80,000 packets long (u16 distance column: the first packet is in the spill map) and one with no first packet
    Object.assign(frames[0], { packet: 100_000, firstPacket: 20_000 });
    Object.assign(messages[0], { packet: 100_000 });
    Object.assign(frames[1], { firstPacket: 0 });
    // a payload the decoder cut: 10 of 100 bytes kept, on the frame and on its message
    Object.assign(frames[2], { length: 100, wirePayload: frames[2].wirePayload?.subarray(0, 10) });
    Object.assign(messages[2], { length: 100, wireLength: 100, truncated: true, data: messages[2].data.subarray(0, 10) });
    // a text message of 70,000 one-byte server frames (u16 frame count: in the spill map)
    const n = 70_000;
    const big: EngineEvent[] = [];
    const ts = t0 + 0.5;
    for (let k = 0; k < n; k++) {
      const fin = k === n - 1;
      const opcode = k === 0 ? 1 : 0;
      big.push({ type: 'frame', conn: 1, dir: 'server', ts, index: 100 + k, fin, rsv1: false, rsv2: false, rsv3: false, opcode, masked: false, maskKey: '', length: 1, headerLength: 2, packet: 60, firstPacket: 60, header: Uint8Array.of((fin ? 0x80 : 0) | opcode, 1), wirePayload: Uint8Array.of(0x61) });
    }
    const data = new Uint8Array(n).fill(0x61);
    big.push({ type: 'message', conn: 1, dir: 'server', ts, index: 50, opcode: 1, compressed: false, length: n, wireLength: n, frames: Array.from({ length: n }, (_, k) => 100 + k), packet: 60, data, truncated: false, utf8Valid: true });
    const all = [...evs.slice(0, -1), ...big, evs[evs.length - 1]];
    const s = new SessionStore(1);
    for (const e of all) s.ingest(e);
    expect(await ndjson(s)).toBe(lines(all));
    expect(s.message(50)?.frames).toBe(n);
    expect(s.detail(7)?.frames[0].packets).toEqual([20_000, 100_000]);
    expect(s.detail(8)?.frames[0].packets).toEqual([frames[1].packet]);
    expect([...(s.detail(9)?.data ?? [])]).toEqual([...messages[2].data]);
    s.close();
  });
});
