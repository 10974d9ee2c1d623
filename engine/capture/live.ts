/**
 * Live capture: one interface over two backends (cap = libpcap in-process, dumpcap = child
 * process), written through to a pcapng file and decoded from that same byte stream.
 *
 *   backend --pcapng bytes--> PcapngWriter (fs.writeSync per batch) --flushed batch-->
 *     DecodeQueue --(time-budgeted turns)--> CaptureParser --> sink (PacketRecord)
 *
 * Contract:
 *  - The file comes first: a packet reaches the sink only after the batch that holds it was
 *    written, so whatever the sink has shown is on disk (a SIGKILL loses at most the batch
 *    of the current event-loop turn, and the file ends on a block boundary).
 *  - Decoding never blocks capture: batches are flushed every loop turn, while decoding runs
 *    in turns of at most `decodeBudgetMs`; a decoder that falls behind only makes the queue
 *    grow, up to `maxQueuedBytes`, beyond which it reads the backlog back from the file.
 *    Nothing is dropped inside wsscope; drops can only happen in the kernel or dumpcap.
 *  - `stop()` ends capture, decodes everything still queued, ends the parser, closes the
 *    file and resolves with the final status. The file is kept in every case, errors too.
 *  - Errors are `ApiError`s with one sentence that says what to do.
 *
 * Memory ownership: records handed to the sink are views valid during the call only.
 */
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { err, ok, type ApiError, type CaptureOptions, type CaptureStatus, type Result } from '../../shared/api';
import type { CaptureSink } from '../types';
import { CaptureParser } from './pcap-parser';
import { PcapngWriter } from './pcapng-writer';
import { loadCap, openCap, type CapHandle } from './live-cap';
import { PERMISSION_HELP, findDumpcap, startDumpcap, validateFilterWithDumpcap, type DumpcapHandle } from './live-dumpcap';
import { kernelState, listInterfaces } from './interfaces';

export interface LiveOptions extends CaptureOptions {
  /** pcapng file to write; default: a new file in the temp directory */
  file?: string;
  /** longest decode turn before capture gets the event loop back (ms) */
  decodeBudgetMs?: number;
  /** bytes of written-but-undecoded capture kept in memory before reading back from the file */
  maxQueuedBytes?: number;
  /** how often `onStatus` reports counters while running (ms) */
  statusIntervalMs?: number;
}

export interface LiveCapture {
  file: string;
  backend: 'cap' | 'dumpcap';
  /** the current counters */
  status(): CaptureStatus;
  /** resolves with the final status when the capture ends by itself or by stop() */
  readonly done: Promise<CaptureStatus>;
  stop(): Promise<CaptureStatus>;
}

export const DEFAULT_SNAPLEN = 262144;
/** MiB; dumpcap's default is 2, too small for a busy loopback */
export const DEFAULT_BUFFER_MIB = 64;

const CAP_DROPS_NOTE = 'drops: not reported by the cap backend';
export { CAP_DROPS_NOTE };

function interfaceList(): string {
  const names = listInterfaces().map((i) => i.name);
  return names.length ? names.join(', ') : '(none found)';
}

function noSuchInterface(iface: string): ApiError {
  return { code: 'no-such-interface', message: `There is no interface named "${iface}"; available: ${interfaceList()} (see \`wsscope interfaces\`).` };
}

function permissionDenied(iface: string, detail: string): ApiError {
  return { code: 'permission-denied', message: `Permission denied capturing on ${iface} (${detail}): ${PERMISSION_HELP}.` };
}

function defaultFile(iface: string): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return join(tmpdir(), `wsscope-${iface.replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}-${process.pid}.pcapng`);
}

/**
 * Feeds written batches to the parser in bounded turns. Batches are kept in memory while the
 * backlog is small; past `maxQueued` the queue stops holding bytes and the decoder reads the
 * backlog from the file instead (it is all there: batches are queued only once written).
 */
class DecodeQueue {
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private queued = 0;
  /** file offset of the next byte the parser has not seen */
  private decoded = 0;
  /** file offset up to which bytes are written */
  private written = 0;
  private spilling = false;
  private readFd = -1;
  private scheduled = false;
  private readBuf: Uint8Array | null = null;

  constructor(
    private readonly parser: CaptureParser,
    private readonly path: string,
    private readonly budgetMs: number,
    private readonly maxQueued: number,
  ) {}

  get backlog(): number {
    return this.written - this.decoded;
  }

  add(bytes: Uint8Array, offset: number): void {
    this.written = offset + bytes.length;
    if (!this.spilling && this.queued + bytes.length <= this.maxQueued) {
      this.chunks.push(bytes);
      this.queued += bytes.length;
    } else {
      this.spilling = true;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run(this.budgetMs);
      if (this.backlog > 0) this.schedule();
    });
  }

  /** Decode until caught up or `budgetMs` spent (Infinity: until caught up). */
  run(budgetMs: number): void {
    const t0 = performance.now();
    while (this.decoded < this.written) {
      if (this.head < this.chunks.length) {
        const c = this.chunks[this.head];
        this.chunks[this.head++] = EMPTY;
        if (this.head === this.chunks.length) {
          this.chunks.length = 0;
          this.head = 0;
        }
        this.queued -= c.length;
        this.decoded += c.length;
        this.parser.push(c);
      } else {
        // spilled backlog: read it back from the file
        if (this.readFd < 0) this.readFd = openSync(this.path, 'r');
        this.readBuf ??= new Uint8Array(1 << 20);
        const want = Math.min(this.readBuf.length, this.written - this.decoded);
        const n = readSync(this.readFd, this.readBuf, 0, want, this.decoded);
        if (n <= 0) break;
        this.decoded += n;
        this.parser.push(this.readBuf.subarray(0, n));
        if (this.decoded === this.written) this.spilling = false;
      }
      if (performance.now() - t0 >= budgetMs) break;
    }
  }

  close(): void {
    if (this.readFd >= 0) closeSync(this.readFd);
    this.readFd = -1;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Check a BPF filter for an interface: libpcap compiles it, through `dumpcap -d` when dumpcap
 * is installed and allowed (a child process: nothing stays behind), else by opening the
 * device through cap with a small ring (see live-cap.ts for what a failed open keeps).
 * Resolves ok(true) when neither can tell (no privilege anywhere): opening will.
 */
export function validateFilter(filter: string, iface: string): Result<true> {
  if (!filter.trim()) return ok(true);
  const viaDumpcap = findDumpcap() ? validateFilterWithDumpcap(filter, iface) : null;
  if (viaDumpcap && (viaDumpcap.ok || viaDumpcap.error.code !== 'permission-denied')) return viaDumpcap;
  if (loadCap()) {
    const r = openCap({ iface, filter, snaplen: 64, bufferSize: 1 << 20 }, () => {});
    if (r.ok) {
      r.value.close();
      return ok(true);
    }
    if (r.error.code === 'invalid-filter') return r;
    if (r.error.code === 'permission-denied') return viaDumpcap ?? r;
    return r;
  }
  return viaDumpcap ?? ok(true);
}

/**
 * Start capturing on `opts.iface`. Resolves once packets are being captured (or with the
 * error that prevented it). `sink` receives the decoded records; `onStatus` every state
 * change and, while running, the counters every `statusIntervalMs`.
 */
export async function startLiveCapture(
  opts: LiveOptions,
  sink: CaptureSink,
  onStatus: (s: CaptureStatus) => void = () => {},
): Promise<Result<LiveCapture>> {
  const iface = opts.iface;
  const filter = opts.filter ?? '';
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  const bufferMiB = opts.bufferSize ?? DEFAULT_BUFFER_MIB;
  const promiscuous = opts.promiscuous ?? true;
  const wanted = opts.backend ?? 'auto';
  const file = opts.file ?? defaultFile(iface);
  if (!iface) return err('bad-request', 'Choose an interface to capture on (see `wsscope interfaces`).');
  if (!Number.isInteger(snaplen) || snaplen < 64 || snaplen > 262144) return err('bad-request', `Snap length ${snaplen} is out of range (64..262144).`);
  if (!(bufferMiB > 0)) return err('bad-request', `Buffer size ${bufferMiB} MiB must be positive.`);

  // the interface must exist (pseudo-devices such as "any" are listed by libpcap)
  const names = listInterfaces().map((i) => i.name);
  if (names.length && !names.includes(iface)) return err('no-such-interface', noSuchInterface(iface).message);

  // compile the filter before opening for real (a failed cap open would keep its ring)
  if (filter.trim()) {
    const v = validateFilter(filter, iface);
    if (!v.ok && v.error.code === 'invalid-filter') return v;
  }

  const status: CaptureStatus = { state: 'starting', iface, backend: '', packets: 0, bytes: 0, drops: null, file };
  const emitStatus = (): void => onStatus({ ...status, error: status.error ? { ...status.error } : undefined });
  emitStatus();

  // ---- choose and open the backend
  let cap: CapHandle | null = null;
  let dumpcap: DumpcapHandle | null = null;
  let capError: ApiError | null = null;

  let writer: PcapngWriter | null = null;
  let capIface = 0;
  let flushScheduled = false;
  let packets = 0;
  let limitReached = false;
  let stopRequested: (() => void) | null = null;
  const flushTurn = (): void => {
    flushScheduled = false;
    if (writer) writer.flush();
  };
  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushTurn);
  };

  const tryCap = wanted === 'cap' || (wanted === 'auto' && promiscuous);
  if (wanted === 'cap' && !promiscuous) {
    return err('unsupported', 'The cap backend always captures in promiscuous mode; use --backend dumpcap for --no-promisc.');
  }
  if (tryCap) {
    const r = openCap({ iface, filter, snaplen, bufferSize: Math.round(bufferMiB * 1024 * 1024) }, (data, origLen, tsMicros) => {
      if (limitReached) return;
      writer!.appendPacketUnits(capIface, tsMicros, data, origLen);
      packets++;
      status.bytes += data.length;
      scheduleFlush();
      if (opts.count && packets >= opts.count) {
        limitReached = true;
        stopRequested?.();
      }
    });
    if (r.ok) cap = r.value;
    else capError = r.error;
    if (capError?.code === 'invalid-filter') return { ok: false, error: capError };
    if (capError?.code === 'no-such-interface') return err('no-such-interface', noSuchInterface(iface).message);
    if (wanted === 'cap' && capError) {
      return { ok: false, error: capError.code === 'permission-denied' ? permissionDenied(iface, capError.message) : capError };
    }
  }

  // the file: created once a backend is chosen (cap) or about to start (dumpcap)
  const createWriter = (shb: boolean): Result<PcapngWriter> => {
    try {
      const fd = openSync(file, 'w', 0o644);
      return ok(new PcapngWriter(fd, true, shb ? 'wsscope' : null));
    } catch (e) {
      return err('io', `Cannot write the capture file ${file}: ${(e as Error).message}.`);
    }
  };

  let parser!: CaptureParser;
  let queue!: DecodeQueue;
  const setupDecode = (w: PcapngWriter): void => {
    parser = new CaptureParser({
      packet: (rec) => {
        if (dumpcap) {
          status.packets++;
          status.bytes += rec.data.length;
        }
        sink.packet(rec);
      },
      problem: (p) => sink.problem?.(p),
      iface: (i) => sink.iface?.(i),
    });
    queue = new DecodeQueue(parser, file, opts.decodeBudgetMs ?? 20, opts.maxQueuedBytes ?? 256 << 20);
    w.onFlush = (bytes, offset) => {
      if (cap) status.packets = w.packetsWritten;
      queue.add(bytes, offset);
    };
  };

  if (cap) {
    const w = createWriter(true);
    if (!w.ok) {
      cap.close();
      return w;
    }
    writer = w.value;
    capIface = writer.addInterface({ linkType: cap.linkType, snaplen: Math.min(snaplen, 65535), name: iface, tsResolution: 6 });
    setupDecode(writer);
    writer.flush();
    status.backend = 'cap';
    status.drops = null;
  } else {
    if (!findDumpcap()) {
      if (capError) {
        const why = capError.code === 'permission-denied' ? permissionDenied(iface, capError.message).message : capError.message;
        return err(capError.code, `${why} (dumpcap, the other backend, is not installed: \`sudo apt-get install wireshark-common\`.)`);
      }
      return err('dumpcap-missing', 'dumpcap is not installed: install it with `sudo apt-get install wireshark-common` (or `tshark`), or use --backend cap.');
    }
    const w = createWriter(false);
    if (!w.ok) return w;
    writer = w.value;
    setupDecode(writer);
    const started = await startDumpcap(
      { iface, filter, snaplen, bufferMiB, promiscuous, count: opts.count },
      (chunk) => {
        writer!.appendRaw(chunk);
        scheduleFlush();
      },
    );
    if (!started.ok) {
      writer.close();
      // nothing was captured: do not leave an empty file behind
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
      let e = started.error;
      if (e.code === 'permission-denied') e = permissionDenied(iface, capError ? `${capError.message}; dumpcap: ${e.message.replace(/ To fix:.*$/, '')}` : e.message.replace(/ To fix:.*$/, ''));
      if (e.code === 'no-such-interface') e = noSuchInterface(iface);
      return { ok: false, error: e };
    }
    dumpcap = started.value;
    status.backend = 'dumpcap';
  }

  // ---- running
  status.state = 'running';
  emitStatus();
  let resolveDone!: (s: CaptureStatus) => void;
  const done = new Promise<CaptureStatus>((r) => (resolveDone = r));
  let stopping: Promise<CaptureStatus> | null = null;
  const timers: NodeJS.Timeout[] = [];

  const finish = async (failure?: ApiError): Promise<CaptureStatus> => {
    status.state = 'stopping';
    emitStatus();
    for (const t of timers) clearInterval(t);
    let error = failure;
    if (cap) {
      cap.close();
      cap = null;
      status.drops = null;
    }
    if (dumpcap) {
      const exit = await dumpcap.stop();
      status.drops = exit.drops;
      if (exit.error && !error) error = exit.error;
    }
    writer!.flush();
    queue.run(Infinity);
    parser.end();
    queue.close();
    writer!.close();
    if (status.backend === 'cap') status.packets = writer!.packetsWritten;
    if (error) {
      status.state = 'failed';
      status.error = { code: error.code, message: `${error.message} The ${status.packets} packet(s) captured so far are in ${file}.` };
    } else {
      status.state = 'stopped';
    }
    emitStatus();
    resolveDone({ ...status });
    return { ...status };
  };
  const stop = (failure?: ApiError): Promise<CaptureStatus> => {
    stopping ??= finish(failure);
    return stopping;
  };
  stopRequested = () => void stop();

  if (dumpcap) {
    const d = dumpcap;
    void d.exited.then((exit) => {
      // dumpcap ended by itself: -c count reached, or an error (interface gone, ...)
      if (!stopping) void stop(exit.error);
    });
  }
  if (cap) {
    // cap has no error callback: watch the interface ourselves (Linux /sys)
    const watch = setInterval(() => {
      const k = kernelState(iface);
      if (k && !k.up) void stop({ code: 'interface-down', message: `Interface ${iface} went down; capture stopped (bring it up and start again).` });
    }, 1000);
    watch.unref();
    timers.push(watch);
  }
  if (opts.durationSeconds && opts.durationSeconds > 0) {
    const t = setTimeout(() => void stop(), opts.durationSeconds * 1000);
    timers.push(t);
  }
  const every = opts.statusIntervalMs ?? 500;
  if (every > 0) {
    const t = setInterval(() => {
      if (status.state === 'running') emitStatus();
    }, every);
    t.unref();
    timers.push(t);
  }
  return ok({
    file,
    backend: status.backend as 'cap' | 'dumpcap',
    status: () => ({ ...status }),
    done,
    stop: () => stop(),
  });
}
