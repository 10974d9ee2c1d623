/**
 * permessage-deflate decompression for one direction (RFC 7692 section 7.2.2).
 *
 * Each message is inflated with one synchronous `inflateRawSync` call after appending
 * 00 00 ff ff. Context takeover is modelled by handing the last 32 KiB of the direction's
 * output to the next call as the preset dictionary: a sender with a smaller window
 * (max_window_bits 8..15) never refers further back, and we always inflate with windowBits 15,
 * which accepts any smaller window (this also sidesteps zlib's refusal of windowBits 8).
 *
 * `maxOutputLength` stops a bomb at the limit inside zlib. Node then throws away what it had
 * inflated, so to keep an honest prefix we inflate again only a prefix of the input short
 * enough that it cannot exceed the limit (deflate expands at most 1032:1).
 *
 * Once a message could not be inflated completely (corrupt, cut, limit), the sender's window
 * is unknown: with context takeover every later message of the direction is reported as
 * `context-lost` rather than decoded against a wrong dictionary.
 *
 * Memory: `inflate` returns a new buffer; the dictionary is an own copy.
 */
import { constants, inflateRawSync } from 'node:zlib';

const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const WINDOW = 32 * 1024;
const MAX_RATIO = 1100; // deflate's worst expansion is 1032:1, plus block headers

export type InflateError = 'limit' | 'corrupt' | 'context-lost';

export interface InflateResult {
  data: Uint8Array;
  /** data is not the whole message */
  partial: boolean;
  error?: InflateError;
  /** zlib's message for corrupt input */
  detail?: string;
}

export class Inflater {
  /** true: the sender keeps its window between messages (no *_no_context_takeover); null: unknown (no handshake seen) */
  private readonly takeover: boolean | null;
  private dict: Uint8Array | null = null;
  private broken = false;
  private readonly maxOut: number;

  constructor(contextTakeover: boolean | null, maxOut: number) {
    this.takeover = contextTakeover;
    this.maxOut = maxOut;
  }

  /** `input`: the message's reassembled, unmasked payload; `complete`: false when it was cut or has a hole. */
  inflate(input: Uint8Array, complete: boolean, limit: number = this.maxOut): InflateResult {
    if (this.broken && this.takeover === true) {
      return { data: new Uint8Array(0), partial: true, error: 'context-lost' };
    }
    const src = new Uint8Array(input.length + 4);
    src.set(input);
    src.set(TAIL, input.length);
    const useDict = this.takeover !== false && this.dict !== null && !this.broken;
    const opts = {
      windowBits: 15,
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: Math.max(limit, 1),
      ...(useDict ? { dictionary: this.dict as Uint8Array } : {}),
    };
    let out: Uint8Array;
    try {
      out = complete ? inflateRawSync(src, opts) : inflateRawSync(src.subarray(0, input.length), opts);
    } catch (e) {
      this.broken = true;
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        return { data: this.prefix(src, opts, limit), partial: true, error: 'limit' };
      }
      return { data: new Uint8Array(0), partial: true, error: 'corrupt', detail: (e as Error).message };
    }
    // zlib returns views of its output chunks (often a 16 KiB ArrayBuffer for a few bytes):
    // copy so an event owns exactly its bytes (structured clone copies whole ArrayBuffers)
    if (out.byteLength !== out.buffer.byteLength) out = new Uint8Array(out);
    if (!complete) {
      this.broken = true;
    } else if (this.takeover !== false) {
      // unknown negotiation: a message that inflated without a dictionary re-establishes the window
      if (this.broken && this.takeover === null) {
        this.broken = false;
        this.dict = null;
      }
      this.remember(out);
    }
    return { data: out, partial: !complete };
  }

  private prefix(src: Uint8Array, opts: object, limit: number): Uint8Array {
    const n = Math.min(src.length, Math.floor(limit / MAX_RATIO));
    if (n <= 0) return new Uint8Array(0);
    try {
      const out = inflateRawSync(src.subarray(0, n), { ...opts, maxOutputLength: Math.max(limit, 1) });
      return out.byteLength !== out.buffer.byteLength ? new Uint8Array(out) : out;
    } catch {
      return new Uint8Array(0);
    }
  }

  private remember(out: Uint8Array): void {
    if (out.length >= WINDOW) {
      this.dict = new Uint8Array(out.subarray(out.length - WINDOW)); // a copy (Buffer#slice is a view)
      return;
    }
    if (out.length === 0) return;
    const prev = this.dict;
    const keepPrev = prev ? Math.min(prev.length, WINDOW - out.length) : 0;
    const d = new Uint8Array(keepPrev + out.length);
    if (prev && keepPrev > 0) d.set(prev.subarray(prev.length - keepPrev));
    d.set(out, keepPrev);
    this.dict = d;
  }
}
