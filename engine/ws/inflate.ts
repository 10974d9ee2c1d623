/**
 * permessage-deflate decompression for one direction (RFC 7692 section 7.2.2).
 *
 * Wasm path (normally taken): libdeflate compiled to WebAssembly (./wasm-inflate.ts,
 * native/README.md) inflates each message in one call, written right after the direction's
 * last 32 KiB of output so that context takeover is a preset dictionary. Whatever it cannot
 * finish cleanly (cut messages, corrupt data, the output limit, very large output) is redone
 * by a zlib stream preset with the same window, so errors, details and kept prefixes are
 * zlib's. A message whose compressed data does not end on a block boundary (RFC 7692 section
 * 7.2.1 requires it to) is inflated on its own; a persistent zlib stream would carry the
 * half-read block into the next message.
 *
 * Streaming path (without WebAssembly): one persistent raw inflate per direction, driven
 * synchronously through the zlib binding's handle (`_handle.writeSync`, the protocol Node's own
 * `processChunkSync` in lib/zlib.js uses; Node has no public synchronous streaming inflate).
 * Each message is fed followed by 00 00 ff ff with Z_SYNC_FLUSH; with context takeover the
 * stream simply keeps its window between messages, without takeover it is reset first. We
 * always inflate with windowBits 15, which accepts any smaller sender window (max_window_bits
 * 8..15) and sidesteps zlib's refusal of windowBits 8. The output limit is enforced inside the
 * loop, so a bomb stops after `limit + 1` bytes; the prefix kept is the fallback's, so both
 * paths give identical results. Any zlib error closes the stream. These internals are
 * feature-detected (and checked on a known input) once; without them the fallback below is
 * used.
 *
 * Fallback path: one `inflateRawSync` per message, context takeover modelled by handing the
 * last 32 KiB of the direction's output to the next call as the preset dictionary.
 * `maxOutputLength` stops a bomb at the limit inside zlib; Node then throws away what it had
 * inflated, so to keep an honest prefix we inflate again only a prefix of the input short
 * enough that it cannot exceed the limit (deflate expands at most 1032:1).
 *
 * All paths: once a message could not be inflated completely (corrupt, cut, limit), the
 * sender's window is unknown: with context takeover every later message of the direction is
 * reported as `context-lost` rather than decoded against a wrong dictionary.
 *
 * Memory: `inflate` returns a new buffer that the caller owns (or, with `views`, a view into
 * wasm memory or into the process-wide zlib output buffer `sharedOut`, valid until the next
 * inflate call of any Inflater); `input` is only read, during the
 * call. The wasm path keeps a region of 64-288 KiB of wasm memory per direction with takeover
 * (its window plus room), given back by `close()`. The streaming path keeps one zlib stream (~40 KiB native), an output scratch (at most
 * 1 MiB kept) and, with takeover, a 64 KiB copy of the recent output (see `track`).
 */
import { constants, createInflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { MAX_OUTPUT, WASM_NO_SPACE, WASM_OK, WINDOW, wasmInflate, type WasmInflate } from './wasm-inflate';

const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const MAX_RATIO = 1100; // deflate's worst expansion is 1032:1, plus block headers
const SCRATCH = 64 * 1024; // first output buffer of the streaming path
const SCRATCH_KEEP = 1 << 20; // a scratch grown past this by one big message is not kept

/**
 * With `views`, the zlib paths grow their output into this one buffer, shared by every
 * Inflater of the process: a view of it is only valid until the next inflate call anywhere,
 * which SessionOptions.ephemeralPayloads consumers (the CLI prints each message during its
 * emit) allow. Without it, a capture of many connections inflating large messages would leave
 * a fresh buffer of up to `limit` bytes (plus its doublings and a trimmed copy) as garbage per
 * message, and the process would grow by several of them before a GC. Bounded by the largest
 * `limit` + 1 asked for (SessionOptions.maxInflate, 64 MiB by default).
 */
let sharedOut: Uint8Array | null = null;

/** The shared output buffer, at least `n` bytes (a new one, keeping `keep` bytes of `from`, when it is smaller). */
function growShared(n: number, from: Uint8Array, keep: number): Uint8Array {
  if (sharedOut === null || sharedOut.length < n) sharedOut = new Uint8Array(n);
  if (from !== sharedOut) sharedOut.set(from.subarray(0, keep));
  return sharedOut;
}

export type InflateError = 'limit' | 'corrupt' | 'context-lost';

export interface InflateResult {
  data: Uint8Array;
  /** data is not the whole message */
  partial: boolean;
  error?: InflateError;
  /** zlib's message for corrupt input */
  detail?: string;
}

/** The parts of Node's zlib binding handle we drive (lib/zlib.js `processChunkSync`). */
interface ZHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: ((message: string, errno: number) => void) | null;
}
/** A zlib stream seen through its internals: `_writeState` is [availOutAfter, availInAfter]. */
interface ZStream {
  _handle?: ZHandle | null;
  _writeState?: Uint32Array;
  close(): void;
}

interface Engine {
  stream: ZStream;
  handle: ZHandle;
  state: Uint32Array;
  /** created with a preset dictionary (`reset()` re-applies it, so it cannot give an empty window) */
  dict: boolean;
  /** not used since it was created (its window is empty, no reset needed) */
  fresh: boolean;
  /** zlib's message from `onerror` during the current write */
  err: string | null;
}

function openEngine(dictionary: Uint8Array | null): Engine | null {
  let stream: ZStream;
  try {
    stream = createInflateRaw(dictionary ? { windowBits: 15, dictionary } : { windowBits: 15 }) as unknown as ZStream;
  } catch {
    return null;
  }
  const handle = stream._handle;
  const state = stream._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    stream.close();
    return null;
  }
  const e: Engine = { stream, handle, state, dict: dictionary !== null, fresh: true, err: null };
  // zlib errors are reported synchronously from writeSync through onerror (node_zlib.cc
  // EmitError); Node's own handler would destroy the stream, ours only records the message
  handle.onerror = (message: string) => {
    e.err = message;
  };
  return e;
}

let streamingWorks: boolean | null = null;

/** The binding internals exist and behave as expected on a known input (checked once). */
export function streamingAvailable(): boolean {
  if (streamingWorks !== null) return streamingWorks;
  streamingWorks = false;
  const e = openEngine(null);
  if (e === null) return false;
  try {
    const text = 'abcabcabc abcabcabc';
    const input = deflateRawSync(new TextEncoder().encode(text), { finishFlush: constants.Z_SYNC_FLUSH });
    const out = new Uint8Array(32);
    e.handle.writeSync(constants.Z_SYNC_FLUSH, input, 0, input.length, out, 0, out.length);
    const n = out.length - e.state[0];
    streamingWorks = e.err === null && e.state[1] === 0 && String.fromCharCode(...out.subarray(0, n)) === text;
  } catch {
    streamingWorks = false;
  }
  e.stream.close();
  return streamingWorks;
}

export type InflateEngine = 'wasm' | 'stream' | 'once';

export interface InflaterOptions {
  /**
   * Which path decodes: 'wasm' (the default; libdeflate, with zlib for what it cannot finish),
   * 'stream' (a persistent zlib stream) or 'once' (one inflateRawSync per message). A path the
   * runtime lacks falls back to the next one. Tests run all three on the same input.
   */
  engine?: InflateEngine;
  /**
   * Return the wasm path's output as a view into wasm memory, valid until the next call on
   * any Inflater, instead of a copy the caller owns (SessionOptions.ephemeralPayloads).
   */
  views?: boolean;
}

/** what one message fed through a zlib stream gave (see `feed`) */
interface Fed {
  out: Uint8Array;
  total: number;
  error?: InflateError;
  detail?: string;
  /** output length after the first `split` input bytes (-1: not reached) */
  mark: number;
  split: number;
  /** the sender ended its deflate stream (BFINAL) inside the message */
  ended: boolean;
}

/** a complete message's payload is followed by the 00 00 ff ff lost on the wire and a final empty block (03 00), so libdeflate sees a whole stream */
const TAIL_FINAL = new Uint8Array([0x00, 0x00, 0xff, 0xff, 0x03, 0x00]);
/** a direction's wasm region: its window (32 KiB) plus room for messages written after it */
const REGION_MIN = 64 * 1024;
const REGION_MAX = 256 * 1024;
const MIN_ROOM = 16 * 1024;

/** Gives back a direction's wasm region when its Inflater is collected without `close()`. */
const regions = new FinalizationRegistry<{ ptr: number }>((r) => wasmInflate()?.free(r.ptr));

export class Inflater {
  /** true: the sender keeps its window between messages (no *_no_context_takeover); null: unknown (no handshake seen) */
  private readonly takeover: boolean | null;
  private dict: Uint8Array | null = null;
  private broken = false;
  private readonly maxOut: number;
  private readonly kind: InflateEngine;
  private readonly wasm: WasmInflate | null;
  private readonly views: boolean;
  private engine: Engine | null = null;
  private scratch: Uint8Array | null = null;
  /** recent output (last `winLen` bytes at [0, winLen)), kept only to restart after a final block */
  private win: Uint8Array | null = null;
  private winLen = 0;
  /** the sender ended its deflate stream (BFINAL, RFC 7692 section 7.2.3.3): the next message starts a new one */
  private ended = false;
  /** wasm path: this direction's region in wasm memory; its window is [pos - histLen, pos) */
  private region: { ptr: number } | null = null;
  private regionCap = 0;
  private pos = 0;
  private histLen = 0;

  constructor(contextTakeover: boolean | null, maxOut: number, opts: InflaterOptions = {}) {
    this.takeover = contextTakeover;
    this.maxOut = maxOut;
    this.views = opts.views === true;
    const want = opts.engine ?? 'wasm';
    this.wasm = want === 'wasm' ? wasmInflate() : null;
    if (this.wasm !== null) this.kind = 'wasm';
    else this.kind = want !== 'once' && streamingAvailable() ? 'stream' : 'once';
  }

  /** the path this Inflater takes */
  get engineKind(): InflateEngine {
    return this.kind;
  }

  /** The direction is over: free the native zlib stream, the wasm region and the buffers now, not at GC. */
  close(): void {
    if (this.engine !== null) this.engine.stream.close();
    this.engine = null;
    this.scratch = null;
    this.win = null;
    this.winLen = 0;
    this.dict = null;
    if (this.region !== null) {
      regions.unregister(this);
      this.wasm?.free(this.region.ptr);
      this.region = null;
      this.regionCap = this.pos = this.histLen = 0;
    }
  }

  /** `input`: the message's reassembled, unmasked payload; `complete`: false when it was cut or has a hole. */
  inflate(input: Uint8Array, complete: boolean, limit: number = this.maxOut): InflateResult {
    if (this.broken && this.takeover === true) {
      return { data: new Uint8Array(0), partial: true, error: 'context-lost' };
    }
    if (this.kind === 'wasm') return this.inflateWasm(input, complete, limit);
    return this.kind === 'stream' ? this.inflateStreaming(input, complete, limit) : this.inflateOnce(input, complete, limit);
  }

  /**
   * The wasm path: the message is inflated in one call, written right after the direction's
   * window in its region (or, when large, after a copy of the window in the shared buffer).
   * Whatever it cannot finish cleanly (cut messages, corrupt data, the limit, output past
   * MAX_OUTPUT, no memory) is redone by zlib from the same window, so errors, details and the
   * prefix kept at a limit are zlib's, exactly as on the other paths.
   */
  private inflateWasm(input: Uint8Array, complete: boolean, limit: number): InflateResult {
    const w = this.wasm!;
    // without takeover, or after a loss with unknown negotiation, the message must inflate
    // against an empty window (RFC 7692 section 7.2.2)
    const needFresh = this.takeover === false || this.broken;
    const keep = this.takeover !== false;
    if (needFresh) this.histLen = 0;
    if (complete && input.length === 0) {
      this.broken = false;
      return { data: new Uint8Array(0), partial: false };
    }
    const cap = Math.max(limit, 1);
    const inPtr = complete ? w.load(input, TAIL_FINAL) : 0;
    if (inPtr !== 0) {
      let want = Math.min(cap + 1, Math.max(MIN_ROOM, input.length * 4));
      for (;;) {
        const dict = this.histLen;
        let out: number;
        let avail: number;
        const inRegion = keep && dict + want <= REGION_MAX;
        if (inRegion) {
          out = this.reserve(w, want);
          avail = this.regionCap - this.pos;
        } else {
          const base = w.shared(WINDOW + want);
          out = base === 0 ? 0 : base + WINDOW;
          avail = w.sharedSize - WINDOW;
          if (out !== 0 && dict > 0) {
            const at = this.region!.ptr + this.pos;
            w.heap().copyWithin(out - dict, at - dict, at);
          }
        }
        if (out === 0) break;
        avail = Math.min(avail, cap + 1);
        const rc = w.inflate(inPtr, input.length + TAIL_FINAL.length, out, avail, dict);
        if (rc === WASM_OK) {
          const n = w.outLen();
          if (n > cap) break; // past the limit: zlib reports it, with its prefix
          this.broken = false;
          if (keep) {
            if (inRegion) {
              this.pos += n;
              this.histLen = Math.min(WINDOW, dict + n);
            } else {
              // the window now ends in the shared buffer: bring it back to the region
              const k = Math.min(WINDOW, dict + n);
              this.histLen = 0;
              const dst = this.reserve(w, k);
              if (dst === 0) this.broken = true;
              else {
                w.heap().copyWithin(dst, out + n - k, out + n);
                this.pos += k;
                this.histLen = k;
              }
            }
          }
          // made last: `reserve` above may grow wasm memory, which detaches earlier views
          const data = this.views ? w.heap().subarray(out, out + n) : w.copyOut(out, n);
          return { data, partial: false };
        }
        if (rc !== WASM_NO_SPACE || avail > cap || want >= MAX_OUTPUT) break;
        want = Math.min(cap + 1, MAX_OUTPUT, Math.max(want * 4, avail * 2));
      }
    }
    return this.inflateZlib(input, complete, limit, needFresh);
  }

  /**
   * Room for `want` bytes after the window in this direction's region (allocated, grown up to
   * REGION_MAX or slid as needed); returns the write address, or 0 when memory cannot grow.
   */
  private reserve(w: WasmInflate, want: number): number {
    if (this.region !== null && this.regionCap - this.pos >= want) return this.region.ptr + this.pos;
    const need = this.histLen + want;
    if (this.region === null || this.regionCap < need) {
      const cap = Math.min(REGION_MAX + WINDOW, Math.max(need, REGION_MIN, this.regionCap * 2));
      const p = w.malloc(cap);
      if (p === 0) return 0;
      if (this.region === null) {
        this.region = { ptr: p };
        regions.register(this, this.region, this);
      } else {
        const at = this.region.ptr + this.pos;
        if (this.histLen > 0) w.heap().copyWithin(p, at - this.histLen, at);
        w.free(this.region.ptr);
        this.region.ptr = p;
      }
      this.regionCap = cap;
    } else if (this.histLen > 0) {
      const at = this.region.ptr + this.pos;
      w.heap().copyWithin(this.region.ptr, at - this.histLen, at);
    }
    this.pos = this.histLen;
    return this.region.ptr + this.pos;
  }

  /** The wasm path's fallback: one message through a zlib stream preset with the direction's window. */
  private inflateZlib(input: Uint8Array, complete: boolean, limit: number, needFresh: boolean): InflateResult {
    const w = this.wasm!;
    let dictionary: Uint8Array | null = null;
    if (!needFresh && this.histLen > 0) {
      const at = this.region!.ptr + this.pos;
      dictionary = w.heap().slice(at - this.histLen, at);
    }
    const e = openEngine(dictionary);
    if (e === null) throw new Error('zlib stream could not be created');
    let f: Fed;
    try {
      f = this.feed(e, input, complete, limit);
    } finally {
      e.stream.close();
    }
    if (f.error !== undefined) return this.failed(f, input);
    const data = this.own(f.out, f.total);
    if (!complete) {
      this.broken = true;
      return { data, partial: true };
    }
    this.broken = false;
    if (this.takeover !== false) this.pushWindow(w, data);
    return { data, partial: false };
  }

  /** Appends output that zlib inflated to the direction's window in its region. */
  private pushWindow(w: WasmInflate, data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (n >= WINDOW) this.histLen = 0;
    const src = n > WINDOW ? data.subarray(n - WINDOW) : data;
    const dst = this.reserve(w, src.length);
    if (dst === 0) {
      this.broken = true;
      return;
    }
    w.heap().set(src, dst);
    this.pos += src.length;
    this.histLen = Math.min(WINDOW, this.histLen + src.length);
  }

  /** An error result; the direction's window is lost from here on (see `inflate`). */
  private failed(f: Fed, input: Uint8Array): InflateResult {
    this.broken = true;
    if (f.error === 'corrupt') return { data: new Uint8Array(0), partial: true, error: 'corrupt', detail: f.detail };
    return { data: f.split < input.length && f.mark >= 0 ? this.own(f.out, f.mark) : new Uint8Array(0), partial: true, error: f.error };
  }

  /** The first `n` bytes of a zlib output buffer as the result: a view with `views`, else a copy of its own. */
  private own(out: Uint8Array, n: number): Uint8Array {
    return this.views ? out.subarray(0, n) : out.slice(0, n);
  }

  private inflateStreaming(input: Uint8Array, complete: boolean, limit: number): InflateResult {
    // without takeover, or after a loss with unknown negotiation, the message must inflate
    // against an empty window (RFC 7692 section 7.2.2); otherwise the stream's window is the
    // sender's
    const needFresh = this.takeover === false || this.broken;
    let e = this.engine;
    if (e !== null) {
      if (needFresh ? e.dict : this.ended) {
        e.stream.close();
        e = this.engine = null;
      } else if (needFresh && !e.fresh) {
        e.handle.reset(); // inflateReset: empty window, also leaves the ended state
      }
    }
    if (e === null) {
      // after a final block the sender's window carries over to its next stream: preset it
      const dictionary = !needFresh && this.ended && this.winLen > 0 ? this.win!.subarray(Math.max(0, this.winLen - WINDOW), this.winLen) : null;
      e = this.engine = openEngine(dictionary);
      if (e === null) throw new Error('zlib stream could not be created');
    }
    this.ended = false;
    if (needFresh) this.winLen = 0;
    e.fresh = false;
    const f = this.feed(e, input, complete, limit);
    if (f.out.length <= SCRATCH_KEEP) this.scratch = f.out;
    if (f.ended) this.ended = true;
    if (f.error !== undefined) {
      this.engine = null;
      e.stream.close();
      return this.failed(f, input);
    }
    const data = this.own(f.out, f.total);
    if (!complete) {
      this.broken = true;
    } else {
      // unknown negotiation: a message that inflated against an empty window re-establishes it
      this.broken = false;
      if (this.takeover !== false) this.track(data);
    }
    return { data, partial: !complete };
  }

  /**
   * Feeds one message to a zlib stream, enforcing the output limit inside the loop (a bomb
   * stops after `limit + 1` bytes).
   */
  private feed(e: Engine, input: Uint8Array, complete: boolean, limit: number): Fed {
    // same bound as the fallback's maxOutputLength: up to max(limit, 1) bytes inflate cleanly
    const cap = Math.max(limit, 1);
    let out = this.scratch ?? new Uint8Array(SCRATCH);
    let total = 0;
    let error: InflateError | undefined;
    let detail: string | undefined;
    let ended = false;
    // the honest prefix kept at the limit is the fallback's (see `prefix`): what the first
    // limit / MAX_RATIO input bytes inflate to, so both paths report the same bytes; the
    // payload is fed in two pieces split there and the output length at the split remembered
    const n = Math.floor(limit / MAX_RATIO);
    const split = n > 0 && n < input.length ? n : input.length;
    let mark = -1;
    // segment 0 and 1 feed the payload, segment 2 the 00 00 ff ff tail a complete message lost
    // on the wire (RFC 7692 section 7.2.2); zlib ignores the flush mode of inflate except
    // Z_FINISH/Z_BLOCK. An empty payload is fed nothing: the tail alone would leave zlib inside
    // a stored block header, and the next message would be read as its continuation.
    for (let seg = 0; seg < 3 && error === undefined; seg++) {
      const src = seg === 2 ? TAIL : input;
      let inOff = seg === 1 ? split : 0;
      let inLen = seg === 0 ? split : seg === 1 ? input.length - split : complete && input.length > 0 ? TAIL.length : 0;
      if (inLen === 0) continue;
      for (;;) {
        if (total === out.length) {
          // the output buffer is full and the limit not yet passed: grow (doubling, at most to cap + 1)
          const size = Math.min(out.length * 2, cap + 1);
          // the shared buffer is made its final size at once: calloc'd pages cost memory only
          // once written, and no chain of doublings is left behind as garbage
          if (this.views && size > SCRATCH_KEEP) out = growShared(cap + 1, out, total);
          else {
            const bigger = new Uint8Array(size);
            bigger.set(out);
            out = bigger;
          }
        }
        const room = Math.min(out.length, cap + 1) - total;
        e.err = null;
        e.handle.writeSync(constants.Z_SYNC_FLUSH, src, inOff, inLen, out, total, room);
        if (e.err !== null) {
          error = 'corrupt';
          detail = e.err;
          break;
        }
        const availOut = e.state[0];
        const availIn = e.state[1];
        total += room - availOut;
        inOff += inLen - availIn;
        inLen = availIn;
        if (total > cap) {
          error = 'limit';
          break;
        }
        if (availOut !== 0) {
          // zlib stopped with room left: all input is consumed, or the deflate stream ended
          // (a BFINAL block; what follows it in the message is ignored, like inflateRawSync does)
          if (inLen !== 0) {
            ended = true;
            seg = 3;
          }
          break;
        }
      }
      if (seg === 0) mark = total;
    }
    return { out, total, error, detail, mark, split, ended };
  }

  /**
   * Keeps the last 32 KiB of output in a 64 KiB buffer (one copy of at most 32 KiB per message,
   * amortised), so a sender that ends its deflate stream (BFINAL) can be followed: the next
   * stream gets it as its preset dictionary, the same window the sender keeps.
   */
  private track(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    const w = (this.win ??= new Uint8Array(2 * WINDOW));
    if (n >= WINDOW) {
      w.set(data.subarray(n - WINDOW));
      this.winLen = WINDOW;
      return;
    }
    if (this.winLen + n > w.length) {
      const keep = WINDOW - n;
      w.copyWithin(0, this.winLen - keep, this.winLen);
      this.winLen = keep;
    }
    w.set(data, this.winLen);
    this.winLen += n;
  }

  private inflateOnce(input: Uint8Array, complete: boolean, limit: number): InflateResult {
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
