import { describe, it, expect } from 'vitest';
import { endpointString, FlowMap, type Endpoint } from './flow-map';

interface Flow {
  a: Endpoint;
  b: Endpoint;
  mapKey: number;
}

const tuple = (src: string, dst: string, sp: number, dp: number): string => `${src}|${dst}|${sp}|${dp}`;

describe('FlowMap', () => {
  it('agrees with a map keyed by the whole 4-tuple under churn, shared port pairs and growth', () => {
    // few addresses and ports: many flows share a port pair, runs wrap around the table,
    // deletions shift entries back; up to 1,500 flows at once (3,000 keys: the table grows)
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const map = new FlowMap<Flow>();
    const ref = new Map<string, Flow>();
    const live: Flow[] = [];
    const addrs = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '::1'];
    // churn around 200 flows (before the table first grows), then around 1,500 (after)
    for (const [steps, target] of [
      [40_000, 200],
      [40_000, 1_500],
    ]) {
      for (let step = 0; step < steps; step++) {
        const src = addrs[rnd(8)];
        const dst = addrs[rnd(8)];
        const sp = 1 + rnd(12);
        const dp = rnd(2) === 0 ? 80 : 1 + rnd(12);
        const found = map.get(src, dst, sp, dp);
        expect(found).toBe(ref.get(tuple(src, dst, sp, dp)));
        if (found === undefined && live.length < target) {
          const f: Flow = { a: { addr: src, port: sp, v6: false }, b: { addr: dst, port: dp, v6: false }, mapKey: 0 };
          map.add(f);
          ref.set(tuple(src, dst, sp, dp), f);
          ref.set(tuple(dst, src, dp, sp), f);
          live.push(f);
        } else if (live.length >= target) {
          const f = live.splice(rnd(live.length), 1)[0];
          map.delete(f);
          ref.delete(tuple(f.a.addr, f.b.addr, f.a.port, f.b.port));
          ref.delete(tuple(f.b.addr, f.a.addr, f.b.port, f.a.port));
        }
      }
      expect(live.length).toBeGreaterThanOrEqual(target - 1);
    }
    // every live flow is found from both directions, nothing else is
    for (const f of live) {
      expect(map.get(f.a.addr, f.b.addr, f.a.port, f.b.port)).toBe(f);
      expect(map.get(f.b.addr, f.a.addr, f.b.port, f.a.port)).toBe(f);
    }
    for (const f of live.splice(0)) map.delete(f);
    for (const k of ref.keys()) {
      const [src, dst, sp, dp] = k.split('|');
      expect(map.get(src, dst, Number(sp), Number(dp))).toBeUndefined();
    }
  });
});

describe('endpointString', () => {
  it('writes every port as String does, for IPv4 and IPv6', () => {
    const wrong: string[] = [];
    for (let port = 0; port <= 0xffff; port++) {
      if (endpointString({ addr: '192.0.2.1', port, v6: false }) !== `192.0.2.1:${String(port)}`) wrong.push(`v4 ${port}`);
      if (endpointString({ addr: '2001:db8::1', port, v6: true }) !== `[2001:db8::1]:${String(port)}`) wrong.push(`v6 ${port}`);
    }
    expect(wrong).toEqual([]);
    // not a port a header can hold: written as String writes it all the same
    for (const port of [-1, 65536, 1.5]) expect(endpointString({ addr: '10.0.0.1', port, v6: false })).toBe(`10.0.0.1:${String(port)}`);
  });
});
