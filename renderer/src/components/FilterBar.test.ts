// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import FilterBar from './FilterBar.vue';
import { createFakeApi, makeRow } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useFiltersStore } from '../stores/filters';
import { useMessagesStore } from '../stores/messages';

describe('FilterBar', () => {
  it('shows the count in plain words when the engine answers, and a regex error once', async () => {
    const rows = [makeRow(0, { preview: 'alpha' }), makeRow(1, { preview: 'beta' }), makeRow(2, { preview: 'alphabet' })];
    const api = createFakeApi({ rows });
    const w = mountWith(FilterBar, api);
    useMessagesStore().setRows(rows.slice());
    const filters = useFiltersStore();
    // a session bigger than the page filters itself: the engine answers
    filters.localLimit = 1;
    filters.text = 'alpha';
    await filters.apply();
    await flushPromises();
    expect(filters.mode).toBe('engine');
    expect(w.find('[data-test="filter-count"]').text()).toBe('2 of 3');

    filters.regex = true;
    filters.text = '(alpha';
    await filters.apply();
    await flushPromises();
    expect(w.findAll('[data-test="filter-error"]')).toHaveLength(1);
    expect(w.text().split('Invalid regular expression').length - 1).toBe(1);
    w.unmount();
  });
});
