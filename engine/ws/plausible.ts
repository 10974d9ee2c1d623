/**
 * Is there a believable WebSocket frame header at a given offset? Used to resynchronise after
 * lost bytes, to pick up a connection mid-stream, and by the pipeline to guess roles without a
 * SYN. Deliberately conservative (RFC 6455 section 5.2): a defined opcode, RSV2/RSV3 clear,
 * RSV1 only where permessage-deflate may be in use and never on control frames, control frames
 * final and at most 125 bytes, the minimal length encoding, a length under 2^31, and the mask
 * bit the direction requires. When the whole candidate frame is in view, the byte after it must
 * also start a plausible frame (or the view must end there).
 *
 * Pure functions over the caller's bytes; nothing is kept.
 */

export interface Expectation {
  /** required mask bit; null = either (role unknown) */
  masked: boolean | null;
  /** RSV1 may be set on a first data frame */
  rsv1: boolean;
  /** accept continuation frames as a starting point */
  continuation: boolean;
}

const MAX_SANE = 0x7fffffff;
const SMALL_FRAME = 4096;

/** header length if plausible, 0 if not, -1 if the header is not complete in view */
export function plausibleHeaderAt(b: Uint8Array, i: number, end: number, exp: Expectation): number {
  if (i >= end) return -1;
  const b0 = b[i];
  if (!firstBytePlausible(b0, exp)) return 0;
  if (i + 1 >= end) return -1;
  const b1 = b[i + 1];
  const masked = (b1 & 0x80) !== 0;
  if (exp.masked !== null && masked !== exp.masked) return 0;
  const len7 = b1 & 0x7f;
  const control = (b0 & 0x08) !== 0;
  if (control && len7 > 125) return 0;
  const hl = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
  if (i + hl > end) return -1;
  if (len7 === 126) {
    if (((b[i + 2] << 8) | b[i + 3]) < 126) return 0;
  } else if (len7 === 127) {
    if (b[i + 2] | b[i + 3] | b[i + 4] | b[i + 5]) return 0;
    const lo = ((b[i + 6] << 24) | (b[i + 7] << 16) | (b[i + 8] << 8) | b[i + 9]) >>> 0;
    if (lo < 65536 || lo > MAX_SANE) return 0;
  }
  return hl;
}

export function firstBytePlausible(b0: number, exp: Expectation): boolean {
  if (b0 & 0x30) return false; // RSV2, RSV3: no registered extension uses them
  const op = b0 & 0x0f;
  if (op === 0) {
    if (!exp.continuation || (b0 & 0x40)) return false;
  } else if (op === 1 || op === 2) {
    if ((b0 & 0x40) && !exp.rsv1) return false;
  } else if (op === 8 || op === 9 || op === 10) {
    if ((b0 & 0xc0) !== 0x80) return false; // FIN set, RSV1 clear
  } else {
    return false;
  }
  return true;
}

/** payload length of the plausible header at i (call only after plausibleHeaderAt > 0) */
export function payloadLengthAt(b: Uint8Array, i: number): number {
  const len7 = b[i + 1] & 0x7f;
  if (len7 === 126) return (b[i + 2] << 8) | b[i + 3];
  if (len7 === 127) return ((b[i + 6] << 24) | (b[i + 7] << 16) | (b[i + 8] << 8) | b[i + 9]) >>> 0;
  return len7;
}

/**
 * A frame start at i that is plausible and, when the frame ends inside the view, is followed by
 * a plausible header. Returns 1 = yes, 0 = no, -1 = need more bytes to tell.
 * `mustFit`: the whole frame must be in view (strict detection). `sureNext`: wait (-1) when
 * the following header is cut by the end of the view, or when a small frame (up to 4 KiB)
 * runs past it, rather than judge on less.
 */
export function frameStartAt(b: Uint8Array, i: number, end: number, exp: Expectation, mustFit: boolean, sureNext = false): number {
  const hl = plausibleHeaderAt(b, i, end, exp);
  if (hl <= 0) return hl;
  const next = i + hl + payloadLengthAt(b, i);
  if (next === end) return 1;
  // a small frame running past the view is cheap to wait for; a big one is taken on its header
  if (next > end) return mustFit || (sureNext && next - i <= SMALL_FRAME) ? -1 : 1;
  const after: Expectation = { masked: (b[i + 1] & 0x80) !== 0, rsv1: exp.rsv1, continuation: true };
  const r = plausibleHeaderAt(b, next, end, after);
  if (r === 0) return 0;
  if (r === -1) return mustFit || sureNext ? -1 : 1;
  return 1;
}

/**
 * First offset in [from, end) where a frame plausibly starts; -1 if none. `pending` receives
 * the first offset where the answer depends on bytes not yet in view (or -1).
 */
export function findFrameStart(
  b: Uint8Array,
  from: number,
  end: number,
  exp: Expectation,
  mustFit: boolean,
  pending: { at: number },
  sureNext = false,
): number {
  pending.at = -1;
  for (let i = from; i < end; i++) {
    if (!firstBytePlausible(b[i], exp)) continue;
    const r = frameStartAt(b, i, end, exp, mustFit, sureNext);
    if (r === 1) return i;
    if (r === -1 && pending.at < 0) pending.at = i;
  }
  return -1;
}

/**
 * Used by the pipeline to infer roles without a SYN: do these bytes (the start of a
 * direction's data) begin with a WebSocket frame? Strict: the header must be complete and,
 * when the frame ends in view, be followed by another plausible frame or the end.
 */
export function looksLikeWebSocketStart(bytes: Uint8Array): { masked: boolean } | null {
  const exp: Expectation = { masked: null, rsv1: true, continuation: false };
  const r = frameStartAt(bytes, 0, bytes.length, exp, false);
  if (r !== 1) return null;
  return { masked: (bytes[1] & 0x80) !== 0 };
}
