/**
 * Subprotocol decoders against real peers on `lo`: each test runs a protocol's own npm
 * server and client (socket.io + socket.io-client over WebSocket only; mqtt.js against an
 * aedes broker over WebSocket; a JSON-RPC 2.0 pair written on `ws`; graphql-ws client and
 * server; @stomp/stompjs against a small broker and @microsoft/signalr against a hub written here to the spec; the phoenix client against a small
 * channel server), captures the conversation with dumpcap through a filter on the test's own port,
 * and compares what the peers' libraries logged (events and their arguments, acks, MQTT
 * packets sent and received, JSON-RPC calls and answers, GraphQL results) with the `app`
 * packets wsscope decoded, live and from the written pcapng.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import { Server as IoServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { createRequire } from 'node:module';
import { useServer } from 'graphql-ws/use/ws';
import { createClient } from 'graphql-ws';
import { Client as StompClient } from '@stomp/stompjs';
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { Socket as PhoenixSocket } from 'phoenix';
import { captureLo } from './peers/capture';
import { analyzeFile } from '../engine/pipeline';
import type { AppPacket, Direction, EngineEvent, FindingEvent, MessageEvent } from '../shared/events';

// graphql-ws loads graphql through Node (its CommonJS build); a schema must come from the same
// instance (graphql's instanceof checks), not the ES build the test transform would pick
const { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-app-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(http: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return (http.address() as AddressInfo).port;
}

/** close a peer's WebSocket server (its clients too) and the HTTP server under it */
async function shutdown(wss: WebSocketServer, http: HttpServer): Promise<void> {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => http.close(() => resolve()));
}

const closed = (evs: EngineEvent[]): boolean => (['client', 'server'] as const).every((d) => evs.some((e) => e.type === 'message' && e.opcode === 8 && e.dir === d));

/**
 * Capture `port` on lo while `talk` runs, until both close frames are decoded live; then the
 * pcapng decoded offline. Both event lists are returned; their `app` packets must agree.
 */
async function record(name: string, port: number, talk: () => Promise<void>): Promise<EngineEvent[]> {
  const file = join(dir, `${name}.pcapng`);
  const live = await captureLo({ backend: 'dumpcap', port, file });
  try {
    await talk();
    await live.until(closed, 'both close frames');
  } finally {
    await live.stop();
  }
  const offline: EngineEvent[] = [];
  await analyzeFile(file, (e) => offline.push(e));
  expect(appsOf(offline)).toEqual(appsOf(live.events));
  return offline;
}

const messages = (evs: EngineEvent[]): MessageEvent[] => evs.filter((e): e is MessageEvent => e.type === 'message');
const appsOf = (evs: EngineEvent[]): AppPacket[][] => messages(evs).map((m) => m.app ?? []);
const items = (evs: EngineEvent[], dir?: Direction, type?: string): AppPacket[] => messages(evs).flatMap((m) => (dir && m.dir !== dir ? [] : (m.app ?? []).filter((p) => !type || p.type === type)));
const findings = (evs: EngineEvent[]): FindingEvent[] => evs.filter((e): e is FindingEvent => e.type === 'finding' && e.severity !== 'info');

describe('subprotocol decoding of real peers captured on lo', () => {
  it('Socket.IO: events with acks and a binary attachment, as socket.io and socket.io-client saw them', async () => {
    const http = createServer();
    const server = new IoServer(http, { transports: ['websocket'] });
    const serverLog: unknown[][] = [];
    server.on('connection', (socket) => {
      socket.on('chat', (text: string, ack: (r: unknown) => void) => {
        serverLog.push(['chat', text]);
        ack({ ok: true, length: text.length });
      });
      socket.on('upload', (name: string, data: Buffer, ack: (r: unknown) => void) => {
        serverLog.push(['upload', name, { $binary: data.length }]);
        ack('stored');
      });
      socket.emit('welcome', 'hello', 1);
    });
    const port = await listen(http);
    const clientLog: unknown[][] = [];
    let ids: { sid: string; engine: string } = { sid: '', engine: '' };
    try {
      const events = await record('socket.io', port, async () => {
        const client = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
        const welcome = new Promise<void>((resolve) => client.on('welcome', (...args: unknown[]) => (clientLog.push(['welcome', ...args]), resolve())));
        await new Promise<void>((resolve) => client.on('connect', resolve));
        ids = { sid: client.id ?? '', engine: client.io.engine.id };
        await welcome;
        clientLog.push(['ack', await client.emitWithAck('chat', 'hi there')]);
        clientLog.push(['ack', await client.emitWithAck('upload', 'a.bin', Buffer.from([1, 2, 3, 4, 5]))]);
        client.disconnect();
      });
      // what each side's library logged, decoded from the wire
      const sent = items(events, 'client').filter((p) => p.type === 'EVENT' || p.type === 'BINARY_EVENT');
      expect(sent.map((p) => [p.event, ...(p.args as unknown[])])).toEqual(serverLog);
      expect(sent.map((p) => p.type)).toEqual(['EVENT', 'BINARY_EVENT']);
      expect(sent[1]).toMatchObject({ attachments: 1, nsp: '/' });
      const acks = items(events, 'server', 'ACK');
      const welcome = items(events, 'server', 'EVENT');
      expect([...welcome.map((p) => [p.event, ...(p.args as unknown[])]), ...acks.map((p) => ['ack', ...(p.args as unknown[])])]).toEqual(clientLog);
      expect(acks.map((p) => p.ackId)).toEqual(sent.map((p) => p.ackId));
      for (const a of acks) expect(a.latencyMs).toBeGreaterThan(0);
      expect(items(events, 'server', 'open')[0].sid).toBe(ids.engine);
      expect(items(events, 'server', 'CONNECT')[0]).toMatchObject({ nsp: '/', sid: ids.sid });
      expect(items(events, 'client', 'attachment')).toEqual([{ protocol: 'socket.io', type: 'attachment', num: 0, length: 5 }]);
      expect(findings(events)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  // aedes speaks MQTT 3.1.1 (MQTT 5 is covered by the unit tests, with packets mqtt-packet wrote)
  it('MQTT 3.1.1: QoS 0/1/2 publishes and a subscription through aedes, packet for packet as mqtt.js sent and received them', async () => {
    const version = 4;
    const broker = await Aedes.createBroker();
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws, req) => broker.handle(createWebSocketStream(ws), req));
    const port = await listen(http);
    const sentLog: Array<[string, number | null, string | null]> = [];
    const recvLog: Array<[string, number | null, string | null]> = [];
    // a QoS 0 PUBLISH has no packet id on the wire (MQTT 3.1.1 section 2.3.1); mqtt.js logs it as 0
    const row = (p: { cmd: string; messageId?: number; topic?: string; qos?: number }): [string, number | null, string | null] => [p.cmd.toUpperCase(), p.cmd === 'publish' && !p.qos ? null : (p.messageId ?? null), p.topic ?? null];
    try {
      const events = await record('mqtt', port, async () => {
        const client = await mqtt.connectAsync(`ws://127.0.0.1:${port}`, { protocolVersion: version, clientId: `wsscope-${version}`, reconnectPeriod: 0 });
        client.on('packetsend', (p) => sentLog.push(row(p)));
        client.on('packetreceive', (p) => recvLog.push(row(p)));
        const got = new Promise<void>((resolve) => {
          let n = 0;
          client.on('message', () => ++n === 3 && resolve());
        });
        await client.subscribeAsync('sensors/#', { qos: 2 });
        for (const qos of [0, 1, 2] as const) await client.publishAsync(`sensors/${qos}/temp`, `21.${qos}`, { qos });
        await got;
        await client.endAsync();
      });
      // connectAsync resolves on CONNACK, before the listeners above were on: CONNECT and CONNACK are not in the logs
      expect(items(events, 'client').map((p) => row({ cmd: p.type.toLowerCase(), messageId: p.packetId as number | undefined, topic: p.topic as string | undefined, qos: p.qos as number | undefined }))).toEqual([['CONNECT', null, null], ...sentLog]);
      expect(items(events, 'server').map((p) => row({ cmd: p.type.toLowerCase(), messageId: p.packetId as number | undefined, topic: p.topic as string | undefined, qos: p.qos as number | undefined }))).toEqual([['CONNACK', null, null], ...recvLog]);
      // both mqtt.js and aedes (through createWebSocketStream) write a packet's fields as separate messages
      for (const d of ['client', 'server'] as const) expect(messages(events).filter((m) => m.dir === d && m.opcode === 2).length).toBeGreaterThan(2 * items(events, d).length);
      expect(items(events, 'client', 'CONNECT')[0]).toMatchObject({ clientId: `wsscope-${version}`, protocolVersion: version });
      const pubs = items(events, 'client', 'PUBLISH');
      expect(pubs.map((p) => [p.topic, p.qos, p.payloadLength])).toEqual([
        ['sensors/0/temp', 0, 4],
        ['sensors/1/temp', 1, 4],
        ['sensors/2/temp', 2, 4],
      ]);
      // every reply of the QoS flows and the subscription is correlated to its request
      for (const t of ['CONNACK', 'SUBACK', 'PUBACK', 'PUBREC', 'PUBCOMP']) {
        for (const p of items(events, undefined, t)) expect(p.latencyMs, t).toBeGreaterThanOrEqual(0);
      }
      expect(items(events, undefined, 'PUBCOMP')).toHaveLength(2); // client's QoS 2 publish, and the broker's
      expect(findings(events)).toEqual([]);
      expect(events.filter((e) => e.type === 'finding' && e.id.startsWith('subprotocol-'))).toEqual([]);
    } finally {
      await shutdown(wss, http);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    }
  });

  it('JSON-RPC 2.0: calls, a notification, errors and a batch over ws, with their methods correlated', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const methods: Record<string, (p: number[]) => number> = {
      add: (p) => p[0] + p[1],
      mul: (p) => p[0] * p[1],
      div: (p) => {
        if (p[1] === 0) throw new Error('division by zero');
        return p[0] / p[1];
      },
    };
    type Call = { jsonrpc: '2.0'; method: string; params?: number[]; id?: number | string };
    const answer = (c: Call): object | null => {
      if (c.id === undefined) return null;
      const f = methods[c.method];
      if (!f) return { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: c.id };
      try {
        return { jsonrpc: '2.0', result: f(c.params ?? []), id: c.id };
      } catch (e) {
        return { jsonrpc: '2.0', error: { code: -32000, message: (e as Error).message }, id: c.id };
      }
    };
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const req = JSON.parse(String(data)) as Call | Call[];
        const out = Array.isArray(req) ? req.map(answer).filter((x) => x !== null) : answer(req);
        if (out !== null && !(Array.isArray(out) && out.length === 0)) ws.send(JSON.stringify(out));
      }),
    );
    const port = await listen(http);
    const calls: Array<Call | Call[]> = [
      { jsonrpc: '2.0', method: 'add', params: [2, 3], id: 1 },
      { jsonrpc: '2.0', method: 'log', params: [7] },
      { jsonrpc: '2.0', method: 'div', params: [1, 0], id: 'x' },
      [
        { jsonrpc: '2.0', method: 'mul', params: [4, 5], id: 2 },
        { jsonrpc: '2.0', method: 'log', params: [8] },
        { jsonrpc: '2.0', method: 'nope', id: 3 },
      ],
    ];
    const answers: unknown[] = [];
    try {
      const events = await record('json-rpc', port, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`);
        await new Promise((resolve) => ws.once('open', resolve));
        for (const c of calls) {
          const notification = !Array.isArray(c) && c.id === undefined;
          const reply = notification ? null : new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
          ws.send(JSON.stringify(c));
          if (reply) answers.push(await reply);
        }
        ws.close();
      });
      const sent = calls.flatMap((c) => (Array.isArray(c) ? c : [c]));
      expect(items(events, 'client').map((p) => [p.type, p.method, p.id ?? null])).toEqual(sent.map((c) => [c.id === undefined ? 'notification' : 'request', c.method, c.id ?? null]));
      const got = answers.flatMap((a) => (Array.isArray(a) ? a : [a])) as Array<{ id: number | string; error?: { code: number } }>;
      const replies = items(events, 'server');
      expect(replies.map((p) => [p.type, p.id, p.code ?? null])).toEqual(got.map((a) => [a.error ? 'error' : 'response', a.id, a.error?.code ?? null]));
      // each answer names the method of the call it answers, with the call's time
      expect(replies.map((p) => p.method)).toEqual(got.map((a) => sent.find((c) => c.id === a.id)?.method));
      for (const p of replies) expect(p.latencyMs).toBeGreaterThan(0);
      expect(findings(events)).toEqual([]);
    } finally {
      await shutdown(wss, http);
    }
  });

  it('GraphQL over WebSocket: a query and a subscription between graphql-ws client and server', async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { hello: { type: GraphQLString, resolve: () => 'world' } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          countdown: {
            type: GraphQLInt,
            args: { from: { type: GraphQLInt } },
            subscribe: async function* (_root: unknown, args: { from: number }) {
              for (let i = args.from; i >= 0; i--) yield { countdown: i };
            },
          },
        },
      }),
    });
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const cleanup = useServer({ schema }, wss);
    const port = await listen(http);
    const results: Record<string, unknown[]> = { Hello: [], Countdown: [] };
    try {
      const events = await record('graphql-ws', port, async () => {
        const client = createClient({ url: `ws://127.0.0.1:${port}`, webSocketImpl: WebSocket, lazy: false });
        const run = (name: string, query: string): Promise<void> =>
          new Promise((resolve, reject) => client.subscribe({ query }, { next: (r) => results[name].push(r.data), error: reject, complete: resolve }));
        await run('Hello', 'query Hello { hello }');
        await run('Countdown', 'subscription Countdown { countdown(from: 3) }');
        await client.dispose();
      });
      const subs = items(events, 'client', 'subscribe');
      expect(subs.map((p) => [p.operationName, p.operationType])).toEqual([
        ['Hello', 'query'],
        ['Countdown', 'subscription'],
      ]);
      expect(results.Countdown).toEqual([{ countdown: 3 }, { countdown: 2 }, { countdown: 1 }, { countdown: 0 }]);
      for (const [k, s] of subs.entries()) {
        const name = s.operationName as string;
        const replies = items(events, 'server').filter((p) => p.id === s.id);
        expect(replies.map((p) => p.type)).toEqual([...results[name].map(() => 'next'), 'complete']);
        for (const p of replies) expect(p, `${k}`).toMatchObject({ operationName: name, requestTs: messages(events).find((m) => m.app?.includes(s))?.ts });
      }
      expect(items(events, 'server', 'connection_ack')[0].latencyMs).toBeGreaterThan(0);
      expect(findings(events)).toEqual([]);
    } finally {
      await cleanup.dispose();
      await shutdown(wss, http);
    }
  });

  it('STOMP: @stomp/stompjs subscribes, sends with receipts and gets the messages from a small broker', async () => {
    const http = createServer();
    // STOMP 1.2 broker, just enough for one client: one frame per message (as stompjs sends them)
    const wss = new WebSocketServer({ server: http, handleProtocols: (offered) => (offered.has('v12.stomp') ? 'v12.stomp' : false) });
    const brokerLog: Array<[string, string | null]> = [];
    wss.on('connection', (ws) => {
      const subs: Array<{ id: string; destination: string }> = [];
      let n = 0;
      ws.on('message', (data) => {
        const text = String(data);
        if (text.trim() === '') return; // heart-beat
        const [head, body = ''] = text.split('\n\n');
        const [command, ...lines] = head.split('\n');
        const h = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
        brokerLog.push([command, h.destination ?? null]);
        if (command === 'CONNECT' || command === 'STOMP') ws.send('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
        if (command === 'SUBSCRIBE') subs.push({ id: h.id, destination: h.destination });
        if (command === 'SEND') {
          const payload = body.replace(/\0$/, '');
          for (const sub of subs.filter((x) => x.destination === h.destination)) {
            ws.send(`MESSAGE\nsubscription:${sub.id}\nmessage-id:${++n}\ndestination:${h.destination}\ncontent-length:${Buffer.byteLength(payload)}\n\n${payload}\0`);
          }
        }
        if (h.receipt !== undefined) ws.send(`RECEIPT\nreceipt-id:${h.receipt}\n\n\0`);
      });
    });
    const port = await listen(http);
    const received: Array<[string, number]> = [];
    const receipts: string[] = [];
    try {
      const events = await record('stomp', port, async () => {
        const client = new StompClient({
          webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${port}`, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
          heartbeatIncoming: 0,
          heartbeatOutgoing: 0,
          reconnectDelay: 0,
        });
        await new Promise<void>((resolve) => {
          client.onConnect = () => resolve();
          client.activate();
        });
        const got = new Promise<void>((resolve) =>
          client.subscribe('/topic/chat', (f) => {
            received.push([f.headers.destination, Buffer.byteLength(f.body)]);
            if (received.length === 2) resolve();
          }),
        );
        for (const [k, body] of ['hello', 'grüße'].entries()) {
          const done = new Promise<void>((resolve) => client.watchForReceipt(`r${k}`, (f) => (receipts.push(f.headers['receipt-id']), resolve())));
          client.publish({ destination: '/topic/chat', body, headers: { receipt: `r${k}` } });
          await done;
        }
        await got;
        await client.deactivate();
      });
      const frames = items(events, 'client').filter((p) => p.type !== 'HEARTBEAT');
      expect(frames.map((p) => [p.type, p.destination ?? null])).toEqual(brokerLog);
      expect(frames.map((p) => p.type)).toEqual(['CONNECT', 'SUBSCRIBE', 'SEND', 'SEND', 'DISCONNECT']);
      const msgs = items(events, 'server', 'MESSAGE');
      expect(msgs.map((p) => [p.destination, p.bodyLength])).toEqual(received);
      const got = items(events, 'server', 'RECEIPT');
      // the two the client watched for, then the one its DISCONNECT asked for
      const disconnect = frames[frames.length - 1].headers as Record<string, string>;
      expect(got.map((p) => (p.headers as Record<string, string>)['receipt-id'])).toEqual([...receipts, disconnect.receipt]);
      expect(receipts).toEqual(['r0', 'r1']);
      for (const p of [...got, ...items(events, 'server', 'CONNECTED')]) expect(p.latencyMs).toBeGreaterThan(0);
      expect(findings(events)).toEqual([]);
    } finally {
      await shutdown(wss, http);
    }
  });

  it('SignalR: @microsoft/signalr invokes, streams and is called back by a hub written to the JSON hub protocol', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const RS = '\u001e';
    const hubLog: Array<[number | string, string | null, string | null]> = [];
    wss.on('connection', (ws) => {
      let shook = false;
      const send = (o: object): void => ws.send(JSON.stringify(o) + RS);
      ws.on('message', (data) => {
        for (const rec of String(data).split(RS).filter((r) => r !== '')) {
          const v = JSON.parse(rec) as { type?: number; target?: string; invocationId?: string; arguments?: number[] };
          if (!shook) {
            shook = true;
            hubLog.push(['handshake', null, null]);
            ws.send('{}' + RS);
            continue;
          }
          hubLog.push([v.type ?? -1, v.target ?? null, v.invocationId ?? null]);
          const args = v.arguments ?? [];
          if (v.type === 1 && v.target === 'add') send({ type: 3, invocationId: v.invocationId, result: args[0] + args[1] });
          if (v.type === 1 && v.target === 'notify') send({ type: 1, target: 'receive', arguments: ['noted', args[0]] });
          if (v.type === 4 && v.target === 'counter') {
            for (let i = 0; i < args[0]; i++) send({ type: 2, invocationId: v.invocationId, item: i });
            send({ type: 3, invocationId: v.invocationId });
          }
        }
      });
    });
    const port = await listen(http);
    const clientLog: unknown[][] = [];
    try {
      const events = await record('signalr', port, async () => {
        const hub = new HubConnectionBuilder()
          .withUrl(`http://127.0.0.1:${port}/chat`, { skipNegotiation: true, transport: HttpTransportType.WebSockets })
          .configureLogging(LogLevel.None)
          .build();
        const received = new Promise<void>((resolve) => hub.on('receive', (...args: unknown[]) => (clientLog.push(['receive', ...args]), resolve())));
        await hub.start();
        clientLog.push(['add', await hub.invoke('add', 2, 3)]);
        const items: unknown[] = [];
        await new Promise<void>((resolve, reject) => hub.stream('counter', 3).subscribe({ next: (i) => items.push(i), complete: resolve, error: reject }));
        clientLog.push(['counter', ...items]);
        await hub.send('notify', 7);
        await received;
        await hub.stop();
      });
      const sent = items(events, 'client');
      expect(sent.map((p) => (p.type === 'HandshakeRequest' ? ['handshake', null, null] : [['', 'Invocation', 'StreamItem', 'Completion', 'StreamInvocation', 'CancelInvocation', 'Ping', 'Close'].indexOf(p.type), p.target ?? null, p.invocationId ?? null]))).toEqual(hubLog);
      expect(sent[0]).toMatchObject({ hubProtocol: 'json', version: 1 });
      const got = items(events, 'server');
      expect(got[0]).toMatchObject({ type: 'HandshakeResponse', latencyMs: expect.any(Number) });
      const add = got.find((p) => p.type === 'Completion' && p.target === 'add');
      expect(add?.latencyMs).toBeGreaterThan(0);
      expect(got.filter((p) => p.target === 'counter').map((p) => p.type)).toEqual(['StreamItem', 'StreamItem', 'StreamItem', 'Completion']);
      expect(got.filter((p) => p.type === 'Invocation').map((p) => [p.target, ...(p.arguments as unknown[])])).toEqual(clientLog.filter((l) => l[0] === 'receive'));
      expect(clientLog).toContainEqual(['add', 5]);
      expect(clientLog).toContainEqual(['counter', 0, 1, 2]);
      expect(findings(events)).toEqual([]);
    } finally {
      await shutdown(wss, http);
    }
  });

  it('Phoenix Channels: the phoenix client joins, pushes, gets a broadcast and leaves', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    const serverLog: Array<[string, string, string | null]> = [];
    wss.on('connection', (ws) =>
      ws.on('message', (data) => {
        const [joinRef, ref, topic, event, payload] = JSON.parse(String(data)) as [string | null, string | null, string, string, Record<string, unknown>];
        serverLog.push([topic, event, ref]);
        const reply = (response: object): void => ws.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response }]));
        if (event === 'new_msg') {
          reply({ stored: true });
          ws.send(JSON.stringify([null, null, topic, 'new_msg', { body: payload.body, from: 'server' }]));
        } else reply({});
      }),
    );
    const port = await listen(http);
    const clientLog: unknown[][] = [];
    try {
      const events = await record('phoenix', port, async () => {
        const socket = new PhoenixSocket(`ws://127.0.0.1:${port}/socket`, { transport: WebSocket, params: { token: 't' } });
        socket.connect();
        const channel = socket.channel('room:lobby', { nick: 'ada' });
        const broadcast = new Promise<void>((resolve) => channel.on('new_msg', (p) => (clientLog.push(['new_msg', p]), resolve())));
        await new Promise<void>((resolve, reject) => channel.join().receive('ok', (r) => (clientLog.push(['join', r]), resolve())).receive('error', reject));
        await new Promise<void>((resolve) => channel.push('new_msg', { body: 'hi' }).receive('ok', (r) => (clientLog.push(['push', r]), resolve())));
        await broadcast;
        await new Promise<void>((resolve) => channel.leave().receive('ok', () => resolve()));
        await new Promise<void>((resolve) => socket.disconnect(() => resolve(), 1000));
      });
      const sent = items(events, 'client');
      expect(sent.map((p) => [p.topic, p.type, p.ref ?? null])).toEqual(serverLog);
      expect(sent.map((p) => p.type)).toEqual(['phx_join', 'new_msg', 'phx_leave']);
      expect(sent[0].payload).toEqual({ nick: 'ada' });
      const replies = items(events, 'server', 'phx_reply');
      expect(replies.map((p) => p.ref)).toEqual(sent.map((p) => p.ref));
      for (const r of replies) expect(r.latencyMs).toBeGreaterThan(0);
      expect([['join', replies[0].response], ['push', replies[1].response], ...items(events, 'server', 'new_msg').map((p) => ['new_msg', p.payload])]).toEqual(clientLog);
      expect(findings(events)).toEqual([]);
    } finally {
      await shutdown(wss, http);
    }
  });
});
