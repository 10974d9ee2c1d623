/**
 * What the user is looking at: the selected message (by capture-wide message index, which
 * stays valid when the filter changes), its detail fetched from the engine, the selected
 * connection and which detail tab is open. Fetches race-guard with a sequence number so a
 * slow answer for an old selection never overwrites a newer one.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { ConnStats, MessageDetail } from '../../../shared/api';
import { useApi } from '../api/index';
import { useMessagesStore } from './messages';

export type DetailTab = 'message' | 'handshake' | 'stats';

export const useSelectionStore = defineStore('selection', () => {
  const api = useApi();
  const messages = useMessagesStore();

  const index = ref<number | null>(null);
  const conn = ref<number | null>(null);
  const detail = shallowRef<MessageDetail | null>(null);
  const detailError = ref('');
  const loading = ref(false);
  const tab = ref<DetailTab>('message');
  const stats = shallowRef<ConnStats | null>(null);
  const statsError = ref('');
  /** bumped by "open detail" (Enter / double click) so the pane can take focus */
  const openRequests = ref(0);

  let detailSeq = 0;
  let statsSeq = 0;

  async function selectMessage(i: number): Promise<void> {
    index.value = i;
    const p = messages.positionOfIndex(i);
    if (p >= 0) {
      const c = messages.table.conn[p];
      if (conn.value !== c) {
        conn.value = c;
        stats.value = null;
      }
    }
    const seq = ++detailSeq;
    loading.value = true;
    detailError.value = '';
    const r = await api.getMessageDetail(i);
    if (seq !== detailSeq) return;
    loading.value = false;
    if (r.ok) detail.value = r.value;
    else {
      detail.value = null;
      detailError.value = r.error.message;
    }
  }

  function selectConnection(c: number | null): void {
    if (conn.value === c) return;
    conn.value = c;
    stats.value = null;
    statsError.value = '';
  }

  /**
   * Shows connection `c` itself (its handshake): what a connection-level finding is about.
   * The selected message is let go, so the detail never shows a message of another
   * connection as if the finding were about it.
   */
  function openConnection(c: number): void {
    detailSeq++;
    index.value = null;
    detail.value = null;
    detailError.value = '';
    loading.value = false;
    selectConnection(c);
    tab.value = 'handshake';
    openRequests.value++;
  }

  async function loadStats(): Promise<void> {
    const c = conn.value;
    if (c === null) return;
    const seq = ++statsSeq;
    const r = await api.getStats(c);
    if (seq !== statsSeq) return;
    if (r.ok) {
      stats.value = r.value;
      statsError.value = '';
    } else statsError.value = r.error.message;
  }

  function openDetail(): void {
    if (tab.value !== 'message') tab.value = 'message';
    openRequests.value++;
  }

  function reset(): void {
    detailSeq++;
    statsSeq++;
    index.value = null;
    conn.value = null;
    detail.value = null;
    detailError.value = '';
    loading.value = false;
    stats.value = null;
    statsError.value = '';
  }

  return {
    index,
    conn,
    detail,
    detailError,
    loading,
    tab,
    stats,
    statsError,
    openRequests,
    selectMessage,
    selectConnection,
    openConnection,
    loadStats,
    openDetail,
    reset,
  };
});
