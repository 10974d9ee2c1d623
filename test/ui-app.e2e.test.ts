// End to end: what the desktop UI shows of decoded meaning, TLS and HTTP/2, in headless
// Chromium against `wsscope serve` with a real engine process, on captures the test records
// from real peers on lo (test/peers/app-sessions.ts: socket.io + socket.io-client, over WebSocket
// and long-polling then the upgrade; Node tls +
// ws with its key log, one session left without a key; Node http2 with two WebSockets and a
// plain GET on one h2c connection). Screenshots at 1440x900 for the README:
// `WSSCOPE_SCREENSHOTS=1 npx vitest run test/ui-app.e2e.test.ts` writes them to docs/screenshots.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './peers/chromium';
import { openWatchedPage } from './kit/ui-page';
import { startServe, type ServeHandle } from '../engine/serve/server';
import { buildRenderer } from '../engine/serve/renderer-build';
import { recordH2c, recordSocketIo, recordSocketIoPolling, recordWss, type H2cSession, type SocketIoPollingSession, type SocketIoSession, type WssSession } from './peers/app-sessions';

let SHOTS = join(import.meta.dirname, '../docs/screenshots');
let tmp = '';
let serve: ServeHandle;
let browser: Browser;
let sio: SocketIoSession;
let sioPolling: SocketIoPollingSession;
let wss: WssSession;
let h2: H2cSession;
const problems: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-ui-app-'));
  if (!process.env.WSSCOPE_SCREENSHOTS) SHOTS = join(tmp, 'screenshots');
  mkdirSync(SHOTS, { recursive: true });
  sio = await recordSocketIo(tmp);
  sioPolling = await recordSocketIoPolling(tmp);
  wss = await recordWss(tmp, 20000 + ((process.pid + 7) % 20000));
  h2 = await recordH2c(tmp);
  const staticDir = await buildRenderer(join(tmp, 'renderer'));
  serve = await startServe({ file: sio.file, staticDir, configDir: join(tmp, 'config'), log: () => {} });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close();
  expect(problems.splice(0)).toEqual([]);
});

async function openPage(): Promise<Page> {
  const page = await openWatchedPage(browser, serve.url, problems, { width: 1440, height: 900 });
  pages.push(page);
  return page;
}

const rows = (page: Page) => page.locator('.tl-row');
const conn = (page: Page, id: number) => page.locator(`.conn-row[data-conn="${id}"]`);

/** open a capture through the page's file input (what Open… does in the browser); resolves once it shows `connections` connections */
async function upload(page: Page, file: string, connections: number): Promise<void> {
  await page.locator('[data-test="file-input"]').setInputFiles(file);
  await expect.poll(() => page.locator('.conn-row[data-conn]').count()).toBe(connections);
}

/** drop a file on the window as a user would (a DataTransfer with one File) */
async function drop(page: Page, name: string, text: string): Promise<void> {
  // a string: the page's globals (DataTransfer, File) are not in the tests' type library
  const dt = await page.evaluateHandle(`(() => { const d = new DataTransfer(); d.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)})); return d; })()`);
  await page.dispatchEvent('.app', 'drop', { dataTransfer: dt });
}

describe('decoded meaning in the UI (Socket.IO from socket.io and socket.io-client)', () => {
  it('shows a meaning column, the decoded tree, and jumps from an ack to its event and back', async () => {
    const page = await openPage();
    await expect.poll(() => page.locator('[data-test="meaning-head"]').count()).toBe(1);
    const meanings = await page.locator('[data-test="meaning"]').allInnerTexts();
    expect(meanings).toContain('EVENT chat ["hi"] ack 0');
    expect(meanings.some((m) => m.startsWith('EVENT welcome ["hello",1]'))).toBe(true);
    expect(await page.locator('[data-test="conn-app"]').innerText()).toContain('socket.io');
    // the ack of "chat"
    const ackRow = rows(page).filter({ hasText: 'ACK #0' });
    const chatRow = rows(page).filter({ hasText: 'EVENT chat' });
    const chatIndex = await chatRow.getAttribute('data-index');
    const ackIndex = await ackRow.getAttribute('data-index');
    await ackRow.click();
    const detail = page.locator('.detail');
    await expect.poll(() => detail.locator('[data-test="app-line"]').first().innerText().catch(() => '')).toMatch(/^ACK #0 \[\{"ok":true,"length":2\}\]/);
    // the decoded fields as a tree, beside the raw payload views
    expect(await detail.locator('[data-test="app-meaning"] .json-node, [data-test="app-meaning"]').first().innerText()).toContain('ackId');
    expect(await detail.locator('[data-test="payload"]').count()).toBe(1);
    await detail.locator('[data-test="goto-request"]').click();
    await expect.poll(() => page.locator('.tl-row.selected').getAttribute('data-index')).toBe(chatIndex);
    await expect.poll(() => detail.locator('[data-test="goto-reply"]').count()).toBe(1);
    await detail.locator('[data-test="goto-reply"]').click();
    await expect.poll(() => page.locator('.tl-row.selected').getAttribute('data-index')).toBe(ackIndex);
    // what the peers logged is on screen
    for (const [event] of sio.serverLog) expect(meanings.join('\n')).toContain(String(event));
    if (process.env.WSSCOPE_SCREENSHOTS) await page.screenshot({ path: join(SHOTS, 'decoded-socketio.png') });
  });

  it('filters on decoded fields with counts, and decodes a connection as the user chooses', async () => {
    const page = await openPage();
    await expect.poll(() => page.locator('[data-test="app-name"] option').count()).toBeGreaterThan(3);
    const names = await page.locator('[data-test="app-name"] option').allInnerTexts();
    expect(names).toEqual(expect.arrayContaining(['chat (1)', 'upload (1)', 'welcome (1)']));
    expect(await page.locator('[data-test="app-type"] option').allInnerTexts()).toContain('ACK (2)');
    await page.locator('[data-test="app-name"]').selectOption('upload');
    await expect.poll(() => rows(page).count()).toBe(1);
    expect(await rows(page).first().innerText()).toContain('BINARY_EVENT upload');
    await page.locator('[data-test="app-name"]').selectOption('');
    await page.locator('[data-test="app-type"]').selectOption('ACK');
    await expect.poll(() => rows(page).count()).toBe(2);
    await page.locator('[data-test="app-type"]').selectOption('');
    // decode as none: the file is read again without a decoder, the meaning column goes
    const id = Number(await page.locator('.conn-row.ws').first().getAttribute('data-conn'));
    await conn(page, id).click();
    await page.locator('[data-test="tab-handshake"]').click();
    await expect.poll(() => page.locator('[data-test="decoder-now"]').innerText()).toBe('socket.io');
    await page.locator('[data-test="decode-as"]').selectOption('none');
    await expect.poll(() => page.locator('[data-test="meaning-head"]').count()).toBe(0);
    await expect.poll(() => rows(page).count()).toBeGreaterThan(5);
    await conn(page, id).click();
    await expect.poll(() => page.locator('[data-test="decoder-now"]').innerText()).toBe('not decoded');
    await page.locator('[data-test="decode-as"]').selectOption('');
    await expect.poll(() => page.locator('[data-test="meaning-head"]').count()).toBe(1);
  });
});

describe('the Engine.IO session in the UI (socket.io-client long-polling, then the upgrade)', () => {
  it('shows on the upgraded WebSocket the polling bodies of its sid with their packets, and the upgrade among them', async () => {
    const page = await openPage();
    await page.locator('[data-test="file-input"]').setInputFiles(sioPolling.file);
    const ws = page.locator('.conn-row.ws[data-conn]');
    await expect.poll(() => ws.count()).toBe(1);
    await ws.click();
    await page.locator('[data-test="tab-handshake"]').click();
    const eio = page.locator('[data-test="engine-io"]');
    await expect.poll(() => eio.locator('[data-test="eio-sid"]').innerText().catch(() => '')).toBe(sioPolling.sid);
    expect(await eio.locator('[data-test="eio-transports"]').innerText()).toMatch(/^polling: \d+ bodies \(\d+ before the upgrade\) over .+ → websocket \(this connection, #\d+\)$/);
    const bodies = await eio.locator('[data-test="eio-body"]').allInnerTexts();
    // the handshake's open packet names the sid the client's engine holds; the client's CONNECT went by polling
    expect(bodies[0]).toMatch(new RegExp(`GET S→C\\s+\\d+\\s+open sid=${sioPolling.sid}`));
    expect(bodies.some((b) => /POST C→S\s+2\s+CONNECT$/.test(b))).toBe(true);
    expect(await eio.locator('[data-test="eio-upgrade"]').innerText()).toContain('WebSocket upgrade (this connection)');
    // the welcome the client logged came by polling or over the WebSocket: on screen either way
    const welcome = 'EVENT welcome ["hello",1]';
    expect(sioPolling.clientLog[0]).toEqual(['welcome', 'hello', 1]);
    const meanings = await page.locator('[data-test="meaning"]').allInnerTexts();
    expect([...bodies, ...meanings].some((t) => t.includes(welcome))).toBe(true);
    if (process.env.WSSCOPE_SCREENSHOTS) await page.screenshot({ path: join(SHOTS, 'engine-io-session.png') });
  });
});

describe('TLS in the UI (Node tls + ws, key log written by the server)', () => {
  it('lists each TLS connection, decrypts when the key log is dropped, names the session without a key and asks before embedding secrets', async () => {
    const page = await openPage();
    await upload(page, wss.file, 2);
    await expect.poll(() => page.locator('[data-test="conn-tls"]').allInnerTexts()).toEqual(['· TLS 1.3 no key for this session', '· TLS 1.3 no key for this session']);
    await drop(page, 'wss.keys', readFileSync(wss.keylog, 'utf8'));
    await expect.poll(() => page.locator('[data-test="keylog-status"]').getAttribute('title').catch(() => '')).toBe('wss.keys: 1 session · 1/2 TLS decrypted');
    await expect.poll(() => page.locator('[data-test="conn-tls"]').allInnerTexts()).toEqual(['· TLS 1.3 decrypted', '· TLS 1.3 no key for this session']);
    await expect.poll(() => rows(page).count()).toBe(2 * wss.messages.length + 2);
    const texts = (await rows(page).allInnerTexts()).join('\n');
    for (const m of wss.messages) expect(texts).toContain(m);
    const ids = (await page.locator('.conn-row[data-conn]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-conn')))));
    await conn(page, ids[0]).click();
    await page.locator('[data-test="tab-handshake"]').click();
    await expect.poll(() => page.locator('[data-test="hs-url"]').innerText().catch(() => '')).toBe(`GET wss://127.0.0.1:${wss.port}/chat`);
    const tls = page.locator('[data-test="tls-info"]');
    expect(await tls.innerText()).toMatch(/decrypted[\s\S]*localhost[\s\S]*TLS 1\.3[\s\S]*TLS_AES_128_GCM_SHA256[\s\S]*http\/1\.1/);
    if (process.env.WSSCOPE_SCREENSHOTS) {
      await rows(page).nth(1).click();
      await page.locator('[data-test="tab-handshake"]').click();
      await page.screenshot({ path: join(SHOTS, 'wss-decrypted.png') });
    }
    await conn(page, ids[1]).click();
    await expect.poll(() => page.locator('[data-test="tls-client-random"]').innerText().catch(() => '')).toMatch(/[0-9a-f]{64}/);
    const random = (await page.locator('[data-test="tls-client-random"]').innerText()).match(/[0-9a-f]{64}/)![0];
    expect(wss.allKeys).toContain(random);
    // no secret anywhere in the page
    const html = await page.content();
    for (const line of wss.allKeys.split('\n').filter(Boolean)) expect(html).not.toContain(line.split(' ')[2]);
    // pcapng: asked first, cancel writes nothing
    await page.locator('[data-test="export-pcapng"]').click();
    await expect.poll(() => page.locator('[data-test="secrets-prompt"]').innerText()).toContain('Embed the TLS secrets of 1 session');
    await page.locator('[data-test="secrets-cancel"]').click();
    expect(await page.locator('[data-test="secrets-prompt"]').count()).toBe(0);
    // the help text says how to get a key log
    await page.locator('[data-test="keylog-help-toggle"]').click();
    expect(await page.locator('[data-test="keylog-help"]').innerText()).toContain('SSLKEYLOGFILE');
  });
});

describe('HTTP/2 in the UI (Node http2, RFC 8441 extended CONNECT on h2c)', () => {
  it('groups the WebSockets under their HTTP/2 connection and shows the extended CONNECT and the plain request', async () => {
    const page = await openPage();
    await upload(page, h2.file, 3);
    await expect.poll(() => page.locator('.conn-row.h2child').count()).toBe(2);
    const order = await page.locator('.conn-row[data-conn]').evaluateAll((els) => els.map((e) => (e.classList.contains('h2child') ? 'child' : 'top')));
    expect(order.slice(0, 3)).toEqual(['top', 'child', 'child']);
    const carrier = Number(await page.locator('.conn-row[data-conn]').first().getAttribute('data-conn'));
    expect(await page.locator('.conn-row.h2child').first().innerText()).toContain(`ws/h2 stream ${h2.streams[0]}`);
    await page.locator('.conn-row.h2child').first().click();
    await page.locator('[data-test="tab-handshake"]').click();
    const pane = page.locator('.detail');
    await expect.poll(() => pane.locator('[data-test="h2-carriage"]').innerText().catch(() => '')).toBe(`HTTP/2\tstream ${h2.streams[0]} of connection #${carrier} · RFC 8441 extended CONNECT`);
    expect(await pane.locator('[data-test="h2-setting"]').innerText()).toContain('SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (sent before the CONNECT)');
    const req = await pane.locator('[data-test="request-headers"]').innerText();
    for (const h of [':method\tCONNECT', ':protocol\twebsocket', ':path\t/chat', ':authority\t127.0.0.1']) expect(req).toContain(h);
    expect(await pane.locator('[data-test="response-headers"]').innerText()).toContain(':status\t200');
    expect(await pane.locator('[data-test="hs-url"]').innerText()).toMatch(/^CONNECT ws:\/\/127\.0\.0\.1:\d+\/chat$/);
    if (process.env.WSSCOPE_SCREENSHOTS) await page.screenshot({ path: join(SHOTS, 'h2-websocket.png') });
    await pane.locator('[data-test="h2-parent"]').click();
    await expect.poll(() => pane.locator('[data-test="h2-requests"]').innerText().catch(() => '')).toMatch(/GET \/plain\t200/);
  });
});
