// End to end: the real renderer (built with Vite) in headless Chromium, served by
// `wsscope serve` over loopback with a real engine process, on public captures. Screenshots of
// the main views land in docs/screenshots (light and dark).
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServe, type ServeHandle } from '../engine/serve/server';
import { buildRenderer } from '../engine/serve/renderer-build';

const CAPTURES = existsSync(join(import.meta.dirname, '../../shared/captures/public'))
  ? join(import.meta.dirname, '../../shared/captures/public')
  : '/work/shared/captures/public';
const BROKER = join(CAPTURES, 'zeek__broker-websocket.pcap');
const COMPRESSED = join(CAPTURES, 'zeek-pr5646__websocket_compressed.pcap');
const SHOTS = join(import.meta.dirname, '../docs/screenshots');

let tmp = '';
let serve: ServeHandle;
let browser: Browser;
const problems: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-ui-e2e-'));
  const staticDir = await buildRenderer(join(tmp, 'renderer'));
  serve = await startServe({ file: BROKER, staticDir, configDir: join(tmp, 'config'), log: () => {} });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close();
  // CSP violations, failed loads and uncaught exceptions all show up here
  expect(problems.splice(0)).toEqual([]);
});

async function openPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 860 }, colorScheme });
  pages.push(page);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(serve.url);
  return page;
}

const rows = (page: Page) => page.locator('.tl-row');

describe('UI in Chromium against wsscope serve', () => {
  it('shows the messages and the connection of the capture given to `wsscope serve FILE`', async () => {
    const page = await openPage();
    await expect.poll(() => rows(page).count()).toBe(9);
    expect(await page.locator('[data-test="shown-count"]').innerText()).toContain('9 messages');
    expect(await page.locator('.conns').innerText()).toContain('ws://localhost:27599/v1/messages/json');
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
    expect(await detail.locator('.frame .hexdump').innerText()).toMatch(/000000 {2}([0-9a-f]{2} ){8}│ 7b 22 74 79 70 65 22 3a/);
    expect(await detail.locator('.json-tree').innerText()).toContain('data-message');
    await page.screenshot({ path: join(SHOTS, 'message-light.png') });

    await page.locator('[data-test="view-hex"]').click();
    expect(await detail.locator('[data-test="payload"]').innerText()).toContain('7b 22 74 79');
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

  it('tells a new user what to do when nothing is open', async () => {
    // a second server with no file: the empty state
    const empty = await startServe({ staticDir: join(tmp, 'renderer'), configDir: join(tmp, 'config2'), log: () => {} });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
      pages.push(page);
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(empty.url);
      await expect
        .poll(() => page.locator('[data-test="empty-state"]').innerText())
        .toContain('Open a capture (.pcap/.pcapng) or pick an interface and press Start');
      await expect.poll(() => page.locator('[data-test="iface"] option').allInnerTexts()).toContainEqual(expect.stringMatching(/^lo \(loopback/));
      await page.screenshot({ path: join(SHOTS, 'empty-light.png') });
    } finally {
      for (const p of pages.splice(0)) await p.close();
      await empty.close();
    }
  });
});
