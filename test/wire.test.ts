import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { base64ToBytesJs, bytesToBase64Js, decodeFrame, decodeWire, encodeFrame, encodeWire, type WireMessage } from '../shared/wire';
import { packRows, unpackRows } from '../shared/row-block';
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
    const longer = new Uint8Array(good.length + 8);
    longer.set(good);
    expect(() => decodeFrame(longer)).toThrow();
  });
});
