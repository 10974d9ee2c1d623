/**
 * Inflater: the streaming path (one zlib stream per direction driven through the binding's
 * handle) against the one-call-per-message fallback, on payloads compressed by real deflaters:
 * Python's zlib (a compressor kept across messages, as a sender with context takeover does,
 * RFC 7692 section 7.2.3) and Node's deflateRawSync with a preset dictionary. Both paths must
 * give the same data and the same errors, and the data must be the plaintext.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { constants, deflateRawSync } from 'node:zlib';
import { Inflater, streamingAvailable, type InflateResult } from './inflate';

const BIG = 1 << 30;

/** Deterministic text-like messages that refer back to each other (shared vocabulary, repeated records). */
function corpus(n: number, seed: number): Uint8Array[] {
  let x = seed >>> 0;
  const rnd = (): number => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const words = ['price', 'symbol', 'bid', 'ask', 'volume', 'trade', 'order', 'cancel', 'user', 'session', 'heartbeat', 'update'];
  const out: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < n; i++) {
    const r = rnd();
    // mostly small, some past the 32 KiB window and the 64 KiB first output buffer, a few random bytes
    const size = i === 5 ? 0 : r < 0.05 ? 200_000 : r < 0.15 ? 40_000 : Math.floor(rnd() * 3000);
    if (r > 0.95) {
      const b = new Uint8Array(size);
      for (let j = 0; j < size; j++) b[j] = (rnd() * 256) | 0;
      out.push(b);
      continue;
    }
    let s = '';
    while (s.length < size) s += `{"${words[(rnd() * words.length) | 0]}":${(rnd() * 1000) | 0},"seq":${i}}`;
    out.push(enc.encode(s.slice(0, size)));
  }
  return out;
}

type Mode = 'sync' | 'split' | 'final';

/**
 * Compresses messages with Python's zlib, one compressor per session (context takeover) or per
 * message (`fresh`), raw deflate with `wbits`, each flushed with Z_SYNC_FLUSH and its 00 00 ff ff
 * removed (RFC 7692 section 7.2.1). 'split' flushes mid-message too; 'final' ends the deflate
 * stream (BFINAL) and continues with a new compressor preset with the window.
 */
function pyDeflate(messages: Uint8Array[], wbits: number, fresh: boolean, modes: Mode[] = []): Uint8Array[] {
  const script = `
import sys, json, zlib
req = json.load(sys.stdin)
w = req['wbits']
def new(hist):
    return zlib.compressobj(6, zlib.DEFLATED, -w, 8, zlib.Z_DEFAULT_STRATEGY, hist[-(1 << w):]) if hist else zlib.compressobj(6, zlib.DEFLATED, -w)
c = new(b''); hist = b''; res = []
for i, h in enumerate(req['messages']):
    data = bytes.fromhex(h); mode = req['modes'][i] if i < len(req['modes']) else 'sync'
    if req['fresh']: c = new(b'')
    if mode == 'final':
        d = c.compress(data) + c.flush(zlib.Z_FINISH)
        hist = (hist + data)[-32768:]
        c = new(hist)
    else:
        if mode == 'split':
            d = c.compress(data[:len(data) // 2]) + c.flush(zlib.Z_SYNC_FLUSH) + c.compress(data[len(data) // 2:]) + c.flush(zlib.Z_SYNC_FLUSH)
        else:
            d = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
        assert d[-4:] == b'\\x00\\x00\\xff\\xff'
        d = d[:-4]
        hist = (hist + data)[-32768:]
    res.append(d.hex())
json.dump(res, sys.stdout)
`;
  const input = JSON.stringify({ wbits, fresh, modes, messages: messages.map((m) => Buffer.from(m).toString('hex')) });
  const r = spawnSync('python3', ['-c', script], { input, maxBuffer: 1 << 28, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return (JSON.parse(r.stdout) as string[]).map((h) => new Uint8Array(Buffer.from(h, 'hex')));
}

interface Step {
  input: Uint8Array;
  complete?: boolean;
  limit?: number;
}

/** Runs the same messages through the three paths (wasm, zlib stream, zlib once) and checks they agree; returns the wasm results. */
function both(takeover: boolean | null, steps: Step[]): InflateResult[] {
  const engines = [new Inflater(takeover, BIG), new Inflater(takeover, BIG, { engine: 'stream' }), new Inflater(takeover, BIG, { engine: 'once' })];
  expect(engines.map((e) => e.engineKind)).toEqual(['wasm', 'stream', 'once']);
  const out: InflateResult[] = [];
  steps.forEach((st, i) => {
    const [a, ...others] = engines.map((e) => e.inflate(st.input, st.complete ?? true, st.limit));
    for (const [k, b] of others.entries()) {
      const where = `message ${i}, wasm against ${k === 0 ? 'stream' : 'once'}`;
      expect(a!.error, where).toBe(b.error);
      expect(a!.partial, where).toBe(b.partial);
      expect(a!.detail, where).toBe(b.detail);
      expect(Buffer.from(a!.data).equals(Buffer.from(b.data)), where).toBe(true);
    }
    // an event owns exactly its bytes
    expect(a!.data.byteLength, `message ${i}`).toBe(a!.data.buffer.byteLength);
    out.push(a!);
  });
  for (const e of engines) e.close();
  return out;
}

function expectPlain(results: InflateResult[], plain: Uint8Array[]): void {
  results.forEach((r, i) => {
    expect(r.error, `message ${i}`).toBeUndefined();
    expect(Buffer.from(r.data).equals(Buffer.from(plain[i]!)), `message ${i}`).toBe(true);
  });
}

describe('Inflater', () => {
  it('takes the streaming path on this Node', () => {
    expect(streamingAvailable()).toBe(true);
  });

  it('inflates many messages with context takeover identically on both paths', () => {
    const plain = corpus(120, 1);
    expectPlain(both(true, pyDeflate(plain, 15, false).map((input) => ({ input }))), plain);
  });

  it('inflates messages of a sender with an unknown negotiation (takeover null) like takeover', () => {
    const plain = corpus(60, 2);
    expectPlain(both(null, pyDeflate(plain, 15, false).map((input) => ({ input }))), plain);
  });

  it('inflates no-context-takeover messages, each against an empty window', () => {
    const plain = corpus(80, 3);
    expectPlain(both(false, pyDeflate(plain, 15, true).map((input) => ({ input }))), plain);
  });

  it('without takeover, a message referring to the previous one does not inflate ("too far back")', () => {
    const plain = [new TextEncoder().encode('the same sentence, twice over'), new TextEncoder().encode('the same sentence, twice over')];
    const r = both(false, pyDeflate(plain, 15, false).map((input) => ({ input })));
    expectPlain(r.slice(0, 1), plain);
    expect(r[1]!.error).toBe('corrupt');
    expect(r[1]!.detail).toMatch(/too far back/);
  });

  it('inflates senders with window bits 9 to 15 (zlib keeps them within their window)', () => {
    for (let w = 9; w <= 15; w++) {
      const plain = corpus(40, 10 + w);
      expectPlain(both(true, pyDeflate(plain, w, false).map((input) => ({ input }))), plain);
    }
  });

  it('inflates a window-bits-8 sender (Node deflateRawSync with the previous 256 bytes as dictionary)', () => {
    const plain = corpus(40, 30).map((m) => m.subarray(0, 600));
    let hist = new Uint8Array(0);
    const steps = plain.map((m) => {
      const opts = { windowBits: 8, finishFlush: constants.Z_SYNC_FLUSH, ...(hist.length ? { dictionary: hist.subarray(Math.max(0, hist.length - 256)) } : {}) };
      const d = deflateRawSync(m, opts);
      hist = new Uint8Array([...hist.subarray(Math.max(0, hist.length - 256)), ...m]);
      return { input: new Uint8Array(d.subarray(0, d.length - 4)) };
    });
    expectPlain(both(true, steps), plain);
  });

  it('inflates empty messages (empty payload, and the single 00 of RFC 7692 section 7.2.3.6) without losing the window', () => {
    const plain = corpus(6, 4).filter((m) => m.length > 0);
    const c = pyDeflate(plain, 15, false);
    const empty = new Uint8Array(0);
    const steps: Step[] = [{ input: c[0]! }, { input: empty }, { input: new Uint8Array([0x00]) }, { input: c[1]! }, { input: new Uint8Array([0x00]) }, { input: c[2]! }];
    const r = both(true, steps);
    expectPlain(r, [plain[0]!, empty, empty, plain[1]!, empty, plain[2]!]);
  });

  it('inflates messages flushed several times (a sender flushing per fragment)', () => {
    const plain = corpus(30, 5);
    const c = pyDeflate(plain, 15, false, plain.map(() => 'split'));
    expectPlain(both(true, c.map((input) => ({ input }))), plain);
  });

  it('follows a sender that ends its deflate stream (BFINAL) and starts a new one with the same window', () => {
    const plain = corpus(30, 6);
    const modes: Mode[] = plain.map((_, i) => (i % 4 === 2 ? 'final' : 'sync'));
    expectPlain(both(true, pyDeflate(plain, 15, false, modes).map((input) => ({ input }))), plain);
  });

  it('reports corrupt input, then context-lost for every later message with takeover', () => {
    const plain = corpus(10, 7);
    const c = pyDeflate(plain, 15, false);
    const steps: Step[] = c.map((input) => ({ input }));
    steps[4] = { input: new Uint8Array([0xff, 0xff, 0xff, 0x12, 0x34]) };
    const r = both(true, steps);
    expectPlain(r.slice(0, 4), plain.slice(0, 4));
    expect(r[4]!.error).toBe('corrupt');
    expect(r[4]!.detail).toBe('invalid block type');
    for (const x of r.slice(5)) expect(x).toEqual({ data: new Uint8Array(0), partial: true, error: 'context-lost' });
  });

  it('without takeover, a corrupt message does not affect the next ones', () => {
    const plain = corpus(8, 8);
    const steps: Step[] = pyDeflate(plain, 15, true).map((input) => ({ input }));
    steps[3] = { input: new Uint8Array([0xff, 0xff, 0xff]) };
    const r = both(false, steps);
    expect(r[3]!.error).toBe('corrupt');
    expectPlain(r.slice(4), plain.slice(4));
  });

  it('with an unknown negotiation, says "too far back" for a message referring to uncaptured ones, then recovers on a self-contained one', () => {
    const plain = corpus(12, 9).map((m, i) => (m.length ? m : new TextEncoder().encode(`filler ${i}`)));
    const c = pyDeflate(plain, 15, false);
    const fresh = pyDeflate(plain.slice(8), 15, false);
    // the capture starts at message 6: it refers back to 0..5
    const r = both(null, [{ input: c[6]! }, { input: fresh[0]! }, { input: fresh[1]! }, { input: fresh[2]! }]);
    expect(r[0]!.error).toBe('corrupt');
    expect(r[0]!.detail).toMatch(/too far back/);
    expectPlain(r.slice(1), plain.slice(8, 11));
  });

  it('stops a 1 MiB to 1 GiB bomb at the limit with a prefix of at most the limit, then reports context-lost', () => {
    // 1 MiB of zeros, then 1023 copies of "1 MiB of zeros given a window of zeros"
    const [head, tail] = pyDeflate([new Uint8Array(1 << 20), new Uint8Array(1 << 20)], 15, false);
    // each part gets back the 00 00 ff ff pyDeflate removed (the last one is added by the Inflater)
    const bomb = new Uint8Array(head!.length + 4 + 1023 * (tail!.length + 4) - 4);
    bomb.set(head!);
    for (let i = 0, o = head!.length; i < 1023; i++, o += tail!.length + 4) {
      bomb.set([0, 0, 0xff, 0xff], o);
      bomb.set(tail!, o + 4);
    }
    expect(bomb.length).toBeLessThan(1.2 * (1 << 20));
    const limit = 16 << 20;
    const t0 = performance.now();
    const r = both(true, [{ input: bomb, limit }, { input: head! }]);
    const ms = performance.now() - t0;
    expect(r[0]!.error).toBe('limit');
    expect(r[0]!.partial).toBe(true);
    // the prefix is what the first limit / 1100 input bytes inflate to: at most the limit
    expect(r[0]!.data.length).toBeGreaterThan(limit / 2);
    expect(r[0]!.data.length).toBeLessThanOrEqual(limit);
    expect(r[0]!.data.every((b) => b === 0)).toBe(true);
    expect(r[1]!.error).toBe('context-lost');
    // inflating the whole GiB takes seconds and a GiB of memory; both paths stop at 16 MiB
    expect(ms).toBeLessThan(5000);
  });

  it('cuts a message of a takeover stream at the limit with the same prefix on both paths', () => {
    const plain = corpus(30, 12);
    let k = 0;
    plain.forEach((m, i) => {
      if (m.length > plain[k]!.length) k = i;
    });
    const steps: Step[] = pyDeflate(plain, 15, false).map((input, i) => (i === k ? { input, limit: plain[k]!.length - 1 } : { input }));
    const r = both(true, steps);
    expectPlain(r.slice(0, k), plain.slice(0, k));
    expect(r[k]!.error).toBe('limit');
    expect(r[k]!.data.length).toBeGreaterThan(0);
    expect(Buffer.from(plain[k]!).subarray(0, r[k]!.data.length).equals(Buffer.from(r[k]!.data))).toBe(true);
    for (const x of r.slice(k + 1)) expect(x.error).toBe('context-lost');
  });

  it('inflates a message of exactly the limit, and flags one byte more', () => {
    const plain = [new TextEncoder().encode('x'.repeat(1000) + 'tail')];
    const [c] = pyDeflate(plain, 15, true);
    const ok = both(false, [{ input: c!, limit: 1004 }]);
    expectPlain(ok, plain);
    const over = both(false, [{ input: c!, limit: 1003 }]);
    expect(over[0]!.error).toBe('limit');
    expect(over[0]!.data.length).toBe(0); // 1003 / 1100 input bytes: an empty prefix
  });

  it('inflates what it can of a cut message (complete=false), then loses the window with takeover only', () => {
    const plain = corpus(10, 11).map((m, i) => (m.length > 100 ? m : new TextEncoder().encode(`message ${i} `.repeat(40))));
    const c = pyDeflate(plain, 15, false);
    const cut = c.map((input, i) => (i === 3 ? { input: input.subarray(0, input.length >> 1), complete: false } : { input }));
    const r = both(true, cut);
    expectPlain(r.slice(0, 3), plain.slice(0, 3));
    expect(r[3]!.partial).toBe(true);
    expect(r[3]!.error).toBeUndefined();
    expect(r[3]!.data.length).toBeGreaterThan(0);
    expect(Buffer.from(plain[3]!).subarray(0, r[3]!.data.length).equals(Buffer.from(r[3]!.data))).toBe(true);
    for (const x of r.slice(4)) expect(x.error).toBe('context-lost');

    const cf = pyDeflate(plain, 15, true);
    const rf = both(false, cf.map((input, i) => (i === 3 ? { input: input.subarray(0, input.length >> 1), complete: false } : { input })));
    expect(rf[3]!.partial).toBe(true);
    expectPlain(rf.slice(4), plain.slice(4));
  });
});
