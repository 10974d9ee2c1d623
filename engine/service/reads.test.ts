import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../pipeline';
import { SessionStore } from '../store/session-store';
import { connStats, handshake, messageDetail, queryMessages } from './reads';

// one connection (id 1), 7 messages: client text, server text, ping, pong, binary, two closes
const CLEAN = fileURLToPath(new URL('../../test/corpus/clean-baseline.pcap', import.meta.url));
// a handshake answered 403: a connection without a WebSocket
const REJECTED = fileURLToPath(new URL('../../test/corpus/hs-rejected-403.pcap', import.meta.url));

async function load(path: string): Promise<SessionStore> {
  const s = new SessionStore(1);
  await analyzeFile(path, (ev) => s.ingest(ev), { session: { keepWirePayload: true } });
  return s;
}

let clean: SessionStore;
let rejected: SessionStore;

beforeAll(async () => {
  clean = await load(CLEAN);
  rejected = await load(REJECTED);
});

afterAll(() => {
  clean.close();
  rejected.close();
});

const NOTHING = { ok: false, error: { code: 'no-capture', message: 'Nothing is loaded: open a capture file or start a live capture.' } };

describe('reads over the current store', () => {
  it('answers no-capture when nothing is loaded, and an empty match to a query', async () => {
    expect(messageDetail(null, 0)).toEqual(NOTHING);
    expect(handshake(null, 1)).toEqual(NOTHING);
    expect(connStats(null, 1)).toEqual(NOTHING);
    expect(await queryMessages(null, {})).toEqual({ ok: true, value: { indexes: new Uint32Array(0), total: 0 } });
  });

  it('gives a message with its frames and close code, and not-found past the last one', () => {
    expect(messageDetail(clean, 5)).toMatchObject({ ok: true, value: { row: { index: 5, dir: 'client', opcode: 8, masked: true }, closeCode: 1000, closeReason: 'bye' } });
    const d = messageDetail(clean, 4);
    expect(d.ok && d.value.data.length).toBe(300);
    expect(messageDetail(clean, 7)).toEqual({ ok: false, error: { code: 'not-found', message: 'There is no message 7 in this session.' } });
  });

  it('gives the handshake of a connection, null when it had none, and not-found for an unknown id', () => {
    expect(handshake(clean, 1)).toMatchObject({ ok: true, value: { conn: 1, status: 101, path: '/chat' } });
    expect(handshake(clean, 2)).toEqual({ ok: false, error: { code: 'not-found', message: 'There is no connection 2 in this session.' } });
    const r = handshake(rejected, 1);
    expect(r.ok).toBe(true);
    expect(r.ok && r.value?.status).toBe(403);
  });

  it('gives connection stats and not-found for an unknown id', () => {
    expect(connStats(clean, 1)).toMatchObject({ ok: true, value: { conn: 1, messages: 7 } });
    expect(connStats(clean, 9)).toEqual({ ok: false, error: { code: 'not-found', message: 'There is no connection 9 in this session.' } });
  });

  it('answers a query with the matching indexes, in order, and the total', async () => {
    const r = await queryMessages(clean, { dir: 'client' });
    expect(r.ok && Array.from(r.value.indexes)).toEqual([0, 2, 5]);
    expect(r.ok && r.value.total).toBe(7);
    const pings = await queryMessages(clean, { opcodes: [9, 10] });
    expect(pings.ok && Array.from(pings.value.indexes)).toEqual([2, 3]);
  });
});

describe('regex queries', () => {
  it('run the backtracking trap (a|aa)+x over long runs of "a" promptly (RE2, linear time), and still match what they should', async () => {
    const { conversation } = await import('../../test/kit/events');
    const { checkQuery } = await import('./validate');
    const store = new SessionStore(1);
    // message 1 (server) is 2,000 "a"s: its preview is a few hundred of them, far past the ~30
    // that take a backtracking engine seconds (each more "a" multiplies the time by ~1.6)
    for (const ev of conversation(1, 4, 1700000000, (i) => (i === 1 ? 'a'.repeat(2000) : `{"seq":${i}}`))) store.ingest(ev);
    const t0 = performance.now();
    const trap = await queryMessages(store, { text: '(a|aa)+x', regex: true });
    expect(trap.ok && Array.from(trap.value.indexes)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5000);
    const runs = await queryMessages(store, { text: '^(a|aa)+$', regex: true });
    expect(runs.ok && Array.from(runs.value.indexes)).toEqual([1]);
    const seq = await queryMessages(store, { text: '"SEQ":[02]', regex: true });
    expect(seq.ok && Array.from(seq.value.indexes)).toEqual([0, 2]);
    store.close();
    // an invalid pattern is one sentence from the validator; what RE2 lacks (lookbehind) is invalid too
    expect(checkQuery({ text: '(unclosed', regex: true })).toEqual({ ok: false, message: 'Invalid regular expression: missing closing ): `(unclosed`.' });
    expect(checkQuery({ text: '(?<=a)b', regex: true })).toMatchObject({ ok: false, message: expect.stringMatching(/^Invalid regular expression: /) });
  });
});
