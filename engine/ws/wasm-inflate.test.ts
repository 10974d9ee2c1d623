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

/** DEFLATE bit writer (RFC 1951 section 3.1.1): values LSB first, Huffman codes MSB first. */
class Bits {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  bits(value: number, count: number): this {
    for (let i = 0; i < count; i++) this.bit((value >> i) & 1);
    return this;
  }
  code(code: number, len: number): this {
    for (let i = len - 1; i >= 0; i--) this.bit((code >> i) & 1);
    return this;
  }
  private bit(b: number): void {
    this.acc |= b << this.n;
    if (++this.n === 8) {
      this.bytes.push(this.acc);
      this.acc = this.n = 0;
    }
  }
  done(): Uint8Array {
    return new Uint8Array(this.n ? [...this.bytes, this.acc] : this.bytes);
  }
}

const PRECODE_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * A dynamic block header (BFINAL=1) whose precode gives symbols 0-14 and 18 four bits each
 * (a complete code: symbol s < 15 is code s, 18 is 1111), then `lens` written with it
 * (`{ zeros: n }` is symbol 18, a run of n zeros). Returns the writer to append the block's
 * symbols; `hlit`/`hdist` override the counts in the header.
 */
function dynamicHeader(nlit: number, ndist: number, lens: (number | { zeros: number })[], precode?: number[]): Bits {
  const w = new Bits().bits(1, 1).bits(2, 2).bits(nlit - 257, 5).bits(ndist - 1, 5);
  const pl = precode ?? PRECODE_ORDER.map((s) => (s < 15 || s === 18 ? 4 : 0));
  const used = precode ? pl.length : 18; // up to symbol 1 in PRECODE_ORDER
  w.bits(used - 4, 4);
  for (let i = 0; i < used; i++) w.bits(pl[i]!, 3);
  for (const l of lens) {
    if (typeof l === 'number') w.code(l, 4);
    else w.code(15, 4).bits(l.zeros - 11, 7);
  }
  return w;
}

/** what every path says of one message, and libdeflate's own verdict on the bare stream */
function verdicts(stream: Uint8Array): { paths: InflateResult[]; wasmRc: number } {
  const paths = agree(false, [{ input: stream }]);
  const w = wasmInflate()!;
  const inp = w.load(stream, new Uint8Array(0));
  const out = w.shared(1 << 16);
  return { paths, wasmRc: w.inflate(inp, stream.length, out, 1 << 16, 0) };
}

describe('wasm inflater: zlib strictness (native/libdeflate.patch)', () => {
  // litlen code for the blocks below: 'a' (97) '0', end-of-block '10', length 3 (257) '11'
  const litlen = (): (number | { zeros: number })[] => [{ zeros: 97 }, 1, { zeros: 138 }, { zeros: 20 }, 2, 2];

  it('builds valid dynamic blocks (the control: "aaaa" from a literal and a match)', () => {
    const w = dynamicHeader(258, 1, [...litlen(), 1]).code(0, 1).code(3, 2).code(0, 1).code(2, 2);
    const { paths, wasmRc } = verdicts(w.done());
    expect(Buffer.from(paths[0]!.data).toString()).toBe('aaaa');
    expect(paths[0]!.error).toBeUndefined();
    expect(wasmRc).toBe(0);
  });

  // fixed-code symbols (RFC 1951 section 3.2.6): literal 'a' (97) is 8 bits 0x30 + 97,
  // lengths 257-279 are 7 bits from 0, 280-287 are 8 bits from 0xc0; offsets 5 bits
  const fixedA = (w: Bits): Bits => w.code(0x30 + 97, 8);
  const fixed = (): Bits => fixedA(new Bits().bits(1, 1).bits(1, 2));
  // Each stream but two is one that upstream libdeflate 1.14 decodes without an error
  // (checked once against an unpatched build): the patch is what makes these refusals.
  const cases: [string, () => Uint8Array, string][] = [
    // upstream: length 258, then "a" x 259
    ['litlen symbol 286 in a fixed block', () => fixed().code(0xc0 + 6, 8).code(0, 5).code(0, 7).done(), 'invalid literal/length code'],
    // 'a', 96 matches of 258 at distance 1 (24,769 bytes), then length 3 at offset symbol 30
    // (upstream: 24577 + 13 extra bits, here 0), then end-of-block
    [
      'offset symbol 30 in a fixed block',
      () => {
        const w = fixed();
        for (let i = 0; i < 96; i++) w.code(0xc0 + 5, 8).code(0, 5);
        return w.code(1, 7).code(30, 5).bits(0, 13).code(0, 7).done();
      },
      'invalid distance code',
    ],
    // upstream: a 287-symbol litlen code decoding "a"
    ['287 litlen codes (HLIT 30)', () => dynamicHeader(287, 1, [...litlen(), { zeros: 29 }, 1]).code(0, 1).code(2, 2).done(), 'too many length or distance symbols'],
    ['31 offset codes (HDIST 30)', () => dynamicHeader(258, 31, [...litlen(), 1, { zeros: 30 }]).code(0, 1).code(2, 2).done(), 'too many length or distance symbols'],
    // the offset lengths are a run of 11 zeros where 1 length is left (upstream: an empty offset code)
    ['a run of zero lengths past the last code', () => dynamicHeader(258, 1, [...litlen(), { zeros: 11 }]).code(0, 1).code(2, 2).done(), 'invalid bit length repeat'],
    // a match at offset symbol 0 of an empty offset code (upstream: distance 1, "aaaa")
    ['a match in a block whose offset code is empty', () => dynamicHeader(258, 1, [...litlen(), 0]).code(0, 1).code(3, 2).code(0, 1).code(2, 2).done(), 'invalid distance code'],
    // the two that upstream refuses too, but only once the input runs out: a block without an
    // end-of-block code decodes literals until then, a single-code precode makes every length the same
    ['no end-of-block code', () => dynamicHeader(258, 1, [{ zeros: 97 }, 1, 1, { zeros: 138 }, { zeros: 21 }, 1]).bits(0, 4096).done(), 'invalid code -- missing end-of-block'],
    ['an incomplete precode (one code of length 1)', () => dynamicHeader(258, 1, [], [0, 0, 0, 1]).bits(0, 32).done(), 'invalid code lengths set'],
  ];
  for (const [name, make, detail] of cases) {
    it(`refuses ${name}, like zlib`, () => {
      const { paths, wasmRc } = verdicts(make());
      expect(paths[0]!.error).toBe('corrupt');
      expect(paths[0]!.detail).toBe(detail);
      // libdeflate itself refuses it (LIBDEFLATE_BAD_DATA), not just the zlib fallback
      expect(wasmRc).toBe(1);
    });
  }
});
