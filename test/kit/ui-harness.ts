/**
 * The harness of the Chromium e2e tests of the UI: the renderer built once into a temp
 * directory, `wsscope serve FILE` over loopback with a real engine process, headless
 * Chromium, and pages at 1440x900 whose console errors, page errors and CSP violations fail the
 * test they happen in. Call `uiHarness` at a test file's top level: it registers the file's
 * beforeAll/afterAll/afterEach hooks. Screenshots go to docs/screenshots only with
 * WSSCOPE_SCREENSHOTS=1, so an ordinary run leaves the work tree clean (else to the temp dir).
 * The harness owns its temp directory, server and browser, and closes them after the file.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../peers/chromium';
import { startServe, type ServeHandle } from '../../engine/serve/server';
import { buildRenderer } from '../../engine/serve/renderer-build';
import { REPO_ROOT } from './paths';

export interface UiHarness {
  /** set in beforeAll */
  serve: ServeHandle;
  browser: Browser;
  /** the run's temp directory (the built renderer is in `renderer/`) */
  tmp: string;
  /** where screenshots go */
  shots: string;
  /** problems reported by the pages of the running test (checked after it) */
  problems: string[];
  /** pages to close after the running test */
  pages: Page[];
  /** a new page on the served UI, at 1440x900 */
  openPage(colorScheme?: 'light' | 'dark'): Promise<Page>;
}

export function uiHarness(file: string, tmpPrefix: string): UiHarness {
  const h = {
    tmp: '',
    shots: join(REPO_ROOT, 'docs', 'screenshots'),
    problems: [] as string[],
    pages: [] as Page[],
  } as UiHarness;
  h.openPage = async (colorScheme = 'light') => {
    const page = await h.browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme });
    h.pages.push(page);
    page.on('console', (m) => {
      if (m.type() === 'error') h.problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => h.problems.push(`pageerror: ${e.message}`));
    await page.goto(h.serve.url);
    return page;
  };
  beforeAll(async () => {
    h.tmp = mkdtempSync(join(tmpdir(), tmpPrefix));
    if (!process.env.WSSCOPE_SCREENSHOTS) h.shots = join(h.tmp, 'screenshots');
    const staticDir = await buildRenderer(join(h.tmp, 'renderer'));
    h.serve = await startServe({ file, staticDir, configDir: join(h.tmp, 'config'), log: () => {} });
    h.browser = await launchChromium();
    mkdirSync(h.shots, { recursive: true });
  });
  afterAll(async () => {
    await h.browser?.close();
    await h.serve?.close();
    if (h.tmp) rmSync(h.tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const p of h.pages.splice(0)) await p.close();
    // CSP violations, failed loads and uncaught exceptions all show up here
    expect(h.problems.splice(0)).toEqual([]);
  });
  return h;
}
