/**
 * The renderer's component tests cannot read captures (their layer imports renderer/ and
 * shared/ only), so they are fed `renderer/src/testing/fixtures/app-sessions.json`: what the
 * engine's session store answers for the captures of real peers in test/captures/app/
 * (timeline rows, message details without payload bytes, connection rows, decoded-field
 * facets, HTTP/2 requests, the Engine.IO session of a WebSocket that upgraded long-polling). This test decodes those captures and checks the fixture is
 * exactly that; `WSSCOPE_FIXTURES=1` rewrites it.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../engine/pipeline';
import { SessionStore } from '../engine/store/session-store';
import { KeyLog } from '../engine/tls/keylog';
import type { AppFacets, ConnectionRow, EngineIoSession, Http2RequestRow, MessageDetail, MessageRow } from '../shared/api';
import { REPO_ROOT } from './kit/paths';

const APP = join(REPO_ROOT, 'test', 'captures', 'app');
const FIXTURE = join(REPO_ROOT, 'renderer', 'src', 'testing', 'fixtures', 'app-sessions.json');
const dir = mkdtempSync(join(tmpdir(), 'wsscope-ui-fixture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** one session as the component tests see it (details: no payload or frame bytes) */
interface FixtureSession {
  rows: MessageRow[];
  details: Array<Omit<MessageDetail, 'data' | 'frames'>>;
  connections: ConnectionRow[];
  facets: AppFacets;
  h2Requests: Record<number, Http2RequestRow[]>;
  /** per WebSocket connection whose handshake names an Engine.IO sid: the session (getEngineIoSession) */
  engineIo?: Record<number, EngineIoSession>;
}

async function session(file: string, keys?: string): Promise<FixtureSession> {
  const store = new SessionStore(1, { payload: { dir } });
  const keyLog = new KeyLog();
  if (keys) keyLog.addText(readFileSync(keys), 'wss.keys');
  await analyzeFile(file, (e) => store.ingest(e), { keyLog, session: { keepWirePayload: true } });
  const rows = Array.from({ length: store.messageCount }, (_, i) => store.message(i) as MessageRow);
  const details = rows.map((r) => {
    const { data: _d, frames: _f, ...rest } = store.detail(r.index) as MessageDetail;
    return rest;
  });
  const connections = store.connections();
  const h2Requests: Record<number, Http2RequestRow[]> = {};
  for (const c of connections) if (c.http2Requests) h2Requests[c.id] = store.http2Requests(c.id);
  const engineIo: Record<number, EngineIoSession> = {};
  for (const c of connections) {
    const s = store.engineIoSession(c.id);
    if (s) engineIo[c.id] = s;
  }
  const facets = store.appFacets(null);
  store.close();
  return { rows, details, connections, facets, h2Requests, ...(Object.keys(engineIo).length ? { engineIo } : {}) };
}

describe('the component tests\' fixture', () => {
  it('is what the session store answers for the captures of real peers in test/captures/app', async () => {
    const fresh = JSON.stringify(
      {
        socketIo: await session(join(APP, 'socket.io.pcapng')),
        socketIoPolling: await session(join(APP, 'socket.io-polling.pcapng')),
        h2c: await session(join(APP, 'h2c.pcapng')),
        wss: await session(join(APP, 'wss.pcapng'), join(APP, 'wss.keys')),
      },
      null,
      1,
    );
    if (process.env.WSSCOPE_FIXTURES) writeFileSync(FIXTURE, fresh + '\n');
    expect(readFileSync(FIXTURE, 'utf8')).toBe(fresh + '\n');
  });
});
