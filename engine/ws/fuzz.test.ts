/**
 * Property tests: TcpSession never throws (nor swallows an internal error) on arbitrary bytes,
 * arbitrary splits, gaps and mid-stream starts, with every detection mode; and a valid stream
 * decodes the same however it is split.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { constants, deflateRawSync } from 'node:zlib';
import type { Direction, EngineEvent, MessageEvent } from '../../shared/events';
import { DEFAULT_SESSION_OPTIONS, TcpSession } from './session';
import { concat as concatAll } from '../../test/kit/bytes';
import { cf, sf } from '../../test/kit/websocket';
import { normalise, run, upgradeRequest, upgradeResponse, type Step } from '../../test/kit/session';

const chunk = fc.record({
  dir: fc.constantFrom<Direction>('client', 'server'),
  bytes: fc.uint8Array({ maxLength: 300 }),
  skip: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(-1), fc.integer({ min: 1, max: 5000 })),
});

describe('robustness', () => {
  it('never throws on random chunks, gaps and modes', () => {
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 40 }), fc.boolean(), fc.boolean(), fc.boolean(), (chunks, assume, heuristic, prefixHandshake) => {
        const events: EngineEvent[] = [];
        const s = new TcpSession(1, (e) => events.push(e), { frames: 0, messages: 0 }, { ...DEFAULT_SESSION_OPTIONS, assumeWebSocket: assume, heuristic, maxMessageBytes: 4096, maxInflate: 65536 });
        let p = 0;
        if (prefixHandshake) {
          s.data('client', new TextEncoder().encode(upgradeRequest(['Sec-WebSocket-Extensions: permessage-deflate'])), 0, { ts: 0, packet: ++p });
          s.data('server', new TextEncoder().encode(upgradeResponse(['Sec-WebSocket-Extensions: permessage-deflate'])), 0, { ts: 0, packet: ++p });
        }
        for (const c of chunks) s.data(c.dir, c.bytes, c.skip, { ts: p, packet: ++p });
        s.end('client', 'fin', { ts: p, packet: ++p });
        s.finish({ ts: p, packet: ++p });
        expect(s.lastError).toBeNull();
        for (const e of events) if (e.type === 'message') expect(e.data.length).toBeLessThanOrEqual(65536);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on mutated valid streams (flipped bytes, cuts) with compression negotiated', () => {
    const z = deflateRawSync(Buffer.from('compress me '.repeat(40)), { finishFlush: constants.Z_SYNC_FLUSH });
    const server = concatAll([sf(1, z.subarray(0, z.length - 4), { rsv1: true }), sf(9, 'x'), sf(2, new Uint8Array(300).fill(1), { fin: false }), sf(0, 'end'), sf(8, new Uint8Array([3, 232, 0x61]))]);
    const client = concatAll([cf(1, z.subarray(0, z.length - 4), { rsv1: true }), cf(10, 'x'), cf(2, new Uint8Array(200), { lenForm: 64 }), cf(8, new Uint8Array([3, 232]))]);
    const PMD = 'Sec-WebSocket-Extensions: permessage-deflate';
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (flips, split, cut) => {
          const sv = server.slice();
          const cv = client.slice();
          for (const [at, v] of flips) {
            if (at & 1) sv[(at >> 1) % sv.length] = v;
            else cv[(at >> 1) % cv.length] = v;
          }
          const r = run(
            [
              ['client', upgradeRequest([PMD])],
              ['server', upgradeResponse([PMD])],
              ['server', sv.subarray(0, sv.length - (cut % 20))],
              ['client', cv],
            ],
            {},
            split,
          );
          expect(r.session.lastError).toBeNull();
        },
      ),
      { numRuns: 400 },
    );
  });

  it('after a 64-bit length with the high bit set, skips what follows without taking such headers for frames', () => {
    const one = new Uint8Array([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    const many = new Uint8Array(one.length * 100_000);
    for (let i = 0; i < 100_000; i++) many.set(one, i * one.length);
    const events: EngineEvent[] = [];
    const s = new TcpSession(1, (e) => events.push(e), { frames: 0, messages: 0 }, { ...DEFAULT_SESSION_OPTIONS, assumeWebSocket: true });
    s.data('server', concatAll([many, sf(1, 'found')]), 0, { ts: 0, packet: 1 });
    s.finish({ ts: 0, packet: 2 });
    expect(s.lastError).toBeNull();
    expect(events.filter((e) => e.type === 'frame')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'finding').map((e) => (e.type === 'finding' ? e.id : ''))).toEqual(['no-handshake', 'length-high-bit-set', 'resync']);
    const m = events.filter((e): e is MessageEvent => e.type === 'message');
    expect(new TextDecoder().decode(m[1].data)).toBe('found');
  });

  it('decodes a valid stream identically under any split', () => {
    const steps: Step[] = [
      ['client', upgradeRequest()],
      ['server', concatAll([new TextEncoder().encode(upgradeResponse()), sf(1, 'hello', { fin: false }), sf(9, 'p'), sf(0, ' world')])],
      ['client', concatAll([cf(10, 'p'), cf(2, new Uint8Array(700).fill(7)), cf(8, new Uint8Array([3, 232]))])],
    ];
    const whole = normalise(run(steps).events);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }), (split) => {
        expect(normalise(run(steps, {}, split).events)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });
});
