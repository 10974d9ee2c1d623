// @vitest-environment happy-dom
// Captured payloads are hostile: every payload-derived string must reach the page as literal
// text, create no element or attribute, and keep control and bidi characters visible.
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { nextTick } from 'vue';
import App from '../App.vue';
import SafeText from './SafeText.vue';
import { batchOf, createFakeApi, detailFor, makeConn, makeRow } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useSelectionStore } from '../stores/selection';
import type { HandshakeEvent } from '../../../shared/events';

const IMG = '<img src=x onerror=alert(1)>';
const SVG = '<svg onload=alert(1)>';
const JS = 'javascript:alert(1)';
const TPL = "{{constructor.constructor('alert(1)')()}}";
const BIDI = 'user\u202Egpj.exe';
const NUL = 'a\u0000b';
const ALL = [IMG, SVG, JS, TPL, BIDI, NUL];

function handshake(conn: number): HandshakeEvent {
  return {
    type: 'handshake',
    conn,
    ts: 1_700_000_000,
    packet: 4,
    method: 'GET',
    path: `/${IMG}`,
    host: SVG,
    status: 101,
    statusText: TPL,
    key: 'dGhlIHNhbXBsZSBub25jZQ==',
    accept: JS,
    expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    acceptValid: false,
    version: '13',
    origin: JS,
    protocol: BIDI,
    requestedProtocols: BIDI,
    extensions: SVG,
    requestedExtensions: SVG,
    websocket: true,
    requestHeaders: [
      ['Host', SVG],
      [IMG, JS],
    ],
    responseHeaders: [['X-Evil', TPL + NUL]],
    requestLine: `GET /${IMG} HTTP/1.1`,
    statusLine: `HTTP/1.1 101 ${TPL}`,
    requestBytes: 200,
    responseBytes: 129,
  };
}

function assertInert(root: Element): void {
  expect(root.querySelectorAll('img, svg, script, iframe, object, embed, a, link, style, base').length).toBe(0);
  for (const el of Array.from(root.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith('on'), `attribute ${attr.name} on <${el.tagName}>`).toBe(false);
      expect(attr.value.toLowerCase()).not.toContain('javascript:');
    }
  }
  // no single element holds more than one 64 KiB chunk of text of its own
  for (const el of Array.from(root.querySelectorAll('*'))) {
    let own = 0;
    for (const n of Array.from(el.childNodes)) if (n.nodeType === 3) own += (n.textContent ?? '').length;
    expect(own, `<${el.tagName}> holds ${own} characters`).toBeLessThanOrEqual(64 * 1024);
  }
  const text = root.textContent ?? '';
  expect(text).not.toContain('\u202E');
  expect(text).not.toContain('\u0000');
}

describe('hostile payloads', () => {
  it('show as literal text in the timeline, connections, findings, detail and handshake panes', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: IMG, totalBytes: 10 } });
    const rows = ALL.map((p, i) => makeRow(i, { preview: p, findings: 1 }));
    const payload = `${IMG}\n${SVG}\n${JS}\n${TPL}\n${BIDI}\n${NUL}`;
    api.details.set(0, detailFor(rows[0], new TextEncoder().encode(payload), [], {
      findings: [{ id: 'invalid-utf8', severity: 'error', conn: 1, ts: 1_700_000_000, packet: 5, text: IMG, index: 0 }],
      closeReason: BIDI,
      closeCode: 1000,
    }));
    api.handshakes.set(1, handshake(1));
    const w = mountWith(App, api, { attachTo: document.body });
    await flushPromises();
    api.emitBatch(
      batchOf(1, rows, {
        connections: [makeConn(1, { url: `ws://${SVG}/${JS}`, protocol: TPL, extensions: IMG })],
        findings: [{ id: 'invalid-utf8', severity: 'error', conn: 1, ts: 1_700_000_000, packet: 5, frame: 0, text: SVG + BIDI, index: 0 }],
      }),
    );
    await nextTick();
    const timelineText = w.find('.tl-body').text();
    for (const s of [IMG, SVG, JS, TPL]) expect(timelineText).toContain(s);
    // bidi override and NUL become visible symbols instead of acting on the text around them
    expect(timelineText).toContain('user⟨U+202E⟩gpj.exe');
    expect(timelineText).toContain('a␀b');
    expect(w.find('.conns').text()).toContain(`ws://${SVG}/${JS}`);
    expect(w.find('.findings').text()).toContain(SVG);

    await w.find('[data-test="finding"]').trigger('click');
    await flushPromises();
    const sel = useSelectionStore();
    expect(sel.index).toBe(0);
    const detail = w.find('.detail');
    for (const s of [IMG, SVG, JS, TPL]) expect(detail.text()).toContain(s);
    expect(detail.text()).toContain('⟨U+202E⟩');

    await w.find('[data-test="tab-handshake"]').trigger('click');
    await flushPromises();
    const hs = w.find('.detail').text();
    expect(hs).toContain(`GET /${IMG} HTTP/1.1`);
    expect(hs).toContain(TPL);
    expect(w.find('[data-test="accept-mark"]').text()).toBe('✗');
    assertInert(document.body);
    w.unmount();
  });

  it('renders JSON keys and values as text', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'x', totalBytes: 1 } });
    const json = JSON.stringify({ [IMG]: SVG, list: [JS, TPL, NUL], [BIDI]: { deep: IMG }, ['K'.repeat(200_000)]: 'V'.repeat(200_000) });
    const row = makeRow(0, { preview: json });
    api.details.set(0, detailFor(row, new TextEncoder().encode(json)));
    const w = mountWith(App, api, { attachTo: document.body });
    await flushPromises();
    api.emitBatch(batchOf(1, [row]));
    await nextTick();
    await w.find('.tl-row[data-index="0"]').trigger('click');
    await flushPromises();
    // a text payload that starts with "{" opens in the JSON view
    const tree = w.find('.json-tree');
    expect(tree.exists()).toBe(true);
    expect(tree.text()).toContain(IMG);
    expect(tree.text()).toContain(`"${SVG}"`);
    expect(tree.text()).toContain(TPL);
    expect(tree.text()).toContain('a␀b');
    expect(tree.text()).toContain('user⟨U+202E⟩gpj.exe');
    assertInert(document.body);
    w.unmount();
  });

  it('caps a 10 MB single-line payload at 64 KiB per element until "show more"', async () => {
    const api = createFakeApi();
    const big = 'A'.repeat(10 * 1024 * 1024);
    const w = mountWith(SafeText, api, { props: { text: big } });
    let spans = w.findAll('.safe-text > span');
    expect(spans).toHaveLength(1);
    expect(spans[0].text().length).toBe(64 * 1024);
    expect(w.find('[data-test="show-more"]').text()).toContain((big.length - 65536).toLocaleString('en-US'));
    await w.find('[data-test="show-more"]').trigger('click');
    spans = w.findAll('.safe-text > span');
    expect(spans).toHaveLength(2);
    expect(spans.every((s) => s.text().length <= 64 * 1024)).toBe(true);
  });
});
