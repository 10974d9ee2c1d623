/**
 * A connection's segments without payload before its reassemblers take over (tcp-conn.ts,
 * "Handshake first"): the FIN, RST and acknowledgment rules of tcp/reassembler.ts must hold
 * across the hand-over, on captures built with the test kit and decoded by the pipeline.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ACK, Conv, FIN, RST, SYN } from '../../test/kit/capture';
import { cf, sf } from '../../test/kit/websocket';
import { analyzeFile, type PipelineOptions } from '../pipeline';
import type { EngineEvent } from '../../shared/events';

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

async function decode(c: Conv, opts: Partial<PipelineOptions> = {}): Promise<EngineEvent[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'wsscope-conn-')), 'conn.pcap');
  writeFileSync(file, c.pcap());
  const evs: EngineEvent[] = [];
  await analyzeFile(file, (e) => evs.push(e), opts);
  return evs;
}

/** the events that say what the streams carried and how they ended, in order (findings left out) */
function trace(evs: EngineEvent[]): string[] {
  return evs.flatMap((e) => {
    if (e.type === 'connection') return [`connection ${e.client} ${e.roleBy} #${e.packet}`];
    if (e.type === 'message') return [`${e.dir} ${utf8.decode(e.data)} #${e.packet}`];
    if (e.type === 'connection-end') return [`end ${e.reason} #${e.packet}`];
    return [];
  });
}

describe('segments without payload before the reassemblers', () => {
  it('holds a FIN sequenced after bytes not seen yet until they come', async () => {
    const c = new Conv().open();
    const frame = cf(1, 'before the FIN');
    // the client's FIN (packet 4) comes before its frame (packet 5), which fills the hole
    c.push(c.segment('c', (c.seq.c + frame.length) >>> 0, FIN | ACK, EMPTY));
    c.push(c.segment('c', c.seq.c, ACK, frame));
    c.seq.c = (c.seq.c + frame.length + 1) >>> 0;
    c.send('s', sf(1, 'after it'));
    c.push(c.segment('s', c.seq.s, FIN | ACK, EMPTY));
    expect(trace(await decode(c, { wsPorts: [8080] }))).toEqual(['connection 127.0.0.1:54321 syn #1', 'client before the FIN #5', 'server after it #6', 'end fin #7']);
  });

  it('ends a side at a FIN on its next sequence number, and the connection at the second', async () => {
    const c = new Conv().open().close();
    expect(trace(await decode(c))).toEqual(['connection 127.0.0.1:54321 syn #1', 'end fin #5']);
  });

  it('ends both sides at a RST before any payload', async () => {
    const c = new Conv().open();
    c.push(c.segment('s', c.seq.s, RST | ACK, EMPTY));
    // the reason is the last side's: the peer of the RST sender is flushed, which ends it with
    // 'eof' (pipeline.ts; the same with payload before the RST)
    expect(trace(await decode(c))).toEqual(['connection 127.0.0.1:54321 syn #1', 'end eof #4']);
  });

  it('ends at the end of the capture a SYN never answered, and a connection open at the end', async () => {
    const syn = new Conv({ clientPort: 40001 });
    syn.push(syn.segment('c', syn.seq.c, SYN, EMPTY));
    const open = new Conv({ clientPort: 40002 }).open();
    open.push(open.segment('c', open.seq.c, ACK, EMPTY));
    const both = new Conv();
    both.recs.push(...syn.recs, ...open.recs.map((r) => ({ ...r, tsUs: r.tsUs + 1000 })));
    expect(trace(await decode(both))).toEqual(['connection 127.0.0.1:40001 syn #1', 'connection 127.0.0.1:40002 syn #2', 'end eof #5', 'end eof #5']);
  });

  it('announces by ports a connection whose first segment is a FIN, and ends it at the peer FIN', async () => {
    // no handshake captured: the client's FIN (no SYN seen) starts and ends its side at once
    const c = new Conv();
    c.push(c.segment('c', c.seq.c, FIN | ACK, EMPTY));
    c.push(c.segment('s', c.seq.s, FIN | ACK, EMPTY));
    expect(trace(await decode(c))).toEqual(['connection 127.0.0.1:54321 port #1', 'end fin #2']);
  });

  it('keeps an acknowledgment seen before the first byte: a hole under it is lost at once, not at the timeout', async () => {
    const c = new Conv().open();
    // the server acknowledges 10 client bytes the capture never saw (packet 4) ...
    c.seq.c = (c.seq.c + 10) >>> 0;
    c.push(c.segment('s', c.seq.s, ACK, EMPTY));
    // ... so the frame behind them (packet 5) is delivered at once, before the server's frame
    // (packet 6); kept waiting for the hole, it would come out after it (gap expiry, 10 s)
    c.send('c', cf(1, 'behind the hole'));
    c.t += 1_000_000;
    c.send('s', sf(1, 'a second later'));
    c.close();
    expect(trace(await decode(c, { wsPorts: [8080] }))).toEqual([
      'connection 127.0.0.1:54321 syn #1',
      'client behind the hole #5',
      'server a second later #6',
      'end fin #8',
    ]);
  });
});
