import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Batch, ProgressInfo, PushName, PushPayloads } from '../../shared/api';
import { analyzeFile } from '../pipeline';
import { SessionStore } from '../store/session-store';
import { BatchPump, READ_IN_FLIGHT, REPLAY_IN_FLIGHT } from './pump';
import { batchRows } from '../../shared/row-block';
import { BATCH_FIRST_MESSAGES, BATCH_MAX_MESSAGES } from '../store/batches';
import { conversation } from '../../test/kit/events';

// 15 packets, one WebSocket connection, 7 messages (test/corpus/clean-baseline.expected.json)
const CLEAN = fileURLToPath(new URL('../../test/corpus/clean-baseline.pcap', import.meta.url));
const INTERVAL = 50;

type Push = { [K in PushName]: [K, PushPayloads[K]] }[PushName];

let pushes: Push[];
let store: SessionStore | null;

/** A store holding the decoded capture, no batch taken yet. */
async function decoded(): Promise<SessionStore> {
  const s = new SessionStore(1);
  await analyzeFile(CLEAN, (ev) => s.ingest(ev), { session: { keepWirePayload: true } });
  return s;
}

function pump(): BatchPump {
  return new BatchPump({ push: (name, payload) => pushes.push([name, payload] as Push), intervalMs: INTERVAL, source: () => store });
}

/**
 * The current store becomes a finished session of `n` messages, and a pump over it whose
 * transport's write callbacks (`writes`) the test releases itself.
 */
function bigSession(n: number): { p: BatchPump; writes: Array<() => void> } {
  const big = new SessionStore(2);
  // conversation(1, k) is k text messages and a close from each side
  for (const e of conversation(1, n - 2)) big.ingest(e);
  store?.close();
  store = big;
  const writes: Array<() => void> = [];
  const written = (): Promise<void> => new Promise((resolve) => writes.push(resolve));
  return { p: new BatchPump({ push: (name, payload) => pushes.push([name, payload] as Push), intervalMs: INTERVAL, source: () => store, written }), writes };
}

const names = (): string[] => pushes.map(([n]) => n);
const messages = (): number[] => pushes.flatMap(([n, p]) => (n === 'batch' ? batchRows(p as Batch).map((m) => m.index) : []));
const progress: ProgressInfo = { bytesRead: 100, totalBytes: 1743, packets: 3, done: false };

beforeEach(async () => {
  pushes = [];
  store = await decoded();
  // the pump's only clock is its interval timer: fake it, so every tick is one we make
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  store?.close();
});

describe('BatchPump', () => {
  it('pushes a batch, then the latest progress, every interval while held', () => {
    const p = pump();
    const release = p.hold();
    p.setProgress({ ...progress, bytesRead: 10 });
    p.setProgress(progress);
    vi.advanceTimersByTime(INTERVAL - 1);
    expect(pushes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(names()).toEqual(['batch', 'progress']);
    expect(messages()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pushes[1]).toEqual(['progress', progress]);
    // nothing changed, no progress: a tick pushes nothing
    vi.advanceTimersByTime(INTERVAL * 3);
    expect(pushes).toHaveLength(2);
    release();
  });

  it('runs while any hold is out, and a release called twice counts once', () => {
    const p = pump();
    const a = p.hold();
    const b = p.hold();
    a();
    a();
    p.setProgress(progress);
    vi.advanceTimersByTime(INTERVAL);
    expect(names()).toEqual(['batch', 'progress']);
    b();
    p.setProgress(progress);
    vi.advanceTimersByTime(INTERVAL * 10);
    expect(names()).toEqual(['batch', 'progress']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flushes every pending row at once and drops the progress not yet pushed', () => {
    const p = pump();
    p.setProgress(progress);
    p.flush();
    expect(names()).toEqual(['batch']);
    expect(messages()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    p.hold();
    vi.advanceTimersByTime(INTERVAL);
    expect(names()).toEqual(['batch']);
  });

  it('replays a finished session from its first row', async () => {
    const p = pump();
    p.flush();
    pushes = [];
    await p.replay();
    expect(messages()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const [, batch] = pushes[0] as ['batch', Batch];
    expect(batch.connections.map((c) => c.id)).toEqual([1]);
    expect(batch.handshakes).toHaveLength(1);
  });

  it('replays a read file with its final progress, so a page that joins late knows it was read to the end', async () => {
    const p = pump();
    const end: ProgressInfo = { ...progress, bytesRead: 1743, done: true };
    p.finish(end);
    expect(names().at(-1)).toBe('progress');
    expect(pushes.at(-1)?.[1]).toEqual(end);
    pushes = [];
    await p.replay();
    expect(messages()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(names().at(-1)).toBe('progress');
    expect(pushes.at(-1)?.[1]).toEqual(end);
    // a new session forgets it
    p.setProgress(null);
    pushes = [];
    await p.replay();
    expect(names()).not.toContain('progress');
  });

  it('replays a growing session with its timer: one batch now, the rest on later ticks', async () => {
    const p = pump();
    p.hold();
    vi.advanceTimersByTime(INTERVAL);
    pushes = [];
    await p.replay();
    expect(names()).toEqual(['batch']);
    expect(messages()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('does nothing without a store', async () => {
    store?.close();
    store = null;
    const p = pump();
    p.hold();
    p.flush();
    await p.replay();
    vi.advanceTimersByTime(INTERVAL * 2);
    expect(pushes).toEqual([]);
  });

  it(`replays a large session with at most ${REPLAY_IN_FLIGHT} batches waiting in the transport, then its progress; a new session stops it`, async () => {
    // a finished session of REPLAY_IN_FLIGHT + 2 batches: the small first one, full ones, the rest
    const full = REPLAY_IN_FLIGHT;
    const n = BATCH_FIRST_MESSAGES + full * BATCH_MAX_MESSAGES + 500;
    const { p, writes } = bigSession(n);
    const end: ProgressInfo = { ...progress, done: true };
    vi.useRealTimers();
    // the end of the file: paced too (see the next test); every write released at once here
    let finished = false;
    const fin = p.finish(end).then(() => (finished = true));
    for (let t = 0; t < 10_000 && !finished; t++) {
      for (const w of writes.splice(0)) w();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await fin;
    expect(names().at(-1)).toBe('progress');
    // the last batch's write (the final progress does not wait for it)
    for (const w of writes.splice(0)) w();
    await new Promise((resolve) => setImmediate(resolve));
    pushes = [];
    const done = p.replay();
    // the first batch goes at once, the next ones a turn of the event loop apart until
    // REPLAY_IN_FLIGHT wait to be written; then one more per write
    expect(names()).toEqual(['batch']);
    await vi.waitUntil(() => writes.length === REPLAY_IN_FLIGHT);
    // blocked: a free drain pushes one batch per turn of the event loop, so three turns show it
    for (let t = 0; t < 3; t++) await new Promise((resolve) => setImmediate(resolve));
    expect(names()).toHaveLength(REPLAY_IN_FLIGHT);
    writes.shift()!();
    await vi.waitUntil(() => names().length === REPLAY_IN_FLIGHT + 1);
    writes.shift()!();
    await done;
    expect(names()).toEqual([...Array(full + 2).fill('batch'), 'progress']);
    expect(pushes.at(-1)?.[1]).toEqual(end);
    expect(messages()).toEqual([...Array(n).keys()]);
    expect(pushes.slice(0, full + 2).map(([, b]) => batchRows(b as Batch).length)).toEqual([BATCH_FIRST_MESSAGES, ...Array(full).fill(BATCH_MAX_MESSAGES), 500]);

    // a second replay during one joins it (from the first row again); a session opened
    // meanwhile ends it: nothing of the old one after that
    pushes = [];
    for (const w of writes.splice(0)) w();
    await new Promise((resolve) => setImmediate(resolve));
    const stopped = p.replay();
    expect(p.replay()).toBe(stopped);
    await vi.waitUntil(() => writes.length === REPLAY_IN_FLIGHT);
    const old = store;
    store = await decoded();
    writes.shift()!();
    await stopped;
    // the first batch, then (rewound by the second replay) from the first row again, until blocked
    expect(names()).toEqual(Array(REPLAY_IN_FLIGHT).fill('batch'));
    const first = [...Array(BATCH_FIRST_MESSAGES).keys()];
    expect(messages()).toEqual([...first, ...Array(BATCH_FIRST_MESSAGES + (REPLAY_IN_FLIGHT - 2) * BATCH_MAX_MESSAGES).keys()]);
    old?.close();
  });

  it(`while a file is read, at most ${READ_IN_FLIGHT} batches wait in the transport: the rows wait in the store, and the end of the file pushes the rest paced, then its progress`, async () => {
    const n = BATCH_FIRST_MESSAGES + 4 * BATCH_MAX_MESSAGES;
    const { p, writes } = bigSession(n);
    const release = p.hold();
    p.setProgress(progress);
    // ten ticks with nothing written: READ_IN_FLIGHT batches, progress on every tick regardless
    vi.advanceTimersByTime(INTERVAL * 10);
    expect(names().filter((x) => x === 'batch')).toHaveLength(READ_IN_FLIGHT);
    expect(names()[1]).toBe('progress');
    // one written (its callback runs on the microtask queue): the next tick takes one more
    writes.shift()!();
    await Promise.resolve();
    await Promise.resolve();
    vi.advanceTimersByTime(INTERVAL);
    expect(names().filter((x) => x === 'batch')).toHaveLength(READ_IN_FLIGHT + 1);
    // the end of the file: the rest paced behind the writes, the final progress last
    vi.useRealTimers();
    const end: ProgressInfo = { ...progress, done: true };
    let finished = false;
    const fin = p.finish(end).then(() => (finished = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toBe(false);
    for (let t = 0; t < 10_000 && !finished; t++) {
      for (const w of writes.splice(0, 1)) w();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await fin;
    release();
    expect(names().at(-1)).toBe('progress');
    expect(pushes.at(-1)?.[1]).toEqual(end);
    expect(messages()).toEqual([...Array(n).keys()]);
  });

  it('stops for good when closed: a later hold starts no timer', () => {
    const p = pump();
    p.hold();
    p.close();
    expect(vi.getTimerCount()).toBe(0);
    p.hold();
    vi.advanceTimersByTime(INTERVAL * 5);
    expect(vi.getTimerCount()).toBe(0);
    expect(pushes).toEqual([]);
  });
});
