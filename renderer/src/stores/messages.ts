/**
 * Timeline rows of the current session, in a column table (lib/row-table.ts) held by a
 * `shallowRef` and appended in place, then `triggerRef` once per batch: a million rows never
 * become reactive objects. Rows arrive in index order (Batch.messages and Batch.rows); position p is the
 * p-th row of the unfiltered timeline. The store owns the table; callers only read it.
 *
 * Past REVEAL_THROTTLE_ROWS rows, row blocks are shown at most every REVEAL_MS (the rows are
 * in the table at once, the views see them at the next reveal, in a task of its own; the
 * block that completes the session's announced total is shown at once): each reveal costs
 * the page a render of the views and a frame, about 20 ms, which for a million rows in 50
 * batches was a second of the load (docs/benchmarks.md, "UI load at 1,000,000 messages,
 * second pass" and "third pass").
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, triggerRef } from 'vue';
import type { Batch, MessageRow, RowBlock } from '../../../shared/api';
import { packedColumns } from '../../../shared/row-block';
import { RowTable, type PreparedBlock } from '../lib/row-table';

export type TimeMode = 'absolute' | 'relative';

/** table size from which appended row blocks are revealed at most every REVEAL_MS */
export const REVEAL_THROTTLE_ROWS = 100_000;
/**
 * least time between two reveals of appended row blocks past REVEAL_THROTTLE_ROWS: five
 * renders a second still show the count and the scroll range growing, where ten (100 ms,
 * tuned under Playwright) were a tenth of the page's time while a million rows loaded
 */
export const REVEAL_MS = 200;

export const useMessagesStore = defineStore('messages', () => {
  const table = shallowRef<RowTable>(markRaw(new RowTable()));
  const totals = ref<Batch['totals']>({ packets: 0, messages: 0, findings: 0, connections: 0 });
  const timeMode = ref<TimeMode>('relative');
  /** keep the newest row in view (like tail -f); turned on when a live capture starts */
  const follow = ref(false);

  const count = computed(() => table.value.length);
  let revealedAt = 0;
  let revealTimer: ReturnType<typeof setTimeout> | null = null;

  function reveal(): void {
    if (revealTimer) clearTimeout(revealTimer);
    revealTimer = null;
    revealedAt = Date.now();
    triggerRef(table);
  }

  /**
   * Shows rows appended by `appendBlock` (to a table that held `before` rows) now or, while a
   * large session streams in, soon.
   */
  function revealSoon(before: number, total: number): void {
    if (before < REVEAL_THROTTLE_ROWS || table.value.length >= total) reveal();
    // a task of its own even when due (wait <= 0): the views' render is not added to the
    // task that appended the rows
    else revealTimer ??= setTimeout(reveal, Math.max(0, REVEAL_MS - (Date.now() - revealedAt)));
  }
  const t0 = computed(() => (table.value.length ? table.value.ts[0] : 0));

  /** Appends a batch's rows; returns the position of the first new row. */
  function append(batch: MessageRow[]): number {
    const t = table.value;
    const from = t.length;
    if (batch.length === 0) return from;
    // rows arrive in index order; a replay (WsscopeApi.replay) resends ones we already have
    const last = from > 0 ? t.index[from - 1] : -1;
    let added = 0;
    for (let i = 0; i < batch.length; i++) {
      if (batch[i].index <= last) continue;
      t.push(batch[i]);
      added++;
    }
    if (added > 0) triggerRef(table);
    return from;
  }

  /**
   * A row block (Batch.rows) made ready to append by slices (`appendSlice`), and its first row
   * the table does not have yet (a replay resends rows we already have). Throws RangeError on
   * a malformed block.
   */
  function prepareBlock(block: RowBlock): { rows: PreparedBlock; at: number } {
    const rows = RowTable.prepare(packedColumns(block));
    const t = table.value;
    const last = t.length > 0 ? t.index[t.length - 1] : -1;
    const index = rows.cols.index;
    let at = 0;
    while (at < rows.cols.count && index[at] <= last) at++;
    return { rows, at };
  }

  /**
   * Appends rows [from, to) of a prepared block, with room made for `total` rows (the batch's
   * message total: the columns grow once, not at every doubling); returns how many it stored.
   */
  function appendSlice(rows: PreparedBlock, from: number, to: number, total = 0): number {
    const t = table.value;
    const before = t.length;
    t.reserve(total);
    const n = t.appendColumns(rows, from, to);
    if (n > 0) revealSoon(before, total);
    return n;
  }

  /** Appends a whole row block at once; returns the position of the first new row. */
  function appendBlock(block: RowBlock, total = 0): number {
    const from = table.value.length;
    if (block.count === 0) return from;
    const { rows, at } = prepareBlock(block);
    appendSlice(rows, at, rows.cols.count, total);
    return from;
  }

  /** Replaces all rows (tests, session switch). */
  function setRows(all: MessageRow[]): void {
    if (revealTimer) clearTimeout(revealTimer);
    revealTimer = null;
    table.value = markRaw(new RowTable(all));
  }

  function reset(): void {
    if (revealTimer) clearTimeout(revealTimer);
    revealTimer = null;
    table.value = markRaw(new RowTable());
    totals.value = { packets: 0, messages: 0, findings: 0, connections: 0 };
  }

  /** The row at position p, built on demand (for rendering a few rows, not for loops). */
  function rowAt(p: number): MessageRow {
    return table.value.get(p);
  }

  /** Position of message `index`, or -1. Dense indexes hit directly; else binary search. */
  function positionOfIndex(index: number): number {
    const t = table.value;
    const idx = t.index;
    if (index >= 0 && index < t.length && idx[index] === index) return index;
    let lo = 0;
    let hi = t.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = idx[mid];
      if (v === index) return mid;
      if (v < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First position whose timestamp is >= ts (rows are in capture order, which is time order). */
  function positionAtTime(ts: number): number {
    const t = table.value;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t.ts[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, t.length - 1);
  }

  return { table, totals, timeMode, follow, count, t0, append, appendBlock, prepareBlock, appendSlice, setRows, reset, rowAt, positionOfIndex, positionAtTime };
});
