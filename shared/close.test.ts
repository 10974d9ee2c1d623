import { describe, it, expect } from 'vitest';
import { closeCode, closeCodeMeaning, closeReason, isValidWireCloseCode } from './close';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const payload = (code: number, reason: Uint8Array | string = ''): Uint8Array => {
  const r = typeof reason === 'string' ? utf8(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
};

describe('close payloads (RFC 6455 section 5.5.1)', () => {
  it('splits a payload into its big-endian code and UTF-8 reason', () => {
    const p = payload(4001, 'über quota');
    expect(closeCode(p)).toBe(4001);
    expect(closeReason(p)).toBe('über quota');
    expect(closeCode(payload(1000))).toBe(1000);
    expect(closeReason(payload(1000))).toBe('');
  });

  it('has no code and no reason in an empty or 1-byte payload', () => {
    expect(closeCode(new Uint8Array(0))).toBeUndefined();
    expect(closeCode(Uint8Array.of(3))).toBeUndefined();
    expect(closeReason(Uint8Array.of(3))).toBe('');
  });

  it('reads a reason from a view into a larger buffer', () => {
    const big = new Uint8Array(64);
    big.set(payload(1001, 'bye'), 10);
    const view = big.subarray(10, 15);
    expect(closeCode(view)).toBe(1001);
    expect(closeReason(view)).toBe('bye');
  });

  it('keeps a leading byte order mark and shows bad sequences as U+FFFD', () => {
    expect(closeReason(payload(1000, Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)))).toBe('\uFEFFA');
    expect(closeReason(payload(1000, Uint8Array.of(0x68, 0x69, 0xff, 0xe2, 0x82)))).toBe('hi\uFFFD\uFFFD');
  });
});

describe('close codes (RFC 6455 section 7.4)', () => {
  it('names registered codes and the ranges of the others', () => {
    expect(closeCodeMeaning(1000)).toBe('Normal Closure');
    expect(closeCodeMeaning(1014)).toBe('Bad Gateway');
    expect(closeCodeMeaning(999)).toBe('Invalid (below 1000)');
    expect(closeCodeMeaning(2000)).toBe('Reserved for future RFCs');
    expect(closeCodeMeaning(3000)).toBe('Registered with IANA (libraries, frameworks)');
    expect(closeCodeMeaning(4999)).toBe('Private use (application)');
    expect(closeCodeMeaning(5000)).toBe('Invalid (5000 and above)');
  });

  it('accepts on the wire exactly the codes an endpoint may send', () => {
    const ok = [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999];
    const bad = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];
    expect(ok.filter(isValidWireCloseCode)).toEqual(ok);
    expect(bad.filter(isValidWireCloseCode)).toEqual([]);
  });
});
