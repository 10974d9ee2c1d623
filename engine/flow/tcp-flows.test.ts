/**
 * The flow table's eviction by capture time and by the cap (tcp-flows.ts), on captures built
 * with the test kit: which flows go, what is emitted for them, what the finding counts.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Conv, pcap, SYN, type Rec } from '../../test/kit/capture';
import { cf } from '../../test/kit/websocket';
import { analyzeFile, type PipelineOptions } from '../pipeline';
import type { EngineEvent, FindingEvent } from '../../shared/events';
import { ESTABLISHED_IDLE_S, TRANSITORY_IDLE_S } from './tcp-flows';

const S = 1_000_000;

async function decode(recs: Rec[], opts: Partial<PipelineOptions> = {}): Promise<EngineEvent[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'wsscope-flows-')), 'flows.pcap');
  writeFileSync(file, pcap([...recs].sort((a, b) => a.tsUs - b.tsUs), { linkType: 1 }));
  const evs: EngineEvent[] = [];
  await analyzeFile(file, (e) => evs.push(e), opts);
  return evs;
}

const evicted = (evs: EngineEvent[]): FindingEvent[] => evs.filter((e): e is FindingEvent => e.type === 'finding' && e.id === 'evicted-flows');

describe('flow eviction', () => {
  it('evicts a SYN left unanswered past 4 minutes and a connection quiet past 2 h 4 min', async () => {
    const t0 = 1_700_000_000 * S;
    const syn = new Conv({ clientPort: 40001, t0 });
    syn.push(syn.segment('c', syn.seq.c, SYN, new Uint8Array(0)));
    const quiet = new Conv({ clientPort: 40002, t0 }).upgrade();
    quiet.send('c', cf(1, 'hello'));
    // a connection at 300 s: the SYN has been idle for more than TRANSITORY_IDLE_S by then
    const later = new Conv({ clientPort: 40003, t0: t0 + 300 * S }).upgrade();
    later.send('c', cf(1, 'later'));
    later.close();
    // the quiet connection speaks again after ESTABLISHED_IDLE_S: it was evicted, this is a new one
    quiet.t = t0 + (ESTABLISHED_IDLE_S + 10) * S;
    quiet.send('c', cf(1, 'back'));
    const evs = await decode([...syn.recs, ...quiet.recs, ...later.recs]);
    const conns = evs.filter((e) => e.type === 'connection').map((e) => (e.type === 'connection' ? e.client : ''));
    expect(conns).toEqual(['127.0.0.1:40001', '127.0.0.1:40002', '127.0.0.1:40003', '127.0.0.1:40002']);
    const ends = evs.filter((e) => e.type === 'connection-end').map((e) => (e.type === 'connection-end' ? [e.conn, e.reason, e.ts - t0 / S] : []));
    // the SYN ends when the packet at 300 s arrives, the quiet one when its own next packet does
    expect(ends[0]).toEqual([1, 'eof', expect.closeTo(300, 0)]);
    expect(ends[2]).toEqual([2, 'eof', expect.closeTo(ESTABLISHED_IDLE_S + 10, 0)]);
    expect(TRANSITORY_IDLE_S).toBeLessThan(300);
    const f = evicted(evs);
    expect(f).toHaveLength(1);
    expect(f[0].text).toMatch(/^2 TCP flow\(s\) were evicted before they ended: 1 without payload .*, 1 with payload/);
  });

  it('gives up the least recently active flow over the cap, ended flows first', async () => {
    const t0 = 1_700_000_000 * S;
    const recs: Rec[] = [];
    // an ended connection, an open one that keeps talking, then three SYNs over a cap of 3
    const done = new Conv({ clientPort: 41001, t0 }).upgrade();
    done.send('c', cf(1, 'done'));
    done.close();
    const busy = new Conv({ clientPort: 41002, t0: t0 + S }).upgrade();
    busy.send('c', cf(1, 'one'));
    recs.push(...done.recs, ...busy.recs);
    for (let i = 0; i < 3; i++) {
      const c = new Conv({ clientPort: 41010 + i, t0: t0 + (2 + i) * S });
      recs.push(c.push(c.segment('c', c.seq.c, SYN, new Uint8Array(0))));
      busy.t = t0 + (2 + i) * S + 500_000;
      busy.send('c', cf(1, `more ${i}`));
    }
    recs.push(...busy.recs.slice(-3));
    const evs = await decode(recs, { maxFlows: 3 });
    // the busy connection decoded every message: never evicted
    const busyMsgs = evs.filter((e) => e.type === 'message' && e.conn === 2).length;
    expect(busyMsgs).toBe(4);
    // the ended one went first (not counted), then the oldest SYN
    const f = evicted(evs);
    expect(f).toHaveLength(1);
    expect(f[0].text).toMatch(/^1 TCP flow\(s\) were evicted before they ended: 1 without payload/);
    const firstEnd = evs.find((e) => e.type === 'connection-end' && e.conn === 3);
    expect(firstEnd && firstEnd.type === 'connection-end' && firstEnd.reason).toBe('eof');
  });
});
