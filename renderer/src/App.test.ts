// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import { nextTick } from 'vue';
import App from './App.vue';
import { batchOf, createFakeApi, makeConn, makeRow } from './testing/fake-api';
import { mountWith } from './testing/mount';
import { useSelectionStore } from './stores/selection';
import { useFiltersStore } from './stores/filters';

describe('App', () => {
  it('tells a new user what to do when nothing is loaded', async () => {
    const api = createFakeApi();
    const w = mountWith(App, api);
    await flushPromises();
    expect(w.find('[data-test="empty-state"]').text()).toContain(
      'Open a capture (.pcap/.pcapng) or pick an interface and press Start',
    );
    w.unmount();
  });

  it('opens a picked file through openBytes in the browser and the dialog in Electron', async () => {
    const api = createFakeApi();
    const w = mountWith(App, api);
    await flushPromises();
    const input = w.find('[data-test="file-input"]').element as HTMLInputElement;
    const file = new File([new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a])], 'x.pcapng');
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await w.find('[data-test="file-input"]').trigger('change');
    await flushPromises();
    const call = api.calls.find((c) => c.name === 'openBytes');
    expect(call?.args[0]).toBe('x.pcapng');
    expect(Array.from(call?.args[1] as Uint8Array)).toEqual([0x0a, 0x0d, 0x0d, 0x0a]);
    w.unmount();

    const api2 = createFakeApi();
    const e = mountWith(App, api2, { kind: 'electron' });
    await flushPromises();
    await e.find('[data-test="open"]').trigger('click');
    await flushPromises();
    expect(api2.calls.some((c) => c.name === 'openFileDialog')).toBe(true);
    e.unmount();
  });

  it('focuses the filter on "/", filters by connection on click, and links findings to messages', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'a.pcap', totalBytes: 1 } });
    const w = mountWith(App, api, { attachTo: document.body });
    await flushPromises();
    api.rows = [makeRow(0, { conn: 1 }), makeRow(1, { conn: 2 }), makeRow(2, { conn: 1, findings: 1 })];
    api.emitBatch(
      batchOf(1, api.rows.slice(), {
        connections: [makeConn(1), makeConn(2)],
        // the finding's own index is 0; it is about the client frame sent at message 2's time
        findings: [{ id: 'invalid-utf8', severity: 'error', conn: 1, dir: 'client', ts: api.rows[2].ts, packet: 9, frame: 2, text: 'bad utf-8', index: 0 }],
      }),
    );
    await nextTick();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: '/' }));
    expect(document.activeElement?.getAttribute('data-test')).toBe('filter-text');

    await w.find('[data-conn="2"]').trigger('click');
    await useFiltersStore().apply();
    await nextTick();
    expect(w.findAll('.tl-row').map((r) => r.attributes('data-index'))).toEqual(['1']);
    expect(w.find('[data-test="filter-count"]').text()).toBe('1 of 3');
    await w.find('[data-test="conn-all"]').trigger('click');
    await useFiltersStore().apply();
    await nextTick();
    expect(w.findAll('.tl-row')).toHaveLength(3);

    await w.find('[data-test="finding"]').trigger('click');
    await flushPromises();
    expect(useSelectionStore().index).toBe(2);
    expect(w.find('.tl-row.selected').attributes('data-index')).toBe('2');
    expect(w.find('.detail').text()).toContain('#3 · connection 1');
    w.unmount();
  });

  it('opens the handshake of the connection a connection-level finding is about, not a message', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'a.pcap', totalBytes: 1 } });
    const w = mountWith(App, api, { attachTo: document.body });
    await flushPromises();
    // connection 2's handshake had no Origin; the finding (no frame, no message) comes at the
    // time of its request, before any of connection 1's and 2's messages
    api.rows = [makeRow(0, { conn: 1 }), makeRow(1, { conn: 2 }), makeRow(2, { conn: 2 })];
    const ts = api.rows[0].ts - 0.5;
    api.emitBatch(
      batchOf(1, api.rows.slice(), {
        connections: [makeConn(1), makeConn(2)],
        findings: [{ id: 'missing-origin', severity: 'info', conn: 2, dir: 'client', ts, packet: 4, text: 'no Origin', index: 0 }],
      }),
    );
    await nextTick();
    await w.findAll('.tl-row')[0].trigger('click');
    await flushPromises();
    expect(useSelectionStore().index).toBe(0);

    await w.find('[data-test="finding"]').trigger('click');
    await flushPromises();
    const sel = useSelectionStore();
    expect(sel.index).toBeNull();
    expect(sel.conn).toBe(2);
    expect(sel.tab).toBe('handshake');
    expect(w.find('.tl-row.selected').exists()).toBe(false);
    expect(api.calls.filter((c) => c.name === 'getHandshake').map((c) => c.args[0])).toContain(2);
    expect(w.find('[data-test="tab-handshake"]').attributes('aria-selected')).toBe('true');
    w.unmount();
  });

  it('says why "findings only" shows nothing when the findings are about connections, and offers them', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'a.pcap', totalBytes: 1 } });
    const w = mountWith(App, api, { attachTo: document.body });
    await flushPromises();
    api.rows = [makeRow(0, { conn: 3 }), makeRow(1, { conn: 3 })];
    api.emitBatch(
      batchOf(1, api.rows.slice(), {
        connections: [makeConn(3)],
        findings: [{ id: 'missing-origin', severity: 'info', conn: 3, dir: 'client', ts: api.rows[0].ts, packet: 4, text: 'no Origin', index: 0 }],
      }),
    );
    await nextTick();
    await w.find('[data-test="filter-findings"]').trigger('click');
    await useFiltersStore().apply();
    await nextTick();
    expect(w.findAll('.tl-row')).toHaveLength(0);
    const note = w.find('[data-test="findings-elsewhere"]');
    expect(note.text()).toContain('No message has a finding');
    expect(note.text()).toContain('about connections');
    await w.find('[data-test="open-conn-3"]').trigger('click');
    await flushPromises();
    expect(useSelectionStore().conn).toBe(3);
    expect(useSelectionStore().tab).toBe('handshake');
    w.unmount();
  });

  it('resizes the side panes with the splitters and remembers the widths', async () => {
    localStorage.clear();
    Object.defineProperty(window, 'innerWidth', { value: 1600, configurable: true });
    const api = createFakeApi();
    const w = mountWith(App, api);
    await flushPromises();
    const panes = w.find('.panes');
    expect(panes.attributes('style')).toContain('260px auto minmax(0, 1fr) auto 460px');
    const [left, right] = w.findAll('[role="separator"]');
    await left.trigger('keydown', { key: 'ArrowRight' });
    await right.trigger('keydown', { key: 'ArrowLeft' });
    expect(panes.attributes('style')).toContain('276px auto minmax(0, 1fr) auto 476px');
    expect(localStorage.getItem('wsscope.leftWidth')).toBe('276');
    // never narrower than the minimum
    for (let i = 0; i < 20; i++) await left.trigger('keydown', { key: 'ArrowLeft' });
    expect(panes.attributes('style')).toContain('180px auto');
    w.unmount();
  });

  it('lists recent captures to reopen and shows read progress for a big file', async () => {
    const api = createFakeApi();
    api.recent = ['/data/big.pcapng', '/data/evil\u202Egpj.pcap'];
    const w = mountWith(App, api);
    await flushPromises();
    const options = w.findAll('[data-test="recent"] option').map((o) => o.text());
    expect(options).toEqual(['Recent…', '/data/big.pcapng', '/data/evil⟨U+202E⟩gpj.pcap']);
    await w.find('[data-test="recent"]').setValue('/data/big.pcapng');
    await flushPromises();
    expect(api.calls.find((c) => c.name === 'openFile')?.args).toEqual(['/data/big.pcapng']);

    api.emitSession({ id: 4, kind: 'file', path: '/data/big.pcapng', totalBytes: 4 * 2 ** 30 });
    api.emitProgress({ bytesRead: 2 ** 30, totalBytes: 4 * 2 ** 30, packets: 123456, done: false });
    await nextTick();
    expect(w.find('[data-test="progress"]').text()).toBe('25 % · 1.00 GiB of 4.00 GiB · 123,456 packets');
    expect(w.find('[data-test="empty-state"]').text()).toContain('Reading /data/big.pcapng…');
    api.emitProgress({ bytesRead: 4 * 2 ** 30, totalBytes: 4 * 2 ** 30, packets: 500000, done: true });
    await nextTick();
    expect(w.find('[data-test="progress"]').exists()).toBe(false);
    w.unmount();
  });

  it('shows a file as being opened from the moment it is chosen until it is read, never as empty', async () => {
    const api = createFakeApi();
    let finishUpload: () => void = () => {};
    const uploaded: string[] = [];
    const fake = api as typeof api & { uploadFile(f: File): Promise<unknown> };
    fake.uploadFile = (f) =>
      new Promise((res) => {
        uploaded.push(f.name);
        finishUpload = () => {
          api.emitSession({ id: 2, kind: 'file', path: f.name, totalBytes: f.size });
          res({ ok: true, value: { id: 2, kind: 'file', path: f.name, totalBytes: f.size } });
        };
      });
    const w = mountWith(App, api);
    await flushPromises();
    const input = w.find('[data-test="file-input"]').element as HTMLInputElement;
    const file = new File([new Uint8Array(3000)], 'big.pcapng');
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await w.find('[data-test="file-input"]').trigger('change');
    await nextTick();
    // streamed by the shell's uploader, not read into the page and sent as bytes
    expect(uploaded).toEqual(['big.pcapng']);
    expect(api.calls.some((c) => c.name === 'openBytes')).toBe(false);
    const state = () => w.find('[data-test="empty-state"]').text();
    expect(state()).toContain('Opening big.pcapng…');
    expect(state()).not.toContain('Open a capture');

    finishUpload();
    await flushPromises();
    // the session exists, no progress has come yet: still being read, not "no messages"
    expect(state()).toContain('Reading big.pcapng…');
    expect(state()).not.toContain('No WebSocket messages');
    api.emitProgress({ bytesRead: 1000, totalBytes: 3000, packets: 7, done: false });
    await nextTick();
    expect(state()).toContain('Reading big.pcapng…');
    api.emitProgress({ bytesRead: 3000, totalBytes: 3000, packets: 12, done: true });
    await nextTick();
    expect(state()).toContain('No WebSocket messages in this capture');
    w.unmount();
  });
});
