/**
 * Live capture for EngineService: listInterfaces, validateFilter, startCapture and
 * stopCapture over engine/capture/live.ts, which is loaded lazily (a build may lack it, and
 * loading it may fail). When the module cannot be loaded the calls answer `unsupported`
 * with the loader's own reason (its error message, first line), so the user sees why.
 *
 * A capture is one session (Sessions.replace, kind `live`): packets go through a Pipeline
 * into its store while the capture holds the batch pump; its statuses are pushed as
 * `captureStatus`. A decoder failure that escapes the pipeline's own containment stops
 * decoding only: capture goes on writing the file, and the user is told once.
 *
 * Memory: the running capture and its pipeline (released when it finishes). The capture
 * file is the user's data and stays on disk.
 */
import { defaultCaptureDir, ensurePrivateDir } from '../fs/private';
import { join } from 'node:path';
import { err, ok, type CaptureOptions, type CaptureStatus, type InterfaceInfo, type Result, type SessionInfo } from '../../shared/api';
import type { CaptureSink } from '../types';
import { LIVE_GAP_TIMEOUT_S, Pipeline, type PipelineOptions } from '../pipeline';
import { messageOf } from './errors';
import type { BatchPump } from './pump';
import type { KeyLogs } from './keylogs';
import type { Sessions } from './sessions';
import type { LiveCaptureHandle, LiveLoader, LiveModule, PushFn } from './types';

export interface LiveCaptureOptions {
  push: PushFn;
  pump: BatchPump;
  sessions: Sessions;
  load: LiveLoader;
  /** where capture files are written (checked private: engine/fs/private.ts ensurePrivateDir); default defaultCaptureDir() */
  captureDir?: string;
  pipeline: Partial<PipelineOptions>;
  /** the user's key logs: a capture decrypts with them, and with those added while it runs */
  keyLogs?: KeyLogs;
}

/** Loads engine/capture/live.ts and the interface list; rejects with the reason when that fails. */
export async function defaultLoadLive(): Promise<LiveModule> {
  const [live, ifs] = await Promise.all([import('../capture/live'), import('../capture/interfaces')]);
  return { startLiveCapture: live.startLiveCapture, validateFilter: live.validateFilter, listInterfaces: ifs.listInterfaces };
}

/** The interface filters are checked on when the caller names none. */
const DEFAULT_FILTER_IFACE = 'lo';

export class LiveCaptureControl {
  private live: { capture: LiveCaptureHandle; finished: Promise<CaptureStatus> } | null = null;

  constructor(private readonly opts: LiveCaptureOptions) {}

  /** true from a successful start until the capture has finished */
  get running(): boolean {
    return this.live !== null;
  }

  async listInterfaces(): Promise<Result<InterfaceInfo[]>> {
    const m = await this.module();
    return m.ok ? ok(m.value.listInterfaces()) : m;
  }

  async validateFilter(filter: string, iface = DEFAULT_FILTER_IFACE): Promise<Result<true>> {
    const m = await this.module();
    return m.ok ? m.value.validateFilter(filter, iface) : m;
  }

  async start(options: CaptureOptions): Promise<Result<SessionInfo>> {
    if (this.live) return err('capture-running', 'A live capture is already running; stop it first.');
    const m = await this.module();
    if (!m.ok) return m;
    const { push, pump, sessions } = this.opts;
    let dir: string;
    try {
      dir = this.opts.captureDir === undefined ? defaultCaptureDir() : ensurePrivateDir(this.opts.captureDir);
    } catch (e) {
      return err('io', `Cannot use the capture folder: ${messageOf(e)}`);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(dir, `wsscope-${options.iface.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.pcapng`);
    const store = await sessions.replace('live', file, 0);
    // live: a lost packet must not hold back what follows it for the rest of the capture
    const pipeline = new Pipeline((ev) => store.ingest(ev), {
      gapTimeoutSeconds: LIVE_GAP_TIMEOUT_S,
      ...this.opts.pipeline,
      ...(this.opts.keyLogs ? { keyLog: this.opts.keyLogs.forLive() } : {}),
      session: { ...this.opts.pipeline.session, keepWirePayload: true },
    });
    // A decoder bug must not end the capture: the pipeline contains errors per connection,
    // and anything that still escapes it stops decoding only. Capture goes on writing the
    // file (the packets reach the sink after they are on disk), and the user is told once.
    let decodeError = false;
    const decodeFailed = (e: unknown): void => {
      if (decodeError) return;
      decodeError = true;
      push('error', {
        code: 'internal',
        message: `Decoding the live capture stopped after an internal error (${messageOf(e)}); capturing goes on into ${file}: stop the capture and open that file to see everything.`,
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
    const r = await m.value.startLiveCapture({ ...options, file }, sink, (s) => push('captureStatus', s));
    if (!r.ok) {
      sessions.abandon(store);
      return r;
    }
    const capture = r.value;
    const release = pump.hold();
    const session = {
      capture,
      finished: capture.done.then((final) => {
        if (this.live === session) this.live = null;
        this.opts.keyLogs?.liveDone();
        if (sessions.store === store) {
          if (!decodeError) {
            try {
              pipeline.finish();
            } catch (e) {
              decodeFailed(e);
            }
          }
          pump.flush();
        }
        release();
        return final;
      }),
    };
    this.live = session;
    sessions.retarget(store, capture.file);
    return ok(sessions.info);
  }

  async stop(): Promise<Result<CaptureStatus>> {
    const s = this.live;
    if (!s) return err('no-capture', 'No live capture is running.');
    await s.capture.stop();
    return ok(await s.finished);
  }

  /** Stops the running capture (engine shutting down); its file stays. */
  async dispose(): Promise<void> {
    if (this.live) await this.live.capture.stop().catch(() => undefined);
  }

  /** The live module, or why there is none (loaded on each use: Node caches the import). */
  private async module(): Promise<Result<LiveModule>> {
    try {
      const m = await this.opts.load();
      return m ? ok(m) : err('unsupported', 'Live capture is not available in this build.');
    } catch (e) {
      // one line: a loader error may carry a stack or a native loader's multi-line report
      return err('unsupported', `Live capture is not available: ${messageOf(e).split('\n')[0]}`);
    }
  }
}
