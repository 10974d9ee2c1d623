import { describe, it, expect } from 'vitest';
import { SessionStore } from './session-store';
import { MemorySink, writeNdjson } from './export';
import { conversation } from '../../test/kit/events';
import { toWire } from '../cli/json';
import type { EngineEvent } from '../../shared/events';

const lines = (evs: EngineEvent[]): string =>
  evs
    .map((e) => toWire(e))
    .filter((w) => w !== null)
    .map((w) => JSON.stringify(w) + '\n')
    .join('');

async function ndjson(s: SessionStore): Promise<string> {
  const out = new MemorySink();
  await writeNdjson(s, out);
  return new TextDecoder().decode(out.bytes());
}

describe('ingest bounds', () => {
  it('drops frames and messages past maxRows whole, counts them, and replays exactly what it kept', async () => {
    const evs = conversation(1, 20); // 22 messages of one frame each
    const s = new SessionStore(1, { maxRows: 10 });
    for (const e of evs) s.ingest(e);
    expect(s.messageCount).toBe(10);
    expect(s.frameCount).toBe(10);
    expect(s.droppedEvents).toBe(24);
    const kept = evs.filter((e) => (e.type !== 'frame' && e.type !== 'message') || e.index < 10);
    expect(await ndjson(s)).toBe(lines(kept));
    const c = s.connections()[0];
    expect(c).toMatchObject({ messages: 10, frames: 10, state: 'closed' });
    expect(s.detail(9)?.frames).toHaveLength(1);
    expect(s.detail(10)).toBeNull();
    expect(s.takeBatch()?.totals.messages).toBe(10);
    s.close();
  });

  it('drops every event once the event log is full (four rows per maxRows)', async () => {
    const evs = conversation(1, 3);
    const s = new SessionStore(1, { maxRows: 1 });
    for (const e of evs) s.ingest(e);
    // connection, handshake, frame 0, message 0 fill the log's 4 rows
    expect(await ndjson(s)).toBe(lines(evs.slice(0, 4)));
    expect(s.eventCount).toBe(4);
    expect(s.droppedEvents).toBe(evs.length - 4);
    s.close();
  });
});
