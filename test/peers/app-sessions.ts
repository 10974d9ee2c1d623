/**
 * Captures the UI tests read, recorded from real peers on `lo` with dumpcap (a filter on the
 * peer's own port), each with what the peers logged:
 *  - `recordSocketIo`: socket.io server + socket.io-client over WebSocket only, an event with
 *    an ack, a binary event with an ack, a server event;
 *  - `recordSocketIoPolling`: the same peers with their default transports: Engine.IO
 *    long-polling first, then the upgrade to WebSocket (one Engine.IO session, one `sid`);
 *  - `recordMqtt`: mqtt.js against an aedes broker over WebSocket: a subscription and a
 *    QoS 1 publish that comes back;
 *  - `recordWss`: Node `tls` + `ws` (TLS 1.3) with the key log the server wrote, plus a
 *    second connection whose keys are left out of the key log (a session without a key);
 *  - `recordH2c`: Node's http2 server with enableConnectProtocol and two WebSockets on one
 *    h2c connection plus a plain GET (test/peers/h2-websocket.ts);
 *  - `recordBinary`: a `ws` pair exchanging a MessagePack and a CBOR map, as
 *    @msgpack/msgpack and cbor-x encode them.
 * Each resolves once the live decode saw the conversation end, so the file holds all of it.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import { encode as encodeMsgpack } from '@msgpack/msgpack';
import { encode as encodeCbor } from 'cbor-x';
import { Server as IoServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import type { EngineEvent } from '../../shared/events';
import { captureLo } from './capture';
import { connectH2, startH2Server } from './h2-websocket';
import { selfSigned, wssConversation } from './tls';

async function listen(http: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return (http.address() as AddressInfo).port;
}

const bothClosed = (evs: EngineEvent[]): boolean => (['client', 'server'] as const).every((d) => evs.some((e) => e.type === 'message' && e.opcode === 8 && e.dir === d));

async function record(file: string, port: number, talk: () => Promise<void>, done: (evs: EngineEvent[]) => boolean = bothClosed): Promise<void> {
  const live = await captureLo({ backend: 'dumpcap', port, file });
  try {
    await talk();
    await live.until(done, 'the conversation to end');
  } finally {
    await live.stop();
  }
}

export interface SocketIoSession {
  file: string;
  /** what socket.io's server handlers received: [event, ...args] */
  serverLog: unknown[][];
  /** what socket.io-client got back: acks and the server's event */
  clientLog: unknown[][];
}

export async function recordSocketIo(dir: string): Promise<SocketIoSession> {
  const file = join(dir, 'socket.io.pcapng');
  const http = createServer();
  const server = new IoServer(http, { transports: ['websocket'] });
  const serverLog: unknown[][] = [];
  const clientLog: unknown[][] = [];
  server.on('connection', (socket) => {
    socket.on('chat', (text: string, ack: (r: unknown) => void) => {
      serverLog.push(['chat', text]);
      ack({ ok: true, length: text.length });
    });
    socket.on('upload', (name: string, data: Buffer, ack: (r: unknown) => void) => {
      serverLog.push(['upload', name, data.length]);
      ack('stored');
    });
    socket.emit('welcome', 'hello', 1);
  });
  const port = await listen(http);
  try {
    await record(file, port, async () => {
      const client = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
      const welcome = new Promise<void>((resolve) => client.on('welcome', (...args: unknown[]) => (clientLog.push(['welcome', ...args]), resolve())));
      await new Promise<void>((resolve) => client.on('connect', resolve));
      await welcome;
      clientLog.push(['ack', await client.emitWithAck('chat', 'hi')]);
      clientLog.push(['ack', await client.emitWithAck('upload', 'a.bin', Buffer.from([1, 2, 3, 4, 5]))]);
      client.disconnect();
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { file, serverLog, clientLog };
}

export interface SocketIoPollingSession extends SocketIoSession {
  /** the Engine.IO session id (socket.io-client's engine's) */
  sid: string;
}

export async function recordSocketIoPolling(dir: string): Promise<SocketIoPollingSession> {
  const file = join(dir, 'socket.io-polling.pcapng');
  const http = createServer();
  const server = new IoServer(http);
  const serverLog: unknown[][] = [];
  const clientLog: unknown[][] = [];
  let sid = '';
  server.on('connection', (socket) => {
    socket.on('chat', (text: string, ack: (r: unknown) => void) => {
      serverLog.push(['chat', text]);
      ack({ ok: true, length: text.length });
    });
    socket.emit('welcome', 'hello', 1);
  });
  const port = await listen(http);
  try {
    await record(file, port, async () => {
      const client = ioClient(`http://127.0.0.1:${port}`, { reconnection: false });
      const welcome = new Promise<void>((resolve) => client.on('welcome', (...args: unknown[]) => (clientLog.push(['welcome', ...args]), resolve())));
      await new Promise<void>((resolve) => client.on('connect', resolve));
      sid = client.io.engine.id;
      await welcome;
      const chat = client.emitWithAck('chat', 'hi');
      if (client.io.engine.transport.name !== 'websocket') await new Promise<void>((resolve) => client.io.engine.once('upgrade', () => resolve()));
      clientLog.push(['ack', await chat]);
      clientLog.push(['ack', await client.emitWithAck('chat', 'over the websocket')]);
      client.disconnect();
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { file, sid, serverLog, clientLog };
}

export interface MqttSession {
  file: string;
  /** control packets mqtt.js sent, upper case, after CONNECT */
  sent: string[];
}

export async function recordMqtt(dir: string): Promise<MqttSession> {
  const file = join(dir, 'mqtt.pcapng');
  const broker = await Aedes.createBroker();
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws, req) => broker.handle(createWebSocketStream(ws), req));
  const port = await listen(http);
  const sent: string[] = [];
  try {
    await record(file, port, async () => {
      const client = await mqtt.connectAsync(`ws://127.0.0.1:${port}`, { protocolVersion: 4, clientId: 'wsscope-ui', reconnectPeriod: 0 });
      client.on('packetsend', (p) => sent.push(p.cmd.toUpperCase()));
      const got = new Promise<void>((resolve) => client.on('message', () => resolve()));
      await client.subscribeAsync('sensors/#', { qos: 1 });
      await client.publishAsync('sensors/1/temp', '21.5', { qos: 1 });
      await got;
      await client.endAsync();
    });
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
  return { file, sent };
}

export interface WssSession {
  file: string;
  /** the key log of the first connection only (the second one has no key) */
  keylog: string;
  /** its text */
  keylogText: string;
  /** the whole key log, both connections */
  allKeys: string;
  port: number;
  messages: string[];
}

/** Two wss connections (TLS 1.3, AES-128-GCM); the key log written keeps the first one's lines only. */
export async function recordWss(dir: string, port: number): Promise<WssSession> {
  const file = join(dir, 'wss.pcapng');
  const cert = selfSigned(dir);
  const messages = ['hello over TLS', '{"type":"join","room":"lobby"}'];
  const live = await captureLo({ backend: 'dumpcap', port, file });
  let talk: Awaited<ReturnType<typeof wssConversation>>;
  try {
    talk = await wssConversation({ port, cert, tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, messages, path: '/chat', connections: 2 });
    await live.until((evs) => evs.filter((e) => e.type === 'connection-end').length === 2, 'both connections end');
  } finally {
    await live.stop();
  }
  // one client random per TLS 1.3 session: keep the lines of the first one seen
  const lines = talk.keylog.split('\n').filter((l) => l !== '');
  const first = lines[0].split(' ')[1];
  const keylogText = lines.filter((l) => l.split(' ')[1] === first).join('\n') + '\n';
  const keylog = join(dir, 'wss.keys');
  writeFileSync(keylog, keylogText);
  return { file, keylog, keylogText, allKeys: talk.keylog, port, messages };
}

export interface H2cSession {
  file: string;
  /** stream ids of the two WebSockets */
  streams: number[];
}

/** Two WebSockets (one with a subprotocol) and a plain GET on one h2c connection. */
export async function recordH2c(dir: string): Promise<H2cSession> {
  const file = join(dir, 'h2c.pcapng');
  const server = await startH2Server();
  const live = await captureLo({ backend: 'dumpcap', port: server.port, file });
  const streams: number[] = [];
  try {
    const client = await connectH2(server.port);
    const a = await client.webSocket('/chat', { protocol: 'chat.v1' });
    const sa = await server.accepted();
    const b = await client.webSocket('/feed');
    const sb = await server.accepted();
    streams.push(a.stream, b.stream);
    await a.send('hello over h2');
    await sa.send('server to A');
    await sb.send('server to B');
    await client.get('/plain');
    const closed = Promise.all([a, b, sa, sb].map((s) => new Promise<void>((resolve) => s.ws.once('close', () => resolve()))));
    a.ws.close(1000, 'done');
    b.ws.close(1000, 'done');
    await closed;
    await client.close();
    await server.close();
    await live.until((evs) => evs.filter((e) => e.type === 'connection-end').length >= 3, 'three connection ends');
  } finally {
    await live.stop();
  }
  return { file, streams };
}

export interface BinarySession {
  file: string;
  /** what the client sent, as the libraries encoded it: [format, value] */
  sent: Array<['msgpack' | 'cbor', unknown]>;
}

/** A `ws` pair: the client sends a MessagePack map (@msgpack/msgpack) and a CBOR map (cbor-x), the server echoes them. */
export async function recordBinary(dir: string): Promise<BinarySession> {
  const file = join(dir, 'binary.pcapng');
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (data: Buffer, binary: boolean) => ws.send(data, { binary })));
  const port = await listen(http);
  const sent: BinarySession['sent'] = [
    ['msgpack', { type: 1, target: 'ReceiveMessage', arguments: ['ada', 'hello'], ts: 1700000000 }],
    ['cbor', { topic: 'sensors/1', values: [21.5, 22], ok: true }],
  ];
  try {
    await record(file, port, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/bin`);
      await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
      const echoes = new Promise<void>((resolve) => {
        let n = 0;
        ws.on('message', () => ++n === sent.length && resolve());
      });
      for (const [format, value] of sent) ws.send(format === 'msgpack' ? encodeMsgpack(value) : encodeCbor(value));
      await echoes;
      ws.close(1000);
      await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    });
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
  return { file, sent };
}
