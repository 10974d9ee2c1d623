// @vitest-environment happy-dom
import { describe, it, expect, vi, afterEach } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import CaptureControls from './CaptureControls.vue';
import { createFakeApi } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useCaptureStore } from '../stores/capture';

afterEach(() => {
  vi.useRealTimers();
});

describe('CaptureControls', () => {
  it('lists interfaces with their flags and validates the BPF filter once the user stops typing', async () => {
    vi.useFakeTimers();
    const api = createFakeApi();
    const w = mountWith(CaptureControls, api);
    const capture = useCaptureStore();
    await capture.loadInterfaces();
    await flushPromises();
    const options = w.findAll('[data-test="iface"] option').map((o) => o.text());
    expect(options).toEqual(['eth0 (up, running) — 10.0.0.2', 'lo (loopback, up, running) — 127.0.0.1 ::1']);
    expect(capture.iface).toBe('lo');

    const input = w.find('[data-test="bpf"]');
    for (const partial of ['t', 'tc', 'tcp', 'tcp port 80']) await input.setValue(partial);
    expect(api.calls.filter((c) => c.name === 'validateFilter')).toHaveLength(0);
    expect(w.find('[data-test="bpf-state"]').text()).toBe('…');
    await vi.advanceTimersByTimeAsync(300);
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'validateFilter').map((c) => c.args)).toEqual([['tcp port 80', 'lo']]);
    expect(w.find('[data-test="bpf-state"]').text()).toBe('✓');

    await input.setValue('tcp port (80');
    await vi.advanceTimersByTimeAsync(300);
    await flushPromises();
    expect(w.find('[data-test="bpf-state"]').text()).toBe('✗');
    expect(w.text()).toContain('syntax error in filter expression');
    expect(w.find('[data-test="start"]').attributes('disabled')).toBeDefined();
  });

  it('starts a capture with the filter and shows "drops: unknown" when the backend cannot count drops', async () => {
    const api = createFakeApi();
    const w = mountWith(CaptureControls, api);
    const capture = useCaptureStore();
    await capture.loadInterfaces();
    capture.bpf = 'tcp port 8080';
    await capture.validateBpf();
    await flushPromises();
    await w.find('[data-test="start"]').trigger('click');
    await flushPromises();
    expect(api.calls.find((c) => c.name === 'startCapture')?.args[0]).toEqual({ iface: 'lo', filter: 'tcp port 8080' });
    capture.status = { state: 'running', iface: 'lo', backend: 'cap', packets: 1234, bytes: 2048, drops: null, file: '' };
    await flushPromises();
    expect(w.find('[data-test="capture-counters"]').text()).toContain('1,234 pkts');
    expect(w.find('[data-test="capture-counters"]').text()).toContain('drops: unknown');
    capture.status = { ...capture.status, backend: 'dumpcap', drops: 3 };
    await flushPromises();
    expect(w.find('[data-test="capture-counters"]').text()).toContain('drops: 3');
    await w.find('[data-test="stop"]').trigger('click');
    await flushPromises();
    expect(api.calls.some((c) => c.name === 'stopCapture')).toBe(true);
    expect(capture.running).toBe(false);
  });
});
