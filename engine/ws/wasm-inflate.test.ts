/**
 * The wasm inflater (libdeflate in WebAssembly) against zlib, beyond the shared cases of
 * inflate.test.ts: random and damaged DEFLATE streams (fast-check), messages larger than a
 * direction's region and than the wasm output cap, many directions opened and closed (wasm
 * memory must not creep), and output handed out as views. The reference is always Node's
 * zlib through the other two paths, which must agree byte for byte and error for error.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { constants, deflateRawSync } from 'node:zlib';
import { Inflater, type InflateResult } from './inflate';
import { MAX_OUTPUT, wasmInflate } from './wasm-inflate';
import { LIBDEFLATE_WASM_BASE64, LIBDEFLATE_WASM_BYTES, LIBDEFLATE_WASM_SHA256 } from './libdeflate-wasm';
import { createHash } from 'node:crypto';

const BIG = 1 << 30;
/** WSSCOPE_INFLATE_RUNS=N runs the damaged-stream property N times with a random seed (a longer hunt than CI's) */
const HUNT = Number(process.env.WSSCOPE_INFLATE_RUNS ?? 0);

/**
 * A sender's compressed messages as RFC 7692 section 7.2.1 makes them: each deflated with
 * Z_SYNC_FLUSH and its 00 00 ff ff removed; with takeover each message gets the previous
 * 32 KiB of plaintext as its window (zlib's deflate with a preset dictionary emits the same
 * back-references a persistent compressor would).
 */
function compress(messages: Uint8Array[], takeover: boolean, windowBits = 15, level = 6): Uint8Array[] {
  let hist = Buffer.alloc(0);
  return messages.map((m) => {
    const win = hist.subarray(Math.max(0, hist.length - (1 << windowBits)));
    const d = deflateRawSync(m, { windowBits, level, finishFlush: constants.Z_SYNC_FLUSH, ...(takeover && win.length ? { dictionary: win } : {}) });
    if (takeover) hist = Buffer.concat([win, m]);
    return new Uint8Array(d.subarray(0, d.length - 4));
  });
}

interface Step {
  input: Uint8Array;
  complete?: boolean;
  limit?: number;
}

const view = (r: InflateResult): object => ({ error: r.error, partial: r.partial, detail: r.detail, data: Buffer.from(r.data).toString('hex') });

/**
 * Runs the steps through the wasm path and both zlib paths. On valid input all three must
 * agree. On damaged input ('any') the wasm result must equal one of the two zlib results:
 * they differ after a message that does not end on a block boundary (RFC 7692 section 7.2.1
 * rules it out): a persistent stream carries the half-read block into the next message,
 * while 'once' and wasm inflate each message on its own from the window. (Limits are tested
 * on valid streams: a message both over its limit and corrupt further on is 'limit' for the
 * streaming loop but may be 'corrupt' for inflateRawSync, which meets the damage within the
 * same call; the wasm path hands such a message to the streaming loop.)
 */
function agree(takeover: boolean | null, steps: Step[], mode: 'all' | 'any' = 'all'): InflateResult[] {
  const engines = [new Inflater(takeover, BIG), new Inflater(takeover, BIG, { engine: 'stream' }), new Inflater(takeover, BIG, { engine: 'once' })];
  expect(engines[0]!.engineKind).toBe('wasm');
  const out: InflateResult[] = [];
  steps.forEach((st, i) => {
    const [a, ...refs] = engines.map((e) => view(e.inflate(st.input, st.complete ?? true, st.limit)));
    if (mode === 'all') for (const b of refs) expect({ i, ...a }).toEqual({ i, ...b });
    else expect(refs.map((b) => JSON.stringify(b)), `message ${i}`).toContain(JSON.stringify(a));
    out.push({ ...(a as InflateResult), data: Buffer.from((a as { data: string }).data, 'hex') });
  });
  for (const e of engines) e.close();
  return out;
}

const words = ['alpha', 'beta', 'gamma', 'delta', '{"id":', '"px":', 'ü', '日本', ' ', ',', '\n', 'the quick brown fox'];
const message = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...words), { maxLength: 400 }).map((a) => new TextEncoder().encode(a.join(''))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 70_000 }).map((n) => new Uint8Array(n).fill(0x61)) },
);

describe('wasm inflater', () => {
  it('is the module the committed source builds (checked by hash at load) and passes its self-test', () => {
    const bytes = Buffer.from(LIBDEFLATE_WASM_BASE64, 'base64');
    expect(bytes.length).toBe(LIBDEFLATE_WASM_BYTES);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(LIBDEFLATE_WASM_SHA256);
    expect(wasmInflate()).not.toBeNull();
  });

  it('agrees with zlib on random message sequences, with and without takeover, window bits 9-15', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.constantFrom(true, false, null), fc.integer({ min: 9, max: 15 }), fc.integer({ min: 1, max: 9 }), (msgs, takeover, wbits, level) => {
        const c = compress(msgs, takeover !== false, wbits, level);
        const r = agree(takeover, c.map((input) => ({ input })));
        r.forEach((x, i) => expect(Buffer.from(x.data).equals(Buffer.from(msgs[i]!))).toBe(true));
      }),
      { numRuns: 150, seed: 6455 },
    );
  });

  it('agrees with zlib on valid streams cut short by lowered limits', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.constantFrom(true, false, null), fc.array(fc.nat(5000), { minLength: 8, maxLength: 8 }), (msgs, takeover, limits) => {
        const c = compress(msgs, takeover !== false);
        agree(takeover, c.map((input, i) => ({ input, limit: limits[i] })));
      }),
      { numRuns: 150, seed: 1951 },
    );
  });

  it('agrees with zlib on damaged streams: flipped bytes, cuts, junk, messages marked incomplete', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 2, maxLength: 8 }),
        fc.constantFrom(true, false, null),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'junk', 'incomplete')), { minLength: 1, maxLength: 4 }),
        (msgs, takeover, damage) => {
          const steps: Step[] = compress(msgs, takeover !== false).map((input) => ({ input }));
          for (const [which, at, byte, kind] of damage) {
            const s = steps[which % steps.length]!;
            const p = s.input.length ? at % s.input.length : 0;
            if (kind === 'flip' && s.input.length) {
              s.input = new Uint8Array(s.input);
              s.input[p] = s.input[p]! ^ (byte | 1);
            } else if (kind === 'cut') s.input = s.input.subarray(0, p);
            else if (kind === 'junk') s.input = new Uint8Array([...s.input, byte, byte ^ 0x5a, 0xff]);
            else s.complete = false;
          }
          agree(takeover, steps, 'any');
        },
      ),
      HUNT > 0 ? { numRuns: HUNT } : { numRuns: 300, seed: 7692 },
    );
  });

  it('inflates messages larger than a region (256 KiB) and than the wasm cap (8 MiB) with takeover, keeping the window for the next', () => {
    const text = (n: number, seed: number): Uint8Array => {
      const b = Buffer.alloc(n);
      let x = seed;
      for (let i = 0; i < n; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[i] = 0x61 + ((x >>> 16) % 7);
      }
      return b;
    };
    const small = text(2000, 1);
    const msgs = [small, text(300_000, 2), small, text(MAX_OUTPUT + 100_000, 3), small, text(40_000, 4), small];
    const r = agree(true, compress(msgs, true).map((input) => ({ input })));
    r.forEach((x, i) => expect(Buffer.from(x.data).equals(Buffer.from(msgs[i]!)), `message ${i}`).toBe(true));
  });

  it('gives wasm memory back: 3,000 directions opened, used and closed leave the heap as it was after the first 300', () => {
    const w = wasmInflate()!;
    const [c] = compress([new TextEncoder().encode('hello hello hello hello'.repeat(50))], true);
    const cycle = (n: number): void => {
      const open: Inflater[] = [];
      for (let i = 0; i < n; i++) {
        const f = new Inflater(true, BIG);
        expect(Buffer.from(f.inflate(c!, true).data).toString()).toBe('hello hello hello hello'.repeat(50));
        open.push(f);
      }
      for (const f of open) f.close();
    };
    cycle(300);
    const after300 = w.heap().byteLength;
    for (let k = 0; k < 10; k++) cycle(300);
    expect(w.heap().byteLength).toBe(after300);
  });

  it('hands out views into wasm memory when asked (ephemeral payloads), with the same bytes', () => {
    const msgs = [new TextEncoder().encode('abc '.repeat(100)), new TextEncoder().encode('abc abd '.repeat(100))];
    const c = compress(msgs, true);
    const v = new Inflater(true, BIG, { views: true });
    const owned = new Inflater(true, BIG);
    for (let i = 0; i < c.length; i++) {
      const a = v.inflate(c[i]!, true);
      const b = owned.inflate(c[i]!, true);
      expect(Buffer.from(a.data).equals(Buffer.from(msgs[i]!))).toBe(true);
      expect(a.data.buffer).toBe(wasmInflate()!.heap().buffer);
      expect(b.data.byteLength).toBe(b.data.buffer.byteLength);
    }
    v.close();
    owned.close();
  });
});
