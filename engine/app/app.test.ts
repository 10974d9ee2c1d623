import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import type { AppPacket, FindingEvent, MessageEvent } from '../../shared/events';
import { concat } from '../../test/kit/bytes';
import { run, upgradeRequest, upgradeResponse, type Step } from '../../test/kit/session';
import { cf, sf } from '../../test/kit/websocket';
import type { AppOptions } from './decoder';
import { defaultAppRegistry } from './registry';
import { SNIFF_MESSAGES } from './tap';

/** a WebSocket connection: the upgrade (with `protocol` negotiated, at `path`), then `steps` */
function conn(protocol: string, steps: Step[], app?: AppOptions, path = '/chat'): { messages: MessageEvent[]; findings: FindingEvent[] } {
  const hdr = protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : [];
  const r = run([['client', upgradeRequest(hdr, { path })], ['server', upgradeResponse(hdr)], ...steps], app ? { app } : {});
  return { messages: r.messages, findings: r.findings };
}

const apps = (ms: MessageEvent[]): AppPacket[][] => ms.map((m) => m.app ?? []);
const flat = (ms: MessageEvent[]): AppPacket[] => ms.flatMap((m) => m.app ?? []);
const ids = (fs: FindingEvent[]): string[] => fs.map((f) => f.id);
const mq = (p: Packet, v = 4): Uint8Array => new Uint8Array(generate(p, { protocolVersion: v }));

describe('choosing a decoder', () => {
  const rpc = '{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}';

  it('leaves a connection without a known subprotocol, URL or recognisable first messages untouched (no app field)', () => {
    const { messages } = conn('chat', [['client', cf(1, rpc)], ['server', sf(1, '{"jsonrpc":"2.0","result":3,"id":1}')]]);
    // a negotiated subprotocol that is not ours does not stop sniffing: JSON-RPC is recognised
    expect(messages[0].app).toEqual([{ protocol: 'json-rpc', type: 'request', method: 'sum', id: 1 }]);
    const plain = conn('', [['client', cf(1, 'hello')], ['server', sf(1, '{"a":1}')], ['client', cf(2, Uint8Array.of(1, 2, 3))]]);
    expect(plain.messages.map((m) => 'app' in m)).toEqual([false, false, false]);
  });

  it('reads each message\'s own text when payloads are views of one reused buffer (ephemeral payloads)', () => {
    // the sniffers share one decoded text per message (messageText): with ephemeral payloads
    // every message is a view of the same scratch buffer, so a text kept by the buffer's bytes
    // instead of by the message would answer the next message with the previous one's
    const req = (method: string, id: number): string => `{"jsonrpc":"2.0","method":"${method}","params":[],"id":${id}}`;
    const r = run([['client', upgradeRequest([])], ['server', upgradeResponse([])], ['client', cf(1, req('alpha', 1))], ['client', cf(1, req('omega', 2))], ['client', cf(1, req('gamma', 3))]], { ephemeralPayloads: true });
    expect(flat(r.messages).map((a) => (a as { method?: string }).method)).toEqual(['alpha', 'omega', 'gamma']);
  });

  it(`sniffs only the first ${SNIFF_MESSAGES} data messages`, () => {
    const late = conn('', [...Array.from({ length: SNIFF_MESSAGES }, (): Step => ['client', cf(1, 'hi')]), ['client', cf(1, rpc)]]);
    expect(late.messages.map((m) => 'app' in m)).toEqual(Array(SNIFF_MESSAGES + 1).fill(false));
    const early = conn('', [...Array.from({ length: SNIFF_MESSAGES - 1 }, (): Step => ['client', cf(1, 'hi')]), ['client', cf(1, rpc)]]);
    expect(early.messages.map((m) => m.app?.length ?? null)).toEqual([...Array(SNIFF_MESSAGES - 1).fill(null), 1]);
  });

  it('picks by Sec-WebSocket-Protocol, then by URL, and obeys --decode (including none)', () => {
    const ping = sf(1, '2');
    expect(apps(conn('', [['server', ping]], undefined, '/socket.io/?EIO=4&transport=websocket').messages)).toEqual([[{ protocol: 'socket.io', type: 'ping' }]]);
    expect(apps(conn('', [['server', ping]], { decode: { 1: 'socket.io' } }).messages)).toEqual([[{ protocol: 'socket.io', type: 'ping' }]]);
    expect('app' in conn('', [['server', ping]], { decode: { 1: 'none' } }, '/socket.io/?EIO=4').messages[0]).toBe(false);
    expect('app' in conn('', [['server', ping]], { decode: { 2: 'none' } }, '/socket.io/?EIO=4').messages[0]).toBe(true);
    const g = conn('graphql-transport-ws', [['client', cf(1, '{"type":"connection_init"}')], ['server', sf(1, '{"type":"connection_ack"}')], ['client', cf(9, 'hb')], ['server', sf(10, 'hb')]]);
    expect(apps(g.messages)).toEqual([[{ protocol: 'graphql-ws', type: 'connection_init' }], [{ protocol: 'graphql-ws', type: 'connection_ack', requestTs: 3, latencyMs: 1000 }], [], []]);
  });
});

describe('MQTT', () => {
  const connect: Packet = { cmd: 'connect', clientId: 'probe-1', protocolVersion: 4, keepalive: 30, clean: true };
  const connack: Packet = { cmd: 'connack', returnCode: 0, sessionPresent: false };
  const pub1: Packet = { cmd: 'publish', topic: 'sensors/1/temp', payload: Buffer.from('21.5'), qos: 1, messageId: 12, retain: false, dup: false };
  const puback: Packet = { cmd: 'puback', messageId: 12 };
  const client = concat([mq(connect), mq(pub1)]);

  it('decodes packets split into one message per byte: each packet belongs to the message that completes it', () => {
    const steps: Step[] = [...client].map((b): Step => ['client', cf(2, Uint8Array.of(b))]);
    const { messages, findings } = conn('mqtt', [...steps, ['server', sf(2, concat([mq(connack), mq(puback)]))]]);
    const completing = messages.flatMap((m, i) => (m.app && m.app.length ? [[i, m.app.map((p) => p.type)]] : []));
    expect(completing).toEqual([
      [mq(connect).length - 1, ['CONNECT']],
      [client.length - 1, ['PUBLISH']],
      [client.length, ['CONNACK', 'PUBACK']],
    ]);
    expect(flat(messages)).toEqual([
      { protocol: 'mqtt', type: 'CONNECT', clientId: 'probe-1', protocolVersion: 4, keepalive: 30, clean: true },
      { protocol: 'mqtt', type: 'PUBLISH', topic: 'sensors/1/temp', qos: 1, packetId: 12, retain: false, dup: false, payloadLength: 4 },
      { protocol: 'mqtt', type: 'CONNACK', sessionPresent: false, returnCode: 0, requestTs: 3 + mq(connect).length - 1, latencyMs: (client.length - mq(connect).length + 1) * 1000 },
      { protocol: 'mqtt', type: 'PUBACK', packetId: 12, requestTs: 2 + client.length, latencyMs: 1000 },
    ]);
    expect(findings).toEqual([]);
  });

  it('decodes the same packets coalesced and cut at odd places', () => {
    const all = concat([client, mq({ cmd: 'pingreq' })]);
    const want = conn('mqtt', [['client', cf(2, all)]]).messages[0].app?.map((p) => [p.type, p.packetId]);
    expect(want).toEqual([['CONNECT', undefined], ['PUBLISH', 12], ['PINGREQ', undefined]]);
    for (const cut of [1, 5, 7, 13]) {
      const steps: Step[] = [];
      for (let i = 0; i < all.length; i += cut) steps.push(['client', cf(2, all.subarray(i, i + cut))]);
      expect(flat(conn('mqtt', steps).messages).map((p) => [p.type, p.packetId])).toEqual(want);
    }
  });

  it('correlates QoS 2 (PUBLISH -> PUBREC, PUBREL -> PUBCOMP) and SUBSCRIBE -> SUBACK in MQTT 5, both directions', () => {
    const v5connect: Packet = { ...connect, protocolVersion: 5, properties: { sessionExpiryInterval: 10 } } as Packet;
    const steps: Step[] = [
      ['client', cf(2, mq(v5connect, 5))],
      ['server', sf(2, mq({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { topicAliasMaximum: 10 } } as Packet, 5))],
      ['client', cf(2, mq({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#', qos: 2 }] } as Packet, 5))],
      ['server', sf(2, mq({ cmd: 'suback', messageId: 3, granted: [2] } as Packet, 5))],
      ['server', sf(2, mq({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 2, messageId: 7, retain: false, dup: false }, 5))],
      ['client', cf(2, mq({ cmd: 'pubrec', messageId: 7 }, 5))],
      ['server', sf(2, mq({ cmd: 'pubrel', messageId: 7 }, 5))],
      ['client', cf(2, mq({ cmd: 'pubcomp', messageId: 7 }, 5))],
    ];
    const { messages, findings } = conn('mqtt', steps);
    expect(flat(messages).map((p) => [p.type, p.packetId ?? null, p.latencyMs ?? null])).toEqual([
      ['CONNECT', null, null],
      ['CONNACK', null, 1000],
      ['SUBSCRIBE', 3, null],
      ['SUBACK', 3, 1000],
      ['PUBLISH', 7, null],
      ['PUBREC', 7, 1000],
      ['PUBREL', 7, null],
      ['PUBCOMP', 7, 1000],
    ]);
    expect(flat(messages)[2].subscriptions).toEqual([{ topic: 'a/#', qos: 2 }]);
    expect(findings).toEqual([]);
  });

  it('reports a packet that never completes, malformed packets, unknown replies and unanswered requests', () => {
    const pub = mq(pub1);
    const { messages, findings } = conn('mqtt', [
      ['client', cf(2, mq(connect))],
      ['server', sf(2, mq({ cmd: 'puback', messageId: 99 }))],
      // reserved packet type 0 / a PUBREL with wrong fixed-header flags: malformed
      ['server', sf(2, Uint8Array.of(0x60, 0x02, 0x00, 0x01))],
      ['client', cf(1, 'not binary')],
      ['client', cf(2, pub.subarray(0, pub.length - 2))],
    ]);
    expect(flat(messages).map((p) => p.type)).toEqual(['CONNECT', 'PUBACK']);
    expect(ids(findings)).toEqual(['subprotocol-unknown-reply', 'subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-incomplete', 'subprotocol-unanswered']);
    expect(findings[3].text).toBe(`${pub.length - 2 - 2} bytes of an MQTT PUBLISH packet never completed.`);
    expect(findings[4].text).toContain('MQTT "CONNECT"');
  });

  it('bounds what a packet that does not complete may hold', () => {
    const head = Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f); // PUBLISH of 268,435,455 bytes
    const { findings } = conn('mqtt', [['client', cf(2, head)], ['client', cf(2, new Uint8Array(600))], ['client', cf(2, new Uint8Array(600))]], { limits: { maxStreamBytes: 1000 } });
    expect(ids(findings)).toEqual(['limit-reached']);
    expect(findings[0].text).toContain('1200 bytes buffered');
  });
});

describe('Socket.IO', () => {
  const eio = (steps: Step[]): ReturnType<typeof conn> => conn('', steps, undefined, '/socket.io/?EIO=4&transport=websocket');

  it('decodes Engine.IO and Socket.IO packets: namespaces, events, acks with latency, errors', () => {
    const { messages, findings } = eio([
      ['server', sf(1, '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')],
      ['client', cf(1, '40/admin,{"token":"t"}')],
      ['server', sf(1, '40/admin,{"sid":"xyz"}')],
      ['client', cf(1, '42/admin,17["chat","hi",{"n":1}]')],
      ['server', sf(1, '43/admin,17[{"ok":true}]')],
      ['server', sf(1, '44{"message":"not authorized"}')],
      ['server', sf(1, '2')],
      ['client', cf(1, '3')],
      ['client', cf(1, '41/admin,')],
    ]);
    expect(flat(messages)).toEqual([
      { protocol: 'socket.io', type: 'open', sid: 'abc' },
      { protocol: 'socket.io', type: 'CONNECT', nsp: '/admin', data: { token: 't' } },
      { protocol: 'socket.io', type: 'CONNECT', nsp: '/admin', sid: 'xyz' },
      { protocol: 'socket.io', type: 'EVENT', nsp: '/admin', ackId: 17, event: 'chat', args: ['hi', { n: 1 }] },
      { protocol: 'socket.io', type: 'ACK', nsp: '/admin', ackId: 17, args: [{ ok: true }], requestTs: 6, latencyMs: 1000 },
      { protocol: 'socket.io', type: 'CONNECT_ERROR', nsp: '/', message: 'not authorized', data: { message: 'not authorized' } },
      { protocol: 'socket.io', type: 'ping' },
      { protocol: 'socket.io', type: 'pong' },
      { protocol: 'socket.io', type: 'DISCONNECT', nsp: '/admin' },
    ]);
    expect(findings).toEqual([]);
  });

  it('joins binary attachments to their placeholder packet, which completes with the last one', () => {
    const { messages, findings } = eio([
      ['client', cf(1, '452-3["upload",{"_placeholder":true,"num":0},"name",{"b":{"_placeholder":true,"num":1}}]')],
      ['client', cf(2, Uint8Array.of(1, 2, 3))],
      ['client', cf(2, new Uint8Array(10))],
      ['server', sf(1, '433["done"]')],
    ]);
    expect(apps(messages)).toEqual([
      [],
      [{ protocol: 'socket.io', type: 'attachment', num: 0, length: 3 }],
      [
        { protocol: 'socket.io', type: 'attachment', num: 1, length: 10 },
        { protocol: 'socket.io', type: 'BINARY_EVENT', nsp: '/', ackId: 3, attachments: 2, event: 'upload', args: [{ $binary: 3 }, 'name', { b: { $binary: 10 } }] },
      ],
      [{ protocol: 'socket.io', type: 'ACK', nsp: '/', ackId: 3, args: ['done'], requestTs: 5, latencyMs: 1000 }],
    ]);
    expect(findings).toEqual([]);
  });

  it('flags malformed packets, a stray attachment, a packet left without its attachments and acks never given', () => {
    const { messages, findings } = eio([
      ['client', cf(1, '9')],
      ['client', cf(1, '42["chat",')],
      ['client', cf(1, '42{"not":"an array"}')],
      ['client', cf(2, Uint8Array.of(1))],
      ['client', cf(1, '421["ask"]')],
      ['client', cf(1, '451-["up",{"_placeholder":true,"num":0}]')],
    ]);
    expect(flat(messages).map((p) => p.type)).toEqual(['attachment', 'EVENT']);
    expect(ids(findings)).toEqual(['subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-incomplete', 'subprotocol-unanswered']);
  });
});

describe('JSON-RPC 2.0', () => {
  it('decodes requests, notifications, responses, errors and batches, and correlates by id', () => {
    const { messages, findings } = conn('', [
      ['client', cf(1, '{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":"a"}')],
      ['client', cf(1, '[{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"notify_hello","params":[7]},{"jsonrpc":"2.0","method":"nope","id":2}]')],
      ['server', sf(1, '{"jsonrpc":"2.0","result":19,"id":"a"}')],
      ['server', sf(1, '[{"jsonrpc":"2.0","result":3,"id":1},{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":2}]')],
      ['server', sf(1, '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}')],
    ]);
    expect(flat(messages)).toEqual([
      { protocol: 'json-rpc', type: 'request', method: 'subtract', id: 'a' },
      { protocol: 'json-rpc', type: 'request', batch: true, method: 'sum', id: 1 },
      { protocol: 'json-rpc', type: 'notification', batch: true, method: 'notify_hello' },
      { protocol: 'json-rpc', type: 'request', batch: true, method: 'nope', id: 2 },
      { protocol: 'json-rpc', type: 'response', id: 'a', method: 'subtract', requestTs: 3, latencyMs: 2000 },
      { protocol: 'json-rpc', type: 'response', batch: true, id: 1, method: 'sum', requestTs: 4, latencyMs: 2000 },
      { protocol: 'json-rpc', type: 'error', batch: true, id: 2, code: -32601, message: 'Method not found', method: 'nope', requestTs: 4, latencyMs: 2000 },
      { protocol: 'json-rpc', type: 'error', id: null, code: -32700, message: 'Parse error' },
    ]);
    expect(findings).toEqual([]);
  });

  it('does not call a reply unknown when the decoder did not see the conversation from its start', () => {
    // no handshake captured (frames decoded by Decode As): the requests may predate the capture
    const r = run([['server', sf(1, '{"jsonrpc":"2.0","result":1,"id":1}')], ['client', cf(1, '{"jsonrpc":"2.0","method":"m","id":2}')], ['server', sf(1, '{"jsonrpc":"2.0","result":2,"id":2}')]], { assumeWebSocket: true });
    expect(flat(r.messages).map((p) => [p.type, p.latencyMs ?? null])).toEqual([
      ['response', null],
      ['request', null],
      ['response', 1000],
    ]);
    expect(ids(r.findings)).toEqual(['no-handshake']);
    // sniffing decided on the second message: the first went by undecoded
    const late = conn('', [['client', cf(1, 'hello')], ['server', sf(1, '{"jsonrpc":"2.0","result":1,"id":1}')]]);
    expect(flat(late.messages).map((p) => p.type)).toEqual(['response']);
    expect(late.findings).toEqual([]);
  });

  it('flags invalid messages, duplicate ids, replies to unknown ids and requests never answered', () => {
    const { messages, findings } = conn('jsonrpc', [
      ['client', cf(1, '{"jsonrpc":"2.0","method":"a","id":5}')],
      ['client', cf(1, '{"jsonrpc":"2.0","method":"b","id":5}')],
      ['client', cf(1, '[]')],
      ['client', cf(1, '{"jsonrpc":"1.0","method":"c","id":6}')],
      ['client', cf(1, '{"jsonrpc":"2.0","id":7}')],
      ['client', cf(1, 'not json')],
      ['server', sf(1, '{"jsonrpc":"2.0","result":1,"id":99}')],
    ]);
    expect(flat(messages).map((p) => p.type)).toEqual(['request', 'request', 'invalid', 'invalid', 'invalid', 'invalid', 'response']);
    expect(ids(findings)).toEqual(['subprotocol-duplicate-id', ...Array(4).fill('subprotocol-malformed'), 'subprotocol-unknown-reply', 'subprotocol-unanswered']);
    expect(findings[6].text).toContain('JSON-RPC request "b" (id 5');
  });

  it('bounds the requests it waits for', () => {
    const steps: Step[] = Array.from({ length: 5 }, (_, i): Step => ['client', cf(1, `{"jsonrpc":"2.0","method":"m","id":${i}}`)]);
    const { findings } = conn('jsonrpc', [...steps, ['server', sf(1, '{"jsonrpc":"2.0","result":0,"id":0}')]], { limits: { maxPending: 3 } });
    expect(ids(findings)).toEqual(['limit-reached', 'subprotocol-unknown-reply', 'subprotocol-unanswered', 'subprotocol-unanswered', 'subprotocol-unanswered']);
  });
});

describe('GraphQL over WebSocket', () => {
  it('names operations from the query and follows subscribe -> next* -> complete (graphql-transport-ws)', () => {
    const q = JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '# a comment: query Fake\nsubscription Countdown($from: Int!) { countdown(from: $from) }', variables: { from: 2 } } });
    const { messages, findings } = conn('graphql-transport-ws', [
      ['client', cf(1, q)],
      ['server', sf(1, '{"id":"1","type":"next","payload":{"data":{"countdown":2}}}')],
      ['server', sf(1, '{"id":"1","type":"next","payload":{"data":{"countdown":1}}}')],
      ['server', sf(1, '{"id":"1","type":"complete"}')],
      ['client', cf(1, '{"id":"2","type":"subscribe","payload":{"query":"{ hello }"}}')],
      ['server', sf(1, '{"id":"2","type":"error","payload":[{"message":"boom"}]}')],
      ['client', cf(1, '{"id":"3","type":"subscribe","payload":{"operationName":"B","query":"query A { a } query B { b }"}}')],
      ['client', cf(1, '{"id":"3","type":"complete"}')],
    ]);
    expect(flat(messages)).toEqual([
      { protocol: 'graphql-ws', type: 'subscribe', id: '1', operationName: 'Countdown', operationType: 'subscription' },
      { protocol: 'graphql-ws', type: 'next', id: '1', operationName: 'Countdown', requestTs: 3, latencyMs: 1000 },
      { protocol: 'graphql-ws', type: 'next', id: '1', operationName: 'Countdown', requestTs: 3, latencyMs: 2000 },
      { protocol: 'graphql-ws', type: 'complete', id: '1', operationName: 'Countdown', requestTs: 3, latencyMs: 3000 },
      { protocol: 'graphql-ws', type: 'subscribe', id: '2', operationType: 'query' },
      { protocol: 'graphql-ws', type: 'error', id: '2', requestTs: 7, latencyMs: 1000 },
      { protocol: 'graphql-ws', type: 'subscribe', id: '3', operationName: 'B', operationType: 'query' },
      { protocol: 'graphql-ws', type: 'complete', id: '3', operationName: 'B' },
    ]);
    expect(findings).toEqual([]);
  });

  it('decodes the legacy graphql-ws protocol and flags what is wrong', () => {
    const { messages, findings } = conn('graphql-ws', [
      ['client', cf(1, '{"type":"connection_init","payload":{}}')],
      ['server', sf(1, '{"type":"connection_ack"}')],
      ['server', sf(1, '{"type":"ka"}')],
      ['client', cf(1, '{"id":"1","type":"start","payload":{"query":"query Q { a }"}}')],
      ['client', cf(1, '{"id":"1","type":"start","payload":{"query":"query Q { a }"}}')],
      ['server', sf(1, '{"id":"9","type":"data","payload":{"data":{}}}')],
      ['server', sf(1, '{"type":"next"}')],
      ['server', sf(1, '{"type":"bogus"}')],
      ['client', cf(1, '[1]')],
      ['client', cf(1, '{"id":"2","type":"start","payload":{"query":"mutation M { m }"}}')],
    ]);
    expect(flat(messages).map((p) => [p.type, p.operationName ?? null])).toEqual([
      ['connection_init', null],
      ['connection_ack', null],
      ['ka', null],
      ['start', 'Q'],
      ['start', 'Q'],
      ['data', null],
      ['next', null],
      ['bogus', null],
      ['start', 'M'],
    ]);
    expect(ids(findings)).toEqual(['subprotocol-duplicate-id', 'subprotocol-unknown-reply', 'subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-unanswered', 'subprotocol-unanswered']);
  });
});

describe('STOMP', () => {
  it('decodes frames split over messages and coalesced in one, heart-beats, 1.2 header escapes, receipts', () => {
    const send = 'SEND\ndestination:/queue/a\ncontent-type:text/plain\ncontent-length:5\nreceipt:r1\nx-note:a\\cb\\nc\n\nhe\u0000lo\u0000\n';
    const { messages, findings } = conn('v12.stomp', [
      ['client', cf(1, 'CONNECT\naccept-version:1.2\nhost:h\nlogin:u\npasscode:secret\n\n\u0000')],
      ['server', sf(1, 'CONNECTED\r\nversion:1.2\r\nheart-beat:0,0\r\n\r\n\u0000')],
      ['client', cf(1, send.slice(0, 20))],
      ['client', cf(1, send.slice(20))],
      ['server', sf(1, 'RECEIPT\nreceipt-id:r1\n\n\u0000MESSAGE\nsubscription:0\nmessage-id:7\ndestination:/queue/a\n\nhi\u0000')],
      ['client', cf(1, '\n')],
    ]);
    expect(apps(messages)).toEqual([
      [{ protocol: 'stomp', type: 'CONNECT', headers: { 'accept-version': '1.2', host: 'h', login: 'u' }, bodyLength: 0 }],
      [{ protocol: 'stomp', type: 'CONNECTED', headers: { version: '1.2', 'heart-beat': '0,0' }, bodyLength: 0, requestTs: 3, latencyMs: 1000 }],
      [],
      [{ protocol: 'stomp', type: 'SEND', destination: '/queue/a', headers: { destination: '/queue/a', 'content-type': 'text/plain', 'content-length': '5', receipt: 'r1', 'x-note': 'a:b\nc' }, bodyLength: 5 }, { protocol: 'stomp', type: 'HEARTBEAT' }],
      [
        { protocol: 'stomp', type: 'RECEIPT', headers: { 'receipt-id': 'r1' }, bodyLength: 0, requestTs: 6, latencyMs: 1000 },
        { protocol: 'stomp', type: 'MESSAGE', destination: '/queue/a', headers: { subscription: '0', 'message-id': '7', destination: '/queue/a' }, bodyLength: 2 },
      ],
      [{ protocol: 'stomp', type: 'HEARTBEAT' }],
    ]);
    expect(findings).toEqual([]);
  });

  it('flags unknown commands, bad content-length, frames never completed and receipts never given', () => {
    const { findings } = conn('v12.stomp', [
      ['client', cf(1, 'HELLO\n\n\u0000')],
      ['client', cf(1, 'SEND\ncontent-length:x\n\n\u0000')],
      ['client', cf(1, 'SUBSCRIBE\nid:0\ndestination:/t\nreceipt:77\n\n\u0000')],
      ['client', cf(1, 'SEND\ndestination:/t\n\nno end')],
    ]);
    expect(ids(findings)).toEqual(['subprotocol-malformed', 'subprotocol-malformed', 'subprotocol-incomplete', 'subprotocol-unanswered']);
  });
});

describe('SignalR (JSON hub protocol)', () => {
  it('decodes the handshake and records cut at 0x1e across messages, and correlates invocations with their completions', () => {
    const rs = '\u001e';
    const { messages, findings } = conn('', [
      ['client', cf(1, `{"protocol":"json","version":1}${rs}`)],
      ['server', sf(1, `{}${rs}{"type":6}${rs}`)],
      ['client', cf(1, `{"type":1,"invocationId":"0","target":"add","arguments":[2,3]}${rs}{"type":4,"invocationId":"1","tar`)],
      ['client', cf(1, `get":"count","arguments":[2]}${rs}`)],
      ['server', sf(1, `{"type":3,"invocationId":"0","result":5}${rs}{"type":2,"invocationId":"1","item":1}${rs}`)],
      ['server', sf(1, `{"type":3,"invocationId":"1"}${rs}{"type":3,"invocationId":"7","error":"x"}${rs}{"type":99}${rs}`)],
      ['client', cf(1, `{"type":1,"invocationId":"2","target":"late","arguments":[]}${rs}{"type":1,"target":"tail`)],
    ]);
    expect(flat(messages).map((p) => [p.type, p.target ?? null, p.invocationId ?? null, p.latencyMs ?? null])).toEqual([
      ['HandshakeRequest', null, null, null],
      ['HandshakeResponse', null, null, 1000],
      ['Ping', null, null, null],
      ['Invocation', 'add', '0', null],
      ['StreamInvocation', 'count', '1', null],
      ['Completion', 'add', '0', 2000],
      ['StreamItem', 'count', '1', 1000],
      ['Completion', 'count', '1', 2000],
      ['Completion', null, '7', null],
      ['Invocation', 'late', '2', null],
    ]);
    expect(flat(messages)[0]).toEqual({ protocol: 'signalr', type: 'HandshakeRequest', hubProtocol: 'json', version: 1 });
    expect(ids(findings)).toEqual(['subprotocol-unknown-reply', 'subprotocol-malformed', 'subprotocol-incomplete', 'subprotocol-unanswered']);
  });
});

describe('Phoenix Channels', () => {
  it('decodes both serializers (2.0.0 arrays and binary, 1.0.0 objects) and matches replies to pushes by topic and ref', () => {
    const bin = concat([Uint8Array.of(2, 10, 3), new TextEncoder().encode('room:lobbyimg'), Uint8Array.of(9, 9, 9)]);
    const { messages, findings } = conn('', [
      ['client', cf(1, '["1","1","room:lobby","phx_join",{"token":"t"}]')],
      ['server', sf(1, '["1","1","room:lobby","phx_reply",{"status":"ok","response":{}}]')],
      ['client', cf(1, '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}')],
      ['server', sf(1, '{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"2"}')],
      ['server', sf(2, bin)],
      ['client', cf(1, '["1","3","room:lobby","new_msg",{"body":"hi"}]')],
      ['server', sf(1, '["1","9","room:lobby","phx_reply",{"status":"ok","response":{}}]')],
      ['client', cf(1, '"what"')],
    ], undefined, '/socket/websocket?token=x&vsn=2.0.0');
    expect(flat(messages)).toEqual([
      { protocol: 'phoenix', type: 'phx_join', topic: 'room:lobby', ref: '1', joinRef: '1', payload: { token: 't' } },
      { protocol: 'phoenix', type: 'phx_reply', topic: 'room:lobby', ref: '1', joinRef: '1', status: 'ok', response: {}, requestTs: 3, latencyMs: 1000 },
      { protocol: 'phoenix', type: 'heartbeat', topic: 'phoenix', ref: '2', payload: {} },
      { protocol: 'phoenix', type: 'phx_reply', topic: 'phoenix', ref: '2', status: 'ok', response: {}, requestTs: 5, latencyMs: 1000 },
      { protocol: 'phoenix', type: 'img', topic: 'room:lobby', payloadLength: 3 },
      { protocol: 'phoenix', type: 'new_msg', topic: 'room:lobby', ref: '3', joinRef: '1', payload: { body: 'hi' } },
      { protocol: 'phoenix', type: 'phx_reply', topic: 'room:lobby', ref: '9', joinRef: '1', status: 'ok', response: {} },
    ]);
    expect(ids(findings)).toEqual(['subprotocol-unknown-reply', 'subprotocol-malformed', 'subprotocol-unanswered']);
  });
});

describe('WAMP (wamp.2.json)', () => {
  it('decodes sessions, calls, registrations and pub/sub, and matches replies by request id and type', () => {
    const { messages, findings } = conn('wamp.2.json', [
      ['client', cf(1, '[1,"realm1",{"roles":{"caller":{},"subscriber":{}}}]')],
      ['server', sf(1, '[2,9129137332,{"roles":{"broker":{}}}]')],
      ['client', cf(1, '[48,7814135,{},"com.myapp.add",[23,7]]')],
      ['server', sf(1, '[50,7814135,{},[30]]')],
      ['client', cf(1, '[32,713845233,{},"com.myapp.topic1"]')],
      ['server', sf(1, '[33,713845233,5512315355]')],
      ['client', cf(1, '[16,239714735,{"acknowledge":true},"com.myapp.topic1",["Hello"]]')],
      ['server', sf(1, '[17,239714735,4429313566]')],
      ['server', sf(1, '[36,5512315355,4429313566,{},["Hello"]]')],
      ['client', cf(1, '[48,7814136,{},"com.myapp.nope",[]]')],
      ['server', sf(1, '[8,48,7814136,{},"wamp.error.no_such_procedure"]')],
      ['client', cf(1, '[16,5,{},"t",[]]')],
      ['client', cf(1, '[99]')],
    ]);
    expect(flat(messages).map((p) => [p.type, p.requestId ?? null, p.latencyMs ?? null, p.request ?? null])).toEqual([
      ['HELLO', null, null, null],
      ['WELCOME', null, 1000, null],
      ['CALL', 7814135, null, null],
      ['RESULT', 7814135, 1000, 'CALL com.myapp.add'],
      ['SUBSCRIBE', 713845233, null, null],
      ['SUBSCRIBED', 713845233, 1000, 'SUBSCRIBE com.myapp.topic1'],
      ['PUBLISH', 239714735, null, null],
      ['PUBLISHED', 239714735, 1000, 'PUBLISH com.myapp.topic1'],
      ['EVENT', null, null, null],
      ['CALL', 7814136, null, null],
      ['ERROR', 7814136, 1000, 'CALL com.myapp.nope'],
      ['PUBLISH', 5, null, null],
    ]);
    expect(flat(messages)[3].args).toEqual([30]);
    expect(ids(findings)).toEqual(['subprotocol-malformed']);
  });
});

describe('Action Cable', () => {
  it('decodes commands, server messages and broadcasts, and matches subscribe to its confirmation', () => {
    const ident = JSON.stringify({ channel: 'ChatChannel', room: 'lobby' });
    const { messages, findings } = conn('', [
      ['server', sf(1, '{"type":"welcome"}')],
      ['client', cf(1, JSON.stringify({ command: 'subscribe', identifier: ident }))],
      ['server', sf(1, JSON.stringify({ identifier: ident, type: 'confirm_subscription' }))],
      ['client', cf(1, JSON.stringify({ command: 'message', identifier: ident, data: JSON.stringify({ action: 'speak', body: 'hi' }) }))],
      ['server', sf(1, JSON.stringify({ identifier: ident, message: { body: 'hi' } }))],
      ['server', sf(1, '{"type":"ping","message":1700000000}')],
      ['client', cf(1, '{"nope":1}')],
    ]);
    expect(flat(messages).map((p) => [p.type, p.channel ?? null, p.action ?? null, p.latencyMs ?? null])).toEqual([
      ['welcome', null, null, null],
      ['subscribe', 'ChatChannel', null, null],
      ['confirm_subscription', 'ChatChannel', null, 1000],
      ['message', 'ChatChannel', 'speak', null],
      ['message', 'ChatChannel', null, null],
      ['ping', null, null, null],
    ]);
    expect(flat(messages)[4].message).toEqual({ body: 'hi' });
    expect(ids(findings)).toEqual(['subprotocol-malformed']);
  });
});

describe('every decoder on hostile input', () => {
  it('never throws, whatever the messages, and keeps its items well-formed', () => {
    const protocols = defaultAppRegistry.list().map((p) => p.id);
    const msg = fc.oneof(
      fc.string({ maxLength: 60 }).map((t) => [1, t] as const),
      fc.constantFrom('0{"sid":1}', '451-["a",{"_placeholder":true,"num":9}]', '{"jsonrpc":"2.0","id":{}}', '{"type":"next","id":"1"}', 'SEND\ncontent-length:99\n\n\u0000', '[{"jsonrpc":"2.0"}]', '{"__proto__":{"x":1}}').map((t) => [1, t] as const),
      fc.uint8Array({ maxLength: 40 }).map((b) => [2, b] as const),
    );
    fc.assert(
      fc.property(fc.constantFrom(...protocols), fc.array(fc.tuple(fc.boolean(), msg), { maxLength: 12 }), (proto, list) => {
        const steps = list.map(([client, [op, payload]]): Step => (client ? ['client', cf(op, payload)] : ['server', sf(op, payload)]));
        const { messages } = conn('', steps, { decode: { 1: proto } });
        for (const p of flat(messages)) {
          expect(p.protocol).toBe(proto);
          expect(typeof p.type).toBe('string');
          expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
        }
      }),
      { numRuns: 300, seed: 14 },
    );
  });
});
