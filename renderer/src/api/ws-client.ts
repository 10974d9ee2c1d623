/**
 * `WsscopeApi` over one WebSocket to `wsscope serve` (the browser shell), in the wire format
 * of shared/wire.ts: `{"t":"call",id,name,args}` out, `{"t":"result",id,result}` and
 * `{"t":"push",name,payload}` in, as JSON text except a batch's row block, which comes as one
 * binary message (`decodeFrame`).
 *
 * Contract: calls never reject. A call made while disconnected waits for the next connection
 * (at most `queueTimeoutMs`), a call in flight when the socket drops resolves to an `io` error
 * Result, and the socket reconnects with capped exponential backoff until `close()`.
 * Push listeners survive reconnects. `uploadFile` streams a chosen file to the server's
 * /upload (same token) with one POST: the browser reads the file from disk as it sends, so
 * the page never holds the capture. Memory: decoded pushes are handed to listeners as is; the
 * client keeps no reference after dispatch.
 */
import type {
  ApiError,
  CallArgs,
  CallName,
  CallResult,
  PushName,
  PushPayloads,
  Result,
  SessionInfo,
  WsscopeApi,
} from '../../../shared/api';
import { err } from '../../../shared/api';
import { decodeFrame, encodeWire } from '../../../shared/wire';
import type { WireMessage } from '../../../shared/wire';

/** The part of the WebSocket interface this client uses (browser WebSocket and `ws` both fit). */
export interface SocketLike {
  readyState: number;
  /** binary messages as ArrayBuffer (the browser's default is Blob, which would need an await) */
  binaryType?: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface WsClientOptions {
  url: string;
  /** defaults to the browser's WebSocket */
  connect?: SocketFactory;
  /** first reconnect delay; doubles up to `maxBackoffMs` */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** how long a call made while disconnected waits for a connection */
  queueTimeoutMs?: number;
  /** defaults to the browser's fetch (uploads) */
  fetch?: (url: string, init: { method: string; body: Blob }) => Promise<{ status: number; json(): Promise<unknown> }>;
}

export interface WsClient extends WsscopeApi {
  /** streams `file` to the server, which opens it (the browser shell's Open... and drops) */
  uploadFile(file: Blob & { name: string }): Promise<Result<SessionInfo>>;
  /** stops reconnecting and fails pending calls */
  close(): void;
  readonly connected: boolean;
}

/** `http(s)://<host>/upload?token=<token>&name=<name>` beside the API URL `apiUrl`. */
export function uploadUrl(apiUrl: string, name: string): string {
  const u = new URL(apiUrl.replace(/^ws/, 'http'));
  u.pathname = '/upload';
  u.searchParams.set('name', name);
  return u.toString();
}

/** `ws(s)://<host>/api?token=<token>` from the page's own location (token from `?token=`). */
export function apiUrlFromLocation(loc: { protocol: string; host: string; search: string }): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/api?token=${encodeURIComponent(token)}`;
}

type Listener = (payload: never) => void;
interface Queued {
  text: string;
  id: number;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

export function createWsClient(opts: WsClientOptions): WsClient {
  const connect: SocketFactory = opts.connect ?? ((url) => new WebSocket(url) as unknown as SocketLike);
  const backoff0 = opts.backoffMs ?? 250;
  const backoffMax = opts.maxBackoffMs ?? 5000;
  const queueTimeout = opts.queueTimeoutMs ?? 10_000;

  let nextId = 1;
  let sock: SocketLike | null = null;
  let open = false;
  let closed = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  const pending = new Map<number, (r: Result<unknown>) => void>();
  const queue: Queued[] = [];
  const listeners: { [K in PushName]: Set<Listener> } = {
    batch: new Set(),
    progress: new Set(),
    captureStatus: new Set(),
    session: new Set(),
    error: new Set(),
  };

  function dispatch<K extends PushName>(name: K, payload: PushPayloads[K]): void {
    for (const l of listeners[name]) {
      try {
        (l as (p: PushPayloads[K]) => void)(payload);
      } catch (e) {
        // one broken listener must not starve the others
        console.error('wsscope push listener failed', e);
      }
    }
  }

  function failPending(error: ApiError): void {
    for (const [id, resolve] of pending) {
      pending.delete(id);
      resolve({ ok: false, error });
    }
  }

  function onMessage(ev: { data: unknown }): void {
    const data = ev.data;
    if (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !(data instanceof Uint8Array)) return;
    let msg: WireMessage;
    try {
      msg = decodeFrame(data);
    } catch {
      return;
    }
    if (msg.t === 'result') {
      const resolve = pending.get(msg.id);
      if (resolve) {
        pending.delete(msg.id);
        resolve(msg.result);
      }
    } else if (msg.t === 'push') {
      dispatch(msg.name, msg.payload as never);
    }
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer) return;
    const delay = Math.min(backoffMax, backoff0 * 2 ** Math.min(attempt, 16));
    attempt++;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      start();
    }, delay);
  }

  function start(): void {
    if (closed) return;
    let s: SocketLike;
    try {
      s = connect(opts.url);
    } catch {
      scheduleReconnect();
      return;
    }
    sock = s;
    s.binaryType = 'arraybuffer';
    s.onopen = () => {
      if (sock !== s) return;
      open = true;
      attempt = 0;
      // flush calls made while disconnected, in order
      for (const q of queue.splice(0)) {
        clearTimeout(q.timer);
        s.send(q.text);
      }
    };
    s.onmessage = onMessage;
    s.onerror = () => {
      /* a close event follows; reconnect is handled there */
    };
    s.onclose = () => {
      if (sock !== s) return;
      const wasOpen = open;
      open = false;
      sock = null;
      failPending({ code: 'io', message: 'Lost the connection to wsscope serve; reconnecting.' });
      if (wasOpen && !closed) dispatch('error', { code: 'io', message: 'Disconnected from wsscope serve; reconnecting…' });
      scheduleReconnect();
    };
  }

  function call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>> {
    return new Promise<CallResult<K>>((resolve) => {
      if (closed) {
        resolve(err('io', 'The connection to wsscope serve is closed.') as CallResult<K>);
        return;
      }
      const id = nextId++;
      const text = encodeWire({ t: 'call', id, name, args: args as unknown[] });
      pending.set(id, resolve as (r: Result<unknown>) => void);
      if (open && sock && sock.readyState === OPEN) {
        sock.send(text);
        return;
      }
      const timer = setTimeout(() => {
        const i = queue.findIndex((q) => q.id === id);
        if (i >= 0) queue.splice(i, 1);
        pending.delete(id);
        resolve(err('io', 'wsscope serve is not reachable; is it still running?') as CallResult<K>);
      }, queueTimeout);
      queue.push({ text, id, timer });
    });
  }

  async function uploadFile(file: Blob & { name: string }): Promise<Result<SessionInfo>> {
    const send = opts.fetch ?? ((url, init) => fetch(url, init));
    try {
      const res = await send(uploadUrl(opts.url, file.name), { method: 'POST', body: file });
      const r = (await res.json()) as Result<SessionInfo>;
      if (r && typeof r === 'object' && typeof r.ok === 'boolean') return r.ok ? r : err(r.error.code, r.error.message);
      return err('io', `The upload got an unexpected answer (HTTP ${res.status}).`);
    } catch (e) {
      return err('io', `The upload failed: ${e instanceof Error ? e.message : String(e)}.`);
    }
  }

  function on<K extends PushName>(name: K, cb: (p: PushPayloads[K]) => void): () => void {
    const l = cb as Listener;
    listeners[name].add(l);
    return () => listeners[name].delete(l);
  }

  start();

  return {
    get connected() {
      return open;
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      for (const q of queue.splice(0)) {
        clearTimeout(q.timer);
      }
      failPending({ code: 'cancelled', message: 'The client was closed.' });
      const s = sock;
      sock = null;
      open = false;
      s?.close();
    },
    listInterfaces: () => call('listInterfaces', []),
    validateFilter: (filter, iface) => call('validateFilter', iface === undefined ? [filter] : [filter, iface]),
    openFile: (path) => call('openFile', [path]),
    // a browser has no native open dialog: the UI uses <input type=file> + uploadFile instead
    openFileDialog: () =>
      Promise.resolve(err('unsupported', 'The browser shell has no file dialog: use Open or drop a file on the window.')),
    openBytes: (name, bytes) => call('openBytes', [name, bytes]),
    uploadFile,
    recentFiles: () => call('recentFiles', []),
    startCapture: (o) => call('startCapture', [o]),
    stopCapture: () => call('stopCapture', []),
    currentSession: () => call('currentSession', []),
    replay: () => call('replay', []),
    getMessageDetail: (index) => call('getMessageDetail', [index]),
    getHandshake: (conn) => call('getHandshake', [conn]),
    getStats: (conn) => call('getStats', [conn]),
    queryMessages: (q) => call('queryMessages', [q]),
    // a path left out before options goes over JSON as null (the engine's validator takes it)
    exportData: (format, path, opts) => call('exportData', opts !== undefined ? [format, path, opts] : path === undefined ? [format] : [format, path]),
    cancel: (what) => call('cancel', [what]),
    getAppFacets: (conn) => call('getAppFacets', [conn]),
    getHttp2Requests: (conn) => call('getHttp2Requests', [conn]),
    getEngineIoSession: (conn) => call('getEngineIoSession', [conn]),
    listDecoders: () => call('listDecoders', []),
    setDecoder: (conn, protocol) => call('setDecoder', [conn, protocol]),
    addKeyLog: (path) => call('addKeyLog', [path]),
    // a browser has no native open dialog: the UI uses <input type=file> + addKeyLogBytes instead
    addKeyLogDialog: () => Promise.resolve(err('unsupported', 'The browser shell has no file dialog: pick the key log with the button or drop it on the window.')),
    addKeyLogBytes: (name, bytes) => call('addKeyLogBytes', [name, bytes]),
    keyLogs: () => call('keyLogs', []),
    onBatch: (cb) => on('batch', cb),
    onProgress: (cb) => on('progress', cb),
    onCaptureStatus: (cb) => on('captureStatus', cb),
    onSession: (cb) => on('session', cb),
    onError: (cb) => on('error', cb),
  };
}
