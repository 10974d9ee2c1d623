/**
 * Buffered, synchronous stdout for the CLI: bytes are assembled in one fixed buffer
 * (`SIZE`, 512 KiB) and written with `writeSync` when it fills. Synchronous writes give
 * natural back-pressure (a slow `| less` slows decoding instead of growing memory); EAGAIN on
 * a non-blocking pipe is retried after a short wait; EPIPE (`| head`) ends the process quietly.
 *
 * Callers hand in pieces of bounded size (a line of text output, one event's fields, one
 * encoded slice of a payload: see engine/cli/json.ts), so nothing is ever joined into a string
 * the size of the output. A piece larger than the buffer is written through on its own.
 *
 * The buffer is the output area of a `JsonBytes` (engine/text/json-bytes.ts) when WebAssembly
 * SIMD runs here: payloads are then JSON-escaped and base64-encoded by the module straight into
 * it (`bytes`), and written to the fd from the module's memory.
 *
 * Memory: owns its buffer (and its JsonBytes); strings and byte ranges handed in are copied
 * before the call returns (the caller may reuse or drop them).
 */
import { writeSync } from 'node:fs';
import { JsonBytes } from '../text/json-bytes';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Buffer's direct encoders (lib/buffer.js defines them on Buffer.prototype; `write(s, at, enc)`
 * is these behind argument parsing, which shows on a line of many small writes).
 */
interface Encoders {
  latin1Write(s: string, at: number): number;
  utf8Write(s: string, at: number): number;
}
const SIZE = 512 * 1024;
/** the smallest buffer: `room` callers ask for up to this many bytes at once (engine/cli/json.ts) */
export const MIN_SIZE = 1024;

export class Out {
  private readonly buf: Buffer;
  private readonly enc: Encoders;
  /** the buffer as a DataView, for encoders that write several bytes at once (see `room`) */
  readonly words: DataView;
  /** the payload encoders that write into the buffer, or null: use the JS ones */
  readonly bytes: JsonBytes | null;
  private at = 0;

  /**
   * `size`: at least MIN_SIZE. `wasm`: false keeps the buffer on the JS heap and `bytes` null
   * (tests of the JS encoders).
   */
  constructor(
    private readonly fd = 1,
    size = SIZE,
    wasm = true,
  ) {
    if (!(size >= MIN_SIZE)) throw new RangeError(`Out: a buffer of ${size} bytes (at least ${MIN_SIZE})`);
    this.bytes = wasm ? JsonBytes.create(size) : null;
    this.buf = this.bytes?.out ?? Buffer.allocUnsafe(size);
    this.enc = this.buf as unknown as Encoders;
    this.words = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** One line of text (UTF-8) and its newline. */
  line(s: string): void {
    this.utf8(s);
    this.byte(0x0a);
  }

  /** A string as UTF-8. */
  utf8(s: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit
    if (s.length * 3 > this.buf.length - this.at) {
      this.flush();
      if (s.length * 3 > this.buf.length) {
        this.writeAll(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.at += this.enc.utf8Write(s, this.at);
  }

  /**
   * A string of code units 0-255, one byte each: base64, and the JSON escaping of a byte
   * range read as latin1 (engine/cli/json.ts), which gives back the bytes themselves.
   */
  latin1(s: string): void {
    if (s.length > this.buf.length - this.at) {
      this.flush();
      if (s.length > this.buf.length) {
        this.writeAll(Buffer.from(s, 'latin1'));
        return;
      }
    }
    this.at += this.enc.latin1Write(s, this.at);
  }

  /**
   * Direct access for an encoder that writes bytes itself: the buffer, with at least `n`
   * (at most its size) bytes free from `pos`; the encoder then calls `advance`.
   */
  room(n: number): Buffer {
    if (n > this.buf.length - this.at) this.flush();
    return this.buf;
  }

  /** the buffer's size: the most `room` can promise */
  get capacity(): number {
    return this.buf.length;
  }

  get pos(): number {
    return this.at;
  }

  /** bytes free in the buffer from `pos` */
  get free(): number {
    return this.buf.length - this.at;
  }

  advance(to: number): void {
    this.at = to;
  }

  byte(b: number): void {
    if (this.at === this.buf.length) this.flush();
    this.buf[this.at++] = b;
  }

  flush(): void {
    if (this.at === 0) return;
    const n = this.at;
    this.at = 0;
    this.writeAll(this.buf.subarray(0, n));
  }

  private writeAll(buf: Uint8Array): void {
    while (buf.length) {
      try {
        const n = writeSync(this.fd, buf);
        buf = buf.subarray(n);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(sleeper, 0, 0, 2);
          continue;
        }
        if (code === 'EPIPE') process.exit(0);
        throw e;
      }
    }
  }
}
