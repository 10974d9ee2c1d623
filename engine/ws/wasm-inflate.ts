/**
 * The WebAssembly inflater: libdeflate's decompressor (native/, built by
 * scripts/build-inflate-wasm.mjs and embedded in ./libdeflate-wasm.ts), one instance per
 * process, shared by every Inflater (the engine decodes on one thread).
 *
 * libdeflate decompresses a whole DEFLATE stream in one call, about twice as fast as zlib's
 * streaming inflate (docs/benchmarks.md). Our one patch lets the bytes just before the output
 * buffer act as the preset dictionary, which is how context takeover (RFC 7692 section 7.2.3)
 * is decoded: the Inflater keeps a direction's recent output in wasm memory and has each
 * message written right after it.
 *
 * Memory: the module's linear memory grows as regions are allocated and never shrinks (a
 * WebAssembly limit); what this file allocates itself is bounded: the input buffer (at most
 * MAX_INPUT) and the shared output buffer (WINDOW + MAX_OUTPUT). Regions are the callers'.
 */
import { LIBDEFLATE_WASM_BASE64, LIBDEFLATE_WASM_SHA256 } from './libdeflate-wasm';
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { uninitializedBytes } from '../net/bytes';

/** libdeflate_result, plus -1 for "no decompressor" */
export const WASM_OK = 0;
export const WASM_NO_SPACE = 3;

/** the DEFLATE window: the most a match can reach back (RFC 1951 section 2) */
export const WINDOW = 32 * 1024;
/** messages with more compressed bytes than this are left to zlib */
export const MAX_INPUT = 8 << 20;
/** messages inflating to more than this are left to zlib (whose buffers the GC can give back) */
export const MAX_OUTPUT = 8 << 20;

/** the little of the WebAssembly JS API used here (the Node type-check has no DOM lib) */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface Exports {
  memory: { buffer: ArrayBuffer };
  /** the reactor's initialiser (wasi-libc's constructors), called once */
  _initialize?: () => void;
  wsi_malloc(n: number): number;
  wsi_free(p: number): void;
  wsi_inflate(input: number, inLen: number, out: number, avail: number, dict: number): number;
  wsi_out_len(): number;
}

export class WasmInflate {
  private readonly x: Exports;
  private view: Uint8Array;
  private inPtr = 0;
  private inCap = 0;
  private sharedPtr = 0;
  private sharedCap = 0;

  constructor(x: Exports) {
    this.x = x;
    this.view = new Uint8Array(x.memory.buffer);
  }

  /** The module's memory as bytes; valid until the next allocation (growing memory replaces its buffer). */
  heap(): Uint8Array {
    if (this.view.buffer !== this.x.memory.buffer) this.view = new Uint8Array(this.x.memory.buffer);
    return this.view;
  }

  /** A block of `n` bytes in wasm memory, or 0 when memory cannot grow. */
  malloc(n: number): number {
    return this.x.wsi_malloc(n) >>> 0;
  }

  free(p: number): void {
    if (p !== 0) this.x.wsi_free(p);
  }

  /**
   * Copies `input` followed by `tail` into the input buffer; returns its address, or 0 when
   * it is larger than MAX_INPUT or memory cannot grow.
   */
  load(input: Uint8Array, tail: Uint8Array): number {
    const n = input.length + tail.length;
    if (n > MAX_INPUT + tail.length) return 0;
    if (n > this.inCap) {
      const cap = Math.min(MAX_INPUT + tail.length, Math.max(n, this.inCap * 2, 64 * 1024));
      const p = this.malloc(cap);
      if (p === 0) return 0;
      this.free(this.inPtr);
      this.inPtr = p;
      this.inCap = cap;
    }
    const h = this.heap();
    h.set(input, this.inPtr);
    h.set(tail, this.inPtr + input.length);
    return this.inPtr;
  }

  /**
   * The shared output buffer with at least `n` bytes (callers reserve WINDOW in front for a
   * dictionary), or 0. Its contents do not survive the next call that may reallocate it.
   */
  shared(n: number): number {
    if (n > this.sharedCap) {
      const cap = Math.max(n, Math.min(WINDOW + MAX_OUTPUT, this.sharedCap * 2), 256 * 1024);
      const p = this.malloc(cap);
      if (p === 0) return 0;
      this.free(this.sharedPtr);
      this.sharedPtr = p;
      this.sharedCap = cap;
    }
    return this.sharedPtr;
  }

  get sharedSize(): number {
    return this.sharedCap;
  }

  /**
   * Inflates `inLen` bytes at `input` (a complete raw DEFLATE stream, ending with a final
   * block) to `out`, at most `avail` bytes; the `dict` bytes before `out` are the window.
   * Returns WASM_OK, WASM_NO_SPACE, or another libdeflate_result for bad data.
   */
  inflate(input: number, inLen: number, out: number, avail: number, dict: number): number {
    return this.x.wsi_inflate(input, inLen, out, avail, dict);
  }

  /** A copy of `n` bytes at `p` that the caller owns (its buffer holds exactly those bytes). */
  copyOut(p: number, n: number): Uint8Array {
    // an unpooled buffer of exactly n bytes, not zero-filled first
    const b = uninitializedBytes(n);
    b.set(this.heap().subarray(p, p + n));
    return b;
  }

  /** bytes written by the last successful `inflate` */
  outLen(): number {
    return this.x.wsi_out_len() >>> 0;
  }
}

let instance: WasmInflate | null | undefined;

/** The process's wasm inflater, created on first use; null when WebAssembly is unavailable or the module fails its check. */
export function wasmInflate(): WasmInflate | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (wa === undefined) return null;
    const bytes = Buffer.from(LIBDEFLATE_WASM_BASE64, 'base64');
    if (createHash('sha256').update(bytes).digest('hex') !== LIBDEFLATE_WASM_SHA256) return null;
    const x = new wa.Instance(new wa.Module(bytes), {}).exports as Exports;
    x._initialize?.();
    const w = new WasmInflate(x);
    // a known input, with a match reaching back into the dictionary
    const text = 'abcabcabc abcabcabc';
    const probe = deflateRawSync(Buffer.from(text), { dictionary: Buffer.from('abc ') });
    const inp = w.load(probe, new Uint8Array(0));
    const out = w.shared(64);
    if (inp === 0 || out === 0) return null;
    w.heap().set(Buffer.from('abc '), out);
    if (w.inflate(inp, probe.length, out + 4, 60, 4) !== WASM_OK || w.outLen() !== text.length) return null;
    if (Buffer.from(w.heap().subarray(out + 4, out + 4 + text.length)).toString('latin1') !== text) return null;
    instance = w;
  } catch {
    instance = null;
  }
  return instance;
}
