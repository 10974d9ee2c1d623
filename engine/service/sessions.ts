/**
 * Session management: the one session EngineService shows at a time (a file being analysed,
 * a live capture, or nothing), the SessionStore holding it, and the file analysis feeding it.
 *
 * `replace` starts a new session: it cancels the analysis still running (and waits for it),
 * waits for the work reading the old store (`using`: exports), closes that store, and pushes
 * the new SessionInfo. `openFile` checks that the path is a regular file (never a FIFO or a
 * device: engine/fs/input.ts) holding a capture (pcap, pcapng, gzip) before anything is replaced, so a bad path leaves the current session alone. An analysis
 * holds the batch pump while it runs and flushes it at the end, followed by a final
 * `progress` (done) or an `error` push. That last progress carries `incomplete` when the
 * session holds less than the file: reading stopped by `stopReading` (the `cancel('open')`
 * call), a failed read, or payloads the store did not keep (its kept-payload limit, or a
 * full scratch disk, which is also pushed at once as a `disk-full` error).
 *
 * Memory: owns the current store (and its spill file under `workDir`) and the one upload it
 * wrote (openBytes), which goes when another session replaces it and on `close()`.
 */
import { rmSync } from 'node:fs';
import { NotRegularFileError, probeInputFile } from '../fs/input';
import { ensurePrivateDir, writePrivateFile } from '../fs/private';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { err, ok, type ErrorCode, type Result, type SessionInfo } from '../../shared/api';
import { isCaptureMagic } from '../capture/pcap-parser';
import type { PipelineOptions } from '../pipeline';
import { DEFAULT_KEPT_PAYLOAD } from '../store/payload-store';
import { SessionStore } from '../store/session-store';
import { codeOf, fsError, messageOf } from './errors';
import type { BatchPump } from './pump';
import type { KeyLogs } from './keylogs';
import type { Analyzer, PushFn } from './types';

export interface SessionsOptions {
  push: PushFn;
  pump: BatchPump;
  analyze: Analyzer;
  /** spill files and uploads */
  workDir: string;
  /** memory budget of each store's payloads (bytes) */
  payloadBudget?: number;
  /** bytes of rows each store keeps (SessionDataOptions.maxRowBytes; default DEFAULT_ROW_BYTES) */
  rowBudget?: number;
  /**
   * payload bytes each store keeps at most, memory and spill file together (default: the
   * larger of DEFAULT_KEPT_PAYLOAD, 1 GiB, and 4 times the capture file's size)
   */
  payloadLimit?: number;
  pipeline: Partial<PipelineOptions>;
  /** the key logs the user loaded: each analysis gets a fresh KeyLog of them */
  keyLogs?: KeyLogs;
}

/** Error codes an analysis failure keeps; anything else is reported as `internal`. */
const ANALYSIS_ERRORS: readonly ErrorCode[] = ['not-found', 'not-a-capture', 'io'];

export class Sessions {
  private nextId = 1;
  private current: SessionInfo = { id: 0, kind: 'none', path: '', totalBytes: 0 };
  private currentStore: SessionStore | null = null;
  private analysis: { abort: AbortController; done: Promise<void>; stopped: boolean } | null = null;
  private upload = '';
  /** the file the current session reads (an upload's stored copy), '' for none */
  private source = '';
  /** the name the current session shows for `source` when it is not its path (an upload's), else '' */
  private sourceName = '';
  /** per connection: the decoder the user chose (`setDecoder`), for the file open now */
  private decode: Record<number, string> = {};
  /** work reading the current store (see `using`); a session switch waits for it */
  private readonly users = new Set<Promise<void>>();

  constructor(private readonly opts: SessionsOptions) {}

  /** The session shown now (a copy). */
  get info(): SessionInfo {
    return { ...this.current };
  }

  /** The current session's store, null before anything was opened and after `close()`. */
  get store(): SessionStore | null {
    return this.currentStore;
  }

  /** Resolves when the running file analysis (if any) has finished and its last batch went out. */
  async idle(): Promise<void> {
    while (this.analysis) await this.analysis.done;
  }

  /** Runs `work` (which reads the current store) with that store kept open until it settles. */
  async using<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.users.add(settled);
    try {
      return await work;
    } finally {
      this.users.delete(settled);
    }
  }

  /**
   * Ends the current session and starts an empty one of `kind`, pushing its SessionInfo;
   * `shown`: the user's name of an upload, which the SessionInfo carries instead of `path`.
   */
  async replace(kind: SessionInfo['kind'], path: string, totalBytes: number, shown?: string): Promise<SessionStore> {
    await this.cancelAnalysis(new Error('another capture was opened'));
    await this.usersDone();
    this.currentStore?.close();
    if (this.upload && this.upload !== path) {
      rmSync(this.upload, { force: true });
      this.upload = '';
    }
    this.opts.pump.setProgress(null);
    const id = this.nextId++;
    const store = new SessionStore(id, {
      payload: { budget: this.opts.payloadBudget, limit: this.payloadLimit(totalBytes), dir: this.opts.workDir },
      maxRowBytes: this.opts.rowBudget,
      // the scratch disk filled up: said at once, not only at the end (ingest.ts wrote the sentence)
      onSpillFailure: (message) => {
        if (this.currentStore === store) this.opts.push('error', { code: 'disk-full', message });
      },
    });
    this.currentStore = store;
    ensurePrivateDir(this.opts.workDir);
    this.current = shown === undefined ? { id, kind, path, totalBytes } : { id, kind, path: shown, totalBytes, upload: true };
    this.opts.push('session', { ...this.current });
    return store;
  }

  /**
   * A session whose source failed to start (a live capture) shows nothing: kind `none`, the
   * same id. Does nothing when another session has replaced `store` meanwhile.
   */
  abandon(store: SessionStore): void {
    if (this.currentStore !== store) return;
    this.current = { id: store.session, kind: 'none', path: '', totalBytes: 0 };
    this.opts.push('session', { ...this.current });
  }

  /** The path of `store`'s session changed (the capture file a live backend chose). */
  retarget(store: SessionStore, path: string): void {
    if (this.currentStore === store) this.current = { ...this.current, path };
  }

  /**
   * The kept-payload limit of a new store: the configured one, else 1 GiB or 4 times the
   * file, whichever is larger. Payloads kept twice (wire and unmasked) of an uncompressed
   * capture never exceed twice its size, so an ordinary file never reaches 4 times; a
   * decompression bomb (a few MB inflating to GiBs) stops at 1 GiB of scratch space.
   */
  private payloadLimit(fileBytes: number): number {
    return this.opts.payloadLimit ?? Math.max(DEFAULT_KEPT_PAYLOAD, 4 * fileBytes);
  }

  /**
   * Opens a capture file (an absolute or relative path) and starts analysing it; the session
   * shows `name` instead of the path when given (an upload stored under a temporary path).
   */
  async openFile(pathArg: string, name?: string): Promise<Result<SessionInfo>> {
    const path = resolve(pathArg);
    let size: number;
    try {
      // regular files only: a FIFO or a device would block or never end (engine/fs/input.ts)
      const probe = probeInputFile(path);
      size = probe.size;
      if (!looksLikeCapture(probe.head)) return err('not-a-capture', `${basename(path)} is not a pcap or pcapng capture file.`);
    } catch (e) {
      if (e instanceof NotRegularFileError) return err('io', e.message);
      return { ok: false, error: fsError(path, e) };
    }
    if (path !== this.source) this.decode = {};
    const store = await this.replace('file', path, size, name);
    this.source = path;
    this.sourceName = name ?? '';
    store.setDecodeAs({ ...this.decode });
    this.startAnalysis(store, path);
    return ok({ ...this.current });
  }

  /**
   * Opens a capture uploaded as bytes (the browser shell). It is stored under `workDir`
   * with a safe name; the SessionInfo returned carries the name the page gave.
   */
  async openBytes(name: string, bytes: Uint8Array): Promise<Result<SessionInfo>> {
    // only the base name, restricted to a safe alphabet: the name comes from the browser
    const safe = basename(name.replace(/\\/g, '/')).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'upload';
    const dir = join(this.opts.workDir, 'uploads');
    // 12 hex digits, then the name: engine/service/client.ts crashMessage recognises the shape
    const path = join(dir, `${randomBytes(6).toString('hex')}-${safe}`);
    try {
      ensurePrivateDir(dir);
      writePrivateFile(path, bytes);
    } catch (e) {
      return { ok: false, error: fsError(path, e) };
    }
    const r = await this.openFile(path, name);
    if (r.ok) {
      this.upload = path;
      return r;
    }
    rmSync(path, { force: true });
    return r;
  }

  /** Stops the running file analysis (if any) and waits until it has let go of its store. */
  async cancelAnalysis(reason: Error): Promise<void> {
    const a = this.analysis;
    if (!a) return;
    a.abort.abort(reason);
    this.analysis = null;
    await a.done;
  }

  /**
   * Stops reading the file being loaded (the `cancel('open')` call): the session keeps what
   * was read, and the last progress says it is incomplete. Returns 1 when a read was running.
   */
  async stopReading(): Promise<number> {
    const a = this.analysis;
    if (!a) return 0;
    a.stopped = true;
    a.abort.abort(new Error('reading was cancelled'));
    await a.done;
    return 1;
  }

  /** Releases the store and the upload; waits for the work still reading the store first. */
  async close(): Promise<void> {
    await this.usersDone();
    this.currentStore?.close();
    this.currentStore = null;
    if (this.upload) rmSync(this.upload, { force: true });
    this.upload = '';
  }

  /** Options the user added to the analysis: the key logs. */
  private analysisOptions(): Partial<PipelineOptions> {
    return this.opts.keyLogs && this.opts.keyLogs.count > 0 ? { keyLog: this.opts.keyLogs.build() } : {};
  }

  /** The decoder the user chose for each connection of the file open now. */
  get decoders(): Readonly<Record<number, string>> {
    return this.decode;
  }

  /**
   * Reads the file open now again (a key log was added, a decoder chosen); `unsupported` for a live capture or when nothing is open.
   */
  async reanalyse(decode?: { conn: number; protocol: string }): Promise<Result<SessionInfo>> {
    if (this.current.kind !== 'file' || !this.source) return err('unsupported', 'Only a capture file can be read again with other decoders or key logs; stop the live capture and open its file.');
    if (decode) {
      if (decode.protocol === '') delete this.decode[decode.conn];
      else this.decode[decode.conn] = decode.protocol;
    }
    const upload = this.upload;
    // an upload is the source: keep it through the replacement
    this.upload = '';
    const r = await this.openFile(this.source, this.sourceName || undefined);
    this.upload = upload;
    return r;
  }

  private async usersDone(): Promise<void> {
    while (this.users.size > 0) await Promise.all([...this.users]);
  }

  private startAnalysis(store: SessionStore, path: string): void {
    const { push, pump, pipeline } = this.opts;
    const abort = new AbortController();
    const release = pump.hold();
    let bytesRead = 0;
    const done = this.opts
      .analyze(path, (ev) => store.ingest(ev), {
        ...pipeline,
        ...this.analysisOptions(),
        session: { ...pipeline.session, keepWirePayload: true, app: { ...pipeline.session?.app, decode: { ...this.decode } } },
        signal: abort.signal,
        onProgress: (read, totalBytes, packets) => {
          store.setPackets(packets);
          bytesRead = read;
          pump.setProgress({ bytesRead: read, totalBytes, packets, done: false });
        },
      })
      .then(
        (summary) => {
          if (this.currentStore !== store) return;
          return pump.finish({ bytesRead: this.current.totalBytes, totalBytes: this.current.totalBytes, packets: summary.packets, done: true, ...incomplete(store) });
        },
        (e: unknown) => {
          if (this.currentStore !== store) return;
          if (abort.signal.aborted) {
            // stopped by the user (stopReading): what was read stays, and the progress says so
            if (!entry.stopped) return;
            const total = this.current.totalBytes;
            return pump.finish({ bytesRead, totalBytes: total, packets: store.packetCount, done: true, incomplete: `reading was cancelled after ${bytesRead} of ${total} bytes` });
            return;
          }
          pump.flush();
          const code = ANALYSIS_ERRORS.find((c) => c === codeOf(e)) ?? 'internal';
          push('error', { code, message: `Reading ${basename(path)} failed: ${messageOf(e)}` });
          return pump.finish({ bytesRead, totalBytes: this.current.totalBytes, packets: store.packetCount, done: true, incomplete: incomplete(store).incomplete ?? 'reading the file failed (see the error)' });
        },
      );
    const entry: { abort: AbortController; done: Promise<void>; stopped: boolean } = {
      abort,
      stopped: false,
      done: done.finally(() => {
        if (this.analysis === entry) this.analysis = null;
        release();
      }),
    };
    this.analysis = entry;
  }
}

/** The final progress's `incomplete` when the store did not keep every payload whole. */
export function incomplete(store: SessionStore): { incomplete?: string } {
  const n = store.payloadCuts;
  if (n === 0) return {};
  const p = store.payloads;
  const why = p.failure ? `writing them to the scratch folder failed (${p.failure.code})` : `the kept-payload limit of ${p.maxBytes} bytes was reached`;
  return { incomplete: `the payloads of ${n} frames and messages were not kept whole: ${why}` };
}

/** true when a file's first 4 bytes start a pcap, pcapng or gzip file. */
function looksLikeCapture(head: Uint8Array): boolean {
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  return gzip || (head.length >= 4 && isCaptureMagic(head));
}
