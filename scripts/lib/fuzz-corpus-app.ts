/**
 * Corpus cases for the subprotocol decoders (engine/app/): for each one a WebSocket
 * conversation that selects the decoder the way real peers do (the negotiated
 * Sec-WebSocket-Protocol, the URL, or its opening message) and then sends well-formed packets
 * around malformed ones. The decoder must report `subprotocol-malformed` (or
 * `subprotocol-incomplete` for a packet cut at the end), keep decoding what follows, and
 * never fail the connection (`decoder-error` is forbidden). Appended to scripts/lib/fuzz-corpus.ts
 * CASES; the fuzzer mutates these captures too, and its app shape (./fuzz-app.ts) mutates the
 * messages of these conversations inside valid WebSocket framing.
 */
import type { FindingId } from '../../shared/findings';
import { Conv, type Bytes } from '../../test/kit/capture';
import { cf, sf, type HandshakeOpts, type ResponseOpts } from '../../test/kit/websocket';
import type { CorpusCase } from './fuzz-corpus';
import type { Golden } from './fuzz-golden';

export type Msg = ['c' | 's', number, string | Bytes];

/** A conversation: the handshake that selects a decoder, then its messages (scripts/lib/fuzz-app.ts mutates them). */
export interface AppTemplate {
  name: string;
  req: HandshakeOpts;
  res: ResponseOpts;
  msgs: Msg[];
}

export const APP_TEMPLATES: AppTemplate[] = [];

export function conversation(req: HandshakeOpts, res: ResponseOpts, msgs: readonly Msg[]): Bytes {
  const c = new Conv().upgrade(req, res);
  for (const [who, op, data] of msgs) c.send(who, who === 'c' ? cf(op, data) : sf(op, data));
  c.close();
  return c.pcap();
}

/** Complaint unless `n` messages decoded (the malformed ones included: decoding went on). */
const messages = (n: number) => (g: Golden) => (g.summary?.messages === n ? null : `expected ${n} messages, got ${g.summary?.messages}`);

function appCase(name: string, checks: string, expect: FindingId[], req: HandshakeOpts, res: ResponseOpts, msgs: Msg[]): CorpusCase {
  APP_TEMPLATES.push({ name, req, res, msgs });
  return {
    name: `app-${name}`,
    ext: 'pcap',
    checks,
    expect,
    absent: ['decoder-error'],
    check: messages(msgs.length),
    build: () => conversation(req, res, msgs),
  };
}

const RS = '\x1e';
const bytes = (...b: number[]): Bytes => Uint8Array.from(b);

/** An HTTP/1.1 request or response with a Content-Length body (Engine.IO long-polling). */
function http1(head: string, body: string): Bytes {
  const b = Buffer.from(body, 'utf8');
  return Uint8Array.from(Buffer.concat([Buffer.from(`${head}\r\nContent-Length: ${b.length}\r\n\r\n`), b]));
}

/** Engine.IO long-polling with malformed payloads between good ones (engine/http/polling.ts). */
function pollingCase(): CorpusCase {
  const url = '/socket.io/?EIO=4&transport=polling';
  return {
    name: 'app-socketio-polling-malformed',
    ext: 'pcap',
    checks: 'Engine.IO long-polling over HTTP/1.1: a POST whose payload holds a bad `b` base64 record and an unknown packet type between good packets, an answer that says gzip but is not, a v3 payload with a broken length prefix, then a good answer',
    expect: ['subprotocol-malformed', 'decompression-failed'],
    absent: ['decoder-error'],
    build: () => {
      const c = new Conv().open();
      c.send('c', http1(`GET ${url}&t=1 HTTP/1.1\r\nHost: 127.0.0.1:8080`, ''));
      c.send('s', http1('HTTP/1.1 200 OK', '0{"sid":"P1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}'));
      c.send('c', http1(`POST ${url}&sid=P1 HTTP/1.1\r\nHost: 127.0.0.1:8080`, `40${RS}b%%%${RS}9x${RS}42["chat","hi"]`), 7);
      c.send('s', http1('HTTP/1.1 200 OK', 'ok'));
      c.send('c', http1(`GET ${url}&sid=P1 HTTP/1.1\r\nHost: 127.0.0.1:8080`, ''));
      c.send('s', http1('HTTP/1.1 200 OK\r\nContent-Encoding: gzip', '40{"sid":"x"}'));
      c.send('c', http1(`GET /socket.io/?EIO=3&transport=polling&sid=P1 HTTP/1.1\r\nHost: 127.0.0.1:8080`, ''));
      c.send('s', http1('HTTP/1.1 200 OK', '99:42["a"]'));
      c.send('c', http1(`GET ${url}&sid=P1 HTTP/1.1\r\nHost: 127.0.0.1:8080`, ''));
      c.send('s', http1('HTTP/1.1 200 OK', `42["welcome"]${RS}2`));
      c.close();
      return c.pcap();
    },
  };
}

/** A v3 binary payload record (engine.io-parser 2.x encodePayloadAsBinary): kind, the length's decimal digits as bytes, 0xff, the packet. */
function v3Record(kind: 0 | 1, packet: Bytes | string, digits = String(typeof packet === 'string' ? Buffer.byteLength(packet) : packet.length)): Buffer {
  return Buffer.concat([Uint8Array.from([kind, ...[...digits].map(Number), 0xff]), typeof packet === 'string' ? Buffer.from(packet) : packet]);
}

/** Engine.IO v3 long-polling (socket.io 2): malformed `<length>:` text and binary payloads between good ones. */
function pollingV3Case(): CorpusCase {
  const url = '/socket.io/?EIO=3&transport=polling';
  const bin = (head: string, body: Buffer): Bytes => Uint8Array.from(Buffer.concat([Buffer.from(`${head}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  return {
    name: 'app-socketio-polling-v3-malformed',
    ext: 'pcap',
    checks: 'Engine.IO v3 long-polling: text payloads with a length past the end, a non-digit length and a `b` record that is not base64; binary payloads with a length digit over 9, a record with no 0xff, a length past the end and an empty binary record; good packets before each and a good binary BINARY_EVENT after',
    expect: ['subprotocol-malformed'],
    absent: ['decoder-error'],
    build: () => {
      const c = new Conv().open();
      const get = (): unknown => c.send('c', http1(`GET ${url}&sid=V3 HTTP/1.1\r\nHost: 127.0.0.1:8080`, ''));
      c.send('c', http1(`GET ${url}&t=1 HTTP/1.1\r\nHost: 127.0.0.1:8080`, ''));
      const open = '0{"sid":"V3","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}';
      c.send('s', http1('HTTP/1.1 200 OK', `${open.length}:${open}2:40`));
      get();
      c.send('s', http1('HTTP/1.1 200 OK', '11:42["a","b"]9:42["c"]'));
      get();
      c.send('s', http1('HTTP/1.1 200 OK', '1:2x:42["d"]'));
      get();
      c.send('s', http1('HTTP/1.1 200 OK', '1:36:b4%%%%'));
      c.send('c', bin(`POST ${url}&sid=V3 HTTP/1.1\r\nHost: 127.0.0.1:8080`, Buffer.concat([v3Record(0, '42["e"]'), Buffer.from([0, 1, 10, 0xff, 0x34])])));
      c.send('s', http1('HTTP/1.1 200 OK', 'ok'));
      c.send('c', bin(`POST ${url}&sid=V3 HTTP/1.1\r\nHost: 127.0.0.1:8080`, Buffer.concat([v3Record(0, '2'), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2])])));
      c.send('s', http1('HTTP/1.1 200 OK', 'ok'));
      get();
      c.send('s', bin('HTTP/1.1 200 OK', Buffer.concat([v3Record(0, '3'), v3Record(1, Uint8Array.of(4, 1, 2), '9')])));
      get();
      c.send('s', bin('HTTP/1.1 200 OK', Buffer.concat([v3Record(1, new Uint8Array(0)), v3Record(0, '451-["f",{"_placeholder":true,"num":0}]'), v3Record(1, Uint8Array.of(4, 7, 7))])));
      c.close();
      return c.pcap();
    },
  };
}

export const APP_CASES: CorpusCase[] = [
  appCase('socketio-malformed', 'Socket.IO (chosen by the EIO= URL): an unknown Engine.IO type, an event whose arguments are not JSON, then a good event', ['subprotocol-malformed'], { path: '/socket.io/?EIO=4&transport=websocket' }, {}, [
    ['s', 1, '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'],
    ['c', 1, '40'],
    ['c', 1, '9zzz'],
    ['c', 1, '42["chat",{broken'],
    ['c', 1, '42["chat","fine"]'],
  ]),
  appCase('mqtt-malformed-and-cut', 'MQTT (subprotocol mqtt): a packet of reserved type 0, then a PUBLISH cut off by the end of the connection', ['subprotocol-malformed', 'subprotocol-incomplete'], { protocols: 'mqtt' }, { protocol: 'mqtt' }, [
    // CONNECT, MQTT 3.1.1, client id "a" (MQTT 3.1.1 section 3.1)
    ['c', 2, bytes(0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61)],
    ['s', 2, bytes(0x20, 0x02, 0x00, 0x00)],
    ['c', 2, bytes(0x00, 0x00)],
    // PUBLISH declaring 100 bytes, 3 sent
    ['c', 2, bytes(0x30, 0x64, 0x00, 0x01)],
  ]),
  appCase('stomp-malformed-and-cut', 'STOMP (subprotocol v12.stomp): an unknown command, a header line without a colon, then a good SEND and one whose NUL never comes', ['subprotocol-malformed', 'subprotocol-incomplete'], { protocols: 'v12.stomp' }, { protocol: 'v12.stomp' }, [
    ['c', 1, 'CONNECT\naccept-version:1.2\nhost:x\n\n\0'],
    ['s', 1, 'CONNECTED\nversion:1.2\n\n\0'],
    ['c', 1, 'FLY\n\n\0'],
    ['c', 1, 'SEND\nthis header has no colon\n\nbody\0'],
    ['c', 1, 'SEND\ndestination:/q\n\nok\0'],
    ['c', 1, 'SEND\ndestination:/q\n\nno terminator'],
  ]),
  appCase('graphql-ws-malformed', 'GraphQL over WebSocket (graphql-transport-ws): a message that is not JSON, one without a type, a subscribe without an id', ['subprotocol-malformed'], { protocols: 'graphql-transport-ws' }, { protocol: 'graphql-transport-ws' }, [
    ['c', 1, '{"type":"connection_init"}'],
    ['s', 1, '{"type":"connection_ack"}'],
    ['c', 1, '{"type":"subscribe","id":"1",'],
    ['c', 1, '{"id":"1"}'],
    ['c', 1, '{"type":"subscribe","payload":{"query":"subscription S { s }"}}'],
  ]),
  appCase('jsonrpc-malformed', 'JSON-RPC 2.0 (subprotocol jsonrpc): bad JSON, a wrong version, an empty batch, then a good call', ['subprotocol-malformed'], { protocols: 'jsonrpc' }, { protocol: 'jsonrpc' }, [
    ['c', 1, '{"jsonrpc":"2.0","method":"a","id":1'],
    ['c', 1, '{"jsonrpc":"1.0","method":"a","id":2}'],
    ['c', 1, '[]'],
    ['c', 1, '{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":3}'],
    ['s', 1, '{"jsonrpc":"2.0","result":3,"id":3}'],
  ]),
  appCase('signalr-malformed', 'SignalR JSON hub protocol (its handshake): a record that is not JSON, a message of an unknown type', ['subprotocol-malformed'], {}, {}, [
    ['c', 1, `{"protocol":"json","version":1}${RS}`],
    ['s', 1, `{}${RS}`],
    ['c', 1, `{"type":1,"target":"Send",${RS}`],
    ['c', 1, `{"type":99}${RS}`],
    ['c', 1, `{"type":1,"invocationId":"1","target":"Send","arguments":["hi"]}${RS}`],
  ]),
  appCase('phoenix-malformed', 'Phoenix Channels v2 (chosen by the vsn= URL): a message that is not an array of five, one that is not JSON', ['subprotocol-malformed'], { path: '/socket/websocket?vsn=2.0.0' }, {}, [
    ['c', 1, '["1","1","room:lobby","phx_join",{}]'],
    ['s', 1, '["1","1","room:lobby","phx_reply",{"status":"ok","response":{}}]'],
    ['c', 1, '["1","2","room:lobby"]'],
    ['c', 1, '["1","3",'],
  ]),
  appCase('wamp-malformed', 'WAMP (subprotocol wamp.2.json): a message that is not an array, an unknown message code', ['subprotocol-malformed'], { protocols: 'wamp.2.json' }, { protocol: 'wamp.2.json' }, [
    ['c', 1, '[1,"realm1",{"roles":{"caller":{}}}]'],
    ['s', 1, '[2,1,{"roles":{"dealer":{}}}]'],
    ['c', 1, '{"not":"an array"}'],
    ['c', 1, '[999,1]'],
  ]),
  appCase('actioncable-malformed', 'Action Cable (subprotocol actioncable-v1-json): a command that is not JSON, one without a command', ['subprotocol-malformed'], { protocols: 'actioncable-v1-json' }, { protocol: 'actioncable-v1-json' }, [
    ['s', 1, '{"type":"welcome"}'],
    ['c', 1, '{"command":"subscribe","identifier":'],
    ['c', 1, '{"identifier":"{\\"channel\\":\\"ChatChannel\\"}"}'],
    ['c', 1, '{"command":"subscribe","identifier":"{\\"channel\\":\\"ChatChannel\\"}"}'],
  ]),
  pollingCase(),
  pollingV3Case(),
];
