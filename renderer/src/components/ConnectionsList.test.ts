// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import ConnectionsList from './ConnectionsList.vue';
import HandshakePane from './HandshakePane.vue';
import FindingsList from './FindingsList.vue';
import { createFakeApi, makeConn } from '../testing/fake-api';
import { mountWith, piniaWith } from '../testing/mount';
import { useConnectionsStore } from '../stores/connections';
import { useFiltersStore } from '../stores/filters';
import { useFindingsStore } from '../stores/findings';
import { useSelectionStore } from '../stores/selection';
import type { HandshakeEvent } from '../../../shared/events';
import type { FindingRow } from '../../../shared/api';

function handshake(conn: number, over: Partial<HandshakeEvent> = {}): HandshakeEvent {
  return {
    type: 'handshake',
    conn,
    ts: 1_700_000_000.0035,
    packet: 4,
    method: 'GET',
    path: '/chat',
    host: '127.0.0.1:8080',
    status: 101,
    statusText: 'Switching Protocols',
    key: 'dGhlIHNhbXBsZSBub25jZQ==',
    accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    expectedAccept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    acceptValid: true,
    version: '13',
    origin: '',
    protocol: '',
    requestedProtocols: '',
    extensions: '',
    requestedExtensions: '',
    websocket: true,
    requestHeaders: [['Host', '127.0.0.1:8080']],
    responseHeaders: [['Upgrade', 'websocket']],
    requestLine: 'GET /chat HTTP/1.1',
    statusLine: 'HTTP/1.1 101 Switching Protocols',
    requestBytes: 200,
    responseBytes: 129,
    ...over,
  };
}

function setup() {
  const api = createFakeApi();
  const pinia = piniaWith(api);
  const connections = useConnectionsStore();
  const w = mountWith(ConnectionsList, api, { pinia, attachTo: document.body });
  return { w, api, connections, filters: useFiltersStore(), selection: useSelectionStore() };
}

describe('Connections pane', () => {
  it('lists WebSocket connections only, by default, when the capture holds many other flows', async () => {
    const { w, connections } = setup();
    connections.upsert([makeConn(1), makeConn(2, { websocket: false, url: '' }), makeConn(3)]);
    await flushPromises();
    // two WebSocket connections and one other flow: everything listed
    expect(w.findAll('.conn-row[data-conn]').length).toBe(3);
    expect((w.find('[data-test="ws-only"]').element as HTMLInputElement).checked).toBe(false);
    connections.upsert(Array.from({ length: 12 }, (_, i) => makeConn(10 + i, { websocket: false, url: '' })));
    await flushPromises();
    expect((w.find('[data-test="ws-only"]').element as HTMLInputElement).checked).toBe(true);
    expect(w.findAll('.conn-row[data-conn]').map((r) => r.attributes('data-conn'))).toEqual(['1', '3']);
    // the user's choice wins over the default
    await w.find('[data-test="ws-only"]').setValue(false);
    expect(w.findAll('.conn-row[data-conn]').length).toBeGreaterThan(2);
    w.unmount();
  });

  it('shows client and server endpoints, cuts a long URL in the middle, and the handshake time', async () => {
    const { w, connections } = setup();
    const url = 'ws://stream.example.com:8443/v1/tenants/acme/markets/orderbook/BTC-USD?depth=50';
    connections.upsert([makeConn(1, { url, client: '10.0.0.2:51544', server: '[2001:db8::1]:8443', ts: 1_700_000_000 })]);
    connections.addHandshakes([handshake(1)]);
    await flushPromises();
    const row = w.find('.conn-row[data-conn="1"]');
    expect(row.find('[data-test="conn-endpoints"]').text()).toBe('10.0.0.2:51544 → [2001:db8::1]:8443');
    expect(row.find('[data-test="conn-url-full"]').text()).toBe(url);
    expect(row.find('[data-test="conn-rtt"]').text()).toBe('· hs 3.50 ms');
    w.unmount();
    // in a 260 px pane the URL keeps its head and its tail
    const d = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth');
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 260 });
    try {
      const again = setup();
      again.connections.upsert([makeConn(1, { url })]);
      await flushPromises();
      const shown = again.w.find('[data-test="conn-url"]').text();
      expect(shown.length).toBeLessThan(url.length);
      expect(shown.startsWith('ws://stream.')).toBe(true);
      expect(shown.endsWith('USD?depth=50')).toBe(true);
      expect(shown).toContain('…');
      again.w.unmount();
    } finally {
      if (d) Object.defineProperty(HTMLElement.prototype, 'clientWidth', d);
    }
  });

  it('moves between connections with the arrow keys, filtering the timeline to each', async () => {
    const { w, connections, filters, selection } = setup();
    connections.upsert([makeConn(1), makeConn(2), makeConn(3)]);
    await flushPromises();
    const list = w.find('[data-test="conn-list"]');
    await list.trigger('keydown', { key: 'ArrowDown' });
    expect(filters.conn).toBe(1);
    expect(selection.conn).toBe(1);
    await list.trigger('keydown', { key: 'ArrowDown' });
    await list.trigger('keydown', { key: 'ArrowDown' });
    await list.trigger('keydown', { key: 'ArrowDown' });
    expect(filters.conn).toBe(3);
    await list.trigger('keydown', { key: 'ArrowUp' });
    expect(filters.conn).toBe(2);
    expect(w.find('.conn-row[data-conn="2"]').classes()).toContain('selected');
    await list.trigger('keydown', { key: 'Home' });
    expect(filters.conn).toBeNull();
    w.unmount();
  });
});

describe('Handshake pane', () => {
  it('flags the missing Origin where the connection has a missing-origin finding', async () => {
    const api = createFakeApi();
    const pinia = piniaWith(api);
    useConnectionsStore().upsert([makeConn(1), makeConn(2)]);
    useConnectionsStore().addHandshakes([handshake(1), handshake(2, { origin: 'http://localhost:5173' })]);
    useFindingsStore().append([{ index: 0, id: 'missing-origin', severity: 'info', conn: 1, ts: 0, text: 'no Origin' } as FindingRow]);
    const w = mountWith(HandshakePane, api, { pinia, props: { conn: 1 } });
    await flushPromises();
    expect(w.find('[data-test="origin"]').classes()).toContain('flagged');
    expect(w.find('[data-test="origin-flag"]').text()).toContain('missing-origin');
    await w.setProps({ conn: 2 });
    await flushPromises();
    expect(w.find('[data-test="origin-flag"]').exists()).toBe(false);
    expect(w.find('[data-test="origin"]').text()).toContain('http://localhost:5173');
    w.unmount();
  });
});

describe('Findings list keyboard', () => {
  it('moves through the findings with the arrow keys, opening each', async () => {
    const api = createFakeApi();
    const pinia = piniaWith(api);
    useFindingsStore().append([
      { index: 0, id: 'unsolicited-pong', severity: 'info', conn: 1, ts: 0, text: 'a', message: 4 },
      { index: 1, id: 'invalid-utf8', severity: 'error', conn: 1, ts: 0, text: 'b', message: 7 },
      { index: 2, id: 'missing-origin', severity: 'info', conn: 2, ts: 0, text: 'c' },
    ] as FindingRow[]);
    const w = mountWith(FindingsList, api, { pinia });
    const selection = useSelectionStore();
    const list = w.find('[data-test="findings-list"]');
    await list.trigger('keydown', { key: 'ArrowDown' });
    expect(selection.index).toBe(4);
    await list.trigger('keydown', { key: 'ArrowDown' });
    expect(selection.index).toBe(7);
    expect(w.findAll('[data-test="finding"]')[1].classes()).toContain('current');
    await list.trigger('keydown', { key: 'End' });
    // a connection-level finding selects its connection
    expect(selection.conn).toBe(2);
    await list.trigger('keydown', { key: 'ArrowUp' });
    expect(selection.index).toBe(7);
    await flushPromises();
    w.unmount();
  });
});
