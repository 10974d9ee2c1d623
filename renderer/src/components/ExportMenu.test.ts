// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import ExportMenu from './ExportMenu.vue';
import { createFakeApi, makeRow } from '../testing/fake-api';
import { mountWith, piniaWith } from '../testing/mount';
import { useCaptureStore } from '../stores/capture';
import { useFiltersStore } from '../stores/filters';
import { useMessagesStore } from '../stores/messages';

describe('Export menu', () => {
  async function setup() {
    const api = createFakeApi({ session: { id: 1, kind: 'file', path: '/tmp/chat.pcapng', totalBytes: 10 } });
    api.exportData = async (format, path, filter) => {
      api.calls.push({ name: 'exportData', args: [format, path, filter] });
      return { ok: true, value: { path: `chat${filter ? '-filtered' : ''}.${format}`, bytes: new Uint8Array([1]) } };
    };
    const pinia = piniaWith(api);
    useMessagesStore().setRows([makeRow(0, { conn: 1 }), makeRow(1, { conn: 2 }), makeRow(2, { conn: 2 })]);
    const capture = useCaptureStore();
    capture.session = api.session;
    const names: string[] = [];
    const orig = URL.createObjectURL;
    URL.createObjectURL = () => 'blob:test';
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      names.push(this.download);
    };
    const w = mountWith(ExportMenu, api, { pinia });
    return { w, api, names, filters: useFiltersStore(), restore: () => (URL.createObjectURL = orig) };
  }

  it('exports the filtered messages or all of them, named after the capture', async () => {
    const { w, api, names, filters, restore } = await setup();
    // no filter: nothing to choose, everything is exported
    expect((w.find('[data-test="export-scope"]').element as HTMLSelectElement).disabled).toBe(true);
    await w.find('[data-test="export-ndjson"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)?.args).toEqual(['ndjson', undefined, undefined]);
    expect(names.at(-1)).toBe('chat.ndjson');

    filters.conn = 2;
    await filters.apply();
    await flushPromises();
    expect(w.find('[data-test="export-scope"]').text()).toContain('filtered (2 of 3)');
    await w.find('[data-test="export-har"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)?.args[2]).toMatchObject({ filter: { conn: 2 } });
    expect(names.at(-1)).toBe('chat-filtered.har');

    await w.find('[data-test="export-scope"]').setValue('all');
    await w.find('[data-test="export-ndjson"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)?.args).toEqual(['ndjson', undefined, undefined]);
    // pcapng is the whole capture whatever the choice
    await w.find('[data-test="export-scope"]').setValue('filtered');
    await w.find('[data-test="export-pcapng"]').trigger('click');
    await flushPromises();
    expect(api.calls.at(-1)?.args).toEqual(['pcapng', undefined, undefined]);
    restore();
    w.unmount();
  });
});
