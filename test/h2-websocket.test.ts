/**
 * WebSocket over HTTP/2 (RFC 8441, h2c with prior knowledge) end to end with real peers on
 * `lo`: Node's http2 server with enableConnectProtocol and an http2 client opening extended
 * CONNECT streams, `ws` framing each stream (test/peers/h2-websocket.ts). Captured by the
 * test itself with dumpcap (`tcp port N`, the server's own port), then read by the real CLI
 * (`read --json`). The peers' logs are the truth for every message; tshark's HTTP/2
 * dissector (which shows no WebSocket frames here) is the independent oracle for the stream
 * ids, the request header fields and the DATA bytes of each stream. Over TLS (ALPN h2) the
 * same with the server's key log, and with headless Chromium, which opens a page's
 * `wss://` WebSocket as an extended CONNECT stream on the page's HTTP/2 connection.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { captureLo } from './peers/capture';
import { connectH2, startH2Server, type H2Message } from './peers/h2-websocket';
import { selfSigned, type Cert } from './peers/tls';
import { startChromiumClient } from './peers/chromium';
import { REPO_ROOT } from './kit/paths';

type Line = Record<string, unknown>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-h2-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readJson(file: string, ...args: string[]): Line[] {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), 'read', file, '--json', ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** a JSON message's payload bytes */
function payload(m: Line): string {
  return m.text !== undefined ? Buffer.from(m.text as string, 'utf8').toString('hex') : Buffer.from((m.base64 as string) ?? '', 'base64').toString('hex');
}

function keys_(ms: H2Message[], stream: number): string[] {
  return ms.filter((m) => m.stream === stream).map((m) => `${m.opcode}:${Buffer.from(m.data).toString('hex')}`);
}

/** RFC 6455 section 5.2: the header size of a frame with this payload length */
function wsHeaderLength(len: number, masked: boolean): number {
  return 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (masked ? 4 : 0);
}

/** tshark's HTTP/2 view of a capture: DATA payload bytes per "stream/direction", and each request's :path */
function tsharkStreams(file: string, port: number, decode: string[]): { dataBytes: Map<string, number>; paths: Map<number, string> } {
  const t = execFileSync('tshark', ['-r', file, ...decode, '-Y', 'http2', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'tcp.srcport', '-e', 'http2.streamid', '-e', 'http2.type', '-e', 'http2.length', '-e', 'http2.header.name', '-e', 'http2.header.value'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const dataBytes = new Map<string, number>();
  const paths = new Map<number, string>();
  for (const row of t.split('\n').filter((r) => r !== '')) {
    const [sport, ids, types, lens, names, values] = row.split('\t').map((f) => f.split('|'));
    const dirOf = Number(sport[0]) === port ? 'server' : 'client';
    for (let i = 0; i < types.length; i++) if (types[i] === '0') dataBytes.set(`${ids[i]}/${dirOf}`, (dataBytes.get(`${ids[i]}/${dirOf}`) ?? 0) + Number(lens[i]));
    const pi = names.indexOf(':path');
    if (pi >= 0 && dirOf === 'client') paths.set(Number(ids[types.indexOf('1')]), values[pi]);
  }
  return { dataBytes, paths };
}

/** the WebSocket frames wsscope decoded on each stream (header + payload) fill exactly its DATA bytes as tshark counts them */
function expectFramesFillStreams(out: Line[], dataBytes: Map<string, number>, streams: Array<[number, unknown]>): void {
  for (const [stream, conn] of streams) {
    for (const d of ['client', 'server']) {
      const frames = out.filter((l) => l.type === 'frame' && l.conn === conn && l.dir === d);
      const wire = frames.reduce((n, f) => n + (f.length as number) + wsHeaderLength(f.length as number, f.masked as boolean), 0);
      expect(wire).toBe(dataBytes.get(`${stream}/${d}`));
    }
  }
}

describe('WebSocket over HTTP/2 (RFC 8441) between Node http2 peers, captured on lo', () => {
  it('decodes two interleaved WebSockets and a plain GET on one h2c connection byte-exact, as tshark sees the streams', async () => {
    const file = join(dir, 'h2c.pcapng');
    const server = await startH2Server();
    const live = await captureLo({ backend: 'dumpcap', port: server.port, file });
    const client = await connectH2(server.port);
    const a = await client.webSocket('/chat', { deflate: true, protocol: 'chat.v1' });
    const sa = await server.accepted();
    const b = await client.webSocket('/feed');
    const sb = await server.accepted();
    expect([sa.stream, sb.stream]).toEqual([a.stream, b.stream]);

    // interleaved: each message alternates stream and direction
    const big = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(5000); // 180 kB: many DATA frames, past the 64 KiB window
    const bigBinary = new Uint8Array(200_000).map((_, i) => (i * 7919) & 0xff);
    await a.send('hello over h2');
    await b.send(new Uint8Array([0, 1, 2, 254, 255]));
    await sa.send('server to A');
    await sb.send('server to B: grüße 🌍');
    await a.send(big);
    await sb.send(bigBinary);
    const got = await client.get('/plain');
    expect(got).toMatchObject({ status: 200, body: 'plain http2 body' });
    const refused = await client.refusedWebSocket('/refused');
    expect(refused.status).toBe(403);
    await b.send('');
    await sa.send(bigBinary.subarray(0, 3000));
    // the server closes B with its own code; the client closes A normally
    const bClosed = new Promise<[number, string]>((resolve) => b.ws.once('close', (code, reason) => resolve([code, String(reason)])));
    sb.ws.close(4001, 'server says bye');
    expect(await bClosed).toEqual([4001, 'server says bye']);
    // both ends see the close handshake before the session goes, so the peers' logs are
    // complete (DATA in flight after a RST_STREAM is decoded too: engine/h2/h2.test.ts)
    const aClosed = Promise.all([new Promise<void>((resolve) => sa.ws.once('close', () => resolve())), new Promise<void>((resolve) => a.ws.once('close', () => resolve()))]);
    a.ws.close(1000, 'done');
    await aClosed;
    await client.close();
    await server.close();

    const sentMessages = client.sent.length + server.sent.length;
    // live: every data message decoded before the capture stops (connection teardown included)
    await live.until((evs) => evs.filter((e) => e.type === 'message' && (e.opcode === 1 || e.opcode === 2)).length >= sentMessages && evs.filter((e) => e.type === 'connection-end').length >= 4, `${sentMessages} messages and four connection ends`);
    await live.stop();

    const out = readJson(file);
    const conns = out.filter((l) => l.type === 'connection');
    expect(conns).toHaveLength(4);
    const tcp = conns.find((c) => c.http2 === undefined)!;
    const byStream = new Map(conns.filter((c) => c.http2 === true).map((c) => [c.h2Stream as number, c]));
    expect([...byStream.keys()].sort()).toEqual([a.stream, b.stream, refused.stream].sort());
    for (const c of byStream.values()) expect(c).toMatchObject({ parent: tcp.id, client: tcp.client, server: tcp.server, transport: 'tcp' });
    const connA = byStream.get(a.stream)!.id;
    const connB = byStream.get(b.stream)!.id;

    // handshakes: from the header fields, no key or accept
    const hsA = out.find((l) => l.type === 'handshake' && l.conn === connA)!;
    const hsB = out.find((l) => l.type === 'handshake' && l.conn === connB)!;
    expect(hsA).toMatchObject({ http2: true, status: 200, path: '/chat', host: `127.0.0.1:${server.port}`, protocol: 'chat.v1', websocket: true });
    expect(hsA.extensions).toMatch(/^permessage-deflate/);
    expect(hsB).toMatchObject({ http2: true, status: 200, path: '/feed', protocol: '', extensions: '', websocket: true });
    expect(hsA.key).toBeUndefined();

    // every message each peer sent, byte-exact, on its own connection and direction
    const msgs = (conn: unknown, d: string): string[] => out.filter((l) => l.type === 'message' && l.conn === conn && l.dir === d && (l.opcode === 1 || l.opcode === 2)).map((m) => `${m.opcode as number}:${payload(m)}`);
    expect(msgs(connA, 'client')).toEqual(keys_(client.sent, a.stream));
    expect(msgs(connA, 'server')).toEqual(keys_(server.sent, a.stream));
    expect(msgs(connB, 'client')).toEqual(keys_(client.sent, b.stream));
    expect(msgs(connB, 'server')).toEqual(keys_(server.sent, b.stream));
    expect(msgs(connA, 'client')).toHaveLength(2);
    expect(msgs(connB, 'server')).toHaveLength(2);
    // permessage-deflate on A (both ways), none on B
    expect(out.filter((l) => l.type === 'message' && l.conn === connA && l.compressed === true).length).toBeGreaterThanOrEqual(4);
    expect(out.filter((l) => l.type === 'message' && l.conn === connB && l.compressed === true)).toEqual([]);
    // the server's close of B with its own code
    expect(out.find((l) => l.type === 'message' && l.conn === connB && l.dir === 'server' && l.opcode === 8)).toMatchObject({ code: 4001, reason: 'server says bye' });
    expect(out.find((l) => l.type === 'message' && l.conn === connA && l.dir === 'client' && l.opcode === 8)).toMatchObject({ code: 1000, reason: 'done' });

    // the plain GET is listed on the TCP connection
    expect(out.filter((l) => l.type === 'http2-request')).toEqual([
      { type: 'http2-request', conn: tcp.id, stream: got.stream, ts: expect.any(Number), method: 'GET', path: '/plain', host: `127.0.0.1:${server.port}`, status: 200, requestBytes: 0, responseBytes: 'plain http2 body'.length, reset: false },
    ]);
    // the refused one: its handshake kept and shown, no WebSocket, one warning
    const connR = byStream.get(refused.stream)!.id;
    expect(out.filter((l) => l.conn === connR && l.type !== 'frame')).toMatchObject([
      { type: 'handshake', http2: true, status: 403, path: '/refused', websocket: false },
      { type: 'finding', id: 'h2-connect-rejected', severity: 'warning' },
    ]);
    expect(out.filter((l) => l.type === 'finding' && l.severity !== 'info' && l.conn !== connR)).toEqual([]);

    // tshark's HTTP/2 dissector: DATA bytes per stream and direction equal the WebSocket
    // frames wsscope decoded there (header + payload); the GET's path on its stream
    const { dataBytes, paths } = tsharkStreams(file, server.port, ['-d', `tcp.port==${server.port},http2`]);
    expectFramesFillStreams(out, dataBytes, [[a.stream, connA], [b.stream, connB]]);
    expect(paths.get(got.stream)).toBe('/plain');
    expect(paths.get(a.stream)).toBe('/chat');
    expect(dataBytes.get(`${got.stream}/server`)).toBe('plain http2 body'.length);
  }, 60_000);
});

describe('WebSocket over HTTP/2 over TLS (ALPN h2), decrypted from the key log', () => {
  let cert: Cert;
  beforeAll(() => {
    cert = selfSigned(dir);
  });

  it('Node http2.createSecureServer + http2.connect: the WebSocket stream and a GET inside TLS, byte-exact, as tshark sees the streams', async () => {
    const server = await startH2Server({ tls: cert });
    const file = join(dir, 'h2-tls.pcapng');
    const live = await captureLo({ backend: 'dumpcap', port: server.port, file });
    const client = await connectH2(server.port, { tls: true });
    const a = await client.webSocket('/secure', { deflate: true, protocol: 'chat.v1' });
    const sa = await server.accepted();
    await a.send('hello over h2 and TLS');
    await sa.send('server over TLS: grüße 🌍');
    await a.send(new Uint8Array(100_000).map((_, i) => (i * 131) & 0xff)); // many TLS records and DATA frames
    const got = await client.get('/plain');
    await sa.send('after the GET');
    const closed = Promise.all([new Promise<void>((resolve) => sa.ws.once('close', () => resolve())), new Promise<void>((resolve) => a.ws.once('close', () => resolve()))]);
    a.ws.close(1000, 'bye');
    await closed;
    await client.close();
    await server.close();
    // without keys the live pipeline sees one opaque TLS connection end
    await live.until((evs) => evs.some((e) => e.type === 'connection-end'), 'the connection ends');
    await live.stop();

    const keys = join(dir, 'h2-tls.keys');
    writeFileSync(keys, server.keylog());
    const out = readJson(file, '--keylog', keys);
    expect(out.filter((l) => l.type === 'tls')).toEqual([expect.objectContaining({ version: 'TLS 1.3', sni: 'localhost', alpn: 'h2', decrypted: true })]);
    const conns = out.filter((l) => l.type === 'connection');
    expect(conns).toHaveLength(2);
    const ws = conns.find((c) => c.http2 === true)!;
    expect(ws).toMatchObject({ h2Stream: a.stream, parent: conns[0].id });
    expect(out.find((l) => l.type === 'handshake')).toMatchObject({ conn: ws.id, http2: true, status: 200, path: '/secure', protocol: 'chat.v1', websocket: true });
    const msgs = (d: string): string[] => out.filter((l) => l.type === 'message' && l.conn === ws.id && l.dir === d && (l.opcode === 1 || l.opcode === 2)).map((m) => `${m.opcode as number}:${payload(m)}`);
    expect(msgs('client')).toEqual(keys_(client.sent, a.stream));
    expect(msgs('server')).toEqual(keys_(server.sent, a.stream));
    expect(out.filter((l) => l.type === 'http2-request')).toMatchObject([{ conn: conns[0].id, stream: got.stream, method: 'GET', path: '/plain', status: 200 }]);
    expect(out.filter((l) => l.type === 'finding' && l.severity !== 'info')).toEqual([]);
    const { dataBytes, paths } = tsharkStreams(file, server.port, ['-o', `tls.keylog_file:${keys}`, '-d', `tcp.port==${server.port},tls`]);
    expect(paths.get(a.stream)).toBe('/secure');
    expectFramesFillStreams(out, dataBytes, [[a.stream, ws.id]]);
  }, 60_000);

  it('headless Chromium loading its page over HTTPS/2 from that server opens its wss:// WebSocket as an HTTP/2 stream (RFC 8441)', async () => {
    const server = await startH2Server({ tls: cert, echo: true });
    const file = join(dir, 'h2-chromium.pcapng');
    const keys = join(dir, 'h2-chromium.keys');
    const live = await captureLo({ backend: 'dumpcap', port: server.port, file });
    const messages = ['hello from the browser', new Uint8Array([0, 1, 2, 255]), 'x'.repeat(70_000)];
    const browser = await startChromiumClient({ port: server.port, messages, path: '/browser', keylogFile: keys, page: { url: `https://127.0.0.1:${server.port}/`, set: (html) => server.setPage(html) } });
    try {
      await browser.done;
    } finally {
      await browser.stop();
      await server.close();
    }
    await live.until((evs) => evs.some((e) => e.type === 'connection-end'), 'the connections end');
    await live.stop();
    const out = readJson(file, '--keylog', keys);
    // measured with Debian's Chromium 156: one TCP connection; the page's GET, then the
    // WebSocket as extended CONNECT on the same HTTP/2 connection, with permessage-deflate
    expect(out.filter((l) => l.type === 'tls')).toEqual([expect.objectContaining({ version: 'TLS 1.3', alpn: 'h2', decrypted: true })]);
    const conns = out.filter((l) => l.type === 'connection');
    expect(conns.map((c) => c.http2 ?? false)).toEqual([false, true]);
    const ws = conns[1];
    expect(ws).toMatchObject({ parent: conns[0].id, client: conns[0].client, server: conns[0].server });
    expect(out.find((l) => l.type === 'handshake')).toMatchObject({ conn: ws.id, http2: true, status: 200, path: '/browser', host: `127.0.0.1:${server.port}`, origin: `https://127.0.0.1:${server.port}`, websocket: true });
    expect(out.find((l) => l.type === 'handshake')!.extensions).toMatch(/^permessage-deflate/);
    expect(out.filter((l) => l.type === 'http2-request' && l.path === '/')).toMatchObject([{ conn: conns[0].id, method: 'GET', status: 200 }]);
    // what the page logged, byte-exact; the server's echoes likewise
    const msgs = (d: string): string[] => out.filter((l) => l.type === 'message' && l.conn === ws.id && l.dir === d && (l.opcode === 1 || l.opcode === 2)).map((m) => `${m.opcode as number}:${payload(m)}`);
    expect(msgs('client')).toEqual(browser.sent.map((m) => `${m.opcode}:${Buffer.from(m.data).toString('hex')}`));
    expect(msgs('server')).toEqual(keys_(server.sent, ws.h2Stream as number));
    expect(browser.received.map((m) => `${m.opcode}:${Buffer.from(m.data).toString('hex')}`)).toEqual(msgs('server'));
    expect(out.some((l) => l.type === 'message' && l.conn === ws.id && l.compressed === true)).toBe(true);
    expect(out.filter((l) => l.type === 'finding' && l.severity !== 'info')).toEqual([]);
    const { dataBytes } = tsharkStreams(file, server.port, ['-o', `tls.keylog_file:${keys}`, '-d', `tcp.port==${server.port},tls`]);
    expectFramesFillStreams(out, dataBytes, [[ws.h2Stream as number, ws.id]]);
  }, 60_000);
});

describe('server push between Node http2 peers', () => {
  it('lists the pushed response with the request of its PUSH_PROMISE, as the client received it', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.pushStream({ ':path': '/pushed.css' }, (err, push) => {
        if (err) throw err;
        push.respond({ ':status': 200, 'content-type': 'text/css' });
        push.end('body { color: teal }');
      });
      stream.respond({ ':status': 200 });
      stream.end('<link rel=stylesheet href=/pushed.css>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const file = join(dir, 'push.pcapng');
    const live = await captureLo({ backend: 'dumpcap', port, file });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const pushed = new Promise<{ path: string; body: string }>((resolve) =>
      session.on('stream', (push, headers) => {
        let body = '';
        push.setEncoding('utf8');
        push.on('data', (c: string) => (body += c));
        push.on('end', () => resolve({ path: String(headers[':path']), body }));
      }),
    );
    const req = session.request({ ':path': '/page' });
    req.resume();
    await new Promise((resolve) => req.on('end', resolve));
    const got = await pushed;
    await new Promise<void>((resolve) => session.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await live.until((evs) => evs.some((e) => e.type === 'connection-end'), 'the connection ends');
    await live.stop();
    expect(got).toEqual({ path: '/pushed.css', body: 'body { color: teal }' });
    const out = readJson(file);
    expect(out.filter((l) => l.type === 'http2-request')).toEqual([
      expect.objectContaining({ stream: 1, method: 'GET', path: '/page', status: 200 }),
      expect.objectContaining({ stream: 2, method: 'GET', path: '/pushed.css', status: 200, responseBytes: got.body.length, pushed: true }),
    ]);
  }, 30_000);
});
