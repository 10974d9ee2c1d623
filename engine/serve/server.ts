/**
 * `wsscope serve`: the UI in a browser. A node:http server bound to 127.0.0.1 only serves
 * the built renderer (out/renderer, static files) and one WebSocket endpoint, /api, that
 * relays the WsscopeApi wire format (shared/wire.ts: JSON text, row blocks as binary
 * messages) to an engine process
 * (engine/service/host.ts through engine/service/client.ts).
 *
 * Security model: the page URL carries a random token (crypto.randomBytes); the WebSocket
 * upgrade is refused with 403 unless it carries that token AND an Origin equal to this
 * server's own origin (so another site open in the same browser cannot drive the engine,
 * RFC 6455 section 10.2), and every request must name this server in its Host header (DNS
 * rebinding). Static responses carry a strict CSP (no inline or remote scripts; connections
 * only to this origin), nosniff, no-referrer (the token never leaves in a Referer), and are
 * resolved inside the output directory only: no listing, no traversal.
 *
 * Uploads: the page's "Open..." POSTs the chosen file to /upload (same token, same Origin
 * and Host checks); the body is streamed to a new private file (engine/fs/private.ts) in
 * this server's scratch folder, never held in memory, then opened by the engine like any
 * file. The previous upload is removed when a new one is opened, the folder on close.
 *
 * Memory: per connected page nothing but the socket; pushes are encoded once per push and
 * sent to every page. An upload in flight holds one stream buffer; on disk at most
 * MAX_UPLOAD bytes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, createWriteStream, existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { homedir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiError } from '../../shared/api';
import { decodeWire, encodeFrame, encodeWire, type WireMessage } from '../../shared/wire';
import { CONTENT_TYPES } from '../../shared/content-types';
import { nodeFork, spawnEngine, type EngineClient } from '../service/client';
import { isCallName } from '../service/validate';
import { parseCommand } from '../cli/args';
import { createPrivateFile, ensurePrivateDir, makeScratchDir } from '../fs/private';
import type { Result, SessionInfo } from '../../shared/api';

export interface ServeOptions {
  /** 0 or absent: any free port */
  port?: number;
  /** capture to open at start */
  file?: string;
  /** loopback only: the only accepted value */
  host?: '127.0.0.1';
  /** built renderer (default out/renderer, built on first use) */
  staticDir?: string;
  /** engine to relay to (default: a new host process) */
  engine?: EngineClient;
  configDir?: string;
  log?: (line: string) => void;
}

export interface ServeHandle {
  url: string;
  token: string;
  port: number;
  origin: string;
  close(): Promise<void>;
}

/** Largest message a page may send (an uploaded capture, base64 in JSON). */
export const MAX_WIRE_MESSAGE = 768 * 1024 * 1024;

/** Largest capture a page may upload to /upload (streamed to disk). */
export const MAX_UPLOAD = 64 * 1024 * 1024 * 1024;

/** The name an upload is stored under: its base name in a safe alphabet (the page chose it). */
export function uploadName(name: string): string {
  return (name.replace(/\\/g, '/').split('/').pop() ?? '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 120) || 'upload.pcap';
}


/**
 * The page's Content-Security-Policy. Styles allow 'unsafe-inline' because the renderer sets
 * style attributes (virtualised rows, splitters); scripts never do.
 */
export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function configDirDefault(): string {
  return process.env.XDG_CONFIG_HOME ? join(process.env.XDG_CONFIG_HOME, 'wsscope') : join(homedir(), '.config', 'wsscope');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function ensureStatic(dir: string | undefined, log: (s: string) => void): Promise<string> {
  if (dir) {
    if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir} has no index.html`);
    return realpathSync(dir);
  }
  const { RENDERER_OUT, buildRenderer } = await import('./renderer-build');
  if (!existsSync(join(RENDERER_OUT, 'index.html'))) {
    log('wsscope: building the UI (first run only)...');
    await buildRenderer(RENDERER_OUT);
  }
  return realpathSync(RENDERER_OUT);
}

export async function startServe(opts: ServeOptions = {}): Promise<ServeHandle> {
  if (opts.host !== undefined && opts.host !== '127.0.0.1') throw new Error('wsscope serve listens on 127.0.0.1 only');
  const log = opts.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const root = await ensureStatic(opts.staticDir, log);
  const token = randomBytes(24).toString('base64url');
  let port = 0;
  let origin = '';
  let csp = '';

  const hostOk = (req: IncomingMessage): boolean => req.headers.host === `127.0.0.1:${port}`;

  const send = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': csp,
      'Cache-Control': 'no-store',
    });
    res.end(text);
  };

  const sendResult = (res: ServerResponse, status: number, r: Result<SessionInfo>): void => {
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': csp,
      'Cache-Control': 'no-store',
    });
    res.end(JSON.stringify(r));
  };
  const refuse = (res: ServerResponse, status: number, message: string): void =>
    sendResult(res, status, { ok: false, error: { code: 'bad-request', message } });

  let scratch = '';
  let lastUpload = '';
  /** POST /upload?token=T&name=N: the body streamed to a private file, then opened. */
  async function upload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // the same key as the WebSocket: the token, and a request sent by this server's own page
    if (!sameSecret(url.searchParams.get('token') ?? '', token) || req.headers.origin !== origin) return refuse(res, 403, 'Forbidden.');
    const length = Number(req.headers['content-length']);
    if (!Number.isSafeInteger(length) || length < 0) return refuse(res, 411, 'The upload needs a Content-Length.');
    if (length > MAX_UPLOAD) return refuse(res, 413, `The capture is larger than ${MAX_UPLOAD / 2 ** 30} GiB.`);
    let path = '';
    try {
      scratch ||= makeScratchDir();
      const dir = ensurePrivateDir(join(scratch, randomBytes(6).toString('hex')));
      path = join(dir, uploadName(url.searchParams.get('name') ?? ''));
      const fd = createPrivateFile(path);
      let got = 0;
      req.on('data', (chunk: Buffer) => {
        got += chunk.length;
        // a body longer than it said it was is cut off here, not written
        if (got > length) req.destroy(new Error('the upload is longer than its Content-Length'));
      });
      await pipeline(req, createWriteStream(path, { fd }));
      if (got !== length) throw new Error(`the upload ended after ${got} of ${length} bytes`);
    } catch (e) {
      if (path) rmSync(join(path, '..'), { recursive: true, force: true });
      if (!res.headersSent && !res.destroyed) refuse(res, 400, `The upload failed: ${e instanceof Error ? e.message : String(e)}.`);
      return;
    }
    // the session shows the user's file name, and the temporary path stays out of the recent files
    const r = await engine.call('openFile', [path, (url.searchParams.get('name') ?? '').slice(0, 255) || uploadName('')]);
    if (!r.ok) {
      rmSync(join(path, '..'), { recursive: true, force: true });
      return sendResult(res, 200, r);
    }
    if (lastUpload) rmSync(lastUpload, { recursive: true, force: true });
    lastUpload = join(path, '..');
    sendResult(res, 200, r);
  }

  const server = createServer((req, res) => {
    if (!hostOk(req)) return send(res, 403, 'Forbidden: wrong Host\n');
    let url: URL;
    let pathname: string;
    try {
      url = new URL(req.url ?? '/', origin);
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return send(res, 400, 'Bad request\n');
    }
    if (req.method === 'POST' && pathname === '/upload') return void upload(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed\n');
    if (pathname.includes('\0') || pathname.includes('\\')) return send(res, 404, 'Not found\n');
    if (pathname === '/') pathname = '/index.html';
    // normalise, then require the result to stay inside root (no "..", no symlink escape)
    const file = resolve(root, '.' + normalize(pathname));
    if (!file.startsWith(root + sep)) return send(res, 404, 'Not found\n');
    let size: number;
    let real: string;
    try {
      real = realpathSync(file);
      const st = statSync(real);
      if (!st.isFile() || !real.startsWith(root + sep)) return send(res, 404, 'Not found\n');
      size = st.size;
    } catch {
      return send(res, 404, 'Not found\n');
    }
    const type = CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': size,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': csp,
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
      'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(real).on('error', () => res.destroy()).pipe(res);
  });

  const engine =
    opts.engine ??
    spawnEngine({ fork: nodeFork({ args: [`--config-dir=${opts.configDir ?? configDirDefault()}`] }) });
  const ownsEngine = !opts.engine;

  const wss = new WebSocketServer({
    server,
    path: '/api',
    maxPayload: MAX_WIRE_MESSAGE,
    verifyClient: (info, cb) => {
      const req = info.req;
      const t = new URL(req.url ?? '/', origin).searchParams.get('token') ?? '';
      if (!hostOk(req) || !sameSecret(t, token) || info.origin !== origin) return cb(false, 403, 'Forbidden');
      cb(true);
    },
  });

  const sockets = new Set<WebSocket>();
  const offPush = engine.onPush((name, payload) => {
    // a full disk is the operator's to fix, and no page may be open to show it: say it here too
    if (name === 'error' && (payload as ApiError).code === 'disk-full') log(`wsscope serve: ${(payload as ApiError).message}`);
    if (sockets.size === 0) return;
    // a batch's row block goes as one binary message, the rest as JSON text (shared/wire.ts)
    const frame = encodeFrame({ t: 'push', name, payload } as WireMessage);
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(frame);
  });

  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text only');
      let msg: WireMessage;
      try {
        msg = decodeWire(data.toString());
      } catch {
        return ws.close(1007, 'not wire JSON');
      }
      if (msg.t !== 'call' || typeof msg.id !== 'number' || typeof msg.name !== 'string' || !Array.isArray(msg.args)) {
        return ws.close(1008, 'expected a call');
      }
      const { id, name } = msg;
      let args = msg.args;
      // A page never chooses a path to write on this machine: exports come back as bytes.
      if (name === 'exportData') args = args.length > 2 ? [args[0], null, args[2]] : args.slice(0, 1);
      const reply = isCallName(name)
        ? engine.callRaw(name, args)
        : Promise.resolve({ ok: false as const, error: { code: 'bad-request' as const, message: `Unknown call ${String(name).slice(0, 60)}.` } });
      void reply.then((result) => {
        if (ws.readyState === ws.OPEN) ws.send(encodeWire({ t: 'result', id, result }));
      });
    });
  });

  try {
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', rej);
        res();
      });
    });
  } catch (e) {
    offPush();
    wss.close();
    if (ownsEngine) await engine.close();
    throw e;
  }
  port = (server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;
  csp = contentSecurityPolicy(origin);

  if (opts.file) {
    const r = await engine.call('openFile', [opts.file]);
    if (!r.ok) log(`wsscope: ${r.error.message}`);
  }

  return {
    url: `${origin}/?token=${token}`,
    token,
    port,
    origin,
    async close() {
      offPush();
      for (const s of sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (ownsEngine) await engine.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

const SERVE_HELP = `Usage: wsscope serve [FILE] [--port N]

Runs the wsscope UI for a browser on http://127.0.0.1 (loopback only) and prints the URL,
which carries a secret token: anyone with the URL can use the UI. Stops on Ctrl-C.
  FILE        capture to open at start (.pcap, .pcapng, optionally .gz)
  --port N    port to listen on (default: any free port)
`;

/** `wsscope serve [FILE] [--port N]`: prints the URL and runs until SIGINT/SIGTERM. */
export async function serveCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('serve', SERVE_HELP, {
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string', default: '0' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    process.stderr.write(`wsscope serve: one FILE at most\n`);
    return 2;
  }
  const file = positionals[0];
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`wsscope serve: --port wants a number from 0 to 65535, got ${JSON.stringify(values.port)}\n`);
    return 2;
  }
  let handle: ServeHandle;
  try {
    handle = await startServe({ port, file: file ? resolve(file) : undefined, host: '127.0.0.1' });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = code === 'EADDRINUSE' ? `port ${port} is in use; pick another with --port` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`wsscope serve: ${msg}\n`);
    return 1;
  }
  process.stdout.write(`wsscope: open ${handle.url}\n(loopback only; the token in the URL is the key, keep it private; Ctrl-C stops)\n`);
  await new Promise<void>((r) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      r();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await handle.close();
  return 0;
}
