// End to end, the views a Chrome DevTools / Wireshark user reads, in headless Chromium against
// `wsscope serve resources/samples/chat.pcapng` (two connections: permessage-deflate with a
// binary message and a close with a reason; a fragmented text, a ping and a 70,000-byte text
// message with a 64-bit length; see resources/samples/README.md). Layout is measured, not
// assumed: a clipped cell has scrollWidth > clientWidth. With WSSCOPE_SCREENSHOTS=1 it also
// writes the screenshots of these views (1440x900, light and dark) to docs/screenshots.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SAMPLE_CHAT } from './kit/paths';
import { uiHarness } from './kit/ui-harness';

const ui = uiHarness(SAMPLE_CHAT, 'wsscope-ui-views-');

// message indexes in chat.pcapng (0-based; the UI numbers them from 1)
const BINARY = 6;
const CLOSE_SEE_YOU = 9;
const LEN64 = 15;

/** A page on chat.pcapng, its 19 messages listed. */
async function openPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await ui.openPage(colorScheme);
  await expect.poll(() => page.locator('.tl-row').count()).toBe(19);
  return page;
}

/** Elements under `selector` whose text is cut (wider than their box). */
function clipped(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((sel) => {
    const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ scrollWidth: number; clientWidth: number; textContent: string | null }> } };
    const out: string[] = [];
    for (const el of Array.from(g.document.querySelectorAll(sel))) if (el.scrollWidth > el.clientWidth + 1) out.push((el.textContent ?? '').trim());
    return out;
  }, selector);
}

const row = (page: Page, index: number) => page.locator(`.tl-row[data-index="${index}"]`);

async function openMessage(page: Page, index: number): Promise<void> {
  await row(page, index).click();
  await expect.poll(() => page.locator('.detail [data-test="frame"]').count()).toBeGreaterThan(0);
  await expect.poll(() => page.locator('.detail').innerText()).toContain(`#${index + 1} · connection`);
}

describe('the views of a capture, measured in Chromium', () => {
  it('reads a 64-bit-length frame whole in the default detail pane, hex dump ASCII column in view', async () => {
    const page = await openPage();
    await openMessage(page, LEN64);
    const detail = page.locator('.detail');
    expect(await detail.locator('[data-field="extendedPayloadLength"] .val').innerText()).toBe('70000 (64 bits)');
    expect(await detail.locator('[data-field="extendedPayloadLength"] .pat').innerText()).toBe('00 00 00 00\n00 01 11 70');
    // nothing in the field table or the bit grid is cut, and the table fits the pane
    expect(await clipped(page, '.fh-fields td, .fh-grid th, .fh-grid td')).toEqual([]);
    const pane = await page.locator('.detail-body').boundingBox();
    for (const t of ['.fh-fields', '.fh-grid']) {
      const box = await detail.locator(t).first().boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(pane!.x + pane!.width);
    }
    // the masked/unmasked dump is narrowed to the pane: its text column is on screen
    for (const dump of await detail.locator('.frame .hexdump').all()) {
      const fits = await dump.evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
      expect(fits).toBe(true);
    }
    expect(await detail.locator('.frame .hexdump pre').nth(1).innerText()).toMatch(/│ 78 78 78 78 .*xxxx/);
    // the shot shows the frame: its header fields and the dump beside them
    await detail.locator('[data-test="frame"]').first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: join(ui.shots, 'frame64-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ui.shots, 'frame64-dark.png') });
  });

  it("shows a binary message's ASCII beside its hex, and a close frame's reason in the Text tab", async () => {
    const page = await openPage();
    expect(await row(page, BINARY).locator('[data-test="preview-ascii"]').innerText()).toBe('........');
    await openMessage(page, BINARY);
    await expect.poll(() => page.locator('[data-test="view-hex"]').getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('[data-test="payload"] .hexdump').innerText()).toContain('de ad be ef 00 01 02 03');
    expect(await page.locator('[data-test="payload"] .hexdump').innerText()).toMatch(/\|\.\.\.\.\.\.\.\.\|/);
    expect(await page.locator('[data-test="payload"] .hexdump').evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
    await page.screenshot({ path: join(ui.shots, 'binary-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ui.shots, 'binary-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await openMessage(page, CLOSE_SEE_YOU);
    expect(await page.locator('[data-test="text"]').innerText()).toBe('see you');
    expect(await page.locator('[data-test="close-text-head"]').innerText()).toContain('1000 Normal Closure');
  });

  it('fits absolute times and opcode names, numbers rows from 1, sorts by length and shows deltas', async () => {
    const page = await openPage();
    await page.locator('[data-test="time-mode"]').click();
    expect(await row(page, 0).locator('[data-col="time"]').innerText()).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
    expect(await clipped(page, '.tl-row [data-col="time"], .tl-row [data-col="opcode"], .tl-row [data-col="length"], .tl-row [data-col="delta"]')).toEqual([]);
    expect(await row(page, 0).locator('[data-col="no"]').innerText()).toBe('1');
    expect(await row(page, 1).locator('[data-col="delta"]').innerText()).toMatch(/^0\.00\d{4}$/);
    await page.locator('[data-test="sort-length"]').click();
    await page.locator('[data-test="sort-length"]').click();
    await expect.poll(() => page.locator('.tl-row').first().getAttribute('data-index')).toBe(String(LEN64 + 1));
    // the preview takes the width the other columns leave
    const head = await page.locator('.tl-head').boundingBox();
    const preview = await page.locator('.tl-head [data-col="preview"]').boundingBox();
    expect(preview!.x + preview!.width).toBeGreaterThan(head!.x + head!.width - 20);
    expect(preview!.width).toBeGreaterThan(120);
  });

  it('filters from a row menu, exports the filtered messages under the capture name', async () => {
    const page = await openPage();
    await row(page, LEN64).click({ button: 'right' });
    await page.locator('[data-test="menu-filter-conn"]').click();
    await expect.poll(() => page.locator('.tl-row').count()).toBe(8);
    await expect.poll(() => page.locator('[data-test="export-scope"]').innerText()).toContain('filtered (8 of 19)');
    const [nd] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-ndjson"]').click()]);
    expect(nd.suggestedFilename()).toBe('chat-filtered.ndjson');
    const lines = readFileSync((await nd.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; conn: number });
    expect(lines.filter((e) => e.type === 'message').map((e) => e.conn)).toEqual(Array(8).fill(2));
    await page.locator('[data-test="export-scope"]').selectOption('all');
    const [all] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-ndjson"]').click()]);
    expect(all.suggestedFilename()).toBe('chat.ndjson');
  });

  it('moves between connections with the keyboard, from the filter box into the timeline, and back on Escape', async () => {
    const page = await openPage();
    expect(await page.locator('.conn-row[data-conn="2"] [data-test="conn-endpoints"]').innerText()).toMatch(/^127\.0\.0\.1:\d+ → 127\.0\.0\.1:44477$/);
    expect(await page.locator('.conn-row[data-conn="1"] [data-test="conn-rtt"]').innerText()).toMatch(/hs \d/);
    await page.locator('[data-test="conn-list"]').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('.tl-row').count()).toBe(8);
    await page.keyboard.press('Home');
    await expect.poll(() => page.locator('.tl-row').count()).toBe(19);
    await page.locator('body').press('/');
    await page.keyboard.type('echo');
    await expect.poll(() => page.locator('.tl-row').count()).toBeLessThan(19);
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className)).toContain('tl-body');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className)).toContain('detail');
    await page.keyboard.press('Escape');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { className: string } } }).document.activeElement.className)).toContain('tl-body');
  });

  it('gives statistics over all connections with a labelled rate chart, in light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await openPage(scheme);
      await page.locator('[data-test="tab-stats"]').click();
      await expect.poll(() => page.locator('[data-test="stats-messages"]').count()).toBe(1);
      expect(await page.locator('[data-test="stats-connections"]').innerText()).toContain('2 WebSocket');
      expect(await page.locator('[data-test="stats-messages"]').innerText()).toBe('19');
      expect(await page.locator('[data-test="polling"]').innerText()).toMatch(/\d\.\d\d× the bytes: ≈/);
      expect(await page.locator('[data-test="axis-left-unit"]').innerText()).toBe('msg/s');
      // 19 messages over 15 ms: sub-millisecond bins, the x axis in ms
      expect(await page.locator('[data-test="rate-summary"]').innerText()).toMatch(/bins of \d+ µs/);
      expect(await page.locator('[data-test="tick-x"]').last().innerText()).toMatch(/ms$/);
      expect(await clipped(page, '.stats .tick')).toEqual([]);
      await page.screenshot({ path: join(ui.shots, `stats-all-${scheme}.png`) });
    }
  });

  it('keeps badges readable in dark mode: 10 px and at least 4.5:1 contrast', async () => {
    const page = await openPage('dark');
    const badges = await page.evaluate(() => {
      type El = { textContent: string | null };
      const g = globalThis as unknown as {
        document: { querySelectorAll(s: string): ArrayLike<El> };
        getComputedStyle(e: El): { color: string; backgroundColor: string; fontSize: string };
      };
      const rgb = (c: string): number[] => {
        const m = /color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)/.exec(c);
        if (m) return [1, 2, 3].map((i) => Number(m[i]) * 255);
        return (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      };
      const lum = (c: number[]): number => {
        const [r, gg, b] = c.map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * gg + 0.0722 * b;
      };
      return Array.from(g.document.querySelectorAll('.tl-row .badge')).map((el) => {
        const s = g.getComputedStyle(el);
        const [a, b] = [lum(rgb(s.color)), lum(rgb(s.backgroundColor))];
        return { text: el.textContent, size: parseFloat(s.fontSize), contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
    });
    expect(badges.some((b) => b.text === 'MASK')).toBe(true);
    for (const b of badges) {
      expect(b.size, b.text ?? '').toBeGreaterThanOrEqual(10);
      expect(b.contrast, b.text ?? '').toBeGreaterThanOrEqual(4.5);
    }
  });

  it('remembers the detail pane width across a reload', async () => {
    const page = await openPage();
    const split = page.locator('[aria-label="Resize the detail pane"]');
    const box = (await split.boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + 100);
    await page.mouse.down();
    await page.mouse.move(box.x - 118, box.y + 100, { steps: 4 });
    await page.mouse.up();
    const w = (await page.locator('.right').boundingBox())!.width;
    expect(w).toBeGreaterThan(560);
    await page.reload();
    await expect.poll(() => page.locator('.tl-row').count()).toBe(19);
    expect(Math.abs((await page.locator('.right').boundingBox())!.width - w)).toBeLessThan(2);
  });
});
