/**
 * Engine.IO long-polling bodies in hand-made captures (test/kit/capture.ts): the framings the
 * real-peer test (socketio-polling.test.ts) does not reach: chunked bodies split over tiny
 * segments, gzip and deflate, Engine.IO v3 `<length>:` records with `b4` base64 binary, a
 * session spread over two connections, and the bounds and malformed payloads, each with its
 * finding. Decoded through the whole pipeline from a written pcap.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { Conv, ascii, concat, pcap, type Bytes } from './kit/capture';
import { cf, sf } from './kit/websocket';
import { analyzeFile } from '../engine/pipeline';
import { TextFormatter } from '../engine/cli/format';
import { toWire } from '../engine/cli/json';
import { BODY_MAX } from '../engine/http/polling';
import type { EngineEvent, FindingEvent, MessageEvent, PollingEvent } from '../shared/events';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-pollbody-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let port = 41000;
const conv = (): Conv => new Conv({ clientPort: port++ }).open();

function req(method: string, target: string, body: Bytes | string = '', headers: string[] = []): Bytes {
  const b = typeof body === 'string' ? ascii(body) : body;
  const h = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1:8080', ...headers];
  if (method === 'POST') h.push(`Content-Length: ${b.length}`);
  return concat([ascii(h.join('\r\n') + '\r\n\r\n'), b]);
}

function res(body: Bytes | string, headers: string[] = [], chunked = false): Bytes {
  const b = typeof body === 'string' ? ascii(body) : body;
  const h = ['HTTP/1.1 200 OK', 'Content-Type: text/plain; charset=UTF-8', ...headers];
  if (!chunked) return concat([ascii([...h, `Content-Length: ${b.length}`].join('\r\n') + '\r\n\r\n'), b]);
  // two chunks (with an extension) and a trailer (RFC 9112 section 7.1)
  const cut = b.length >> 1;
  const chunk = (p: Bytes, ext = ''): Bytes => concat([ascii(`${p.length.toString(16)}${ext}\r\n`), p, ascii('\r\n')]);
  return concat([ascii([...h, 'Transfer-Encoding: chunked'].join('\r\n') + '\r\n\r\n'), chunk(b.subarray(0, cut), ';x=1'), chunk(b.subarray(cut)), ascii('0\r\nX-T: 1\r\n\r\n')]);
}

async function decode(convs: Conv[], decodeAs?: Record<number, string>): Promise<EngineEvent[]> {
  const file = join(dir, `c${port}.pcap`);
  writeFileSync(file, pcap(convs.flatMap((c) => c.recs).sort((a, b) => a.tsUs - b.tsUs), { linkType: 1 }));
  const evs: EngineEvent[] = [];
  await analyzeFile(file, (e) => evs.push(e), decodeAs ? { session: { app: { decode: decodeAs } } } : undefined);
  return evs;
}

const polls = (evs: EngineEvent[]): PollingEvent[] => evs.filter((e): e is PollingEvent => e.type === 'polling');
const found = (evs: EngineEvent[]): string[] => evs.filter((e): e is FindingEvent => e.type === 'finding' && e.severity !== 'info').map((f) => `${f.id}: ${f.text}`);
const V4 = '/socket.io/?EIO=4&transport=polling';
const OPEN = '0{"sid":"S1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
const WELCOME = '40{"sid":"n1"}\x1e42["welcome","h\u00e9"]\x1ebAQID';
const UP = '451-3["up",{"_placeholder":true,"num":0}]';
const DONE = '433["done"]\x1e2';
/** an Engine.IO v3 payload: `<length in characters>:<packet>` per packet */
const v3 = (...packets: string[]): string => packets.map((p) => `${p.length}:${p}`).join('');
/** an Engine.IO v3 binary payload: per packet 0 (text, UTF-8) or 1 (binary), the length's digits as bytes, 0xff, the packet */
const v3bin = (...packets: Array<string | Uint8Array>): Buffer =>
  Buffer.concat(
    packets.map((p) => {
      const b = typeof p === 'string' ? Buffer.from(p) : Buffer.from(p);
      return Buffer.concat([Uint8Array.from([typeof p === 'string' ? 0 : 1, ...[...String(b.length)].map(Number), 0xff]), b]);
    }),
  );

describe('Engine.IO polling bodies', () => {
  it('v4: a gzip, chunked answer split over 5-byte segments, a POST with a binary event whose attachment comes on another connection', async () => {
    const a = conv();
    a.send('c', req('GET', `${V4}&t=1`));
    a.send('s', res(OPEN));
    a.send('c', req('POST', `${V4}&t=2&sid=S1`, '40'));
    a.send('s', res('ok'));
    a.send('c', req('GET', `${V4}&t=3&sid=S1`));
    a.send('s', res(gzipSync(Buffer.from(WELCOME)), ['Content-Encoding: gzip'], true), 5);
    a.send('c', req('POST', `${V4}&t=4&sid=S1`, UP));
    const b = new Conv({ clientPort: port++, t0: a.t + 1000 }).open();
    b.send('c', req('POST', `${V4}&t=5&sid=S1`, 'bAQIDBA=='));
    b.send('s', res('ok'));
    b.send('c', req('GET', `${V4}&t=6&sid=S1`));
    b.send('s', res(deflateSync(Buffer.from(DONE)), ['Content-Encoding: deflate']));
    a.close();
    b.close();
    const evs = await decode([a, b]);
    expect(polls(evs).map((e) => [e.dir, e.method, e.sid, e.length, e.truncated])).toEqual([
      ['server', 'GET', 'S1', OPEN.length, false],
      ['client', 'POST', 'S1', 2, false],
      ['server', 'GET', 'S1', Buffer.byteLength(WELCOME), false],
      ['client', 'POST', 'S1', UP.length, false],
      ['client', 'POST', 'S1', 'bAQIDBA=='.length, false],
      ['server', 'GET', 'S1', DONE.length, false],
    ]);
    const apps = polls(evs).map((e) => e.app);
    expect(apps[2]).toEqual([
      { protocol: 'socket.io', type: 'CONNECT', nsp: '/', sid: 'n1' },
      { protocol: 'socket.io', type: 'EVENT', nsp: '/', event: 'welcome', args: ['h\u00e9'] },
      { protocol: 'socket.io', type: 'attachment', length: 3 },
    ]);
    // the attachment came on connection b, the packet it completes was announced on a
    expect(apps[3]).toEqual([]);
    expect(apps[4]).toEqual([
      { protocol: 'socket.io', type: 'attachment', num: 0, length: 4 },
      { protocol: 'socket.io', type: 'BINARY_EVENT', nsp: '/', ackId: 3, attachments: 1, event: 'up', args: [{ $binary: 4 }] },
    ]);
    expect(apps[5][0]).toMatchObject({ type: 'ACK', ackId: 3, args: ['done'], latencyMs: expect.any(Number) });
    expect(apps[5][1]).toEqual({ protocol: 'socket.io', type: 'ping' });
    // one unexpected attachment (the welcome's `b` record: no binary packet waits for it)
    expect(found(evs)).toEqual(['subprotocol-malformed: Binary Socket.IO message with no BINARY_EVENT or BINARY_ACK waiting for an attachment.']);
    // --json and the text line
    expect(toWire(polls(evs)[5])).toEqual({ type: 'polling', conn: 2, dir: 'server', ts: polls(evs)[5].ts, method: 'GET', path: `${V4}&t=6&sid=S1`, sid: 'S1', length: DONE.length, app: apps[5] });
    const line = new TextFormatter({ color: false, frames: false, preview: 60 }).format(polls(evs)[4]) ?? '';
    expect(line).toMatch(/^#2 +\S+ C->S poll +9B POST sid=S1 => attachment 0 \(4 B\); BINARY_EVENT up \[\{"\$binary":4\}\] ack 3$/);
  });

  it('v3: <length>: records (lengths in characters) with b4 base64 binary', async () => {
    const c = conv();
    const V3 = '/socket.io/?EIO=3&transport=polling';
    c.send('c', req('GET', `${V3}&t=1&sid=T3`));
    c.send('s', res(Buffer.from(v3('42["\u00e9"]', '2', '451-["b",{"_placeholder":true,"num":0}]', 'b4AQI='), 'utf8')));
    c.close();
    const evs = await decode([c]);
    expect(found(evs)).toEqual([]);
    // the v3 binary packet is the type byte and the bytes, as on WebSocket: 2 bytes of attachment
    expect(polls(evs)[0].app).toEqual([
      { protocol: 'socket.io', type: 'EVENT', nsp: '/', event: '\u00e9', args: [] },
      { protocol: 'socket.io', type: 'ping' },
      { protocol: 'socket.io', type: 'attachment', num: 0, length: 2 },
      { protocol: 'socket.io', type: 'BINARY_EVENT', nsp: '/', attachments: 1, event: 'b', args: [{ $binary: 2 }] },
    ]);
  });

  it('v3 binary payloads (XHR2): text records as UTF-8 bytes, binary records as the type byte and the data, split over 3-byte segments', async () => {
    const c = conv();
    const V3 = '/socket.io/?EIO=3&transport=polling&sid=B3';
    const up = v3bin('451-1["up",{"_placeholder":true,"num":0}]', Uint8Array.of(4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
    c.send('c', req('POST', V3, up, ['Content-Type: application/octet-stream']), 3);
    c.send('s', res('ok'));
    c.send('c', req('GET', V3));
    const down = v3bin('42["h\u00e9"]', '2', '461-1[{"_placeholder":true,"num":0}]', Uint8Array.of(4, 9));
    c.send('s', res(down), 3);
    c.close();
    const evs = await decode([c]);
    expect(found(evs)).toEqual([]);
    expect(polls(evs).map((e) => [e.dir, e.length])).toEqual([
      ['client', up.length],
      ['server', down.length],
    ]);
    expect(polls(evs)[0].app).toEqual([
      { protocol: 'socket.io', type: 'attachment', num: 0, length: 11 },
      { protocol: 'socket.io', type: 'BINARY_EVENT', nsp: '/', ackId: 1, attachments: 1, event: 'up', args: [{ $binary: 11 }] },
    ]);
    expect(polls(evs)[1].app).toEqual([
      { protocol: 'socket.io', type: 'EVENT', nsp: '/', event: 'h\u00e9', args: [] },
      { protocol: 'socket.io', type: 'ping' },
      { protocol: 'socket.io', type: 'attachment', num: 0, length: 1 },
      { protocol: 'socket.io', type: 'BINARY_ACK', nsp: '/', ackId: 1, attachments: 1, args: [{ $binary: 1 }], requestTs: polls(evs)[0].ts, latencyMs: expect.any(Number) },
    ]);
  });

  it('one session over polling and the WebSocket that upgrades it: a packet announced in a POST completes over the WebSocket, its ack pairs there, pings in between', async () => {
    const p = conv();
    p.send('c', req('GET', `${V4}&t=1`));
    p.send('s', res(OPEN));
    p.send('c', req('POST', `${V4}&t=2&sid=S1`, '40\x1e451-7["up",{"_placeholder":true,"num":0}]'));
    p.send('s', res('ok'));
    const w = new Conv({ clientPort: port++, t0: p.t + 1000 }).upgrade({ path: '/socket.io/?EIO=4&transport=websocket&sid=S1' });
    w.send('c', cf(1, '2probe'));
    w.send('s', sf(1, '3probe'));
    w.send('c', cf(1, '5'));
    w.send('c', cf(2, Uint8Array.of(1, 2, 3)));
    w.send('s', sf(1, '437["ok"]'));
    p.close();
    w.close();
    const evs = await decode([p, w]);
    expect(found(evs)).toEqual([]);
    const ws = evs.filter((e): e is MessageEvent => e.type === 'message' && e.conn === 2).map((m) => m.app);
    expect(ws.slice(0, 3)).toEqual([[{ protocol: 'socket.io', type: 'ping', data: 'probe' }], [{ protocol: 'socket.io', type: 'pong', data: 'probe' }], [{ protocol: 'socket.io', type: 'upgrade' }]]);
    expect(ws[3]).toEqual([
      { protocol: 'socket.io', type: 'attachment', num: 0, length: 3 },
      { protocol: 'socket.io', type: 'BINARY_EVENT', nsp: '/', ackId: 7, attachments: 1, event: 'up', args: [{ $binary: 3 }] },
    ]);
    expect(ws[4]).toEqual([{ protocol: 'socket.io', type: 'ACK', nsp: '/', ackId: 7, args: ['ok'], requestTs: expect.any(Number), latencyMs: expect.any(Number) }]);
  });

  it('malformed payloads and the bounds: each body reported, none decoded wrong', async () => {
    const c = conv();
    const BAD = '42["ok"]\x1ebA!!\x1e9x';
    c.send('c', req('POST', `${V4}&sid=M`, BAD));
    c.send('s', res('ok'));
    c.send('c', req('GET', `${V4}&sid=M`));
    c.send('s', res('2', ['Content-Encoding: compress']));
    c.send('c', req('GET', `${V4}&sid=M`));
    c.send('s', res(gzipSync(Buffer.from('not gzip at all')).subarray(0, 12), ['Content-Encoding: gzip']));
    c.send('c', req('GET', `${V4}&sid=M`));
    c.send('s', res(new Uint8Array(BODY_MAX + 1).fill(0x34)), 60_000);
    c.send('c', req('GET', `/socket.io/?EIO=3&transport=polling&sid=M`));
    c.send('s', res('4:42[]7:'));
    c.send('c', req('GET', `${V4}&sid=M`));
    // the capture ends inside this body
    c.send('s', ascii('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n42["cut'));
    const evs = await decode([c]);
    expect(polls(evs).map((e) => [e.length, e.truncated, e.app.map((p) => p.type)])).toEqual([
      [BAD.length, false, ['EVENT']],
      [1, true, []],
      [12, true, []],
      [BODY_MAX + 1, true, []],
      [8, false, []],
      [7, true, []],
    ]);
    expect(found(evs)).toEqual([
      'subprotocol-malformed: Engine.IO polling payload: a `b` record that is not base64.',
      'subprotocol-malformed: Engine.IO packet type "9" is not 0-6.',
      'subprotocol-malformed: Engine.IO polling body with Content-Encoding compress, which wsscope does not decode.',
      'decompression-failed: Engine.IO polling body does not decode as Content-Encoding gzip.',
      `limit-reached: Engine.IO polling body over ${BODY_MAX} bytes; it is not decoded.`,
      'subprotocol-malformed: Socket.IO EVENT data is not an array starting with the event name.',
      'subprotocol-malformed: Engine.IO polling payload: v3 record at character 6 has no valid <length>: prefix.',
      'subprotocol-incomplete: Engine.IO polling body cut after 7 bytes (the capture or the connection ended); it is not decoded.',
    ]);
  });

  it('leaves plain HTTP and non-polling Engine.IO URLs alone', async () => {
    const c = conv();
    c.send('c', req('POST', '/api?transport=polling', '42["x"]'));
    c.send('s', res('42["y"]'));
    c.send('c', req('GET', '/socket.io/?EIO=4&transport=websocket&sid=Q'));
    c.send('s', res('42["z"]'));
    c.close();
    const evs = await decode([c]);
    expect(polls(evs)).toEqual([]);
    expect(found(evs)).toEqual([]);
  });

  it('--decode CONN=none turns polling decoding off for that connection only', async () => {
    const mk = (): Conv => {
      const c = conv();
      c.send('c', req('POST', `${V4}&sid=N`, '42["x"]'));
      c.send('s', res('ok'));
      c.close();
      return c;
    };
    const evs = await decode([mk(), mk()], { 1: 'none' });
    expect(polls(evs).map((e) => [e.conn, e.app.map((p) => p.event)])).toEqual([[2, ['x']]]);
  });
});
