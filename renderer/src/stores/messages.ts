/**
 * Timeline rows of the current session. The row array lives in a `shallowRef` and is appended
 * to in place, then `triggerRef` once per batch: a million rows never become deep-reactive.
 * Rows arrive in index order (Batch.messages); `rows[p]` is the row at position p of the
 * unfiltered timeline. The store owns the array; callers must not mutate rows.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, triggerRef } from 'vue';
import type { Batch, MessageRow } from '../../../shared/api';

export type TimeMode = 'absolute' | 'relative';

export const useMessagesStore = defineStore('messages', () => {
  const rows = shallowRef<MessageRow[]>(markRaw([]));
  const totals = ref<Batch['totals']>({ packets: 0, messages: 0, findings: 0, connections: 0 });
  const timeMode = ref<TimeMode>('relative');
  /** keep the newest row in view (like tail -f); turned on when a live capture starts */
  const follow = ref(false);

  const count = computed(() => rows.value.length);
  const t0 = computed(() => (rows.value.length ? rows.value[0].ts : 0));

  /** Appends a batch's rows; returns the position of the first new row. */
  function append(batch: MessageRow[]): number {
    const arr = rows.value;
    const from = arr.length;
    if (batch.length === 0) return from;
    for (let i = 0; i < batch.length; i++) arr.push(batch[i]);
    triggerRef(rows);
    return from;
  }

  /** Replaces all rows (tests, session switch). */
  function setRows(all: MessageRow[]): void {
    rows.value = markRaw(all);
  }

  function reset(): void {
    rows.value = markRaw([]);
    totals.value = { packets: 0, messages: 0, findings: 0, connections: 0 };
  }

  /** Position of message `index` in `rows`, or -1. Dense indexes hit directly; else binary search. */
  function positionOfIndex(index: number): number {
    const arr = rows.value;
    if (index >= 0 && index < arr.length && arr[index].index === index) return index;
    let lo = 0;
    let hi = arr.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = arr[mid].index;
      if (v === index) return mid;
      if (v < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First position whose timestamp is >= ts (rows are in capture order, which is time order). */
  function positionAtTime(ts: number): number {
    const arr = rows.value;
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid].ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, arr.length - 1);
  }

  return { rows, totals, timeMode, follow, count, t0, append, setRows, reset, positionOfIndex, positionAtTime };
});
