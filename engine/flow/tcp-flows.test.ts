/**
 * The flow table's eviction by capture time and by the cap (tcp-flows.ts), on captures built
 * with the test kit: which flows go, what is emitted for them, what the finding counts.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Conv, pcap, SYN, type Rec } from '../../test/kit/capture';
import { cf, sf } from '../../test/kit/websocket';
import { analyzeFile, type PipelineOptions } from '../pipeline';
import type { EngineEvent, FindingEvent } from '../../shared/events';
import { ESTABLISHED_IDLE_S, TRANSITORY_IDLE_S } from './tcp-flows';

const S = 1_000_000;
const utf8 = new TextDecoder();

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

describe('flow table keys and reuse', () => {
  it('keeps apart two connections on the same port pair between different addresses', async () => {
    const t0 = 1_700_000_000 * S;
    const v4 = new Conv({ clientPort: 42001, t0 }).upgrade();
    const v6 = new Conv({ clientPort: 42001, t0: t0 + 1000, v6: true }).upgrade();
    for (let i = 0; i < 3; i++) {
      v4.send('c', cf(1, `v4 ${i}`));
      v6.send('c', cf(1, `v6 ${i}`));
    }
    v4.close();
    v6.close();
    const evs = await decode([...v4.recs, ...v6.recs]);
    const conns = evs.flatMap((e) => (e.type === 'connection' ? [[e.id, e.client, e.server]] : []));
    expect(conns).toEqual([
      [1, '127.0.0.1:42001', '127.0.0.1:8080'],
      [2, '[::1]:42001', '[::1]:8080'],
    ]);
    const texts = (conn: number): string[] => evs.flatMap((e) => (e.type === 'message' && e.conn === conn ? [utf8.decode(e.data)] : []));
    expect(texts(1)).toEqual(['v4 0', 'v4 1', 'v4 2']);
    expect(texts(2)).toEqual(['v6 0', 'v6 1', 'v6 2']);
    expect(evs.filter((e) => e.type === 'connection-end').map((e) => (e.type === 'connection-end' ? [e.conn, e.reason] : []))).toEqual([
      [1, 'fin'],
      [2, 'fin'],
    ]);
  });

  it('decodes a connection made in place of SYNs evicted over the cap like a new one', async () => {
    const t0 = 1_700_000_000 * S;
    const recs: Rec[] = [];
    // four SYNs over a cap of 2: the first two are evicted (and their objects reused)
    for (let i = 0; i < 4; i++) {
      const c = new Conv({ clientPort: 43000 + i, t0: t0 + i * S, isnC: 7000 + i });
      recs.push(c.push(c.segment('c', c.seq.c, SYN, new Uint8Array(0))));
    }
    const ws = new Conv({ clientPort: 43100, t0: t0 + 10 * S }).upgrade();
    ws.send('c', cf(1, 'first'));
    ws.send('s', sf(1, 'second'));
    ws.close();
    const evs = await decode([...recs, ...ws.recs], { maxFlows: 2 });
    const conn = evs.find((e) => e.type === 'connection' && e.client === '127.0.0.1:43100');
    expect(conn && conn.type === 'connection' && [conn.id, conn.server, conn.roleBy]).toEqual([5, '127.0.0.1:8080', 'syn']);
    const msgs = evs.flatMap((e) => (e.type === 'message' && e.conn === 5 ? [[e.dir, utf8.decode(e.data)]] : []));
    expect(msgs).toEqual([
      ['client', 'first'],
      ['server', 'second'],
    ]);
    expect(evs.filter((e) => e.type === 'finding' && e.id !== 'evicted-flows').map((e) => (e.type === 'finding' ? e.text : ''))).toEqual([]);
    expect(evicted(evs)[0].text).toMatch(/^3 TCP flow\(s\) were evicted before they ended: 3 without payload/);
  });
});
