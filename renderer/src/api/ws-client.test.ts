// The browser-shell client against a real WebSocket peer on loopback (the `ws` package in this
// Node test process) speaking shared/wire.ts. `ws` is loaded through a computed specifier and
// typed by the small interfaces below, so Node's types never enter the renderer's type project.
import { describe, it, expect, afterEach } from 'vitest';
import { apiUrlFromLocation, createWsClient } from './ws-client';
import type { SocketLike, WsClient } from './ws-client';
import { decodeWire, encodeFrame, encodeWire } from '../../../shared/wire';
import { batchRows, packRows } from '../../../shared/row-block';
import { makeRow } from '../testing/fake-api';
import type { WireCall } from '../../../shared/wire';
import type { Batch } from '../../../shared/api';

interface WsSocket {
  send(data: string | Uint8Array): void;
  terminate(): void;
  on(ev: 'message', cb: (data: unknown) => void): void;
}
interface WebSocketServer {
  once(ev: 'listening', cb: () => void): void;
  once(ev: 'connection', cb: (s: WsSocket) => void): void;
  on(ev: 'connection', cb: (s: WsSocket, req: { url?: string }) => void): void;
  address(): unknown;
  close(cb: () => void): void;
}
interface WsModule {
  WebSocketServer: new (o: { host: string; port: number }) => WebSocketServer;
  WebSocket: new (url: string) => unknown;
}
const WS_PACKAGE = 'ws';
const { WebSocketServer, WebSocket } = (await import(/* @vite-ignore */ WS_PACKAGE)) as WsModule;

interface Peer {
  url: string;
  server: WebSocketServer;
  sockets: WsSocket[];
  calls: WireCall[];
  nextConnection(): Promise<WsSocket>;
  nextCall(): Promise<{ call: WireCall; sock: WsSocket }>;
}

async function startPeer(): Promise<Peer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as { port: number }).port;
  const peer: Peer = {
    url: `ws://127.0.0.1:${port}/api?token=t`,
    server,
    sockets: [],
    calls: [],
    nextConnection: () => new Promise((r) => server.once('connection', (s) => r(s))),
    nextCall: () =>
      new Promise((r) => {
        const onCall = (call: WireCall, sock: WsSocket) => {
          waiters.delete(onCall);
          r({ call, sock });
        };
        waiters.add(onCall);
      }),
  };
  const waiters = new Set<(c: WireCall, s: WsSocket) => void>();
  server.on('connection', (sock, req) => {
    expect(req.url).toBe('/api?token=t');
    peer.sockets.push(sock);
    sock.on('message', (data) => {
      const msg = decodeWire(String(data));
      if (msg.t !== 'call') return;
      peer.calls.push(msg);
      for (const w of [...waiters]) w(msg, sock);
    });
  });
  return peer;
}

const connect = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;

let peer: Peer | null = null;
let client: WsClient | null = null;
afterEach(async () => {
  client?.close();
  client = null;
  if (peer) {
    for (const s of peer.sockets) s.terminate();
    await new Promise<void>((r) => peer!.server.close(() => r()));
    peer = null;
  }
});

describe('ws-client', () => {
  it('builds the API URL from the page location and its token', () => {
    expect(apiUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:8123', search: '?token=a%2Bb&x=1' })).toBe(
      'ws://127.0.0.1:8123/api?token=a%2Bb',
    );
    expect(apiUrlFromLocation({ protocol: 'https:', host: 'h:1', search: '' })).toBe('wss://h:1/api?token=');
  });

  it('sends calls made before the socket opens, with typed arrays, and resolves their results', async () => {
    peer = await startPeer();
    client = createWsClient({ url: peer.url, connect });
    // issued before the connection is up: queued, then flushed in order
    const pending = client.openBytes('cap.pcap', new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1]));
    const { call, sock } = await peer.nextCall();
    expect(call.name).toBe('openBytes');
    expect(call.args[0]).toBe('cap.pcap');
    expect(Array.from(call.args[1] as Uint8Array)).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    sock.send(encodeWire({ t: 'result', id: call.id, result: { ok: true, value: { id: 3, kind: 'file', path: 'cap.pcap', totalBytes: 4 } } }));
    expect(await pending).toEqual({ ok: true, value: { id: 3, kind: 'file', path: 'cap.pcap', totalBytes: 4 } });

    const q = client.queryMessages({ text: 'x' });
    const second = await peer.nextCall();
    sock.send(encodeWire({ t: 'result', id: second.call.id, result: { ok: true, value: { indexes: Uint32Array.from([1, 70000]), total: 2 } } }));
    const r = await q;
    expect(r.ok && r.value.indexes instanceof Uint32Array && Array.from(r.value.indexes)).toEqual([1, 70000]);
  });

  it('hands pushes to subscribers until they unsubscribe', async () => {
    peer = await startPeer();
    const conn = peer.nextConnection();
    client = createWsClient({ url: peer.url, connect });
    const sock = await conn;
    const got: Batch[] = [];
    let off = () => {};
    const first = new Promise<void>((r) => {
      off = client!.onBatch((b) => {
        got.push(b);
        r();
      });
    });
    const batch: Batch = { session: 1, connections: [], messages: [], findings: [], handshakes: [], totals: { packets: 1, messages: 0, findings: 0, connections: 0 } };
    sock.send(encodeWire({ t: 'push', name: 'batch', payload: batch }));
    await first;
    expect(got).toEqual([batch]);
    off();
    // a round trip after a second push proves the push was delivered and ignored
    sock.send(encodeWire({ t: 'push', name: 'batch', payload: { ...batch, session: 2 } }));
    const cs = client.currentSession();
    const { call } = await peer.nextCall();
    sock.send(encodeWire({ t: 'result', id: call.id, result: { ok: true, value: { id: 2, kind: 'none', path: '', totalBytes: 0 } } }));
    await cs;
    expect(got).toHaveLength(1);
  });

  it('takes a batch with a row block as a binary message (shared/wire.ts encodeFrame)', async () => {
    peer = await startPeer();
    const conn = peer.nextConnection();
    client = createWsClient({ url: peer.url, connect });
    const sock = await conn;
    const got = new Promise<Batch>((r) => client!.onBatch(r));
    const rows = [makeRow(0, { preview: 'héllo ✓' }), makeRow(1, { meaning: 'join room 7' })];
    const batch: Batch = { session: 1, connections: [], messages: [], rows: packRows(rows), findings: [], handshakes: [], totals: { packets: 1, messages: 2, findings: 0, connections: 1 } };
    const frame = encodeFrame({ t: 'push', name: 'batch', payload: batch });
    expect(frame).toBeInstanceOf(Uint8Array);
    sock.send(frame);
    const b = await got;
    expect(batchRows(b)).toEqual(batchRows(batch));
    expect(batchRows(b).map((r) => r.preview)).toEqual(['héllo ✓', 'message 1']);
  });

  it('fails calls in flight with an io error when the connection drops, then reconnects', async () => {
    peer = await startPeer();
    client = createWsClient({ url: peer.url, connect, backoffMs: 20 });
    const errors: string[] = [];
    client.onError((e) => errors.push(e.code));
    const inFlight = client.getMessageDetail(5);
    const { sock } = await peer.nextCall();
    const reconnected = peer.nextConnection();
    sock.terminate();
    const r = await inFlight;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('io');
    expect(errors).toEqual(['io']);
    const sock2 = await reconnected;
    const again = client.getStats(1);
    const { call } = await peer.nextCall();
    sock2.send(encodeWire({ t: 'result', id: call.id, result: { ok: false, error: { code: 'not-found', message: 'No connection 1.' } } }));
    expect(await again).toEqual({ ok: false, error: { code: 'not-found', message: 'No connection 1.' } });
  });

  it('answers openFileDialog with "unsupported" without asking the server', async () => {
    peer = await startPeer();
    client = createWsClient({ url: peer.url, connect });
    const r = await client.openFileDialog();
    expect(!r.ok && r.error.code).toBe('unsupported');
    expect(peer.calls).toHaveLength(0);
  });

  it('fails a call with an io error when no server answers within the queue timeout', async () => {
    peer = await startPeer();
    const url = peer.url;
    await new Promise<void>((r) => peer!.server.close(() => r()));
    peer = null;
    client = createWsClient({ url, connect, backoffMs: 10, maxBackoffMs: 20, queueTimeoutMs: 100 });
    const r = await client.listInterfaces();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('io');
    expect(client.connected).toBe(false);
  });
});
