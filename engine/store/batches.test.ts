import { describe, it, expect } from 'vitest';
import { SessionStore } from './session-store';
import { BATCH_FIRST_MESSAGES, BATCH_MAX_MESSAGES } from './batches';
import { conversation } from '../../test/kit/events';
import { batchRows } from '../../shared/row-block';
import { analyzeFile } from '../pipeline';
import { publicCapture } from '../../test/kit/paths';

describe('BatchFeed', () => {
  it(`splits a backlog into a first batch of ${BATCH_FIRST_MESSAGES} rows, then batches of at most ${BATCH_MAX_MESSAGES}, and stays pending until it is handed out`, () => {
    const s = new SessionStore(3);
    // conversation(1, n) is n text messages and a close from each side
    const total = BATCH_FIRST_MESSAGES + BATCH_MAX_MESSAGES + 5002;
    for (const e of conversation(1, total - 2)) s.ingest(e);
    const sizes: number[] = [];
    let next = 0;
    while (s.pending) {
      const b = s.takeBatch();
      if (!b) break;
      const rows = batchRows(b);
      expect(b.messages).toEqual([]);
      sizes.push(rows.length);
      // rows come in order, none skipped or repeated
      expect(rows[0]?.index ?? next).toBe(next);
      next += rows.length;
      expect(b.totals.messages).toBe(total);
    }
    expect(sizes).toEqual([BATCH_FIRST_MESSAGES, BATCH_MAX_MESSAGES, 5002]);
    expect(s.takeBatch()).toBeNull();
    // after a rewind the first batch is small again
    s.rewind();
    expect(batchRows(s.takeBatch()!)).toHaveLength(BATCH_FIRST_MESSAGES);
    s.close();
  });

  it('hands out everything again after a rewind, connections included', () => {
    const s = new SessionStore(3);
    for (const e of conversation(1, 3)) s.ingest(e);
    for (const e of conversation(2, 1, 1700000100).map((e) => (e.type === 'frame' || e.type === 'message' ? { ...e, index: e.index + 5 } : e))) s.ingest(e);
    const first = s.takeBatch();
    expect(s.takeBatch()).toBeNull();
    s.rewind();
    expect(s.pending).toBe(true);
    const again = s.takeBatch();
    expect(batchRows(again!)).toEqual(batchRows(first!));
    expect(again?.findings).toEqual(first?.findings);
    expect(again?.handshakes).toHaveLength(2);
    expect(again?.connections.map((c) => c.id).sort()).toEqual([1, 2]);
    expect(s.takeBatch()).toBeNull();
    s.close();
  });

  it('sends only the connections that changed since the previous batch', () => {
    const s = new SessionStore(3);
    const one = conversation(1, 2);
    const two = conversation(2, 2, 1700000100).map((e) => (e.type === 'frame' || e.type === 'message' ? { ...e, index: e.index + 4 } : e));
    for (const e of [...one, ...two]) s.ingest(e);
    expect(s.takeBatch()?.connections.map((c) => c.id)).toEqual([1, 2]);
    s.ingest({ type: 'connection-end', conn: 2, ts: 1700000200, packet: 99, reason: 'rst' });
    const b = s.takeBatch();
    expect(b?.connections.map((c) => c.id)).toEqual([2]);
    expect(batchRows(b!)).toEqual([]);
    s.close();
  });

  for (const name of ['zeek__broker-websocket.pcap', 'zeek-pr5646__websocket_compressed.pcap', 'zeek__wstunnel-ssh.pcap', 'zeek__oversized-close-frame.pcapng']) {
    it(`sends by column exactly the timeline rows of ${name}`, async () => {
      const s = new SessionStore(1);
      await analyzeFile(publicCapture(name), (ev) => s.ingest(ev));
      const b = s.takeBatch();
      const want = Array.from({ length: s.messageCount }, (_, i) => s.message(i));
      expect(want.length).toBeGreaterThan(0);
      expect(batchRows(b!)).toEqual(want);
      s.close();
    });
  }
});
