/**
 * Findings of the current session, in arrival order, in a `shallowRef` appended per batch,
 * with per-severity counts kept incrementally.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, triggerRef } from 'vue';
import type { FindingRow } from '../../../shared/api';
import { useMessagesStore } from './messages';

/** A finding about a connection (its handshake, its TCP stream), not about one frame or message. */
export function isConnectionLevel(f: FindingRow): boolean {
  return f.message === undefined && f.frame === undefined;
}

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
   * the finding was sent; otherwise, for a frame-level finding, by connection, direction and
   * time (it carries the time of its frame, and the message that frame belongs to completes
   * at or after it). A connection-level finding (a handshake check, a TCP gap: no frame, no
   * message) is about no message: -1.
   */
  function messageIndexOf(f: FindingRow): number {
    if (f.message !== undefined) return f.message;
    if (isConnectionLevel(f)) return -1;
    const t = messages.table;
    if (t.length === 0) return -1;
    for (let p = messages.positionAtTime(f.ts); p >= 0 && p < t.length; p++) {
      if (t.conn[p] === f.conn && (f.dir === undefined || t.dir(p) === f.dir)) return t.index[p];
    }
    return -1;
  }

  /** connections with findings that belong to no message, in first-finding order */
  const connectionLevelConns = computed((): number[] => {
    const seen = new Set<number>();
    for (const f of list.value) if (isConnectionLevel(f)) seen.add(f.conn);
    return Array.from(seen);
  });

  return { list, counts, connectionLevelConns, append, reset, messageIndexOf };
});
