/**
 * Skips an HTTP/1.1 message body (RFC 9112 section 6): Content-Length, chunked (section 7.1,
 * with extensions and trailers), or until the connection closes. Used for requests and
 * responses pipelined before an upgrade. Keeps no body bytes; a `sink`, when set, is shown
 * each run of body bytes in place (the payload, without the chunked framing), valid during
 * the call only.
 */

/** who is shown the body bytes (bytes[a..z) is a view, valid during the call) */
export interface BodySink {
  data(bytes: Uint8Array, a: number, z: number): void;
}

export type BodyMode = 'none' | 'length' | 'chunked' | 'eof';

const enum C {
  SIZE,
  SIZE_EXT,
  SIZE_LF,
  DATA,
  DATA_CR,
  DATA_LF,
  TRAILER_LINE,
  TRAILER_LF,
}

export class BodySkipper {
  mode: BodyMode = 'none';
  private remaining = 0;
  private c: C = C.SIZE;
  private sizeDigits = 0;
  private lineLen = 0;
  /** true when the chunked framing was broken */
  bad = false;
  sink: BodySink | null = null;

  start(mode: BodyMode, length = 0): void {
    this.mode = mode;
    this.remaining = length;
    this.c = C.SIZE;
    this.sizeDigits = 0;
    this.lineLen = 0;
    this.bad = false;
    if (mode === 'length' && length === 0) this.mode = 'none';
  }

  get done(): boolean {
    return this.mode === 'none';
  }

  /** Consume the body from bytes[start..]; returns the index where the body ended, or -1 if all was body. */
  push(bytes: Uint8Array, start: number): number {
    const end = bytes.length;
    if (this.mode === 'none') return start;
    if (this.mode === 'eof') {
      this.sink?.data(bytes, start, end);
      return -1;
    }
    if (this.mode === 'length') {
      const take = Math.min(this.remaining, end - start);
      this.sink?.data(bytes, start, start + take);
      this.remaining -= take;
      if (this.remaining === 0) {
        this.mode = 'none';
        return start + take;
      }
      return -1;
    }
    let i = start;
    while (i < end) {
      const b = bytes[i];
      switch (this.c) {
        case C.SIZE: {
          const v = hexValue(b);
          if (v >= 0) {
            if (this.sizeDigits > 13) return this.fail();
            this.remaining = this.remaining * 16 + v;
            this.sizeDigits++;
          } else if (this.sizeDigits === 0) {
            return this.fail();
          } else if (b === 0x0d) {
            this.c = C.SIZE_LF;
          } else if (b === 0x0a) {
            this.afterSizeLine();
          } else {
            this.c = C.SIZE_EXT; // chunk extensions (section 7.1.1) or whitespace
          }
          i++;
          break;
        }
        case C.SIZE_EXT:
          if (b === 0x0a) this.afterSizeLine();
          i++;
          break;
        case C.SIZE_LF:
          if (b !== 0x0a) return this.fail();
          this.afterSizeLine();
          i++;
          break;
        case C.DATA: {
          const take = Math.min(this.remaining, end - i);
          this.sink?.data(bytes, i, i + take);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.c = C.DATA_CR;
          break;
        }
        case C.DATA_CR:
          if (b === 0x0d) this.c = C.DATA_LF;
          else if (b === 0x0a) this.nextChunk();
          else return this.fail();
          i++;
          break;
        case C.DATA_LF:
          if (b !== 0x0a) return this.fail();
          this.nextChunk();
          i++;
          break;
        case C.TRAILER_LINE:
          if (b === 0x0a) {
            i++;
            if (this.lineLen === 0) {
              this.mode = 'none';
              return i;
            }
            this.lineLen = 0;
          } else {
            if (b !== 0x0d) this.lineLen++;
            i++;
          }
          break;
        default:
          i++;
      }
    }
    return -1;
  }

  private afterSizeLine(): void {
    if (this.remaining === 0) {
      this.c = C.TRAILER_LINE;
      this.lineLen = 0;
    } else {
      this.c = C.DATA;
    }
  }

  private nextChunk(): void {
    this.c = C.SIZE;
    this.sizeDigits = 0;
    this.remaining = 0;
  }

  private fail(): number {
    this.bad = true;
    this.mode = 'eof';
    return -1;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}
