import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { EngineEvent } from '../../shared/events';
import { ConnStack } from '../stack/connection-stack';
import { builtinRegistry } from '../stack/registry';
import { DEFAULT_SESSION_OPTIONS } from '../ws/options';
import { ascii, concat, type Bytes } from '../../test/kit/bytes';
import { cf, closePayload, sf } from '../../test/kit/websocket';
import { FrameReader, PREFACE, type H2Frame } from './frames';
import { HpackDecoder, TABLE_MAX } from './hpack';
import { http2Module } from './h2-layer';
import { DETECT_MORE, DETECT_NO } from '../stack/layer';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const meta = { ts: 1, packet: 1 };

/** RFC 9113 section 4.1 frame */
function frame(type: number, flags: number, stream: number, payload: Bytes): Bytes {
  const h = Uint8Array.of(payload.length >> 16, (payload.length >> 8) & 0xff, payload.length & 0xff, type, flags, (stream >>> 24) & 0x7f, (stream >> 16) & 0xff, (stream >> 8) & 0xff, stream & 0xff);
  return concat([h, payload]);
}

/**
 * An independent HPACK encoder for tests, straight from RFC 7541: every field a "literal
 * header field without indexing, new name" (section 6.2.2) with plain (non-Huffman)
 * strings of under 127 bytes (section 5.2), so no table is involved.
 */
function literalBlock(fields: Array<[string, string]>): Bytes {
  return concat(fields.flatMap(([n, v]) => [Uint8Array.of(0x00, n.length), ascii(n), Uint8Array.of(v.length), ascii(v)]));
}

function settings(pairs: Array<[number, number]>): Bytes {
  return frame(4, 0, 0, concat(pairs.map(([id, v]) => Uint8Array.of(id >> 8, id & 0xff, v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff))));
}

interface Seen {
  type: number;
  flags: number;
  stream: number;
  payload: string;
}

function readAll(bytes: Bytes, chunks: number[], preface = false, max?: number): { frames: Seen[]; broken: string[]; oversized: number[] } {
  const frames: Seen[] = [];
  const broken: string[] = [];
  const oversized: number[] = [];
  const r = new FrameReader(
    {
      frame: (f: H2Frame) => frames.push({ type: f.type, flags: f.flags, stream: f.stream, payload: Buffer.from(f.payload).toString('hex') }),
      oversized: (_t, _f, _s, len) => oversized.push(len),
      broken: (t) => broken.push(t),
    },
    preface,
    max,
  );
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = chunks.length ? chunks[i % chunks.length] : bytes.length;
    r.push(bytes.subarray(at, at + n), meta);
    at += n;
  }
  return { frames, broken, oversized };
}

describe('HTTP/2 frame reader (RFC 9113 section 4)', () => {
  const padded = (content: Bytes, pad: number): Bytes => concat([Uint8Array.of(pad), content, new Uint8Array(pad)]);
  const wire = concat([
    PREFACE,
    settings([[8, 1]]),
    // HEADERS, PADDED | PRIORITY | END_HEADERS: pad length, 5 priority bytes, the block
    frame(1, 0x08 | 0x20 | 0x04, 1, padded(concat([hex('8000000010'), literalBlock([[':method', 'GET']])]), 3)),
    frame(0xfa, 0x00, 0, ascii('unknown type: skipped by the layer')),
    frame(0, 0x08 | 0x01, 1, padded(ascii('data'), 200)),
    frame(0, 0, 3, new Uint8Array(0)),
    frame(6, 0, 0, ascii('pingpong')),
  ]);

  it('reads every frame, padding removed, whether fed whole, byte by byte or in odd chunks', () => {
    const whole = readAll(wire, [], true);
    expect(whole.broken).toEqual([]);
    expect(whole.frames.map((f) => [f.type, f.stream])).toEqual([[4, 0], [1, 1], [0xfa, 0], [0, 1], [0, 3], [6, 0]]);
    expect(whole.frames[3].payload).toBe(Buffer.from('data').toString('hex'));
    expect(whole.frames[1].payload.startsWith('8000000010')).toBe(true);
    for (const chunks of [[1], [2, 3, 5, 7, 11], [9], [24, 1, 100]]) expect(readAll(wire, chunks, true)).toEqual(whole);
  });

  it('skips a frame over its cap without buffering it, and goes on with the next', () => {
    const big = concat([frame(0, 0, 1, new Uint8Array(5000)), frame(6, 0, 0, ascii('pingpong'))]);
    for (const chunks of [[], [1000], [7]]) {
      const r = readAll(big, chunks, false, 4096);
      expect(r.oversized).toEqual([5000]);
      expect(r.frames.map((f) => f.type)).toEqual([6]);
    }
  });

  it('reports a bad preface and padding longer than the payload, and stops without throwing', () => {
    expect(readAll(ascii('GET / HTTP/1.1\r\n\r\n'), [3], true).broken[0]).toMatch(/preface/);
    const r = readAll(concat([frame(0, 0x08, 1, Uint8Array.of(9, 1, 2)), frame(6, 0, 0, ascii('pingpong'))]), [1]);
    expect(r.broken[0]).toMatch(/padding length \(9\)/);
    expect(r.frames).toEqual([]);
  });
});

describe('HPACK through hpack.js, against RFC 7541 Appendix C', () => {
  it('decodes C.3 (requests, dynamic table) and C.4 (the same with Huffman) block by block', () => {
    for (const blocks of [
      ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'],
      ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'],
    ]) {
      const d = new HpackDecoder();
      expect(d.decode(hex(blocks[0]))).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
      expect(d.decode(hex(blocks[1]))).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
      expect(d.decode(hex(blocks[2]))).toEqual([[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
    }
  });

  // C.5: responses with a 256-octet table; the size update (section 6.3, 001 + 5-bit 256) comes first
  const c51 = '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d';
  const c52 = '4803333037c1c0bf';
  const resize256 = '3fe101';

  it('evicts the oldest entry when a 256-octet table overflows (C.5.2), so a reference to it fails', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex(resize256 + c51))).toHaveLength(4);
    expect(d.decode(hex(c52))).toEqual([[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']]);
    // index 66 (0xc2) was ":status 302", evicted by C.5.2
    expect(typeof d.decode(hex('c2'))).toBe('string');
    expect(d.failed).toBe(true);
    // without the size update nothing was evicted: the same reference resolves
    const big = new HpackDecoder();
    big.decode(hex(c51));
    big.decode(hex(c52));
    expect(big.decode(hex('c2'))).toEqual([[':status', '302']]);
  });

  it('empties the table on a size update to 0 mid-connection, and refuses one over its bound', () => {
    const d = new HpackDecoder();
    d.decode(hex(c51));
    expect(d.decode(hex('be'))).toEqual([['location', 'https://www.example.com']]);
    // size update 0, then size update back to 4096 (3f e1 1f), then index 62: gone
    expect(typeof d.decode(hex('20' + '3fe11f' + 'be'))).toBe('string');
    const z = new HpackDecoder();
    expect(z.decode(hex('20' + c51))).toHaveLength(4);
    expect(typeof z.decode(hex('be'))).toBe('string');
    const over = new HpackDecoder();
    // 001 + 5-bit integer TABLE_MAX + 1 (RFC 7541 section 5.1)
    let v = TABLE_MAX + 1 - 31;
    const enc = [0x3f];
    while (v >= 128) {
      enc.push((v & 0x7f) | 0x80);
      v >>= 7;
    }
    enc.push(v);
    expect(typeof over.decode(Uint8Array.from(enc))).toBe('string');
  });
});

/** one h2c connection through a ConnStack with the built-in modules; carried connections numbered 100, 101... */
function run(client: Bytes[], server: Bytes[], order: Array<'c' | 's'>, split = 0, onInternalError = (e: unknown): void => {
  throw e;
}): EngineEvent[] {
  const events: EngineEvent[] = [];
  let next = 100;
  const stack = new ConnStack(1, (e) => events.push(e), { frames: 0, messages: 0 }, {
    session: DEFAULT_SESSION_OPTIONS,
    registry: builtinRegistry(),
    onInternalError,
    carrier: (fields, parent, m) => {
      const id = next++;
      events.push({ type: 'connection', id, transport: 'tcp', client: 'c', server: 's', ts: m.ts, packet: m.packet, roleBy: 'syn', parent, ...fields });
      return id;
    },
  });
  let ci = 0;
  let si = 0;
  let pkt = 1;
  // one meta refilled for every step, as the pipeline does (engine/types.ts ChunkMeta): a
  // stream that kept it without a copy would report a later step's packet number
  const m = { ts: 0, packet: 0 };
  for (const o of order) {
    const b = o === 'c' ? client[ci++] : server[si++];
    const entry = o === 'c' ? stack.client : stack.server;
    m.ts = m.packet = pkt++;
    if (split > 0) for (let i = 0; i < b.length; i += split) entry.push(b.subarray(i, i + split), 0, m);
    else entry.push(b, 0, m);
  }
  stack.finish({ ts: pkt, packet: pkt });
  return events;
}

const connect = (stream: number, extra: Array<[string, string]> = []): Bytes =>
  frame(1, 0x04, stream, literalBlock([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', `/s${stream}`], [':authority', 'example.test'], ['sec-websocket-version', '13'], ...extra]));
const ok = (stream: number, extra: Array<[string, string]> = []): Bytes => frame(1, 0x04, stream, literalBlock([[':status', '200'], ...extra]));

describe('WebSocket over HTTP/2 in the stream stack (RFC 8441)', () => {
  const client = [
    concat([PREFACE, settings([])]),
    connect(1, [['sec-websocket-protocol', 'chat']]),
    concat([connect(3), frame(1, 0x05, 5, literalBlock([[':method', 'GET'], [':path', '/x'], [':scheme', 'http'], [':authority', 'example.test']]))]),
    // a WebSocket frame split over two DATA frames, interleaved with stream 3's frame
    (() => {
      const f = cf(1, 'hello over h2');
      return concat([frame(0, 0, 1, f.subarray(0, 5)), frame(0, 0, 3, cf(2, Uint8Array.of(1, 2, 3))), frame(0, 0, 1, f.subarray(5))]);
    })(),
    frame(0, 0x01, 1, cf(8, closePayload(1000))),
  ];
  const server = [
    settings([[8, 1], [1, 4096]]),
    concat([ok(1, [['sec-websocket-protocol', 'chat']]), ok(3)]),
    concat([frame(1, 0x04, 5, literalBlock([[':status', '404']])), frame(0, 0x01, 5, ascii('nope'))]),
    concat([frame(0, 0, 3, sf(1, 'to three')), frame(0, 0, 1, sf(8, closePayload(4001, 'bye'))), frame(3, 0, 3, Uint8Array.of(0, 0, 0, 8))]),
    frame(0, 0x01, 1, new Uint8Array(0)),
  ];
  const order: Array<'c' | 's'> = ['c', 's', 'c', 'c', 's', 's', 'c', 's', 's', 'c'];

  it('opens a connection per WebSocket stream, decodes interleaved frames across DATA frames, lists the plain request', () => {
    const ev = run(client, server, order);
    expect(ev.filter((e) => e.type === 'connection')).toMatchObject([
      { id: 100, parent: 1, http2: true, h2Stream: 1 },
      { id: 101, parent: 1, http2: true, h2Stream: 3 },
    ]);
    // the SETTINGS that allowed the extended CONNECT, for the handshake pane
    expect(ev.find((e) => e.type === 'handshake')).toMatchObject({ h2Settings: { client: [], server: [['ENABLE_CONNECT_PROTOCOL', 1], ['HEADER_TABLE_SIZE', 4096]] } });
    expect(ev.filter((e) => e.type === 'handshake')).toMatchObject([
      { conn: 100, status: 200, path: '/s1', host: 'example.test', protocol: 'chat', websocket: true, http2: true, key: '' },
      { conn: 101, status: 200, path: '/s3', protocol: '', websocket: true },
    ]);
    const msgs = ev.flatMap((e) => (e.type === 'message' ? [`${e.conn} ${e.dir} ${e.opcode} ${e.code ?? Buffer.from(e.data).toString()}`] : []));
    // stream 3's frame completes first: stream 1's was split around it
    expect(msgs).toEqual(['101 client 2 \u0001\u0002\u0003', '100 client 1 hello over h2', '101 server 1 to three', '100 server 8 4001', '100 client 8 1000']);
    expect(ev.filter((e) => e.type === 'http2-request')).toMatchObject([{ conn: 1, stream: 5, method: 'GET', path: '/x', status: 404, requestBytes: 0, responseBytes: 4, reset: false }]);
    // stream 1 ended with END_STREAM both ways; stream 3 was reset by the server, and as the
    // client might still have DATA in flight it ends with the TCP connection
    expect(ev.filter((e) => e.type === 'connection-end')).toMatchObject([
      { conn: 100, reason: 'fin' },
      { conn: 101, reason: 'rst' },
    ]);
    expect(ev.filter((e) => e.type === 'finding')).toEqual([]);
  });

  it('gives early WebSocket bytes and an unfinished request the packets they came in (metas kept past the call are copies)', () => {
    // packet 1: preface, SETTINGS, a CONNECT on stream 1 and a GET on stream 3 (END_STREAM);
    // 2: the server allows extended CONNECT and answers stream 3 without ending it; 3: the
    // client's WebSocket frame on stream 1 before the answer; 4-5: the answer, then more
    const c = [
      concat([PREFACE, settings([]), connect(1), frame(1, 0x05, 3, literalBlock([[':method', 'GET'], [':path', '/open'], [':scheme', 'http'], [':authority', 'example.test']]))]),
      frame(0, 0, 1, cf(1, 'sent early')),
      frame(0, 0, 1, cf(1, 'after the answer')),
    ];
    const s = [concat([settings([[8, 1]]), frame(1, 0x04, 3, literalBlock([[':status', '200']]))]), ok(1), frame(0, 0, 1, sf(1, 'hi'))];
    const ev = run(c, s, ['c', 's', 'c', 's', 's', 'c']);
    const msgs = ev.flatMap((e) => (e.type === 'message' ? [`${Buffer.from(e.data).toString()} @${e.packet}`] : []));
    expect(msgs).toEqual(['sent early @3', 'hi @5', 'after the answer @6']);
    // stream 3 never ended: listed at the end of the connection with the packet of its last frame
    expect(ev.filter((e) => e.type === 'http2-request')).toMatchObject([{ stream: 3, path: '/open', status: 200, packet: 2 }]);
  });

  it('never fails internally on the conversation with bytes flipped, cut or dropped', () => {
    const errors: unknown[] = [];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(client.length + server.length - 1), fc.nat(4096), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'drop')), { maxLength: 6 }), (edits) => {
        const c: Bytes[] = client.map((b) => new Uint8Array(b));
        const s: Bytes[] = server.map((b) => new Uint8Array(b));
        for (const [which, at, v, how] of edits) {
          const list = which < c.length ? c : s;
          const i = which < c.length ? which : which - c.length;
          const b = list[i];
          if (b.length === 0) continue;
          if (how === 'flip') b[at % b.length] ^= v | 1;
          else if (how === 'cut') list[i] = b.subarray(0, at % b.length);
          else list[i] = concat([b.subarray(0, at % b.length), b.subarray((at % b.length) + 1 + (v % 16))]);
        }
        run(c, s, order, 0, (e) => errors.push(e));
      }),
      { numRuns: 300 },
    );
    expect(errors).toEqual([]);
  });

  it('reads a request header block behind padding and priority fields, split over CONTINUATION frames', () => {
    const block = literalBlock([[':method', 'CONNECT'], [':protocol', 'websocket'], [':scheme', 'http'], [':path', '/s1'], [':authority', 'example.test'], ['sec-websocket-version', '13'], ['sec-websocket-protocol', 'chat']]);
    const headers = concat([
      // HEADERS with PADDED | PRIORITY and no END_HEADERS: pad length 4, 5 priority bytes, 10 bytes of the block
      frame(1, 0x08 | 0x20, 1, concat([Uint8Array.of(4), hex('8000000010'), block.subarray(0, 10), new Uint8Array(4)])),
      frame(9, 0, 1, block.subarray(10, 50)),
      frame(9, 0x04, 1, block.subarray(50)),
    ]);
    const ev = run([client[0], headers, ...client.slice(2)], server, order);
    expect(ev).toEqual(run(client, server, order));
  });

  it('gives the same events fed byte by byte and in 7-byte pieces', () => {
    const whole = run(client, server, order);
    expect(run(client, server, order, 1)).toEqual(whole);
    expect(run(client, server, order, 7)).toEqual(whole);
  });

  it('reports extended CONNECT without the setting, forbidden fields, :protocol off CONNECT and a refused CONNECT', () => {
    const c = [
      concat([PREFACE, settings([])]),
      concat([connect(1, [['sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['upgrade', 'websocket'], ['connection', 'upgrade']]), frame(1, 0x05, 3, literalBlock([[':method', 'GET'], [':protocol', 'websocket'], [':path', '/g']]))]),
    ];
    const s = [settings([]), frame(1, 0x05, 1, literalBlock([[':status', '403']]))];
    const ev = run(c, s, ['c', 's', 'c', 's']);
    const f = ev.flatMap((e) => (e.type === 'finding' ? [`${e.conn} ${e.id}`] : []));
    expect(f).toEqual(['100 h2-connect-without-setting', '100 h2-forbidden-header', '100 h2-forbidden-header', '100 h2-forbidden-header', '1 h2-protocol-without-connect', '100 h2-connect-rejected']);
    expect(ev.find((e) => e.type === 'handshake')).toMatchObject({ conn: 100, status: 403, websocket: false });
    expect(ev.filter((e) => e.type === 'message')).toEqual([]);
  });

  it('says once that the header state is lost after an HPACK failure, and keeps decoding DATA of known streams', () => {
    const c = [concat([PREFACE, settings([])]), connect(1), frame(1, 0x04, 3, hex('ff')), concat([frame(1, 0x04, 5, hex('be')), frame(0, 0, 1, cf(1, 'still here'))])];
    const s = [settings([[8, 1]]), ok(1)];
    const ev = run(c, s, ['c', 's', 'c', 's', 'c', 'c']);
    expect(ev.filter((e) => e.type === 'finding').map((e) => e.type === 'finding' && e.id)).toEqual(['h2-hpack-failed']);
    expect(ev.find((e) => e.type === 'finding')).toMatchObject({ dir: 'client', text: expect.stringMatching(/header state is lost/) });
    expect(ev.filter((e) => e.type === 'message').map((e) => e.type === 'message' && Buffer.from(e.data).toString())).toEqual(['still here']);
  });

  it('reports DATA its sender sends after resetting the stream, and decodes DATA in flight from the other side', () => {
    const c = [concat([PREFACE, settings([])]), connect(1), concat([frame(3, 0, 1, Uint8Array.of(0, 0, 0, 8)), frame(0, 0, 1, cf(1, 'late'))])];
    // the server's echo crossed the client's RST_STREAM: sent before the reset reached it
    const s = [settings([[8, 1]]), ok(1), frame(0, 0, 1, sf(1, 'in flight')), frame(0, 0, 1, sf(1, 'still in flight'))];
    const texts = (ev: EngineEvent[]): unknown[] => ev.filter((e) => e.type === 'message').map((e) => e.type === 'message' && `${e.dir} ${Buffer.from(e.data).toString()}`);
    for (const split of [0, 1, 4]) {
      const ev = run(c, s, ['c', 's', 'c', 's', 'c', 's', 's'], split);
      expect(ev.filter((e) => e.type === 'finding')).toMatchObject([{ id: 'h2-data-after-reset', dir: 'client', conn: 1 }]);
      expect(texts(ev)).toEqual(['server in flight', 'server still in flight']);
      expect(ev.filter((e) => e.type === 'connection-end')).toMatchObject([{ conn: 100, reason: 'rst' }]);
    }
  });

  it('lists a server push (PUSH_PROMISE, then the response on the promised stream) as a request marked pushed', () => {
    const c = [concat([PREFACE, settings([])]), frame(1, 0x05, 1, literalBlock([[':method', 'GET'], [':path', '/page'], [':scheme', 'http'], [':authority', 'example.test']]))];
    // PUSH_PROMISE on stream 1, PADDED | END_HEADERS: pad length, promised stream 2, the request
    const promise = concat([Uint8Array.of(2, 0, 0, 0, 2), literalBlock([[':method', 'GET'], [':path', '/style.css'], [':scheme', 'http'], [':authority', 'example.test']]), new Uint8Array(2)]);
    const s = [
      settings([]),
      concat([frame(5, 0x0c, 1, promise), frame(1, 0x04, 1, literalBlock([[':status', '200']])), frame(0, 0x01, 1, ascii('<html>'))]),
      concat([frame(1, 0x04, 2, literalBlock([[':status', '200']])), frame(0, 0x01, 2, ascii('body{}'))]),
    ];
    for (const split of [0, 1, 3]) {
      const ev = run(c, s, ['c', 's', 'c', 's', 's'], split);
      expect(ev.filter((e) => e.type === 'http2-request')).toEqual([
        expect.objectContaining({ stream: 1, path: '/page', status: 200, responseBytes: 6, reset: false }),
        expect.objectContaining({ stream: 2, method: 'GET', path: '/style.css', host: 'example.test', status: 200, requestBytes: 0, responseBytes: 6, pushed: true }),
      ]);
      expect((ev.find((e) => e.type === 'http2-request') as { pushed?: boolean }).pushed).toBeUndefined();
      expect(ev.filter((e) => e.type === 'finding')).toEqual([]);
    }
  });

  it('ends a reset WebSocket stream when the other side ends its direction too, before the TCP connection ends', () => {
    const c = [concat([PREFACE, settings([])]), connect(1), frame(3, 0, 1, Uint8Array.of(0, 0, 0, 8)), concat([connect(3), frame(0, 0, 3, cf(1, 'next'))])];
    const s = [settings([[8, 1]]), ok(1), frame(0, 0x01, 1, sf(1, 'last words')), ok(3)];
    const ev = run(c, s, ['c', 's', 'c', 's', 'c', 's', 'c', 's']);
    const order = ev.flatMap((e) => (e.type === 'connection-end' ? [`end ${e.conn} ${e.reason}`] : e.type === 'message' ? [`${e.conn} ${Buffer.from(e.data).toString()}`] : []));
    // stream 1 ends at the server's END_STREAM, before stream 3's message; stream 3 at the end
    expect(order).toEqual(['100 last words', 'end 100 rst', '101 next', 'end 101 eof']);
    expect(ev.filter((e) => e.type === 'finding')).toEqual([]);
  });
});

describe('HTTP/1.1 Upgrade: h2c (RFC 7540 section 3.2)', () => {
  it('hands the connection to HTTP/2 after the 101: the upgraded request is stream 1, a WebSocket follows on stream 3', () => {
    const c = [
      ascii('GET /up HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n'),
      concat([PREFACE, settings([])]),
      concat([connect(3), frame(0, 0, 3, cf(1, 'after h2c'))]),
    ];
    const s = [
      concat([ascii('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'), settings([[8, 1]]), frame(1, 0x04, 1, literalBlock([[':status', '200']])), frame(0, 0x01, 1, ascii('upgraded body'))]),
      ok(3),
    ];
    for (const split of [0, 1, 5]) {
      const ev = run(c, s, ['c', 's', 'c', 'c', 's'], split);
      expect(ev.filter((e) => e.type === 'http2-request')).toMatchObject([{ conn: 1, stream: 1, method: 'GET', path: '/up', host: 'example.test', status: 200, responseBytes: 13 }]);
      expect(ev.filter((e) => e.type === 'connection')).toMatchObject([{ id: 100, h2Stream: 3, http2: true }]);
      expect(ev.filter((e) => e.type === 'message').map((e) => e.type === 'message' && Buffer.from(e.data).toString())).toEqual(['after h2c']);
      expect(ev.filter((e) => e.type === 'finding')).toEqual([]);
    }
  });
});

describe('HTTP/2 detection', () => {
  const detect = (bytes: Bytes, dir: 'client' | 'server'): number =>
    http2Module.detect!(bytes, dir, { clientPort: 1, serverPort: 2, midStream: false, final: false, seen: 0, otherRejected: false, opts: DEFAULT_SESSION_OPTIONS });

  it('takes the client preface (waiting for all of it) and a server opening with a plausible SETTINGS frame', () => {
    expect(detect(PREFACE.subarray(0, 10), 'client')).toBe(DETECT_MORE);
    expect(detect(concat([PREFACE, settings([])]), 'client')).toBe(0);
    expect(detect(ascii('PRI * HTTP/1.1\r\n'), 'client')).toBe(DETECT_NO);
    const s = settings([[3, 100], [8, 1]]);
    expect(detect(s.subarray(0, 12), 'server')).toBe(DETECT_MORE);
    expect(detect(s, 'server')).toBe(0);
    // an empty SETTINGS, an unregistered identifier, a length not a multiple of 6: not enough
    expect(detect(settings([]), 'server')).toBe(DETECT_NO);
    expect(detect(settings([[0x4a4a, 1]]), 'server')).toBe(DETECT_NO);
    expect(detect(frame(4, 0, 0, new Uint8Array(7)), 'server')).toBe(DETECT_NO);
    expect(detect(ascii('HTTP/1.1 200 OK\r\n'), 'server')).toBe(DETECT_NO);
  });
});
