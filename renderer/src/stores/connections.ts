/**
 * Connections and their handshakes. Rows are upserted by id from each batch into a Map held
 * in a `shallowRef` (triggered once per batch); `list` orders WebSocket connections first,
 * then by id. Handshakes come from batches or, when a connection is opened in the UI before
 * its handshake was pushed, from `api.getHandshake`. `shown` is what the connections pane
 * lists: WebSocket connections only while `wsOnly` is on, which it is by default once a capture
 * holds AUTO_WS_ONLY_OTHERS other flows (a capture of a whole machine's traffic), until the
 * user sets it.
 */
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, triggerRef } from 'vue';
import type { ConnStats, ConnectionRow, Result } from '../../../shared/api';
import type { HandshakeEvent } from '../../../shared/events';
import { useApi } from '../api/index';

/** other (non-WebSocket) flows from which the pane lists WebSocket connections only by default */
export const AUTO_WS_ONLY_OTHERS = 10;

export const useConnectionsStore = defineStore('connections', () => {
  const api = useApi();
  const byId = shallowRef(markRaw(new Map<number, ConnectionRow>()));
  const handshakes = shallowRef(markRaw(new Map<number, HandshakeEvent | null>()));

  const list = computed(() => groupedConnections(byId.value));
  const websocketCount = computed(() => {
    let n = 0;
    for (const c of byId.value.values()) if (c.websocket) n++;
    return n;
  });

  /** the user's choice; null = automatic (on when there are many other flows) */
  const wsOnlyChoice = ref<boolean | null>(null);
  const otherCount = computed(() => byId.value.size - websocketCount.value);
  const wsOnly = computed({
    get: () => wsOnlyChoice.value ?? otherCount.value >= AUTO_WS_ONLY_OTHERS,
    set: (v: boolean) => {
      wsOnlyChoice.value = v;
    },
  });
  const shown = computed(() => {
    if (!wsOnly.value) return list.value;
    // an HTTP/2 connection carrying WebSockets stays, as the group its streams are listed under
    const carriers = new Set<number>();
    for (const c of list.value) if (c.websocket && c.h2) carriers.add(c.h2.parent);
    return list.value.filter((c) => c.websocket || carriers.has(c.id));
  });

  /**
   * Seconds from the connection's first packet (its SYN when captured) to the end of the
   * handshake's response, or null without a captured response.
   */
  function handshakeTime(id: number): number | null {
    const c = byId.value.get(id);
    const h = handshakes.value.get(id);
    if (!c || !h || !h.status || !(h.ts >= c.ts)) return null;
    return h.ts - c.ts;
  }

  /** Statistics of one connection, or of all together (ALL_CONNECTIONS), for the stats pane. */
  function loadStats(conn: number): Promise<Result<ConnStats>> {
    return api.getStats(conn);
  }

  function upsert(rows: ConnectionRow[]): void {
    if (rows.length === 0) return;
    const m = byId.value;
    for (const r of rows) m.set(r.id, r);
    triggerRef(byId);
  }

  function addHandshakes(list: HandshakeEvent[]): void {
    if (list.length === 0) return;
    const m = handshakes.value;
    for (const h of list) m.set(h.conn, h);
    triggerRef(handshakes);
  }

  async function loadHandshake(conn: number): Promise<HandshakeEvent | null> {
    const known = handshakes.value.get(conn);
    if (known) return known;
    const r = await api.getHandshake(conn);
    if (!r.ok) return null;
    if (r.value) addHandshakes([r.value]);
    return r.value;
  }

  function reset(): void {
    byId.value = markRaw(new Map());
    handshakes.value = markRaw(new Map());
    wsOnlyChoice.value = null;
  }

  return { byId, handshakes, list, websocketCount, otherCount, wsOnly, shown, handshakeTime, loadStats, upsert, addHandshakes, loadHandshake, reset };
});

/**
 * WebSocket connections first, then the rest, by id; a WebSocket carried on an HTTP/2 stream
 * (RFC 8441) comes right under the connection that carries it, by stream id, and that carrier
 * goes with the WebSockets.
 */
export function groupedConnections(byId: ReadonlyMap<number, ConnectionRow>): ConnectionRow[] {
  const carriers = new Set<number>();
  for (const c of byId.values()) if (c.h2) carriers.add(c.h2.parent);
  const top = (c: ConnectionRow): number => (c.h2 && byId.has(c.h2.parent) ? c.h2.parent : c.id);
  const ws = (c: ConnectionRow): boolean => c.websocket || carriers.has(c.id);
  const out = Array.from(byId.values());
  out.sort((a, b) => {
    const ta = byId.get(top(a)) as ConnectionRow;
    const tb = byId.get(top(b)) as ConnectionRow;
    if (ta !== tb) return ws(ta) === ws(tb) ? ta.id - tb.id : ws(ta) ? -1 : 1;
    // same group: the carrier, then its streams in order
    return (a === ta ? -1 : (a.h2?.stream ?? 0)) - (b === tb ? -1 : (b.h2?.stream ?? 0));
  });
  return out;
}
