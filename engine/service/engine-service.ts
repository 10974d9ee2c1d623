/**
 * EngineService: the calls of the WsscopeApi contract (shared/api.ts) in plain Node, no
 * Electron. One session at a time (a file being analysed, a live capture, or nothing), held
 * in a SessionStore. Events flow pipeline -> store; a timer takes a batch from the store
 * every `batchMs` and pushes it (with the latest progress) through the injected `push`, so
 * the UI never gets one message per packet.
 *
 * Every call validates its arguments (engine/service/validate.ts) and resolves to a Result:
 * nothing throws out of `call`. Opening a file cancels the analysis still running.
 *
 * Memory: the service owns the current store (and its spill file), the uploads it wrote and
 * the live capture; `dispose()` releases all of them. The capture file a live session wrote
 * stays on disk (it is the user's data).
 */
import { copyFileSync, mkdirSync, openSync, closeSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CALLS,
  err,
  ok,
  type ApiError,
  type CallName,
  type CaptureOptions,
  type CaptureStatus,
  type ConnStats,
  type ErrorCode,
  type ExportFormat,
  type InterfaceInfo,
  type MessageDetail,
  type MessageQuery,
  type ProgressInfo,
  type PushName,
  type PushPayloads,
  type Result,
  type SessionInfo,
} from '../../shared/api';
import type { EventSink, HandshakeEvent, SummaryEvent } from '../../shared/events';
import type { CaptureSink } from '../types';
import { analyzeFile, LIVE_GAP_TIMEOUT_S, Pipeline, type AnalyzeOptions, type PipelineOptions } from '../pipeline';
import { isCaptureMagic } from '../capture/pcap-parser';
import { SessionStore } from '../store/session-store';
import { convertToPcapng, FileSink, MemorySink, Pacer, writeHar, writeNdjson, type TextSink } from '../store/export';
import { checkArity, checkCaptureOptions, checkFilter, checkFormat, checkIface, checkIndex, checkPath, checkQuery, MAX_UPLOAD_BYTES } from './validate';

export type PushFn = <K extends PushName>(name: K, payload: PushPayloads[K]) => void;

/** What the service needs from engine/capture/live.ts (loaded lazily; may be missing). */
export interface LiveCaptureHandle {
  file: string;
  readonly done: Promise<CaptureStatus>;
  stop(): Promise<CaptureStatus>;
}
export interface LiveModule {
  startLiveCapture(opts: CaptureOptions & { file?: string }, sink: CaptureSink, onStatus: (s: CaptureStatus) => void): Promise<Result<LiveCaptureHandle>>;
  validateFilter(filter: string, iface: string): Result<true>;
  listInterfaces(): InterfaceInfo[];
}

export type Analyzer = (path: string, emit: EventSink, opts: AnalyzeOptions) => Promise<SummaryEvent>;

export interface EngineServiceOptions {
  push: PushFn;
  /** where recent.json lives */
  configDir: string;
  /** uploads, spill files, exports in progress (default: a fresh dir under os.tmpdir(), removed by dispose) */
  workDir?: string;
  /** where live captures are written; kept after dispose (default: os.tmpdir()/wsscope-captures) */
  captureDir?: string;
  batchMs?: number;
  /** memory budget of the payload store (bytes) */
  payloadBudget?: number;
  pipeline?: Partial<PipelineOptions>;
  analyze?: Analyzer;
  loadLive?: () => Promise<LiveModule | null>;
  version?: string;
}

export const MAX_RECENT = 10;

async function defaultLoadLive(): Promise<LiveModule | null> {
  try {
    const [live, ifs] = await Promise.all([import('../capture/live'), import('../capture/interfaces')]);
    return { startLiveCapture: live.startLiveCapture, validateFilter: live.validateFilter, listInterfaces: ifs.listInterfaces };
  } catch {
    return null;
  }
}

function fsError(path: string, e: unknown): ApiError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return { code: 'not-found', message: `${path} does not exist.` };
  if (code === 'EACCES' || code === 'EPERM') return { code: 'permission-denied', message: `No permission to access ${path}.` };
  if (code === 'EISDIR') return { code: 'io', message: `${path} is a directory, not a capture file.` };
  return { code: 'io', message: `${path}: ${e instanceof Error ? e.message : String(e)}` };
}

const fail = (e: ApiError): Result<never> => ({ ok: false, error: e });

interface LiveSession {
  capture: LiveCaptureHandle;
  pipeline: Pipeline;
  finished: Promise<CaptureStatus>;
}

export class EngineService {
  private readonly push: PushFn;
  private readonly configDir: string;
  private readonly workDir: string;
  private readonly ownsWorkDir: boolean;
  private readonly captureDir: string;
  private readonly batchMs: number;
  private readonly payloadBudget: number | undefined;
  private readonly pipelineOpts: Partial<PipelineOptions>;
  private readonly analyze: Analyzer;
  private readonly loadLive: () => Promise<LiveModule | null>;
  private readonly version: string;

  private nextSession = 1;
  private info: SessionInfo = { id: 0, kind: 'none', path: '', totalBytes: 0 };
  private store: SessionStore | null = null;
  private analysis: { abort: AbortController; done: Promise<void> } | null = null;
  private live: LiveSession | null = null;
  private upload = '';
  private timer: ReturnType<typeof setInterval> | null = null;
  private progress: ProgressInfo | null = null;
  private disposed = false;
  /** exports in progress (see exportData), and what stops them when the engine shuts down */
  private readonly exporting = new Set<Promise<void>>();
  private readonly exportAbort = new AbortController();

  constructor(opts: EngineServiceOptions) {
    this.push = opts.push;
    this.configDir = opts.configDir;
    this.ownsWorkDir = !opts.workDir;
    this.workDir = opts.workDir ?? join(tmpdir(), `wsscope-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.captureDir = opts.captureDir ?? join(tmpdir(), 'wsscope-captures');
    this.batchMs = opts.batchMs ?? 50;
    this.payloadBudget = opts.payloadBudget;
    this.pipelineOpts = opts.pipeline ?? {};
    this.analyze = opts.analyze ?? analyzeFile;
    this.loadLive = opts.loadLive ?? defaultLoadLive;
    this.version = opts.version ?? '0.1.0';
  }

  /** The dispatcher for IPC / wire calls: validates the name and arity, never throws. */
  async call(name: unknown, args: unknown): Promise<Result<unknown>> {
    if (typeof name !== 'string' || !(CALLS as readonly string[]).includes(name)) return err('bad-request', `Unknown call ${JSON.stringify(String(name)).slice(0, 80)}.`);
    const call = name as CallName;
    const a = checkArity(call, args);
    if (!a.ok) return err('bad-request', a.message);
    const v = a.value;
    try {
      switch (call) {
        case 'listInterfaces':
          return await this.listInterfaces();
        case 'validateFilter':
          return await this.validateFilter(v[0], v[1]);
        case 'openFile':
          return await this.openFile(v[0]);
        case 'openFileDialog':
          return err('unsupported', 'The open dialog exists in the desktop app only; drop a file on the window instead.');
        case 'openBytes':
          return await this.openBytes(v[0], v[1]);
        case 'recentFiles':
          return this.recentFiles();
        case 'startCapture':
          return await this.startCapture(v[0]);
        case 'stopCapture':
          return await this.stopCapture();
        case 'currentSession':
          return ok({ ...this.info });
        case 'replay':
          return this.replay();
        case 'getMessageDetail':
          return this.getMessageDetail(v[0]);
        case 'getHandshake':
          return this.getHandshake(v[0]);
        case 'getStats':
          return this.getStats(v[0]);
        case 'queryMessages':
          return this.queryMessages(v[0]);
        case 'exportData':
          return await this.exportData(v[0], v[1]);
      }
    } catch (e) {
      return err('internal', `wsscope failed in ${call}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * The directory this service created for uploads and spill files and removes in
   * `dispose()`; undefined when the caller chose `workDir` (then it is the caller's).
   */
  get scratchDir(): string | undefined {
    return this.ownsWorkDir ? this.workDir : undefined;
  }

  // ------------------------------------------------------------------ sessions

  get session(): SessionInfo {
    return { ...this.info };
  }

  /** Resolves when the running file analysis (if any) has finished and its last batch went out. */
  async idle(): Promise<void> {
    while (this.analysis) await this.analysis.done;
  }

  private async replaceSession(kind: SessionInfo['kind'], path: string, totalBytes: number): Promise<SessionStore> {
    const old = this.analysis;
    if (old) {
      old.abort.abort(new Error('another capture was opened'));
      this.analysis = null;
      await old.done;
    }
    await this.exportsDone();
    this.store?.close();
    if (this.upload && this.upload !== path) {
      rmSync(this.upload, { force: true });
      this.upload = '';
    }
    this.progress = null;
    const id = this.nextSession++;
    this.store = new SessionStore(id, { payload: { budget: this.payloadBudget, dir: this.workDir } });
    mkdirSync(this.workDir, { recursive: true });
    this.info = { id, kind, path, totalBytes };
    this.push('session', { ...this.info });
    return this.store;
  }

  async openFile(pathArg: unknown, fromUpload = false): Promise<Result<SessionInfo>> {
    const p = checkPath(pathArg);
    if (!p.ok) return err('bad-request', p.message);
    if (this.live) return err('capture-running', 'Stop the live capture before opening a file.');
    const path = resolve(p.value);
    let size: number;
    try {
      const st = statSync(path);
      if (st.isDirectory()) return err('io', `${path} is a directory, not a capture file.`);
      size = st.size;
      const head = new Uint8Array(4);
      const fd = openSync(path, 'r');
      let n: number;
      try {
        n = readSync(fd, head, 0, 4, 0);
      } finally {
        closeSync(fd);
      }
      const gzip = n >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      if (!gzip && (n < 4 || !isCaptureMagic(head))) return err('not-a-capture', `${basename(path)} is not a pcap or pcapng capture file.`);
    } catch (e) {
      return fail(fsError(path, e));
    }
    const store = await this.replaceSession('file', path, size);
    if (!fromUpload) this.addRecent(path);
    this.startAnalysis(store, path);
    return ok({ ...this.info });
  }

  private startAnalysis(store: SessionStore, path: string): void {
    const abort = new AbortController();
    this.startTimer();
    const done = this.analyze(path, (ev) => store.ingest(ev), {
      ...this.pipelineOpts,
      session: { ...this.pipelineOpts.session, keepWirePayload: true },
      signal: abort.signal,
      onProgress: (bytesRead, totalBytes, packets) => {
        store.setPackets(packets);
        this.progress = { bytesRead, totalBytes, packets, done: false };
      },
    }).then(
      (summary) => {
        if (this.store !== store) return;
        this.flush();
        this.push('progress', { bytesRead: this.info.totalBytes, totalBytes: this.info.totalBytes, packets: summary.packets, done: true });
      },
      (e: unknown) => {
        if (abort.signal.aborted || this.store !== store) return;
        this.flush();
        const code = (e as { code?: string }).code;
        const known: ErrorCode[] = ['not-found', 'not-a-capture', 'io'];
        this.push('error', {
          code: known.includes(code as ErrorCode) ? (code as ErrorCode) : 'internal',
          message: `Reading ${basename(path)} failed: ${e instanceof Error ? e.message : String(e)}`,
        });
        this.push('progress', { bytesRead: this.progress?.bytesRead ?? 0, totalBytes: this.info.totalBytes, packets: store.packetCount, done: true });
      },
    );
    const entry = {
      abort,
      done: done.finally(() => {
        if (this.analysis === entry) this.analysis = null;
        if (!this.analysis && !this.live) this.stopTimer();
      }),
    };
    this.analysis = entry;
  }

  async openBytes(nameArg: unknown, bytes: unknown): Promise<Result<SessionInfo>> {
    if (typeof nameArg !== 'string' || nameArg.length === 0 || nameArg.length > 255) return err('bad-request', 'The file name must be a string of 1 to 255 characters.');
    if (!(bytes instanceof Uint8Array)) return err('bad-request', 'The file contents must be bytes (Uint8Array).');
    if (bytes.length > MAX_UPLOAD_BYTES) return err('bad-request', 'The file is larger than 2 GiB; open it by path instead.');
    if (this.live) return err('capture-running', 'Stop the live capture before opening a file.');
    // only the base name, restricted to a safe alphabet: the name comes from the browser
    const safe = basename(nameArg.replace(/\\/g, '/')).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'upload';
    const dir = join(this.workDir, 'uploads');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${randomBytes(6).toString('hex')}-${safe}`);
    try {
      writeFileSync(path, bytes, { mode: 0o600 });
    } catch (e) {
      return fail(fsError(path, e));
    }
    const r = await this.openFile(path, true);
    if (r.ok) {
      this.upload = path;
      return ok({ ...r.value, path: nameArg });
    }
    rmSync(path, { force: true });
    return r;
  }

  // ------------------------------------------------------------------ recent files

  private recentPath(): string {
    return join(this.configDir, 'recent.json');
  }

  recentFiles(): Result<string[]> {
    try {
      const v: unknown = JSON.parse(readFileSync(this.recentPath(), 'utf8'));
      return ok(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : []);
    } catch {
      return ok([]);
    }
  }

  private addRecent(path: string): void {
    const list = [path, ...(this.recentFiles() as { ok: true; value: string[] }).value.filter((p) => p !== path)].slice(0, MAX_RECENT);
    try {
      mkdirSync(this.configDir, { recursive: true });
      // write then rename: a crash never leaves a half-written list
      const tmp = `${this.recentPath()}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(list, null, 1));
      renameSync(tmp, this.recentPath());
    } catch {
      // the list is a convenience; failing to save it must not fail the open
    }
  }

  // ------------------------------------------------------------------ live capture

  async listInterfaces(): Promise<Result<InterfaceInfo[]>> {
    const live = await this.loadLive();
    if (!live) return err('unsupported', 'Live capture is not available in this build.');
    return ok(live.listInterfaces());
  }

  async validateFilter(filterArg: unknown, ifaceArg?: unknown): Promise<Result<true>> {
    const f = checkFilter(filterArg);
    if (!f.ok) return err('bad-request', f.message);
    let iface = 'lo';
    if (ifaceArg !== undefined) {
      const i = checkIface(ifaceArg);
      if (!i.ok) return err('bad-request', i.message);
      iface = i.value;
    }
    const live = await this.loadLive();
    if (!live) return err('unsupported', 'Live capture is not available in this build.');
    return live.validateFilter(f.value, iface);
  }

  async startCapture(optsArg: unknown): Promise<Result<SessionInfo>> {
    const o = checkCaptureOptions(optsArg);
    if (!o.ok) return err('bad-request', o.message);
    if (this.live) return err('capture-running', 'A live capture is already running; stop it first.');
    const live = await this.loadLive();
    if (!live) return err('unsupported', 'Live capture is not available in this build.');
    const dir = this.captureDir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(dir, `wsscope-${o.value.iface.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.pcapng`);
    const store = await this.replaceSession('live', file, 0);
    // live: a lost packet must not hold back what follows it for the rest of the capture
    const pipeline = new Pipeline((ev) => store.ingest(ev), { gapTimeoutSeconds: LIVE_GAP_TIMEOUT_S, ...this.pipelineOpts, session: { ...this.pipelineOpts.session, keepWirePayload: true } });
    // A decoder bug must not end the capture: the pipeline contains errors per connection,
    // and anything that still escapes it stops decoding only. Capture goes on writing the
    // file (the packets reach the sink after they are on disk), and the user is told once.
    let decodeError = false;
    const decodeFailed = (e: unknown): void => {
      if (decodeError) return;
      decodeError = true;
      this.push('error', {
        code: 'internal',
        message: `Decoding the live capture stopped after an internal error (${e instanceof Error ? e.message : String(e)}); capturing goes on into ${file}: stop the capture and open that file to see everything.`,
      });
    };
    const sink: CaptureSink = {
      packet: (rec) => {
        store.setPackets(rec.no);
        if (decodeError) return;
        try {
          pipeline.packet(rec);
        } catch (e) {
          decodeFailed(e);
        }
      },
      problem: (p) => {
        if (decodeError) return;
        try {
          pipeline.problem(p);
        } catch (e) {
          decodeFailed(e);
        }
      },
    };
    const r = await live.startLiveCapture({ ...o.value, file }, sink, (s) => this.push('captureStatus', s));
    if (!r.ok) {
      this.info = { id: store.session, kind: 'none', path: '', totalBytes: 0 };
      this.push('session', { ...this.info });
      return r;
    }
    const capture = r.value;
    const session: LiveSession = {
      capture,
      pipeline,
      finished: capture.done.then((final) => {
        if (this.live === session) this.live = null;
        if (this.store === store) {
          if (!decodeError) {
            try {
              pipeline.finish();
            } catch (e) {
              decodeFailed(e);
            }
          }
          this.flush();
        }
        if (!this.analysis && !this.live) this.stopTimer();
        return final;
      }),
    };
    this.live = session;
    this.info = { ...this.info, path: capture.file };
    this.startTimer();
    return ok({ ...this.info });
  }

  async stopCapture(): Promise<Result<CaptureStatus>> {
    const s = this.live;
    if (!s) return err('no-capture', 'No live capture is running.');
    await s.capture.stop();
    return ok(await s.finished);
  }

  // ------------------------------------------------------------------ reads

  private needStore(): Result<never> | null {
    return this.store ? null : err('no-capture', 'Nothing is loaded: open a capture file or start a live capture.');
  }

  getMessageDetail(indexArg: unknown): Result<MessageDetail> {
    const i = checkIndex(indexArg);
    if (!i.ok) return err('bad-request', i.message);
    const none = this.needStore();
    if (none) return none;
    const d = (this.store as SessionStore).detail(i.value);
    return d ? ok(d) : err('not-found', `There is no message ${i.value} in this session.`);
  }

  getHandshake(connArg: unknown): Result<HandshakeEvent | null> {
    const c = checkIndex(connArg, 'connection id');
    if (!c.ok) return err('bad-request', c.message);
    const none = this.needStore();
    if (none) return none;
    const store = this.store as SessionStore;
    if (!store.hasConnection(c.value)) return err('not-found', `There is no connection ${c.value} in this session.`);
    return ok(store.handshake(c.value));
  }

  getStats(connArg: unknown): Result<ConnStats> {
    const c = checkIndex(connArg, 'connection id');
    if (!c.ok) return err('bad-request', c.message);
    const none = this.needStore();
    if (none) return none;
    const s = (this.store as SessionStore).stats(c.value);
    return s ? ok(s) : err('not-found', `There is no connection ${c.value} in this session.`);
  }

  queryMessages(qArg: unknown): Result<{ indexes: Uint32Array; total: number }> {
    const q = checkQuery(qArg);
    if (!q.ok) return err('bad-request', q.message);
    if (!this.store) return ok({ indexes: new Uint32Array(0), total: 0 });
    return ok({ indexes: this.store.query(q.value as MessageQuery), total: this.store.messageCount });
  }

  // ------------------------------------------------------------------ exports

  /**
   * Writes the export to `path` when given; otherwise returns the bytes (browser download)
   * with a suggested file name as `path`.
   */
  async exportData(formatArg: unknown, pathArg?: unknown): Promise<Result<{ path: string; bytes?: Uint8Array }>> {
    const f = checkFormat(formatArg);
    if (!f.ok) return err('bad-request', f.message);
    let target: string | undefined;
    if (pathArg !== undefined) {
      const p = checkPath(pathArg);
      if (!p.ok) return err('bad-request', p.message);
      target = resolve(p.value);
    }
    const none = this.needStore();
    if (none) return none;
    const store = this.store as SessionStore;
    const format: ExportFormat = f.value;
    const stem = this.info.path ? basename(this.info.path).replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '') : 'wsscope';
    const suggested = `${stem}.${format === 'ndjson' ? 'ndjson' : format === 'har' ? 'har' : 'pcapng'}`;
    if (format === 'pcapng') {
      const src = this.info.path;
      const dst = target ?? join(this.workDir, `export-${randomBytes(6).toString('hex')}.pcapng`);
      try {
        if (this.info.kind === 'live') copyFileSync(src, dst);
        else await convertToPcapng(src, dst);
        if (target) return ok({ path: target });
        const bytes = readFileSync(dst);
        return ok({ path: suggested, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
      } catch (e) {
        return fail(fsError(target ?? src, e));
      } finally {
        if (!target) rmSync(dst, { force: true });
      }
    }
    // paced: other calls (queries, a running capture's batches) are served while it runs;
    // the store is not closed under it (replaceSession and dispose wait for `exporting`)
    const pace = new Pacer(20, this.exportAbort.signal);
    const write = (out: TextSink): Promise<void> => (format === 'ndjson' ? writeNdjson(store, out, pace) : writeHar(store, out, this.version, pace));
    const run = async (): Promise<Result<{ path: string; bytes?: Uint8Array }>> => {
      if (target) {
        let sink: FileSink;
        try {
          sink = new FileSink(target);
        } catch (e) {
          return fail(fsError(target, e));
        }
        try {
          await write(sink);
        } finally {
          sink.close();
        }
        return ok({ path: target });
      }
      const mem = new MemorySink();
      try {
        await write(mem);
      } catch (e) {
        if (e instanceof RangeError) return err('unsupported', `The export is too big to download (${e.message}); use the desktop app or \`wsscope read --json\`.`);
        throw e;
      }
      return ok({ path: suggested, bytes: mem.bytes() });
    };
    const p = run();
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.exporting.add(done);
    try {
      return await p;
    } finally {
      this.exporting.delete(done);
    }
  }

  /** Waits for the exports in progress (they read the current store). */
  private async exportsDone(): Promise<void> {
    while (this.exporting.size > 0) await Promise.all([...this.exporting]);
  }

  // ------------------------------------------------------------------ batching

  private startTimer(): void {
    if (this.timer || this.disposed) return;
    this.timer = setInterval(() => this.tick(), this.batchMs);
  }

  private stopTimer(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const b = this.store?.takeBatch();
    if (b) this.push('batch', b);
    if (this.progress) {
      this.push('progress', this.progress);
      this.progress = null;
    }
  }

  /** Everything of the current session again, from its first row (see WsscopeApi.replay). */
  private replay(): Result<SessionInfo> {
    const store = this.store;
    if (!store) return ok({ ...this.info });
    store.rewind();
    // a session still growing keeps its timer; a finished one is sent at once
    if (this.timer) this.tick();
    else this.flush();
    return ok({ ...this.info });
  }

  /** Push every batch still pending (end of a file or capture). */
  private flush(): void {
    this.progress = null;
    for (let i = 0; i < 1_000_000 && this.store?.pending; i++) {
      const b = this.store.takeBatch();
      if (!b) break;
      this.push('batch', b);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.stopTimer();
    const a = this.analysis;
    if (a) {
      a.abort.abort(new Error('engine shutting down'));
      await a.done;
    }
    if (this.live) await this.live.capture.stop().catch(() => undefined);
    this.exportAbort.abort(new Error('engine shutting down'));
    await this.exportsDone();
    this.store?.close();
    this.store = null;
    if (this.upload) rmSync(this.upload, { force: true });
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
