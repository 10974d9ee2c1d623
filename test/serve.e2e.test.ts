import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServe, type ServeHandle } from '../engine/serve/server';
import { decodeFrame, encodeWire, type WireMessage } from '../shared/wire';
import type { Batch, MessageDetail, ProgressInfo, Result } from '../shared/api';

import { publicCapture } from './kit/paths';
import { batchRows } from '../shared/row-block';

const BROKER = publicCapture('zeek__broker-websocket.pcap');

let dir: string;
let srv: ServeHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-serve-'));
  const site = join(dir, 'site');
  mkdirSync(join(site, 'assets'), { recursive: true });
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>wsscope</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(site, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET');
  srv = await startServe({ staticDir: site, host: '127.0.0.1', configDir: join(dir, 'cfg'), log: () => {} });
});

afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw GET: the path goes on the wire exactly as given (no client-side normalisation). */
function get(path: string, host = `127.0.0.1:${srv.port}`): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method: 'GET', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Status of a refused upgrade, or 101 when it was accepted. */
function upgradeStatus(url: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

describe('wsscope serve', () => {
  it('prints a loopback URL with a long random token', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('serves the renderer with a strict CSP and nosniff', async () => {
    const r = await get(`/?token=${srv.token}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${srv.port}`);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    const js = await get('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('refuses path traversal and directory listings with 404', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/assets/', '/assets', '/nope.js', '/%00']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('TOP SECRET');
    }
  });

  it('answers 403 to a Host other than its own (DNS rebinding)', async () => {
    expect((await get('/', `evil.example:${srv.port}`)).status).toBe(403);
    expect((await get('/', `localhost:${srv.port}`)).status).toBe(403);
  });

  it('refuses the API socket without the token, with a wrong token, or from a foreign Origin', async () => {
    const base = `ws://127.0.0.1:${srv.port}/api`;
    expect(await upgradeStatus(base, srv.origin)).toBe(403);
    expect(await upgradeStatus(`${base}?token=${'A'.repeat(32)}`, srv.origin)).toBe(403);
    expect(await upgradeStatus(`${base}?token=${srv.token}`, 'http://evil.example')).toBe(403);
    expect(await upgradeStatus(`${base}?token=${srv.token}`, `http://localhost:${srv.port}`)).toBe(403);
    expect(await upgradeStatus(`${base}?token=${srv.token}`)).toBe(403);
    expect(await upgradeStatus(`${base}?token=${srv.token}`, srv.origin)).toBe(101);
  });

  it('relays calls and pushes between a page and the engine process', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { origin: srv.origin });
    const batches: Batch[] = [];
    const results = new Map<number, (r: Result<unknown>) => void>();
    let onDone: (p: ProgressInfo) => void = () => {};
    const done = new Promise<ProgressInfo>((r) => (onDone = r));
    // row blocks arrive as binary messages, everything else as JSON text
    let binaryBatches = 0;
    let textRowBlocks = 0;
    ws.on('message', (data, isBinary) => {
      const m = decodeFrame(isBinary ? (data as Buffer) : String(data));
      if (m.t === 'push' && m.name === 'batch' && m.payload.rows) {
        if (isBinary) binaryBatches++;
        else textRowBlocks++;
      }
      if (m.t === 'result') results.get(m.id)?.(m.result);
      else if (m.t === 'push' && m.name === 'batch') batches.push(m.payload);
      else if (m.t === 'push' && m.name === 'progress' && m.payload.done) onDone(m.payload);
    });
    await new Promise((r) => ws.once('open', r));
    let id = 0;
    const call = (name: string, args: unknown[]): Promise<Result<unknown>> =>
      new Promise((resolve) => {
        const n = ++id;
        results.set(n, resolve);
        ws.send(encodeWire({ t: 'call', id: n, name, args } as WireMessage));
      });
    try {
      expect(await call('openFile', [BROKER])).toMatchObject({ ok: true, value: { kind: 'file', path: BROKER } });
      expect((await done).packets).toBe(22);
      expect(batches.flatMap(batchRows).map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(binaryBatches).toBeGreaterThan(0);
      expect(textRowBlocks).toBe(0);
      const d = (await call('getMessageDetail', [0])) as Result<MessageDetail>;
      expect(d.ok && d.value.data).toBeInstanceOf(Uint8Array);
      expect(d.ok && Buffer.from(d.value.data).toString()).toBe('["/zeek/event/my_topic"]');
      const q = await call('queryMessages', [{ text: 'my_topic' }]);
      expect(q.ok && (q.value as { indexes: Uint32Array }).indexes).toBeInstanceOf(Uint32Array);
      // the page cannot choose where the engine writes: exports come back as bytes
      const target = join(dir, 'written-by-page.ndjson');
      const ex = await call('exportData', ['ndjson', target]);
      expect(ex.ok && (ex.value as { path: string }).path).toBe('zeek__broker-websocket.ndjson');
      expect(ex.ok && (ex.value as { bytes: Uint8Array }).bytes.length).toBeGreaterThan(1000);
      expect(await call('nonsense', [])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    } finally {
      ws.close();
    }
  });

  it('closes a socket that sends something other than wire JSON', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/api?token=${srv.token}`, { origin: srv.origin });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('{not json');
    expect(await closed).toBe(1007);
  });
});

