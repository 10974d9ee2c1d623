/**
 * Incremental HTTP/1.x message-head reader (RFC 9112 section 2): bytes are pushed in any
 * split, the head ends at the first empty line (CRLF CRLF, bare LF tolerated). Empty lines
 * before the start line are ignored (RFC 9112 section 2.2). The head is bounded: past
 * `maxBytes` the reader reports `too-big` and the caller gives up on HTTP.
 *
 * Memory: the head bytes are copied into an own buffer (heads are small); the body and
 * whatever follows the head are never copied here.
 */

export interface HttpHead {
  startLine: string;
  headers: Array<[string, string]>;
  /** bytes of the head on the wire, including the empty line */
  bytes: number;
}

export const MAX_HEAD_BYTES = 64 * 1024;

export class HeadReader {
  private buf = new Uint8Array(512);
  private len = 0;
  /** bytes on the current line so far, CR excluded */
  private lineLen = 0;
  private sawStart = false;
  private leading = 0;
  private readonly maxBytes: number;

  constructor(maxBytes = MAX_HEAD_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** bytes held so far (a head in progress) */
  get pending(): number {
    return this.len + this.leading;
  }

  /**
   * Consume from bytes[start..]. Returns the index just past the head when it completed
   * (read it with `take()`), -1 when everything was consumed without completing, -2 when the
   * head exceeded the size bound.
   */
  push(bytes: Uint8Array, start: number): number {
    const end = bytes.length;
    let i = start;
    for (; i < end; i++) {
      const c = bytes[i];
      if (!this.sawStart) {
        // RFC 9112 section 2.2: ignore at least one empty line before the start line
        if (c === 0x0d || c === 0x0a) {
          this.leading++;
          if (this.leading > 8) return -2;
          continue;
        }
        this.sawStart = true;
      }
      if (c === 0x0a) {
        if (this.lineLen === 0) {
          i++;
          this.append(bytes, start, i);
          return i;
        }
        this.lineLen = 0;
      } else if (c !== 0x0d) {
        this.lineLen++;
      }
    }
    this.append(bytes, start, end);
    if (this.len > this.maxBytes) return -2;
    return -1;
  }

  private append(bytes: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.len + n > this.buf.length) {
      const nb = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    this.buf.set(bytes.subarray(start, end), this.len);
    this.len += n;
  }

  /** Parse the completed head and reset for the next one. */
  take(): HttpHead {
    const text = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len).toString('latin1');
    const total = this.len;
    this.len = 0;
    this.lineLen = 0;
    this.sawStart = false;
    this.leading = 0;
    return parseHead(text, total);
  }

  reset(): void {
    this.len = 0;
    this.lineLen = 0;
    this.sawStart = false;
    this.leading = 0;
  }
}

export function parseHead(text: string, bytes: number): HttpHead {
  const lines = text.replace(/^[\r\n]+/, '').split(/\r?\n/);
  const startLine = lines[0] ?? '';
  const headers: Array<[string, string]> = [];
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k];
    if (line === '') break;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      // obsolete line folding (RFC 9112 section 5.2): continue the previous value
      const last = headers[headers.length - 1];
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers, bytes };
}

/** All values of a header (case-insensitive name), joined with ", " as RFC 9110 section 5.3 allows. */
export function headerValue(headers: Array<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  let out: string | undefined;
  for (let k = 0; k < headers.length; k++) {
    const n = headers[k][0];
    // names of another length are not lower-cased just to differ (a handshake looks up about
    // 30 names among its headers, in code that runs too rarely to be optimised)
    if (n.length === lower.length && n.toLowerCase() === lower) {
      const v = headers[k][1];
      out = out === undefined ? v : `${out}, ${v}`;
    }
  }
  return out;
}

/** Comma-separated tokens of a header, lower-cased. */
export function headerTokens(headers: Array<[string, string]>, name: string): string[] {
  const v = headerValue(headers, name);
  if (v === undefined) return [];
  return v
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

export interface RequestLine {
  method: string;
  target: string;
  version: string;
}

export function parseRequestLine(line: string): RequestLine | null {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S+) +(HTTP\/\d\.\d)\s*$/.exec(line);
  if (!m) return null;
  return { method: m[1], target: m[2], version: m[3] };
}

export interface StatusLine {
  version: string;
  status: number;
  text: string;
}

export function parseStatusLine(line: string): StatusLine | null {
  const m = /^(HTTP\/\d\.\d) +(\d{3})(?: (.*))?$/.exec(line);
  if (!m) return null;
  return { version: m[1], status: Number(m[2]), text: (m[3] ?? '').trim() };
}

/**
 * Could `bytes` be the start of an HTTP request (METHOD SP) or response ("HTTP/")? 'yes', 'no',
 * or 'maybe' when too few bytes are in view to tell.
 */
export function looksLikeHttpStart(bytes: Uint8Array, start: number, end: number, response: boolean): 'yes' | 'no' | 'maybe' {
  const n = end - start;
  if (response) {
    const want = 'HTTP/';
    for (let k = 0; k < want.length; k++) {
      if (k >= n) return 'maybe';
      if (bytes[start + k] !== want.charCodeAt(k)) return 'no';
    }
    return 'yes';
  }
  // methods are upper-case tokens in practice (GET, POST, OPTIONS, PROPFIND...)
  for (let k = 0; k < 17; k++) {
    if (k >= n) return 'maybe';
    const c = bytes[start + k];
    if (c === 0x20) return k >= 3 ? 'yes' : 'no';
    if (c < 0x41 || c > 0x5a) {
      if (!(c === 0x2d || c === 0x5f)) return 'no';
    }
  }
  return 'no';
}
