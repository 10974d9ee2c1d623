/**
 * Views into wasm memory (SessionOptions.ephemeralPayloads) must stay whole when the
 * Inflater allocates after inflating: a big message is inflated in the shared buffer, then
 * the direction's window is copied to a region that may have to be allocated, growing wasm
 * memory, which detaches every view made before. This file runs in its own worker, so the
 * module's memory starts small and does grow here.
 */
import { describe, it, expect } from 'vitest';
import { constants, deflateRawSync } from 'node:zlib';
import { Inflater } from './inflate';
import { wasmInflate } from './wasm-inflate';

function big(seed: number): Buffer {
  const b = Buffer.alloc(400_000 + seed * 1000);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = 0x61 + ((x >>> 8) & 15);
  }
  return b;
}

describe('wasm inflater views', () => {
  it('hands out whole views of big messages while wasm memory grows under them', () => {
    const msgs = [big(1), Buffer.from('between'), big(2), big(3)];
    // one sender with context takeover: each message deflated with the previous 32 KiB as its window
    let hist = Buffer.alloc(0);
    const c = msgs.map((m) => {
      const d = deflateRawSync(m, { finishFlush: constants.Z_SYNC_FLUSH, ...(hist.length ? { dictionary: hist } : {}) });
      hist = Buffer.concat([hist, m]).subarray(-32768);
      return new Uint8Array(d.subarray(0, d.length - 4));
    });
    const w = wasmInflate()!;
    const before = w.heap().byteLength;
    const dirs = Array.from({ length: 40 }, () => new Inflater(true, 1 << 30, { views: true }));
    for (let i = 0; i < c.length; i++) {
      for (const d of dirs) {
        const r = d.inflate(c[i]!, true);
        expect(r.error).toBeUndefined();
        expect(Buffer.from(r.data).equals(msgs[i]!), `message ${i}`).toBe(true);
      }
    }
    // the case this guards against did happen: memory grew during the run
    expect(w.heap().byteLength).toBeGreaterThan(before);
    for (const d of dirs) d.close();
  });
});
