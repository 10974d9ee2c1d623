/**
 * Packet numbers of what a layer holds across packets. The pipeline refills one ChunkMeta for
 * every packet (engine/types.ts), so a layer that keeps a meta past the call without copying
 * it would print the packet number of whatever packet came last. Two HTTP/1.1 upgrades are
 * built packet by packet (test/kit/capture.ts): the request and the 101 each split over
 * segments, WebSocket frames the client sends before the 101 (held until the upgrade is
 * answered), a client FIN mid-frame while the answer is awaited, and a request never answered
 * (its handshake event made at the end from the kept request). Every event's packet is checked
 * against the record that completed it, and tshark (the independent oracle) must put the
 * request and the response in those frames. The layers' own tests feed one refilled meta too
 * (engine/tls/tls-layer.test.ts: held and 0-RTT records; engine/h2/h2.test.ts: early stream
 * bytes, a stream's last packet; test/kit/session.ts for the session tests).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../engine/pipeline';
import type { EngineEvent } from '../shared/events';
import { ACK, Conv, FIN, type Rec } from './kit/capture';
import { cf, sf, wsRequest, wsResponse } from './kit/websocket';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-packets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** frame number (1-based, as tshark counts) of record `r` of `c` */
const no = (c: Conv, r: Rec): number => c.recs.indexOf(r) + 1;
const last = <T>(a: T[]): T => a[a.length - 1];

async function decode(c: Conv, name: string): Promise<{ file: string; events: EngineEvent[] }> {
  const file = join(dir, name);
  writeFileSync(file, c.pcap());
  const events: EngineEvent[] = [];
  await analyzeFile(file, (e) => events.push(e));
  return { file, events };
}

/** tshark's frame numbers of the HTTP requests and responses it reassembled */
function tsharkHttp(file: string): { requests: number[]; responses: number[] } {
  const rows = execFileSync('tshark', ['-r', file, '-Y', 'http', '-T', 'fields', '-e', 'frame.number', '-e', 'http.request', '-e', 'http.response'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
  return { requests: rows.filter((r) => r[1] === '1').map((r) => Number(r[0])), responses: rows.filter((r) => r[2] === '1').map((r) => Number(r[0])) };
}

const messages = (evs: EngineEvent[]): string[] => evs.flatMap((e) => (e.type === 'message' ? [`${e.dir} ${Buffer.from(e.data).toString()} @${e.packet}`] : []));

describe('packet numbers of bytes held across packets', () => {
  it('an upgrade split over segments, frames sent before the 101: each event names the packet that completed it', async () => {
    const c = new Conv().open();
    // no Sec-WebSocket-Version: a request finding, raised when the answer comes
    const req = c.send('c', wsRequest({ version: null }), 60);
    const early = [c.send('c', cf(1, 'before the answer')), c.send('c', cf(1, 'also before'))];
    const res = c.send('s', wsResponse(), 50);
    const reply = c.send('s', sf(1, 'answer'));
    c.close();
    expect(req.length).toBeGreaterThan(2);
    expect(res.length).toBeGreaterThan(1);
    const { file, events } = await decode(c, 'split.pcap');
    expect(messages(events)).toEqual([`client before the answer @${no(c, early[0][0])}`, `client also before @${no(c, early[1][0])}`, `server answer @${no(c, reply[0])}`]);
    expect(events.find((e) => e.type === 'finding' && e.id === 'bad-version')).toMatchObject({ dir: 'client', packet: no(c, last(req)) });
    expect(events.find((e) => e.type === 'handshake')).toMatchObject({ status: 101, packet: no(c, last(res)) });
    expect(tsharkHttp(file)).toEqual({ requests: [no(c, last(req))], responses: [no(c, last(res))] });
  });

  it('a client that ends its direction mid-frame before the 101: the cut is reported at its FIN', async () => {
    const c = new Conv().open();
    const req = c.send('c', wsRequest(), 100);
    c.send('c', cf(1, 'then gone').subarray(0, 8));
    const fin = c.push(c.segment('c', c.seq.c, FIN | ACK, new Uint8Array(0)));
    c.seq.c = (c.seq.c + 1) >>> 0;
    const res = c.send('s', wsResponse(), 50);
    const reply = c.send('s', sf(1, 'too late'));
    c.push(c.segment('s', c.seq.s, FIN | ACK, new Uint8Array(0)));
    c.seq.s = (c.seq.s + 1) >>> 0;
    const { file, events } = await decode(c, 'fin.pcap');
    // the end of the client's direction waited for the 101 (two packets later) with its own packet
    expect(messages(events)).toEqual([`client th @${no(c, fin)}`, `server too late @${no(c, reply[0])}`]);
    expect(events.filter((e) => e.type === 'finding')).toMatchObject([{ id: 'incomplete-frame', dir: 'client', packet: no(c, fin) }]);
    expect(events.find((e) => e.type === 'handshake')).toMatchObject({ status: 101, packet: no(c, last(res)) });
    expect(tsharkHttp(file)).toEqual({ requests: [no(c, last(req))], responses: [no(c, last(res))] });
  });

  it('an upgrade request never answered: its handshake, listed at the end, names the request packet', async () => {
    const c = new Conv().open();
    const req = c.send('c', wsRequest(), 70);
    c.close();
    const { file, events } = await decode(c, 'unanswered.pcap');
    expect(events.filter((e) => e.type === 'handshake')).toMatchObject([{ status: 0, packet: no(c, last(req)) }]);
    expect(no(c, last(req))).toBeLessThan(c.recs.length - 2);
    expect(tsharkHttp(file)).toEqual({ requests: [no(c, last(req))], responses: [] });
  });
});
