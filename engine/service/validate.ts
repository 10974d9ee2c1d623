/**
 * Argument checks for every call of the WsscopeApi contract. Arguments arrive from another
 * process (IPC, the browser shell's WebSocket) and are untrusted: each checker returns the
 * typed arguments or a sentence saying what is wrong (the caller turns it into a
 * `bad-request` Result). `isCallName` and `checkArity` check the call itself; `CALL_ARGS`
 * holds one checker per call, typed against the contract (shared/api.ts `CallArgs`), so
 * what it lets through is exactly what the call's handler takes. Pure functions, no state.
 */
import { CALLS, type AppFilter, type CallArgs, type CallName, type CancelKind, type CaptureOptions, type ExportFormat, type ExportOptions, type MessageQuery } from '../../shared/api';
import { compileUserRegex } from '../../shared/regex';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const good = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (message: string): Checked<never> => ({ ok: false, message });

export const MAX_PATH = 4096;
export const MAX_FILTER = 4096;
export const MAX_QUERY_TEXT = 1000;
export const MAX_UPLOAD_BYTES = 2 ** 31 - 1;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown, max = 2 ** 32 - 1): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

export function checkPath(v: unknown, what = 'path'): Checked<string> {
  if (typeof v !== 'string' || v.length === 0) return bad(`The ${what} must be a non-empty string.`);
  if (v.length > MAX_PATH) return bad(`The ${what} is longer than ${MAX_PATH} characters.`);
  if (v.includes('\0')) return bad(`The ${what} contains a NUL character.`);
  return good(v);
}

export function checkIndex(v: unknown, what = 'index'): Checked<number> {
  return isUint(v) ? good(v) : bad(`The ${what} must be an integer from 0 to 4294967295.`);
}

export const EXPORT_FORMATS: readonly ExportFormat[] = ['ndjson', 'har', 'pcapng'];

export function checkFormat(v: unknown): Checked<ExportFormat> {
  return typeof v === 'string' && (EXPORT_FORMATS as readonly string[]).includes(v)
    ? good(v as ExportFormat)
    : bad(`The export format must be one of ${EXPORT_FORMATS.join(', ')}.`);
}

export const CANCEL_KINDS: readonly CancelKind[] = ['open', 'query', 'export'];

export function checkCancelKind(v: unknown): Checked<CancelKind> {
  return typeof v === 'string' && (CANCEL_KINDS as readonly string[]).includes(v) ? good(v as CancelKind) : bad(`What to cancel must be one of ${CANCEL_KINDS.join(', ')}.`);
}

export function checkFilter(v: unknown): Checked<string> {
  if (typeof v !== 'string') return bad('The capture filter must be a string.');
  if (v.length > MAX_FILTER) return bad(`The capture filter is longer than ${MAX_FILTER} characters.`);
  if (v.includes('\0')) return bad('The capture filter contains a NUL character.');
  return good(v);
}

export function checkIface(v: unknown): Checked<string> {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256 || v.includes('\0')) return bad('The interface must be a name of 1 to 256 characters.');
  return good(v);
}

/**
 * A user regex runs over a million previews: it is compiled by RE2 (shared/regex.ts), which
 * matches in linear time, so no pattern can freeze the engine (`(a+)+`, `(a|aa)+x` included);
 * what RE2 cannot compile (a syntax error, backreferences, lookaround) is refused here.
 */

export function checkQuery(v: unknown): Checked<MessageQuery> {
  if (!isObj(v)) return bad('The query must be an object.');
  const q: MessageQuery = {};
  if (v.text !== undefined) {
    if (typeof v.text !== 'string' || v.text.length > MAX_QUERY_TEXT) return bad(`The search text must be a string of at most ${MAX_QUERY_TEXT} characters.`);
    q.text = v.text;
  }
  if (v.regex !== undefined) {
    if (typeof v.regex !== 'boolean') return bad('"regex" must be true or false.');
    q.regex = v.regex;
  }
  if (q.regex && q.text) {
    const c = compileUserRegex(q.text);
    if ('error' in c) return bad(`${c.error}.`);
  }
  if (v.dir !== undefined) {
    if (v.dir !== '' && v.dir !== 'client' && v.dir !== 'server') return bad('"dir" must be "client", "server" or "".');
    q.dir = v.dir;
  }
  if (v.opcodes !== undefined) {
    if (!Array.isArray(v.opcodes) || v.opcodes.length > 16 || !v.opcodes.every((o) => isUint(o, 15))) return bad('"opcodes" must be a list of opcodes 0..15.');
    q.opcodes = v.opcodes as number[];
  }
  if (v.conn !== undefined && v.conn !== null) {
    if (!isUint(v.conn)) return bad('"conn" must be a connection id or null.');
    q.conn = v.conn;
  }
  if (v.findingsOnly !== undefined) {
    if (typeof v.findingsOnly !== 'boolean') return bad('"findingsOnly" must be true or false.');
    q.findingsOnly = v.findingsOnly;
  }
  if (v.severity !== undefined) {
    if (v.severity !== '' && v.severity !== 'error' && v.severity !== 'warning' && v.severity !== 'info') return bad('"severity" must be "error", "warning", "info" or "".');
    q.severity = v.severity;
  }
  if (v.app !== undefined) {
    const a = checkAppFilter(v.app);
    if (!a.ok) return a;
    q.app = a.value;
  }
  return good(q);
}

export function checkCaptureOptions(v: unknown): Checked<CaptureOptions> {
  if (!isObj(v)) return bad('The capture options must be an object.');
  const iface = checkIface(v.iface);
  if (!iface.ok) return iface;
  const o: CaptureOptions = { iface: iface.value };
  if (v.filter !== undefined) {
    const f = checkFilter(v.filter);
    if (!f.ok) return f;
    o.filter = f.value;
  }
  if (v.snaplen !== undefined) {
    if (!isUint(v.snaplen, 262144) || v.snaplen < 64) return bad('The snap length must be an integer from 64 to 262144.');
    o.snaplen = v.snaplen;
  }
  if (v.bufferSize !== undefined) {
    if (typeof v.bufferSize !== 'number' || !(v.bufferSize > 0 && v.bufferSize <= 4096)) return bad('The buffer size must be from 1 to 4096 MiB.');
    o.bufferSize = v.bufferSize;
  }
  if (v.promiscuous !== undefined) {
    if (typeof v.promiscuous !== 'boolean') return bad('"promiscuous" must be true or false.');
    o.promiscuous = v.promiscuous;
  }
  if (v.durationSeconds !== undefined) {
    if (typeof v.durationSeconds !== 'number' || !(v.durationSeconds > 0 && v.durationSeconds <= 7 * 86400)) return bad('The duration must be from 0 to 604800 seconds.');
    o.durationSeconds = v.durationSeconds;
  }
  if (v.count !== undefined) {
    if (!isUint(v.count) || v.count === 0) return bad('The packet count must be a positive integer.');
    o.count = v.count;
  }
  if (v.backend !== undefined) {
    if (v.backend !== 'auto' && v.backend !== 'cap' && v.backend !== 'dumpcap') return bad('The backend must be "auto", "cap" or "dumpcap".');
    o.backend = v.backend;
  }
  return good(o);
}

/** Allowed argument counts per call (optional trailing arguments may be absent or undefined). */
export const ARITY: Record<CallName, [number, number]> = {
  listInterfaces: [0, 0],
  validateFilter: [1, 2],
  openFile: [1, 2],
  openFileDialog: [0, 0],
  openBytes: [2, 2],
  recentFiles: [0, 0],
  startCapture: [1, 1],
  stopCapture: [0, 0],
  currentSession: [0, 0],
  replay: [0, 0],
  getMessageDetail: [1, 1],
  getHandshake: [1, 1],
  getStats: [1, 1],
  queryMessages: [1, 1],
  exportData: [1, 3],
  cancel: [1, 1],
  getAppFacets: [1, 1],
  getHttp2Requests: [1, 1],
  getEngineIoSession: [1, 1],
  listDecoders: [0, 0],
  setDecoder: [2, 2],
  addKeyLog: [1, 1],
  addKeyLogDialog: [0, 0],
  addKeyLogBytes: [2, 2],
  keyLogs: [0, 0],
};

const CALL_NAMES: ReadonlySet<string> = new Set(CALLS);

/** true for the name of a call of the contract (and for nothing inherited, like "__proto__") */
export function isCallName(v: unknown): v is CallName {
  return typeof v === 'string' && CALL_NAMES.has(v);
}

export function checkArity(name: CallName, args: unknown): Checked<unknown[]> {
  if (!Array.isArray(args)) return bad('The arguments must be a list.');
  // trailing undefined counts as absent (IPC and JSON keep or drop it depending on the path)
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  const [min, max] = ARITY[name];
  if (n < min || n > max) return bad(`${name} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${n}.`);
  return good(args.slice(0, n));
}

/** A checker that turns one call's (arity-checked) argument list into its typed arguments. */
export type CallArgsChecker<K extends CallName> = (args: readonly unknown[]) => Checked<CallArgs<K>>;

const noArgs = (): Checked<[]> => good([]);

/** `[value]` from a one-argument check. */
const single = <T>(c: Checked<T>): Checked<[T]> => (c.ok ? good([c.value]) : c);

/** An optional trailing argument: absent stays absent, present must pass `check`. */
function optional<T>(v: unknown, check: (v: unknown) => Checked<T>): Checked<T | undefined> {
  return v === undefined ? good(undefined) : check(v);
}

/** The name a file is shown under (an upload's: the page chose it). */
function checkFileName(name: unknown): Checked<string> {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255) return bad('The file name must be a string of 1 to 255 characters.');
  return good(name);
}

/** The name and contents of an uploaded capture (openBytes). */
export function checkUpload(name: unknown, bytes: unknown): Checked<[string, Uint8Array]> {
  const n = checkFileName(name);
  if (!n.ok) return n;
  if (!(bytes instanceof Uint8Array)) return bad('The file contents must be bytes (Uint8Array).');
  if (bytes.length > MAX_UPLOAD_BYTES) return bad('The file is larger than 2 GiB; open it by path instead.');
  return good([n.value, bytes]);
}

/** One checker per call: a call without one, or one of the wrong type, does not compile. */
export const CALL_ARGS: { readonly [K in CallName]: CallArgsChecker<K> } = {
  listInterfaces: noArgs,
  validateFilter: ([filter, iface]) => {
    const f = checkFilter(filter);
    if (!f.ok) return f;
    const i = optional(iface, checkIface);
    return i.ok ? good([f.value, i.value]) : i;
  },
  openFile: ([path, name]) => {
    const p = checkPath(path);
    if (!p.ok) return p;
    const n = optional(name, checkFileName);
    return n.ok ? good([p.value, n.value]) : n;
  },
  openFileDialog: noArgs,
  openBytes: ([name, bytes]) => checkUpload(name, bytes),
  recentFiles: noArgs,
  startCapture: ([opts]) => single(checkCaptureOptions(opts)),
  stopCapture: noArgs,
  currentSession: noArgs,
  replay: noArgs,
  getMessageDetail: ([index]) => single(checkIndex(index)),
  getHandshake: ([conn]) => single(checkIndex(conn, 'connection id')),
  getStats: ([conn]) => single(checkIndex(conn, 'connection id')),
  queryMessages: ([q]) => single(checkQuery(q)),
  exportData: ([format, path, o]) => {
    const f = checkFormat(format);
    if (!f.ok) return f;
    // a path left out before the options arrives as null over JSON (the browser shell)
    const p = path === null ? good(undefined) : optional(path, checkPath);
    if (!p.ok) return p;
    const e = optional(o, checkExportOptions);
    if (!e.ok) return e;
    return good(e.value === undefined ? [f.value, p.value] : [f.value, p.value, e.value]);
  },
  cancel: ([what]) => single(checkCancelKind(what)),
  getAppFacets: ([conn]) => single(conn === null ? good(null) : checkIndex(conn, 'connection id')),
  getHttp2Requests: ([conn]) => single(checkIndex(conn, 'connection id')),
  getEngineIoSession: ([conn]) => single(checkIndex(conn, 'connection id')),
  listDecoders: noArgs,
  setDecoder: ([conn, protocol]) => {
    const c = checkIndex(conn, 'connection id');
    if (!c.ok) return c;
    return typeof protocol === 'string' && protocol.length <= 64 ? good([c.value, protocol]) : bad('The decoder must be a name of at most 64 characters.');
  },
  addKeyLog: ([path]) => single(checkPath(path, 'key log path')),
  addKeyLogDialog: noArgs,
  addKeyLogBytes: ([name, bytes]) => checkUpload(name, bytes),
  keyLogs: noArgs,
};

export function checkExportOptions(v: unknown): Checked<ExportOptions> {
  if (!isObj(v)) return bad('The export options must be an object.');
  const o: ExportOptions = {};
  if (v.secrets !== undefined) {
    if (typeof v.secrets !== 'boolean') return bad('"secrets" must be true or false.');
    o.secrets = v.secrets;
  }
  if (v.filter !== undefined) {
    const q = checkQuery(v.filter);
    if (!q.ok) return q;
    o.filter = q.value;
  }
  return good(o);
}

/** The decoded-field filter of a query: short strings only. */
export function checkAppFilter(v: unknown): Checked<AppFilter> {
  if (!isObj(v)) return bad('"app" must be an object.');
  const f: AppFilter = {};
  for (const k of ['protocol', 'type', 'name'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (typeof x !== 'string' || x.length > MAX_QUERY_TEXT) return bad(`"app.${k}" must be a string of at most ${MAX_QUERY_TEXT} characters.`);
    f[k] = x;
  }
  return good(f);
}
