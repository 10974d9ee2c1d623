import { describe, it, expect } from 'vitest';
import { deflateRawSync, constants } from 'node:zlib';
import type { EngineEvent, MessageEvent } from '../../shared/events';
import { DEFAULT_SESSION_OPTIONS, TcpSession, looksLikeWebSocketStart } from './session';
import { concat as concatAll } from '../../test/kit/bytes';
import { cf, MASK, sf } from '../../test/kit/websocket';
import { normalise, run, text, upgradeRequest, upgradeResponse, type Step } from '../../test/kit/session';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const PMD = 'Sec-WebSocket-Extensions: permessage-deflate';
const open = (req: string[] = [], res: string[] = []): Step[] => [
  ['client', upgradeRequest(req)],
  ['server', upgradeResponse(res)],
];
function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** every length encoding, masked and not, control frames between fragments */
const mixed: Step[] = [
  ...open(),
  ['client', concatAll([cf(1, ''), cf(2, pattern(125)), cf(2, pattern(126)), cf(2, pattern(65535)), cf(2, pattern(65536))])],
  ['server', concatAll([sf(1, 'a', { fin: false }), sf(9, 'ping!'), sf(0, 'b', { fin: false }), sf(0, '')])],
  ['client', concatAll([cf(10, 'ping!'), cf(8, concatAll([new Uint8Array([0x0f, 0xa0]), enc('später')]))])],
  ['server', sf(8, new Uint8Array([0x0f, 0xa0]))],
];

describe('split writes', () => {
  it('gives identical events for a whole exchange fed at once, byte by byte and in odd chunks', () => {
    const whole = normalise(run(mixed).events);
    expect(whole.length).toBeGreaterThan(15);
    expect(normalise(run(mixed, {}, [1]).events)).toEqual(whole);
    expect(normalise(run(mixed, {}, [3, 7, 1, 13, 1460]).events)).toEqual(whole);
    expect(normalise(run(mixed, { keepWirePayload: true }, [2, 5]).events)).toEqual(normalise(run(mixed, { keepWirePayload: true }).events));
  });

  it('decodes every length form and the fragmented message around a ping', () => {
    const r = run(mixed, {}, [5]);
    const client = r.messages.filter((m) => m.dir === 'client');
    expect(client.map((m) => m.length)).toEqual([0, 125, 126, 65535, 65536, 5, 9]);
    expect(hex(client[4].data)).toBe(hex(pattern(65536)));
    const server = r.messages.filter((m) => m.dir === 'server');
    expect(server.map((m) => [m.opcode, text(m)])).toEqual([
      [9, 'ping!'],
      [1, 'ab'],
      [8, '\u000f\ufffd'],
    ]);
    expect(server[1].frames).toEqual([5, 7, 8]);
    expect(client[6].code).toBe(4000);
    expect(client[6].reason).toBe('später');
    expect(r.frames[4].headerLength).toBe(14);
    expect(r.frames[4].maskKey).toBe('37fa213d');
    expect(r.findings).toEqual([]);
  });

  it('keeps the masked wire bytes when asked and never modifies its input', () => {
    const f = cf(2, pattern(3000));
    const copy = f.slice();
    const r = run([...open(), ['client', f]], { keepWirePayload: true }, [100]);
    expect(hex(f)).toBe(hex(copy));
    expect(hex(r.frames[0].wirePayload as Uint8Array)).toBe(hex(f.subarray(8)));
    expect(hex(r.frames[0].header)).toBe(hex(f.subarray(0, 8)));
    expect(r.frames[0].packet).toBe(r.frames[0].firstPacket + 30);
  });
});

describe('memory ownership', () => {
  it('keeps nothing of its input: events survive the capture reusing one Buffer for every chunk', () => {
    const stream = concatAll([enc(upgradeRequest()), cf(1, 'a'.repeat(50)), cf(2, pattern(5000), { fin: false }), cf(9, 'pp'), cf(0, pattern(10))]);
    const server = concatAll([enc(upgradeResponse()), sf(1, 'b'.repeat(40))]);
    const reused = Buffer.alloc(64);
    const events: EngineEvent[] = [];
    const s = new TcpSession(1, (e) => events.push(e), { frames: 0, messages: 0 }, { ...DEFAULT_SESSION_OPTIONS, keepWirePayload: true });
    let pkt = 0;
    const feed = (dir: 'client' | 'server', b: Uint8Array, first: number): void => {
      // the request's first bytes go alone, so the session holds them while it decides
      for (let p = 0; p < b.length; ) {
        const n = p === 0 ? first : 64;
        const view = reused.subarray(0, Math.min(n, b.length - p));
        view.set(b.subarray(p, p + view.length));
        s.data(dir, view, 0, { ts: pkt, packet: ++pkt });
        reused.fill(0xee);
        p += view.length;
      }
    };
    feed('client', stream.subarray(0, enc(upgradeRequest()).length), 2);
    feed('server', server, 64);
    feed('client', stream.subarray(enc(upgradeRequest()).length), 5);
    s.finish({ ts: pkt, packet: ++pkt });
    const msgs = events.filter((e): e is MessageEvent => e.type === 'message');
    expect(msgs.map((m) => [m.dir, m.opcode, m.data.length])).toEqual([
      ['server', 1, 40],
      ['client', 1, 50],
      ['client', 9, 2],
      ['client', 2, 5010],
    ]);
    expect(text(msgs[0])).toBe('b'.repeat(40));
    expect(text(msgs[1])).toBe('a'.repeat(50));
    expect(hex(msgs[3].data)).toBe(hex(concatAll([pattern(5000), pattern(10)])));
    for (const e of events) if (e.type === 'frame') expect(e.header.includes(0xee) && e.header[0] === 0xee).toBe(false);
    expect(events.find((e) => e.type === 'handshake')).toMatchObject({ path: '/chat', websocket: true });
  });

  it('gives every message its own exactly-sized buffer', () => {
    const r = run([...open([PMD], [PMD]), ['server', concatAll([sf(2, pattern(3), { fin: false }), sf(0, pattern(7000))])], ['server', sf(1, deflateRawSync(enc('tiny'), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4), { rsv1: true })]]);
    for (const m of r.messages) expect(m.data.buffer.byteLength).toBe(m.data.length);
    expect(text(r.messages[1])).toBe('tiny');
  });
});

describe('HTTP before the upgrade', () => {
  it('decodes frames that share a segment with the 101 response', () => {
    const r = run([['client', upgradeRequest()], ['server', concatAll([enc(upgradeResponse()), sf(9, 'hb'), sf(1, 'first')])]]);
    expect(r.handshakes[0].websocket).toBe(true);
    expect(r.messages.map(text)).toEqual(['hb', 'first']);
    expect(r.session.state).toBe('closed');
  });

  it('skips pipelined requests and responses with Content-Length and chunked bodies before the upgrade', () => {
    const reqs = 'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello' + 'PUT /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + 'HEAD /c HTTP/1.1\r\n\r\n' + upgradeRequest();
    const resps = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok!' + 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' + 'HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n' + upgradeResponse();
    const steps: Step[] = [['client', reqs], ['server', concatAll([enc(resps), sf(1, 'hi')])], ['client', cf(1, 'yo')]];
    for (const split of [[], [1], [4, 9]]) {
      const r = run(steps, {}, split);
      expect(r.handshakes).toHaveLength(1);
      expect(r.handshakes[0].path).toBe('/chat');
      expect(r.handshakes[0].websocket).toBe(true);
      expect(r.messages.map(text)).toEqual(['hi', 'yo']);
      expect(r.findings).toEqual([]);
    }
  });

  it('keeps a rejected upgrade as HTTP, then accepts a second upgrade on the same connection', () => {
    const r = run([
      ['client', upgradeRequest()],
      ['server', 'HTTP/1.1 426 Upgrade Required\r\nContent-Length: 4\r\n\r\nnope'],
      ['client', upgradeRequest([], { path: '/again' })],
      ['server', upgradeResponse()],
      ['client', cf(1, 'in')],
    ]);
    expect(r.handshakes.map((h) => [h.path, h.status, h.websocket])).toEqual([
      ['/chat', 426, false],
      ['/again', 101, true],
    ]);
    expect(r.findings.map((f) => f.id)).toEqual(['handshake-rejected']);
    expect(r.messages.map(text)).toEqual(['in']);
  });

  it('stays HTTP after a 403, never decoding the next bytes as frames', () => {
    const r = run([['client', upgradeRequest()], ['server', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'], ['client', 'GET /x HTTP/1.1\r\n\r\n']]);
    expect(r.session.state).toBe('http');
    expect(r.session.isWebSocket).toBe(false);
    expect(r.frames).toEqual([]);
  });

  it('decodes client frames that arrived before the 101 was seen', () => {
    const r = run([['client', concatAll([enc(upgradeRequest()), cf(1, 'eager')])], ['server', upgradeResponse()]]);
    expect(r.messages.map((m) => [m.dir, text(m)])).toEqual([['client', 'eager']]);
  });

  it('reports an unanswered upgrade at the end of the capture with status 0', () => {
    const r = run([['client', upgradeRequest()]]);
    expect(r.handshakes).toHaveLength(1);
    expect(r.handshakes[0].status).toBe(0);
    expect(r.handshakes[0].websocket).toBe(false);
    expect(r.handshakes[0].expectedAccept).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('decodes client frames after an unanswered upgrade (server side not captured)', () => {
    const r = run([['client', upgradeRequest()], ['client', concatAll([cf(1, 'one'), cf(1, 'two')])]]);
    expect(r.handshakes.map((h) => h.status)).toEqual([0]);
    expect(r.messages.map(text)).toEqual(['one', 'two']);
    expect(r.session.isWebSocket).toBe(true);
  });

  it('gives up as other on a head over 64 KiB', () => {
    const r = run([['client', `GET / HTTP/1.1\r\nX: ${'a'.repeat(70000)}`]]);
    expect(r.session.state).toBe('other');
  });

  it('does not judge RSV bits when another extension was negotiated', () => {
    const ext = 'Sec-WebSocket-Extensions: x-webkit-deflate-frame';
    const r = run([...open([ext], [ext]), ['server', sf(1, 'raw', { rsv1: true, rsv2: true })]]);
    expect(r.findings).toEqual([]);
    expect(r.messages[0].compressed).toBe(false);
  });

  it('parses the negotiated permessage-deflate parameters into the handshake', () => {
    const r = run(open([`${PMD}; client_max_window_bits`], [`${PMD}; server_no_context_takeover; client_max_window_bits=10`]));
    expect(r.handshakes[0].deflate).toEqual({ serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 10 });
    expect(r.findings).toEqual([]);
  });
});

describe('lost bytes and mid-stream pickup', () => {
  it('consumes a gap inside a payload of known length and decodes the next frame normally', () => {
    const big = sf(2, pattern(1000));
    const r = run([...open(), ['server', big.subarray(0, 300)], ['server', concatAll([big.subarray(500), sf(1, 'next')]), 200]]);
    expect(r.messages).toHaveLength(2);
    expect(r.messages[0].truncated).toBe(true);
    expect(hex(r.messages[0].data)).toBe(hex(pattern(1000).subarray(0, 296)));
    expect(text(r.messages[1])).toBe('next');
    expect(r.findings.map((f) => f.id)).toEqual(['tcp-gap']);
  });

  it('resynchronises after a gap inside a header and says how many bytes it skipped', () => {
    const r = run([...open(), ['client', cf(1, 'one')], ['client', concatAll([pattern(40), cf(1, 'two'), cf(1, 'three')]), 17]]);
    expect(r.messages.map(text)).toEqual(['one', 'two', 'three']);
    expect(r.findings.map((f) => f.id)).toEqual(['tcp-gap', 'resync']);
    expect(r.findings[1].text).toContain('Skipped 40 bytes');
  });

  it('never invents the bytes of a fragmented message cut by a gap', () => {
    const r = run([...open(), ['server', sf(1, 'abc', { fin: false })], ['server', concatAll([sf(0, 'def')]), 12], ['server', sf(1, 'fresh')]]);
    const msgs = r.messages.filter((m) => m.opcode === 1);
    expect(msgs.map((m) => [text(m), m.truncated])).toEqual([
      ['abc', true],
      ['fresh', false],
    ]);
    expect(r.findings.some((f) => f.id === 'interleaved-data-message')).toBe(false);
  });

  it('with assumeWebSocket, picks up mid-stream at the first plausible frame', () => {
    const r = run([['client', concatAll([pattern(11).fill(0xfe), cf(1, 'mid'), cf(1, 'stream')]), -1], ['server', sf(1, 'back')]], { assumeWebSocket: true });
    expect(r.messages.map(text)).toEqual(['mid', 'stream', 'back']);
    expect(r.findings.map((f) => f.id)).toEqual(['no-handshake', 'resync']);
    expect(r.session.isWebSocket).toBe(true);
  });

  it('with the heuristic, detects frames in a stream without a handshake (SYN seen)', () => {
    const r = run([['client', cf(1, 'Hello')], ['server', sf(1, 'Hi')]], { heuristic: true });
    expect(r.messages.map(text)).toEqual(['Hello', 'Hi']);
  });

  it('without assumeWebSocket or heuristic, leaves a non-HTTP stream alone', () => {
    const r = run([['client', cf(1, 'Hello'), -1], ['server', sf(1, 'Hi')]]);
    expect(r.events).toEqual([]);
    expect(r.session.state).toBe('other');
  });

  it('with the heuristic, does not take TLS or SSH for WebSocket', () => {
    const tls = new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]);
    const r = run([['client', tls], ['server', 'SSH-2.0-OpenSSH_9.2\r\n']], { heuristic: true });
    // the ClientHello makes it a TLS connection (engine/tls), listed as such, never WebSocket
    expect(r.events.filter((e) => e.type !== 'tls')).toEqual([]);
    expect(r.events.filter((e) => e.type === 'tls')).toEqual([expect.objectContaining({ decrypted: false, reason: 'no complete ClientHello was captured', records: { client: 0, server: 0 } })]);
    expect(r.session.state).toBe('other');
  });

  it('with the heuristic, does not switch to WebSocket when only one side looks like frames', () => {
    const r = run([['client', 'SSH-2.0-OpenSSH_9.2\r\n'], ['server', sf(2, 'lucky')]], { heuristic: true });
    expect(r.frames).toEqual([]);
    expect(r.session.state).toBe('other');
  });

  it('parses HTTP picked up mid-stream', () => {
    const r = run([['client', upgradeRequest(), -1], ['server', upgradeResponse(), -1], ['client', cf(1, 'x')]]);
    expect(r.handshakes).toHaveLength(1);
    expect(r.messages.map(text)).toEqual(['x']);
  });

  it('tells the pipeline which side masks', () => {
    expect(looksLikeWebSocketStart(cf(1, 'hello'))).toEqual({ masked: true });
    expect(looksLikeWebSocketStart(concatAll([sf(2, 'a'), sf(1, 'b')]))).toEqual({ masked: false });
    expect(looksLikeWebSocketStart(enc('GET / HTTP/1.1\r\n'))).toBeNull();
    expect(looksLikeWebSocketStart(concatAll([sf(2, 'a'), enc('zz')]))).toBeNull();
    expect(looksLikeWebSocketStart(new Uint8Array([0x81]))).toBeNull();
  });

  it('flushes a frame cut by FIN as truncated, with an incomplete-frame finding', () => {
    const events: EngineEvent[] = [];
    const s = new TcpSession(3, (e) => events.push(e), { frames: 0, messages: 0 }, DEFAULT_SESSION_OPTIONS);
    s.data('client', enc(upgradeRequest()), 0, { ts: 1, packet: 1 });
    s.data('server', enc(upgradeResponse()), 0, { ts: 2, packet: 2 });
    s.data('server', sf(1, 'abcdef').subarray(0, 5), 0, { ts: 3, packet: 3 });
    s.end('server', 'fin', { ts: 4, packet: 4 });
    s.finish({ ts: 5, packet: 5 });
    const m = events.find((e): e is MessageEvent => e.type === 'message');
    expect(m && [text(m), m.truncated, m.packet]).toEqual(['abc', true, 4]);
    expect(events.filter((e) => e.type === 'finding').map((e) => (e.type === 'finding' ? e.id : ''))).toEqual(['incomplete-frame']);
  });
});

describe('messages', () => {
  it('assembles fragments with an empty first and an empty last fragment', () => {
    const r = run([...open(), ['client', concatAll([cf(1, '', { fin: false }), cf(0, 'mid', { fin: false }), cf(0, '')])]]);
    expect(r.messages.map((m) => [text(m), m.frames, m.wireLength])).toEqual([['mid', [0, 1, 2], 3]]);
  });

  it('validates UTF-8 across fragment boundaries', () => {
    const euro = enc('€'); // e2 82 ac
    const r = run([...open(), ['server', concatAll([sf(1, euro.subarray(0, 1), { fin: false }), sf(0, euro.subarray(1, 2), { fin: false }), sf(0, euro.subarray(2))])]]);
    expect(r.messages[0].utf8Valid).toBe(true);
    expect(text(r.messages[0])).toBe('€');
    const bad = run([...open(), ['server', concatAll([sf(1, euro.subarray(0, 2), { fin: false }), sf(0, 'x')])]]);
    expect(bad.messages[0].utf8Valid).toBe(false);
  });

  it('matches a pong to the ping of the other side', () => {
    const r = run([...open(), ['server', concatAll([sf(9, 'a'), sf(9, 'b')])], ['client', cf(10, 'b')], ['client', cf(10, 'a')]]);
    // the pong for b answers both outstanding pings; the late pong for a is unsolicited
    expect(r.findings.map((f) => f.id)).toEqual(['unsolicited-pong']);
  });

  it('accepts one pong per ping when several pings carry the same payload', () => {
    const r = run([...open(), ['server', concatAll([sf(9, ''), sf(9, '')])], ['client', cf(10, '')], ['client', cf(10, '')]]);
    expect(r.findings.map((f) => f.id)).toEqual([]);
    const same = run([...open(), ['server', concatAll([sf(9, 'hb'), sf(9, 'hb'), sf(9, 'hb')])], ['client', concatAll([cf(10, 'hb'), cf(10, 'hb'), cf(10, 'hb')])]]);
    expect(same.findings.map((f) => f.id)).toEqual([]);
  });

  it('merges a million empty continuation frames without keeping them, listing at most maxFragments', () => {
    const parts: Uint8Array[] = [cf(2, 'x', { fin: false })];
    const empty = cf(0, '', { fin: false });
    const block = concatAll(Array.from({ length: 10000 }, () => empty));
    let messages: MessageEvent[] = [];
    let frames = 0;
    const ids: string[] = [];
    const s = new TcpSession(
      1,
      (e) => {
        if (e.type === 'frame') frames++;
        else if (e.type === 'message') messages.push(e);
        else if (e.type === 'finding') ids.push(e.id);
      },
      { frames: 0, messages: 0 },
      { ...DEFAULT_SESSION_OPTIONS, maxFragments: 1000 },
    );
    let pkt = 0;
    s.data('client', enc(upgradeRequest()), 0, { ts: 0, packet: ++pkt });
    s.data('server', enc(upgradeResponse()), 0, { ts: 0, packet: ++pkt });
    s.data('client', parts[0], 0, { ts: 0, packet: ++pkt });
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) s.data('client', block, 0, { ts: 0, packet: ++pkt });
    s.data('client', cf(0, 'y'), 0, { ts: 0, packet: ++pkt });
    s.finish({ ts: 0, packet: ++pkt });
    expect(frames).toBe(1_000_002);
    expect(messages).toHaveLength(1);
    expect(text(messages[0])).toBe('xy');
    expect(messages[0].frames).toHaveLength(1000);
    expect(ids).toEqual(['limit-reached']);
    expect(performance.now() - t0).toBeLessThan(10_000);
    messages = [];
  });

  it('cuts a message at maxMessageBytes but reports its full length', () => {
    const r = run([...open(), ['server', sf(2, pattern(10000))]], { maxMessageBytes: 4096 }, [1460]);
    expect(r.messages[0].data.length).toBe(4096);
    expect(r.messages[0].length).toBe(10000);
    expect(r.messages[0].truncated).toBe(true);
  });

  it('unmasks payloads that start at any alignment', () => {
    for (let lead = 0; lead < 8; lead++) {
      const f = cf(2, pattern(333));
      const buf = new Uint8Array(lead + f.length);
      buf.set(f, lead);
      const r = run([...open(), ['client', buf.subarray(lead)]], {}, [lead + 17]);
      expect(hex(r.messages[0].data)).toBe(hex(pattern(333)));
    }
    expect(MASK.length).toBe(4);
  });
});

describe('permessage-deflate', () => {
  const pmd = (res = PMD): Step[] => open([PMD], [res]);
  const z = (s: Uint8Array | string, dictionary?: Uint8Array): Uint8Array => {
    const d = deflateRawSync(typeof s === 'string' ? enc(s) : s, { finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) });
    return d.subarray(0, d.length - 4);
  };

  it('inflates a compressed message sent in fragments (RSV1 on the first only)', () => {
    const c = z('fragmented and compressed '.repeat(50));
    const r = run([...pmd(), ['server', concatAll([sf(1, c.subarray(0, 10), { fin: false, rsv1: true }), sf(0, c.subarray(10, 20), { fin: false }), sf(0, c.subarray(20))])]], {}, [3]);
    expect(text(r.messages[0])).toBe('fragmented and compressed '.repeat(50));
    expect(r.messages[0].compressed).toBe(true);
    expect(r.findings).toEqual([]);
  });

  it('stops inflating a connection at maxInflatePerConnection, over both directions', () => {
    const noCtx = 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover';
    const big = 'a'.repeat(600);
    const r = run(
      [...open([PMD], [noCtx]), ['server', sf(1, z(big), { rsv1: true })], ['client', cf(1, z(big), { rsv1: true })], ['server', sf(1, z(big), { rsv1: true })]],
      { maxInflatePerConnection: 1000 },
    );
    expect(r.messages.map((m) => [m.dir, m.data.length, m.truncated])).toEqual([
      ['server', 600, false],
      ['client', 0, true], // the 400 bytes left cannot be reached by a safe prefix of a 600:1-ratio input
      ['server', 0, true],
    ]);
    expect(r.messages[0].data.length + r.messages[1].data.length).toBeLessThanOrEqual(1000);
    const limits = r.findings.filter((f) => f.id === 'decompressed-size-limit');
    expect(limits.length).toBe(2);
    expect(limits[0].text).toContain('maxInflatePerConnection');
  });

  it('inflates empty compressed messages: an empty payload and the single 0x00 block', () => {
    const r = run([...pmd(), ['server', concatAll([sf(1, '', { rsv1: true }), sf(1, new Uint8Array([0x00]), { rsv1: true })])]]);
    expect(r.messages.map((m) => [m.length, m.compressed, m.truncated])).toEqual([
      [0, true, false],
      [0, true, false],
    ]);
    expect(r.findings).toEqual([]);
  });

  it('keeps the window between messages (context takeover) and marks later messages after a failure as decompression-failed', () => {
    const first = 'the quick brown fox jumps over the lazy dog';
    const second = z(first, enc(first));
    const ok = run([...pmd(), ['server', concatAll([sf(1, z(first), { rsv1: true }), sf(1, second, { rsv1: true })])]]);
    expect(ok.messages.map(text)).toEqual([first, first]);
    const broken = run([...pmd(), ['server', concatAll([sf(1, new Uint8Array([0xff, 0xfe]), { rsv1: true }), sf(1, second, { rsv1: true })])]]);
    expect(broken.findings.map((f) => f.id)).toEqual(['decompression-failed', 'decompression-failed']);
    expect(broken.messages.every((m) => m.truncated && m.data.length === 0)).toBe(true);
  });

  it('stops a 1 MiB bomb that would inflate to 1 GiB at the limit, quickly', () => {
    const piece = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => piece));
    const payload = bomb.subarray(0, bomb.length - 4);
    expect(payload.length).toBeLessThan(1.2 * (1 << 20));
    const t0 = performance.now();
    const r = run([...pmd(), ['client', cf(2, payload, { rsv1: true })]], {}, [1460]);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(3000);
    expect(r.findings.map((f) => [f.id, f.dir])).toEqual([['decompressed-size-limit', 'client']]);
    const m = r.messages[0];
    expect(m.truncated).toBe(true);
    expect(m.data.length).toBeGreaterThan(0);
    expect(m.data.length).toBeLessThanOrEqual(DEFAULT_SESSION_OPTIONS.maxInflate);
    expect(m.data.every((b) => b === 0)).toBe(true);
  });
});

describe('ephemeral payloads', () => {
  it('decodes the same messages when one buffer is reused per direction, each valid during its callback', () => {
    const frames = concatAll([cf(1, 'first message'), cf(2, new Uint8Array(3000).fill(7), { fin: false }), cf(0, new Uint8Array(10).fill(8)), cf(1, 'third')]);
    const copies: string[] = [];
    const views: Uint8Array[] = [];
    const s = new TcpSession(1, (e) => {
      if (e.type === 'message') {
        copies.push(Buffer.from(e.data).toString('hex'));
        views.push(e.data);
      }
    }, { frames: 0, messages: 0 }, { ...DEFAULT_SESSION_OPTIONS, ephemeralPayloads: true });
    const reference: string[] = [];
    const r = new TcpSession(1, (e) => {
      if (e.type === 'message') reference.push(Buffer.from(e.data).toString('hex'));
    }, { frames: 0, messages: 0 }, DEFAULT_SESSION_OPTIONS);
    for (const sess of [s, r]) {
      for (const [dir, bytes] of open()) sess.data(dir, typeof bytes === 'string' ? enc(bytes) : bytes, 0, { ts: 1, packet: 1 });
      sess.data('client', frames, 0, { ts: 2, packet: 2 });
    }
    expect(copies).toEqual(reference);
    expect(copies).toHaveLength(3);
    // the views share one buffer: the third message reused the second one's buffer
    expect(views[1].buffer).toBe(views[2].buffer);
  });
});
