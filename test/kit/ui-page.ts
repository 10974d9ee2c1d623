/**
 * A page of the UI in headless Chromium for the end-to-end tests, with its console errors and
 * uncaught exceptions (CSP violations, failed loads) collected into `problems`, so each test
 * can require that none happened.
 */
import type { Browser, Page } from 'playwright-core';

export async function openWatchedPage(browser: Browser, url: string, problems: string[], o: { width: number; height: number; colorScheme?: 'light' | 'dark' }): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: o.width, height: o.height }, colorScheme: o.colorScheme ?? 'light' });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return page;
}
