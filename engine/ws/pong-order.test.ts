/**
 * Pings and pongs are matched by capture time, not by the order the two directions are
 * emitted in: after a TCP hole one direction can be emitted behind the other (engine/ws/
 * assembler.ts, PongWait).
 */
import { describe, it, expect } from 'vitest';
import type { EngineEvent, FindingEvent } from '../../shared/events';
import { DEFAULT_SESSION_OPTIONS, TcpSession } from './session';
import { cf, sf } from '../../test/kit/websocket';
import { upgradeRequest, upgradeResponse } from '../../test/kit/session';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** feeds [dir, bytes, capture time] in the order given (emission order), then ends both directions */
function feed(steps: Array<['client' | 'server', Uint8Array, number]>): FindingEvent[] {
  const events: EngineEvent[] = [];
  const s = new TcpSession(1, (e) => events.push(e), { frames: 0, messages: 0 }, DEFAULT_SESSION_OPTIONS);
  s.data('client', enc(upgradeRequest()), 0, { ts: 1, packet: 1 });
  s.data('server', enc(upgradeResponse()), 0, { ts: 2, packet: 2 });
  let packet = 3;
  for (const [dir, bytes, ts] of steps) s.data(dir, bytes, 0, { ts, packet: packet++ });
  s.finish({ ts: 100, packet });
  return events.filter((e): e is FindingEvent => e.type === 'finding');
}

describe('ping/pong matching by capture time', () => {
  it('accepts a pong emitted before the ping it answers (the pinging direction lagged)', () => {
    // the client's ping (t=3) comes out after the server's pong (t=4)
    expect(feed([['server', sf(10, 'p'), 4], ['client', cf(9, 'p'), 3]])).toEqual([]);
    // the same, both ways, with a data message of the lagging side in between
    expect(feed([['server', sf(10, 'a'), 5], ['server', sf(9, 'b'), 6], ['client', cf(9, 'a'), 3], ['client', cf(1, 'x'), 4], ['client', cf(10, 'b'), 7]])).toEqual([]);
  });

  it('reports a pong that no earlier ping answers once the other side has moved past it', () => {
    // the ping (t=5) was sent after the pong (t=4): it cannot be what the pong answers
    const f = feed([['client', cf(9, 'p'), 5], ['server', sf(10, 'p'), 4]]);
    expect(f.map((x) => [x.id, x.dir, x.packet, x.ts])).toEqual([['unsolicited-pong', 'server', 4, 4]]);
    // an unanswered pong while the client says nothing more: reported when the client's stream ends
    const g = feed([['server', sf(10, 'q'), 4]]);
    expect(g.map((x) => [x.id, x.frame])).toEqual([['unsolicited-pong', 0]]);
  });

  it('reports a pong whose payload matches none of the pings before it', () => {
    const f = feed([['client', cf(9, 'one'), 3], ['server', sf(10, 'two'), 4], ['client', cf(1, 'later'), 5]]);
    expect(f.map((x) => x.id)).toEqual(['pong-mismatch']);
  });

  it('matches large pings by digest and length (the queues keep no large payloads)', () => {
    const big = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
    // an oversized ping (a violation of its own) answered by its echo: matched
    const ok = feed([['client', cf(9, big(10_000, 1)), 3], ['server', sf(10, big(10_000, 1)), 4], ['client', cf(1, 'later'), 5]]);
    expect(ok.map((x) => x.id)).toEqual(['control-frame-too-long', 'control-frame-too-long']);
    // the same length, one byte different; and the same first 4096 bytes, longer
    const other = big(10_000, 1);
    other[9_999] ^= 1;
    const bad = feed([['client', cf(9, big(10_000, 1)), 3], ['server', sf(10, other), 4], ['server', sf(10, big(10_001, 1)), 5], ['client', cf(1, 'later'), 6]]);
    expect(bad.filter((x) => x.id !== 'control-frame-too-long').map((x) => [x.id, x.text])).toEqual([
      ['pong-mismatch', 'Pong payload (10000 bytes) matches none of the 1 outstanding ping(s).'],
      ['unsolicited-pong', 'Pong from the server with no outstanding ping from the client.'],
    ]);
  });
});
