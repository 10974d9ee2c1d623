/**
 * Timeline filter: text or regex, direction, opcodes, connection, findings only. The result is
 * `positions` (ascending positions into the messages store's rows, null = no filter), kept in
 * a growable Uint32Array owned by this store and published as a subarray view.
 * Text is searched by the engine (`api.queryMessages`), which holds the whole payloads (the
 * page has 200-character previews only); so are all queries over sessions bigger than
 * `localLimit` rows. Queries without text over smaller sessions are answered here from the
 * row columns. An engine query is re-run at most once a second while rows keep arriving
 * (rows that arrive in between are matched locally, text against their previews, so the view
 * never lags).
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { AppFilter, MessageQuery } from '../../../shared/api';
import type { Direction } from '../../../shared/events';
import { useApi } from '../api/index';
import { compileQuery, isAppQuery, isQueryActive, tableTest } from '../lib/filter';
import type { FieldPredicate } from '../lib/filter';
import { useMessagesStore } from './messages';

export const LOCAL_FILTER_LIMIT = 100_000;
const REQUERY_MS = 1000;
const DEBOUNCE_MS = 100;

export const useFiltersStore = defineStore('filters', () => {
  const api = useApi();
  const messages = useMessagesStore();

  const text = ref('');
  const regex = ref(false);
  const dir = ref<Direction | ''>('');
  const opcodes = ref<number[]>([]);
  const conn = ref<number | null>(null);
  const findingsOnly = ref(false);
  /** decoded fields (protocol, type, name); answered by the engine */
  const app = ref<AppFilter>({});
  const localLimit = ref(LOCAL_FILTER_LIMIT);

  const positions = shallowRef<Uint32Array | null>(null);
  const mode = ref<'local' | 'engine'>('local');
  const error = ref('');
  const busy = ref(false);

  const query = computed<MessageQuery>(() => ({
    text: text.value,
    regex: regex.value,
    dir: dir.value,
    opcodes: opcodes.value.slice(),
    conn: conn.value,
    findingsOnly: findingsOnly.value,
    ...(isAppQuery({ app: app.value }) ? { app: { ...app.value } } : {}),
  }));
  const active = computed(() => isQueryActive(query.value));
  /** rows the timeline shows */
  const shown = computed(() => (positions.value ? positions.value.length : messages.count));

  let buf = new Uint32Array(1024);
  let len = 0;
  let gen = 0;
  let predicate: FieldPredicate | null = null;
  let requeryTimer: ReturnType<typeof setTimeout> | null = null;
  let debounceTimer: ReturnType<typeof setTimeout> | null = null;

  function push(p: number): void {
    if (len === buf.length) {
      const next = new Uint32Array(buf.length * 2);
      next.set(buf);
      buf = next;
    }
    buf[len++] = p;
  }
  function publish(): void {
    positions.value = buf.subarray(0, len);
  }
  function scan(from: number): void {
    if (!predicate) return;
    const t = messages.table;
    const test = tableTest(predicate, t);
    for (let p = from; p < t.length; p++) if (test(p)) push(p);
  }

  /** Recomputes `positions` for the current query; resolves when the view is up to date. */
  async function apply(): Promise<void> {
    const g = ++gen;
    if (requeryTimer) clearTimeout(requeryTimer);
    requeryTimer = null;
    if (!active.value) {
      predicate = null;
      error.value = '';
      busy.value = false;
      positions.value = null;
      return;
    }
    const compiled = compileQuery(query.value);
    if ('error' in compiled) {
      error.value = compiled.error;
      return; // keep the last good view while the user is still typing
    }
    error.value = '';
    predicate = compiled.test;
    const rows = messages.table;
    if (!text.value && rows.length <= localLimit.value && !isAppQuery(query.value)) {
      mode.value = 'local';
      busy.value = false;
      len = 0;
      scan(0);
      publish();
      return;
    }
    mode.value = 'engine';
    busy.value = true;
    const covered = rows.length;
    const r = await api.queryMessages(query.value);
    if (g !== gen) return;
    busy.value = false;
    len = 0;
    if (!r.ok) {
      // the engine could not answer: filter the previews we have rather than show nothing
      error.value = r.error.message;
      scan(0);
      publish();
      return;
    }
    const idx = r.value.indexes;
    if (buf.length < idx.length) buf = new Uint32Array(idx.length + 1024);
    const t = messages.table;
    if (t.length > 0 && t.index[0] === 0 && t.index[t.length - 1] === t.length - 1) {
      // rows are the session's messages 0..n-1 in order (the usual case): a message's index
      // is its position, so the answer is copied in one go (sorted: cut at `covered`)
      let n = idx.length;
      while (n > 0 && idx[n - 1] >= covered) n--;
      buf.set(idx.subarray(0, n), 0);
      len = n;
    } else {
      for (let i = 0; i < idx.length; i++) {
        const p = messages.positionOfIndex(idx[i]);
        if (p >= 0 && p < covered) push(p);
      }
    }
    scan(covered);
    publish();
  }

  /**
   * Leading-edge debounce: a change is answered at once when nothing is pending; changes that
   * come while a query is still running or waiting are coalesced into one trailing query
   * `delay` ms after the last of them (typing into a million-row filter sends one query for
   * the first key and one for the burst, not one per key).
   */
  function scheduleApply(delay = DEBOUNCE_MS): void {
    const pending = debounceTimer !== null;
    if (debounceTimer) clearTimeout(debounceTimer);
    debounceTimer = null;
    if (delay <= 0 || (!pending && !busy.value)) {
      void apply();
      return;
    }
    debounceTimer = setTimeout(() => {
      debounceTimer = null;
      void apply();
    }, delay);
  }

  /** Called by the feed after rows [from, end) were appended. */
  function onRowsAppended(from: number): void {
    if (!predicate || error.value) return;
    scan(from);
    publish();
    const needsEngine = mode.value === 'engine' || !!text.value || messages.count > localLimit.value || isAppQuery(query.value);
    if (needsEngine && !requeryTimer && !busy.value) {
      requeryTimer = setTimeout(() => {
        requeryTimer = null;
        void apply();
      }, REQUERY_MS);
    }
  }

  function clear(): void {
    text.value = '';
    regex.value = false;
    dir.value = '';
    opcodes.value = [];
    conn.value = null;
    findingsOnly.value = false;
    app.value = {};
  }

  /** New session: connection ids no longer mean anything; the rest of the query stays. */
  function reset(): void {
    gen++;
    if (requeryTimer) clearTimeout(requeryTimer);
    requeryTimer = null;
    conn.value = null;
    len = 0;
    busy.value = false;
    positions.value = active.value ? buf.subarray(0, 0) : null;
  }

  function toggleOpcode(op: number): void {
    const s = new Set(opcodes.value);
    if (s.has(op)) s.delete(op);
    else s.add(op);
    opcodes.value = Array.from(s).sort((a, b) => a - b);
  }

  watch(query, () => scheduleApply(text.value ? DEBOUNCE_MS : 0));

  return {
    text,
    regex,
    dir,
    opcodes,
    conn,
    findingsOnly,
    app,
    localLimit,
    positions,
    mode,
    error,
    busy,
    query,
    active,
    shown,
    apply,
    onRowsAppended,
    clear,
    reset,
    toggleOpcode,
  };
});
