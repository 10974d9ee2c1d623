// End to end: hostile payloads in the real renderer (Vite build) in headless Chromium, served by
// `wsscope serve` over loopback. The capture is built in beforeAll (test/kit/capture.ts):
// two WebSocket connections whose handshake fields, text and binary messages, ping/pong
// payloads and close reasons carry markup, javascript: URLs, Vue and JS template injections,
// bidi overrides, C0 controls, invalid UTF-8 and one 10 MiB single-line message. Every view is
// visited and after each step the live DOM is checked: nothing executed, no element or
// attribute came from content, the text shows literally and invisible characters visibly.
// The HAR export is downloaded through the UI and compared with the capture message by message.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './peers/chromium';
import { startServe, type ServeHandle } from '../engine/serve/server';
import { buildRenderer } from '../engine/serve/renderer-build';
import { Conv, ascii, concat, pcap, type Rec, type Side } from './kit/capture';
import { MASK, acceptFor, closePayload, wsFrame, KEY } from './kit/websocket';
import { compileUserRegex } from '../shared/regex';

// ---------- the payloads ----------
const IMG = '<img src=x onerror="window.__pwned=1">';
const SVG = '<svg onload="window.__pwned=2">';
const SCRIPT = '<script>window.__pwned=3</script>';
const JSURL = 'javascript:window.__pwned=4';
const VUE = "{{constructor.constructor('window.__pwned=5')()}}";
const TPL = '${window.__pwned=6}';
const HOSTILE = [IMG, SVG, SCRIPT, JSURL, VUE, TPL];
const BIDI = 'user\u202Egpj.exe \u2066isolated\u2069 end';
const CTRL = 'nul\u0000bel\u0007esc\u001b[31mred del\u007f end';
const JSON_MSG = JSON.stringify({ [IMG]: SVG, [SCRIPT]: [JSURL, VUE, TPL], nested: { [VUE]: IMG, [BIDI]: CTRL, [TPL]: 6 } });
// a lone 0xff, an unpaired continuation and an overlong NUL (RFC 3629 section 3)
const INVALID = concat([ascii(IMG), Uint8Array.of(0xff, 0x80, 0xc0, 0x80), ascii(' tail')]);
// 10 MiB on one line, hostile at both ends
const BIG_LEN = 10 * 1024 * 1024;
const BIG = (() => {
  const head = `BIG ${IMG}`;
  const tail = SVG;
  return head + 'x'.repeat(BIG_LEN - head.length - tail.length) + tail;
})();
// a backtracking trap for the regex filter: `(a+)+$` against this is exponential in V8
const AAAA = 'a'.repeat(60) + '!';

// handshake fields (request target without spaces: it sits in the request line)
const PATH = '/<svg/onload=window.__pwned=7>?q=<img/src=x/onerror=window.__pwned=8>';
const HOST = '<img src=x onerror="window.__pwned=9">';
const ORIGIN = 'javascript:window.__pwned=10';
const PROTOCOL = '<script>window.__pwned=11</script>';
const XHEADER = '<img src=x onerror="window.__pwned=12">';
const EXTENSIONS = `x-\u202Eevil; ${SVG}`;
// the capture's own file name is shown in the status bar and the recent-files menu
const FILE_NAME = `hostile-${'<img src=x onerror=window.__pwned=13>'}-\u202Egpj.pcap`;

// ---------- the capture model ----------
interface Msg {
  conn: number;
  dir: 'client' | 'server';
  opcode: number;
  payload: Uint8Array;
  /** timestamp of the record that completed the message, seconds */
  ts: number;
}

const enc = new TextEncoder();
const utf8 = (s: string): Uint8Array => enc.encode(s);
const messages: Msg[] = [];

function hostileRequest(): Uint8Array {
  return ascii(
    [
      `GET ${PATH} HTTP/1.1`,
      `Host: ${HOST}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${KEY}`,
      'Sec-WebSocket-Version: 13',
      `Origin: ${ORIGIN}`,
      `Sec-WebSocket-Protocol: ${PROTOCOL}`,
      `X-Evil: ${XHEADER}`,
      '',
      '',
    ].join('\r\n'),
  );
}

function hostileResponse(): Uint8Array {
  return ascii(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptFor(KEY)}`,
      `Sec-WebSocket-Protocol: ${PROTOCOL}`,
      `Sec-WebSocket-Extensions: ${EXTENSIONS}`,
      `X-Evil: ${TPL}`,
      '',
      '',
    ].join('\r\n'),
  );
}

/** Sends one single-frame message from `side` and records it in the model. */
function say(c: Conv, conn: number, side: Side, opcode: number, payload: Uint8Array, mss = 1400): void {
  const frame = wsFrame({ opcode, payload, mask: side === 'c' ? MASK : null });
  const recs = c.send(side, frame, mss);
  // close frames carry the code and reason; the model keeps the whole payload like the store
  messages.push({ conn, dir: side === 'c' ? 'client' : 'server', opcode, payload, ts: recs[recs.length - 1].tsUs / 1e6 });
}

function buildCapture(): Uint8Array {
  const a = new Conv({ clientPort: 50001, serverPort: 8080, t0: 1_700_000_000_000_000 });
  a.open();
  a.send('c', hostileRequest());
  a.send('s', hostileResponse());
  for (const s of HOSTILE) {
    const b = utf8(s);
    say(a, 1, 'c', 1, b);
    say(a, 1, 's', 1, b);
    say(a, 1, 'c', 2, b);
    say(a, 1, 's', 2, b);
    say(a, 1, 'c', 9, b);
    say(a, 1, 's', 10, b);
    say(a, 1, 's', 9, b);
    say(a, 1, 'c', 10, b);
  }
  for (const side of ['c', 's'] as const) {
    say(a, 1, side, 1, utf8(JSON_MSG));
    say(a, 1, side, 1, utf8(BIDI));
    say(a, 1, side, 1, utf8(CTRL));
    say(a, 1, side, 1, INVALID);
  }
  say(a, 1, 's', 1, utf8(AAAA));
  say(a, 1, 'c', 8, closePayload(1000, IMG + SVG + SCRIPT));
  say(a, 1, 's', 8, closePayload(1000, JSURL + VUE + TPL));
  a.close();

  // the second connection starts a second later; its handshake is an ordinary one
  const b = new Conv({ clientPort: 50002, serverPort: 8080, t0: a.t + 1_000_000 });
  b.upgrade({ path: '/big' });
  say(b, 2, 'c', 1, utf8('hello'));
  // ~60 KB segments: the IPv4 total length field still fits
  say(b, 2, 's', 1, utf8(BIG), 60_000);
  say(b, 2, 'c', 1, utf8('after big'));
  say(b, 2, 'c', 8, closePayload(1000, JSURL + VUE + TPL));
  say(b, 2, 's', 8, closePayload(1000, IMG + SVG + SCRIPT));
  b.close();
  const recs: Rec[] = [...a.recs, ...b.recs];
  return pcap(recs, { linkType: a.linkType });
}

// ---------- the page ----------
// the UI answers in well under a second, but other engineers' benchmarks share the 2 cores:
// waits for a UI state are bounded generously (the 10 MiB timing is asserted on its own)
vi.setConfig({ expect: { poll: { timeout: 10_000 } } });

let tmp = '';
let serve: ServeHandle;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const dialogs: string[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-hostile-e2e-'));
  const file = join(tmp, FILE_NAME);
  writeFileSync(file, buildCapture());
  const staticDir = await buildRenderer(join(tmp, 'renderer'));
  serve = await startServe({ file, staticDir, configDir: join(tmp, 'config'), log: () => {} });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // an injected <img src=x> would fetch /x; anything not from this server is a leak too
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol === 'blob:' || u.protocol === 'data:') return;
    if (u.origin !== serve.origin && u.origin !== serve.origin.replace(/^http/, 'ws')) problems.push(`request to another origin: ${r.url()}`);
    else if (u.pathname !== '/' && u.pathname !== '/api' && !u.pathname.startsWith('/assets/')) problems.push(`unexpected request: ${u.pathname}`);
  });
  await page.goto(serve.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface DomReport {
  pwned: string;
  onAttributes: string[];
  urlAttributes: string[];
  imgX: number;
  svg: number;
  scripts: string[];
  rawInvisibleText: string[];
  rawInvisibleAttributes: string[];
  bigTextNodes: number;
}

/** Runs in the page: everything that would show that content became markup or acted. */
function scanDom(): DomReport {
  // DOM globals typed locally: the test project has no DOM lib
  interface Attr {
    name: string;
    value: string;
  }
  interface El {
    tagName: string;
    attributes: ArrayLike<Attr>;
    textContent: string | null;
    childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
    getAttribute(n: string): string | null;
  }
  const g = globalThis as unknown as {
    __pwned?: unknown;
    document: { querySelectorAll(s: string): ArrayLike<El>; body: El };
  };
  const all = Array.from(g.document.querySelectorAll('*'));
  const r: DomReport = {
    pwned: typeof g.__pwned,
    onAttributes: [],
    urlAttributes: [],
    imgX: g.document.querySelectorAll('img[src="x"], img').length,
    svg: g.document.querySelectorAll('svg').length,
    scripts: [],
    rawInvisibleText: [],
    rawInvisibleAttributes: [],
    bigTextNodes: 0,
  };
  // bidi embeddings/overrides/isolates, C0 controls other than tab/LF/CR, DEL
  const invisible = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
  for (const el of all) {
    for (const a of Array.from(el.attributes)) {
      if (a.name.toLowerCase().startsWith('on')) r.onAttributes.push(`<${el.tagName} ${a.name}>`);
      // (the page's own favicon is the empty `data:,`)
      if (/^(href|src|action|formaction|xlink:href|data|srcdoc)$/i.test(a.name) && /^\s*(javascript|vbscript|data):/i.test(a.value) && a.value !== 'data:,')
        r.urlAttributes.push(`<${el.tagName} ${a.name}=${a.value}>`);
      // attributes that show up as text (tooltips, labels); a form value is data, not shown
      if (a.name !== 'value' && invisible.test(a.value)) r.rawInvisibleAttributes.push(`<${el.tagName} ${a.name}=${JSON.stringify(a.value)}>`);
    }
    if (el.tagName === 'SCRIPT') {
      const src = el.getAttribute('src') ?? '';
      if (!/^\.?\/assets\/[\w.-]+\.js$/.test(src) || (el.textContent ?? '') !== '') r.scripts.push(`src=${src} text=${(el.textContent ?? '').slice(0, 80)}`);
    }
    for (const n of Array.from(el.childNodes)) {
      if (n.nodeType !== 3) continue;
      const t = n.textContent ?? '';
      if (t.length > 64 * 1024) r.bigTextNodes++;
      if (el.tagName !== 'SCRIPT' && el.tagName !== 'STYLE' && invisible.test(t)) r.rawInvisibleText.push(`<${el.tagName}> ${JSON.stringify(t.slice(0, 80))}`);
    }
  }
  return r;
}

/** After every step: no dialog, nothing executed, no content-made element or attribute. */
async function expectInert(step: string): Promise<void> {
  const r = await page.evaluate(scanDom);
  expect({ step, ...r, dialogs, problems }).toEqual({
    step,
    pwned: 'undefined',
    onAttributes: [],
    urlAttributes: [],
    imgX: 0,
    svg: 0,
    scripts: [],
    rawInvisibleText: [],
    rawInvisibleAttributes: [],
    bigTextNodes: 0,
    dialogs: [],
    problems: [],
  });
}

function rows(p: Page) {
  return p.locator('.tl-row');
}
const row = (i: number) => page.locator(`.tl-row[data-index="${i}"]`);
const detail = () => page.locator('.detail');
const payload = () => page.locator('.detail [data-test="payload"]');
const textOf = (sel: string) => page.locator(sel).evaluate((e) => (e as unknown as { textContent: string }).textContent);

/** Brings timeline row `i` into view (the list is virtualised) and clicks it. */
async function openRow(i: number): Promise<void> {
  await page.locator('.tl-body .vl').evaluate((el, top) => {
    (el as unknown as { scrollTop: number }).scrollTop = top;
  }, Math.max(0, i * 20 - 100));
  await row(i).click();
  await expect.poll(() => page.locator('.detail .kv').first().innerText()).toContain(`#${i + 1} ·`);
}

/**
 * What the timeline preview holds for a message, modelled from the preview contract
 * (engine/store/preview.ts): at most 200 characters of valid UTF-8 text, close code and
 * reason, text pings/pongs; binary and invalid UTF-8 as hex (no hostile text in it).
 */
function modelPreview(m: Msg): string {
  const strict = new TextDecoder('utf-8', { fatal: true });
  try {
    if (m.opcode === 8) return `1000 Normal Closure: ${strict.decode(m.payload.subarray(2))}`.slice(0, 200);
    if (m.opcode === 1 || m.opcode === 9 || m.opcode === 10) return strict.decode(m.payload).slice(0, 200);
  } catch {
    return '';
  }
  return '';
}

/**
 * What the text filter matches (engine/store/query.ts): the whole payload, as text
 * case-insensitively (binary payloads by their ASCII text), and a close message's preview.
 */
const payloadText = (m: Msg): string => new TextDecoder().decode(m.payload);
function filterMatches(m: Msg, s: string): boolean {
  const needle = s.toLowerCase();
  return payloadText(m).toLowerCase().includes(needle) || (m.opcode === 8 && modelPreview(m).toLowerCase().includes(needle));
}
/** What a regex filter matches: the payload as text, or (a close message) its preview. */
const regexMatches = (m: Msg, re: { test(s: string): boolean }): boolean => re.test(payloadText(m)) || (m.opcode === 8 && re.test(modelPreview(m)));

const indexOf = (pred: (m: Msg) => boolean, nth = 0): number => {
  let k = 0;
  for (let i = 0; i < messages.length; i++) if (pred(messages[i]) && k++ === nth) return i;
  throw new Error('no such message in the model');
};
const isText = (s: string, dir: Msg['dir']) => (m: Msg) => m.opcode === 1 && m.dir === dir && m.payload.length === utf8(s).length && new TextDecoder().decode(m.payload) === s;

// The tests share one page and run in order (filters set by one are cleared before the next).
describe('hostile payloads in Chromium through wsscope serve', () => {
  it('lists the connections and the timeline with every hostile string as literal text', async () => {
    await expect.poll(() => page.locator('[data-test="shown-count"]').innerText(), { timeout: 30_000 }).toBe(`${messages.length} messages`);
    await expectInert('loaded');
    // connections list: the URL is built from the hostile Host and request target
    const conns = await textOf('.conns');
    expect(conns).toContain(`ws://${HOST}${PATH}`);
    expect(conns).toContain(PROTOCOL);
    // header bytes are ISO-8859-1 (RFC 9110 section 5.5): the UTF-8 of U+202E arrives as
    // "â", the C1 control U+0080 (made visible) and "®", never as an override
    expect(conns).toContain('x-â⟨U+0080⟩®evil');
    // status bar: the capture's own name
    expect(await textOf('.statusbar')).toContain('hostile-<img src=x onerror=window.__pwned=13>-⟨U+202E⟩gpj.pcap');
    // the first row is the client's text message IMG, shown literally
    expect(await row(0).locator('.preview').evaluate((e) => (e as unknown as { textContent: string }).textContent)).toBe(IMG);
    // each hostile string through the text filter: every shown row carries it literally
    for (const s of HOSTILE) {
      await page.locator('[data-test="filter-text"]').fill(s);
      const want = messages.filter((m) => filterMatches(m, s)).length;
      const shown = messages.filter((m) => filterMatches(m, s) && modelPreview(m).includes(s)).length;
      // text, ping and pong both ways, one close reason on each connection, and more
      expect(want).toBeGreaterThanOrEqual(8);
      // the previous filter's count can equal this one's: wait for rows whose previews show it
      // (the others hold it past their preview, or as bytes of a binary payload)
      await expect
        .poll(async () => (await page.locator('.tl-row .preview .pv').allTextContents()).filter((p) => p.includes(s)).length)
        .toBe(shown);
      expect(await rows(page).count()).toBe(want);
      expect(await page.locator('[data-test="filter-count"]').innerText()).toBe(`${want} of ${messages.length}`);
      await expectInert(`filter ${s}`);
    }
    await page.locator('[data-test="filter-text"]').fill('');
    await expect.poll(() => rows(page).count()).toBeGreaterThan(20);
  });
  it('filters by a hostile regex, and refuses a backtracking one without freezing the page', async () => {
    const re = /<(img|svg)[^>]*\son\w+=/i;
    await page.locator('[data-test="filter-regex"]').check();
    await page.locator('[data-test="filter-text"]').fill(re.source);
    const want = messages.filter((m) => regexMatches(m, re)).length;
    expect(want).toBeGreaterThanOrEqual(16);
    await expect.poll(() => page.locator('[data-test="filter-count"]').innerText()).toBe(`${want} of ${messages.length}`);
    const previews = await page.locator('.tl-row .preview .pv').allTextContents();
    expect(previews.filter((p) => re.test(p)).length).toBe(messages.filter((m) => regexMatches(m, re) && re.test(modelPreview(m))).length);
    await expectInert('regex filter');
    // `(a+)+$` and `(a|aa)+!x` against "aaa…a!" backtrack exponentially in a JavaScript RegExp (a
    // preview holds 61 such characters): the filter runs them with RE2 (shared/regex.ts), in
    // linear time, and counts right (RE2 in the test too: V8 would hang here)
    for (const trap of ['(a+)+$', '(a|aa)+!x']) {
      await page.locator('[data-test="filter-text"]').fill(trap);
      const re2 = compileUserRegex(trap);
      if ('error' in re2) throw new Error(re2.error);
      const hits = messages.filter((m) => regexMatches(m, re2)).length;
      await expect.poll(() => page.locator('[data-test="filter-count"]').innerText()).toBe(`${hits} of ${messages.length}`);
      expect(await page.locator('[data-test="filter-error"]').count()).toBe(0);
    }
    // and the page still answers: a backtracking run over 61 characters would hold its main
    // thread for hours, so a bound far above any load-induced delay still tells the two apart
    const t0 = Date.now();
    await page.evaluate(() => 1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    await page.locator('[data-test="filter-clear"]').click();
    // the filter bar's count is the one that says a filter is on (the timeline shows the total only)
    await expect.poll(() => page.locator('[data-test="filter-count"]').innerText()).toBe('');
    expect(await page.locator('[data-test="shown-count"]').innerText()).toBe(`${messages.length} messages`);
    expect(await page.locator('[data-test="filter-regex"]').isChecked()).toBe(false);
    await expectInert('regex cleared');
  });

  it('shows bidi overrides, isolates and C0 controls as visible symbols in the timeline and the detail', async () => {
    for (const dir of ['client', 'server'] as const) {
      const b = indexOf(isText(BIDI, dir));
      await openRow(b);
      // the engine's previews and the detail pane show bidi controls the same way: ⟨U+XXXX⟩
      expect(await row(b).locator('.preview').textContent()).toBe('user⟨U+202E⟩gpj.exe ⟨U+2066⟩isolated⟨U+2069⟩ end');
      await expect.poll(() => payload().textContent()).toBe('user⟨U+202E⟩gpj.exe ⟨U+2066⟩isolated⟨U+2069⟩ end');
      await expectInert(`bidi ${dir}`);
      const c = indexOf(isText(CTRL, dir));
      await openRow(c);
      expect(await row(c).locator('.preview').textContent()).toBe('nul␀bel␇esc␛[31mred del␡ end');
      await expect.poll(() => payload().textContent()).toBe('nul␀bel␇esc␛[31mred del␡ end');
      await expectInert(`controls ${dir}`);
    }
  });

  it('opens every hostile text, binary, ping and pong message in the Text, JSON, Hex and Base64 views with its frame bits', async () => {
    for (const s of HOSTILE) {
      const b64 = Buffer.from(s).toString('base64');
      for (let k = 0; k < messages.length; k++) {
        const m = messages[k];
        if (m.conn !== 1 || m.opcode === 8 || Buffer.from(m.payload).toString() !== s) continue;
        await openRow(k);
        // binary opens in Hex, text that starts like JSON ("{{constructor…") in JSON, the rest in Text
        const first = m.opcode === 2 ? 'Hex' : m.opcode === 1 && s.startsWith('{') ? 'JSON' : 'Text';
        await expect.poll(() => page.locator('.detail [role="tab"][aria-selected="true"]').allTextContents(), { message: `#${k} opcode ${m.opcode}` }).toContain(first);
        await page.locator('[data-test="view-text"]').click();
        await expect.poll(() => payload().textContent(), { message: `text view of #${k}` }).toBe(s);
        // frame header bit by bit: FIN, RSV1-3, opcode, MASK, 7-bit length (RFC 6455 section 5.2)
        const bits = '1000' + m.opcode.toString(2).padStart(4, '0') + (m.dir === 'client' ? '1' : '0') + s.length.toString(2).padStart(7, '0');
        expect((await detail().locator('.fh-grid tr.bits td').allInnerTexts()).join('')).toBe(bits);
        if (m.dir === 'client') {
          expect(await detail().locator('[data-field="maskingKey"]').innerText()).toContain('37fa213d');
          // masked and unmasked side by side; the text column shows the unmasked bytes (4 or 8
          // a line, as the pane's width allows)
          expect(await detail().locator('.frame .hexdump').textContent()).toContain(s.slice(0, 4));
        }
        await expectInert(`#${k} text`);
        // the other payload views render the same components whatever the opcode and side:
        // all of them for the client's text and the server's binary message of each string
        if (!((m.opcode === 1 && m.dir === 'client') || (m.opcode === 2 && m.dir === 'server'))) continue;
        await page.locator('[data-test="view-json"]').click();
        await expect.poll(() => payload().textContent()).toMatch(/JSON|Unexpected|not valid|token/i);
        await expectInert(`#${k} json`);
        await page.locator('[data-test="view-hex"]').click();
        // printable ASCII column of the first line, as text: 8 characters of the payload in the
        // default pane (16 a line would push the ASCII column out of view)
        await expect.poll(() => payload().textContent()).toContain(`|${s.slice(0, 8)}|`);
        await expectInert(`#${k} hex`);
        await page.locator('[data-test="view-base64"]').click();
        await expect.poll(() => payload().textContent()).toBe(b64);
        await expectInert(`#${k} base64`);
      }
    }
  });

  it('renders a JSON message whose keys and values are hostile as a tree of text', async () => {
    for (const dir of ['client', 'server'] as const) {
      await openRow(indexOf(isText(JSON_MSG, dir)));
      await expect.poll(() => detail().locator('.json-tree').count()).toBe(1);
      const tree = (await detail().locator('.json-tree').textContent()) ?? '';
      for (const s of HOSTILE) expect(tree).toContain(s);
      expect(tree).toContain(`"${SVG}"`);
      expect(tree).toContain('user⟨U+202E⟩gpj.exe ⟨U+2066⟩isolated⟨U+2069⟩ end');
      expect(tree).toContain('"nul␀bel␇esc␛[31mred del␡ end"');
      await expectInert(`json ${dir}`);
    }
  });

  it('shows hostile close reasons literally in the timeline and the detail', async () => {
    for (const [conn, dir, reason] of [
      [1, 'client', IMG + SVG + SCRIPT],
      [1, 'server', JSURL + VUE + TPL],
      [2, 'client', JSURL + VUE + TPL],
      [2, 'server', IMG + SVG + SCRIPT],
    ] as const) {
      const k = indexOf((m) => m.conn === conn && m.dir === dir && m.opcode === 8);
      await openRow(k);
      expect(await row(k).locator('.preview').textContent()).toBe(`1000 Normal Closure: ${reason}`);
      await expect.poll(() => detail().locator('[data-test="close"]').textContent()).toBe(`Close1000 Normal Closure · reason "${reason}"`);
      await expectInert(`close ${conn} ${dir}`);
    }
  });

  it('lists the invalid UTF-8 findings and opens their message with the bad bytes replaced visibly', async () => {
    const findings = page.locator('.findings [data-test="finding"]', { hasText: 'invalid-utf8' });
    await expect.poll(() => findings.count()).toBe(2);
    await expectInert('findings');
    await findings.first().click();
    const k = indexOf((m) => m.payload.length === INVALID.length && m.opcode === 1 && m.dir === 'client' && Buffer.compare(Buffer.from(m.payload), Buffer.from(INVALID)) === 0);
    await expect.poll(() => page.locator('.detail .kv').first().innerText()).toContain(`#${k + 1} ·`);
    expect(await detail().locator('[data-test="message-findings"]').innerText()).toContain('invalid-utf8');
    // the timeline shows hex for a text message that is not UTF-8
    expect(await row(k).locator('.preview').textContent()).toMatch(/^3c 69 6d 67 20/);
    await page.locator('[data-test="view-text"]').click();
    await expect.poll(() => payload().textContent()).toBe(`${IMG}\uFFFD\uFFFD\uFFFD\uFFFD tail`);
    await expectInert('invalid utf-8');
  });

  it('shows the hostile handshake fields as text in the handshake pane, and the statistics', async () => {
    await page.locator('.conns [data-conn="1"]').click();
    await page.locator('[data-test="tab-handshake"]').click();
    await expect.poll(() => detail().locator('[data-test="request-headers"]').count()).toBe(1);
    const text = (await detail().textContent()) ?? '';
    expect(text).toContain(`ws://${HOST}${PATH}`);
    expect(text).toContain(`GET ${PATH} HTTP/1.1`);
    expect(await detail().locator('[data-test="accept-mark"]').innerText()).toBe('✓');
    const req = (await detail().locator('[data-test="request-headers"]').textContent()) ?? '';
    for (const h of [`Host${HOST}`, `Origin${ORIGIN}`, `Sec-WebSocket-Protocol${PROTOCOL}`, `X-Evil${XHEADER}`]) expect(req).toContain(h);
    const res = (await detail().locator('[data-test="response-headers"]').textContent()) ?? '';
    expect(res).toContain(`X-Evil${TPL}`);
    expect(res).toContain('Sec-WebSocket-Extensionsx-â⟨U+0080⟩®evil; <svg');
    await expectInert('handshake');
    await page.locator('[data-test="tab-stats"]').click();
    await expect.poll(() => detail().locator('[data-test="overhead"]').count()).toBe(1);
    await expectInert('stats');
    await page.locator('[data-test="tab-message"]').click();
    await page.locator('[data-test="conn-all"]').click();
    await expect.poll(() => page.locator('[data-test="filter-count"]').innerText()).toBe('');
    expect(await page.locator('[data-test="shown-count"]').innerText()).toBe(`${messages.length} messages`);
  });

  it('opens the 10 MiB single-line message quickly, capped with "show more", and stays responsive', async () => {
    const k = indexOf((m) => m.payload.length === BIG_LEN);
    expect(await (async () => {
      await page.locator('.tl-body .vl').evaluate((el, top) => {
        (el as unknown as { scrollTop: number }).scrollTop = top;
      }, k * 20 - 100);
      return row(k).locator('.preview').textContent();
    })()).toBe(`BIG ${IMG}${'x'.repeat(200 - 4 - IMG.length)}…`);
    const t0 = Date.now();
    await row(k).click();
    await expect.poll(() => payload().locator('[data-test="show-more"]').count()).toBe(1);
    const openMs = Date.now() - t0;
    // a hang, not a speed, check (the time is printed below; speed is the UI benchmark's):
    // generous enough for a loaded 2-core machine
    expect(openMs).toBeLessThan(20_000);
    // the engine sends the first MiB; the page shows its first 64 Ki characters
    expect(await detail().innerText()).toContain('Showing the first 1.0 MiB');
    const shown = await payload().locator('.safe-text > span').allTextContents();
    expect(shown).toHaveLength(1);
    expect(shown[0]).toBe(BIG.slice(0, 64 * 1024));
    expect((await payload().locator('[data-test="show-more"]').innerText()).trim()).toBe(`show more (${(1024 * 1024 - 64 * 1024).toLocaleString('en-US')} more characters)`);
    await payload().locator('[data-test="show-more"]').click();
    await expect.poll(() => payload().locator('.safe-text > span').count()).toBe(2);
    await expectInert('big text');
    for (const v of ['hex', 'base64', 'json'] as const) {
      await page.locator(`[data-test="view-${v}"]`).click();
      await expect.poll(() => page.locator(`[data-test="view-${v}"]`).getAttribute('aria-selected')).toBe('true');
      await expectInert(`big ${v}`);
    }
    // the next row answers right away
    const t1 = Date.now();
    await row(k + 1).click();
    await expect.poll(() => payload().textContent()).toBe('after big');
    const nextMs = Date.now() - t1;
    expect(nextMs).toBeLessThan(10_000);
    console.log(`10 MiB message: detail with "show more" in ${openMs} ms; next row in ${nextMs} ms`);
  });

  it('exports HAR 1.2 whose _webSocketMessages match the capture, hostile strings as plain JSON strings', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="export-har"]').click()]);
    // named after the capture, its markup and bidi override made plain characters
    expect(dl.suggestedFilename()).toBe('hostile-_img src_x onerror_window.__pwned_13_-_gpj.har');
    const har = JSON.parse(readFileSync((await dl.path())!, 'utf8')) as Har;
    expectHar12(har);
    expect(har.log.entries).toHaveLength(2);
    for (const conn of [1, 2]) {
      const e = har.log.entries.find((x) => x._wsscopeConnection === conn)!;
      expect(e._resourceType).toBe('websocket');
      const want = messages
        .filter((m) => m.conn === conn && (m.opcode === 1 || m.opcode === 2))
        .map((m) => {
          const valid = m.opcode === 1 && isUtf8(m.payload);
          const item: HarWsMessage = {
            type: m.dir === 'client' ? 'send' : 'receive',
            time: m.ts,
            opcode: m.opcode,
            data: m.opcode === 2 ? Buffer.from(m.payload).toString('base64') : Buffer.from(m.payload).toString('utf8'),
          };
          if (m.opcode === 1 && !valid) item._wsscopeBase64 = Buffer.from(m.payload).toString('base64');
          return item;
        });
      expect(e._webSocketMessages.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        const got = e._webSocketMessages[i];
        expect(got.time).toBeCloseTo(want[i].time, 6);
        // compared without the 10 MiB string in a failure message
        expect(got.data.length, `message ${i} of connection ${conn}`).toBe(want[i].data.length);
        expect(got.data === want[i].data, `message ${i} of connection ${conn}`).toBe(true);
        expect({ ...got, data: '', time: 0 }).toEqual({ ...want[i], data: '', time: 0 });
      }
    }
    const a = har.log.entries.find((x) => x._wsscopeConnection === 1)!;
    expect(a.request.url).toBe(`ws://${HOST}${PATH}`);
    expect(a.request.headers).toContainEqual({ name: 'X-Evil', value: XHEADER });
    expect(a.request.headers).toContainEqual({ name: 'Origin', value: ORIGIN });
    expect(a.request.queryString).toEqual([{ name: 'q', value: '<img/src=x/onerror=window.__pwned=8>' }]);
    expect(a.response.headers).toContainEqual({ name: 'X-Evil', value: TPL });
    await expectInert('har export');
  });

  // last: it plants what the others look for, to show the scan would have seen it
  it('would notice an element, handler, script, URL or raw bidi character that content had planted', async () => {
    await page.evaluate(() => {
      interface Node0 {
        setAttribute(n: string, v: string): void;
        appendChild(n: unknown): unknown;
        id: string;
      }
      const g = globalThis as unknown as {
        __pwned?: number;
        document: { createElement(t: string): Node0; createElementNS(ns: string, t: string): Node0; createTextNode(t: string): unknown; body: Node0 };
      };
      const box = g.document.createElement('div');
      box.id = 'planted';
      const img = g.document.createElement('img');
      img.setAttribute('src', 'x');
      img.setAttribute('onerror', 'window.__pwned=1');
      const a = g.document.createElement('a');
      a.setAttribute('href', 'javascript:window.__pwned=4');
      const svg = g.document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      const script = g.document.createElement('script');
      script.appendChild(g.document.createTextNode('window.__pwned=3'));
      const bidi = g.document.createElement('span');
      bidi.appendChild(g.document.createTextNode('user\u202Egpj.exe'));
      for (const n of [img, a, svg, script, bidi]) box.appendChild(n);
      g.document.body.appendChild(box);
      g.__pwned = 1;
    });
    const r = await page.evaluate(scanDom);
    expect(r.pwned).toBe('number');
    expect(r.onAttributes).toEqual(['<IMG onerror>']);
    expect(r.urlAttributes).toEqual(['<A href=javascript:window.__pwned=4>']);
    expect(r.imgX).toBe(1);
    expect(r.svg).toBe(1);
    expect(r.scripts).toEqual(['src= text=window.__pwned=3']);
    expect(r.rawInvisibleText).toEqual(['<SPAN> "user\u202egpj.exe"']);
    // the planted <img src=x> asked for /x, got a 404, and the CSP refused its inline handler;
    // Chromium reports each of the three on its own, so all are awaited before the slate is wiped
    // (a 404 reported after the wipe once failed the inert check below)
    await expect
      .poll(() => ({
        request: problems.some((p) => p.includes('unexpected request: /x')),
        notFound: problems.some((p) => p.startsWith('console: ') && p.includes('404')),
        handlerRefused: problems.some((p) => p.startsWith('console: ') && /inline event handler/i.test(p)),
      }))
      .toEqual({ request: true, notFound: true, handlerRefused: true });
    await page.evaluate(() => {
      const g = globalThis as unknown as { __pwned?: number; document: { getElementById(id: string): { remove(): void } } };
      g.document.getElementById('planted').remove();
      delete g.__pwned;
    });
    problems.length = 0;
    await expectInert('planted and removed');
  });
});

interface HarWsMessage {
  type: 'send' | 'receive';
  time: number;
  opcode: number;
  data: string;
  _wsscopeBase64?: string;
}
interface HarNameValue {
  name: string;
  value: string;
}
interface Har {
  log: {
    version: string;
    creator: { name: string; version: string };
    entries: Array<{
      startedDateTime: string;
      time: number;
      request: { method: string; url: string; httpVersion: string; cookies: unknown[]; headers: HarNameValue[]; queryString: HarNameValue[]; headersSize: number; bodySize: number };
      response: {
        status: number;
        statusText: string;
        httpVersion: string;
        cookies: unknown[];
        headers: HarNameValue[];
        content: { size: number; mimeType: string };
        redirectURL: string;
        headersSize: number;
        bodySize: number;
      };
      cache: object;
      timings: { send: number; wait: number; receive: number };
      _resourceType: string;
      _wsscopeConnection: number;
      _webSocketMessages: HarWsMessage[];
    }>;
  };
}

/** The fields HAR 1.2 requires (http://www.softwareishard.com/blog/har-12-spec/). */
function expectHar12(har: Har): void {
  expect(har.log.version).toBe('1.2');
  expect(har.log.creator).toMatchObject({ name: 'wsscope', version: expect.any(String) });
  for (const e of har.log.entries) {
    expect(new Date(e.startedDateTime).toISOString()).toBe(e.startedDateTime);
    expect(e.time).toBeGreaterThanOrEqual(0);
    expect(e.request).toMatchObject({
      method: 'GET',
      url: expect.any(String),
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: expect.any(Array),
      queryString: expect.any(Array),
      headersSize: expect.any(Number),
      bodySize: 0,
    });
    expect(e.response).toMatchObject({
      status: 101,
      statusText: 'Switching Protocols',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: expect.any(Array),
      content: { size: 0, mimeType: expect.any(String) },
      redirectURL: '',
      headersSize: expect.any(Number),
      bodySize: 0,
    });
    expect(e.cache).toEqual({});
    for (const t of ['send', 'wait', 'receive'] as const) expect(e.timings[t]).toBeGreaterThanOrEqual(0);
    for (const h of [...e.request.headers, ...e.response.headers]) expect(h).toEqual({ name: expect.any(String), value: expect.any(String) });
  }
}

function isUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}
