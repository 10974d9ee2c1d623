/**
 * Entry point of the engine process: runs one EngineService and speaks the protocol of
 * ./protocol.ts with whoever started it, over `process.parentPort` when it is an Electron
 * utilityProcess, else over Node's IPC channel (`child_process.fork`, serialization
 * 'advanced'). Arguments: --config-dir=DIR [--work-dir=DIR] [--capture-dir=DIR]
 * [--payload-budget=BYTES] [--payload-limit=BYTES] [--row-budget=BYTES]. The environment variable
 * WSSCOPE_MAX_KEPT_PAYLOAD (bytes) sets the payload limit when the argument is absent (the
 * way to reach it through `wsscope serve` and the desktop app); TMPDIR moves the scratch
 * folder (spill files, uploads) to another disk.
 *
 * The process exits when told to shut down or when its parent goes away. An uncaught error
 * ends it too (exit code 70): the client reports `engine-crashed` and starts a fresh one,
 * which is safer than going on with a store in an unknown state.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EngineService } from './engine-service';
import { isToHost, type FromHost } from './protocol';

interface ParentPort {
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(m: unknown): void;
}

function arg(name: string): string | undefined {
  const pre = `--${name}=`;
  const a = process.argv.find((x) => x.startsWith(pre));
  return a === undefined ? undefined : a.slice(pre.length);
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
let send: (m: FromHost) => void;
let listen: (cb: (m: unknown) => void) => void;
/** the last message handed to Node's IPC channel is written (see `written` below) */
let lastWrite: Promise<void> | undefined;
if (parentPort) {
  send = (m) => parentPort.postMessage(m);
  listen = (cb) => parentPort.on('message', (e) => cb(e.data));
} else if (process.send) {
  send = (m) => {
    // writes go out in order, so the last one's callback says all of them went
    if (process.connected) lastWrite = new Promise<void>((resolve) => process.send?.(m, undefined, {}, () => resolve()));
  };
  listen = (cb) => process.on('message', cb);
  process.on('disconnect', () => void shutdown(0));
} else {
  process.stderr.write('wsscope engine host: start me with child_process.fork or utilityProcess.fork\n');
  process.exit(64);
}

const budget = Number(arg('payload-budget'));
const rowBudget = Number(arg('row-budget'));
const limit = Number(arg('payload-limit') ?? (process.env.WSSCOPE_MAX_KEPT_PAYLOAD || undefined));
const service = new EngineService({
  push: (name, payload) => send({ t: 'push', name, payload }),
  // Node's channel writes when the event loop gets to it: a replay waits for each batch's
  // write before building the next (engine/service/pump.ts); Electron's parentPort has no
  // such callback, the pump then waits a turn of the event loop
  written: parentPort ? undefined : () => lastWrite ?? Promise.resolve(),
  configDir: arg('config-dir') ?? join(homedir(), '.config', 'wsscope'),
  workDir: arg('work-dir'),
  captureDir: arg('capture-dir'),
  payloadBudget: Number.isFinite(budget) && budget > 0 ? budget : undefined,
  rowBudget: Number.isFinite(rowBudget) && rowBudget > 0 ? rowBudget : undefined,
  payloadLimit: Number.isFinite(limit) && limit >= 0 ? limit : undefined,
  // the store copies every payload it keeps (engine/store/ingest.ts), so inflated messages can
  // be views into the inflater's memory: no 64 MiB copy per large message (docs/hardening.md)
  pipeline: { session: { ephemeralPayloads: true } },
});

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await service.dispose().catch(() => undefined);
  process.exit(code);
}

process.on('uncaughtException', (e) => {
  process.stderr.write(`wsscope engine: ${e.stack ?? e.message}\n`);
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`wsscope engine: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(70);
});

listen((m) => {
  if (!isToHost(m)) return;
  if (m.t === 'shutdown') {
    void shutdown(0);
    return;
  }
  // the client's watchdog: answered at once, so only a blocked event loop misses it
  if (m.t === 'ping') {
    send({ t: 'pong', id: m.id });
    return;
  }
  void service.call(m.name, m.args).then((result) => send({ t: 'result', id: m.id, result }));
});
send({ t: 'ready', pid: process.pid, scratch: service.scratchDir });
