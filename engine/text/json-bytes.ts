/**
 * JSON string bodies and base64 written from bytes into an output buffer, never through a JS
 * string: the payload encoders of `read --json` (engine/cli/json.ts).
 *
 * A text payload is valid UTF-8 already, and JSON.stringify's UTF-8 output of its string
 * differs from it only where the string held '"', '\' or a control character below U+0020
 * (ECMA-262 QuoteJSONString, RFC 8259 section 7: lone surrogates are the only other escapes,
 * and valid UTF-8 has none). So escaping is a byte scan: runs without those bytes are copied,
 * each of those bytes becomes its escape (\" \\ \b \t \n \f \r, else \u00XX in lowercase hex).
 *
 * Two implementations of the same contract:
 * - `JsonBytes`: native/json-wasm.c compiled to WebAssembly with SIMD (embedded in
 *   ./json-wasm-module.ts, built by scripts/build-json-wasm.mjs), 16 bytes per step for both
 *   the escape scan and base64 (about 4x the JS escape loop on the benchmark's text). The
 *   output buffer lives in the module's memory (engine/cli/out.ts writes it to the fd from
 *   there), so a payload is copied once, into the module's input area, in pieces of at most
 *   `PIECE` bytes.
 * - `escapeJs`: the fallback without WebAssembly SIMD, four bytes per step while none needs an
 *   escape (Buffer's base64Slice stands in for the base64 half).
 *
 * Memory: each `JsonBytes` owns one WebAssembly memory of its output size + PIECE + about
 * 11 KiB (the module's tables and stack), grown once when created and never again (growing
 * would detach `out`). Source bytes are read during the call only.
 */
import { createHash } from 'node:crypto';
import { byteView } from '../net/bytes';
import { JSON_WASM_BASE64, JSON_WASM_SHA256 } from './json-wasm-module';

/** source bytes per call at most: the size of the module's input area */
export const PIECE = 64 * 1024;
/** bytes the module may store past the end of what it writes, and load past the end of its input */
const SLACK = 32;
const PAGE = 65536;

/** the little of the WebAssembly JS API used here (the Node type-check has no DOM lib) */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { value: number };
  /** escape in[0, n) to out, return the end written (native/json-wasm.c) */
  wj_escape(input: number, n: number, out: number): number;
  /** base64 of in[0, n) to out, return the end written */
  wj_base64(input: number, n: number, out: number): number;
}

let compiled: (() => Exports) | null | undefined;

/**
 * A new instance of the module, compiled once per process; null without WebAssembly (SIMD), if the embedded
 * bytes are damaged, or if an instance fails the self-check.
 */
function module(): (() => Exports) | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const wa = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = Buffer.from(JSON_WASM_BASE64, 'base64');
    if (wa === undefined || createHash('sha256').update(bytes).digest('hex') !== JSON_WASM_SHA256) return null;
    const m = new wa.Module(bytes);
    const instance = (): Exports => new wa.Instance(m, {}).exports as Exports;
    if (selfCheck(new JsonBytes(instance(), 4096))) compiled = instance;
  } catch {
    // an engine without SIMD rejects the module: the JS encoders do the work
  }
  return compiled;
}

/** every byte value through both functions against Node's own encoders */
function selfCheck(j: JsonBytes): boolean {
  const all = new Uint8Array(256).map((_, i) => i);
  const ascii = all.subarray(0, 128);
  const e = j.escape(ascii, 0, 128, 0);
  if (j.out.toString('latin1', 0, e) !== JSON.stringify(Buffer.from(ascii).toString('latin1')).slice(1, -1)) return false;
  const b = j.base64(all, 1, 255, 0);
  return j.out.toString('latin1', 0, b) === Buffer.from(all.subarray(1)).toString('base64');
}

export class JsonBytes {
  /** the output area: `size` bytes for the caller, written by `escape` and `base64` */
  readonly out: Buffer;
  private readonly x: Exports;
  private readonly heap: Uint8Array;
  private readonly outPtr: number;
  private readonly inPtr: number;

  /** (`create` is the way in: it checks the module first) */
  constructor(x: Exports, size: number) {
    this.x = x;
    this.outPtr = (x.__heap_base.value + 15) & ~15;
    this.inPtr = (this.outPtr + size + SLACK + 15) & ~15;
    const end = this.inPtr + PIECE + SLACK;
    const have = x.memory.buffer.byteLength;
    if (end > have) x.memory.grow(Math.ceil((end - have) / PAGE));
    this.heap = new Uint8Array(x.memory.buffer);
    this.out = Buffer.from(x.memory.buffer, this.outPtr, size);
  }

  /** An encoder with an output area of `size` bytes, or null when the module cannot run here. */
  static create(size: number): JsonBytes | null {
    const instance = module();
    return instance === null ? null : new JsonBytes(instance(), size);
  }

  /**
   * src[a, a + n) (n <= PIECE, valid UTF-8) JSON-escaped into `out` at `at`, which must have
   * 6n bytes free (an escape is at most 6 bytes); returns the end of what was written.
   */
  escape(src: Uint8Array, a: number, n: number, at: number): number {
    this.heap.set(a === 0 && n === src.length ? src : byteView(src, a, n), this.inPtr);
    return this.x.wj_escape(this.inPtr, n, this.outPtr + at) - this.outPtr;
  }

  /**
   * Base64 of src[a, a + n) (n <= PIECE) into `out` at `at`, which must have 4 * ceil(n / 3)
   * bytes free; padded, so pieces join when every one but the last is a multiple of 3 bytes.
   */
  base64(src: Uint8Array, a: number, n: number, at: number): number {
    this.heap.set(a === 0 && n === src.length ? src : byteView(src, a, n), this.inPtr);
    return this.x.wj_base64(this.inPtr, n, this.outPtr + at) - this.outPtr;
  }
}

/**
 * JSON escapes, as `JsonBytes.escape` writes them: 0 = the byte stands for itself, else the
 * character after the backslash (`u` = \u00XX, lowercase hex).
 */
const ESCAPE = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) ESCAPE[c] = 0x75;
ESCAPE[0x08] = 0x62; // \b
ESCAPE[0x09] = 0x74; // \t
ESCAPE[0x0a] = 0x6e; // \n
ESCAPE[0x0c] = 0x66; // \f
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[0x22] = 0x22;
ESCAPE[0x5c] = 0x5c;
const HEX = new TextEncoder().encode('0123456789abcdef');

/**
 * src[a, z) (valid UTF-8) JSON-escaped into dst at `at` (dw: a DataView of dst, sw: of src),
 * which must have 6 (z - a) bytes free; returns the end of what was written. Nothing is
 * allocated.
 */
export function escapeJs(dst: Uint8Array, dw: DataView, at: number, src: Uint8Array, sw: DataView, a: number, z: number): number {
  let p = at;
  let i = a;
  while (i < z) {
    // Four bytes at a time while none needs an escape (SWAR tests, exact for "any byte":
    // a byte below 0x20; a byte equal to 0x22 or 0x5c, i.e. a zero byte after the XOR).
    while (i + 4 <= z) {
      const w = sw.getUint32(i, true);
      const q = w ^ 0x22222222;
      const b = w ^ 0x5c5c5c5c;
      if (((w - 0x20202020) & ~w & 0x80808080) | ((q - 0x01010101) & ~q & 0x80808080) | ((b - 0x01010101) & ~b & 0x80808080)) break;
      dw.setUint32(p, w, true);
      p += 4;
      i += 4;
    }
    if (i === z) break;
    const c = src[i++];
    const e = ESCAPE[c];
    if (e === 0) {
      dst[p++] = c;
      continue;
    }
    dst[p++] = 0x5c;
    dst[p++] = e;
    if (e === 0x75) {
      dst[p++] = 0x30;
      dst[p++] = 0x30;
      dst[p++] = HEX[c >> 4];
      dst[p++] = HEX[c & 15];
    }
  }
  return p;
}
