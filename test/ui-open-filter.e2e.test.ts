// End to end, the real renderer in headless Chromium against `wsscope serve` and its engine
// process: opening a file from the page (streamed upload, a progress state from the first
// moment), the text filter over whole payloads (words past the preview, binary payloads by
// their ASCII text and by hex), connection-level findings, and the filter's count and errors.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './peers/chromium';
import { startServe, type ServeHandle } from '../engine/serve/server';
import { nodeFork, spawnEngine, type EngineClient } from '../engine/service/client';
import { buildRenderer } from '../engine/serve/renderer-build';
import { publicCapture } from './kit/paths';

const BROKER = publicCapture('zeek__broker-websocket.pcap');
const SSH = publicCapture('zeek__wstunnel-ssh.pcap');
const SSH_MESSAGES = 155;

let tmp = '';
let serve: ServeHandle;
let engine: EngineClient;
let browser: Browser;
const problems: string[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-ui-open-'));
  const staticDir = await buildRenderer(join(tmp, 'renderer'));
  engine = spawnEngine({ fork: nodeFork({ args: [`--config-dir=${join(tmp, 'config')}`] }) });
  serve = await startServe({ staticDir, engine, log: () => {} });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await engine?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close();
  expect(problems.splice(0)).toEqual([]);
});

const rows = (page: Page) => page.locator('.tl-row');

function newPage(): Promise<Page> {
  return browser.newPage({ viewport: { width: 1440, height: 860 } }).then((page) => {
    pages.push(page);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    return page;
  });
}

/** `file` opened in the engine, then a page that shows it once it is read. */
async function openCapture(file: string, messages: number): Promise<Page> {
  const r = await engine.call('openFile', [file]);
  expect(r.ok).toBe(true);
  const page = await newPage();
  await page.goto(serve.url);
  await expect.poll(() => page.locator('[data-test="totals"]').innerText(), { timeout: 20_000 }).toContain(` ${messages} messages`);
  await expect.poll(() => page.locator('[data-test="progress"]').count()).toBe(0);
  return page;
}

interface Opened {
  page: Page;
  /** every text the empty state showed from the moment the file was chosen */
  states: () => Promise<string[]>;
  /** sizes of the WebSocket frames the page sent */
  sent: number[];
  uploads: string[];
}

/** A fresh page that opens `file` through "Open…" as a user does. */
async function openThroughPage(file: string): Promise<Opened> {
  const page = await newPage();
  const sent: number[] = [];
  const uploads: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(typeof f.payload === 'string' ? f.payload.length : f.payload.byteLength)));
  page.on('request', (r) => {
    if (r.method() === 'POST') uploads.push(new URL(r.url()).pathname);
  });
  await page.goto(serve.url);
  await page.locator('[data-test="open"]').waitFor();
  // record what the centre says from now on, every change of it
  await page.evaluate(`(() => {
    const seen = window.__states = [];
    const centre = document.querySelector('.centre');
    const note = () => { const e = document.querySelector('[data-test="empty-state"]'); if (e) seen.push(e.innerText); };
    new MutationObserver(note).observe(centre, { subtree: true, childList: true, characterData: true });
  })()`);
  const chooser = page.waitForEvent('filechooser');
  const uploaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/upload');
  await page.locator('[data-test="open"]').click();
  await (await chooser).setFiles(file);
  // the session of this file, not the one the page found open when it loaded
  expect((await uploaded).status()).toBe(200);
  return { page, states: () => page.evaluate<string[]>('window.__states'), sent, uploads };
}

describe('opening a capture from the page', () => {
  it('streams the file to the server and shows it as being opened, never as empty, until its rows come', async () => {
    const { page, states, sent, uploads } = await openThroughPage(SSH);
    await expect.poll(() => rows(page).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const seen = await states();
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s).not.toContain('No WebSocket messages');
      expect(s).not.toContain('Open a capture');
    }
    expect(seen[0]).toMatch(/^(Opening|Reading) zeek__wstunnel-ssh\.pcap…/);
    // one POST of the file, no frame carrying it over the API socket
    expect(uploads).toEqual(['/upload']);
    expect(Math.max(...sent)).toBeLessThan(4096);
    // the session names the user's file, not the temporary copy the server stored
    expect(await page.locator('.statusbar .sess').innerText()).toBe('file: zeek__wstunnel-ssh.pcap');
  });
});

describe('the text filter searches whole payloads', () => {
  it('finds binary payloads by their ASCII text and by hex, spaced or not', async () => {
    const page = await openCapture(SSH, SSH_MESSAGES);
    const filter = page.locator('[data-test="filter-text"]');
    expect(await filter.getAttribute('placeholder')).toContain('whole payloads');
    // the SSH identification strings (RFC 4253 section 4.2), two per tunnelled session
    for (const text of ['SSH-2.0-OpenSSH', '5353482d322e302d', '53 53 48 2d 32 2e 30 2d']) {
      await filter.fill(text);
      await expect.poll(() => rows(page).count()).toBe(4);
    }
  });

  it('finds a word past the 200-character preview of a text message', async () => {
    const page = await openCapture(BROKER, 9);
    await expect.poll(() => rows(page).count()).toBe(9);
    await page.locator('[data-test="filter-text"]').fill('2024-01-14T15:46:13.137');
    await expect.poll(() => page.locator('[data-test="filter-count"]').innerText()).toMatch(/^[1-9]\d* of 9$/);
    // the count is shown before the list is rendered anew: wait until the list has that many rows
    const hits = Number((await page.locator('[data-test="filter-count"]').innerText()).split(' ')[0]);
    await expect.poll(() => rows(page).count()).toBe(hits);
    for (let i = 0; i < hits; i++) expect(await rows(page).nth(i).innerText()).not.toContain('2024-01-14T15:46:13.137');
  });

  it('shows the filter count once, in plain words, and a regex error once', async () => {
    const page = await openCapture(BROKER, 9);
    await expect.poll(() => rows(page).count()).toBe(9);
    await page.locator('[data-test="filter-text"]').fill('"ack"');
    await expect.poll(() => page.locator('[data-test="filter-count"]').innerText()).toBe('1 of 9');
    const body = await page.locator('body').innerText();
    expect(body).not.toContain('(engine)');
    await page.locator('[data-test="filter-regex"]').check();
    await page.locator('[data-test="filter-text"]').fill('(ack');
    await expect.poll(() => page.locator('[data-test="filter-error"]').count()).toBe(1);
    const text = await page.locator('body').innerText();
    expect(text.split('Invalid regular expression').length - 1).toBe(1);
  });
});

describe('connection-level findings', () => {
  it('opens the handshake of the connection a missing-origin finding is about', async () => {
    const page = await openCapture(BROKER, 9);
    await expect.poll(() => rows(page).count()).toBe(9);
    await rows(page).nth(3).click();
    await expect.poll(() => page.locator('.tl-row.selected').count()).toBe(1);
    await page.locator('[data-test="finding"]', { hasText: 'missing-origin' }).click();
    await expect.poll(() => page.locator('[data-test="tab-handshake"]').getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.tl-row.selected').count()).toBe(0);
    await expect.poll(() => page.locator('.detail').innerText()).toContain('/v1/messages/json');
  });

  it('says why "findings only" lists no message and offers the connection', async () => {
    const page = await openCapture(BROKER, 9);
    await expect.poll(() => rows(page).count()).toBe(9);
    await page.locator('[data-test="filter-findings"]').click();
    await expect.poll(() => rows(page).count()).toBe(0);
    const note = page.locator('[data-test="findings-elsewhere"]');
    await expect.poll(() => note.innerText()).toContain('about connections');
    await note.locator('button').first().click();
    await expect.poll(() => page.locator('[data-test="tab-handshake"]').getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.locator('.detail').innerText()).toContain('/v1/messages/json');
  });
});
