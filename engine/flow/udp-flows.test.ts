/** UDP flows under the cap on flows tracked at once (udp-flows.ts). */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ether, ipv4, pcap, udp, type Rec } from '../../test/kit/capture';
import { analyzeFile } from '../pipeline';
import type { EngineEvent } from '../../shared/events';

describe('UDP flows over the cap', () => {
  it('forgets the least recently active flow and counts it in evicted-flows', async () => {
    const t0 = 1_700_000_000_000_000;
    const dgram = (port: number, i: number): Rec => ({ tsUs: t0 + i * 1000, data: ether(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(port, 53, new Uint8Array(8)))) });
    // flows 1..3, flow 1 again (so flow 2 is now the least recently active), then flow 4, then 2 again
    const recs = [dgram(1001, 0), dgram(1002, 1), dgram(1003, 2), dgram(1001, 3), dgram(1004, 4), dgram(1002, 5)];
    const file = join(mkdtempSync(join(tmpdir(), 'wsscope-udp-')), 'udp.pcap');
    writeFileSync(file, pcap(recs, { linkType: 1 }));
    const evs: EngineEvent[] = [];
    await analyzeFile(file, (e) => evs.push(e), { maxFlows: 3 });
    const conns = evs.filter((e) => e.type === 'connection').map((e) => (e.type === 'connection' ? [e.id, e.client] : []));
    // flow 2 was forgotten for flow 4; its next datagram is a new flow (which evicts flow 3)
    expect(conns).toEqual([
      [1, '10.0.0.1:1001'],
      [2, '10.0.0.1:1002'],
      [3, '10.0.0.1:1003'],
      [4, '10.0.0.1:1004'],
      [5, '10.0.0.1:1002'],
    ]);
    const f = evs.filter((e) => e.type === 'finding' && e.id === 'evicted-flows');
    expect(f).toHaveLength(1);
    expect(f[0].type === 'finding' && f[0].text).toMatch(/^2 UDP flow\(s\) were forgotten over the cap of 3 flows/);
  });
});
