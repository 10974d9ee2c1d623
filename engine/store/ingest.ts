/**
 * Ingest: writes one EngineEvent into a SessionData (session-data.ts), the only code that
 * does. Upserts the connection row and its counters, appends frame/message/datagram rows
 * and their payload bytes, ties findings to their frame and message whichever arrives first,
 * logs the event for replay and marks what changed for the next UI batch.
 *
 * Events arrive as engine/pipeline.ts emits them: a message after its frames, capture-wide
 * indexes; events for a connection never announced get a placeholder connection.
 *
 * Payload bytes go to the payload store as far as it keeps them (its limit; nothing after a
 * failed spill write): a cut payload keeps its row, size and findings, its message is marked
 * `truncated`, and the first cut of the session becomes one finding (`payload-limit` or
 * `payload-spill-failed`, shared/findings.ts) on that connection; a spill failure is also
 * handed to `onSpillFailure` with a sentence for the user. `payloadCuts` counts the cuts.
 *
 * Connections and findings past their bounds (session-data.ts) are counted, and reported at
 * the summary as `connections-not-listed` and `findings-not-listed` (shared/findings.ts).
 *
 * Memory: payload bytes are copied into the payload store (the caller may reuse its views),
 * once: a message made of one unmasked, uncompressed frame points at that frame's bytes;
 * connection, handshake, finding and summary events are kept as given.
 */
import type {
  ConnectionEndEvent,
  ConnectionEvent,
  DatagramEvent,
  EngineEvent,
  FindingEvent,
  FrameEvent,
  HandshakeEvent,
  Http2RequestEvent,
  PollingEvent,
  MessageEvent,
  SummaryEvent,
  TlsEvent,
} from '../../shared/events';
import type { ConnectionRow } from '../../shared/api';
import { FINDINGS } from '../../shared/findings';
import { lastPreviewCut, messagePreview, PREVIEW_MAX } from './preview';
import type { NumColumn } from '../../shared/column-table';
import { BIG, BIG_COST, buildHeader, Ev, evWithRef, FRAME, HEADER_MAX, Len, MSG, QUIET_PENDING_MAX, QUIET_ROWS, sevBit, Spill, WIDE, type ConnRec, type EvType, type SessionData } from './session-data';
import type { SpillFailure } from './payload-store';

/** Writes `ev` into `d`; drops it (counting `d.dropped`) when its table is full. */
export function ingest(d: SessionData, ev: EngineEvent): void {
  d.changed = true;
  // every stored event takes a log row: without one it could not be replayed (two: a quiet
  // connection's first event also logs its connection). Made now, so that the event's own row
  // cannot take the last of the budget and leave it without one.
  const quiet = d.quiet.size > 0 && ev.type !== 'connection' && 'conn' in ev && d.quiet.has(ev.conn);
  const logs = quiet || ev.type === 'connection' ? 2 : 1;
  // the summary and the store's own findings are logged past the bound: a few rows, and the
  // user must learn what the bound cut
  const force = ev.type === 'summary' || (ev.type === 'finding' && STORE_FINDINGS.has(ev.id));
  if (!d.log.reserve(logs, force) || !d.logRefs.reserve(logs, force)) {
    dropped(d, ev);
    return;
  }
  switch (ev.type) {
    case 'connection':
      return onConnection(d, ev);
    case 'handshake':
      return onHandshake(d, ev);
    case 'frame':
      return onFrame(d, ev);
    case 'message':
      return onMessage(d, ev);
    case 'finding':
      return onFinding(d, ev);
    case 'datagram':
      return onDatagram(d, ev);
    case 'connection-end':
      return onEnd(d, ev);
    case 'tls':
      return onTls(d, ev);
    case 'http2-request':
      return onH2Request(d, ev);
    case 'polling':
      return onPolling(d, ev);
    case 'summary':
      return onSummary(d, ev);
  }
}

/** Packets read so far, from the capture source (the events name only the packets they come from). */
export function notePacketCount(d: SessionData, n: number): void {
  if (n > d.packets) {
    d.packets = n;
    d.changed = true;
  }
}

/** Logs an event; `ref` is the connection id of an event about a connection (evWithRef), else unused. */
function log(d: SessionData, type: EvType, ref: number): void {
  d.log.cols.type.set(d.log.append(), type);
  if (evWithRef(type)) d.logRefs.cols.ref.set(d.logRefs.append(), ref);
}

/** An event that did not fit the row bound: counted, and reported at the summary (`messages-not-listed`). */
function dropped(d: SessionData, ev: EngineEvent): void {
  d.dropped++;
  if (ev.type === 'message') d.droppedMessages++;
  if ('ts' in ev && 'packet' in ev) d.droppedLast = { ts: ev.ts, packet: ev.packet };
}

function notePacket(d: SessionData, p: number): void {
  if (p > d.packets) d.packets = p;
}

/** An event of connection `c` at (ts, packet) was stored: the row's last time, the batch mark, the packet count. */
function seen(d: SessionData, c: ConnRec, ts: number, packet: number): void {
  if (ts > c.row.lastTs) c.row.lastTs = ts;
  d.dirty.add(c.row.id);
  notePacket(d, packet);
}

function conn(d: SessionData, id: number): ConnRec {
  const c = d.conns.get(id);
  if (c) return c;
  // a quiet connection's first event: now it is listed
  if (d.quiet.has(id)) return listQuiet(d, id);
  // events for a connection we were not told about (or one counted in `unlisted` already,
  // whose late event the pipeline does not send: it ends a connection after its decoders)
  return newConn(d, { type: 'connection', id, transport: 'tcp', client: '', server: '', ts: 0, packet: 0, roleBy: 'port' });
}

/** Gives quiet connection `id` its record, logged now (replay puts its event here). */
function listQuiet(d: SessionData, id: number): ConnRec {
  const ev = d.quiet.get(id) as ConnectionEvent;
  d.quiet.delete(id);
  const c = newConn(d, ev);
  log(d, Ev.Connection, id);
  return c;
}

function newConn(d: SessionData, ev: ConnectionEvent): ConnRec {
  const row: ConnectionRow = {
    id: ev.id,
    transport: ev.transport,
    client: ev.client,
    server: ev.server,
    ts: ev.ts,
    websocket: false,
    url: '',
    protocol: '',
    extensions: '',
    state: 'open',
    status: 0,
    messages: 0,
    frames: 0,
    datagrams: 0,
    findings: 0,
    wireBytes: 0,
    payloadBytes: 0,
    compressedWireBytes: 0,
    compressedPayloadBytes: 0,
    handshakeBytes: 0,
    lastTs: ev.ts,
  };
  const as = d.decodeAs[ev.id];
  if (as !== undefined) row.decodeAs = as;
  const rec: ConnRec = { ev, row, handshake: null, end: null, headerBytes: 0, closedBy: 0 };
  d.conns.set(ev.id, rec);
  d.connOrder.push(ev.id);
  d.dirty.add(ev.id);
  return rec;
}

function onConnection(d: SessionData, ev: ConnectionEvent): void {
  const old = d.conns.get(ev.id);
  if (old) {
    old.ev = ev;
    Object.assign(old.row, { transport: ev.transport, client: ev.client, server: ev.server, ts: ev.ts });
    d.dirty.add(ev.id);
  } else if (ev.parent === undefined && (d.quiet.has(ev.id) || d.conns.size >= QUIET_ROWS)) {
    // past the first QUIET_ROWS: no record (nor log row) until it carries something
    if (!d.quiet.has(ev.id) && d.quiet.size >= QUIET_PENDING_MAX) listQuiet(d, d.quiet.keys().next().value as number);
    d.quiet.set(ev);
    notePacket(d, ev.packet);
    return;
  } else newConn(d, ev);
  if (ev.parent !== undefined) carried(d, ev);
  notePacket(d, ev.packet);
  log(d, Ev.Connection, ev.id);
}

function onHandshake(d: SessionData, ev: HandshakeEvent): void {
  const c = conn(d, ev.conn);
  c.handshake = ev;
  const r = c.row;
  r.websocket = ev.websocket || r.websocket;
  r.url = `${wsScheme(d, c)}://${ev.host || c.ev.server}${ev.path}`;
  r.protocol = ev.protocol;
  r.extensions = ev.extensions;
  r.status = ev.status;
  r.handshakeBytes = ev.requestBytes + ev.responseBytes;
  if (!ev.websocket && ev.status > 0) r.state = 'failed';
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.Handshake, d.handshakes.length);
  d.handshakes.push(ev);
}

function onFrame(d: SessionData, ev: FrameEvent): void {
  // past the first frame that did not fit, none is kept: the rows kept are the first frames
  // a wire payload the decoder cut keeps its length in `spill`, and so does a far first packet
  const short = ev.wirePayload !== undefined && ev.wirePayload.length > 0 && ev.wirePayload.length !== ev.length;
  const back = ev.firstPacket === 0 ? 0 : ev.packet - ev.firstPacket + 1;
  const far = back < 0 || back >= WIDE;
  if (!d.frames.full && !bigRoom(d, ev.length, 0, (short ? 1 : 0) + (far ? 1 : 0))) d.frames.full = true;
  const r = d.frames.full ? -1 : d.frames.append();
  if (r < 0) return dropped(d, ev);
  const f = d.frames.cols;
  d.frameIndexes.set(r, ev.index);
  f.conn.set(r, ev.conn);
  f.ts.set(r, ev.ts);
  let flags = ev.opcode & FRAME.OPCODE;
  if (ev.dir === 'server') flags |= FRAME.SERVER;
  if (ev.fin) flags |= FRAME.FIN;
  if (ev.rsv1) flags |= FRAME.RSV1;
  if (ev.rsv2) flags |= FRAME.RSV2;
  if (ev.rsv3) flags |= FRAME.RSV3;
  if (ev.masked) flags |= FRAME.MASKED;
  putLength(d, f.length, r, Len.Frame, ev.length);
  const h = ev.header;
  const hl = Math.min(h.length, HEADER_MAX);
  const mask = ev.masked && hl >= 6 ? ((h[hl - 4] << 24) | (h[hl - 3] << 16) | (h[hl - 2] << 8) | h[hl - 1]) >>> 0 : 0;
  f.mask.set(r, mask);
  // the header is its fields written out, but for a length no number holds exactly: kept as is
  if (!sameBytes(buildHeader(flags, ev.length, hl, mask), h)) {
    flags |= FRAME.ODD_HEADER;
    d.oddHeaders.set(r, h.slice(0, hl));
  }
  f.packet.set(r, ev.packet);
  f.firstBack.set(r, far ? WIDE : back);
  if (far) d.spill.set(r * 4 + Spill.FirstPacket, ev.firstPacket);
  let cut = false;
  if (ev.wirePayload) {
    const off = d.payloads.append(ev.wirePayload);
    const kept = d.payloads.size - off;
    cut = kept < ev.wirePayload.length;
    if (kept > 0) flags |= FRAME.HAS_WIRE;
    putOffset(f.wireOff, f.wireOffHi, r, off);
    keepLength(d, r * 4 + Spill.FrameKept, kept, ev.length, short);
  }
  f.flags.set(r, flags | (hl << FRAME.HEADER_SHIFT));
  const c = conn(d, ev.conn);
  c.row.frames++;
  c.row.wireBytes += ev.headerLength + ev.length;
  c.row.websocket = true;
  c.headerBytes += ev.headerLength;
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.Frame, r);
  if (cut) payloadCut(d, ev, ev.index);
}

/**
 * Takes the row budget for the lengths a u32 column cannot hold (bigLengths entries) and for
 * `more` entries of SessionData.spill; false when it has no room.
 */
function bigRoom(d: SessionData, a: number, b = 0, more = 0): boolean {
  const n = (a >= BIG ? 1 : 0) + (b >= BIG ? 1 : 0) + more;
  return n === 0 || d.rowBudget.take(n * BIG_COST);
}

/** Writes payload store offset `off` of row `r` (SessionData.messageOffset: bits 0-31 and 32-39). */
function putOffset(lo: NumColumn, hi: NumColumn, r: number, off: number): void {
  lo.set(r, off >>> 0);
  hi.set(r, Math.floor(off / 2 ** 32));
}

/**
 * Notes that the payload store kept `kept` bytes of a row whose length says `length`
 * (SessionData.messageKept, frameKept): nothing when it kept none (the row's flag says so) or
 * all; else a `spill` entry at `key`, its room taken by bigRoom when the cut was known
 * (`short`: the decoder cut it), charged now when the store cut it (its limit or a failed
 * spill write: one row, the budget's next take then fails).
 */
function keepLength(d: SessionData, key: number, kept: number, length: number, short: boolean): void {
  if (kept === 0 || kept === length) return;
  if (!short) d.rowBudget.charge(BIG_COST);
  d.spill.set(key, kept);
}

/** Writes length `v` of row `r` in `col`, or BIG there and `v` in bigLengths (room taken by bigRoom). */
function putLength(d: SessionData, col: NumColumn, r: number, which: number, v: number): void {
  if (v < BIG) col.set(r, v);
  else {
    col.set(r, BIG);
    d.bigLengths.set(r * 4 + which, v);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The finding severity bits (MSG.SEV_*) of the findings listed about frame `index`, and their count. */
function frameFindings(d: SessionData, index: number): [number, number] {
  const about = d.findingsByFrame.get(index);
  if (!about) return [0, 0];
  let sev = 0;
  for (const i of about) sev |= sevBit(d.findings[i].severity);
  return [sev, about.length];
}

/** Whether every byte is printable ASCII (a preview shows such text as it is). */
function printableAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] < 0x20 || b[i] > 0x7e) return false;
  return true;
}

function onMessage(d: SessionData, ev: MessageEvent): void {
  const nf = ev.frames.length;
  // a message of one frame names it in its own row; more take a run of msgFrames rows
  // past the first message that did not fit, none is kept: the rows kept are the first messages
  // a payload the decoder cut keeps its length in `spill`, and so does a count of WIDE frames or more
  const short = ev.data.length > 0 && ev.data.length !== ev.length;
  // decoded packets are kept encoded, under the same row budget (app-index.ts); their room is
  // taken first, so that the message row `fits` still tells whether it can be appended
  const app = ev.app && !d.messages.full ? d.app.encode(ev.app) : null;
  if (
    (app !== null && !d.app.reserve(d.messages.length, app.length)) ||
    !d.messages.fits(1) ||
    (nf > 1 && !d.msgFrames.reserve(nf)) ||
    !bigRoom(d, ev.length, ev.wireLength, (short ? 1 : 0) + (nf >= WIDE ? 1 : 0))
  ) {
    d.messages.full = true;
    return dropped(d, ev);
  }
  const r = d.messages.append();
  const m = d.messages.cols;
  d.messageIndexes.set(r, ev.index);
  m.conn.set(r, ev.conn);
  m.ts.set(r, ev.ts);
  let flags = ev.opcode & MSG.OPCODE;
  if (ev.dir === 'server') flags |= MSG.SERVER;
  if (ev.compressed) flags |= MSG.COMPRESSED;
  if (ev.truncated) flags |= MSG.TRUNCATED;
  if (ev.utf8Valid) flags |= MSG.UTF8;
  if (ev.code !== undefined) {
    flags |= MSG.HAS_CODE;
    m.code.set(r, ev.code);
  }
  // frames: bits of the first one, findings already listed about them
  let start = nf === 1 ? ev.frames[0] : 0;
  if (nf > 1) {
    start = d.msgFrames.append(nf);
    const list = d.msgFrames.cols.frame;
    for (let k = 0; k < nf; k++) list.set(start + k, ev.frames[k]);
  }
  m.frames.set(r, start);
  m.framesCount.set(r, Math.min(nf, WIDE));
  if (nf >= WIDE) d.spill.set(r * 4 + Spill.FramesCount, nf);
  const f = d.frames.cols;
  let findings = 0;
  for (let k = 0; k < nf; k++) {
    const fi = ev.frames[k];
    const fr = d.frameRow(fi);
    if (fr < 0) continue;
    f.msg.set(fr, r + 1);
    // findings about this frame came before its message: point them at it now
    const about = d.findingsByFrame.get(fi);
    if (about) {
      for (const idx of about) d.findings[idx].message = ev.index;
      const [sev, n] = frameFindings(d, fi);
      flags |= sev;
      findings += n;
    }
    if (k === 0) {
      const ff = f.flags.get(fr);
      if (ff & FRAME.FIN) flags |= MSG.FIN;
      if (ff & FRAME.MASKED) flags |= MSG.MASKED;
      const rsv = (ff & FRAME.RSV1 ? 4 : 0) | (ff & FRAME.RSV2 ? 2 : 0) | (ff & FRAME.RSV3 ? 1 : 0);
      flags |= rsv << MSG.RSV_SHIFT;
    }
  }
  // a text message whose preview is its payload byte for byte (preview.ts: printable ASCII
  // up to PREVIEW_MAX characters is shown as it is)
  if (ev.opcode === 1 && (ev.utf8Valid || ev.data.length === 0) && ev.data.length <= PREVIEW_MAX && printableAscii(ev.data)) flags |= MSG.VERBATIM;
  // A single unmasked, uncompressed frame carries the message's bytes as they are (RFC 6455
  // section 5.2): the message points at the frame's stored wire payload instead of a copy.
  const only = nf === 1 && !ev.compressed ? d.frameRow(ev.frames[0]) : -1;
  let off: number;
  let kept: number;
  if (only >= 0 && (f.flags.get(only) & (FRAME.HAS_WIRE | FRAME.MASKED)) === FRAME.HAS_WIRE && d.frameKept(only) === ev.data.length) {
    off = d.frameOffset(only);
    kept = ev.data.length;
  } else {
    off = d.payloads.append(ev.data);
    kept = d.payloads.size - off;
  }
  // the bytes kept are not the whole message: exports and the detail view say so
  if (kept < ev.data.length) {
    flags |= MSG.TRUNCATED;
    // A preview is a function of the payload's first PREVIEW_BYTES bytes (preview.ts): kept
    // as no string when the store kept the whole payload (rows.ts makes it again), else kept
    // here (as far as the row budget lets it: past it the row shows no preview, and the
    // rows after it are not kept).
    flags |= MSG.PREVIEW_KEPT;
    m.preview.set(r, messagePreview(ev.opcode, ev.data, ev.utf8Valid, ev.code, false));
    if (lastPreviewCut()) flags |= MSG.PREVIEW_CUT;
  }
  if (kept === 0 && ev.length > 0) flags |= MSG.NO_DATA;
  m.flags.set(r, flags);
  putLength(d, m.length, r, Len.Message, ev.length);
  putLength(d, m.wireLength, r, Len.Wire, ev.wireLength);
  m.packet.set(r, ev.packet);
  m.findings.set(r, Math.min(findings, 0xffff));
  putOffset(m.dataOff, m.dataOffHi, r, off);
  keepLength(d, r * 4 + Spill.MessageKept, kept, ev.length, short);

  const c = conn(d, ev.conn);
  const row = c.row;
  row.messages++;
  row.payloadBytes += ev.length;
  if (ev.compressed) {
    row.compressedWireBytes += ev.wireLength;
    row.compressedPayloadBytes += ev.length;
  }
  row.websocket = true;
  if (ev.opcode === 8) {
    // RFC 6455 section 7.1.2-7.1.4: closing handshake, one close frame each way
    c.closedBy |= ev.dir === 'client' ? 1 : 2;
    if (row.state !== 'failed') row.state = c.closedBy === 3 ? 'closed' : 'closing';
  }
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.Message, r);
  if (kept < ev.data.length) payloadCut(d, ev, ev.frames[ev.frames.length - 1]);
  if (app !== null) appMessage(d, c, r, ev, app);
}

/**
 * A frame or message whose payload the store did not keep whole: counted, and the first one
 * of the session reported as a finding about that frame (so it lands on its message too).
 */
function payloadCut(d: SessionData, ev: FrameEvent | MessageEvent, frame: number | undefined): void {
  if (d.payloadCuts++ > 0) return;
  const p = d.payloads;
  const failure = p.failure;
  const what = ev.type === 'message' ? `message #${ev.index}` : `frame #${ev.index}`;
  const text = failure
    ? spillFailureText(failure, what)
    : `Payload bytes kept for this session reached their limit of ${p.maxBytes} bytes (memory and scratch file together): from ${what} on, frames and messages keep their rows, sizes and findings but not all their bytes (marked truncated). Set WSSCOPE_MAX_KEPT_PAYLOAD (bytes) to keep more.`;
  ingest(d, { type: 'finding', id: failure ? 'payload-spill-failed' : 'payload-limit', severity: failure ? 'error' : 'warning', conn: ev.conn, dir: ev.dir, ts: ev.ts, packet: ev.packet, frame, text });
  if (failure) d.onSpillFailure?.(text);
}

/** What a failed spill write means for the user: what was lost, what to do. */
export function spillFailureText(f: SpillFailure, from: string): string {
  const why = f.code === 'ENOSPC' || f.code === 'EDQUOT' ? `the disk is full (${f.code})` : `the disk failed (${f.code}: ${f.message})`;
  return `Writing decoded payloads to ${f.path} failed: ${why}. From ${from} on, payload bytes are not kept (rows, sizes and findings are; payloads show as truncated). Free space there, or start wsscope with TMPDIR on a bigger disk, and open the capture again.`;
}

/** The store's own findings (this file): kept past `maxFindings`, so a cap never hides them. */
const STORE_FINDINGS: ReadonlySet<string> = new Set(['payload-limit', 'payload-spill-failed', 'connections-not-listed', 'findings-not-listed', 'messages-not-listed']);

/**
 * Row-budget bytes a kept finding is charged besides its text (two bytes a character at most):
 * its row object with its fields, its place in `findings` and in `findingsByFrame`.
 */
const FINDING_COST = 192;

function onFinding(d: SessionData, ev: FindingEvent): void {
  const cost = FINDING_COST + 2 * ev.text.length;
  if (STORE_FINDINGS.has(ev.id)) d.rowBudget.charge(cost);
  else if (d.findings.length >= d.maxFindings || !d.rowBudget.take(cost)) {
    // over the cap (or the row budget): on its connection's count, and in `findings-not-listed` at the summary
    d.findingsNotKept++;
    d.findingNotKeptLast = { ts: ev.ts, packet: ev.packet };
    conn(d, ev.conn).row.findings++;
    d.dirty.add(ev.conn);
    notePacket(d, ev.packet);
    return;
  }
  const fi = d.findings.length;
  const { type: _type, ...rest } = ev;
  d.findings.push({ ...rest, index: fi });
  const c = conn(d, ev.conn);
  c.row.findings++;
  d.dirty.add(ev.conn);
  if (ev.id === 'tls-no-key' || ev.id === 'h2-connect-without-setting') findingFacts(d, c, ev);
  if (ev.frame !== undefined) {
    let list = d.findingsByFrame.get(ev.frame);
    if (!list) d.findingsByFrame.set(ev.frame, (list = []));
    list.push(fi);
    const fr = d.frameRow(ev.frame);
    const mr = fr >= 0 ? d.frames.cols.msg.get(fr) - 1 : -1;
    if (mr >= 0) {
      // its message came first: counted there now (else onMessage counts it)
      const m = d.messages.cols;
      m.findings.set(mr, Math.min(m.findings.get(mr) + 1, 0xffff));
      m.flags.set(mr, m.flags.get(mr) | sevBit(ev.severity));
      d.findings[fi].message = d.messageIndex(mr);
    }
  }
  notePacket(d, ev.packet);
  log(d, Ev.Finding, fi);
}

function onDatagram(d: SessionData, ev: DatagramEvent): void {
  const r = d.datagrams.full ? -1 : d.datagrams.append();
  if (r < 0) return dropped(d, ev);
  const g = d.datagrams.cols;
  g.conn.set(r, ev.conn);
  g.ts.set(r, ev.ts);
  g.server.set(r, ev.dir === 'server' ? 1 : 0);
  g.length.set(r, ev.length);
  g.packet.set(r, ev.packet);
  const c = conn(d, ev.conn);
  c.row.datagrams++;
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.Datagram, r);
}

function onEnd(d: SessionData, ev: ConnectionEndEvent): void {
  if (d.quiet.delete(ev.conn)) {
    // it carried nothing: counted (the `connections-not-listed` finding), not kept
    d.unlisted++;
    d.unlistedLast = ev;
    notePacket(d, ev.packet);
    return;
  }
  const c = conn(d, ev.conn);
  c.end = ev;
  if (c.row.state !== 'failed') c.row.state = 'closed';
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.End, ev.conn);
}

/**
 * The end of the capture: connections still quiet get their records (nothing announced is
 * lost), the unlisted ones become one `connections-not-listed` finding with their count, the
 * findings past the cap one `findings-not-listed`, then the summary.
 */
function onSummary(d: SessionData, ev: SummaryEvent): void {
  for (const id of [...d.quiet.keys()]) {
    if (!d.log.reserve(2) || !d.logRefs.reserve(2)) break;
    listQuiet(d, id);
  }
  if (d.unlisted > 0) {
    const text = `${d.unlisted} connection(s) ended without carrying anything wsscope shows (no handshake, frame, message, datagram or finding): past the first ${QUIET_ROWS} connections of a session such connections are counted here, not listed (a flood of SYNs or of empty connections). They are in the connection total; evicted-flows counts those evicted before they ended.`;
    const f: FindingEvent = { type: 'finding', id: 'connections-not-listed', severity: FINDINGS['connections-not-listed'].severity, conn: 0, ts: d.unlistedLast?.ts ?? 0, packet: d.unlistedLast?.packet ?? 0, text };
    ingest(d, f);
  }
  if (d.findingsNotKept > 0) {
    const text = `${d.findingsNotKept} more finding(s) were seen past the ${d.maxFindings} this session keeps (or past its row budget): they are counted on their connections' rows (the findings column) but not listed, nor on their messages.`;
    const last = d.findingNotKeptLast;
    ingest(d, { type: 'finding', id: 'findings-not-listed', severity: FINDINGS['findings-not-listed'].severity, conn: 0, ts: last?.ts ?? 0, packet: last?.packet ?? 0, text });
  }
  if (d.dropped > 0) {
    const mib = Math.round(d.rowBudget.limit / 2 ** 20);
    const text = `${d.droppedMessages} message(s) and ${d.dropped - d.droppedMessages} other event(s) (frames, datagrams, connection events) came after this session's rows reached their bound (${mib} MiB of rows, about ${d.messages.length} messages): they are in no list, view or export of this session. wsscope read decodes the whole capture; a capture cut into parts (editcap -c) shows each part whole.`;
    const last = d.droppedLast;
    ingest(d, { type: 'finding', id: 'messages-not-listed', severity: FINDINGS['messages-not-listed'].severity, conn: 0, ts: last?.ts ?? 0, packet: last?.packet ?? 0, text });
  }
  d.summary = ev;
  log(d, Ev.Summary, 0);
}

// ---------------------------------------------------------------- decoded packets, TLS, HTTP/2

/** `wss` when the connection, or the one carrying it, is TLS (RFC 6455 section 3). */
function wsScheme(d: SessionData, c: ConnRec): 'ws' | 'wss' {
  return d.app.tls.has(c.row.id) || (c.ev.parent !== undefined && d.app.tls.has(c.ev.parent)) ? 'wss' : 'ws';
}

/** A WebSocket on an HTTP/2 stream: its carriage, and the carrier's TLS facts when it has them. */
function carried(d: SessionData, ev: ConnectionEvent): void {
  d.app.addConnection(ev);
  const c = d.conns.get(ev.id) as ConnRec;
  const h2 = d.app.h2.get(ev.id);
  if (h2) c.row.h2 = { ...h2 };
  const tls = d.app.tlsInfo(ev.id, ev.parent);
  if (tls) c.row.tls = tls;
}

function onTls(d: SessionData, ev: TlsEvent): void {
  d.app.addTls(ev);
  const c = conn(d, ev.conn);
  c.row.tls = d.app.tlsInfo(ev.conn);
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.Tls, ev.conn);
}

function onH2Request(d: SessionData, ev: Http2RequestEvent): void {
  const at = d.app.h2Requests.length;
  if (!d.app.addH2Request(ev)) return dropped(d, ev);
  const c = conn(d, ev.conn);
  c.row.http2Requests = (c.row.http2Requests ?? 0) + 1;
  seen(d, c, ev.ts, ev.packet);
  log(d, Ev.H2Request, at);
}

/** An Engine.IO polling body: kept for the event log (NDJSON export replays it), no row of its own. */
function onPolling(d: SessionData, ev: PollingEvent): void {
  const at = d.app.polling.length;
  if (!d.app.addPolling(ev)) return dropped(d, ev);
  seen(d, conn(d, ev.conn), ev.ts, ev.packet);
  log(d, Ev.Polling, at);
}

/** A message of a decoded connection: its packets, links to its request, the connection's protocol. */
function appMessage(d: SessionData, c: ConnRec, r: number, ev: MessageEvent, bytes: Uint8Array): void {
  d.app.addMessage(r, ev.conn, ev.dir, ev.ts, ev.app ?? [], bytes);
  const p = d.app.connProtocol.get(ev.conn);
  if (p !== undefined && c.row.app !== p) c.row.app = p;
}

function findingFacts(d: SessionData, c: ConnRec, ev: FindingEvent): void {
  d.app.addFinding(ev);
  const id = c.row.id;
  if (c.row.tls) c.row.tls = d.app.tlsInfo(id, c.ev.parent);
  const h2 = d.app.h2.get(id);
  if (h2) c.row.h2 = { ...h2 };
}
