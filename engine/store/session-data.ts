/**
 * The data of one loaded capture, as the session store keeps it: the tables every view of
 * the store reads, the bit layout of their flag columns, and index -> row addressing.
 *
 *  - connections: one record per connection (its ConnectionRow of shared/api.ts, upserted,
 *    plus the events replay needs), in first-seen order; past the first QUIET_ROWS
 *    connections, a connection that carried nothing yet waits in `quiet` (its event only) and
 *    gets its record with its first other event; one that ends before it had any is counted in
 *    `unlisted`, not kept (a flood of SYNs or of empty connections; see "Bounds");
 *  - messages, frames, datagrams: chunked column tables (shared/column-table.ts ChunkedTable),
 *    one row per event; a message of one frame names it in its row, the frames of a longer one
 *    are a run of `msgFrames`; a frame's header is not kept but written again from its fields
 *    (`frameHeader`; the odd one in `oddHeaders`); a preview is kept as a string only when its
 *    payload was cut (MSG.PREVIEW_KEPT), else rows.ts makes it again from the payload;
 *  - payload bytes (message data, frame wire payloads) live in a PayloadStore (memory up to a
 *    budget, older bytes spilled to a temp file, all of it up to a limit), the rows keep
 *    (offset, length kept); a cut payload's message is marked TRUNCATED;
 *  - the event log: one type byte per event (the event is the next row of its table; events
 *    about a connection keep its id in `logRefs`), so exports replay the original order
 *    exactly;
 *  - change marks (`dirty` connections, `changed`) that batches.ts turns into UI batches;
 *  - `app` (app-index.ts): each message's decoded packets and reply links, each connection's
 *    TLS facts and HTTP/2 carriage, the plain HTTP/2 requests.
 *
 * Writers and readers: ingest.ts is the only writer (and batches.ts clears the change marks);
 * rows.ts, batches.ts, query.ts, detail.ts, stats.ts and replay.ts only read. Single-threaded,
 * synchronous.
 *
 * Bounds: all the tables draw their chunks from one RowBudget of `maxRowBytes` (default
 * DEFAULT_ROW_BYTES, 84 MiB), which also pays for kept preview strings, `bigLengths` and `spill` entries
 * and kept findings; each table holds at most `maxRows` rows besides (default
 * DEFAULT_MAX_ROWS), `msgFrames` twice that and the event log four times that (every stored
 * event takes one log row). A message, frame or datagram that does not fit is dropped whole,
 * and so is every later one of its table (the rows kept are the first ones); dropped events
 * are counted in `dropped`, which the `messages-not-listed` finding reports at the summary:
 * the store stops growing rather than the process running out of memory. Findings are kept
 * up to `maxFindings` rows (default DEFAULT_MAX_FINDINGS) while the budget lasts, the store's
 * own findings always; past either a finding is counted on its connection's row and in
 * `findingsNotKept`, which the `findings-not-listed` finding reports at the summary. Handshakes are a plain array (one per connection at most). Connection records
 * (about 700 bytes each with their batch copies) are kept for every connection that carried
 * something, and for the first QUIET_ROWS others; past that a connection that carried nothing
 * costs nothing once it ended (`unlisted` counts it, and the `connections-not-listed` finding
 * gives the count at the summary) and about 140 bytes while it is open: `quiet` holds at most
 * QUIET_PENDING_MAX (the pipeline tracks at most DEFAULT_MAX_FLOWS TCP flows at once, so a
 * flood never reaches it), over which the oldest is given its record.
 *
 * Memory: the tables own their chunks; handshake, connection, finding and summary events are
 * kept as given (they are small and structured-clone safe, the pipeline does not reuse them).
 */
import type { ConnectionEndEvent, ConnectionEvent, HandshakeEvent, SummaryEvent } from '../../shared/events';
import type { ConnectionRow, FindingRow } from '../../shared/api';
import { ChunkedTable, ColumnTable, DEFAULT_MAX_ROWS, RowBudget } from '../../shared/column-table';
import { ROW_BITS_COMMON } from '../../shared/row-block';
import { AppIndex } from './app-index';
import { PayloadStore, type PayloadStoreOptions } from './payload-store';

/**
 * Bits of the message flags column: bits 0-11 are those of a timeline row
 * (shared/row-block.ts ROW_BITS_COMMON: opcode, direction, compressed, fin, rsv, masked,
 * truncated), so the UI feed copies them as they are.
 */
export const MSG = {
  ...ROW_BITS_COMMON,
  UTF8: 1 << 12,
  HAS_CODE: 1 << 13,
  SEV_ERROR: 1 << 14,
  SEV_WARNING: 1 << 15,
  SEV_INFO: 1 << 16,
  SEV_ALL: (1 << 14) | (1 << 15) | (1 << 16),
  /** a stored preview (PREVIEW_KEPT) was cut: rows get a trailing "…" (stored previews stay one-byte strings) */
  PREVIEW_CUT: 1 << 17,
  /**
   * a text message whose preview is its payload byte for byte (printable ASCII, not cut): the
   * query searches it as text only (its bytes are its text), never as hex
   */
  VERBATIM: 1 << 18,
  /**
   * the preview is kept as a string (`preview` column): the payload store did not keep the
   * message whole. Without it the preview is made again from the first PREVIEW_BYTES payload
   * bytes (rows.ts), so a row costs no string.
   */
  PREVIEW_KEPT: 1 << 19,
  /** the payload store kept none of the message's bytes (see SessionData.messageKept) */
  NO_DATA: 1 << 20,
} as const;

/** Bits of the frame flags column: opcode and direction as in MSG, then the header bits. */
export const FRAME = {
  OPCODE: MSG.OPCODE,
  SERVER: MSG.SERVER,
  FIN: 1 << 5,
  RSV1: 1 << 6,
  RSV2: 1 << 7,
  RSV3: 1 << 8,
  MASKED: 1 << 9,
  HAS_WIRE: 1 << 10,
  /** the header bytes are not what frameHeader makes of the fields: see SessionData.oddHeaders */
  ODD_HEADER: 1 << 11,
  /** bits 12-15: the header's length in bytes (at most HEADER_MAX; SessionData.frameHeaderLen) */
  HEADER_SHIFT: 12,
} as const;

/** RFC 6455 section 5.2: 2 bytes, 8 of extended length, 4 of masking key at most */
export const HEADER_MAX = 14;

/** A length column's mark for a value it cannot hold (SessionData.bigLengths has it). */
export const BIG = 0xffffffff;
/** Row-budget bytes one SessionData.bigLengths entry is charged (a Map entry). */
export const BIG_COST = 64;
/** Which length of a row a SessionData.bigLengths key names. */
export const Len = { Message: 0, Wire: 1, Frame: 2 } as const;
/** A u16 column's mark for a value it cannot hold (SessionData.spill has it). */
export const WIDE = 0xffff;
/** Which value of a row a SessionData.spill key names (row * 4 + Spill). */
export const Spill = { MessageKept: 0, FrameKept: 1, FramesCount: 2, FirstPacket: 3 } as const;

/**
 * Payload store offsets a row holds: a u32 column and a u8 one for bits 32-39 (see
 * SessionData.messageOffset), so the store keeps at most 2^40 bytes (payload-store.ts MAX_KEPT).
 */
const OFF_HI = 2 ** 32;

/** Event log types (SessionData.log). */
export const Ev = {
  Connection: 0,
  Handshake: 1,
  Frame: 2,
  Message: 3,
  Finding: 4,
  Datagram: 5,
  End: 6,
  Summary: 7,
  /** ref: the connection (AppIndex.tls) */
  Tls: 8,
  /** ref: position in AppIndex.h2Requests */
  H2Request: 9,
  /** ref: position in AppIndex.polling */
  Polling: 10,
} as const;
export type EvType = (typeof Ev)[keyof typeof Ev];

/** Log types whose event is named by a connection id (SessionData.logRefs), not by its place in a table. */
export function evWithRef(type: number): boolean {
  return type === Ev.Connection || type === Ev.End || type === Ev.Tls;
}

export function sevBit(sev: string): number {
  return sev === 'error' ? MSG.SEV_ERROR : sev === 'warning' ? MSG.SEV_WARNING : MSG.SEV_INFO;
}

/*
 * A row's capture-wide index (MessageEvent.index, FrameEvent.index) is no column: the rows
 * kept are the first events of their table, so it is the row number, but for the rows of
 * RowIndexes (see SessionData.messageIndex).
 */
const MESSAGE_COLUMNS = {
  conn: 'u32',
  ts: 'f64',
  flags: 'u32',
  /** lengths past 2^32 - 2 read BIG here, the value is in SessionData.bigLengths (see messageLength) */
  length: 'u32',
  wireLength: 'u32',
  packet: 'u32',
  code: 'u16',
  /** findings about the message's frames (saturates at 65,535) */
  findings: 'u16',
  /**
   * the message's frame index when it has one frame (no msgFrames rows); else its frame
   * indexes are msgFrames rows [frames, frames + framesCount)
   */
  frames: 'u32',
  /** WIDE: the count is in SessionData.spill (see messageFrameCount) */
  framesCount: 'u16',
  /**
   * where the payload store keeps its bytes, bits 0-31 and 32-39 (messageOffset); how many it
   * kept is no column (messageKept)
   */
  dataOff: 'u32',
  dataOffHi: 'u8',
  /** only for rows whose preview cannot be made again from their payload (MSG.PREVIEW_KEPT) */
  preview: 'str',
} as const;

const FRAME_COLUMNS = {
  conn: 'u32',
  ts: 'f64',
  flags: 'u16',
  /** as MESSAGE_COLUMNS.length (see frameLength) */
  length: 'u32',
  /** the masking key, big-endian (RFC 6455 section 5.3), 0 when unmasked */
  mask: 'u32',
  packet: 'u32',
  /** packet - firstPacket + 1, 0 when firstPacket is 0, WIDE: in SessionData.spill (frameFirstPacket) */
  firstBack: 'u16',
  /** where the payload store keeps its wire bytes (FRAME.HAS_WIRE), as MESSAGE_COLUMNS.dataOff (frameOffset, frameKept) */
  wireOff: 'u32',
  wireOffHi: 'u8',
  /** message row the frame belongs to plus one, 0 until its message arrives */
  msg: 'u32',
} as const;

/**
 * Connections listed as soon as they are announced, whatever they carry: a capture with fewer
 * connections shows every one of them at once, as it always did.
 */
export const QUIET_ROWS = 10_000;
/** Most connections waiting in SessionData.quiet (see the bounds above). */
export const QUIET_PENDING_MAX = 65_536;

/** Characters of an endpoint string a QuietConns slot holds: "[" + 39 + "]:" + 5 is 47. */
const ENDPOINT_MAX = 48;
const ROLE_BY: readonly ConnectionEvent['roleBy'][] = ['syn', 'http', 'mask', 'port'];
const QUIET_COLUMNS = {
  ts: 'f64',
  packet: 'f64',
  /** bit 0: UDP; bits 1-2: index in ROLE_BY */
  kind: 'u8',
  clientLen: 'u8',
  serverLen: 'u8',
  client: ['u8', ENDPOINT_MAX],
  server: ['u8', ENDPOINT_MAX],
} as const;

/**
 * The connections waiting in SessionData.quiet, by id in announcement order, stored by column:
 * a flood's ConnectionEvents would live until their flows end (thousands of events later),
 * long enough for V8 to move each to its old generation, where a million of them cost about a
 * second of garbage collection and 40 MB of peak RSS; copied here, they die young. `get`
 * builds the event again, equal to the one given (the key order the pipeline uses).
 *
 * Memory: at most `max` slots of 114 bytes (typed columns grown by doubling, slots reused),
 * endpoint strings as Latin-1 bytes; an event of another shape (an endpoint longer than
 * ENDPOINT_MAX or not Latin-1, HTTP/2 fields) is kept as given. Callers keep `size` under
 * `max` (ingest.ts lists the oldest first).
 */
export class QuietConns {
  /** id -> slot, or -1 for an event kept as given (in `odd`); Map order = announcement order */
  private readonly order = new Map<number, number>();
  private readonly odd = new Map<number, ConnectionEvent>();
  private readonly t: ColumnTable<typeof QUIET_COLUMNS>;
  private readonly free: number[] = [];

  constructor(max: number) {
    this.t = new ColumnTable(QUIET_COLUMNS, { maxRows: max });
  }

  get size(): number {
    return this.order.size;
  }

  has(id: number): boolean {
    return this.order.has(id);
  }

  /** ids, oldest first */
  keys(): IterableIterator<number> {
    return this.order.keys();
  }

  /** Adds (or replaces, as the newest) connection `ev.id`. */
  set(ev: ConnectionEvent): void {
    this.delete(ev.id);
    const slot = this.store(ev);
    if (slot < 0) this.odd.set(ev.id, ev);
    this.order.set(ev.id, slot);
  }

  /** The event of connection `id` as it was given, or undefined. */
  get(id: number): ConnectionEvent | undefined {
    const slot = this.order.get(id);
    if (slot === undefined) return undefined;
    if (slot < 0) return this.odd.get(id);
    const c = this.t.cols;
    const kind = c.kind[slot];
    return {
      type: 'connection',
      id,
      transport: kind & 1 ? 'udp' : 'tcp',
      client: latin1(c.client, slot, c.clientLen[slot]),
      server: latin1(c.server, slot, c.serverLen[slot]),
      ts: c.ts[slot],
      packet: c.packet[slot],
      roleBy: ROLE_BY[(kind >> 1) & 3],
    };
  }

  /** Forgets connection `id`; whether it was here. */
  delete(id: number): boolean {
    const slot = this.order.get(id);
    if (slot === undefined) return false;
    this.order.delete(id);
    if (slot < 0) this.odd.delete(id);
    else this.free.push(slot);
    return true;
  }

  /** Copies `ev` into a slot; -1 when it has another shape (or no slot is left). */
  private store(ev: ConnectionEvent): number {
    const role = ROLE_BY.indexOf(ev.roleBy);
    const plain = ev.http2 === undefined && ev.h2Stream === undefined && ev.parent === undefined;
    if (role < 0 || !plain || ev.client.length > ENDPOINT_MAX || ev.server.length > ENDPOINT_MAX) return -1;
    const slot = this.free.length > 0 ? (this.free.pop() as number) : this.t.append();
    if (slot < 0) return -1;
    const c = this.t.cols;
    if (!putLatin1(c.client, slot, ev.client) || !putLatin1(c.server, slot, ev.server)) {
      this.free.push(slot);
      return -1;
    }
    c.clientLen[slot] = ev.client.length;
    c.serverLen[slot] = ev.server.length;
    c.ts[slot] = ev.ts;
    c.packet[slot] = ev.packet;
    c.kind[slot] = (ev.transport === 'udp' ? 1 : 0) | (role << 1);
    return slot;
  }
}

/** Writes `s` into slot `slot` of a fixed-width byte column; false when a character is not Latin-1. */
function putLatin1(col: Uint8Array, slot: number, s: string): boolean {
  const at = slot * ENDPOINT_MAX;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 0xff) return false;
    col[at + i] = ch;
  }
  return true;
}

function latin1(col: Uint8Array, slot: number, len: number): string {
  const at = slot * ENDPOINT_MAX;
  return String.fromCharCode.apply(null, col.subarray(at, at + len) as unknown as number[]);
}

const DATAGRAM_COLUMNS = { conn: 'u32', ts: 'f64', server: 'u8', length: 'u32', packet: 'u32' } as const;
/**
 * The event log: one type per event. The event it names is the next row of its table in
 * order (frames, messages, datagrams, findings, handshakes, HTTP/2 requests, polling bodies:
 * each is logged once, as it is stored), so only the events about a connection
 * (EV_WITH_REF) keep a reference, the connection id, in `logRefs`.
 */
const LOG_COLUMNS = { type: 'u8' } as const;
const REF_COLUMNS = { ref: 'u32' } as const;
const MSG_FRAME_COLUMNS = { frame: 'u32' } as const;

export interface ConnRec {
  ev: ConnectionEvent;
  row: ConnectionRow;
  handshake: HandshakeEvent | null;
  end: ConnectionEndEvent | null;
  headerBytes: number;
  /** bit 1 = client sent close, bit 2 = server sent close */
  closedBy: number;
}

export interface SessionDataOptions {
  payload: Partial<PayloadStoreOptions>;
  /**
   * Told once, with a sentence for the user, when a spill write failed (disk full): payloads
   * from then on are not kept (engine/store/ingest.ts; the service pushes it as an error).
   */
  onSpillFailure: (message: string) => void;
  /** most messages, frames and datagrams kept (each); see the bounds above */
  maxRows: number;
  /** most bytes of rows (every table's chunks and kept preview strings together); see the bounds above */
  maxRowBytes: number;
  /** most finding rows kept (default DEFAULT_MAX_FINDINGS); see the bounds above */
  maxFindings: number;
}

/**
 * Finding rows a session keeps: the decoder lists each finding id at most 20 times per
 * connection, so only a capture of very many connections reaches it (50,000 rows: about
 * 20 MB here and as much in the UI).
 */
export const DEFAULT_MAX_FINDINGS = 50_000;

/**
 * Bytes of rows a session keeps by default (SessionDataOptions.maxRowBytes): with the engine
 * host's baseline (about 75 MiB of code, 20-60 MiB of JS heap) and the payload store's 16 MiB in
 * memory, an engine process under the 300 MB RSS target of docs/hardening.md whatever the
 * capture, with some room for the garbage V8 collects late. A single-frame message costs 82
 * bytes (a 43-byte message row, a 37-byte frame row, two log bytes), so about 1,070,000 of
 * them fit (the 1,000,000 of the UI benchmark's capture, and a little room). A capture past it
 * peaks about where that one does (docs/hardening.md, "Narrower rows").
 */
export const DEFAULT_ROW_BYTES = 84 * 1024 * 1024;

export class SessionData {
  readonly payloads: PayloadStore;
  readonly conns = new Map<number, ConnRec>();
  readonly connOrder: number[] = [];
  /**
   * Connections announced past the first QUIET_ROWS that carried nothing yet (no record, no
   * log row), in announcement order: ingest.ts gives one its record with its first other
   * event, or counts it in `unlisted` when it ends first.
   */
  readonly quiet = new QuietConns(QUIET_PENDING_MAX);
  /** connections that ended without carrying anything, past the first QUIET_ROWS: counted only */
  unlisted = 0;
  /** the end of the last of them (the time and packet of the finding that counts them) */
  unlistedLast: ConnectionEndEvent | null = null;
  readonly handshakes: HandshakeEvent[] = [];
  readonly findings: FindingRow[] = [];
  readonly maxFindings: number;
  /** findings past `maxFindings`: counted (and on their connection's row), not kept */
  findingsNotKept = 0;
  /** the last of them (the time and packet of the finding that counts them) */
  findingNotKeptLast: { ts: number; packet: number } | null = null;
  /** frame index -> finding positions about that frame */
  readonly findingsByFrame = new Map<number, number[]>();
  summary: SummaryEvent | null = null;
  /** decoded packets, TLS facts, HTTP/2 carriage and requests (app-index.ts) */
  readonly app: AppIndex;
  /** the decoder the user chose per connection (copied onto its row) */
  decodeAs: Readonly<Record<number, string>> = {};
  /** highest packet number the events named */
  packets = 0;

  /** what every table below draws its chunks from */
  readonly rowBudget: RowBudget;
  readonly messages: ChunkedTable<typeof MESSAGE_COLUMNS>;
  readonly frames: ChunkedTable<typeof FRAME_COLUMNS>;
  readonly msgFrames: ChunkedTable<typeof MSG_FRAME_COLUMNS>;
  readonly datagrams: ChunkedTable<typeof DATAGRAM_COLUMNS>;
  readonly log: ChunkedTable<typeof LOG_COLUMNS>;
  /** the connection ids of the log's EV_WITH_REF events, in order */
  readonly logRefs: ChunkedTable<typeof REF_COLUMNS>;
  /**
   * frame row -> its header bytes, for the frames whose header frameHeader does not make again
   * (FRAME.ODD_HEADER: a 64-bit length past 2^53, which a number cannot hold); a stream stops
   * at such a frame (it never ends), so there are at most two per connection
   */
  readonly oddHeaders = new Map<number, Uint8Array>();
  /**
   * Lengths of BIG or more (what a header claims: up to 2^63), by row * 4 + Len: a length a u32
   * column cannot hold; each entry is charged BIG_COST bytes of the row budget (ingest.ts)
   */
  readonly bigLengths = new Map<number, number>();
  /**
   * Values of a row its narrow column cannot hold, by row * 4 + Spill: payload bytes kept of a
   * row that kept some but not all its length says (a payload the decoder cut, or the payload
   * store's limit or a failed spill write crossed; messageKept, frameKept), a message of WIDE
   * frames or more (messageFrameCount), a frame whose first packet is far before its last
   * (frameFirstPacket); each entry is charged BIG_COST bytes of the row budget (ingest.ts)
   */
  readonly spill = new Map<number, number>();
  /** capture-wide index <-> row of the messages and frames whose index is not their row */
  readonly messageIndexes = new RowIndexes();
  readonly frameIndexes = new RowIndexes();
  /** events dropped because a table was full (the row bound): `messages-not-listed` at the summary */
  dropped = 0;
  /** messages among them */
  droppedMessages = 0;
  /** the last of them (the time and packet of the finding that counts them) */
  droppedLast: { ts: number; packet: number } | null = null;
  /** frames and messages whose payload bytes were cut (the payload store's limit or a failed spill write) */
  payloadCuts = 0;
  readonly onSpillFailure: ((message: string) => void) | undefined;

  /** connections whose row changed since the last batch */
  readonly dirty = new Set<number>();
  /** anything ingested since the last batch */
  changed = false;

  constructor(opts: Partial<SessionDataOptions> = {}) {
    this.payloads = new PayloadStore(opts.payload);
    this.onSpillFailure = opts.onSpillFailure;
    const maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
    this.maxFindings = opts.maxFindings ?? DEFAULT_MAX_FINDINGS;
    const budget = (this.rowBudget = new RowBudget(opts.maxRowBytes ?? DEFAULT_ROW_BYTES));
    this.messages = new ChunkedTable(MESSAGE_COLUMNS, { maxRows, budget });
    this.frames = new ChunkedTable(FRAME_COLUMNS, { maxRows, budget });
    this.msgFrames = new ChunkedTable(MSG_FRAME_COLUMNS, { maxRows: 2 * maxRows, budget });
    this.datagrams = new ChunkedTable(DATAGRAM_COLUMNS, { maxRows, budget });
    this.log = new ChunkedTable(LOG_COLUMNS, { maxRows: 4 * maxRows, budget });
    this.logRefs = new ChunkedTable(REF_COLUMNS, { maxRows: 4 * maxRows, budget });
    const m = this.messages.cols;
    this.app = new AppIndex(budget, { conn: (r) => m.conn.get(r), dir: (r) => (m.flags.get(r) & MSG.SERVER ? 'server' : 'client'), ts: (r) => m.ts.get(r) }, maxRows);
  }

  /** packets seen, as far as the events tell (max packet number; exact after the summary) */
  get packetCount(): number {
    return this.summary ? this.summary.packets : this.packets;
  }

  /** connections announced: listed, waiting in `quiet`, and `unlisted` */
  get connectionTotal(): number {
    return this.conns.size + this.quiet.size + this.unlisted;
  }

  /** Row of message `index`, or -1. */
  messageRow(index: number): number {
    return this.messageIndexes.row(index, this.messages.length);
  }

  /** Capture-wide index of message row `r` (MessageEvent.index). */
  messageIndex(r: number): number {
    return this.messageIndexes.index(r);
  }

  /** Row of frame `index`, or -1. */
  frameRow(index: number): number {
    return this.frameIndexes.row(index, this.frames.length);
  }

  /** Capture-wide index of frame row `fr` (FrameEvent.index). */
  frameIndex(fr: number): number {
    return this.frameIndexes.index(fr);
  }

  /** Payload length of message row `r` (MessageEvent.length). */
  messageLength(r: number): number {
    const v = this.messages.cols.length.get(r);
    return v === BIG ? (this.bigLengths.get(r * 4 + Len.Message) as number) : v;
  }

  /** Payload bytes on the wire of message row `r` (MessageEvent.wireLength). */
  messageWireLength(r: number): number {
    const v = this.messages.cols.wireLength.get(r);
    return v === BIG ? (this.bigLengths.get(r * 4 + Len.Wire) as number) : v;
  }

  /**
   * Payload bytes the store kept of message row `r` (at `dataOff`): none (MSG.NO_DATA), a
   * `keptLengths` entry, or else its whole length.
   */
  messageKept(r: number): number {
    if (this.messages.cols.flags.get(r) & MSG.NO_DATA) return 0;
    return this.spill.get(r * 4 + Spill.MessageKept) ?? this.messageLength(r);
  }

  /** Payload store offset of message row `r`'s bytes. */
  messageOffset(r: number): number {
    const m = this.messages.cols;
    return m.dataOffHi.get(r) * OFF_HI + m.dataOff.get(r);
  }

  /** Payload store offset of frame row `fr`'s wire bytes. */
  frameOffset(fr: number): number {
    const f = this.frames.cols;
    return f.wireOffHi.get(fr) * OFF_HI + f.wireOff.get(fr);
  }

  /** Frames of message row `r` (MessageEvent.frames.length). */
  messageFrameCount(r: number): number {
    const n = this.messages.cols.framesCount.get(r);
    return n === WIDE ? (this.spill.get(r * 4 + Spill.FramesCount) as number) : n;
  }

  /** The first packet of frame row `fr` (FrameEvent.firstPacket). */
  frameFirstPacket(fr: number): number {
    const f = this.frames.cols;
    const back = f.firstBack.get(fr);
    if (back === WIDE) return this.spill.get(fr * 4 + Spill.FirstPacket) as number;
    return back === 0 ? 0 : f.packet.get(fr) - back + 1;
  }

  /** Header bytes of frame row `fr` (FrameEvent.headerLength, at most HEADER_MAX). */
  frameHeaderLen(fr: number): number {
    return this.frames.cols.flags.get(fr) >>> FRAME.HEADER_SHIFT;
  }

  /** Wire payload bytes the store kept of frame row `fr` (at `wireOff`): as messageKept, by FRAME.HAS_WIRE. */
  frameKept(fr: number): number {
    if (!(this.frames.cols.flags.get(fr) & FRAME.HAS_WIRE)) return 0;
    return this.spill.get(fr * 4 + Spill.FrameKept) ?? this.frameLength(fr);
  }

  /** Payload length frame row `fr` declares (FrameEvent.length). */
  frameLength(fr: number): number {
    const v = this.frames.cols.length.get(fr);
    return v === BIG ? (this.bigLengths.get(fr * 4 + Len.Frame) as number) : v;
  }

  /** The frame indexes of message row `r`. */
  messageFrames(r: number): number[] {
    const m = this.messages.cols;
    const n = this.messageFrameCount(r);
    const at = m.frames.get(r);
    if (n === 1) return [at];
    const list = this.msgFrames.cols.frame;
    const out = new Array<number>(n);
    for (let k = 0; k < n; k++) out[k] = list.get(at + k);
    return out;
  }

  /** The header bytes of frame row `fr`, a fresh copy. */
  frameHeader(fr: number): Uint8Array {
    const f = this.frames.cols;
    const flags = f.flags.get(fr);
    if (flags & FRAME.ODD_HEADER) return (this.oddHeaders.get(fr) as Uint8Array).slice();
    return buildHeader(flags, this.frameLength(fr), flags >>> FRAME.HEADER_SHIFT, f.mask.get(fr));
  }
}

/**
 * A frame's header from its fields (RFC 6455 section 5.2): FIN, RSV1-3 and opcode; MASK and
 * the 7-bit length, 126 + 16 bits or 127 + 64 bits as `headerLen` says (a sender may use a
 * longer form than needed, which `headerLen` keeps); the masking key. Exact for lengths up to
 * 2^53 (a number holds those); ingest.ts keeps other headers as they are.
 */
export function buildHeader(flags: number, length: number, headerLen: number, mask: number): Uint8Array {
  const h = new Uint8Array(headerLen);
  h[0] = (flags & FRAME.FIN ? 0x80 : 0) | (flags & FRAME.RSV1 ? 0x40 : 0) | (flags & FRAME.RSV2 ? 0x20 : 0) | (flags & FRAME.RSV3 ? 0x10 : 0) | (flags & FRAME.OPCODE);
  const masked = (flags & FRAME.MASKED) !== 0;
  const ext = headerLen - 2 - (masked ? 4 : 0);
  h[1] = (masked ? 0x80 : 0) | (ext === 0 ? length : ext === 2 ? 126 : 127);
  if (ext === 2) {
    h[2] = length >>> 8;
    h[3] = length & 0xff;
  } else if (ext === 8) {
    const hi = Math.floor(length / 2 ** 32);
    const lo = length >>> 0;
    h[2] = hi >>> 24;
    h[3] = (hi >>> 16) & 0xff;
    h[4] = (hi >>> 8) & 0xff;
    h[5] = hi & 0xff;
    h[6] = lo >>> 24;
    h[7] = (lo >>> 16) & 0xff;
    h[8] = (lo >>> 8) & 0xff;
    h[9] = lo & 0xff;
  }
  if (masked) {
    const at = headerLen - 4;
    h[at] = mask >>> 24;
    h[at + 1] = (mask >>> 16) & 0xff;
    h[at + 2] = (mask >>> 8) & 0xff;
    h[at + 3] = mask & 0xff;
  }
  return h;
}

/**
 * Capture-wide index <-> row of one table: the row itself while rows and indexes agree (the
 * usual case: the pipeline numbers events from 0 and the store keeps the first ones, so no
 * map at all), else the maps' entries, which ingest.ts fills (`set`) for each row that differs.
 * Memory: two Map entries per such row (a session whose events come numbered otherwise: the
 * maps are charged nothing, as the index column they replace would have cost 4 bytes a row).
 */
export class RowIndexes {
  private toRow: Map<number, number> | null = null;
  private toIndex: Map<number, number> | null = null;

  /** Row `r` holds the event of capture-wide `index`. */
  set(r: number, index: number): void {
    if (index === r) return;
    (this.toRow ??= new Map()).set(index, r);
    (this.toIndex ??= new Map()).set(r, index);
  }

  /** Row of `index` among the table's first `length` rows, or -1. */
  row(index: number, length: number): number {
    const r = this.toRow?.get(index);
    if (r !== undefined) return r;
    return index < length && !this.toIndex?.has(index) ? index : -1;
  }

  index(r: number): number {
    return this.toIndex?.get(r) ?? r;
  }

  /** Whether every row is its index (rows.ts then copies nothing). */
  get plain(): boolean {
    return this.toIndex === null;
  }
}
