/**
 * Long calls never block other calls and can be cancelled: a query over 200,000 messages and
 * an NDJSON export of them, run through the service's dispatcher as the UI calls them, with a
 * second call answered while they run; `cancel` and a call's own AbortSignal stop them; a
 * cancelled export leaves no file; a cancelled open keeps what was read and says so.
 */
import { batchRows } from '../../shared/row-block';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Batch, ProgressInfo, Result } from '../../shared/api';
import { connectionEvent, handshakeEvent, messageEvents } from '../../test/kit/events';
import { testService, type Push } from '../../test/kit/service';
import { generateCapture, type CaptureTruth } from '../../scripts/gen-capture';
import { analyzeFile } from '../pipeline';
import { EngineService, type Analyzer } from './engine-service';

const MESSAGES = 200_000;

/** An analyzer that feeds MESSAGES small text messages on one WebSocket connection, whatever the path. */
const synthetic: Analyzer = async (_path, emit) => {
  emit(connectionEvent(1, 0));
  emit(handshakeEvent(1, 0));
  const data = new Uint8Array(0);
  for (let i = 0; i < MESSAGES; i++) {
    const [f, m] = messageEvents({ conn: 1, dir: i & 1 ? 'server' : 'client', ts: i / 1000, opcode: 1, data, packet: i + 2 }, i, i);
    emit(f);
    m.data = Buffer.from(`{"type":"tick","seq":${i}}`);
    emit(m);
  }
  return { type: 'summary', packets: MESSAGES + 1, connections: 1, frames: MESSAGES, messages: MESSAGES, findings: 0, bytes: 0, duration: 0 } as never;
};

let dir: string;
let capture: string;
let truth: CaptureTruth;
let pushes: Push[];
let svc: EngineService;

function make(analyze?: Analyzer): EngineService {
  return testService(dir, pushes, { analyze });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-cancel-'));
  capture = join(dir, 'gen.pcap');
  truth = await generateCapture({ out: capture, bytes: 8 << 20, connections: 8, seed: 3 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  pushes = [];
});

/** Calls `first`, then `second` at once; returns the names in the order their answers came. */
async function order(first: Promise<unknown>, second: Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  await Promise.all([first.then(() => seen.push('first')), second.then(() => seen.push('second'))]);
  return seen;
}

describe('long calls', () => {
  beforeAll(async () => {
    pushes = [];
    svc = make(synthetic);
    const opened = await svc.call('openFile', [capture]);
    expect(opened.ok).toBe(true);
    await svc.idle();
  });
  afterAll(() => svc.dispose());

  it('answer other calls while a query scans 200,000 messages, and the query still finds everything', async () => {
    const query = svc.call('queryMessages', [{ text: '\\w+":1999\\d\\d\\}', regex: true }]);
    const detail = svc.call('getMessageDetail', [7]);
    expect(await order(query, detail)).toEqual(['second', 'first']);
    const r = (await query) as Result<{ indexes: Uint32Array; total: number }>;
    expect(r.ok && Array.from(r.value.indexes)).toEqual(Array.from({ length: 100 }, (_, i) => 199900 + i));
    expect((await detail).ok).toBe(true);
  });

  it('stop a query on cancel("query") or when the call\'s own signal aborts, answering cancelled', async () => {
    // a pattern RE2 must run over every preview (no literal prefix): well over one 20 ms slice
    const query = svc.call('queryMessages', [{ text: '\\w+":\\d*x', regex: true }]);
    const cancel = svc.call('cancel', ['query']);
    expect(await cancel).toEqual({ ok: true, value: { cancelled: 1 } });
    expect(await query).toEqual({ ok: false, error: { code: 'cancelled', message: 'The query was cancelled.' } });
    // a call's own signal stops that call only: aborted once another call was answered meanwhile
    const ac = new AbortController();
    const mine = svc.call('queryMessages', [{ text: '\\w+":\\d*x', regex: true }], ac.signal);
    const other = svc.call('queryMessages', [{ text: 'seq":7}' }]);
    const answered = other.then(() => ac.abort());
    expect(await order(mine, answered)).toEqual(['second', 'first']);
    expect(await mine).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(await other).toMatchObject({ ok: true, value: { indexes: new Uint32Array([7]) } });
    // a signal aborted before the call: nothing is scanned
    expect(await svc.call('queryMessages', [{ text: 'tick' }], AbortSignal.abort())).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(await svc.call('cancel', ['query'])).toEqual({ ok: true, value: { cancelled: 0 } });
  });

  it('answer other calls while an export runs, and a cancelled export leaves no file and the old one untouched', async () => {
    const out = join(dir, 'out.ndjson');
    const exp = svc.call('exportData', ['ndjson', out]);
    const session = svc.call('currentSession', []);
    const cancel = session.then(() => svc.call('cancel', ['export']));
    expect(await order(exp, session)).toEqual(['second', 'first']);
    expect(await cancel).toEqual({ ok: true, value: { cancelled: 1 } });
    expect(await exp).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(existsSync(out)).toBe(false);

    const fresh = join(dir, 'fresh.ndjson');
    const old = join(dir, 'old.har');
    writeFileSync(old, 'the previous export');
    const a = svc.call('exportData', ['ndjson', fresh]);
    const b = svc.call('exportData', ['har', old]);
    expect(await svc.call('cancel', ['export'])).toEqual({ ok: true, value: { cancelled: 2 } });
    expect(await a).toEqual({ ok: false, error: { code: 'cancelled', message: `The export was cancelled; ${fresh} was not written.` } });
    expect(await b).toEqual({ ok: false, error: { code: 'cancelled', message: `The export was cancelled; ${old} was not written.` } });
    expect(existsSync(fresh)).toBe(false);
    expect(readFileSync(old, 'utf8')).toBe('the previous export');
    // no temp file beside them either
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('cancel("open")', () => {
  afterEach(() => svc.dispose());

  it('stops reading the file: the session keeps what was read and the last progress says it is incomplete', async () => {
    let cancelled: Promise<Result<unknown>> | null = null;
    // the real decoder, cancelled as soon as it reports its first progress
    const analyze: Analyzer = (path, emit, opts) =>
      analyzeFile(path, emit, {
        ...opts,
        onProgress: (read, total, packets) => {
          opts.onProgress?.(read, total, packets);
          cancelled ??= svc.call('cancel', ['open']);
        },
      });
    svc = make(analyze);
    expect((await svc.call('openFile', [capture])).ok).toBe(true);
    await svc.idle();
    expect(await cancelled).toEqual({ ok: true, value: { cancelled: 1 } });
    const last = pushes.filter((p) => p[0] === 'progress').pop()?.[1] as ProgressInfo;
    expect(last.done).toBe(true);
    expect(last.bytesRead).toBeLessThan(truth.bytes);
    expect(last.incomplete).toBe(`reading was cancelled after ${last.bytesRead} of ${truth.bytes} bytes`);
    const messages = pushes.filter((p) => p[0] === 'batch').reduce((n, p) => n + batchRows(p[1] as Batch).length, 0);
    expect(messages).toBeGreaterThan(0);
    expect(messages).toBeLessThan(truth.messages);
    expect(pushes.some((p) => p[0] === 'error')).toBe(false);
  });
});
