// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import StatsPane from './StatsPane.vue';
import { createFakeApi } from '../testing/fake-api';
import { mountWith, piniaWith } from '../testing/mount';
import { ALL_CONNECTIONS, type ConnStats } from '../../../shared/api';

function stats(conn: number, over: Partial<ConnStats> = {}): ConnStats {
  return {
    conn,
    wireBytes: 10_000,
    payloadBytes: 9_400,
    headerBytes: 600,
    handshakeBytes: 329,
    compressedWireBytes: 0,
    compressedPayloadBytes: 0,
    messages: 11,
    perSecond: [{ t: 0, messages: 11, bytes: 10_000 }],
    pollingBytesEstimate: 12_290,
    connections: 1,
    // 11 messages over 5 ms, in 100 us bins
    rate: { start: 1_700_000_000, binSeconds: 0.0001, bins: Array.from({ length: 50 }, (_, i) => ({ messages: i % 5 === 0 ? 1 : 0, bytes: i % 5 === 0 ? 900 : 0 })) },
    ...over,
  };
}

describe('Statistics pane', () => {
  it('labels the rate chart with units and axis ticks over bins sized to a 5 ms capture', async () => {
    const api = createFakeApi();
    api.stats.set(1, stats(1));
    const w = mountWith(StatsPane, api, { pinia: piniaWith(api), props: { conn: 1 } });
    await flushPromises();
    expect(w.find('[data-test="axis-left-unit"]').text()).toBe('msg/s');
    expect(w.find('[data-test="axis-right-unit"]').text()).toBe('bytes/s');
    // one message in a 100 us bin is 10,000 msg/s; 900 B in 100 us is 8.8 MiB/s
    expect(w.findAll('[data-test="tick-left"]').map((t) => t.text())).toEqual(['10,000', '5,000', '0']);
    expect(w.findAll('[data-test="tick-right"]').map((t) => t.text())).toEqual(['9.5 MiB/s', '4.8 MiB/s', '0 B/s']);
    expect(w.findAll('[data-test="tick-x"]').map((t) => t.text())).toEqual(['0', '2.50 ms', '5.00 ms']);
    expect(w.find('[data-test="rate-summary"]').text()).toContain('bins of 100 µs');
    w.unmount();
  });

  it('says the HTTP polling comparison in words', async () => {
    const api = createFakeApi();
    api.stats.set(1, stats(1));
    const w = mountWith(StatsPane, api, { pinia: piniaWith(api), props: { conn: 1 } });
    await flushPromises();
    // 12,290 / (10,000 + 329)
    expect(w.find('[data-test="polling"]').text()).toMatch(/^As HTTP polling\s*1\.19× the bytes: ≈ 12\.0 KiB of request and response heads against the 10\.1 KiB this WebSocket used/);
    w.unmount();
  });

  it('shows all connections together, by default when none is selected, and on request', async () => {
    const api = createFakeApi();
    api.stats.set(1, stats(1));
    api.stats.set(ALL_CONNECTIONS, stats(ALL_CONNECTIONS, { messages: 19, connections: 2 }));
    const none = mountWith(StatsPane, api, { pinia: piniaWith(api), props: { conn: null } });
    await flushPromises();
    expect(none.find('[data-test="stats-connections"]').text()).toContain('2 WebSocket');
    expect(none.find('[data-test="stats-messages"]').text()).toBe('19');
    none.unmount();
    const one = mountWith(StatsPane, api, { pinia: piniaWith(api), props: { conn: 1 } });
    await flushPromises();
    expect(one.find('[data-test="stats-messages"]').text()).toBe('11');
    await one.find('[data-test="stats-all"]').trigger('click');
    await flushPromises();
    expect(one.find('[data-test="stats-messages"]').text()).toBe('19');
    expect(api.calls.filter((c) => c.name === 'getStats').map((c) => c.args[0])).toEqual([0, 1, 0]);
    one.unmount();
  });
});
