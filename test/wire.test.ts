import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { base64ToBytesJs, bytesToBase64Js, decodeFrame, decodeWire, encodeFrame, encodeWire, type WireMessage } from '../shared/wire';
import { allocRows, columnViews, packRows, unpackRows } from '../shared/row-block';
import type { Batch, MessageRow } from '../shared/api';

describe('browser-shell wire format', () => {
  it('round-trips typed arrays of every length through JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint32Array({ maxLength: 50 }), (u8, u32) => {
        const back = decodeWire(encodeWire({ t: 'result', id: 1, result: { ok: true, value: { u8, u32, nested: [u8] } } }));
        expect(back).toEqual({ t: 'result', id: 1, result: { ok: true, value: { u8, u32, nested: [u8] } } });
      }),
    );
  });

  it('has a portable base64 that agrees with Node on any bytes, and rejects foreign characters', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200_000 }), (b) => {
        const s = bytesToBase64Js(b);
        expect(s).toBe(Buffer.from(b).toString('base64'));
        expect(Buffer.from(base64ToBytesJs(s)).equals(Buffer.from(b))).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(() => base64ToBytesJs('ab<c')).toThrow();
  });

  it('sends a batch with a row block as one binary frame that decodes to the same batch, the data 8-byte aligned', () => {
    const row = (i: number, preview: string, meaning?: string): MessageRow => ({
      index: i, conn: 1 + (i % 3), dir: i % 2 ? 'server' : 'client', ts: 1_700_000_000 + i / 7, opcode: 1, length: i * 3, wireLength: i * 3 + 2,
      compressed: false, fin: true, rsv: 0, masked: i % 2 === 0, frames: 1, truncated: false, preview, kind: 'text', findings: 0, ...(meaning ? { meaning } : {}),
    });
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }).map((p) => p.replace(/\n/g, ' ')), { maxLength: 40 }), fc.boolean(), (previews, withMeaning) => {
        const rows = previews.map((p, i) => row(i, p, withMeaning && i % 2 ? `m ${p}` : undefined));
        const batch: Batch = { session: 3, connections: [], messages: [], rows: packRows(rows), findings: [], handshakes: [], totals: { packets: 1, messages: rows.length, findings: 0, connections: 1 } };
        const msg: WireMessage = { t: 'push', name: 'batch', payload: batch };
        const frame = encodeFrame(msg);
        expect(frame).toBeInstanceOf(Uint8Array);
        // the page receives an ArrayBuffer of its own
        const received = (frame as Uint8Array).slice().buffer;
        const back = decodeFrame(received);
        expect(back).toEqual(msg);
        const block = (back as { payload: Batch }).payload.rows!;
        expect(block.data.byteOffset % 8).toBe(0);
        expect(unpackRows(block).ts).toEqual(unpackRows(batch.rows!).ts);
      }),
      { numRuns: 80 },
    );
  });

  it('sends each column at the narrowest width that holds it and brings back every value, from any buffer offset', () => {
    // values at the edges of each coding: one value, counting up, u8/u16/u32 limits, fractions, past 2^32, NaN
    const num = fc.oneof(fc.constantFrom(0, 1, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 0.5, NaN), fc.nat(), fc.double({ noNaN: true, min: 0 }));
    const column = fc.oneof(fc.constant('same'), fc.constant('counting'), fc.constant('mixed'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.array(column, { minLength: 9, maxLength: 9 }), fc.array(num, { minLength: 200, maxLength: 200 }), fc.nat(15), (n, kinds, pool, shift) => {
        const { cols, seal } = allocRows(n);
        const arrays = [cols.ts, cols.length, cols.wireLength, cols.index, cols.conn, cols.bits, cols.frames, cols.findings, cols.code];
        arrays.forEach((a, k) => {
          for (let i = 0; i < n; i++) a[i] = kinds[k] === 'same' ? pool[k]! : kinds[k] === 'counting' ? 7 + i : pool[(k * 31 + i) % pool.length]!;
        });
        for (let i = 0; i < n; i++) cols.preview[i] = `p${i}`;
        const batch: Batch = { session: 1, connections: [], messages: [], rows: seal(), findings: [], handshakes: [], totals: { packets: 0, messages: n, findings: 0, connections: 0 } };
        const frame = encodeFrame({ t: 'push', name: 'batch', payload: batch }) as Uint8Array;
        // as Node's ws hands it over: a Buffer that may start anywhere in a larger one
        const host = new Uint8Array(frame.length + shift);
        host.set(frame, shift);
        const back = decodeFrame(host.subarray(shift)) as { payload: Batch };
        const want = columnViews(batch.rows!.data, n);
        const got = columnViews(back.payload.rows!.data, n);
        // -0 travels as 0: compare the numbers, not their signs
        for (let k = 0; k < 9; k++) expect(Array.from(got[k]!, (v) => (v === 0 ? 0 : v))).toEqual(Array.from(want[k]!, (v) => (v === 0 ? 0 : v)));
        expect(back.payload.rows!.previews).toBe(batch.rows!.previews);
      }),
      { numRuns: 300 },
    );
  });

  it('sends a row of small messages in under a third of the block bytes', () => {
    const n = 20_000;
    const { cols, seal } = allocRows(n);
    for (let i = 0; i < n; i++) {
      cols.ts[i] = 1_700_000_000 + i * 1e-4;
      cols.length[i] = 16 + (i % 49);
      cols.wireLength[i] = cols.length[i] + (i % 2 ? 2 : 6);
      cols.index[i] = 40_000 + i;
      cols.conn[i] = 1 + (i % 4);
      cols.bits[i] = 0x41 | (i % 2 ? 0x10 : 0x400);
      cols.frames[i] = 1;
      cols.preview[i] = '';
    }
    const batch: Batch = { session: 1, connections: [], messages: [], rows: seal(), findings: [], handshakes: [], totals: { packets: 0, messages: n, findings: 0, connections: 0 } };
    const frame = encodeFrame({ t: 'push', name: 'batch', payload: batch }) as Uint8Array;
    // ts 8, length 1, wireLength 1, conn 1, bits 2: 13 bytes a row, the empty previews' "\n"s and the header
    expect(frame.length).toBeLessThan(n * 14 + 1000);
    expect(frame.length).toBeGreaterThanOrEqual(n * 13);
    expect(unpackRows((decodeFrame(frame) as { payload: Batch }).payload.rows!).index[n - 1]).toBe(40_000 + n - 1);
  });

  it('keeps every other message JSON text, and refuses malformed binary frames', () => {
    const progress: WireMessage = { t: 'push', name: 'progress', payload: { session: 1, bytesRead: 1, totalBytes: 2, packets: 1, messages: 0, done: false } } as WireMessage;
    expect(typeof encodeFrame(progress)).toBe('string');
    const noRows: WireMessage = { t: 'push', name: 'batch', payload: { session: 1, connections: [], messages: [], findings: [], handshakes: [], totals: { packets: 0, messages: 0, findings: 0, connections: 0 } } };
    expect(typeof encodeFrame(noRows)).toBe('string');
    const good = encodeFrame({ t: 'push', name: 'batch', payload: { ...(noRows.payload as Batch), rows: packRows([]) } }) as Uint8Array;
    expect(decodeFrame(good)).toMatchObject({ t: 'push', name: 'batch' });
    expect(() => decodeFrame(new Uint8Array([1, 2, 3]))).toThrow();
    expect(() => decodeFrame(good.subarray(0, good.length - 1))).toThrow();
    const wrongMagic = good.slice();
    wrongMagic[0] ^= 1;
    expect(() => decodeFrame(wrongMagic)).toThrow();
    // a header whose column codings do not add up to the bytes sent
    const lying = encodeFrame({ t: 'push', name: 'batch', payload: { ...(noRows.payload as Batch), rows: packRows([]) } }) as Uint8Array;
    const text = new TextDecoder().decode(lying.subarray(8, 8 + new DataView(lying.buffer).getUint32(4, true)));
    expect(text).toContain('["c",0]');
    const bad = new TextEncoder().encode(text.replace('["c",0]', '["u64"]'));
    const forged = new Uint8Array(8 + bad.length);
    forged.set(lying.subarray(0, 8));
    new DataView(forged.buffer).setUint32(4, bad.length, true);
    forged.set(bad, 8);
    expect(() => decodeFrame(forged)).toThrow(/bad row block header/);
    const longer = new Uint8Array(good.length + 8);
    longer.set(good);
    expect(() => decodeFrame(longer)).toThrow();
  });
});
