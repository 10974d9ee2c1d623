// End to end: the real renderer (built with Vite) in headless Chromium, served by
// `wsscope serve` over loopback with a real engine process, on public captures. Screenshots of
// the main views (light and dark): `WSSCOPE_SCREENSHOTS=1 npx vitest run test/ui.e2e.test.ts`
// writes them to docs/screenshots.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeHandle } from '../engine/serve/server';
import { publicCapture } from './kit/paths';
import { uiHarness } from './kit/ui-harness';

const BROKER = publicCapture('zeek__broker-websocket.pcap');
const COMPRESSED = publicCapture('zeek-pr5646__websocket_compressed.pcap');
// the server, browser and page checks: test/kit/ui-harness.ts
const ui = uiHarness(BROKER, 'wsscope-ui-e2e-');
const { problems, pages, openPage } = ui;
let tmp = '';
let serve: ServeHandle;
let browser: Browser;
let SHOTS = '';
beforeAll(() => {
  ({ tmp, serve, browser, shots: SHOTS } = ui);
});

const rows = (page: Page) => page.locator('.tl-row');

describe('UI in Chromium against wsscope serve', () => {
  it('shows the messages and the connection of the capture given to `wsscope serve FILE`', async () => {
    const page = await openPage();
    await expect.poll(() => rows(page).count()).toBe(9);
    expect(await page.locator('[data-test="shown-count"]').innerText()).toContain('9 messages');
    // the list cuts long URLs in the middle; the whole one is there on hover
    expect(await page.locator('.conns [data-test="conn-url-full"]').first().textContent()).toBe('ws://localhost:27599/v1/messages/json');
    const first = await rows(page).nth(0).innerText();
    expect(first).toContain('["/zeek/event/my_topic"]');
    expect(await rows(page).nth(8).innerText()).toContain('1000');
    expect(await page.locator('.findings').innerText()).toContain('missing-origin');
    expect(await page.locator('.axis-canvas').count()).toBe(1);
  });

  it('opens a message: frame header bit by bit, masked and unmasked bytes, payload as JSON', async () => {
    const page = await openPage();
    await expect.poll(() => rows(page).count()).toBe(9);
    await rows(page).nth(3).click();
    const detail = page.locator('.detail');
    await expect.poll(() => detail.locator('.fh-grid').count()).toBe(1);
    // message 3 is the client's 361-byte data-message: masked, 16-bit extended length
    expect((await detail.locator('.fh-grid tr.bits td').allInnerTexts()).join('')).toMatch(/^1000000111111110$/);
    expect(await detail.locator('[data-field="extendedPayloadLength"]').innerText()).toContain('361');
    expect(await detail.locator('[data-field="maskingKey"]').innerText()).toMatch(/maskingKey:\s+[0-9a-f]{8}/);
    // 8 bytes a line, or 4 when the pane is too narrow for 8 beside their ASCII
    expect(await detail.locator('.frame .hexdump').innerText()).toMatch(/000000 {2}(([0-9a-f]{2} ){4}){1,2}│ 7b 22 74 79/);
    expect(await detail.locator('.json-tree').innerText()).toContain('data-message');
    await page.screenshot({ path: join(SHOTS, 'message-light.png') });

    await page.locator('[data-test="view-hex"]').click();
    expect(await detail.locator('[data-test="payload"]').innerText()).toContain('7b 22 74 79');
    // copy the payload: the clipboard gets plain text in each representation
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(serve.url).origin });
    await page.locator('[data-test="copy-base64"]').click();
    await expect.poll(() => detail.locator('[data-test="copied"]').innerText()).toBe('copied base64');
    const b64 = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(Buffer.from(b64, 'base64').toString()).toMatch(/^\{"type": "data-message"/);
    await page.locator('[data-test="copy-text"]').click();
    await expect.poll(() => page.evaluate<string>('navigator.clipboard.readText()')).toMatch(/^\{"type": "data-message"/);
    await page.locator('[data-test="copy-hex"]').click();
    await expect.poll(() => page.evaluate<string>('navigator.clipboard.readText()')).toMatch(/^7b 22 74 79/);
    // keyboard: Down moves to the next message, Enter keeps the detail on it
    await page.locator('.tl-body').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('.tl-row.selected').getAttribute('data-index')).toBe('4');
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('.tl-row.selected').getAttribute('data-index')).toBe('8');
    await expect.poll(() => detail.locator('[data-test="close"]').innerText()).toContain('1000 Normal Closure');
  });

  it('filters by text, direction and opcode, with "/" focusing the filter', async () => {
    const page = await openPage();
    await expect.poll(() => rows(page).count()).toBe(9);
    await page.locator('body').press('/');
    await page.keyboard.type('"ack"');
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await page.locator('[data-test="filter-count"]').innerText()).toBe('1 of 9');
    // the count is shown once: the timeline names the total only
    expect(await page.locator('[data-test="shown-count"]').innerText()).toMatch(/^9 messages/);
    await page.locator('[data-test="filter-text"]').fill('');
    await page.locator('[data-test="filter-dir"]').selectOption('client');
    await expect.poll(() => rows(page).count()).toBe(5);
    await page.locator('[data-test="filter-op-close"]').click();
    await expect.poll(() => rows(page).count()).toBe(1);
    await page.locator('[data-test="filter-regex"]').check();
    await page.locator('[data-test="filter-text"]').fill('(');
    await expect.poll(() => page.locator('[data-test="filter-error"]').count()).toBe(1);
    await page.locator('[data-test="filter-clear"]').click();
    await expect.poll(() => rows(page).count()).toBe(9);
  });

  it('shows the handshake with the Accept check and the request and response headers', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await openPage(scheme);
      await expect.poll(() => rows(page).count()).toBe(9);
      await rows(page).nth(1).click();
      await page.locator('[data-test="tab-handshake"]').click();
      const hs = page.locator('.detail');
      await expect.poll(() => hs.locator('[data-test="accept-mark"]').count()).toBe(1);
      expect(await hs.locator('[data-test="accept-mark"]').innerText()).toBe('✓');
      expect(await hs.locator('[data-test="request-headers"]').innerText()).toContain('Sec-WebSocket-Key');
      expect(await hs.locator('[data-test="response-headers"]').innerText()).toContain('Sec-WebSocket-Accept');
      await page.screenshot({ path: join(SHOTS, `handshake-${scheme}.png`) });
      await page.locator('[data-test="tab-message"]').click();
      await page.screenshot({ path: join(SHOTS, `main-${scheme}.png`) });
    }
  });

  it('downloads NDJSON and pcapng exports through Blob URLs', async () => {
    const page = await openPage();
    await expect.poll(() => rows(page).count()).toBe(9);
    const [nd] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-ndjson"]').click()]);
    expect(nd.suggestedFilename()).toBe('zeek__broker-websocket.ndjson');
    expect(nd.url()).toMatch(/^blob:http:\/\/127\.0\.0\.1:\d+\//);
    const lines = readFileSync((await nd.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines.filter((e) => e.type === 'message')).toHaveLength(9);
    const [pc] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-pcapng"]').click()]);
    expect(pc.suggestedFilename()).toBe('zeek__broker-websocket.pcapng');
    // pcapng Section Header Block type
    expect([...readFileSync((await pc.path())!).subarray(0, 4)]).toEqual([0x0a, 0x0d, 0x0d, 0x0a]);
  });

  // runs after the tests that expect the broker capture: the upload replaces the session
  it('uploads a picked file and shows compression and per-connection statistics', async () => {
    const page = await openPage();
    await expect.poll(() => rows(page).count()).toBe(9);
    await page.locator('[data-test="file-input"]').setInputFiles(COMPRESSED);
    await expect.poll(() => rows(page).count()).toBe(4);
    expect(await page.locator('.statusbar').innerText()).toContain('zeek-pr5646__websocket_compressed.pcap');
    const compressed = page.locator('.tl-row', { has: page.locator('.badge.z') });
    expect(await compressed.count()).toBe(2);
    await compressed.first().click();
    await expect.poll(() => page.locator('[data-test="inflated"]').count()).toBe(1);
    expect(await page.locator('[data-test="inflated"]').innerText()).toMatch(/inflated \(ratio \d+\.\d\d×\)/);
    await page.locator('[data-test="tab-stats"]').click();
    await expect.poll(() => page.locator('[data-test="compression"]').count()).toBe(1);
    expect(await page.locator('[data-test="overhead"]').innerText()).toMatch(/of wire bytes/);
    expect(await page.locator('[data-test="polling"]').innerText()).toMatch(/≈/);
    await page.screenshot({ path: join(SHOTS, 'stats-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'stats-dark.png') });
  });

  // runs last against this server: the capture replaces the session
  it('captures live on lo with a validated BPF filter and follows the new messages', async () => {
    const { WebSocketServer, WebSocket } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    wss.on('connection', (s) => s.on('message', (d, bin) => s.send(d, { binary: bin })));
    try {
      const page = await openPage();
      await expect.poll(() => page.locator('[data-test="iface"]').inputValue()).toBe('lo');
      await page.locator('[data-test="bpf"]').fill('tcp port (');
      await expect.poll(() => page.locator('[data-test="bpf-state"]').innerText()).toBe('✗');
      expect(await page.locator('[data-test="start"]').isDisabled()).toBe(true);
      await page.locator('[data-test="bpf"]').fill(`tcp port ${port}`);
      await expect.poll(() => page.locator('[data-test="bpf-state"]').innerText()).toBe('✓');
      await page.locator('[data-test="start"]').click();
      await expect.poll(() => page.locator('[data-test="capture-counters"]').innerText(), { timeout: 20_000 }).toMatch(/^running/);

      const client = new WebSocket(`ws://127.0.0.1:${port}/live`);
      await new Promise<void>((r, j) => {
        client.once('open', () => r());
        client.once('error', j);
      });
      let echoed = 0;
      const allEchoed = new Promise<void>((r) =>
        client.on('message', () => {
          if (++echoed === 20) r();
        }),
      );
      for (let i = 0; i < 20; i++) client.send(JSON.stringify({ live: i }));
      await allEchoed;
      const closed = new Promise<void>((r) => client.once('close', () => r()));
      client.close(1000, 'done');
      await closed;

      // 20 messages each way and the two close frames
      await expect.poll(() => page.locator('[data-test="shown-count"]').innerText(), { timeout: 20_000 }).toBe('42 messages');
      expect(await page.locator('.conns').innerText()).toContain(`ws://127.0.0.1:${port}/live`);
      expect(await page.locator('[data-test="capture-counters"]').innerText()).toMatch(/drops: (unknown|\d+)/);
      // following: the newest row is inside the visible part of the timeline
      const body = (await page.locator('.tl-body').boundingBox())!;
      await expect
        .poll(async () => {
          const last = await page.locator('.tl-row[data-index="41"]').boundingBox();
          return !!last && last.y >= body.y && last.y + last.height <= body.y + body.height + 1;
        })
        .toBe(true);
      await page.screenshot({ path: join(SHOTS, 'live-light.png') });
      // a second tab joining the running capture gets every earlier row too (replay)
      const late = await openPage();
      await expect.poll(() => late.locator('[data-test="shown-count"]').innerText(), { timeout: 20_000 }).toBe('42 messages');
      expect(await late.locator('.conns').innerText()).toContain(`ws://127.0.0.1:${port}/live`);
      // ... and the first tab did not get the replayed rows twice
      expect(await page.locator('[data-test="shown-count"]').innerText()).toBe('42 messages');
      await page.locator('[data-test="stop"]').click();
      await expect.poll(() => page.locator('[data-test="start"]').count(), { timeout: 20_000 }).toBe(1);
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  it('tells a new user what to do when nothing is open', async () => {
    // a second server with no file: the empty state
    const empty = await startServe({ staticDir: join(tmp, 'renderer'), configDir: join(tmp, 'config2'), log: () => {} });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
      pages.push(page);
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(empty.url);
      // the engine process of a new server starts and lists the interfaces first: vitest's
      // 1 s default poll was too short on a loaded 2-core machine
      await expect
        .poll(() => page.locator('[data-test="empty-state"]').innerText(), { timeout: 20_000 })
        .toContain('Open a capture (.pcap/.pcapng) or pick an interface and press Start');
      await expect
        .poll(() => page.locator('[data-test="iface"] option').allInnerTexts(), { timeout: 20_000 })
        .toContainEqual(expect.stringMatching(/^lo \(loopback/));
      await page.screenshot({ path: join(SHOTS, 'empty-light.png') });
    } finally {
      for (const p of pages.splice(0)) await p.close();
      await empty.close();
    }
  });
});

/**
 * Runs in the page before the app: a `window.api` that behaves like the engine for a
 * 1,000,000-message session (batches of 5,000 rows, as the engine batches every ~50 ms), so the
 * renderer's own cost at that size can be measured in a real browser.
 */
function installMillionRowEngine(total: number): void {
  type Cb = (v: unknown) => void;
  const subs: Record<string, Cb[]> = { batch: [], progress: [], captureStatus: [], session: [], error: [] };
  const ok = (value: unknown) => Promise.resolve({ ok: true, value });
  // rows are a pure function of their index: the stand-in keeps none, so the page heap is the UI's
  let fed = 0;
  const row = (i: number) => ({
    index: i,
    conn: 1 + (i % 7),
    dir: i % 2 ? 'server' : 'client',
    ts: 1_700_000_000 + i / 20_000,
    opcode: i % 50 === 0 ? 9 : 1,
    length: 60 + (i % 300),
    wireLength: 60 + (i % 300),
    compressed: false,
    fin: true,
    rsv: 0,
    masked: i % 2 === 0,
    frames: 1,
    truncated: false,
    preview: `{"seq":${i},"op":"tick","price":${(i % 1000) / 10},"sym":"S${i % 97}"}`,
    kind: 'text',
    findings: i % 10_000 === 0 ? 1 : 0,
  });
  const session = { id: 1, kind: 'file', path: '/synthetic/million.pcapng', totalBytes: 0 };
  const w = globalThis as unknown as Record<string, unknown>;
  w.__feed = () => {
    const t0 = performance.now();
    let i = 0;
    const step = () => {
      const batch = [];
      for (let k = 0; k < 5000 && i < total; k++, i++) {
        batch.push(row(i));
      }
      for (const cb of subs.batch)
        cb({ session: 1, connections: [], messages: batch, findings: [], handshakes: [], totals: { packets: i, messages: i, findings: 0, connections: 7 } });
      fed = i;
      if (i < total) setTimeout(step, 0);
      else w.__fedMs = performance.now() - t0;
    };
    step();
  };
  w.api = {
    listInterfaces: () => ok([]),
    validateFilter: () => ok(true),
    openFile: () => ok(session),
    openFileDialog: () => ok(null),
    openBytes: () => ok(session),
    recentFiles: () => ok([]),
    startCapture: () => ok(session),
    stopCapture: () => ok({ state: 'idle', iface: '', backend: '', packets: 0, bytes: 0, drops: null, file: '' }),
    currentSession: () => ok({ id: 0, kind: 'none', path: '', totalBytes: 0 }),
    replay: () => ok({ id: 0, kind: 'none', path: '', totalBytes: 0 }),
    getMessageDetail: (i: number) => ok({ row: row(i), frames: [], data: new TextEncoder().encode(row(i).preview), dataTruncated: false, findings: [] }),
    getHandshake: () => ok(null),
    getStats: () => Promise.resolve({ ok: false, error: { code: 'not-found', message: 'none' } }),
    queryMessages: (q: { text?: string }) => {
      const out: number[] = [];
      for (let i = 0; i < fed; i++) if (!q.text || row(i).preview.includes(q.text)) out.push(i);
      return ok({ indexes: Uint32Array.from(out), total: out.length });
    },
    exportData: () => ok({ path: '' }),
    getAppFacets: () => ok({ protocols: [], types: [], names: [] }),
    getHttp2Requests: () => ok([]),
    getEngineIoSession: () => ok(null),
    listDecoders: () => ok([]),
    setDecoder: () => ok(session),
    addKeyLog: () => ok({ files: [], sessions: 0, decrypted: 0, tlsConnections: 0 }),
    addKeyLogDialog: () => ok(null),
    addKeyLogBytes: () => ok({ files: [], sessions: 0, decrypted: 0, tlsConnections: 0 }),
    keyLogs: () => ok({ files: [], sessions: 0, decrypted: 0, tlsConnections: 0 }),
    onBatch: (cb: Cb) => (subs.batch.push(cb), () => {}),
    onProgress: (cb: Cb) => (subs.progress.push(cb), () => {}),
    onCaptureStatus: (cb: Cb) => (subs.captureStatus.push(cb), () => {}),
    onSession: (cb: Cb) => (subs.session.push(cb), () => {}),
    onError: (cb: Cb) => (subs.error.push(cb), () => {}),
  };
}

describe('UI at a million messages (Chromium, in-page engine stand-in)', () => {
  it('takes a million rows, scrolls them without long frames, and filters them', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    pages.push(page);
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.addInitScript(installMillionRowEngine, 1_000_000);
    await page.goto(serve.url);
    await page.waitForSelector('[data-test="empty-state"]');
    await page.evaluate(() => (globalThis as unknown as { __feed(): void }).__feed());
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { __fedMs?: number }).__fedMs), { timeout: 60_000 }).toBeGreaterThan(0);
    const fedMs = await page.evaluate(() => (globalThis as unknown as { __fedMs: number }).__fedMs);
    await expect.poll(() => page.locator('[data-test="shown-count"]').innerText()).toContain('1,000,000 messages');
    // only the rows in view exist in the DOM
    expect(await page.locator('.tl-row').count()).toBeLessThan(60);

    // Scroll the whole list in 240 animation frames, timing every frame, and read the
    // renderer's main-thread work from Chromium's metrics: frame times on a shared machine
    // with software raster vary with load, script and layout time per frame do not as much.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    type Metrics = { metrics: Array<{ name: string; value: number }> };
    const m0 = ((await cdp.send('Performance.getMetrics')) as Metrics).metrics;
    const frames = await page.evaluate(async () => {
      // this runs in the page: DOM globals typed locally (the test project has no DOM lib)
      const g = globalThis as unknown as {
        document: { querySelector(s: string): { scrollTop: number; scrollHeight: number; clientHeight: number } };
        requestAnimationFrame(cb: () => void): number;
      };
      const el = g.document.querySelector('.tl-body .vl');
      const times: number[] = [];
      let last = performance.now();
      for (let f = 0; f <= 240; f++) {
        el.scrollTop = (el.scrollHeight - el.clientHeight) * (f / 240);
        await new Promise((r) => g.requestAnimationFrame(() => r(null)));
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      return times.slice(1).sort((a, b) => a - b);
    });
    const m1 = ((await cdp.send('Performance.getMetrics')) as Metrics).metrics;
    const perFrameMs = (n: string) =>
      (1000 * ((m1.find((m) => m.name === n)?.value ?? 0) - (m0.find((m) => m.name === n)?.value ?? 0))) / frames.length;
    const scriptMs = perFrameMs('ScriptDuration');
    const layoutMs = perFrameMs('LayoutDuration') + perFrameMs('RecalcStyleDuration');
    const p50 = frames[Math.floor(frames.length * 0.5)];
    const p95 = frames[Math.floor(frames.length * 0.95)];
    const worst = frames[frames.length - 1];
    expect(await page.locator('.tl-row[data-index="999999"]').count()).toBe(1);

    await page.locator('.tl-body').focus();
    await page.keyboard.press('Home');
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) await page.keyboard.press('PageDown');
    const pageDownMs = (Date.now() - t0) / 20;
    await expect.poll(() => page.locator('.tl-row.selected').count()).toBe(1);

    const f0 = Date.now();
    await page.locator('[data-test="filter-text"]').fill('"sym":"S42"');
    await expect.poll(() => page.locator('[data-test="filter-count"]').innerText(), { timeout: 30_000 }).toMatch(/^10,309 of 1,000,000/);
    const filterMs = Date.now() - f0;
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    const heapMB = Math.round(heap.usedSize / 1048576);
    console.log(
      `million rows: ingest ${fedMs.toFixed(0)} ms; scroll frames p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; ` +
        `per frame: script ${scriptMs.toFixed(2)} ms, style+layout ${layoutMs.toFixed(2)} ms; ` +
        `PageDown ${pageDownMs.toFixed(0)} ms/key; text filter via queryMessages ${filterMs} ms (incl. 150 ms debounce); heap after GC ${heapMB} MB`,
    );
    // The timeline's own work per scrolled frame does not grow with the row count: laying out
    // a million rows takes seconds per frame, a virtualised list well under a millisecond, so
    // these bounds sit far above what a loaded 2-core machine shows and still catch the former.
    // (The figures are printed above; they are measurements, not targets.)
    expect(scriptMs).toBeLessThan(20);
    expect(layoutMs).toBeLessThan(100);
    await page.screenshot({ path: join(SHOTS, 'million-light.png') });
  });
});
