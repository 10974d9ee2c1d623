/**
 * EngineService: the calls of the WsscopeApi contract (shared/api.ts) in plain Node, no
 * Electron. One session at a time (a file being analysed, a live capture, or nothing).
 *
 * This file only composes the parts, each with one job, and maps every call name to one of
 * them (`handlers`, typed against the contract by ./dispatch.ts):
 *  - ./sessions.ts     the current session and its store, opening files and uploads,
 *                      cancelling the running analysis;
 *  - ./pump.ts         the timer that pushes the store's batches and the progress every
 *                      `batchMs`, so the UI never gets one message per packet;
 *  - ./live-capture.ts live capture over engine/capture/live.ts, loaded lazily;
 *  - ./exports.ts      NDJSON, HAR and pcapng exports, paced;
 *  - ./recent.ts       the recent files list (recent.json in `configDir`);
 *  - ./reads.ts        message detail, handshake, stats and queries over the store;
 *  - ./cancel.ts       the long calls running (queries, exports), for `cancel` and for a
 *                      call's own AbortSignal (`call(name, args, signal)`).
 *  - ./app-calls.ts    decoded-field facets, HTTP/2 requests, the decoder choice, key logs
 *                      (./keylogs.ts keeps their text: only names and counts answer).
 *
 * `call` validates the name and the arguments (./validate.ts) and resolves to a Result:
 * nothing throws out of it. Opening a file cancels the analysis still running; it is refused
 * while a live capture runs. No call waits for another: reading a file, queries and exports
 * give the event loop a turn every ~20 ms, and each can be cancelled (`cancel(kind)`).
 *
 * Memory: the service owns the current store (and its spill file), the uploads it wrote,
 * the live capture and, unless the caller chose `workDir`, its scratch directory;
 * `dispose()` releases all of them. The capture file a live session wrote stays on disk (it
 * is the user's data). Every file it writes goes through engine/fs/private.ts (new files,
 * mode 0600, never through a symlink; folders 0700 and checked).
 */
import { rmSync } from 'node:fs';
import { makeScratchDir, removeStaleScratchDirs } from '../fs/private';
import { err, ok, type Result, type SessionInfo } from '../../shared/api';
import { analyzeFile, type PipelineOptions } from '../pipeline';
import { Cancels } from './cancel';
import { dispatch, type CallHandlers } from './dispatch';
import { Exporter } from './exports';
import { defaultLoadLive, LiveCaptureControl } from './live-capture';
import { BatchPump } from './pump';
import { connStats, handshake, messageDetail, queryMessages } from './reads';
import { AppCalls } from './app-calls';
import { KeyLogs } from './keylogs';
import { RecentFiles } from './recent';
import { Sessions } from './sessions';
import type { Analyzer, LiveLoader, PushFn } from './types';

export type { Analyzer, LiveCaptureHandle, LiveLoader, LiveModule, PushFn } from './types';
export { MAX_RECENT } from './recent';

export interface EngineServiceOptions {
  push: PushFn;
  /** resolves once every push so far was handed to the transport (see BatchPumpOptions.written) */
  written?: () => Promise<void>;
  /** where recent.json lives */
  configDir: string;
  /**
   * uploads, spill files, exports in progress (default: a fresh private folder
   * `wsscope-<pid>-<hex>` under os.tmpdir(), removed by dispose; the ones of dead engines are
   * removed when the next engine starts)
   */
  workDir?: string;
  /** where live captures are written; kept after dispose (default: the private os.tmpdir()/wsscope-captures-<uid>, see engine/fs/private.ts) */
  captureDir?: string;
  batchMs?: number;
  /** memory budget of the payload store (bytes) */
  payloadBudget?: number;
  /** bytes of rows each session keeps (engine/store/session-data.ts DEFAULT_ROW_BYTES) */
  rowBudget?: number;
  /** payload bytes a session keeps at most, memory and spill file together (see Sessions) */
  payloadLimit?: number;
  pipeline?: Partial<PipelineOptions>;
  analyze?: Analyzer;
  /** resolves null when live capture is not in this build; a rejection's message reaches the user */
  loadLive?: LiveLoader;
  version?: string;
}

export class EngineService {
  /** one handler per call of the contract (see ./dispatch.ts) */
  readonly handlers: CallHandlers;

  private readonly workDir: string;
  private readonly ownsWorkDir: boolean;
  private readonly pump: BatchPump;
  private readonly sessions: Sessions;
  private readonly recent: RecentFiles;
  private readonly live: LiveCaptureControl;
  private readonly exporter: Exporter;
  private readonly cancels = new Cancels();
  private readonly app: AppCalls;

  constructor(opts: EngineServiceOptions) {
    const push = opts.push;
    const pipeline = opts.pipeline ?? {};
    this.ownsWorkDir = !opts.workDir;
    if (this.ownsWorkDir) removeStaleScratchDirs();
    this.workDir = opts.workDir ?? makeScratchDir();
    this.pump = new BatchPump({ push, intervalMs: opts.batchMs ?? 50, source: () => this.sessions.store, written: opts.written });
    const keyLogs = new KeyLogs();
    this.sessions = new Sessions({ push, pump: this.pump, analyze: opts.analyze ?? analyzeFile, workDir: this.workDir, payloadBudget: opts.payloadBudget, rowBudget: opts.rowBudget, payloadLimit: opts.payloadLimit, pipeline, keyLogs });
    this.recent = new RecentFiles(opts.configDir);
    this.live = new LiveCaptureControl({
      push,
      pump: this.pump,
      sessions: this.sessions,
      load: opts.loadLive ?? defaultLoadLive,
      captureDir: opts.captureDir,
      pipeline,
      keyLogs,
    });
    this.exporter = new Exporter({ sessions: this.sessions, workDir: this.workDir, version: opts.version ?? '0.1.0', cancels: this.cancels, keyLogs });
    this.app = new AppCalls(this.sessions, keyLogs, () => this.live.running);

    this.handlers = {
      listInterfaces: () => this.live.listInterfaces(),
      validateFilter: (filter, iface) => this.live.validateFilter(filter, iface),
      openFile: (path, name) => this.openFile(path, name),
      openFileDialog: () => err('unsupported', 'The open dialog exists in the desktop app only; drop a file on the window instead.'),
      openBytes: (name, bytes) => (this.live.running ? captureRunning() : this.sessions.openBytes(name, bytes)),
      recentFiles: () => ok(this.recent.list()),
      startCapture: (options) => this.live.start(options),
      stopCapture: () => this.live.stop(),
      currentSession: () => ok(this.sessions.info),
      replay: async () => {
        await this.pump.replay();
        return ok(this.sessions.info);
      },
      getMessageDetail: (index) => messageDetail(this.sessions.store, index),
      getHandshake: (conn) => handshake(this.sessions.store, conn),
      getStats: (conn) => connStats(this.sessions.store, conn),
      queryMessages: (q) => this.cancels.run('query', (signal) => queryMessages(this.sessions.store, q, signal)),
      exportData: (format, path, o) => this.exporter.export(format, path, o),
      cancel: async (what) => ok({ cancelled: what === 'open' ? await this.sessions.stopReading() : this.cancels.cancel(what) }),
      getAppFacets: (conn) => this.app.facets(conn),
      getHttp2Requests: (conn) => this.app.http2Requests(conn),
      getEngineIoSession: (conn) => this.app.engineIoSession(conn),
      listDecoders: () => this.app.decoders(),
      setDecoder: (conn, protocol) => (this.live.running ? captureRunning() : this.app.setDecoder(conn, protocol)),
      addKeyLog: (path) => this.app.addFile(path),
      addKeyLogDialog: () => err('unsupported', 'The key log dialog exists in the desktop app only; drop the key log on the window instead.'),
      addKeyLogBytes: (name, bytes) => this.app.addBytes(name, bytes),
      keyLogs: () => this.app.info(),
    };
  }

  /**
   * The dispatcher for IPC / wire calls: validates the name and arguments, never throws.
   * Aborting `signal` cancels this call's long work (it then answers `cancelled`).
   */
  call(name: unknown, args: unknown, signal?: AbortSignal): Promise<Result<unknown>> {
    return dispatch(this.handlers, name, args, signal);
  }

  /**
   * The directory this service created for uploads and spill files and removes in
   * `dispose()`; undefined when the caller chose `workDir` (then it is the caller's).
   */
  get scratchDir(): string | undefined {
    return this.ownsWorkDir ? this.workDir : undefined;
  }

  get session(): SessionInfo {
    return this.sessions.info;
  }

  /** Resolves when the running file analysis (if any) has finished and its last batch went out. */
  idle(): Promise<void> {
    return this.sessions.idle();
  }

  async dispose(): Promise<void> {
    this.pump.close();
    await this.sessions.cancelAnalysis(new Error('engine shutting down'));
    await this.live.dispose();
    this.exporter.abortAll(new Error('engine shutting down'));
    await this.sessions.close();
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
  }

  /**
   * A capture file by path: the session, then the recent files list. Uploads never go there:
   * one opened by bytes, or by path with the user's `name` (`wsscope serve`'s /upload), is a
   * temporary file that is gone once another capture is opened.
   */
  private async openFile(path: string, name?: string): Promise<Result<SessionInfo>> {
    if (this.live.running) return captureRunning();
    const r = await this.sessions.openFile(path, name);
    if (r.ok && name === undefined) this.recent.add(r.value.path);
    return r;
  }
}

const captureRunning = (): Result<never> => err('capture-running', 'Stop the live capture before opening a file.');
