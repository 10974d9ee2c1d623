/**
 * The data of one loaded capture, as the session store keeps it: the tables every view of
 * the store reads, the bit layout of their flag columns, and index -> row addressing.
 *
 *  - connections: one record per connection (its ConnectionRow of shared/api.ts, upserted,
 *    plus the events replay needs), in first-seen order; past the first QUIET_ROWS
 *    connections, a connection that carried nothing yet waits in `quiet` (its event only) and
 *    gets its record with its first other event; one that ends before it had any is counted in
 *    `unlisted`, not kept (a flood of SYNs or of empty connections; see "Bounds");
 *  - messages, frames, datagrams: column tables (shared/column-table.ts), one row per event,
 *    one preview string per message; a message's frames are a run of `msgFrames`;
 *  - payload bytes (message data, frame wire payloads) live in a PayloadStore (memory up to a
 *    budget, older bytes spilled to a temp file, all of it up to a limit), the rows keep
 *    (offset, length kept); a cut payload's message is marked TRUNCATED;
 *  - the event log: (type, row) per event, 5 bytes each, so exports replay the original
 *    order exactly;
 *  - change marks (`dirty` connections, `changed`) that batches.ts turns into UI batches;
 *  - `app` (app-index.ts): each message's decoded packets and reply links, each connection's
 *    TLS facts and HTTP/2 carriage, the plain HTTP/2 requests.
 *
 * Writers and readers: ingest.ts is the only writer (and batches.ts clears the change marks);
 * rows.ts, batches.ts, query.ts, detail.ts, stats.ts and replay.ts only read. Single-threaded,
 * synchronous.
 *
 * Bounds: each column table holds at most `maxRows` rows (default DEFAULT_MAX_ROWS, 16.7 M:
 * about 1.3 GB of message columns and as much for frames), `msgFrames` twice that and the
 * event log four times that (every stored event takes one log row). An event that does not
 * fit is dropped whole and counted in `dropped`: the store stops growing rather than the
 * process running out of memory. Findings are kept up to `maxFindings` rows (default
 * DEFAULT_MAX_FINDINGS), the store's own findings always; past it a finding is counted on its
 * connection's row and in `findingsNotKept`, which the `findings-not-listed` finding reports
 * at the summary. Handshakes are a plain array (one per connection at most). Connection records
 * (about 700 bytes each with their batch copies) are kept for every connection that carried
 * something, and for the first QUIET_ROWS others; past that a connection that carried nothing
 * costs nothing once it ended (`unlisted` counts it, and the `connections-not-listed` finding
 * gives the count at the summary) and one Map entry while it is open: `quiet` holds at most
 * QUIET_PENDING_MAX (the pipeline tracks at most DEFAULT_MAX_FLOWS TCP flows at once, so a
 * flood never reaches it), over which the oldest is given its record.
 *
 * Memory: the tables own their arrays; handshake, connection, finding and summary events are
 * kept as given (they are small and structured-clone safe, the pipeline does not reuse them).
 */
import type { ConnectionEndEvent, ConnectionEvent, HandshakeEvent, SummaryEvent } from '../../shared/events';
import type { ConnectionRow, FindingRow } from '../../shared/api';
import { ColumnTable, DEFAULT_MAX_ROWS } from '../../shared/column-table';
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
  /** the stored preview was cut: rows get a trailing "…" (stored previews stay one-byte strings) */
  PREVIEW_CUT: 1 << 17,
  /** a text message whose preview is its payload byte for byte (printable ASCII, not cut) */
  VERBATIM: 1 << 18,
  /**
   * a hex preview (preview.ts lastPreviewHex) kept as no string: rows.ts makes it again from
   * the first HEX_PREVIEW_BYTES payload bytes, which the payload store kept
   */
  HEX_LAZY: 1 << 19,
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
} as const;

/** RFC 6455 section 5.2: 2 bytes, 8 of extended length, 4 of masking key at most */
export const HEADER_MAX = 14;

/** Event log types. */
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

export function sevBit(sev: string): number {
  return sev === 'error' ? MSG.SEV_ERROR : sev === 'warning' ? MSG.SEV_WARNING : MSG.SEV_INFO;
}

const MESSAGE_COLUMNS = {
  /** capture-wide message index (MessageEvent.index) */
  index: 'u32',
  conn: 'u32',
  ts: 'f64',
  flags: 'u32',
  length: 'f64',
  wireLength: 'f64',
  /** header bytes of the message's frames */
  headerBytes: 'u32',
  packet: 'u32',
  code: 'u16',
  findings: 'u32',
  /** the message's frame indexes are msgFrames rows [framesStart, framesStart + framesCount) */
  framesStart: 'u32',
  framesCount: 'u32',
  dataOff: 'f64',
  dataLen: 'u32',
  preview: 'str',
} as const;

const FRAME_COLUMNS = {
  index: 'u32',
  conn: 'u32',
  ts: 'f64',
  flags: 'u32',
  length: 'f64',
  headerLen: 'u8',
  header: ['u8', HEADER_MAX],
  packet: 'u32',
  firstPacket: 'u32',
  wireOff: 'f64',
  wireLen: 'u32',
  /** message row the frame belongs to, -1 until its message arrives */
  msg: 'i32',
  findingSev: 'u32',
  findings: 'u32',
} as const;

/**
 * Connections listed as soon as they are announced, whatever they carry: a capture with fewer
 * connections shows every one of them at once, as it always did.
 */
export const QUIET_ROWS = 10_000;
/** Most connections waiting in SessionData.quiet (see the bounds above). */
export const QUIET_PENDING_MAX = 65_536;

const DATAGRAM_COLUMNS = { conn: 'u32', ts: 'f64', server: 'u8', length: 'u32', packet: 'u32' } as const;
const LOG_COLUMNS = { type: 'u8', ref: 'u32' } as const;
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
  /** most finding rows kept (default DEFAULT_MAX_FINDINGS); see the bounds above */
  maxFindings: number;
}

/**
 * Finding rows a session keeps: the decoder lists each finding id at most 20 times per
 * connection, so only a capture of very many connections reaches it (50,000 rows: about
 * 20 MB here and as much in the UI).
 */
export const DEFAULT_MAX_FINDINGS = 50_000;

export class SessionData {
  readonly payloads: PayloadStore;
  readonly conns = new Map<number, ConnRec>();
  readonly connOrder: number[] = [];
  /**
   * Connections announced past the first QUIET_ROWS that carried nothing yet (no record, no
   * log row), in announcement order: ingest.ts gives one its record with its first other
   * event, or counts it in `unlisted` when it ends first.
   */
  readonly quiet = new Map<number, ConnectionEvent>();
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
  readonly app = new AppIndex();
  /** the decoder the user chose per connection (copied onto its row) */
  decodeAs: Readonly<Record<number, string>> = {};
  /** highest packet number the events named */
  packets = 0;

  readonly messages: ColumnTable<typeof MESSAGE_COLUMNS>;
  readonly frames: ColumnTable<typeof FRAME_COLUMNS>;
  readonly msgFrames: ColumnTable<typeof MSG_FRAME_COLUMNS>;
  readonly datagrams: ColumnTable<typeof DATAGRAM_COLUMNS>;
  readonly log: ColumnTable<typeof LOG_COLUMNS>;
  /** message index -> row, only once indexes stopped being equal to rows */
  messageRowOf: Map<number, number> | null = null;
  frameRowOf: Map<number, number> | null = null;
  /** events dropped because a table was full */
  dropped = 0;
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
    this.messages = new ColumnTable(MESSAGE_COLUMNS, { maxRows });
    this.frames = new ColumnTable(FRAME_COLUMNS, { maxRows });
    this.msgFrames = new ColumnTable(MSG_FRAME_COLUMNS, { maxRows: 2 * maxRows });
    this.datagrams = new ColumnTable(DATAGRAM_COLUMNS, { maxRows });
    this.log = new ColumnTable(LOG_COLUMNS, { maxRows: 4 * maxRows });
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
    return rowOf(this.messageRowOf, this.messages.cols.index, this.messages.length, index);
  }

  /** Row of frame `index`, or -1. */
  frameRow(index: number): number {
    return rowOf(this.frameRowOf, this.frames.cols.index, this.frames.length, index);
  }
}

/**
 * Row of capture-wide `index`: the row itself while rows and indexes agree (the usual case,
 * no map at all), else the map's entry, which ingest.ts fills from the first row that differs.
 */
function rowOf(map: Map<number, number> | null, indexes: Uint32Array, length: number, index: number): number {
  const r = map?.get(index);
  if (r !== undefined) return r;
  return index < length && indexes[index] === index ? index : -1;
}
