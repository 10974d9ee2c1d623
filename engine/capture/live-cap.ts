/**
 * The `cap` backend: libpcap through the `cap` native addon, which is loaded lazily
 * (createRequire) so nothing else in the engine depends on it being built.
 *
 * Capture runs in a helper process (this file, started by `startCapHelper` with
 * WSSCOPE_CAP_HELPER=1), which writes pcapng to its stdout exactly like dumpcap does, because
 * the addon aborts its process when the interface goes down (its poll callback asserts on
 * the POLLERR the kernel then raises), and because capture in its own process never waits
 * for the decoder. `openCap` itself (used by the helper and to compile filters) opens the
 * device synchronously (when it returns ok, packets are being captured) and calls `onPacket`
 * once per packet from the event loop's poll phase, with a view of cap's one reused buffer
 * (valid only during the call: copy it) and the time stamp taken at that boundary.
 * What cap cannot do, and how we cope:
 *  - no packet time stamps: we stamp when the packet reaches JavaScript, from a monotonic
 *    clock anchored once to the wall clock (`performance.timeOrigin + performance.now()`);
 *  - no pcap_stats: drops are unknown (`null`), and we say so;
 *  - snap length fixed at 65535 by the addon: a smaller snaplen is applied here by cutting,
 *    and a packet libpcap itself cut at 65535 gets its wire length back from its IP header;
 *  - always promiscuous;
 *  - no "interface went down" signal: the caller watches the interface (see live.ts);
 *  - a failed `open()` leaves the addon object half set up: its destructor (run by the GC)
 *    then stops a uv_poll handle that was never initialised and the process crashes. Failed
 *    instances are therefore kept alive for the life of the process (`failedCaps`); an
 *    open that failed on the filter also keeps its libpcap ring, so callers compile filters
 *    first with a small buffer (`validateFilter` in live.ts) and only then open for real.
 */
import { createRequire } from 'node:module';
import { Buffer } from 'node:buffer';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { err, ok, type ApiError, type ErrorCode, type Result } from '../../shared/api';
import { PcapngWriter } from './pcapng-writer';
import { kernelState } from './sys-net';
import { spawnPcapngChild, type DumpcapHandle } from './live-dumpcap';

interface CapDevice {
  name: string;
  description?: string;
  addresses: Array<{ addr: string; netmask?: string; broadaddr?: string }>;
  flags?: string;
}

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(ev: 'packet', cb: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(ev?: string): void;
}

interface CapModule {
  Cap: { new (): CapInstance; deviceList(): CapDevice[] };
}

let capModule: CapModule | null | undefined;
/** see the module comment: never let the GC destroy an instance whose open() threw */
const failedCaps: CapInstance[] = [];
let capLoadError = '';

/** The addon, or null when it is not built / not loadable here (reason in `capUnavailableReason`). */
export function loadCap(): CapModule | null {
  if (capModule !== undefined) return capModule;
  try {
    const req = createRequire(import.meta.url);
    capModule = req('cap') as CapModule;
  } catch (e) {
    capModule = null;
    capLoadError = (e as Error).message.split('\n')[0];
  }
  return capModule;
}

export function capUnavailableReason(): string {
  return capLoadError;
}

/** libpcap's device list through cap, or null without cap. */
export function capDeviceList(): CapDevice[] | null {
  const m = loadCap();
  if (!m) return null;
  try {
    return m.Cap.deviceList();
  } catch {
    return null;
  }
}

/** cap's link-type names -> LINKTYPE_* (pcap-linktype(7)); DLT_RAW is 12 or 14 by OS, LINKTYPE_RAW is 101. */
function linkTypeOf(name: string): number {
  switch (name) {
    case 'NULL':
      return 0;
    case 'ETHERNET':
      return 1;
    case 'IEEE802_11_RADIO':
      return 127;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'RAW':
      return 101;
    default: {
      // "Unknown linktype N": DLT_ and LINKTYPE_ values agree outside the few above
      const m = /(\d+)$/.exec(name);
      return m ? Number(m[1]) : -1;
    }
  }
}

/** Classify a libpcap error text from pcap_create/pcap_activate. */
export function classifyPcapError(message: string): ErrorCode {
  if (/not permitted|permission|EPERM|EACCES/i.test(message)) return 'permission-denied';
  if (/no such device|doesn't exist|does not exist/i.test(message)) return 'no-such-interface';
  if (/went down|not up|network is down|ENETDOWN/i.test(message)) return 'interface-down';
  return 'io';
}

export interface CapOpenOptions {
  iface: string;
  filter: string;
  snaplen: number;
  /** kernel buffer in bytes */
  bufferSize: number;
}

export interface CapHandle {
  /** LINKTYPE_* of the device */
  linkType: number;
  close(): void;
}

/**
 * Called per packet: `data` is a view of cap's reused buffer, already cut to the snap length;
 * `origLen` the length on the wire; `tsMicros` integer microseconds since the epoch.
 */
export type CapPacketFn = (data: Uint8Array, origLen: number, tsMicros: number) => void;

/** cap's own limit (pcap_set_snaplen(65535) in its binding). */
const CAP_SNAPLEN = 65535;

export function openCap(opts: CapOpenOptions, onPacket: CapPacketFn): Result<CapHandle> {
  const m = loadCap();
  if (!m) return err('unsupported', `The cap backend is not available (${capLoadError || 'addon not built'}); use --backend dumpcap.`);
  const buffer = Buffer.alloc(CAP_SNAPLEN);
  const view = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const cap = new m.Cap();
  let linkName: string;
  try {
    linkName = cap.open(opts.iface, opts.filter, opts.bufferSize, buffer);
  } catch (e) {
    failedCaps.push(cap);
    const message = (e as Error).message;
    const code = classifyPcapError(message);
    if (code === 'io' && opts.filter) {
      // pcap_compile / pcap_setfilter failed after the device opened: find out which by
      // opening without the filter (cap offers no compile-only call), with a small ring
      const probe = new m.Cap();
      try {
        probe.open(opts.iface, '', 1 << 20, buffer);
        probe.close();
        return err('invalid-filter', `Invalid capture filter "${opts.filter}": ${message}.`);
      } catch {
        failedCaps.push(probe);
        // the device itself fails: report the original message
      }
    }
    return err(code, message);
  }
  const linkType = linkTypeOf(linkName);
  if (linkType < 0) {
    cap.close();
    return err('unsupported', `Interface ${opts.iface} has an unsupported link type (${linkName}).`);
  }
  const snaplen = Math.min(opts.snaplen, CAP_SNAPLEN);
  const origin = performance.timeOrigin;
  cap.on('packet', (nbytes: number) => {
    // time-stamp once, at the boundary where the packet enters JavaScript
    const tsMicros = Math.round((origin + performance.now()) * 1000);
    let origLen = nbytes;
    if (nbytes >= CAP_SNAPLEN) origLen = Math.max(nbytes, wireLengthFromHeaders(linkType, view));
    onPacket(view.subarray(0, nbytes < snaplen ? nbytes : snaplen), origLen, tsMicros);
  });
  return ok({
    linkType,
    close: () => {
      cap.removeAllListeners('packet');
      cap.close();
    },
  });
}

/**
 * Length on the wire of a packet libpcap cut at 65535, from its IP header (IPv4 total length,
 * RFC 791 section 3.1; IPv6 payload length + 40, RFC 8200 section 3); 0 when unknown.
 */
export function wireLengthFromHeaders(linkType: number, b: Uint8Array): number {
  let off: number;
  let etherType: number;
  if (linkType === 1) {
    off = 14;
    etherType = (b[12] << 8) | b[13];
    if (etherType === 0x8100 && b.length >= 18) {
      etherType = (b[16] << 8) | b[17];
      off = 18;
    }
  } else if (linkType === 113) {
    off = 16;
    etherType = (b[14] << 8) | b[15];
  } else if (linkType === 0) {
    off = 4;
    etherType = b[off] >> 4 === 6 ? 0x86dd : 0x0800;
  } else if (linkType === 101) {
    off = 0;
    etherType = b[0] >> 4 === 6 ? 0x86dd : 0x0800;
  } else {
    return 0;
  }
  if (b.length < off + 8) return 0;
  if (etherType === 0x0800) return off + ((b[off + 2] << 8) | b[off + 3]);
  if (etherType === 0x86dd) return off + 40 + ((b[off + 4] << 8) | b[off + 5]);
  return 0;
}

// ---------------------------------------------------------------- the helper process

export interface CapHelperOptions extends CapOpenOptions {
  /** stop after this many packets */
  count?: number;
}

/** Milliseconds the helper keeps reading after SIGTERM, for packets already in the ring. */
const HELPER_DRAIN_MS = 50;

/**
 * Start the helper: resolves once the device is open and the pcapng header is on its stdout;
 * `onData` then gets the pcapng stream (pass-through chunks). Drops are never known (null).
 */
export function startCapHelper(opts: CapHelperOptions, onData: (chunk: Uint8Array) => void): Promise<Result<DumpcapHandle>> {
  if (!loadCap()) return Promise.resolve(err('unsupported', `The cap backend is not available (${capLoadError || 'addon not built'}); use --backend dumpcap.`));
  const script = fileURLToPath(import.meta.url);
  // under tsx / vitest this file is TypeScript: the helper needs the tsx loader, resolved
  // from the repository (cwd = this directory)
  const args = script.endsWith('.ts') ? ['--import', 'tsx', script, JSON.stringify(opts)] : [script, JSON.stringify(opts)];
  return spawnPcapngChild(
    {
      name: 'the cap capture helper',
      cmd: process.execPath,
      args,
      cwd: dirname(script),
      env: { ...process.env, WSSCOPE_CAP_HELPER: '1', ELECTRON_RUN_AS_NODE: '1' },
      drainMs: 0,
      missing: 'The cap capture helper could not be started.',
      classify: (stderr, code, signal) => helperError(opts.iface, stderr, code, signal),
      stats: () => null,
    },
    onData,
  );
}

function helperError(iface: string, stderr: string, code: number | null, signal: NodeJS.Signals | null): ApiError {
  // the helper reports its own errors as one JSON line
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as ApiError;
      if (e.code && e.message) return e;
    } catch {
      // not ours
    }
  }
  const k = kernelState(iface);
  if (k === null || !k.up) return { code: 'interface-down', message: `Interface ${iface} went down; capture stopped (bring it up with \`sudo ip link set ${iface} up\` and start again).` };
  const last = stderr.trim().split('\n').pop() ?? '';
  return { code: 'io', message: `The cap capture helper stopped unexpectedly (${signal ?? `status ${code}`})${last ? `: ${last}` : ''}.` };
}

/** The helper's main: capture to stdout until SIGTERM/SIGINT or `count` packets. */
export function runCapHelper(opts: CapHelperOptions): void {
  const writer = new PcapngWriter(1, false);
  let iface = 0;
  let packets = 0;
  let scheduled = false;
  let done = false;
  const flush = (): void => {
    scheduled = false;
    writer.flush();
  };
  const r = openCap(opts, (data, origLen, tsMicros) => {
    if (done) return;
    writer.appendPacketUnits(iface, tsMicros, data, origLen);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    if (opts.count && ++packets >= opts.count) finish();
  });
  if (!r.ok) {
    process.stderr.write(`${JSON.stringify(r.error)}\n`);
    process.exitCode = 2;
    return;
  }
  const handle = r.value;
  iface = writer.addInterface({ linkType: handle.linkType, snaplen: Math.min(opts.snaplen, CAP_SNAPLEN), name: opts.iface, tsResolution: 6 });
  writer.flush();
  function finish(): void {
    if (done) return;
    done = true;
    handle.close();
    writer.flush();
    process.exit(0);
  }
  const onSignal = (): void => void setTimeout(finish, HELPER_DRAIN_MS);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

if (process.env.WSSCOPE_CAP_HELPER === '1' && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runCapHelper(JSON.parse(process.argv[2]) as CapHelperOptions);
}
