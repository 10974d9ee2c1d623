/**
 * Page-side instrumentation for scripts/bench-ui.ts, as JavaScript source strings: they run in
 * Chromium, not in Node. Strings rather than functions because tsx (esbuild with keepNames)
 * wraps nested functions in a `__name` helper that does not exist in the page, and the Node
 * project has no DOM types; each string is a self-contained expression.
 *
 * INIT_SCRIPT (page.addInitScript, runs before the app) installs `window.__bench`:
 *   - longtasks: every Long Tasks API entry (PerformanceObserver type 'longtask', tasks over
 *     50 ms on the main thread), as { start, duration } in ms since navigation start;
 *   - firstRow: performance.now() when the first timeline row (.tl-row) entered the DOM;
 *   - waitFor(check, timeoutMs): resolves with performance.now() at the first DOM mutation
 *     after which check() is true (checked on every mutation batch), or rejects on timeout;
 *   - frames.start() / frames.stop(): the longest gap between animation frames in between
 *     (a frame the main thread could not paint in time shows up as a long gap);
 *   - shownCount(): the first number in the timeline's "N messages" label.
 *
 * Memory: the page keeps the long-task entries (a few bytes each) and nothing else.
 */

export const INIT_SCRIPT = `(() => {
  const b = { longtasks: [], longtaskError: '', firstRow: null, watchers: [] };
  window.__bench = b;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {
    b.longtaskError = String(e);
  }
  const check = () => {
    if (b.firstRow === null && document.querySelector('.tl-row')) b.firstRow = performance.now();
    for (const w of b.watchers.slice()) {
      let ok = false;
      try { ok = w.check(); } catch (e) { ok = false; }
      if (ok) {
        b.watchers.splice(b.watchers.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(performance.now());
      }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
  b.waitFor = (fn, timeoutMs) => new Promise((resolve, reject) => {
    const w = { check: fn, resolve, timer: 0 };
    w.timer = setTimeout(() => {
      b.watchers.splice(b.watchers.indexOf(w), 1);
      reject(new Error('timed out after ' + timeoutMs + ' ms'));
    }, timeoutMs);
    b.watchers.push(w);
    check();
  });
  b.text = (sel) => { const el = document.querySelector(sel); return el ? el.textContent.replace(/\\s+/g, ' ').trim() : ''; };
  b.shownCount = () => { const m = /[\\d,]+/.exec(b.text('[data-test="shown-count"]')); return m ? Number(m[0].replace(/,/g, '')) : -1; };
  b.frames = {
    running: false, maxGap: 0, count: 0,
    start() {
      const f = b.frames;
      f.running = true; f.maxGap = 0; f.count = 0;
      let last = performance.now();
      const tick = (now) => {
        if (!f.running) return;
        f.maxGap = Math.max(f.maxGap, now - last); f.count++; last = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    },
    stop() { b.frames.running = false; return { maxGap: b.frames.maxGap, frames: b.frames.count }; },
  };
})();`;

/** Expression: resolves with { firstRow, loaded } (ms since navigation) once the timeline shows `total` rows and no read progress. */
export function loadedExpr(total: number, timeoutMs: number): string {
  return `(async () => {
    const b = window.__bench;
    const loaded = await b.waitFor(() => !document.querySelector('[data-test="progress"]') && b.shownCount() === ${total}, ${timeoutMs});
    return { firstRow: b.firstRow, loaded };
  })()`;
}

export interface FilterRun {
  /** ms from the keystroke (input event) or chip click to the filtered count on screen, next frame painted */
  total: number;
  /** ms from the moment the timeline showed "filtering…" (the query went out, after the debounce) to the same point; NaN when it never showed */
  afterDebounce: number;
  /** the filter-count text at the end */
  shown: string;
}

/**
 * Expression: clears the filter, waits for the unfiltered view, applies one filter (text,
 * regex or opcode chips) and resolves with a FilterRun once the filter-count reads
 * "<expected> of <total>" and the timeline no longer says "filtering…".
 */
export function filterExpr(p: { text?: string; regex?: boolean; opcodes?: number[] }, expected: number, total: number, timeoutMs: number): string {
  return `(async (p, expected, total) => {
    const b = window.__bench;
    const q = (s) => document.querySelector(s);
    const fmt = (n) => new Intl.NumberFormat('en-US').format(n);
    const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    if (q('[data-test="filter-clear"]')) q('[data-test="filter-clear"]').click();
    await b.waitFor(() => b.text('[data-test="filter-count"]') === '' && b.shownCount() === total && !q('[data-test="filter-clear"]'), ${timeoutMs});
    if (p.regex) {
      q('[data-test="filter-regex"]').click();
      await nextFrame();
    }
    const want = fmt(expected) + ' of ' + fmt(total);
    const names = { 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
    let busyAt = NaN;
    const t0 = performance.now();
    if (p.opcodes) {
      for (const op of p.opcodes) q('[data-test="filter-op-' + names[op] + '"]').click();
    } else {
      const input = q('[data-test="filter-text"]');
      input.value = p.text;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    await b.waitFor(() => {
      const busy = b.text('[data-test="shown-count"]').includes('filtering');
      if (busy && Number.isNaN(busyAt)) busyAt = performance.now();
      return !busy && b.text('[data-test="filter-count"]').startsWith(want);
    }, ${timeoutMs});
    await nextFrame();
    const end = performance.now();
    return { total: end - t0, afterDebounce: end - busyAt, shown: b.text('[data-test="filter-count"]') };
  })(${JSON.stringify(p)}, ${expected}, ${total})`;
}
