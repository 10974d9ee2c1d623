// @vitest-environment happy-dom
import { describe, it, expect, beforeEach } from 'vitest';
import { nextTick } from 'vue';
import { flushPromises } from '@vue/test-utils';
import Timeline from './Timeline.vue';
import { createFakeApi, makeRow } from '../testing/fake-api';
import { mountWith, piniaWith } from '../testing/mount';
import { useMessagesStore } from '../stores/messages';
import { useSelectionStore } from '../stores/selection';
import { useFiltersStore } from '../stores/filters';
import { useFindingsStore } from '../stores/findings';
import { STORAGE_KEY } from '../lib/columns';
import { sortPositions } from '../lib/view';
import type { MessageRow } from '../../../shared/api';

function setup(rows: MessageRow[]) {
  const api = createFakeApi({ rows });
  const pinia = piniaWith(api);
  useMessagesStore().setRows(rows);
  const w = mountWith(Timeline, api, { pinia, props: { initialHeight: 400 }, attachTo: document.body });
  return { w, api, messages: useMessagesStore(), selection: useSelectionStore(), filters: useFiltersStore(), findings: useFindingsStore() };
}
const cell = (w: ReturnType<typeof setup>['w'], index: number, col: string) => w.find(`.tl-row[data-index="${index}"] [data-col="${col}"]`);

describe('Timeline columns', () => {
  beforeEach(() => localStorage.clear());

  it('numbers messages from 1, like packet numbers, and shows the delta to the row above', async () => {
    const rows = [makeRow(0), makeRow(1, { ts: 1_700_000_000.25 }), makeRow(2, { ts: 1_700_000_000.2505 })];
    const { w } = setup(rows);
    await nextTick();
    expect(cell(w, 0, 'no').text()).toBe('1');
    expect(cell(w, 2, 'no').text()).toBe('3');
    expect(cell(w, 0, 'delta').text()).toBe('');
    expect(cell(w, 1, 'delta').text()).toBe('0.250000');
    expect(cell(w, 2, 'delta').text()).toBe('0.000500');
    w.unmount();
  });

  it('hides a column from the Columns menu and remembers it, and gives the preview the free width', async () => {
    const { w } = setup([makeRow(0)]);
    await w.find('[data-test="columns"]').trigger('click');
    await w.find('[data-test="col-delta"]').setValue(false);
    expect(w.find('[data-col="delta"]').exists()).toBe(false);
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}').hidden).toEqual(['delta']);
    const style = (w.find('.timeline').element as HTMLElement).style.getPropertyValue('--tl-columns');
    expect(style.split(' ').length).toBe(9 + 1); // nine columns, the last "minmax(60px, 1fr)" has a space
    expect(style).toMatch(/minmax\(60px, 1fr\)$/);
    w.unmount();
    // a new timeline (a reload) reads the layout back
    const again = setup([makeRow(0)]);
    expect(again.w.find('[data-col="delta"]').exists()).toBe(false);
    again.w.unmount();
  });

  it('resizes a column by dragging its header edge and keeps the width', async () => {
    const { w } = setup([makeRow(0)]);
    const grip = w.find('[data-test="resize-time"]');
    await grip.trigger('pointerdown', { clientX: 100, pointerId: 1 });
    await grip.trigger('pointermove', { clientX: 160, pointerId: 1 });
    await grip.trigger('pointerup', { clientX: 160, pointerId: 1 });
    expect((w.find('.timeline').element as HTMLElement).style.getPropertyValue('--tl-columns')).toMatch(/^48px 140px /);
    expect(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}').widths).toEqual({ time: 140 });
    w.unmount();
  });

  it('sorts a million rows by length, descending, then back to capture order, fast', async () => {
    const N = 1_000_000;
    // lengths from a fixed LCG (Numerical Recipes' constants): no runs a merge sort could exploit
    let x = 12345;
    const rand = () => (x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0);
    const rows = Array.from({ length: N }, (_, i) => makeRow(i, { length: i === 7 ? 100_002 : i === 3 ? 0 : 1 + (rand() % 100_001), conn: 1 + (i % 5) }));
    const { w, selection, messages } = setup(rows);
    await w.find('[data-test="sort-length"]').trigger('click');
    await nextTick();
    const first = () => w.findAll('.tl-row').map((r) => Number(r.find('[data-col="length"]').text().replace(/,/g, '')));
    const asc = first();
    expect(asc[0]).toBe(0);
    expect([...asc].sort((a, b) => a - b)).toEqual(asc);
    await w.find('[data-test="sort-length"]').trigger('click');
    await nextTick();
    const desc = first();
    expect(desc[0]).toBe(100_002);
    expect([...desc].sort((a, b) => b - a)).toEqual(desc);
    expect(w.find('[data-test="sort-state"]').text()).toContain('length ↓');
    // keyboard navigation follows the sorted order
    await w.find('.tl-body').trigger('keydown', { key: 'Home' });
    expect(rows[selection.index ?? -1].length).toBe(100_002);
    await w.find('[data-test="sort-length"]').trigger('click');
    await nextTick();
    expect(w.findAll('.tl-row')[0].attributes('data-index')).toBe('0');
    // the packed numeric sort against a comparator sort of the same column (what it replaces):
    // a ratio, so a loaded machine slows both alike
    // (best of three each: the machine's other load only ever adds time)
    const t = messages.table;
    const best = (f: () => Uint32Array): { ms: number; out: Uint32Array } => {
      let ms = Infinity;
      let out: Uint32Array = new Uint32Array(0);
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        out = f();
        ms = Math.min(ms, performance.now() - t0);
      }
      return { ms, out };
    };
    const fast = best(() => sortPositions(t, null, 'length', false));
    const slow = best(() => Uint32Array.from({ length: N }, (_, i) => i).sort((a, b) => t.sizes[a] - t.sizes[b] || a - b));
    expect(fast.out).toEqual(slow.out);
    // faster than the comparator, and well under a second (about 100 ms on a loaded 2-core machine)
    expect(fast.ms).toBeLessThan(slow.ms);
    expect(fast.ms).toBeLessThan(1000);
    w.unmount();
  });

  it('sorts by connection and by time, ties in capture order', async () => {
    const rows = [makeRow(0, { conn: 3 }), makeRow(1, { conn: 1 }), makeRow(2, { conn: 3 }), makeRow(3, { conn: 2 })];
    const { w } = setup(rows);
    await w.find('[data-test="sort-conn"]').trigger('click');
    await nextTick();
    expect(w.findAll('.tl-row').map((r) => r.attributes('data-index'))).toEqual(['1', '3', '0', '2']);
    await w.find('[data-test="sort-time"]').trigger('click');
    await w.find('[data-test="sort-time"]').trigger('click');
    await nextTick();
    expect(w.findAll('.tl-row').map((r) => r.attributes('data-index'))).toEqual(['3', '2', '1', '0']);
    w.unmount();
  });

  it('shows printable ASCII beside the hex of a binary message, as text only', async () => {
    const rows = [makeRow(0, { kind: 'binary', opcode: 2, preview: '4d 51 54 54 3c 62 3e 00 …' }), makeRow(1)];
    const { w } = setup(rows);
    expect(w.find('.tl-row[data-index="0"] [data-test="preview-ascii"]').text()).toBe('MQTT<b>.…');
    expect(w.find('.tl-row[data-index="0"] b').exists()).toBe(false);
    expect(w.find('.tl-row[data-index="1"] [data-test="preview-ascii"]').exists()).toBe(false);
    w.unmount();
  });

  it('gives an info-level finding its own icon and names the findings in the row tooltip', async () => {
    const rows = [makeRow(0, { findings: 1 }), makeRow(1, { findings: 2 }), makeRow(2)];
    const { w, findings } = setup(rows);
    findings.append([
      { index: 0, id: 'utf8-bom', severity: 'info', conn: 1, ts: rows[0].ts, text: 'x', message: 0 },
      { index: 1, id: 'unsolicited-pong', severity: 'warning', conn: 1, ts: rows[1].ts, text: 'y', message: 1 },
      { index: 2, id: 'bad-close-code', severity: 'error', conn: 1, ts: rows[1].ts, text: 'z', message: 1 },
      // connection-level: about no message, so it marks no row
      { index: 3, id: 'missing-origin', severity: 'info', conn: 1, ts: rows[2].ts, text: 'no Origin' },
    ] as never);
    await nextTick();
    expect(cell(w, 0, 'find').text()).toBe('ℹ');
    expect(cell(w, 0, 'find').attributes('data-severity')).toBe('info');
    expect(cell(w, 1, 'find').text()).toBe('✖');
    expect(w.find('.tl-row[data-index="1"]').attributes('title')).toContain('warning: unsolicited-pong');
    expect(w.find('.tl-row[data-index="1"]').attributes('title')).toContain('error: bad-close-code');
    expect(cell(w, 2, 'find').text()).toBe('');
    w.unmount();
  });

  it('filters on the connection, opcode and direction of a row from its context menu', async () => {
    const rows = [makeRow(0, { conn: 4, opcode: 2, kind: 'binary', dir: 'server' }), makeRow(1, { conn: 5 })];
    const { w, filters } = setup(rows);
    await w.find('.tl-row[data-index="0"]').trigger('contextmenu', { clientX: 50, clientY: 60 });
    expect(w.find('[data-test="row-menu"]').exists()).toBe(true);
    await w.find('[data-test="menu-filter-conn"]').trigger('click');
    expect(filters.conn).toBe(4);
    expect(w.find('[data-test="row-menu"]').exists()).toBe(false);
    await w.find('.tl-row[data-index="0"]').trigger('contextmenu');
    await w.find('[data-test="menu-filter-opcode"]').trigger('click');
    expect(filters.opcodes).toEqual([2]);
    await w.find('.tl-row[data-index="0"]').trigger('contextmenu');
    await w.find('[data-test="menu-filter-dir"]').trigger('click');
    expect(filters.dir).toBe('server');
    await flushPromises();
    w.unmount();
  });

  it('takes the focus on Down from the filter box and on Escape from elsewhere', async () => {
    const { w, selection } = setup([makeRow(0), makeRow(1)]);
    const input = document.createElement('input');
    input.setAttribute('data-test', 'filter-text');
    document.body.appendChild(input);
    input.focus();
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement).toBe(w.find('.tl-body').element);
    expect(selection.index).toBe(0);
    const other = document.createElement('button');
    document.body.appendChild(other);
    other.focus();
    other.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(document.activeElement).toBe(w.find('.tl-body').element);
    input.remove();
    other.remove();
    w.unmount();
  });
});
