/**
 * One-line previews of message payloads for the timeline: plain text, never HTML, at most
 * PREVIEW_MAX characters. Captured payloads are hostile, so everything that could hide or
 * reorder text is made visible: C0 controls become their U+2400 "control picture", DEL
 * becomes U+2421, C1 controls, bidi embeddings/overrides/isolates (the "Trojan Source"
 * characters, CVE-2021-42574) and zero-width characters become `⟨U+XXXX⟩`, as in the
 * renderer's detail views.
 * Binary payloads get a hex preview.
 *
 * Memory: reads the given bytes during the call only; returns fresh flat strings (never a
 * slice of a larger string, so a preview cannot pin a big decoded payload in memory).
 */
import { closeCodeMeaning } from '../../shared/close';

export const PREVIEW_MAX = 200;

const decoder = new TextDecoder('utf-8', { fatal: false });
/** output scratch: PREVIEW_MAX code units plus room for the ellipsis */
const scratch = new Uint16Array(PREVIEW_MAX + 8);
const HEX = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';

let cutFlag = false;
/** Whether the last preview made was cut short (set by every function here). */
export function lastPreviewCut(): boolean {
  return cutFlag;
}

/** Payload bytes a hex preview shows at most ("xx " each, within PREVIEW_MAX). */
export const HEX_PREVIEW_BYTES = Math.floor((PREVIEW_MAX - 1) / 3);

let hexFlag = false;
/**
 * Whether the last `messagePreview` was `hexPreview(data)` as a whole: the session store
 * keeps no string for such a preview and makes it again from the first HEX_PREVIEW_BYTES
 * payload bytes it keeps (engine/store/rows.ts).
 */
export function lastPreviewHex(): boolean {
  return hexFlag;
}

function invisible(c: number): boolean {
  return (
    (c >= 0x80 && c <= 0x9f) ||
    c === 0x061c ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x202a && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x2069) ||
    c === 0xfeff
  );
}

/**
 * Text preview of UTF-8 bytes (invalid sequences become U+FFFD). With `ellipsis` false a cut
 * preview gets no trailing "…" (see `lastPreviewCut`): stores keep ASCII previews as
 * one-byte strings, half the memory of a string holding U+2026.
 */
export function textPreview(data: Uint8Array, max = PREVIEW_MAX, ellipsis = true): string {
  const limit = Math.min(max, PREVIEW_MAX);
  hexFlag = false;
  // Fast path: printable ASCII only, which most JSON/text traffic is.
  const n = Math.min(data.length, limit);
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const b = data[i];
    if (b < 0x20 || b > 0x7e) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    cutFlag = data.length > limit;
    if (!cutFlag || !ellipsis) return String.fromCharCode.apply(null, data.subarray(0, n) as unknown as number[]);
    // not `s + '…'`: that makes a cons string, which the first search would have to flatten
    for (let i = 0; i < n; i++) scratch[i] = data[i];
    scratch[n] = 0x2026;
    return String.fromCharCode.apply(null, scratch.subarray(0, n + 1) as unknown as number[]);
  }
  // A code point takes at most 4 bytes: limit*4 bytes always yield >= limit characters
  // when there are that many.
  const text = decoder.decode(data.subarray(0, Math.min(data.length, limit * 4)));
  let o = 0;
  let i = 0;
  for (; i < text.length && o < limit; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) scratch[o++] = 0x2400 + c;
    else if (c === 0x7f) scratch[o++] = 0x2421;
    else if (invisible(c)) {
      // ⟨U+202E⟩, the notation of the renderer's detail views (renderer/src/lib/format.ts)
      if (o + 8 > limit) break;
      scratch[o++] = 0x27e8; // ⟨
      scratch[o++] = 0x55; // U
      scratch[o++] = 0x2b; // +
      scratch[o++] = HEX_UPPER.charCodeAt((c >> 12) & 15);
      scratch[o++] = HEX_UPPER.charCodeAt((c >> 8) & 15);
      scratch[o++] = HEX_UPPER.charCodeAt((c >> 4) & 15);
      scratch[o++] = HEX_UPPER.charCodeAt(c & 15);
      scratch[o++] = 0x27e9; // ⟩
    } else if (c >= 0xd800 && c <= 0xdbff) {
      // keep surrogate pairs together
      if (o + 2 > limit) break;
      scratch[o++] = c;
      if (i + 1 < text.length) scratch[o++] = text.charCodeAt(++i);
    } else scratch[o++] = c;
  }
  cutFlag = i < text.length || data.length > limit * 4;
  if (cutFlag && ellipsis) scratch[o++] = 0x2026;
  return String.fromCharCode.apply(null, scratch.subarray(0, o) as unknown as number[]);
}

/** "81 7e 00 ff …": as many bytes as fit in `max` characters. */
export function hexPreview(data: Uint8Array, max = PREVIEW_MAX, ellipsis = true): string {
  const bytes = Math.min(data.length, Math.floor((Math.min(max, PREVIEW_MAX) - 1) / 3));
  hexFlag = true;
  let o = 0;
  for (let i = 0; i < bytes; i++) {
    if (i > 0) scratch[o++] = 0x20;
    scratch[o++] = HEX.charCodeAt(data[i] >> 4);
    scratch[o++] = HEX.charCodeAt(data[i] & 15);
  }
  cutFlag = data.length > bytes;
  if (cutFlag && ellipsis) {
    if (o > 0) scratch[o++] = 0x20;
    scratch[o++] = 0x2026;
  }
  return String.fromCharCode.apply(null, scratch.subarray(0, o) as unknown as number[]);
}

export type PreviewKind = 'text' | 'binary' | 'close' | 'ping' | 'pong' | 'other';

export function previewKind(opcode: number): PreviewKind {
  switch (opcode) {
    case 1:
      return 'text';
    case 2:
      return 'binary';
    case 8:
      return 'close';
    case 9:
      return 'ping';
    case 10:
      return 'pong';
    default:
      return 'other';
  }
}

/**
 * The timeline preview of one message. Close: "1000 Normal Closure: reason" (RFC 6455
 * section 5.5.1: 2-byte code, then UTF-8 reason). Ping/pong and text: text when the bytes are
 * UTF-8, else hex. Binary: hex.
 */
export function messagePreview(opcode: number, data: Uint8Array, utf8Valid: boolean, code?: number, ellipsis = true): string {
  cutFlag = false;
  hexFlag = false;
  if (opcode === 8) {
    if (code === undefined || data.length < 2) return data.length === 0 ? '(no status)' : hexPreview(data, PREVIEW_MAX, ellipsis);
    const head = `${code} ${closeCodeMeaning(code)}`;
    if (data.length === 2) return head;
    return `${head}: ${textPreview(data.subarray(2), PREVIEW_MAX - head.length - 2, ellipsis)}`;
  }
  if (opcode === 1) return utf8Valid ? textPreview(data, PREVIEW_MAX, ellipsis) : hexPreview(data, PREVIEW_MAX, ellipsis);
  if (opcode === 9 || opcode === 10) return looksLikeText(data) ? textPreview(data, PREVIEW_MAX, ellipsis) : hexPreview(data, PREVIEW_MAX, ellipsis);
  return hexPreview(data, PREVIEW_MAX, ellipsis);
}

function looksLikeText(data: Uint8Array): boolean {
  const n = Math.min(data.length, 125);
  for (let i = 0; i < n; i++) {
    const b = data[i];
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return false;
  }
  return true;
}
