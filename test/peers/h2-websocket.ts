/**
 * WebSockets over HTTP/2 (RFC 8441) between real peers in this process: Node's `http2` server
 * with `enableConnectProtocol` and an `http2.connect` client opening extended CONNECT streams
 * (`:protocol websocket`), with `ws`'s own framing on each stream (`setSocket` takes any
 * Duplex; an Http2Stream is one). permessage-deflate, when asked for, is negotiated in the
 * header fields by `ws`'s PerMessageDeflate on both sides, as `ws` does over HTTP/1.1.
 *
 *   const server = await startH2Server();
 *   const client = await connectH2(server.port);
 *   const a = await client.webSocket('/a', { deflate: true });
 *   a.send('hello'); ...
 *
 * Every message a side sends is logged (`sent`) with the stream id, so a test compares what
 * wsscope decodes with what was on the wire. With `tls`, the server is
 * `http2.createSecureServer` (ALPN h2) and keeps the key log its TLS stack writes; `echo`
 * answers every message (for a browser client); `setPage` gives GET / an HTML page.
 */
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';

type Params = Record<string, unknown[]>;
interface PerMessageDeflate {
  offer(): Record<string, unknown>;
  accept(configurations: Params[]): Record<string, unknown>;
}
// ws's own extension machinery (CommonJS modules with no published types for these paths)
// (not in ws's package exports: loaded by path next to its entry point)
const require = createRequire(import.meta.url);
const WS_LIB = join(dirname(require.resolve('ws')), 'lib');
const PerMessageDeflate = require(join(WS_LIB, 'permessage-deflate.js')) as { new (options: { isServer: boolean; maxPayload: number; threshold: number }): PerMessageDeflate; extensionName: string };
const extension = require(join(WS_LIB, 'extension.js')) as { parse(header: string): Record<string, Params[]>; format(extensions: Record<string, unknown[]>): string };

export interface H2Message {
  /** the stream the WebSocket is on */
  stream: number;
  opcode: 1 | 2;
  data: Uint8Array;
}

const MAX_PAYLOAD = 64 << 20;

/** `ws` framing on an Http2Stream; `server`: this side does not mask (RFC 6455 section 5.1) */
function wsOn(stream: http2.Http2Stream, server: boolean, pmd: PerMessageDeflate | null): WebSocket {
  const ws = new WebSocket(null as unknown as string, undefined, {});
  // `new WebSocket(null)` is ws's server-side socket; a client masks what it sends
  (ws as unknown as { _isServer: boolean })._isServer = server;
  if (pmd) (ws as unknown as { _extensions: Record<string, unknown> })._extensions = { [PerMessageDeflate.extensionName]: pmd };
  // setSocket is public in ws's source (websocket.js), absent from its published types
  (ws as unknown as { setSocket(s: Duplex, head: Buffer, o: { maxPayload: number }): void }).setSocket(stream as unknown as Duplex, Buffer.alloc(0), { maxPayload: MAX_PAYLOAD });
  return ws;
}

function logged(log: H2Message[], ws: WebSocket, stream: number): (data: string | Uint8Array) => Promise<void> {
  return (data) =>
    new Promise((resolve, reject) => {
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      log.push({ stream, opcode: typeof data === 'string' ? 1 : 2, data: bytes });
      ws.send(typeof data === 'string' ? data : Buffer.from(data), { binary: typeof data !== 'string' }, (e) => (e ? reject(e) : resolve()));
    });
}

export interface H2ServerSocket {
  stream: number;
  path: string;
  ws: WebSocket;
  send(data: string | Uint8Array): Promise<void>;
}

export interface H2Server {
  port: number;
  /** what the server sent on its WebSockets */
  sent: H2Message[];
  /** the next WebSocket the server accepts */
  accepted(): Promise<H2ServerSocket>;
  /** TLS: the NSS key log lines the server's TLS stack wrote so far */
  keylog(): string;
  /** the HTML GET / answers with */
  setPage(html: string): void;
  close(): Promise<void>;
}

export interface H2ServerOptions {
  /** what GETs are answered with (text/plain) */
  body?: string;
  /** HTTPS with ALPN h2 (http2.createSecureServer); the server's TLS secrets are kept in `keylog` */
  tls?: { key: Buffer; cert: Buffer };
  /** echo every message back on its WebSocket (logged in `sent`) */
  echo?: boolean;
}

/**
 * A server that accepts every extended CONNECT for websocket, and answers GETs with a small
 * body (GET / with the page given to `setPage`, as text/html, once set).
 */
export async function startH2Server(o: H2ServerOptions = {}): Promise<H2Server> {
  const body = o.body ?? 'plain http2 body';
  const settings = { enableConnectProtocol: true };
  const server = o.tls ? http2.createSecureServer({ ...o.tls, settings, allowHTTP1: false }) : http2.createServer({ settings });
  const keylog: string[] = [];
  server.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
  let page: string | null = null;
  const sent: H2Message[] = [];
  const queue: H2ServerSocket[] = [];
  const waiting: Array<(s: H2ServerSocket) => void> = [];
  server.on('stream', (stream, headers) => {
    if (headers[':method'] === 'CONNECT' && headers[':path'] === '/refused') {
      // a refused WebSocket (RFC 8441 section 5: any status but 200)
      stream.respond({ ':status': 403 }, { endStream: true });
      return;
    }
    if (headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket') {
      const offer = headers['sec-websocket-extensions'];
      let pmd: PerMessageDeflate | null = null;
      const res: http2.OutgoingHttpHeaders = { ':status': 200 };
      if (typeof offer === 'string') {
        const offers = extension.parse(offer)[PerMessageDeflate.extensionName];
        if (offers) {
          pmd = new PerMessageDeflate({ isServer: true, maxPayload: MAX_PAYLOAD, threshold: 0 });
          res['sec-websocket-extensions'] = extension.format({ [PerMessageDeflate.extensionName]: [pmd.accept(offers)] });
        }
      }
      const proto = headers['sec-websocket-protocol'];
      if (typeof proto === 'string') res['sec-websocket-protocol'] = proto.split(',')[0].trim();
      stream.respond(res);
      const ws = wsOn(stream, true, pmd);
      const s: H2ServerSocket = { stream: stream.id!, path: String(headers[':path']), ws, send: logged(sent, ws, stream.id!) };
      if (o.echo) ws.on('message', (data: Buffer, binary: boolean) => void s.send(binary ? new Uint8Array(data) : data.toString('utf8')));
      const w = waiting.shift();
      if (w) w(s);
      else queue.push(s);
      return;
    }
    if (page !== null && headers[':path'] === '/') {
      stream.respond({ ':status': 200, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      stream.end(page);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sent,
    keylog: () => keylog.join(''),
    setPage: (html) => (page = html),
    accepted: () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface H2ClientSocket {
  stream: number;
  ws: WebSocket;
  send(data: string | Uint8Array): Promise<void>;
  /** every message the client received, in order */
  received: H2Message[];
}

export interface H2Client {
  session: http2.ClientHttp2Session;
  /** what the client sent on its WebSockets */
  sent: H2Message[];
  webSocket(path: string, o?: { deflate?: boolean; protocol?: string }): Promise<H2ClientSocket>;
  get(path: string): Promise<{ status: number; body: string; stream: number }>;
  /** an extended CONNECT whose answer is only awaited (for refusals): the status and the stream id */
  refusedWebSocket(path: string): Promise<{ status: number; stream: number }>;
  close(): Promise<void>;
}

/** `tls`: over HTTPS (ALPN h2), any certificate accepted */
export async function connectH2(port: number, o: { tls?: boolean } = {}): Promise<H2Client> {
  const scheme = o.tls ? 'https' : 'http';
  const session = http2.connect(`${scheme}://127.0.0.1:${port}`, o.tls ? { rejectUnauthorized: false, servername: 'localhost' } : {});
  // RFC 8441 section 4: no extended CONNECT before the server's SETTINGS allow it
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', (s) => (s.enableConnectProtocol ? resolve() : reject(new Error('the server did not enable extended CONNECT'))));
    session.once('error', reject);
  });
  const sent: H2Message[] = [];
  return {
    session,
    sent,
    webSocket: (path, o = {}) =>
      new Promise((resolve, reject) => {
        const pmd = o.deflate ? new PerMessageDeflate({ isServer: false, maxPayload: MAX_PAYLOAD, threshold: 0 }) : null;
        const h: http2.OutgoingHttpHeaders = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': path, ':authority': `127.0.0.1:${port}`, 'sec-websocket-version': '13', origin: `${scheme}://127.0.0.1:${port}` };
        if (pmd) h['sec-websocket-extensions'] = extension.format({ [PerMessageDeflate.extensionName]: [pmd.offer()] });
        if (o.protocol) h['sec-websocket-protocol'] = o.protocol;
        const req = session.request(h, { endStream: false });
        req.once('error', reject);
        req.once('response', (res) => {
          if (res[':status'] !== 200) return reject(new Error(`extended CONNECT answered ${res[':status']}`));
          const accepted = res['sec-websocket-extensions'];
          if (pmd && typeof accepted === 'string') pmd.accept(extension.parse(accepted)[PerMessageDeflate.extensionName]);
          const ws = wsOn(req, false, pmd && typeof accepted === 'string' ? pmd : null);
          const received: H2Message[] = [];
          ws.on('message', (data: Buffer, isBinary: boolean) => received.push({ stream: req.id!, opcode: isBinary ? 2 : 1, data: new Uint8Array(data) }));
          resolve({ stream: req.id!, ws, received, send: logged(sent, ws, req.id!) });
        });
      }),
    get: (path) =>
      new Promise((resolve, reject) => {
        const req = session.request({ ':method': 'GET', ':path': path });
        let status = 0;
        let body = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => resolve({ status, body, stream: req.id! }));
        req.on('error', reject);
        req.end();
      }),
    refusedWebSocket: (path) =>
      new Promise((resolve, reject) => {
        const req = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': path, ':authority': `127.0.0.1:${port}`, 'sec-websocket-version': '13' }, { endStream: false });
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('error', reject);
        // the refusal ends the server's side; end ours so the stream closes
        req.on('end', () => {
          req.end();
          resolve({ status, stream: req.id! });
        });
        req.resume();
      }),
    close: () => new Promise((resolve) => session.close(() => resolve())),
  };
}
