/**
 * Exports of a SessionStore:
 *  - NDJSON: the same lines as `wsscope read --json` (engine/cli/json.ts `toWire`), in the
 *    original event order;
 *  - HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) with Chrome DevTools'
 *    `_webSocketMessages` extension: one entry per connection with a handshake, its
 *    request/response from the handshake, and {type: 'send'|'receive', time, opcode, data}
 *    per data message (text as text, binary as base64, as Chrome writes them; a text message
 *    that is not valid UTF-8 keeps opcode 1, U+FFFD in `data`, its bytes in `_wsscopeBase64`;
 *    a message whose `data` is not all of it carries `_wsscopeTruncated: true`,
 *    `_wsscopeLength` and `_wsscopeWireLength`, as NDJSON lines carry truncated/wireLength);
 *  - pcapng of a capture file: a copy when it already is uncompressed pcapng, else a
 *    conversion record by record (engine/capture/pcapng-writer.ts); with `secrets` (key log
 *    text the user chose to embed), always a conversion with one Decryption Secrets Block
 *    before the first packet, as `editcap --inject-secrets tls,FILE` writes it.
 *
 * With an `ExportSelection` (the UI's "filtered messages"), NDJSON keeps the selected
 * messages and their connections' connection, handshake, TLS and end events, HAR the
 * selected data messages under their connections' entries.
 *
 * Output goes through a `TextSink`, so big exports stream to a file (`FileSink`) in
 * bounded chunks, or collect into memory (`MemorySink`) for the browser shell's download.
 * With a `Pacer`, NDJSON and HAR give the event loop a turn about every 20 ms, so a big
 * export does not stall the engine process (live capture, the UI's queries); they cover
 * what the store held when they started.
 *
 * Memory: nothing is retained after the call; payloads are re-read from the store one event
 * at a time.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { copyToPrivateFile, createPrivateFile, writeAll } from '../fs/private';
import { toWire } from '../cli/json';
import { readCaptureFile } from '../capture/file-source';
import { PcapngWriter } from '../capture/pcapng-writer';
import { SECRETS_TLS_KEY_LOG } from '../flow/pipeline';
import type { AppPacket, EngineEvent, HandshakeEvent } from '../../shared/events';
import type { SessionStore } from './session-store';

export interface TextSink {
  write(s: string): void;
}

const FLUSH_CHARS = 1 << 20;

/** Batches strings into about 1 MiB of UTF-8 at a time and hands each batch to `put`. */
abstract class BatchingSink implements TextSink {
  private parts: string[] = [];
  private chars = 0;

  write(s: string): void {
    this.parts.push(s);
    this.chars += s.length;
    if (this.chars >= FLUSH_CHARS) this.flush();
  }

  protected flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.chars = 0;
    this.put(buf);
  }

  protected abstract put(buf: Buffer): void;
}

/** Writes a new private file (engine/fs/private.ts createPrivateFile) about 1 MiB at a time. */
export class FileSink extends BatchingSink {
  private readonly fd: number;
  bytes = 0;

  constructor(path: string) {
    super();
    this.fd = createPrivateFile(path);
  }

  protected put(buf: Buffer): void {
    writeAll(this.fd, buf);
    this.bytes += buf.length;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Collects the output in memory (bounded by `limit` bytes: throws RangeError beyond). */
export class MemorySink extends BatchingSink {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 512 * 1024 * 1024) {
    super();
  }

  protected put(b: Buffer): void {
    this.size += b.length;
    if (this.size > this.limit) throw new RangeError(`export larger than ${this.limit} bytes`);
    this.chunks.push(b);
  }

  bytes(): Uint8Array {
    this.flush();
    const all = Buffer.concat(this.chunks);
    // a plain Uint8Array (structured clone and JSON wire encoding know it; Buffer is Node-only)
    return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
  }
}

/** Lets a long export yield to the event loop (and stop when its signal aborts). */
export class Pacer {
  private t = performance.now();
  private n = 0;

  constructor(
    private readonly sliceMs = 20,
    private readonly signal?: AbortSignal,
  ) {}

  /** Cheap enough to ask per item: true about every `sliceMs`. */
  due(): boolean {
    if ((++this.n & 255) !== 0) return false;
    return performance.now() - this.t >= this.sliceMs;
  }

  /** One turn of the event loop; throws the signal's reason if it was aborted meanwhile. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.t = performance.now();
    this.signal?.throwIfAborted();
  }
}

/**
 * What a filtered export keeps: messages by capture-wide index (1 = kept), and the
 * connections they are on (whose connection, handshake, TLS and end events go along).
 */
export interface ExportSelection {
  messages: Uint8Array;
  conns: ReadonlySet<number>;
}

function keepEvent(ev: EngineEvent, sel: ExportSelection): boolean {
  switch (ev.type) {
    case 'message':
      return sel.messages[ev.index] === 1;
    case 'connection':
      return sel.conns.has(ev.id);
    case 'handshake':
    case 'tls':
    case 'connection-end':
      return sel.conns.has(ev.conn);
    default:
      // frames, findings, datagrams and the summary describe the whole capture
      return false;
  }
}

export async function writeNdjson(store: SessionStore, out: TextSink, pace?: Pacer, sel?: ExportSelection): Promise<void> {
  for (const ev of store.events(store.eventCount)) {
    if (sel && !keepEvent(ev, sel)) continue;
    const w = toWire(ev);
    if (w) out.write(JSON.stringify(w) + '\n');
    if (pace?.due()) await pace.pause();
  }
}

/**
 * The largest time a Date holds: 8.64e15 ms either side of 1970 (ECMA-262 section 21.4.1.1,
 * "Time Values and Time Range"). A capture's timestamps can lie far outside it (pcapng
 * if_tsoffset is any 64-bit count of seconds, if_tsresol any power of 2 or 10), and
 * `toISOString()` throws RangeError "Invalid time value" there.
 */
const MAX_DATE_MS = 8.64e15;

/**
 * Counts what an export had to change to stay valid (timestamps clamped into range), so one
 * odd value costs a flagged entry, never the whole export.
 */
interface HarNotes {
  clamped: number;
}

/** `ts` (seconds) as an ISO 8601 date, clamped into the Date range; `clamped` tells whether it was. */
function isoTime(ts: number): { iso: string; clamped: boolean } {
  const ms = Math.round(ts * 1000);
  if (Math.abs(ms) <= MAX_DATE_MS) return { iso: new Date(ms).toISOString(), clamped: false };
  // NaN counts as 1970 (it has no side); infinities and huge values take the nearest end
  const edge = Number.isNaN(ms) ? 0 : Math.sign(ms) * MAX_DATE_MS;
  return { iso: new Date(edge).toISOString(), clamped: true };
}

/** A message time (seconds) JSON can carry: a non-finite one (written `null`) becomes 0. */
function finiteTime(ts: number, notes: HarNotes): number {
  if (Number.isFinite(ts)) return ts;
  notes.clamped++;
  return 0;
}

function httpVersion(line: string, fallback: string): string {
  const m = /HTTP\/\d(?:\.\d)?/.exec(line);
  return m ? m[0] : fallback;
}

function headerList(h: Array<[string, string]>): Array<{ name: string; value: string }> {
  return h.map(([name, value]) => ({ name, value }));
}

function queryString(path: string): Array<{ name: string; value: string }> {
  const q = path.indexOf('?');
  if (q < 0) return [];
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, value] of new URLSearchParams(path.slice(q + 1))) out.push({ name, value });
  return out;
}

function harEntry(hs: HandshakeEvent, startTs: number, url: string, notes: HarNotes): Record<string, unknown> {
  const diff = (hs.ts - startTs) * 1000;
  const elapsed = Number.isFinite(diff) ? Math.max(0, diff) : 0;
  const started = isoTime(startTs);
  const flag: Record<string, string> = {};
  if (started.clamped) {
    notes.clamped++;
    // HAR 1.2 lets every object carry a `comment`; `_wsscopeNote` is for tools that read ours
    flag.comment = flag._wsscopeNote = `startedDateTime clamped: the capture timestamp (${startTs} s since 1970) is outside the range a date can hold`;
  }
  return {
    startedDateTime: started.iso,
    ...flag,
    time: elapsed,
    request: {
      method: hs.method || 'GET',
      url,
      httpVersion: httpVersion(hs.requestLine, 'HTTP/1.1'),
      cookies: [],
      headers: headerList(hs.requestHeaders),
      queryString: queryString(hs.path),
      headersSize: hs.requestBytes || -1,
      bodySize: 0,
    },
    response: {
      status: hs.status,
      statusText: hs.statusText,
      httpVersion: httpVersion(hs.statusLine, 'HTTP/1.1'),
      cookies: [],
      headers: headerList(hs.responseHeaders),
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: hs.responseBytes || -1,
      bodySize: 0,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, send: 0, wait: elapsed, receive: 0, ssl: -1 },
    _resourceType: 'websocket',
    _wsscopeConnection: hs.conn,
  };
}

/**
 * HAR 1.2, streamed: the entry object is written without its closing brace, then the
 * messages one by one, so a connection with a million messages never becomes one string.
 * A timestamp no date can hold is clamped and flagged (the entry's `comment` and
 * `_wsscopeNote`; the log's `comment` and `_wsscopeClampedTimes` count them), never a
 * failed export.
 */
export async function writeHar(store: SessionStore, out: TextSink, version = '0.1.0', pace?: Pacer, sel?: ExportSelection): Promise<void> {
  const notes: HarNotes = { clamped: 0 };
  const rowsOf = store.messageRowsByConnection(store.messageCount);
  out.write(`{"log":{"version":"1.2","creator":{"name":"wsscope","version":${JSON.stringify(version)}},"pages":[],"entries":[`);
  let first = true;
  for (const conn of store.connectionIds()) {
    const hs = store.handshake(conn);
    if (!hs || (sel && !sel.conns.has(conn))) continue;
    const ce = store.connectionEvent(conn);
    const url = store.connectionRow(conn)?.url || `ws://${hs.host}${hs.path}`;
    const entry = JSON.stringify(harEntry(hs, ce?.ts || hs.ts, url, notes));
    out.write((first ? '' : ',') + entry.slice(0, -1) + ',"_webSocketMessages":[');
    first = false;
    let firstMsg = true;
    for (const r of rowsOf.get(conn) ?? []) {
      if (pace?.due()) await pace.pause();
      const m = store.messageEventAt(r);
      // Chrome exports data frames only (opcode 1 text, 2 binary as base64)
      if (m.opcode !== 1 && m.opcode !== 2) continue;
      if (sel && sel.messages[m.index] !== 1) continue;
      const buf = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      // the opcode is the captured one: a text message that is not UTF-8 (RFC 6455 section
      // 8.1) stays opcode 1, its data decoded with U+FFFD for the bad bytes, and the exact
      // bytes ride along in base64 (HAR allows custom fields that start with "_")
      const item: HarMessage = {
        type: m.dir === 'client' ? 'send' : 'receive',
        time: finiteTime(m.ts, notes),
        opcode: m.opcode,
        data: m.opcode === 1 ? buf.toString('utf8') : buf.toString('base64'),
      };
      if (m.opcode === 1 && !m.utf8Valid) item._wsscopeBase64 = buf.toString('base64');
      // `data` is not the whole message (bytes lost in a TCP gap, or cut by a limit): the
      // same marker as the NDJSON line's truncated/wireLength, plus the message's length
      if (m.truncated) {
        item._wsscopeTruncated = true;
        item._wsscopeLength = m.length;
        item._wsscopeWireLength = m.wireLength;
      }
      harApp(item, m.app);
      out.write((firstMsg ? '' : ',') + JSON.stringify(item));
      firstMsg = false;
    }
    out.write(']}');
  }
  out.write(']');
  if (notes.clamped > 0) {
    const comment = `${notes.clamped} timestamp(s) outside the range a date can hold were clamped; see the entries' comments`;
    out.write(`,"comment":${JSON.stringify(comment)},"_wsscopeClampedTimes":${notes.clamped}`);
  }
  out.write('}}\n');
}

interface HarMessage {
  type: string;
  time: number;
  opcode: number;
  data: string;
  _wsscopeBase64?: string;
  _wsscopeTruncated?: true;
  _wsscopeLength?: number;
  _wsscopeWireLength?: number;
  _app?: AppPacket[];
}

/** The decoded packets of a message ride along as `_app` (HAR allows custom fields that start with "_"). */
function harApp(item: HarMessage, app: AppPacket[] | undefined): void {
  if (app && app.length > 0) item._app = app;
}

/**
 * Writes `src` (pcap or pcapng, maybe gzip) to `dst` as pcapng: a plain copy when it is
 * uncompressed pcapng already, else re-encoded record by record with the interfaces' link
 * types, snap lengths and timestamp resolutions. `dst` is created new and private
 * (engine/fs/private.ts): an existing name is refused.
 */
export async function convertToPcapng(src: string, dst: string, signal?: AbortSignal, secrets?: Uint8Array): Promise<void> {
  const head = Buffer.alloc(4);
  const fd = openSync(src, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32BE(0) === 0x0a0d0d0a && !secrets?.length) {
    await copyToPrivateFile(src, dst, signal);
    return;
  }
  const w = PcapngWriter.create(dst);
  const ids = new Map<number, number>();
  try {
    await readCaptureFile(
      src,
      {
        iface: (info) => {
          ids.set(
            info.id,
            w.addInterface({
              linkType: info.linkType,
              snaplen: info.snaplen,
              name: info.name,
              description: info.description,
              tsResolution: info.tsResolution < 1e-6 ? 9 : 6,
            }),
          );
        },
        packet: (rec) => {
          if (secrets?.length) {
            w.appendSecrets(SECRETS_TLS_KEY_LOG, secrets);
            secrets = undefined;
          }
          let id = ids.get(rec.iface);
          if (id === undefined) {
            id = w.addInterface({ linkType: rec.linkType, snaplen: 262144 });
            ids.set(rec.iface, id);
          }
          w.appendPacket(id, rec.ts, rec.data, rec.origLen);
        },
      },
      { signal },
    );
  } finally {
    w.close();
  }
}

