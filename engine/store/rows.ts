/**
 * Row readers over a SessionData: the timeline row (MessageRow of shared/api.ts) of a message
 * row, and the header fields of a frame row. Shared by the batches, the detail view and
 * replay.
 *
 * Memory: every call returns fresh objects and copies (never views into the tables, which
 * grow and move).
 */
import type { MessageRow } from '../../shared/api';
import type { FrameEvent } from '../../shared/events';
import { previewKind, type PreviewKind } from './preview';
import { FRAME, HEADER_MAX, MSG, type SessionData } from './session-data';

function kind(flags: number): PreviewKind {
  const op = flags & MSG.OPCODE;
  // text that is not valid UTF-8 is previewed as bytes
  return op === 1 && !(flags & MSG.UTF8) ? 'binary' : previewKind(op);
}

/** The timeline row of message row `r`. */
export function timelineRow(d: SessionData, r: number): MessageRow {
  const m = d.messages.cols;
  const f = m.flags[r];
  const row: MessageRow = {
    index: m.index[r],
    conn: m.conn[r],
    dir: f & MSG.SERVER ? 'server' : 'client',
    ts: m.ts[r],
    opcode: f & MSG.OPCODE,
    length: m.length[r],
    wireLength: m.wireLength[r],
    compressed: (f & MSG.COMPRESSED) !== 0,
    fin: (f & MSG.FIN) !== 0,
    rsv: (f >> MSG.RSV_SHIFT) & 7,
    masked: (f & MSG.MASKED) !== 0,
    frames: m.framesCount[r],
    truncated: (f & MSG.TRUNCATED) !== 0,
    preview: f & MSG.PREVIEW_CUT ? m.preview[r] + '…' : m.preview[r],
    kind: kind(f),
    findings: m.findings[r],
  };
  if (f & MSG.HAS_CODE) row.code = m.code[r];
  const meaning = d.app.meaning(r);
  if (meaning) row.meaning = meaning;
  return row;
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
