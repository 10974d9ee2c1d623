/**
 * The dumpcap backend: Wireshark's privilege-separated capture helper as a child process,
 * writing pcapng to its stdout (`-w -`). wsscope itself needs no privilege: dumpcap has
 * CAP_NET_RAW/CAP_NET_ADMIN (setcap) and the user is in the `wireshark` group.
 *
 * Contract: `startDumpcap` resolves ok once dumpcap has opened the device (its pcapng header
 * reached stdout: dumpcap writes it after pcap_activate and the filter are done), or an error
 * classified from dumpcap's stderr when it exits first. Every stdout chunk is handed to
 * `onData` unchanged (whole pcapng blocks are not guaranteed per chunk). `stop()` waits
 * DUMPCAP_DRAIN_MS, then sends SIGTERM, which makes dumpcap flush, print its statistics and
 * exit; drops come from the "Packets received/dropped on interface" line it prints on stderr.
 *
 * Latency: dumpcap 4.0 does not use libpcap's immediate mode, so on Linux (TPACKET_V3)
 * packets reach it, and us, when a ring block retires: up to its 250 ms read timeout after
 * capture (measured ~180 ms on lo). Packets still in the ring when dumpcap gets SIGTERM are
 * never written, hence the drain wait before the signal.
 *
 * Memory ownership: `onData` chunks are Node Buffers owned by the receiver from then on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { err, ok, type ApiError, type ErrorCode, type Result } from '../../shared/api';

export interface DumpcapOptions {
  iface: string;
  filter: string;
  snaplen: number;
  /** kernel buffer in MiB (dumpcap's -B unit) */
  bufferMiB: number;
  promiscuous: boolean;
  /** stop after this many packets (dumpcap -c) */
  count?: number;
}

export interface DumpcapExit {
  /** packets dropped (libpcap + dumpcap + interface), null when dumpcap printed no statistics */
  drops: number | null;
  received: number | null;
  /** set when dumpcap stopped on its own because of an error */
  error?: ApiError;
}

export interface DumpcapHandle {
  pid: number;
  /** resolves when dumpcap has exited and its stdout is drained */
  readonly exited: Promise<DumpcapExit>;
  stop(): Promise<DumpcapExit>;
}

export const DUMPCAP_MISSING =
  'dumpcap is not installed: install it with `sudo apt-get install wireshark-common` (or `tshark`), or use --backend cap.';

export const PERMISSION_HELP =
  'allow dumpcap to capture with `sudo setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap` and add yourself to the `wireshark` group (`sudo usermod -a -G wireshark $USER`, then log in again), or run the CLI with sudo';

/** The dumpcap executable on PATH (or the usual places), or null. */
export function findDumpcap(): string | null {
  return findOnPath('dumpcap');
}

/** The most telling line of dumpcap's stderr (its "dumpcap: ..." line, else the last line). */
function mainLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const d = lines.find((l) => l.startsWith('dumpcap: '));
  if (d) {
    // the detail in parentheses on the next line ("(socket: Operation not permitted)") helps
    const i = lines.indexOf(d);
    const detail = lines[i + 1]?.startsWith('(') ? ` ${lines[i + 1]}` : '';
    return d.slice(9) + detail;
  }
  return lines.filter((l) => !/^(Capturing on|File:|Packets)/.test(l)).pop() ?? 'dumpcap failed';
}

export function classifyDumpcapError(stderr: string): ApiError {
  const line = mainLine(stderr);
  let code: ErrorCode = 'io';
  if (/permission|not permitted/i.test(stderr)) code = 'permission-denied';
  else if (/no device named|no such device/i.test(stderr)) code = 'no-such-interface';
  else if (/invalid capture filter/i.test(stderr)) code = 'invalid-filter';
  else if (/no longer running|went down|network is down/i.test(stderr)) code = 'interface-down';
  if (code === 'invalid-filter') {
    // dumpcap: Invalid capture filter "tcp port" for interface 'lo'.
    // That string isn't a valid capture filter (can't parse filter expression: syntax error).
    const head = line.replace(/ for interface .*$/, '').replace(/\.$/, '');
    const detail = stderr.split('\n').find((l) => /valid capture filter \(/.test(l));
    const why = detail ? /\((.*)\)\.?\s*$/.exec(detail) : null;
    return { code, message: `${head}${why ? `: ${why[1]}` : ''}.` };
  }
  if (code === 'permission-denied') return { code, message: `${line} To fix: ${PERMISSION_HELP}.` };
  return { code, message: line };
}

/** Sum of "Packets received/dropped on interface 'X': R/D" over interfaces. */
export function parseDumpcapStats(stderr: string): { received: number; drops: number } | null {
  const re = /Packets received\/dropped on interface .*?: (\d+)\/(\d+)/g;
  let m: RegExpExecArray | null;
  let received = 0;
  let drops = 0;
  let any = false;
  while ((m = re.exec(stderr))) {
    any = true;
    received += Number(m[1]);
    drops += Number(m[2]);
  }
  return any ? { received, drops } : null;
}

const STDERR_KEEP = 64 * 1024;

/** Longer than dumpcap's pcap read timeout (250 ms): every packet captured before stop() is out by then. */
export const DUMPCAP_DRAIN_MS = 400;

export function startDumpcap(opts: DumpcapOptions, onData: (chunk: Uint8Array) => void): Promise<Result<DumpcapHandle>> {
  const dumpcap = findDumpcap();
  if (!dumpcap) return Promise.resolve(err('dumpcap-missing', DUMPCAP_MISSING));
  const args = ['-i', opts.iface, '-s', String(opts.snaplen), '-B', String(Math.max(1, Math.round(opts.bufferMiB))), '-w', '-'];
  if (opts.filter) args.push('-f', opts.filter);
  if (!opts.promiscuous) args.push('-p');
  if (opts.count) args.push('-c', String(opts.count));
  return spawnPcapngChild(
    {
      name: 'dumpcap',
      cmd: dumpcap,
      args,
      drainMs: DUMPCAP_DRAIN_MS,
      missing: DUMPCAP_MISSING,
      classify: (stderr, code, signal) => classifyDumpcapError(stderr || `dumpcap exited with status ${code ?? signal}`),
      stats: parseDumpcapStats,
    },
    onData,
  );
}

/** How to run and read one capture child that writes pcapng to its stdout. */
export interface PcapngChildSpec {
  name: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** wait between stop() and SIGTERM, for packets the child has not read yet */
  drainMs: number;
  /** message when `cmd` does not exist */
  missing: string;
  /** the error of a child that exited on its own with a failure */
  classify(stderr: string, code: number | null, signal: NodeJS.Signals | null): ApiError;
  stats(stderr: string): { received: number; drops: number } | null;
}

/**
 * Runs a capture child (dumpcap, or the cap helper of live-cap.ts) whose stdout is a pcapng
 * stream: resolves ok at the first stdout bytes (the section header, written once the device
 * is open), or with the child's classified error when it exits first.
 */
export function spawnPcapngChild(spec: PcapngChildSpec, onData: (chunk: Uint8Array) => void): Promise<Result<DumpcapHandle>> {
  // --pdeathsig: the child must not outlive us when we are killed (it would otherwise only
  // notice at its next write to the closed pipe); setpriv execs the child, so the pid and
  // dumpcap's file capabilities are unchanged
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : null;
  const options = { stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env, cwd: spec.cwd };
  const child: ChildProcess = setpriv ? spawn(setpriv, ['--pdeathsig', 'TERM', spec.cmd, ...spec.args], options) : spawn(spec.cmd, spec.args, options);
  let stderr = '';
  let started = false;
  let stopping = false;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr += s;
    if (stderr.length > STDERR_KEEP) stderr = stderr.slice(-STDERR_KEEP);
  });
  let resolveExit!: (e: DumpcapExit) => void;
  const exited = new Promise<DumpcapExit>((r) => (resolveExit = r));
  return new Promise((resolve) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (!started) {
        started = true;
        resolve(e.code === 'ENOENT' ? err('dumpcap-missing', spec.missing) : err('io', `${spec.name} could not be started: ${e.message}`));
      }
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!started) {
        started = true;
        resolve(ok(handle));
      }
      onData(chunk);
    });
    // 'close' fires after exit and after stdout/stderr are drained
    child.on('close', (code, signal) => {
      const stats = spec.stats(stderr);
      const exit: DumpcapExit = { drops: stats ? stats.drops : null, received: stats ? stats.received : null };
      const failed = !stopping && code !== 0;
      if (failed || (!started && code !== 0)) exit.error = spec.classify(stderr, code, signal);
      if (!started) {
        started = true;
        resolve(exit.error ? { ok: false, error: exit.error } : err('io', `${spec.name} exited before capturing`));
      }
      resolveExit(exit);
    });
    const handle: DumpcapHandle = {
      pid: child.pid ?? -1,
      exited,
      stop: () => {
        if (!stopping && child.exitCode === null && child.signalCode === null) {
          stopping = true;
          const drain = setTimeout(() => {
            child.kill('SIGTERM');
            const t = setTimeout(() => child.kill('SIGKILL'), 5000);
            t.unref();
            void exited.then(() => clearTimeout(t));
          }, spec.drainMs);
          void exited.then(() => clearTimeout(drain));
        }
        return exited;
      },
    };
  });
}

export function findOnPath(name: string): string | null {
  for (const d of (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin'])) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // keep looking
    }
  }
  return null;
}

/** Compile `filter` for `iface` with `dumpcap -d` (prints the BPF program, or libpcap's error). */
export function validateFilterWithDumpcap(filter: string, iface: string): Result<true> {
  const dumpcap = findDumpcap();
  if (!dumpcap) return err('dumpcap-missing', DUMPCAP_MISSING);
  const r = spawnSync(dumpcap, ['-i', iface, '-f', filter, '-d'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return err('io', `dumpcap could not be started: ${r.error.message}`);
  // dumpcap -d exits 0 either way; a compiled program starts with "(000)"
  if (/^\(000\)/m.test(r.stdout)) return ok(true);
  const e = classifyDumpcapError(r.stderr || r.stdout);
  return { ok: false, error: e };
}
