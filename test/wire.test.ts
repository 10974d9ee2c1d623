import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { base64ToBytesJs, bytesToBase64Js, decodeWire, encodeWire } from '../shared/wire';

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
});
