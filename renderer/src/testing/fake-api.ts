/**
 * In-memory `WsscopeApi` for component tests: holds rows/details/handshakes given by the test,
 * records every call, and lets the test push batches and status events as the engine would.
 * Not used by the app.
 */
import type {
  ApiError,
  AppFacets,
  Batch,
  CaptureStatus,
  ConnStats,
  ConnectionRow,
  FrameDetail,
  EngineIoSession,
  Http2RequestRow,
  KeyLogInfo,
  MessageDetail,
  MessageRow,
  ProgressInfo,
  Result,
  SessionInfo,
  WsscopeApi,
} from '../../../shared/api';
import { err, ok } from '../../../shared/api';
import type { HandshakeEvent } from '../../../shared/events';
import { compileQuery, rowTest } from '../lib/filter';

export interface FakeApi extends WsscopeApi {
  calls: Array<{ name: string; args: unknown[] }>;
  rows: MessageRow[];
  details: Map<number, MessageDetail>;
  handshakes: Map<number, HandshakeEvent>;
  stats: Map<number, ConnStats>;
  session: SessionInfo;
  recent: string[];
  validate: (filter: string) => Result<true>;
  /** what getAppFacets, keyLogs / addKeyLog*, getHttp2Requests answer */
  facets: AppFacets;
  keyLogInfo: KeyLogInfo;
  h2Requests: Map<number, Http2RequestRow[]>;
  /** what getEngineIoSession answers, per connection (none: null) */
  engineIo: Map<number, EngineIoSession>;
  emitBatch(b: Batch): void;
  emitProgress(p: ProgressInfo): void;
  emitCaptureStatus(s: CaptureStatus): void;
  emitSession(s: SessionInfo): void;
  emitError(e: ApiError): void;
  listenerCount(): number;
}

export function makeRow(index: number, over: Partial<MessageRow> = {}): MessageRow {
  return {
    index,
    conn: 1,
    dir: index % 2 === 0 ? 'client' : 'server',
    ts: 1_700_000_000 + index * 0.001,
    opcode: 1,
    length: 5,
    wireLength: 5,
    compressed: false,
    fin: true,
    rsv: 0,
    masked: index % 2 === 0,
    frames: 1,
    truncated: false,
    preview: `message ${index}`,
    kind: 'text',
    findings: 0,
    ...over,
  };
}

export function makeConn(id: number, over: Partial<ConnectionRow> = {}): ConnectionRow {
  return {
    id,
    transport: 'tcp',
    client: '127.0.0.1:50000',
    server: '127.0.0.1:8080',
    ts: 1_700_000_000,
    websocket: true,
    url: `ws://127.0.0.1:8080/c${id}`,
    protocol: '',
    extensions: '',
    state: 'open',
    status: 101,
    messages: 0,
    frames: 0,
    datagrams: 0,
    findings: 0,
    wireBytes: 0,
    payloadBytes: 0,
    compressedWireBytes: 0,
    compressedPayloadBytes: 0,
    handshakeBytes: 0,
    lastTs: 1_700_000_000,
    ...over,
  };
}

/** RFC 6455 section 5.7: a masked "Hello" (mask 37 fa 21 3d). */
export function maskedHelloFrame(index = 0): FrameDetail {
  const payload = new TextEncoder().encode('Hello');
  const key = [0x37, 0xfa, 0x21, 0x3d];
  const wire = payload.map((b, i) => b ^ key[i % 4]);
  return {
    index,
    ts: 1_700_000_000,
    fin: true,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    opcode: 1,
    masked: true,
    maskKey: '37fa213d',
    length: 5,
    header: new Uint8Array([0x81, 0x85, ...key]),
    wirePayload: wire,
    payload,
    packets: [4],
  };
}

export function detailFor(row: MessageRow, data: Uint8Array, frames: FrameDetail[] = [], extra: Partial<MessageDetail> = {}): MessageDetail {
  return { row, frames, data, dataTruncated: false, findings: [], ...extra };
}

export function createFakeApi(init: Partial<Pick<FakeApi, 'rows' | 'session'>> = {}): FakeApi {
  const subs = {
    batch: new Set<(b: Batch) => void>(),
    progress: new Set<(p: ProgressInfo) => void>(),
    captureStatus: new Set<(s: CaptureStatus) => void>(),
    session: new Set<(s: SessionInfo) => void>(),
    error: new Set<(e: ApiError) => void>(),
  };
  function sub<T>(set: Set<(v: T) => void>, cb: (v: T) => void): () => void {
    set.add(cb);
    return () => set.delete(cb);
  }
  const api: FakeApi = {
    calls: [],
    rows: init.rows ?? [],
    details: new Map(),
    handshakes: new Map(),
    stats: new Map(),
    session: init.session ?? { id: 0, kind: 'none', path: '', totalBytes: 0 },
    recent: [],
    validate: (f) => (f.includes('(') ? err('invalid-filter', `syntax error in filter expression: ${f}`) : ok(true)),
    async listInterfaces() {
      api.calls.push({ name: 'listInterfaces', args: [] });
      return ok([
        { name: 'eth0', description: '', addresses: ['10.0.0.2'], loopback: false, up: true, running: true },
        { name: 'lo', description: '', addresses: ['127.0.0.1', '::1'], loopback: true, up: true, running: true },
      ]);
    },
    async validateFilter(filter, iface) {
      api.calls.push({ name: 'validateFilter', args: [filter, iface] });
      return api.validate(filter);
    },
    async openFile(path) {
      api.calls.push({ name: 'openFile', args: [path] });
      return ok({ id: api.session.id + 1, kind: 'file', path, totalBytes: 0 });
    },
    async openFileDialog() {
      api.calls.push({ name: 'openFileDialog', args: [] });
      return ok(null);
    },
    async openBytes(name, bytes) {
      api.calls.push({ name: 'openBytes', args: [name, bytes] });
      return ok({ id: api.session.id + 1, kind: 'file', path: name, totalBytes: bytes.length });
    },
    async recentFiles() {
      api.calls.push({ name: 'recentFiles', args: [] });
      return ok(api.recent);
    },
    async startCapture(o) {
      api.calls.push({ name: 'startCapture', args: [o] });
      return ok({ id: api.session.id + 1, kind: 'live', path: '/tmp/live.pcapng', totalBytes: 0 });
    },
    async stopCapture() {
      api.calls.push({ name: 'stopCapture', args: [] });
      return ok({ state: 'stopped', iface: 'lo', backend: 'cap', packets: 0, bytes: 0, drops: null, file: '' });
    },
    async currentSession() {
      api.calls.push({ name: 'currentSession', args: [] });
      return ok(api.session);
    },
    async replay() {
      api.calls.push({ name: 'replay', args: [] });
      return ok(api.session);
    },
    async getMessageDetail(index) {
      api.calls.push({ name: 'getMessageDetail', args: [index] });
      const d = api.details.get(index);
      if (d) return ok(d);
      const row = api.rows.find((r) => r.index === index);
      return row ? ok(detailFor(row, new TextEncoder().encode(row.preview))) : err('not-found', `No message ${index}.`);
    },
    async getHandshake(conn) {
      api.calls.push({ name: 'getHandshake', args: [conn] });
      return ok(api.handshakes.get(conn) ?? null);
    },
    async getStats(conn) {
      api.calls.push({ name: 'getStats', args: [conn] });
      const s = api.stats.get(conn);
      return s ? ok(s) : err('not-found', `No connection ${conn}.`);
    },
    async queryMessages(q) {
      api.calls.push({ name: 'queryMessages', args: [q] });
      const c = compileQuery(q);
      if ('error' in c) return err('bad-request', c.error);
      const out: number[] = [];
      const test = rowTest(c.test);
      for (const r of api.rows) if (test(r)) out.push(r.index);
      return ok({ indexes: Uint32Array.from(out), total: out.length });
    },
    async exportData(format, path, opts) {
      api.calls.push({ name: 'exportData', args: opts === undefined ? [format, path] : [format, path, opts] });
      return ok({ path: '', bytes: new Uint8Array([1, 2, 3]) });
    },
    async cancel(what) {
      api.calls.push({ name: 'cancel', args: [what] });
      return ok({ cancelled: 0 });
    },
    facets: { protocols: [], types: [], names: [] },
    keyLogInfo: { files: [], sessions: 0, decrypted: 0, tlsConnections: 0 },
    h2Requests: new Map(),
    engineIo: new Map(),
    async getAppFacets(conn) {
      api.calls.push({ name: 'getAppFacets', args: [conn] });
      return ok(api.facets);
    },
    async getHttp2Requests(conn) {
      api.calls.push({ name: 'getHttp2Requests', args: [conn] });
      return ok(api.h2Requests.get(conn) ?? []);
    },
    async getEngineIoSession(conn) {
      api.calls.push({ name: 'getEngineIoSession', args: [conn] });
      return ok(api.engineIo.get(conn) ?? null);
    },
    async listDecoders() {
      api.calls.push({ name: 'listDecoders', args: [] });
      return ok(['socket.io', 'mqtt', 'stomp', 'graphql-ws', 'signalr', 'phoenix', 'wamp', 'actioncable', 'json-rpc']);
    },
    async setDecoder(conn, protocol) {
      api.calls.push({ name: 'setDecoder', args: [conn, protocol] });
      return ok(api.session);
    },
    async addKeyLog(path) {
      api.calls.push({ name: 'addKeyLog', args: [path] });
      return ok(api.keyLogInfo);
    },
    async addKeyLogDialog() {
      api.calls.push({ name: 'addKeyLogDialog', args: [] });
      return ok(api.keyLogInfo);
    },
    async addKeyLogBytes(name, bytes) {
      api.calls.push({ name: 'addKeyLogBytes', args: [name, bytes] });
      return ok(api.keyLogInfo);
    },
    async keyLogs() {
      api.calls.push({ name: 'keyLogs', args: [] });
      return ok(api.keyLogInfo);
    },
    onBatch: (cb) => sub(subs.batch, cb),
    onProgress: (cb) => sub(subs.progress, cb),
    onCaptureStatus: (cb) => sub(subs.captureStatus, cb),
    onSession: (cb) => sub(subs.session, cb),
    onError: (cb) => sub(subs.error, cb),
    emitBatch: (b) => subs.batch.forEach((cb) => cb(b)),
    emitProgress: (p) => subs.progress.forEach((cb) => cb(p)),
    emitCaptureStatus: (s) => subs.captureStatus.forEach((cb) => cb(s)),
    emitSession: (s) => subs.session.forEach((cb) => cb(s)),
    emitError: (e) => subs.error.forEach((cb) => cb(e)),
    listenerCount: () => Object.values(subs).reduce((n, s) => n + s.size, 0),
  };
  return api;
}

export function batchOf(session: number, messages: MessageRow[], over: Partial<Batch> = {}): Batch {
  return {
    session,
    connections: [],
    messages,
    findings: [],
    handshakes: [],
    totals: { packets: messages.length, messages: messages.length, findings: 0, connections: 1 },
    ...over,
  };
}
