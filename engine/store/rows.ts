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
import { lastPreviewCut, messagePreview, PREVIEW_MAX, previewKind, type PreviewKind } from './preview';
import { PayloadCursor } from './payload-store';
import { BIG, FRAME, MSG, WIDE, type SessionData } from './session-data';

function kind(flags: number): PreviewKind {
  const op = flags & MSG.OPCODE;
  // text that is not valid UTF-8 is previewed as bytes
  return op === 1 && !(flags & MSG.UTF8) ? 'binary' : previewKind(op);
}

/** The timeline row bits (shared/row-block.ts ROW_BITS) of message flags `f`. */
function rowBits(f: number): number {
  return (f & ROW_BITS_COMMON_MASK) | (f & MSG.HAS_CODE ? ROW_BITS.HAS_CODE : 0) | (KIND_ID[kind(f)] << ROW_BITS.KIND_SHIFT);
}

/**
 * Payload bytes a preview reads at most (preview.ts: a text preview decodes up to 4 bytes for
 * each of its PREVIEW_MAX characters, a close preview 2 more for the code): the preview of the
 * first PREVIEW_BYTES bytes of a payload is the preview of the whole payload.
 */
export const PREVIEW_BYTES = 4 * PREVIEW_MAX + 2;

/**
 * The preview of message row `r` without the ellipsis of a cut one (whether it was cut is kept
 * for shownPreview), from its stored string or made again from its payload's first bytes, read
 * through `cursor` (the store kept them whole: ingest.ts). The cursor may move.
 */
export function previewAt(d: SessionData, r: number, cursor: PayloadCursor): string {
  const m = d.messages.cols;
  const f = m.flags.get(r);
  if (f & MSG.PREVIEW_KEPT) {
    cut = (f & MSG.PREVIEW_CUT) !== 0;
    return m.preview.get(r);
  }
  let bytes: Uint8Array;
  try {
    const n = Math.min(d.messageKept(r), PREVIEW_BYTES);
    const at = cursor.seek(d.messageOffset(r), n);
    bytes = cursor.block.subarray(at, at + n);
  } catch {
    // the spill file could not be read back (an I/O error, the store closed): a row without
    // its preview, rather than a batch or a call that fails whole
    cut = false;
    return '';
  }
  const p = messagePreview(f & MSG.OPCODE, bytes, (f & MSG.UTF8) !== 0, f & MSG.HAS_CODE ? m.code.get(r) : undefined, false);
  cut = lastPreviewCut();
  return p;
}

/** whether the last previewAt was cut */
let cut = false;

/** The preview of message row `r` as the timeline shows it (a cut one ends in "…", without the space hexPreview puts before its own). */
function shownPreview(d: SessionData, r: number, cursor: PayloadCursor): string {
  const p = previewAt(d, r, cursor);
  return cut ? p + '…' : p;
}

/** The timeline row of message row `r`. */
export function timelineRow(d: SessionData, r: number): MessageRow {
  const m = d.messages.cols;
  const row = makeRow(rowBits(m.flags.get(r)), d.messageIndex(r), m.conn.get(r), m.ts.get(r), d.messageLength(r), d.messageWireLength(r), d.messageFrameCount(r), m.findings.get(r), m.code.get(r), shownPreview(d, r, new PayloadCursor(d.payloads)));
  const meaning = d.app.meaning(r);
  if (meaning) row.meaning = meaning;
  return row;
}

/**
 * Message rows [from, end) by column: the same rows `timelineRow` makes, without an object each;
 * fewer when their previews pass `maxChars` characters (at least one row), so that one block's
 * strings stay bounded however long its previews are (`count` says how many).
 */
export function rowBlock(d: SessionData, from: number, end: number, maxChars = Infinity): RowBlock {
  const previews: string[] = [];
  const cursor = new PayloadCursor(d.payloads);
  let chars = 0;
  for (let r = from; r < end && (chars < maxChars || r === from); r++) {
    const p = shownPreview(d, r, cursor);
    chars += p.length + 1;
    previews.push(p);
  }
  const n = previews.length;
  end = from + n;
  const { cols, seal } = allocRows(n);
  const m = d.messages.cols;
  m.ts.copyTo(cols.ts, from, end);
  m.length.copyTo(cols.length, from, end);
  m.wireLength.copyTo(cols.wireLength, from, end);
  if (d.bigLengths.size > 0) {
    for (let i = 0; i < n; i++) {
      if (cols.length[i] === BIG) cols.length[i] = d.messageLength(from + i);
      if (cols.wireLength[i] === BIG) cols.wireLength[i] = d.messageWireLength(from + i);
    }
  }
  m.conn.copyTo(cols.conn, from, end);
  m.framesCount.copyTo(cols.frames, from, end);
  m.code.copyTo(cols.code, from, end);
  m.findings.copyTo(cols.findings, from, end);
  for (let i = 0; i < n; i++) {
    cols.index[i] = d.messageIndex(from + i);
    if (cols.frames[i] === WIDE) cols.frames[i] = d.messageFrameCount(from + i);
    cols.bits[i] = rowBits(m.flags.get(from + i));
    cols.preview[i] = previews[i];
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
  const flags = f.flags.get(fr);
  const header = d.frameHeader(fr);
  const hl = header.length;
  const masked = (flags & FRAME.MASKED) !== 0;
  return {
    index: d.frameIndex(fr),
    ts: f.ts.get(fr),
    fin: (flags & FRAME.FIN) !== 0,
    rsv1: (flags & FRAME.RSV1) !== 0,
    rsv2: (flags & FRAME.RSV2) !== 0,
    rsv3: (flags & FRAME.RSV3) !== 0,
    opcode: flags & FRAME.OPCODE,
    masked,
    maskKey: masked && hl >= 6 ? Buffer.from(header.subarray(hl - 4, hl)).toString('hex') : '',
    length: d.frameLength(fr),
    header,
  };
}
