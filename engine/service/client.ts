/**
 * EngineClient: the parent side of an engine host process (./host.ts), used by Electron's
 * main process (over utilityProcess) and by `wsscope serve` (over child_process.fork).
 *
 * `call(name, args)` resolves to the host's Result. If the process dies, every pending call
 * resolves to `engine-crashed`, and the listeners get, in this order: an `error` push
 * (code `engine-crashed`) whose message names the file to reopen, a `captureStatus` with
 * state `failed` when a live capture was running (so capture controls do not stay on
 * "running"; no `error` field: the error push already said why), and a `session` push of
 * kind `none`. The next call starts a fresh host. Whatever was being read or captured stays
 * on disk: a file being read is untouched, and a live capture's pcapng ends on a block
 * boundary (engine/capture/live.ts writes whole blocks before decoding them).
 *
 * Watchdog: once the host is ready, the client pings it every `intervalMs`; a host that has
 * sent nothing (no pong, no push, no result) for `timeoutMs` is hung (a regex or a loop that
 * never yields, a blocking open): it is killed, reported like a crash (the same three pushes,
 * the message saying it stopped answering), and a fresh host is started at once.
 *
 * How a process is started is injected (`fork`), so the same client runs over both
 * transports and tests can use a real child process.
 */
import { fork as nodeChildFork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiError, CallArgs, CallName, CallResult, CaptureStatus, PushName, PushPayloads, Result, SessionInfo } from '../../shared/api';
import { isFromHost, type ToHost } from './protocol';

/** A started engine process, whatever the transport. */
export interface EngineProcess {
  readonly pid: number | undefined;
  postMessage(m: ToHost): void;
  onMessage(cb: (m: unknown) => void): void;
  /** called once when the process is gone, for whatever reason */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export type ForkFn = () => EngineProcess;

export type PushListener = <K extends PushName>(name: K, payload: PushPayloads[K]) => void;

export interface EngineClient {
  call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>>;
  /** untyped variant for relays (IPC, WebSocket): the host validates everything */
  callRaw(name: string, args: unknown[]): Promise<Result<unknown>>;
  onPush(cb: PushListener): () => void;
  /** pid of the running host (undefined before it started or after it died) */
  readonly pid: number | undefined;
  /** resolves once the current host said it is ready */
  ready(): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (r: Result<unknown>) => void;
}

export interface WatchdogOptions {
  /** how often the host is pinged (ms, default 5,000) */
  intervalMs?: number;
  /** silence after which the host counts as hung and is killed (ms, default 30,000) */
  timeoutMs?: number;
}

export function spawnEngine({ fork, watchdog = {} }: { fork: ForkFn; watchdog?: WatchdogOptions | false }): EngineClient {
  const pingEvery = watchdog ? (watchdog.intervalMs ?? 5000) : 0;
  const hungAfter = watchdog ? (watchdog.timeoutMs ?? 30_000) : 0;
  let proc: EngineProcess | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const pendingUploads = new Map<number, string>();
  const listeners = new Set<PushListener>();
  let lastSession: SessionInfo | null = null;
  let lastCapture: CaptureStatus | null = null;
  /** the name the page gave the upload being shown (its stored copy has a sanitised name) */
  let upload: { stored: string; name: string } | null = null;
  let closed = false;
  let readyPromise: Promise<void> = Promise.resolve();
  let readyResolve: () => void = () => {};

  const emit: PushListener = (name, payload) => {
    for (const l of listeners) {
      try {
        l(name, payload);
      } catch {
        // a listener's failure must not stop the others
      }
    }
  };

  function start(): EngineProcess {
    const p = fork();
    proc = p;
    let scratch = '';
    let lastHeard = Date.now();
    /** how long the host had been silent when the watchdog killed it (0: it was not) */
    let hungMs = 0;
    let pings: ReturnType<typeof setInterval> | undefined;
    const watch = (): void => {
      if (!pingEvery || pings) return;
      let id = 0;
      pings = setInterval(() => {
        const silent = Date.now() - lastHeard;
        if (silent >= hungAfter) {
          clearInterval(pings);
          hungMs = silent;
          p.kill();
          return;
        }
        try {
          p.postMessage({ t: 'ping', id: ++id });
        } catch {
          // gone: onExit reports it
        }
      }, pingEvery);
      // the watchdog never keeps the parent alive on its own
      pings.unref?.();
    };
    readyPromise = new Promise<void>((r) => (readyResolve = r));
    p.onMessage((m) => {
      if (proc !== p || !isFromHost(m)) return;
      lastHeard = Date.now();
      if (m.t === 'pong') return;
      if (m.t === 'result' && m.result.ok && pendingUploads.has(m.id)) {
        // the session push of an upload comes before its result: lastSession is its copy
        if (lastSession && lastSession.kind === 'file') upload = { stored: lastSession.path, name: pendingUploads.get(m.id) as string };
      }
      if (m.t === 'result') pendingUploads.delete(m.id);
      if (m.t === 'ready') {
        // only a directory of the shape EngineService creates (tmpdir/wsscope-PID-HEX) is ever removed
        scratch = typeof m.scratch === 'string' && /^wsscope-\d+-[0-9a-f]+$/.test(basename(m.scratch)) ? m.scratch : '';
        readyResolve();
        watch();
      }
      else if (m.t === 'result') {
        const w = pending.get(m.id);
        if (w) {
          pending.delete(m.id);
          w.resolve(m.result);
        }
      } else {
        if (m.name === 'session') lastSession = m.payload as SessionInfo;
        else if (m.name === 'captureStatus') lastCapture = m.payload as CaptureStatus;
        emit(m.name, m.payload as PushPayloads[typeof m.name]);
      }
    });
    p.onExit((code, signal) => {
      clearInterval(pings);
      if (proc !== p) return;
      proc = null;
      readyResolve();
      // a host that died could not remove its uploads and spill files: do it for it
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      if (closed) return;
      const capture = lastCapture && ACTIVE_CAPTURE.includes(lastCapture.state) ? lastCapture : null;
      const uploadName = upload && lastSession && upload.stored === lastSession.path ? upload.name : undefined;
      const error: ApiError = { code: 'engine-crashed', message: crashMessage(code, signal, lastSession, capture, scratch, uploadName, hungMs) };
      upload = null;
      pendingUploads.clear();
      lastSession = null;
      lastCapture = null;
      const waiting = [...pending.values()];
      pending.clear();
      for (const w of waiting) w.resolve({ ok: false, error });
      emit('error', error);
      if (capture) {
        const { error: _previous, ...rest } = capture;
        emit('captureStatus', { ...rest, state: 'failed' });
      }
      emit('session', { id: 0, kind: 'none', path: '', totalBytes: 0 });
      // a hung host is replaced at once (a crashed one with the next call)
      if (hungMs && !closed && !proc) start();
    });
    return p;
  }

  start();

  const callRaw = (name: string, args: unknown[]): Promise<Result<unknown>> => {
    if (closed) return Promise.resolve({ ok: false, error: { code: 'engine-crashed', message: 'The engine was shut down.' } });
    const p = proc ?? start();
    const id = nextId++;
    return new Promise<Result<unknown>>((resolve) => {
      pending.set(id, { resolve });
      if (name === 'openBytes' && typeof args[0] === 'string') pendingUploads.set(id, args[0]);
      try {
        p.postMessage({ t: 'call', id, name, args });
      } catch (e) {
        pending.delete(id);
        resolve({ ok: false, error: { code: 'engine-crashed', message: `The engine cannot be reached: ${e instanceof Error ? e.message : String(e)}` } });
      }
    });
  };

  return {
    call: <K extends CallName>(name: K, args: CallArgs<K>) => callRaw(name, args as unknown[]) as Promise<CallResult<K>>,
    callRaw,
    onPush(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    get pid() {
      return proc?.pid;
    },
    ready: () => readyPromise,
    async close() {
      if (closed) return;
      closed = true;
      const p = proc;
      if (!p) return;
      const gone = new Promise<void>((r) => p.onExit(() => r()));
      try {
        p.postMessage({ t: 'shutdown' });
      } catch {
        p.kill();
      }
      // a host that does not stop within 3 s is killed
      const t = setTimeout(() => p.kill(), 3000);
      await gone;
      clearTimeout(t);
      for (const w of pending.values()) w.resolve({ ok: false, error: { code: 'engine-crashed', message: 'The engine was shut down.' } });
      pending.clear();
    },
  };
}

const ACTIVE_CAPTURE: ReadonlyArray<CaptureStatus['state']> = ['starting', 'running', 'stopping'];

/**
 * The sentence of an `engine-crashed` error: what happened, and which file holds the data
 * (the capture file being read, or the pcapng a live capture was writing) to open again.
 * `capture` is the last status of a capture that was still running, else null. An upload
 * (`wsscope serve`; `uploadName` is the name the page gave it, or the file lies under
 * `scratch`) is only a copy that dies with the host, so the user is asked to drop the
 * original again, by its name. `hungMs` > 0: the watchdog killed a host silent that long.
 */
export function crashMessage(code: number | null, signal: string | null, session: SessionInfo | null, capture: CaptureStatus | null, scratch = '', uploadName?: string, hungMs = 0): string {
  const how = hungMs
    ? `stopped answering (no reply for ${Math.round(hungMs / 1000)} s) and was restarted`
    : signal
      ? `was killed (${signal})`
      : `exited with code ${code}`;
  const path = session && session.kind !== 'none' ? session.path : '';
  if (path && (session?.upload || (scratch && path.startsWith(scratch + sep)) || uploadName)) {
    // an upload's session names the user's file (SessionInfo.upload); a stored copy in the
    // scratch folder is named <12 hex digits>-<sanitised name> (engine/service/sessions.ts openBytes)
    const name = uploadName ?? (session?.upload ? path : basename(path).replace(/^[0-9a-f]{12}-/, ''));
    return `The wsscope engine ${how} while showing the uploaded file ${name}. Drop ${name} on the window again to continue.`;
  }
  if (capture && path) {
    const iface = capture.iface ? ` on ${capture.iface}` : '';
    return `The wsscope engine ${how} during the live capture${iface}, which stopped. The packets captured so far are in ${path}: open that file to see them.`;
  }
  if (path) return `The wsscope engine ${how} while showing ${path}. The file is unchanged: open it again to continue.`;
  return hungMs ? `The wsscope engine ${how}.` : `The wsscope engine ${how}; it restarts with the next action.`;
}

export interface NodeForkOptions {
  /** host entry (default: ./host.ts next to this file, run through tsx) */
  entry?: string;
  args?: string[];
  /** extra node flags */
  execArgv?: string[];
  /** where the host's stderr goes (default: inherit) */
  stderr?: 'inherit' | 'ignore';
}

/**
 * V8 flags every engine host runs with, whoever starts it (nodeFork here, Electron's
 * utilityProcess in electron/main/app.ts):
 * - V8's young generation grows to 3 x 16 MiB on a host that builds batches fast (the end of a
 *   large file); 4 MiB semi-spaces keep it at 12 (docs/hardening.md, "Row tables");
 * - the old generation's limit after each full GC is 2x what survived it. V8 otherwise picks
 *   a factor between 1.1 and 4 from how fast its last collections ran against the allocation
 *   rate, so a host whose GC threads got less CPU (a busy machine) was let grow further: on
 *   2,000,000 small messages the peak RSS was 255-262 MB on a quiet machine and up to 316 MB
 *   with two busy loops beside it; with 2x, 239-241 MB with the loops. 1.5x gave 223-236 MB
 *   but slowed the UI's load of 1,000,000 messages by about 15 % (more full collections while
 *   the batches are built); 2x is within that load's noise (docs/hardening.md).
 */
export const HOST_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=100'];

/**
 * Environment the engine host is started with, over the parent's (nodeFork here, Electron's
 * utilityProcess in electron/main/app.ts). glibc's malloc raises its
 * mmap threshold to the size of each large block freed (up to 32 MiB), after which the host's
 * large short-lived buffers (serialized batches, payload chunks, read buffers) come from its
 * heap arenas, whose freed pages stay in the RSS: a fixed threshold returns each to the system
 * when freed. On the 1,000,000-message capture that is 25-30 MiB less peak RSS
 * (docs/hardening.md, "Row tables"); other C libraries ignore the variable. A value the user
 * set is kept.
 *
 * NODE_EXTRA_CA_CERTS is left out: Node reads and parses that certificate file as it starts
 * (30 ms for a 146-certificate system bundle), and the host opens no TLS connection that would
 * verify a certificate (the same reason scripts/wsscope, the CLI, drops it).
 */
export function hostEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return { MALLOC_MMAP_THRESHOLD_: String(128 * 1024), ...rest };
}

/** ForkFn over child_process.fork with an IPC channel using structured clone. */
export function nodeFork(opts: NodeForkOptions = {}): ForkFn {
  const entry = opts.entry ?? fileURLToPath(new URL('./host.ts', import.meta.url));
  const execArgv = [...HOST_V8_FLAGS, ...(opts.execArgv ?? [])];
  if (entry.endsWith('.ts')) {
    // absolute, so the host starts whatever the current directory is
    const tsx = createRequire(import.meta.url).resolve('tsx');
    execArgv.push('--import', pathToFileURL(tsx).href);
  }
  return () => {
    const child = nodeChildFork(entry, opts.args ?? [], {
      execArgv,
      env: hostEnv(),
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', opts.stderr ?? 'inherit', 'ipc'],
    });
    let exited = false;
    const exitCbs: Array<(code: number | null, signal: string | null) => void> = [];
    child.on('exit', (code, signal) => {
      exited = true;
      for (const cb of exitCbs.splice(0)) cb(code, signal);
    });
    // an IPC write to a dead child emits 'error' on the child object; 'exit' reports it
    child.on('error', () => {});
    return {
      get pid() {
        return exited ? undefined : child.pid;
      },
      postMessage: (m) => {
        if (!child.connected) throw new Error('engine process is not connected');
        child.send(m);
      },
      onMessage: (cb) => child.on('message', cb),
      onExit: (cb) => {
        if (exited) cb(child.exitCode, child.signalCode);
        else exitCbs.push(cb);
      },
      kill: () => {
        if (!exited) child.kill('SIGKILL');
      },
    };
  };
}
