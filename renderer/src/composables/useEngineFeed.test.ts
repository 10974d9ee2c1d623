// @vitest-environment happy-dom
import { describe, it, expect, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { flushPromises } from '@vue/test-utils';
import { INGEST_SLICE_ROWS, useEngineFeed } from './useEngineFeed';
import { packRows } from '../../../shared/row-block';
import { batchOf, createFakeApi, makeConn, makeRow } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useMessagesStore } from '../stores/messages';
import { useConnectionsStore } from '../stores/connections';
import { useCaptureStore } from '../stores/capture';
import { useFindingsStore } from '../stores/findings';
import { useSelectionStore } from '../stores/selection';

const Host = defineComponent({
  setup() {
    useEngineFeed();
    return () => h('div');
  },
});

describe('useEngineFeed', () => {
  it('routes batches into the stores, switches sessions and drops batches of an old session', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'a.pcap', totalBytes: 100 } });
    const w = mountWith(Host, api);
    await flushPromises();
    const messages = useMessagesStore();
    const connections = useConnectionsStore();
    const capture = useCaptureStore();
    const findings = useFindingsStore();
    expect(capture.session.path).toBe('a.pcap');
    // a page that connects after the file was opened asks for the session's rows again
    expect(api.calls.filter((c) => c.name === 'replay')).toHaveLength(1);
    expect(api.calls.filter((c) => c.name === 'openFile')).toEqual([]);
    // interfaces are listed at start; the loopback one is picked
    expect(capture.iface).toBe('lo');

    api.emitBatch(
      batchOf(1, [makeRow(0), makeRow(1)], {
        connections: [makeConn(2, { websocket: false }), makeConn(1)],
        findings: [{ id: 'tcp-gap', severity: 'warning', conn: 1, ts: 1, packet: 3, text: 'gap', index: 1 }],
      }),
    );
    expect(messages.count).toBe(2);
    expect(connections.list.map((c) => c.id)).toEqual([1, 2]);
    expect(findings.counts.warning).toBe(1);
    // a replay for another page resends rows this page has: they are not added twice
    api.emitBatch(
      batchOf(1, [makeRow(0), makeRow(1), makeRow(2)], {
        findings: [
          { id: 'tcp-gap', severity: 'warning', conn: 1, ts: 1, packet: 3, text: 'gap', index: 0 },
          { id: 'tcp-gap', severity: 'warning', conn: 1, ts: 1, packet: 3, text: 'gap', index: 1 },
        ],
      }),
    );
    expect(messages.count).toBe(3);
    expect(findings.list.map((f) => f.index)).toEqual([1]);

    await useSelectionStore().selectMessage(1);
    api.emitSession({ id: 2, kind: 'file', path: 'b.pcap', totalBytes: 5 });
    expect(messages.count).toBe(0);
    expect(connections.list).toEqual([]);
    expect(findings.list).toEqual([]);
    expect(useSelectionStore().index).toBeNull();

    api.emitBatch(batchOf(1, [makeRow(0)]));
    expect(messages.count).toBe(0);
    api.emitBatch(batchOf(2, [makeRow(0, { preview: 'new session' })]));
    expect(messages.rowAt(0).preview).toBe('new session');
    // a batch from a newer session than the last session event switches too
    api.emitBatch(batchOf(3, [makeRow(0), makeRow(1), makeRow(2)]));
    expect(messages.count).toBe(3);
    expect(capture.session.id).toBe(3);
    w.unmount();
  });

  it('shows capture status and errors, and unsubscribes when its component goes away', async () => {
    const api = createFakeApi();
    const w = mountWith(Host, api);
    await flushPromises();
    expect(api.listenerCount()).toBe(5);
    const capture = useCaptureStore();
    api.emitCaptureStatus({ state: 'running', iface: 'lo', backend: 'cap', packets: 10, bytes: 900, drops: null, file: '/tmp/x.pcapng' });
    expect(capture.running).toBe(true);
    api.emitError({ code: 'engine-crashed', message: 'The engine stopped.' });
    expect(capture.errors.map((e) => e.code)).toEqual(['engine-crashed']);
    api.emitProgress({ bytesRead: 50, totalBytes: 100, packets: 7, done: false });
    expect(capture.loading).toBe(true);
    w.unmount();
    expect(api.listenerCount()).toBe(0);
  });

  it(`appends a 100,000-row block in slices of at most ${INGEST_SLICE_ROWS} rows, one task each, and keeps the batches after it in order`, async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'big.pcap', totalBytes: 100 } });
    const w = mountWith(Host, api);
    await flushPromises();
    const messages = useMessagesStore();
    const findings = useFindingsStore();
    const N = 100_000;
    const rows = Array.from({ length: N }, (_, i) => makeRow(i, { conn: 1 + (i % 4), preview: `message ${i}` }));
    // which task each slice ran in: a task's microtasks run after it, so slices of one task see the same tick
    let tick = 0;
    const slices: Array<{ rows: number; from: number; to: number; tick: number }> = [];
    const appendSlice = messages.appendSlice;
    vi.spyOn(messages, 'appendSlice').mockImplementation((b, from, to, total) => {
      slices.push({ rows: b.cols.count, from, to, tick });
      queueMicrotask(() => tick++);
      return appendSlice(b, from, to, total);
    });
    const gap = { id: 'tcp-gap', severity: 'warning', conn: 1, ts: 1, packet: 3, text: 'gap', index: N } as const;
    api.emitBatch(batchOf(1, [], { rows: packRows(rows), totals: { packets: N, messages: N + 1, findings: 0, connections: 4 } }));
    api.emitBatch(batchOf(1, [], { rows: packRows([makeRow(N, { preview: 'after' })]), findings: [gap], totals: { packets: N + 1, messages: N + 1, findings: 1, connections: 4 } }));
    // the emitting task appended one slice only; the batch after it waits its turn
    expect(messages.table.length).toBe(INGEST_SLICE_ROWS);
    expect(findings.list).toEqual([]);
    await vi.waitFor(() => expect(messages.table.length).toBe(N + 1));
    expect(slices.map((x) => x.to - x.from).every((n) => n > 0 && n <= INGEST_SLICE_ROWS)).toBe(true);
    expect(slices.reduce((n, x) => n + x.to - x.from, 0)).toBe(N + 1);
    // one slice a task: no two slices of the big block share a task
    const big = slices.filter((x) => x.rows === N);
    expect(big).toHaveLength(Math.ceil(N / INGEST_SLICE_ROWS));
    expect(new Set(big.map((x) => x.tick)).size).toBe(big.length);
    expect(findings.list.map((f) => f.index)).toEqual([N]);
    expect(messages.count).toBe(N + 1);
    for (const p of [0, INGEST_SLICE_ROWS - 1, INGEST_SLICE_ROWS, 77_777, N - 1]) expect(messages.rowAt(p)).toEqual(rows[p]);
    expect(messages.rowAt(N).preview).toBe('after');

    // a new session while a block is under way: the rest of it is dropped, not added to the new session
    api.emitBatch(batchOf(1, [], { rows: packRows(rows.map((r) => ({ ...r, index: r.index + N + 1 }))), totals: { packets: 2 * N, messages: 2 * N + 1, findings: 0, connections: 4 } }));
    expect(messages.table.length).toBe(N + 1 + INGEST_SLICE_ROWS);
    api.emitSession({ id: 2, kind: 'file', path: 'other.pcap', totalBytes: 5 });
    api.emitBatch(batchOf(2, [makeRow(0, { preview: 'new session' })]));
    await vi.waitFor(() => expect(messages.rowAt(0).preview).toBe('new session'));
    await flushPromises();
    expect(messages.table.length).toBe(1);
    w.unmount();
  });

  it('drops a batch whose row block is malformed and goes on with the ones after it', async () => {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: 'a.pcap', totalBytes: 100 } });
    const w = mountWith(Host, api);
    await flushPromises();
    const messages = useMessagesStore();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const bad = packRows([makeRow(0), makeRow(1)]);
    api.emitBatch(batchOf(1, [], { rows: { ...bad, previews: 'only one' } }));
    api.emitBatch(batchOf(1, [], { rows: packRows([makeRow(0, { preview: 'good' })]) }));
    expect(logged).toHaveBeenCalledTimes(1);
    expect(messages.count).toBe(1);
    expect(messages.rowAt(0).preview).toBe('good');
    logged.mockRestore();
    w.unmount();
  });
});
