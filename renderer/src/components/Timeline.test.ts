// @vitest-environment happy-dom
import { describe, it, expect, beforeEach } from 'vitest';
import { nextTick } from 'vue';
import { flushPromises } from '@vue/test-utils';
import Timeline from './Timeline.vue';
import TimelineRow from './TimelineRow.vue';
import { createFakeApi, makeRow } from '../testing/fake-api';
import type { FakeApi } from '../testing/fake-api';
import { mountWith, piniaWith } from '../testing/mount';
import { useMessagesStore } from '../stores/messages';
import { useSelectionStore } from '../stores/selection';
import { useFiltersStore } from '../stores/filters';
import type { MessageRow } from '../../../shared/api';

const MILLION = 1_000_000;
let million: MessageRow[] = [];

function renderedIndexes(w: ReturnType<typeof mountWith>): number[] {
  return w.findAll('.tl-row').map((r) => Number(r.attributes('data-index')));
}

describe('Timeline (virtual list)', () => {
  let api: FakeApi;
  beforeEach(() => {
    if (million.length === 0) million = Array.from({ length: MILLION }, (_, i) => makeRow(i));
    api = createFakeApi({ rows: million });
  });

  function setup() {
    const pinia = piniaWith(api);
    useMessagesStore().setRows(million.slice());
    const w = mountWith(Timeline, api, { pinia, props: { initialHeight: 400 }, attachTo: document.body });
    return { w, messages: useMessagesStore(), selection: useSelectionStore(), filters: useFiltersStore() };
  }

  it('renders only the visible rows of 1,000,000 messages', async () => {
    const { w } = setup();
    await nextTick();
    const shown = renderedIndexes(w);
    // 400 px / 20 px = 20 rows in view, plus overscan below (none above at the top)
    expect(shown.length).toBeGreaterThanOrEqual(20);
    expect(shown.length).toBeLessThanOrEqual(40);
    expect(shown).toContain(0);
    expect(w.find('[data-test="shown-count"]').text()).toContain('1,000,000');
    w.unmount();
  });

  it('does not re-render the rows on screen when a batch only appends rows', async () => {
    const { w, messages } = setup();
    await nextTick();
    const rows = w.findAllComponents(TimelineRow);
    expect(rows.length).toBeGreaterThanOrEqual(20);
    const before = rows.map((r) => r.props('row'));
    const els = rows.map((r) => r.element);
    messages.append([makeRow(MILLION), makeRow(MILLION + 1)]);
    await nextTick();
    expect(w.find('[data-test="shown-count"]').text()).toContain('1,000,002');
    const after = w.findAllComponents(TimelineRow);
    expect(after.map((r) => r.props('row'))).toEqual(before);
    // the same row objects and no other prop changed: Vue skips their update (its
    // shouldUpdateComponent compares props with !==; listeners of declared emits do not count)
    after.forEach((r, i) => {
      expect(r.props('row')).toBe(before[i]);
      expect(r.element).toBe(els[i]);
    });
    expect(after.map((r) => r.props('prevTs'))).toEqual(rows.map((r) => r.props('prevTs')));
    expect(after[0]!.props('prevTs')).toBeUndefined();
    w.unmount();
  });

  it('scrolls by index to the middle and to the last of a million rows', async () => {
    const { w } = setup();
    const vm = w.vm as unknown as { scrollToPosition(p: number): void };
    vm.scrollToPosition(500_000);
    await nextTick();
    let shown = renderedIndexes(w);
    expect(shown).toContain(500_000);
    expect(shown).not.toContain(0);
    expect(shown.length).toBeLessThanOrEqual(40);
    const row = w.find('.tl-row[data-index="500000"]');
    expect(row.text()).toContain('message 500000');

    vm.scrollToPosition(MILLION - 1);
    await nextTick();
    shown = renderedIndexes(w);
    expect(shown).toContain(MILLION - 1);
    expect(Math.max(...shown)).toBe(MILLION - 1);
    w.unmount();
  });

  it('moves the selection with arrows, PageDown, End and Home, and Enter opens the detail', async () => {
    const { w, selection } = setup();
    const body = w.find('.tl-body');
    await body.trigger('keydown', { key: 'ArrowDown' });
    expect(selection.index).toBe(0);
    await body.trigger('keydown', { key: 'ArrowDown' });
    await body.trigger('keydown', { key: 'ArrowDown' });
    expect(selection.index).toBe(2);
    await body.trigger('keydown', { key: 'ArrowUp' });
    expect(selection.index).toBe(1);
    await body.trigger('keydown', { key: 'PageDown' });
    // a page is the rows in view minus one, so the previous last row stays visible
    expect(selection.index).toBe(1 + 19);
    await body.trigger('keydown', { key: 'End' });
    await nextTick();
    expect(selection.index).toBe(MILLION - 1);
    expect(renderedIndexes(w)).toContain(MILLION - 1);
    expect(w.find('.tl-row.selected').attributes('data-index')).toBe(String(MILLION - 1));
    await body.trigger('keydown', { key: 'Home' });
    await nextTick();
    expect(selection.index).toBe(0);
    expect(renderedIndexes(w)).toContain(0);

    const before = selection.openRequests;
    await body.trigger('keydown', { key: 'Enter' });
    expect(selection.openRequests).toBe(before + 1);
    await flushPromises();
    expect(api.calls.filter((c) => c.name === 'getMessageDetail').map((c) => c.args[0])).toContain(0);
    w.unmount();
  });

  it('selects a row on click and shows the relative or absolute time', async () => {
    const { w, selection, messages } = setup();
    await w.find('.tl-row[data-index="3"]').trigger('click');
    expect(selection.index).toBe(3);
    expect(w.find('.tl-row[data-index="3"]').classes()).toContain('selected');
    expect(w.find('.tl-row[data-index="3"]').text()).toContain('0.003000');
    await w.find('[data-test="time-mode"]').trigger('click');
    expect(messages.timeMode).toBe('absolute');
    expect(w.find('.tl-row[data-index="3"]').text()).toMatch(/\d\d:\d\d:\d\d\.003000/);
    w.unmount();
  });

  it('shows only filtered rows and counts them', async () => {
    const { w, filters } = setup();
    filters.localLimit = 2 * MILLION;
    filters.dir = 'server';
    filters.text = 'message 99999';
    await filters.apply();
    await nextTick();
    const shown = renderedIndexes(w);
    // server rows are the odd ones; "message 99999" prefixes 99999 and 999990..999999
    expect(shown).toEqual([99999, 999991, 999993, 999995, 999997, 999999]);
    // the filter bar counts the filtered rows; the timeline names the total only, so the count shows once
    expect(w.find('[data-test="shown-count"]').text()).toMatch(/^1,000,000 messages/);
    expect(w.find('[data-test="shown-count"]').text()).not.toContain(' of ');
    w.unmount();
  });

  it('follows new rows while at the end and stops following when scrolled up', async () => {
    const api2 = createFakeApi();
    const pinia = piniaWith(api2);
    const messages = useMessagesStore();
    messages.setRows(Array.from({ length: 100 }, (_, i) => makeRow(i)));
    messages.follow = true;
    const w = mountWith(Timeline, api2, { pinia, props: { initialHeight: 400 } });
    await nextTick();
    messages.append(Array.from({ length: 100 }, (_, i) => makeRow(100 + i)));
    await flushPromises();
    expect(renderedIndexes(w)).toContain(199);
    // the user scrolls to the top: following stops, new rows no longer move the view
    const scroller = w.find('.vl').element as HTMLElement;
    scroller.scrollTop = 0;
    await w.find('.vl').trigger('scroll');
    expect(messages.follow).toBe(false);
    messages.append([makeRow(200)]);
    await flushPromises();
    expect(renderedIndexes(w)).toContain(0);
    expect(renderedIndexes(w)).not.toContain(200);
    w.unmount();
  });
});
