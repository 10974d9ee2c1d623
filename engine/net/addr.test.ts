import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { AddressCache, formatIPv4, formatIPv6 } from './addr';
import { ipv6Addr } from '../../test/kit/capture';

const v6 = (s: string): string => formatIPv6(ipv6Addr(s), 0);

describe('formatIPv6 (RFC 5952)', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // 4.1 leading zeros, 4.2.1 longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 first of equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 longest run wins
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 a single 0 group is not compressed
    ['2001:DB8::AAAA', '2001:db8::aaaa'], // 4.3 lower case
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'], // section 5, IPv4-mapped
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:0:4:5:6:7:8', '1::4:5:6:7:8'],
  ])('%s -> %s', (input, want) => {
    expect(v6(input)).toBe(want);
  });

  it('agrees with the WHATWG URL serialiser (which also follows RFC 5952) on random addresses', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
        const b = new Uint8Array(16);
        g.forEach((x, i) => {
          b[2 * i] = x >> 8;
          b[2 * i + 1] = x & 0xff;
        });
        const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
        fc.pre(!mapped);
        const hex = g.map((x) => x.toString(16)).join(':');
        expect(formatIPv6(b, 0)).toBe(new URL(`http://[${hex}]/`).hostname.slice(1, -1));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('AddressCache', () => {
  it('formats IPv4 dotted and returns the identical cached string for a repeated address', () => {
    const c = new AddressCache();
    const b = Uint8Array.of(0, 192, 168, 1, 20);
    expect(c.v4(b, 1)).toBe('192.168.1.20');
    expect(formatIPv4(b, 1)).toBe('192.168.1.20');
    expect(c.v4(Uint8Array.of(192, 168, 1, 20), 0)).toBe(c.v4(b, 1));
  });

  it('writes every octet value in every position as decimal text', () => {
    const wrong: string[] = [];
    for (let v = 0; v < 256; v++) {
      for (let pos = 0; pos < 4; pos++) {
        const q = [7, 77, 177, 0];
        q[pos] = v;
        if (formatIPv4(Uint8Array.from(q), 0) !== q.map(String).join('.')) wrong.push(q.join(','));
      }
    }
    expect(wrong).toEqual([]);
  });

  it('never returns a stale string when addresses collide in its slots', () => {
    const c = new AddressCache();
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 2000 }), (addrs) => {
        for (const a of addrs) {
          expect(c.v6(a, 0)).toBe(formatIPv6(a, 0));
          expect(c.v4(a, 3)).toBe(formatIPv4(a, 3));
        }
      }),
      { numRuns: 50 },
    );
    // deliberately colliding IPv4 keys (same low bits)
    for (let i = 0; i < 5000; i++) {
      const a = Uint8Array.of(10, (i * 4) & 0xff, i >> 6, i & 0xff);
      expect(c.v4(a, 0)).toBe(`10.${(i * 4) & 0xff}.${i >> 6}.${i & 0xff}`);
    }
  });
});
