/**
 * Engine.IO long-polling against real peers on `lo`: socket.io + socket.io-client with the
 * default transports (HTTP long-polling first, then the upgrade to WebSocket) and a second
 * client that stays on polling, captured with dumpcap through a filter on the test's port.
 * The `polling` events wsscope decodes (live and from the written pcapng) are compared with
 * what the peers' libraries logged (events, arguments, acks, the binary attachment), the
 * Engine.IO `sid` with the one socket.io-client's engine holds (it ties the polling requests
 * to the WebSocket that upgrades them), and the bodies with tshark's own HTTP decode of the
 * file (the frame that ends each body, and its length after de-chunking and decompression).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { captureLo } from './peers/capture';
import { bothClosed, fileEvents, items, loggingIo, polls, tsharkPollingBodies } from './peers/engine-io';
import { SessionStore } from '../engine/store/session-store';
import type { FindingEvent, HandshakeEvent, MessageEvent } from '../shared/events';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-poll-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const connected = (c: Socket): Promise<void> => new Promise((resolve) => c.on('connect', () => resolve()));

/**
 * tshark's HTTP bodies on polling URLs, as `frame:bytes` of the frame that ends each (tshark
 * 4.0 prints `http.file_data`, de-chunked and decompressed, as text); answers to POSTs (`ok`,
 * not a payload) left out
 */
function tsharkBodies(file: string): string[] {
  return tsharkPollingBodies(file, ['http.file_data'])
    .filter((r) => r[1] !== '')
    .map((r) => `${r[0]}:${Buffer.byteLength(r[1])}`);
}

describe('Engine.IO long-polling decoded from a real socket.io session on lo', () => {
  it('polling packets match what socket.io and socket.io-client logged, and the sid ties polling to the upgraded WebSocket', async () => {
    const http = createServer();
    const { server, serverLog } = loggingIo(http, ['hello', 1]);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const file = join(dir, 'polling.pcapng');
    const live = await captureLo({ backend: 'dumpcap', port, file });
    const logs: Record<string, unknown[][]> = {};
    let upgraded = '';
    let pollOnly = '';
    try {
      // default transports: polling, then the upgrade (which may be over by the time connect fires)
      const a = ioClient(`http://127.0.0.1:${port}`, { reconnection: false });
      await connected(a);
      upgraded = a.io.engine.id;
      const aLog: unknown[][] = (logs[upgraded] = []);
      const chat = a.emitWithAck('chat', 'right after connect');
      if (a.io.engine.transport.name !== 'websocket') await new Promise<void>((resolve) => a.io.engine.once('upgrade', () => resolve()));
      aLog.push(['ack', await chat]);
      aLog.push(['ack', await a.emitWithAck('chat', 'after the upgrade')]);
      a.disconnect();
      // polling only: an event, an ack and binary attachments both ways, all over HTTP
      const b = ioClient(`http://127.0.0.1:${port}`, { reconnection: false, transports: ['polling'] });
      const welcome = new Promise<unknown[]>((resolve) => b.on('welcome', (...args: unknown[]) => resolve(args)));
      await connected(b);
      pollOnly = b.io.engine.id;
      const bLog: unknown[][] = (logs[pollOnly] = []);
      bLog.push(['welcome', ...(await welcome)]);
      bLog.push(['ack', await b.emitWithAck('chat', 'hi there')]);
      // an ack with several arguments comes back as the first only (emitWithAck): use a callback
      const [word, bin] = await new Promise<[string, ArrayBuffer]>((resolve) => b.emit('upload', 'a.bin', Buffer.from([1, 2, 3, 4, 5]), (w: string, x: ArrayBuffer) => resolve([w, x])));
      bLog.push(['ack', word, { $binary: bin.byteLength }]);
      b.disconnect();
      // both clients' close packets decoded (the WebSocket's in a message, the poller's in a POST)
      await live.until(bothClosed(() => pollOnly), 'both sessions closed');
    } finally {
      await live.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const events = await fileEvents(file, live.events);

    // the sid: the handshake's open packet, every later polling request, the upgrading WebSocket
    expect(items(events, upgraded, 'server', 'open')).toHaveLength(1);
    expect(items(events, pollOnly, 'server', 'open')).toHaveLength(1);
    const hs = events.filter((e): e is HandshakeEvent => e.type === 'handshake');
    expect(hs.map((h) => [h.sid, h.websocket])).toEqual([[upgraded, true]]);
    const wsConn = hs[0].conn;
    const wsApp = events.filter((e): e is MessageEvent => e.type === 'message' && e.conn === wsConn).flatMap((m) => m.app ?? []);
    expect(wsApp.slice(0, 3).map((p) => [p.type, p.data])).toEqual([
      ['ping', 'probe'],
      ['pong', 'probe'],
      ['upgrade', undefined],
    ]);
    for (const e of polls(events)) expect([upgraded, pollOnly]).toContain(e.sid);

    // client A: its chats, by polling or over the WebSocket (the first may go either way)
    const aSent = items(events, upgraded, 'client', 'EVENT');
    const aWs = wsApp.filter((p) => p.type === 'EVENT');
    expect([...aSent, ...aWs].map((p) => [p.event, ...(p.args as unknown[])])).toEqual(serverLog[upgraded]);
    expect([...items(events, upgraded, 'server', 'ACK'), ...wsApp.filter((p) => p.type === 'ACK')].map((p) => ['ack', ...(p.args as unknown[])])).toEqual(logs[upgraded]);

    // client B, polling only
    const sent = [...items(events, pollOnly, 'client', 'EVENT'), ...items(events, pollOnly, 'client', 'BINARY_EVENT')];
    expect(sent.map((p) => [p.event, ...(p.args as unknown[])])).toEqual(serverLog[pollOnly]);
    expect(items(events, pollOnly, 'client', 'attachment')).toEqual([{ protocol: 'socket.io', type: 'attachment', num: 0, length: 5 }]);
    const got = [
      ...items(events, pollOnly, 'server', 'EVENT').map((p) => [p.event, ...(p.args as unknown[])]),
      ...items(events, pollOnly, 'server', 'ACK').map((p) => ['ack', ...(p.args as unknown[])]),
      ...items(events, pollOnly, 'server', 'BINARY_ACK').map((p) => ['ack', ...(p.args as unknown[])]),
    ];
    expect(got).toEqual(logs[pollOnly]);
    // the acks came in GET answers, the events in POSTs (other connections): still paired
    const acks = [...items(events, pollOnly, 'server', 'ACK'), ...items(events, pollOnly, 'server', 'BINARY_ACK')];
    expect(acks.map((p) => p.ackId)).toEqual(sent.map((p) => p.ackId));
    for (const p of acks) expect(p.latencyMs).toBeGreaterThan(0);
    expect(items(events, pollOnly, 'server', 'attachment')).toEqual([{ protocol: 'socket.io', type: 'attachment', num: 0, length: 3 }]);
    expect(items(events, pollOnly, 'server', 'CONNECT')[0].sid).toBeTypeOf('string');
    expect(events.filter((e): e is FindingEvent => e.type === 'finding' && e.severity !== 'info')).toEqual([]);

    // the store keeps them in its event log: a replay (NDJSON export) gives them back, in place
    const store = new SessionStore(1);
    for (const e of events) store.ingest(e);
    const kept = [...store.events()].filter((e) => e.type === 'polling' || e.type === 'handshake');
    expect(kept).toEqual(events.filter((e) => e.type === 'polling' || e.type === 'handshake'));
    store.close();

    // tshark, independently: the same bodies end in the same frames with the same lengths
    const ours = polls(events).map((e) => `${e.packet}:${e.length}`);
    expect(polls(events).filter((e) => e.truncated)).toEqual([]);
    expect([...ours].sort()).toEqual(tsharkBodies(file).sort());
  }, 60_000);
});
