/**
 * Row readers over a SessionData: the timeline row (MessageRow of shared/api.ts) of a message
 * row, the timeline rows of a range by column (shared/row-block.ts), and the header fields of
 * a frame row. Shared by the batches, the detail view and replay.
 *
 * Memory: every call returns fresh objects and copies (never views into the tables, which
 * grow and move).
 */
import type { MessageRow, RowBlock } from '../../shared/api';
import { allocRows, KIND_ID, makeRow, ROW_BITS, ROW_BITS_COMMON_MASK } from '../../shared/row-block';
import type { FrameEvent } from '../../shared/events';
import { HEX_PREVIEW_BYTES, hexPreview, PREVIEW_MAX, previewKind, type PreviewKind } from './preview';
import { FRAME, HEADER_MAX, MSG, type SessionData } from './session-data';

function kind(flags: number): PreviewKind {
  const op = flags & MSG.OPCODE;
  // text that is not valid UTF-8 is previewed as bytes
  return op === 1 && !(flags & MSG.UTF8) ? 'binary' : previewKind(op);
}

/** The timeline row bits (shared/row-block.ts ROW_BITS) of message flags `f`. */
function rowBits(f: number): number {
  return (f & ROW_BITS_COMMON_MASK) | (f & MSG.HAS_CODE ? ROW_BITS.HAS_CODE : 0) | (KIND_ID[kind(f)] << ROW_BITS.KIND_SHIFT);
}

/** The preview of message row `r` as the timeline shows it. */
function shownPreview(d: SessionData, r: number): string {
  const m = d.messages.cols;
  const f = m.flags[r];
  const p = f & MSG.HEX_LAZY ? lazyHex(d, r) : m.preview[r];
  return f & MSG.PREVIEW_CUT ? p + '…' : p;
}

/** The hex preview of message row `r` (MSG.HEX_LAZY), from the payload bytes the store kept. */
function lazyHex(d: SessionData, r: number): string {
  const m = d.messages.cols;
  const n = Math.min(m.dataLen[r], HEX_PREVIEW_BYTES);
  // a view of the bytes in memory, else a copy from the spill file
  const c = d.payloads.chunkAt(m.dataOff[r]);
  const at = c ? m.dataOff[r] - c.start : 0;
  let bytes: Uint8Array;
  try {
    bytes = c && at + n <= c.bytes.length ? c.bytes.subarray(at, at + n) : d.payloads.read(m.dataOff[r], n);
  } catch {
    // the spill file could not be read back (an I/O error, the store closed): a row without
    // its preview, rather than a batch or a call that fails whole
    return '';
  }
  return hexPreview(bytes, PREVIEW_MAX, false);
}

/** The timeline row of message row `r`. */
export function timelineRow(d: SessionData, r: number): MessageRow {
  const m = d.messages.cols;
  const row = makeRow(rowBits(m.flags[r]), m.index[r], m.conn[r], m.ts[r], m.length[r], m.wireLength[r], m.framesCount[r], m.findings[r], m.code[r], shownPreview(d, r));
  const meaning = d.app.meaning(r);
  if (meaning) row.meaning = meaning;
  return row;
}

/** Message rows [from, end) by column: the same rows `timelineRow` makes, without an object each. */
export function rowBlock(d: SessionData, from: number, end: number): RowBlock {
  const n = Math.max(0, end - from);
  const { cols, seal } = allocRows(n);
  const m = d.messages.cols;
  cols.ts.set(m.ts.subarray(from, end));
  cols.length.set(m.length.subarray(from, end));
  cols.wireLength.set(m.wireLength.subarray(from, end));
  cols.index.set(m.index.subarray(from, end));
  cols.conn.set(m.conn.subarray(from, end));
  cols.frames.set(m.framesCount.subarray(from, end));
  cols.findings.set(m.findings.subarray(from, end));
  cols.code.set(m.code.subarray(from, end));
  for (let i = 0; i < n; i++) {
    cols.bits[i] = rowBits(m.flags[from + i]);
    cols.preview[i] = shownPreview(d, from + i);
    cols.meaning[i] = d.app.meaning(from + i);
  }
  return seal();
}

/** What a frame's event and its detail-pane view have in common. */
export type FrameFields = Pick<FrameEvent, 'index' | 'ts' | 'fin' | 'rsv1' | 'rsv2' | 'rsv3' | 'opcode' | 'masked' | 'maskKey' | 'length' | 'header'>;

/**
 * The header fields of frame row `fr`: its bits, a copy of its header bytes, and its masking
 * key in hex as FrameEvent.maskKey has it ('' when unmasked; the key bytes are the header's
 * last 4, RFC 6455 section 5.2).
 */
export function frameFields(d: SessionData, fr: number): FrameFields {
  const f = d.frames.cols;
  const flags = f.flags[fr];
  const hl = f.headerLen[fr];
  const header = f.header.slice(fr * HEADER_MAX, fr * HEADER_MAX + hl);
  const masked = (flags & FRAME.MASKED) !== 0;
  return {
    index: f.index[fr],
    ts: f.ts[fr],
    fin: (flags & FRAME.FIN) !== 0,
    rsv1: (flags & FRAME.RSV1) !== 0,
    rsv2: (flags & FRAME.RSV2) !== 0,
    rsv3: (flags & FRAME.RSV3) !== 0,
    opcode: flags & FRAME.OPCODE,
    masked,
    maskKey: masked && hl >= 6 ? Buffer.from(header.subarray(hl - 4, hl)).toString('hex') : '',
    length: f.length[fr],
    header,
  };
}
