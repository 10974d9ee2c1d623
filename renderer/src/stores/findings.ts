/**
 * Findings of the current session, in arrival order, in a `shallowRef` appended per batch,
 * with per-severity counts kept incrementally.
 */
import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef, triggerRef } from 'vue';
import type { FindingRow } from '../../../shared/api';
import { useMessagesStore } from './messages';

export const useFindingsStore = defineStore('findings', () => {
  const list = shallowRef<FindingRow[]>(markRaw([]));
  const messages = useMessagesStore();

  // kept incrementally: recounting a million findings per batch would stall ingest
  const counts = ref({ error: 0, warning: 0, info: 0 });

  function append(batch: FindingRow[]): void {
    if (batch.length === 0) return;
    const arr = list.value;
    const c = { ...counts.value };
    let last = arr.length > 0 ? arr[arr.length - 1].index : -1;
    for (const f of batch) {
      // findings arrive in index order; a replay (WsscopeApi.replay) resends ones we have
      if (f.index <= last) continue;
      last = f.index;
      arr.push(f);
      c[f.severity]++;
    }
    counts.value = c;
    triggerRef(list);
  }

  function reset(): void {
    list.value = markRaw([]);
    counts.value = { error: 0, warning: 0, info: 0 };
  }

  /**
   * The message a finding is about, or -1: `FindingRow.message` when the engine knew it when
   * the finding was sent; otherwise by connection, direction and time (a frame-level finding
   * carries the time of its frame, and the message that frame belongs to completes at or
   * after it).
   */
  function messageIndexOf(f: FindingRow): number {
    if (f.message !== undefined) return f.message;
    const t = messages.table;
    if (t.length === 0) return -1;
    for (let p = messages.positionAtTime(f.ts); p >= 0 && p < t.length; p++) {
      if (t.conn[p] === f.conn && (f.dir === undefined || t.dir(p) === f.dir)) return t.index[p];
    }
    return -1;
  }

  return { list, counts, append, reset, messageIndexOf };
});
