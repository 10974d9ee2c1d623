// @vitest-environment happy-dom
/**
 * EngineIoInfo (the Engine.IO session a WebSocket upgraded, in the handshake pane) fed with
 * what the engine's store answers for a real socket.io session that long-polled and then
 * upgraded (test/captures/app/socket.io-polling.pcapng, via ../testing/fixtures/app-sessions.json,
 * which test/ui-fixture.test.ts keeps equal to the store's answers).
 */
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import type { EngineIoSession } from '../../../shared/api';
import fixture from '../testing/fixtures/app-sessions.json';
import { createFakeApi } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useFiltersStore } from '../stores/filters';
import EngineIoInfo from './EngineIoInfo.vue';

const sessions = (fixture.socketIoPolling as unknown as { engineIo: Record<string, EngineIoSession> }).engineIo;
const [wsConn, session] = Object.entries(sessions).map(([c, s]) => [Number(c), s] as const)[0];

async function mounted(s: EngineIoSession) {
  const api = createFakeApi();
  api.engineIo.set(s.conn, s);
  const w = mountWith(EngineIoInfo, api, { props: { conn: s.conn, sid: s.sid } });
  await flushPromises();
  return { api, w };
}

describe('the Engine.IO session of an upgraded WebSocket', () => {
  it('shows the sid, the transport history and each polling body with its packets, the upgrade in its place', async () => {
    const { api, w } = await mounted(session);
    expect(api.calls).toContainEqual({ name: 'getEngineIoSession', args: [wsConn] });
    expect(w.get('[data-test="eio-sid"]').text()).toBe(session.sid);
    const transports = w.get('[data-test="eio-transports"]').text();
    expect(transports).toContain(`polling: ${session.total} bodies (${session.beforeUpgrade} before the upgrade)`);
    expect(transports).toContain(`websocket (this connection, #${wsConn})`);
    expect(w.findAll('[data-test="eio-conn"]').map((b) => b.text())).toEqual(session.conns.map((c) => `#${c}`));
    // the recording: the handshake GET (open), the POST of CONNECT, the upgrade, the GET answered with CONNECT + welcome
    const rows = w.findAll('[data-test="eio-bodies"] tbody tr').map((r) => r.findAll('td').map((td) => td.text()));
    expect(rows.map((r) => r.slice(1))).toEqual([
      [`#${session.bodies[0].conn}`, 'GET S→C', String(session.bodies[0].length), `open sid=${session.sid}`],
      [`#${session.bodies[1].conn}`, 'POST C→S', '2', 'CONNECT'],
      [`#${wsConn}`, 'WebSocket upgrade (this connection)'],
      [`#${session.bodies[2].conn}`, 'GET S→C', String(session.bodies[2].length), expect.stringMatching(/^CONNECT sid=\S+EVENT welcome \["hello",1\]$/)],
    ]);
    expect(rows[0][0]).toBe('+0.000000');
    // a connection number opens that connection
    await w.findAll('[data-test="eio-conn"]')[1].trigger('click');
    expect(useFiltersStore().conn).toBe(session.conns[1]);
  });

  it('shows hostile payload text as text, and counts what it does not list', async () => {
    const evil = '<img src=x onerror="globalThis.pwned=1">\u202e';
    const s: EngineIoSession = { ...session, sid: evil, bodies: session.bodies.map((b) => ({ ...b, packets: [`EVENT ${evil}`], packetCount: 40 })), total: session.total + 600 };
    const { w } = await mounted(s);
    expect(w.find('img').exists()).toBe(false);
    expect(w.get('[data-test="eio-sid"]').text()).toContain('<img src=x');
    expect(w.findAll('[data-test="eio-body"]')[0].text()).toContain('+39 more');
    expect(w.get('[data-test="eio-more"]').text()).toBe(`the first ${s.bodies.length} of ${s.total} bodies are listed`);
  });

  it('shows nothing for a connection whose handshake names no Engine.IO session', async () => {
    const api = createFakeApi();
    const w = mountWith(EngineIoInfo, api, { props: { conn: 9, sid: 'x' } });
    await flushPromises();
    expect(w.find('[data-test="engine-io"]').exists()).toBe(false);
  });
});
