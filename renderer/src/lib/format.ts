/**
 * Pure formatting helpers for the renderer. Every string that comes from a capture goes
 * through `visibleText` before it reaches a template, so control and bidi characters stay
 * visible (a U+202E in a payload must not reorder the row it sits in). Nothing here builds
 * HTML or URLs. Inputs are never mutated; outputs are fresh strings.
 */
import { bytesToBase64 } from '../../../shared/wire';

/** Largest string put into one DOM text node; bigger texts are split and paged ("show more"). */
export const TEXT_CHUNK = 64 * 1024;

// C0 controls (tab/LF/CR handled separately), DEL, C1 controls, bidi embeddings, overrides and
// isolates (U+202A..U+202E, U+2066..U+2069), marks (U+200E/F, U+061C), zero-width chars,
// line/paragraph separators, BOM and interlinear annotation chars.
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
const INVISIBLE_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

function showChar(ch: string): string {
  const c = ch.charCodeAt(0);
  // Control Pictures block (U+2400..U+241F) mirrors C0 one to one; U+2421 is DEL.
  if (c < 0x20) return String.fromCharCode(0x2400 + c);
  if (c === 0x7f) return '\u2421';
  return `\u27e8U+${c.toString(16).toUpperCase().padStart(4, '0')}\u27e9`;
}

/**
 * Makes every invisible or reordering character visible. With `singleLine`, tab, LF and CR
 * become their control pictures too (timeline rows, table cells).
 */
export function visibleText(s: string, singleLine = false): string {
  return s.replace(singleLine ? INVISIBLE_OR_BREAK : INVISIBLE, showChar);
}

/** Splits a long string into chunks of at most `size` UTF-16 units. */
export function chunks(s: string, size = TEXT_CHUNK): string[] {
  if (s.length <= size) return [s];
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
export function decodeUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function hexByte(b: number): string {
  return HEX[b & 0xff];
}

/** Space-separated hex of at most `limit` bytes (mask keys, short headers). */
export function hexBytes(b: Uint8Array, limit = b.length): string {
  const n = Math.min(limit, b.length);
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = HEX[b[i]];
  return parts.join(' ');
}

/**
 * Classic hex dump lines ("00000010  48 65 6c 6c  ...  |Hell...|") for bytes [from, to),
 * `perRow` bytes a line (16, or 8 or 4 in a narrow pane, so the ASCII column stays in view;
 * a gap after every 8). Only printable ASCII appears in the right column, so no payload byte
 * can act as markup.
 */
export function hexDumpLines(b: Uint8Array, from = 0, to = b.length, perRow = 16): string[] {
  const end = Math.min(to, b.length);
  const lines: string[] = [];
  for (let off = from; off < end; off += perRow) {
    let hex = '';
    let asc = '';
    for (let i = 0; i < perRow; i++) {
      const p = off + i;
      const gap = i === 7 && perRow > 8 ? ' ' : '';
      if (p < end) {
        const v = b[p];
        hex += HEX[v] + ' ' + gap;
        asc += v >= 0x20 && v < 0x7f ? String.fromCharCode(v) : '.';
      } else {
        hex += '   ' + gap;
      }
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${asc}|`);
  }
  return lines;
}

/** Characters of one hexDumpLines line for `perRow` bytes (the width it needs). */
export function hexDumpLineChars(perRow: number): number {
  return 8 + 2 + 3 * perRow + (perRow > 8 ? 1 : 0) + 1 + perRow + 2;
}

/**
 * The printable-ASCII reading of a hex preview ("48 69 00 …" -> "Hi."), as Chrome DevTools
 * shows beside a binary message; null when `preview` is not a hex preview.
 */
export function hexPreviewAscii(preview: string): string | null {
  const m = /^([0-9a-f]{2}(?: [0-9a-f]{2})*)(?: \u2026)?$/.exec(preview);
  if (!m) return null;
  let out = '';
  for (let i = 0; i < m[1].length; i += 3) {
    const v = parseInt(m[1].slice(i, i + 2), 16);
    out += v >= 0x20 && v < 0x7f ? String.fromCharCode(v) : '.';
  }
  return preview.endsWith('\u2026') ? out + '\u2026' : out;
}

/**
 * Cuts `s` to at most `max` characters by taking out its middle ("ws://host/a…/b/c"), so both
 * the scheme and host and the distinguishing tail stay visible.
 */
export function middleEllipsis(s: string, max: number): string {
  if (s.length <= max || max < 5) return s;
  const tail = Math.ceil((max - 1) / 2);
  const head = max - 1 - tail;
  return `${s.slice(0, head)}\u2026${s.slice(s.length - tail)}`;
}

/** Column heads over maskedDumpLines of `perRow` bytes a line. */
export function maskedDumpHeader(perRow = 8): string {
  const w = 3 * perRow;
  const wire = w > 20 ? 'masked (on the wire)' : 'masked';
  return `offset  ${wire.padEnd(w)}\u2502 ${'unmasked'.padEnd(w)}text`;
}

/** Characters of one maskedDumpLines line for `perRow` bytes. */
export function maskedDumpLineChars(perRow: number): number {
  return 6 + 2 + 3 * perRow + 2 + 3 * perRow + 1 + perRow;
}

/**
 * Masked and unmasked bytes side by side, `perRow` (8, or 4 in a narrow pane) per line:
 * offset, wire (masked) hex, unmasked hex, unmasked printable ASCII. Both arrays are read up
 * to the shorter one's length.
 */
export function maskedDumpLines(wire: Uint8Array, plain: Uint8Array, from = 0, to = Math.min(wire.length, plain.length), perRow = 8): string[] {
  const end = Math.min(to, wire.length, plain.length);
  const lines: string[] = [];
  for (let off = from; off < end; off += perRow) {
    let a = '';
    let b = '';
    let asc = '';
    for (let i = 0; i < perRow; i++) {
      const p = off + i;
      if (p < end) {
        a += HEX[wire[p]] + ' ';
        b += HEX[plain[p]] + ' ';
        asc += plain[p] >= 0x20 && plain[p] < 0x7f ? String.fromCharCode(plain[p]) : '.';
      } else {
        a += '   ';
        b += '   ';
      }
    }
    lines.push(`${off.toString(16).padStart(6, '0')}  ${a}\u2502 ${b} ${asc}`);
  }
  return lines;
}

/**
 * Bytes per hex dump line that fit `widthPx` with characters `charPx` wide: the largest of
 * 16, 8 and 4 (4 even when nothing fits), so the ASCII column is never scrolled out of view.
 */
export function bytesPerRow(widthPx: number, charPx: number, lineChars: (perRow: number) => number, widest = 16): number {
  for (const n of [16, 8, 4]) if (n <= widest && lineChars(n) * charPx <= widthPx) return n;
  return 4;
}

export function toBase64(b: Uint8Array): string {
  return bytesToBase64(b);
}

const nf = new Intl.NumberFormat('en-US');
export function formatInt(n: number): string {
  return nf.format(n);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

const p2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** Absolute local wall-clock time with microseconds, like Wireshark's default column. */
export function formatAbsTime(ts: number): string {
  const ms = Math.floor(ts * 1000);
  const d = new Date(ms);
  const micro = Math.round((ts - Math.floor(ts)) * 1e6) % 1e6;
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(micro).padStart(6, '0')}`;
}

/** Seconds since `t0`, six decimals. */
export function formatRelTime(ts: number, t0: number): string {
  return (ts - t0).toFixed(6);
}

/** A time difference in seconds with six decimals (a delta-time column, like Wireshark's). */
export function formatDelta(sec: number): string {
  return sec.toFixed(6);
}

/** A duration for people: "850 µs", "12.4 ms", "1.25 s". */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  if (sec < 1e-3) return `${Math.round(sec * 1e6)} µs`;
  if (sec < 1) return `${(sec * 1e3).toFixed(sec < 0.01 ? 2 : 1)} ms`;
  if (sec < 120) return `${sec.toFixed(2)} s`;
  return `${(sec / 60).toFixed(1)} min`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '–';
  return `${((100 * part) / whole).toFixed(1)} %`;
}

export function formatRatio(a: number, b: number): string {
  if (b <= 0 || a <= 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}
