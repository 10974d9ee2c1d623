// @vitest-environment happy-dom
/**
 * The views of decoded meaning, TLS and HTTP/2 (AppMeaning, AppFilter, TlsInfo, H2Info,
 * ConnDecoder, KeyLogControl, the secrets prompt of ExportMenu, the grouped connection list)
 * fed with what the engine's store answers for captures of real peers (test/captures/app:
 * socket.io + socket.io-client, Node http2 with two WebSockets on h2c, Node tls + ws with
 * its key log): ../testing/fixtures/app-sessions.json, which test/ui-fixture.test.ts keeps
 * equal to the store's answers.
 */
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import type { AppFacets, ConnectionRow, Http2RequestRow, MessageDetail, MessageRow } from '../../../shared/api';
import fixture from '../testing/fixtures/app-sessions.json';
import { createFakeApi, type FakeApi } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useCaptureStore } from '../stores/capture';
import { useConnectionsStore } from '../stores/connections';
import { useFiltersStore } from '../stores/filters';
import { useMessagesStore } from '../stores/messages';
import { useSelectionStore } from '../stores/selection';
import AppMeaning from './AppMeaning.vue';
import AppFilter from './AppFilter.vue';
import ConnectionsList from './ConnectionsList.vue';
import ConnDecoder from './ConnDecoder.vue';
import ExportMenu from './ExportMenu.vue';
import H2Info from './H2Info.vue';
import KeyLogControl from './KeyLogControl.vue';
import TlsInfo from './TlsInfo.vue';
import TimelineRow from './TimelineRow.vue';

interface Session {
  rows: MessageRow[];
  details: Array<Omit<MessageDetail, 'data' | 'frames'>>;
  connections: ConnectionRow[];
  facets: AppFacets;
  h2Requests: Record<string, Http2RequestRow[]>;
}
const sio = fixture.socketIo as unknown as Session;
const h2 = fixture.h2c as unknown as Session;
const wss = fixture.wss as unknown as Session;
/** the one secret line of test/captures/app/wss.keys would be 64+ hex digits after a label: none may show */
const SECRET_HEX = /[0-9a-f]{96}/;

/** a fake API answering from a fixture session as the engine did */
function apiFor(s: Session): FakeApi {
  const api = createFakeApi({ rows: s.rows });
  for (const d of s.details) api.details.set(d.row.index, { ...d, data: new Uint8Array(0), frames: [] });
  api.facets = s.facets;
  for (const [c, list] of Object.entries(s.h2Requests)) api.h2Requests.set(Number(c), list);
  const byType = (q: { app?: { type?: string; name?: string } }) => s.details.filter((d) => (d.app ?? []).some((p) => (!q.app?.type || p.type === q.app.type) && (!q.app?.name || p.event === q.app.name)));
  api.queryMessages = async (q) => {
    api.calls.push({ name: 'queryMessages', args: [q] });
    return { ok: true, value: { indexes: Uint32Array.from(byType(q).map((d) => d.row.index)), total: s.rows.length } };
  };
  return api;
}

describe('decoded meaning', () => {
  it('shows a reply\'s packets as a line and a tree, and jumps to its request and back', async () => {
    const api = apiFor(sio);
    const ack = api.rows.find((r) => r.meaning?.startsWith('ACK #0'))!;
    const chat = api.rows.find((r) => r.meaning === 'EVENT chat ["hi"] ack 0')!;
    const w = mountWith(AppMeaning, api, { props: { detail: api.details.get(ack.index) } });
    useMessagesStore().setRows(api.rows);
    expect(w.find('[data-test="app-line"]').text()).toMatch(/^ACK #0 \[\{"ok":true,"length":2\}\] \(\d/);
    expect(w.text()).toContain('ackId');
    expect(w.text()).toContain('socket.io');
    await w.find('[data-test="goto-request"]').trigger('click');
    await flushPromises();
    const selection = useSelectionStore();
    expect(selection.index).toBe(chat.index);
    expect(selection.detail?.replies).toEqual([ack.index]);
    await w.setProps({ detail: selection.detail! });
    await w.find('[data-test="goto-reply"]').trigger('click');
    await flushPromises();
    expect(selection.index).toBe(ack.index);
  });

  it('puts the meaning in its own column of the timeline row, as text', () => {
    const api = apiFor(sio);
    const row = api.rows.find((r) => r.meaning?.startsWith('EVENT welcome'))!;
    const w = mountWith(TimelineRow, api, { props: { row, meaning: true } });
    expect(w.find('[data-test="meaning"]').text()).toBe(row.meaning);
    expect(w.find('[data-test="meaning"]').element.children).toHaveLength(0);
    const plain = mountWith(TimelineRow, api, { props: { row } });
    expect(plain.find('[data-test="meaning"]').exists()).toBe(false);
  });

  it('offers protocols, types and names with their counts and filters in the engine', async () => {
    const api = apiFor(sio);
    const w = mountWith(AppFilter, api);
    const connections = useConnectionsStore();
    const messages = useMessagesStore();
    messages.setRows(api.rows);
    connections.upsert(sio.connections);
    await flushPromises();
    expect(w.findAll('[data-test="app-protocol"] option').map((o) => o.text())).toEqual(['any protocol', `socket.io (${api.facets.protocols[0].count})`]);
    expect(w.findAll('[data-test="app-name"] option').map((o) => o.text())).toEqual(expect.arrayContaining(['chat (1)', 'upload (1)', 'welcome (1)']));
    await w.find('[data-test="app-type"]').setValue('ACK');
    const filters = useFiltersStore();
    await filters.apply();
    await flushPromises();
    expect(filters.app).toEqual({ type: 'ACK' });
    expect(api.calls.filter((c) => c.name === 'queryMessages').at(-1)!.args[0]).toMatchObject({ app: { type: 'ACK' } });
    expect(Array.from(filters.positions!).map((p) => api.rows[p].meaning)).toEqual([expect.stringMatching(/^ACK #0/), expect.stringMatching(/^ACK #1/)]);
  });

  it('lets the user decode a connection as another protocol or none', async () => {
    const api = apiFor(sio);
    const row = sio.connections.find((c) => c.websocket)!;
    const w = mountWith(ConnDecoder, api, { props: { row } });
    await flushPromises();
    expect(w.find('[data-test="decoder-now"]').text()).toBe('socket.io');
    expect(w.findAll('[data-test="decode-as"] option').map((o) => o.text())).toEqual(['automatic', 'none', 'socket.io', 'mqtt', 'stomp', 'graphql-ws', 'signalr', 'phoenix', 'wamp', 'actioncable', 'json-rpc']);
    await w.find('[data-test="decode-as"]').setValue('none');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'setDecoder').map((c) => c.args)).toEqual([[row.id, 'none']]);
  });
});

describe('TLS and HTTP/2', () => {
  it('lists a decrypted connection and one without a key with its client random, and never a secret', () => {
    const [a, b] = wss.connections;
    const api = createFakeApi();
    const wa = mountWith(TlsInfo, api, { props: { row: a } });
    expect(wa.find('[data-test="tls-state"]').text()).toBe('✓ decrypted');
    expect(wa.text()).toMatch(/localhost[\s\S]*TLS 1\.3[\s\S]*TLS_AES_128_GCM_SHA256[\s\S]*http\/1\.1/);
    const wb = mountWith(TlsInfo, api, { props: { row: b } });
    expect(wb.find('[data-test="tls-state"]').text()).toBe('✗ no key for this session');
    expect(wb.find('[data-test="tls-client-random"]').text()).toContain(b.tls!.clientRandom!);
    expect(wa.html() + wb.html()).not.toMatch(SECRET_HEX);
  });

  it('groups WebSockets under their HTTP/2 connection and lists its plain requests', async () => {
    const api = apiFor(h2);
    const w = mountWith(ConnectionsList, api);
    const connections = useConnectionsStore();
    connections.upsert(h2.connections);
    await flushPromises();
    const list = connections.list;
    const carrier = list[0];
    expect(carrier.http2Requests).toBe(1);
    expect(list.slice(1, 3).map((c) => c.h2?.parent)).toEqual([carrier.id, carrier.id]);
    expect(w.findAll('.conn-row.h2child')).toHaveLength(2);
    const info = mountWith(H2Info, api, { props: { row: carrier } });
    await flushPromises();
    expect(info.find('[data-test="h2-requests"]').text()).toMatch(/GET \/plain\s*200/);
    const child = mountWith(H2Info, api, { props: { row: list[1] as ConnectionRow } });
    expect(child.find('[data-test="h2-carriage"]').text()).toContain(`stream ${list[1].h2!.stream} of connection #${carrier.id}`);
    expect(child.find('[data-test="h2-setting"]').text()).toContain('SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (sent before the CONNECT)');
  });

  it('loads a key log picked in the browser and shows names and counts; asks before a pcapng embeds secrets', async () => {
    const api = createFakeApi();
    api.keyLogInfo = { files: [{ name: 'wss.keys', sessions: 1, warnings: 0 }], sessions: 1, decrypted: 1, tlsConnections: 2 };
    const w = mountWith(KeyLogControl, api);
    await flushPromises();
    const input = w.find('[data-test="keylog-input"]');
    const keys = 'CLIENT_HANDSHAKE_TRAFFIC_SECRET ' + 'ab'.repeat(32) + ' ' + 'cd'.repeat(32) + '\n';
    const file = new File([keys], 'wss.keys');
    Object.defineProperty(input.element, 'files', { value: [file] });
    await input.trigger('change');
    await flushPromises();
    const add = api.calls.find((c) => c.name === 'addKeyLogBytes')!;
    expect(add.args[0]).toBe('wss.keys');
    expect(new TextDecoder().decode(add.args[1] as Uint8Array)).toBe(keys);
    expect(w.find('[data-test="keylog-status"]').text()).toBe('wss.keys · 1/2 decrypted');
    expect(w.find('[data-test="keylog-status"]').attributes('title')).toBe('wss.keys: 1 session · 1/2 TLS decrypted');
    await w.find('[data-test="keylog-help-toggle"]').trigger('click');
    expect(w.find('[data-test="keylog-help"]').text()).toContain('--tls-keylog');

    const menu = mountWith(ExportMenu, api, { pinia: (w.vm as unknown as { $pinia: never }).$pinia });
    useCaptureStore().setSession({ id: 1, kind: 'file', path: '/x.pcapng', totalBytes: 1 });
    await flushPromises();
    await menu.find('[data-test="export-pcapng"]').trigger('click');
    expect(menu.find('[data-test="secrets-prompt"]').text()).toContain('Embed the TLS secrets of 1 session');
    expect(api.calls.filter((c) => c.name === 'exportData')).toEqual([]);
    await menu.find('[data-test="secrets-embed"]').trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'exportData').map((c) => c.args)).toEqual([['pcapng', undefined, { secrets: true }]]);
    await menu.find('[data-test="export-pcapng"]').trigger('click');
    await menu.find('[data-test="secrets-plain"]').trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'exportData').at(-1)!.args).toEqual(['pcapng', undefined, { secrets: false }]);
  });
});
