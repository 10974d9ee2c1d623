/**
 * Holes in files (gap-expiry.ts, FILE_GAP_TIMEOUT_S): a hole no acknowledgment covers is
 * declared lost after 10 s of capture time, so what followed it is not moved to the end.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Conv, pcap } from '../../test/kit/capture';
import { cf } from '../../test/kit/websocket';
import { analyzeFile } from '../pipeline';
import { FILE_GAP_TIMEOUT_S } from './gap-expiry';

async function order(secondsLater: number): Promise<string[]> {
  // the client's segments carry no acknowledgment past the hole: the server sends nothing after it
  const held = new Conv({ clientPort: 42101 }).upgrade();
  const lost = held.send('c', cf(1, 'x'.repeat(900)), 500);
  held.recs.splice(held.recs.indexOf(lost[0]), 1);
  held.send('c', cf(1, 'after the hole'));
  const later = new Conv({ clientPort: 42102, t0: held.t + secondsLater * 1e6 }).upgrade();
  later.send('c', cf(1, 'later'));
  const file = join(mkdtempSync(join(tmpdir(), 'wsscope-gap-')), 'hole.pcap');
  writeFileSync(file, pcap([...held.recs, ...later.recs], { linkType: 1 }));
  const out: string[] = [];
  await analyzeFile(file, (e) => {
    if (e.type === 'message') out.push(Buffer.from(e.data).toString());
  });
  return out;
}

describe('holes in files', () => {
  it('declares an unacknowledged hole lost after FILE_GAP_TIMEOUT_S of capture time', async () => {
    expect(FILE_GAP_TIMEOUT_S).toBe(10);
    expect(await order(FILE_GAP_TIMEOUT_S + 2)).toEqual(['after the hole', 'later']);
    // within the window a retransmission may still come: the bytes wait
    expect(await order(FILE_GAP_TIMEOUT_S - 5)).toEqual(['later', 'after the hole']);
  });
});
