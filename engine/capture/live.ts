/**
 * Live capture: one interface over two backends, each a child process that writes pcapng to
 * its stdout (cap = libpcap through the `cap` addon in a helper process, see live-cap.ts;
 * dumpcap = Wireshark's), written through to a pcapng file and decoded from that stream.
 *
 *   child stdout --BlockAligner (whole blocks only)--> PcapngWriter (one fs.writeSync per
 *     event-loop turn) --flushed batch--> DecodeQueue --(time-budgeted turns)-->
 *     CaptureParser --> sink (PacketRecord)
 *
 * Contract:
 *  - The file comes first: a packet reaches the sink only after the batch that holds it was
 *    written, so whatever the sink has shown is on disk (a SIGKILL loses at most the batch
 *    of the current event-loop turn, and the file ends on a block boundary).
 *  - Decoding never blocks capture: batches are flushed every loop turn, while decoding runs
 *    in turns of at most `decodeBudgetMs`; a decoder that falls behind only makes the queue
 *    grow, up to `maxQueuedBytes`, beyond which it reads the backlog back from the file.
 *    Nothing is dropped inside wsscope; drops can only happen in the kernel or dumpcap. As
 *    capture runs in its own process, a busy decoder never delays reading the kernel ring.
 *  - `stop()` ends capture, decodes everything still queued, ends the parser, closes the
 *    file and resolves with the final status. The file is kept in every case, errors too.
 *  - Errors are `ApiError`s with one sentence that says what to do. A capture file that
 *    cannot be written (the disk is full: ENOSPC, EDQUOT; or failing: EIO) stops the capture
 *    like any other failure (`disk-full` or `io`): the writer cut the file back to its last
 *    whole block (pcapng-writer.ts), what was written is decoded, the status says what was
 *    lost and what to do. Nothing is thrown out of an event handler.
 *
 * Memory ownership: records handed to the sink are views valid during the call only.
 */
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPrivateFile, defaultCaptureDir, PrivateFsError } from '../fs/private';
import { err, ok, type ApiError, type CaptureOptions, type CaptureStatus, type Result } from '../../shared/api';
import type { CaptureSink } from '../types';
import { CaptureParser } from './pcap-parser';
import { PcapngWriter, SECRETS_TLS_KEY_LOG } from './pcapng-writer';
import { loadCap, openCap, startCapHelper } from './live-cap';
import { DUMPCAP_MISSING, PERMISSION_HELP, findDumpcap, startDumpcap, validateFilterWithDumpcap, type DumpcapHandle } from './live-dumpcap';
import { listInterfaces } from './interfaces';
import { interfaceMtu, kernelState } from './sys-net';

export interface LiveOptions extends CaptureOptions {
  /** pcapng file to write (created new, mode 0600: an existing name is refused); default: a new file in the private capture folder */
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
  /**
   * Embed TLS key log lines in the file as a Decryption Secrets Block (after the section's
   * header; before it arrives they wait), so the saved capture decrypts alone. Ignored once
   * the file is closed.
   */
  addSecrets(keyLogText: Uint8Array): void;
  stop(): Promise<CaptureStatus>;
}

export const DEFAULT_SNAPLEN = 262144;
/** MiB; dumpcap's default is 2, too small for a busy loopback */
export const DEFAULT_BUFFER_MIB = 64;

/** How often the interface's kernel state is checked during a capture. */
const INTERFACE_POLL_MS = 500;

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
  return join(defaultCaptureDir(), `wsscope-${iface.replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}-${process.pid}.pcapng`);
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
const PCAPNG_SHB = 0x0a0d0d0a;

/**
 * Cuts a pcapng byte stream at block boundaries, so only whole blocks reach the file: pipe
 * reads end anywhere, and a file must never end inside a block (pcapng section 3.1: every
 * block carries its total length after the type). The byte order is taken from each SHB.
 * A length that cannot be a block switches to plain pass-through (the parser reports it).
 */
class BlockAligner {
  private carry: Uint8Array = EMPTY;
  private le = true;
  private broken = false;

  push(chunk: Uint8Array): Uint8Array {
    if (this.broken) return chunk;
    let data = chunk;
    if (this.carry.length) {
      data = new Uint8Array(this.carry.length + chunk.length);
      data.set(this.carry);
      data.set(chunk, this.carry.length);
    }
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let o = 0;
    while (o + 12 <= data.length) {
      if (v.getUint32(o, true) === PCAPNG_SHB) this.le = v.getUint32(o + 8, true) === 0x1a2b3c4d;
      const len = v.getUint32(o + 4, this.le);
      if (len < 12 || len % 4 !== 0) {
        this.broken = true;
        this.carry = EMPTY;
        return data;
      }
      if (o + len > data.length) break;
      o += len;
    }
    this.carry = o < data.length ? data.slice(o) : EMPTY;
    return data.subarray(0, o);
  }

  /** the byte order of the current section */
  get littleEndian(): boolean {
    return this.le;
  }

  /** bytes of an unfinished block at the end of the stream */
  get leftover(): Uint8Array {
    return this.carry;
  }
}

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
 *
 * Backends: `cap` runs libpcap in a helper process (see live-cap.ts), `dumpcap` runs
 * Wireshark's; both hand over a pcapng stream, which is written to the file unchanged and
 * decoded. `auto` tries cap, then dumpcap when cap may not open the device; on interfaces
 * whose frames can exceed cap's fixed 65535-byte snap length (lo) it tries dumpcap first.
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
  if (!iface) return err('bad-request', 'Choose an interface to capture on (see `wsscope interfaces`).');
  if (!Number.isInteger(snaplen) || snaplen < 64 || snaplen > 262144) return err('bad-request', `Snap length ${snaplen} is out of range (64..262144).`);
  if (!(bufferMiB > 0)) return err('bad-request', `Buffer size ${bufferMiB} MiB must be positive.`);
  if (wanted === 'cap' && !promiscuous) {
    return err('unsupported', 'The cap backend always captures in promiscuous mode; use --backend dumpcap for --no-promisc.');
  }
  let file: string;
  try {
    file = opts.file ?? defaultFile(iface);
  } catch (e) {
    return err('io', `Cannot make the capture folder: ${(e as Error).message}`);
  }

  // the interface must exist (pseudo-devices such as "any" are listed by libpcap)
  const names = listInterfaces().map((i) => i.name);
  if (names.length && !names.includes(iface)) return { ok: false, error: noSuchInterface(iface) };

  // compile the filter before opening for real (a failed cap open would keep its ring)
  if (filter.trim()) {
    const v = validateFilter(filter, iface);
    if (!v.ok && v.error.code === 'invalid-filter') return v;
  }

  const status: CaptureStatus = { state: 'starting', iface, backend: '', packets: 0, bytes: 0, drops: null, file };
  const emitStatus = (): void => onStatus({ ...status, error: status.error ? { ...status.error } : undefined });
  emitStatus();

  // ---- the file and the decoder: both backends deliver a pcapng byte stream
  let writer: PcapngWriter;
  try {
    // a new private file (0600), never one that exists or a symlink (engine/fs/private.ts)
    writer = new PcapngWriter(createPrivateFile(file), true, null);
  } catch (e) {
    if (e instanceof PrivateFsError) return err('io', e.message);
    return err('io', `Cannot write the capture file ${file}: ${(e as Error).message}.`);
  }
  const parser = new CaptureParser({
    packet: (rec) => {
      status.packets++;
      status.bytes += rec.data.length;
      sink.packet(rec);
    },
    problem: (p) => sink.problem?.(p),
    iface: (i) => sink.iface?.(i),
  });
  const queue = new DecodeQueue(parser, file, opts.decodeBudgetMs ?? 20, opts.maxQueuedBytes ?? 256 << 20);
  writer.onFlush = (bytes, offset) => queue.add(bytes, offset);
  // a write that fails stops the capture (declared below, used once it runs)
  let writeFailure: ApiError | null = null;
  let stop: (failure?: ApiError) => Promise<CaptureStatus> = async () => ({ ...status });
  const guard = (write: () => void): void => {
    try {
      write();
    } catch (e) {
      writeFailure ??= writeError(file, e);
      void stop(writeFailure);
    }
  };
  // one write per event-loop turn, whatever the number of chunks that arrived in it
  let flushScheduled = false;
  const flushTurn = (): void => {
    flushScheduled = false;
    guard(() => writer.flush());
  };
  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushTurn);
  };
  const aligner = new BlockAligner();
  // secrets go into the child's section: held until its header block is in the file (the
  // key log follower bounds what it reads, keylog-follow.ts)
  let closed = false;
  let sectionStarted = false;
  const pendingSecrets: Uint8Array[] = [];
  const addSecrets = (text: Uint8Array): void => {
    if (closed || text.length === 0) return;
    if (!sectionStarted) {
      pendingSecrets.push(text.slice());
      return;
    }
    guard(() => writer.appendSecrets(SECRETS_TLS_KEY_LOG, text, aligner.littleEndian));
    scheduleFlush();
  };
  const onData = (chunk: Uint8Array): void => {
    const whole = aligner.push(chunk);
    if (whole.length === 0) return;
    guard(() => writer.appendRaw(whole));
    if (!sectionStarted) {
      sectionStarted = true;
      for (const t of pendingSecrets.splice(0)) addSecrets(t);
    }
    scheduleFlush();
  };
  const discardFile = (): void => {
    guard(() => writer.close());
    try {
      unlinkSync(file); // nothing was captured: leave no empty file behind
    } catch {
      // already gone
    }
  };

  // ---- choose and start the backend: try in order, fall through on missing rights or tools
  const order: Array<'cap' | 'dumpcap'> =
    wanted !== 'auto' ? [wanted] : !promiscuous ? ['dumpcap'] : capMayCutPackets(iface) ? ['dumpcap', 'cap'] : ['cap', 'dumpcap'];
  let child: DumpcapHandle | null = null;
  let backend: 'cap' | 'dumpcap' = order[0];
  const failures: Array<[string, ApiError]> = [];
  for (const b of order) {
    const r =
      b === 'cap'
        ? await startCapHelper({ iface, filter, snaplen, bufferSize: Math.round(bufferMiB * 1024 * 1024), count: opts.count }, onData)
        : await startDumpcap({ iface, filter, snaplen, bufferMiB, promiscuous, count: opts.count }, onData);
    if (r.ok) {
      child = r.value;
      backend = b;
      break;
    }
    failures.push([b, r.error]);
    const next = r.error.code === 'permission-denied' || r.error.code === 'dumpcap-missing' || r.error.code === 'unsupported';
    if (!next) break;
  }
  if (!child) {
    discardFile();
    return { ok: false, error: startError(iface, failures) };
  }
  const proc = child;
  status.backend = backend;

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
    const exit = await proc.stop();
    status.drops = exit.drops;
    // the child's last bytes have arrived ('close' fires after stdout is drained); a block
    // it left unfinished (it was killed mid-write) is kept, for the parser to report
    guard(() => {
      if (aligner.leftover.length) writer.appendRaw(aligner.leftover);
      writer.flush();
    });
    queue.run(Infinity);
    parser.end();
    queue.close();
    guard(() => writer.close());
    closed = true;
    // a write failure wins over the stop it caused (the child's exit, a signal)
    const error = writeFailure ?? failure ?? exit.error;
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
  stop = (failure?: ApiError): Promise<CaptureStatus> => {
    stopping ??= finish(failure);
    return stopping;
  };

  // a write that failed while the backend was starting
  if (writeFailure) void stop(writeFailure);
  // the child ends by itself: count reached, or an error (the cap helper dies with the interface)
  void proc.exited.then((exit) => {
    if (!stopping) void stop(exit.error);
  });
  // neither backend reports an interface going down (dumpcap keeps waiting on a downed
  // link), so watch the kernel's view ourselves (Linux /sys)
  if (kernelState(iface)) {
    const watch = setInterval(() => {
      const k = kernelState(iface);
      if (!k) void stop({ code: 'interface-down', message: `Interface ${iface} disappeared; capture stopped.` });
      else if (!k.up) void stop(interfaceDown(iface));
    }, INTERFACE_POLL_MS);
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
    backend,
    status: () => ({ ...status }),
    done,
    stop: () => stop(),
    addSecrets,
  });
}

/**
 * cap's snap length is fixed at 65535 bytes: on an interface whose frames can be longer
 * (lo: MTU 65536 plus the 14-byte Ethernet header) full-size segments would be cut and
 * their bytes lost, so `auto` prefers dumpcap there.
 */
function capMayCutPackets(iface: string): boolean {
  const mtu = interfaceMtu(iface);
  return mtu !== null && mtu + 14 > 65535;
}

/** One error for a start that failed on every backend tried. */
function startError(iface: string, failures: Array<[string, ApiError]>): ApiError {
  const denied = failures.filter(([, e]) => e.code === 'permission-denied');
  if (denied.length) {
    const detail = denied.map(([b, e]) => `${b}: ${e.message.replace(/ To fix:.*$/, '')}`).join('; ');
    return permissionDenied(iface, detail);
  }
  const [b, e] = failures[failures.length - 1];
  if (e.code === 'no-such-interface') return noSuchInterface(iface);
  if (e.code === 'dumpcap-missing' && failures.length > 1) return { code: failures[0][1].code, message: `${failures[0][1].message} (${DUMPCAP_MISSING})` };
  return b === 'dumpcap' || e.code !== 'io' ? e : { code: e.code, message: `cap: ${e.message}` };
}

/** A capture file write that failed, as the user is told: what happened, what to do. */
function writeError(file: string, e: unknown): ApiError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return { code: 'disk-full', message: `The disk holding ${file} is full (${code}): capture stopped, and the packets that arrived after that were not written. Free space there, or capture to a file on another disk (-w FILE), and start again.` };
  }
  return { code: 'io', message: `Writing ${file} failed (${code || 'error'}: ${(e as Error).message}): capture stopped, and the packets that arrived after that were not written.` };
}

function interfaceDown(iface: string): ApiError {
  return { code: 'interface-down', message: `Interface ${iface} went down; capture stopped (bring it up with \`sudo ip link set ${iface} up\` and start again).` };
}
