/**
 * HTTP/2 framing (RFC 9113 section 4): one direction's ordered bytes in, whole frames out.
 * Push-based and resumable: `push(chunk)` may end anywhere (mid-header, mid-payload, one byte
 * at a time); "not enough bytes yet" is a plain return. It never throws on input: broken
 * framing is reported once through `sink.broken` and the direction stops (HTTP/2 has no
 * way to find the next frame boundary after a lost or nonsense frame header).
 *
 * The client direction starts with the connection preface (RFC 9113 section 3.4), which is
 * checked and passed over; the server's first frame must be SETTINGS (the layer checks).
 *
 * Frame types are not interpreted here except for what bounds and padding need: every type
 * is handed on (unknown ones included, RFC 9113 section 4.1 says to ignore them; the layer
 * does), with DATA, HEADERS and PUSH_PROMISE padding removed (section 6.1) and HEADERS'
 * priority fields (section 6.2) left to `headerBlockOf`.
 *
 * Memory: the 9-byte header is copied; a payload is handed on as a view of the pushed chunk
 * when it lies in one chunk, else it is copied into a buffer of exactly its length. A frame
 * over `maxFrame` (a hard cap, default 1 MiB; the wire format allows 16 MiB) is not buffered:
 * its payload is skipped as it passes and `sink.oversized` says how many bytes were lost.
 * Views handed to the sink are valid during the call only.
 */
import type { ChunkMeta } from '../types';

/** RFC 9113 section 3.4 */
export const PREFACE = new TextEncoder().encode('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Frame types (RFC 9113 section 6) */
export const DATA = 0x0;
export const HEADERS = 0x1;
export const PRIORITY = 0x2;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PUSH_PROMISE = 0x5;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
export const CONTINUATION = 0x9;

/** Flags */
export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;
export const PADDED = 0x8;
export const PRIORITY_FLAG = 0x20;

/** frames buffered whole up to this size by default */
export const DEFAULT_MAX_FRAME = 1 << 20;

export interface H2Frame {
  type: number;
  flags: number;
  stream: number;
  /** the payload without padding (a view, valid during the call) */
  payload: Uint8Array;
  /** the length field: payload on the wire, padding included */
  length: number;
}

export interface FrameSink {
  frame(f: H2Frame, meta: ChunkMeta): void;
  /** a frame over the cap: its `length` payload bytes were skipped, not handed on */
  oversized(type: number, flags: number, stream: number, length: number, meta: ChunkMeta): void;
  /** the framing is broken (bad preface, bad padding): nothing more comes from this direction */
  broken(text: string, meta: ChunkMeta): void;
}

const S_PREFACE = 0;
const S_HEADER = 1;
const S_PAYLOAD = 2;
const S_SKIP = 3;
const S_DEAD = 4;

export class FrameReader {
  private state: number = S_HEADER;
  private readonly head = new Uint8Array(9);
  private have = 0;
  private type = 0;
  private flags = 0;
  private stream = 0;
  private length = 0;
  /** the payload being gathered across chunks (null: not started, or it lies in one chunk) */
  private buf: Uint8Array | null = null;
  /** frames seen so far */
  frames = 0;

  constructor(
    private readonly sink: FrameSink,
    preface: boolean,
    private readonly maxFrame = DEFAULT_MAX_FRAME,
  ) {
    this.state = preface ? S_PREFACE : S_HEADER;
  }

  get dead(): boolean {
    return this.state === S_DEAD;
  }

  /** stop reading (a gap, or the layer gave the direction up) */
  stop(): void {
    this.state = S_DEAD;
    this.buf = null;
  }

  push(bytes: Uint8Array, meta: ChunkMeta): void {
    let p = 0;
    const n = bytes.length;
    while (p < n && this.state !== S_DEAD) {
      if (this.state === S_PREFACE) {
        const take = Math.min(PREFACE.length - this.have, n - p);
        for (let i = 0; i < take; i++) {
          if (bytes[p + i] !== PREFACE[this.have + i]) {
            this.fail('The client did not start with the HTTP/2 connection preface.', meta);
            return;
          }
        }
        this.have += take;
        p += take;
        if (this.have === PREFACE.length) {
          this.have = 0;
          this.state = S_HEADER;
        }
      } else if (this.state === S_HEADER) {
        if (this.have === 0 && n - p >= 9) {
          this.header(bytes, p);
          p += 9;
        } else {
          const take = Math.min(9 - this.have, n - p);
          this.head.set(bytes.subarray(p, p + take), this.have);
          this.have += take;
          p += take;
          if (this.have < 9) return;
          this.have = 0;
          this.header(this.head, 0);
        }
        if ((this.state as number) === S_PAYLOAD && this.length === 0) this.deliver(new Uint8Array(0), meta);
      } else if (this.state === S_PAYLOAD) {
        if (this.buf === null && this.have === 0 && n - p >= this.length) {
          // the whole payload is in this chunk: a view, no copy
          const end = p + this.length;
          this.deliver(bytes.subarray(p, end), meta);
          p = end;
          continue;
        }
        this.buf ??= new Uint8Array(this.length);
        const take = Math.min(this.length - this.have, n - p);
        this.buf.set(bytes.subarray(p, p + take), this.have);
        this.have += take;
        p += take;
        if (this.have === this.length) {
          const b = this.buf;
          this.buf = null;
          this.have = 0;
          this.deliver(b, meta);
        }
      } else {
        // S_SKIP: an oversized payload passes by
        const take = Math.min(this.length - this.have, n - p);
        this.have += take;
        p += take;
        if (this.have === this.length) {
          this.have = 0;
          this.state = S_HEADER;
          this.sink.oversized(this.type, this.flags, this.stream, this.length, meta);
        }
      }
    }
  }

  private header(b: Uint8Array, at: number): void {
    this.length = (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
    this.type = b[at + 3];
    this.flags = b[at + 4];
    // RFC 9113 section 4.1: the reserved bit is ignored on receipt
    this.stream = ((b[at + 5] & 0x7f) << 24) | (b[at + 6] << 16) | (b[at + 7] << 8) | b[at + 8];
    this.state = this.length > this.maxFrame ? S_SKIP : S_PAYLOAD;
    if (this.state === S_SKIP && this.length === 0) this.state = S_HEADER;
  }

  private deliver(payload: Uint8Array, meta: ChunkMeta): void {
    this.state = S_HEADER;
    this.frames++;
    let body = payload;
    // RFC 9113 sections 6.1, 6.2, 6.6: Pad Length, then the content, then the padding
    if ((this.flags & PADDED) !== 0 && (this.type === DATA || this.type === HEADERS || this.type === PUSH_PROMISE)) {
      if (payload.length < 1 || payload[0] >= payload.length) {
        this.fail(`A ${frameTypeName(this.type)} frame on stream ${this.stream} has a padding length (${payload.length > 0 ? payload[0] : 'none'}) that does not fit its ${payload.length}-byte payload (RFC 9113 section 6.1).`, meta);
        return;
      }
      body = payload.subarray(1, payload.length - payload[0]);
    }
    this.sink.frame({ type: this.type, flags: this.flags, stream: this.stream, payload: body, length: this.length }, meta);
  }

  private fail(text: string, meta: ChunkMeta): void {
    this.stop();
    this.sink.broken(text, meta);
  }
}

/**
 * The header block fragment of a HEADERS frame's (unpadded) payload: past the priority fields
 * when the PRIORITY flag is set (RFC 9113 section 6.2). null when the payload is too short.
 */
export function headerBlockOf(f: H2Frame): Uint8Array | null {
  if (f.type === HEADERS && (f.flags & PRIORITY_FLAG) !== 0) return f.payload.length >= 5 ? f.payload.subarray(5) : null;
  // PUSH_PROMISE: the promised stream id comes first (section 6.6)
  if (f.type === PUSH_PROMISE) return f.payload.length >= 4 ? f.payload.subarray(4) : null;
  return f.payload;
}

const NAMES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];

export function frameTypeName(t: number): string {
  return NAMES[t] ?? `type 0x${t.toString(16)}`;
}

/** 32-bit big-endian at `at` */
export function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}
