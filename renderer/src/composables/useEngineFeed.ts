/**
 * The one place the renderer subscribes to engine pushes. Call once from the root component:
 * it subscribes to batch/progress/captureStatus/session/error, routes each into the stores,
 * asks for the current session, and unsubscribes when the calling scope ends.
 *
 * Session rule: a session event or a batch with a new session id resets every store; a batch
 * for an older session is dropped (it was in flight when the user opened something else).
 *
 * Time-sliced ingestion: batches are taken in arrival order through a queue, and one task
 * appends at most INGEST_SLICE_ROWS rows of row blocks; when a block has more left, the rest
 * goes in the next task (lib/next-task.ts), so the page renders and answers input between
 * slices however large a block the engine sends. A batch's connections and handshakes go in
 * before its rows, its findings, totals and the filter's update after its last row, so every
 * store sees batches whole and in order. A batch that fits the slice left in the task is
 * taken at once (the first screen of a load, live batches). Memory: the queue holds batches
 * already received (the socket's buffers held them before), each until its last row is in.
 */
import { onScopeDispose } from 'vue';
import type { Batch, SessionInfo } from '../../../shared/api';
import { nextTask } from '../lib/next-task';
import type { PreparedBlock, RowTable } from '../lib/row-table';
import { useApi } from '../api/index';
import { useCaptureStore } from '../stores/capture';
import { useConnectionsStore } from '../stores/connections';
import { useFiltersStore } from '../stores/filters';
import { useFindingsStore } from '../stores/findings';
import { useMessagesStore } from '../stores/messages';
import { useSelectionStore } from '../stores/selection';

/**
 * Most rows of row blocks appended in one task. Appending a row costs ~0.1-0.2 us of a quiet
 * machine (column copies and its flag bits; its preview stays in the block's string), so a
 * slice is 1-2 ms of the page's time, small enough to stay short when the machine is so busy
 * that the page gets a fraction of a core: the engine's batches (at most 20,000 rows,
 * engine/store/batches.ts) go in over three tasks, a block of any size in tasks of this size.
 */
export const INGEST_SLICE_ROWS = 8_192;

/** A batch being ingested: its row block prepared, and the next row of it to append. */
interface Ingest {
  b: Batch;
  started: boolean;
  rows: PreparedBlock | null;
  at: number;
  /** the table's length before the batch's first row */
  from: number;
  /** the table the batch went into (a session reset replaces it) */
  table: RowTable | null;
}

export function useEngineFeed(): { ready: Promise<void> } {
  const api = useApi();
  const capture = useCaptureStore();
  const connections = useConnectionsStore();
  const messages = useMessagesStore();
  const findings = useFindingsStore();
  const filters = useFiltersStore();
  const selection = useSelectionStore();

  function resetSessionData(): void {
    messages.reset();
    findings.reset();
    connections.reset();
    filters.reset();
    selection.reset();
  }

  function onSession(s: SessionInfo): void {
    if (capture.setSession(s)) {
      resetSessionData();
      if (s.kind === 'file') void capture.loadRecent();
    }
  }

  /** Starts a batch: false when it belongs to an older session (dropped). */
  function begin(q: Ingest): boolean {
    const b = q.b;
    const current = capture.session.id;
    if (b.session < current) return false;
    if (b.session > current) {
      capture.setSession({ ...capture.session, id: b.session });
      resetSessionData();
    }
    connections.upsert(b.connections);
    connections.addHandshakes(b.handshakes);
    q.from = messages.append(b.messages);
    q.table = messages.table;
    if (b.rows && b.rows.count > 0) {
      const p = messages.prepareBlock(b.rows);
      q.rows = p.rows;
      q.at = p.at;
    }
    q.started = true;
    return true;
  }

  function finish(q: Ingest): void {
    const b = q.b;
    findings.append(b.findings);
    messages.totals = b.totals;
    if (b.messages.length || b.rows?.count) filters.onRowsAppended(q.from);
  }

  const queue: Ingest[] = [];
  /** a pump is waiting for its next task */
  let waiting = false;
  let disposed = false;

  /** Ingests queued batches until INGEST_SLICE_ROWS rows went in, then continues in the next task. */
  function pump(): void {
    waiting = false;
    let room = INGEST_SLICE_ROWS;
    while (queue.length > 0 && !disposed) {
      const q = queue[0];
      let ok: boolean;
      try {
        ok = q.started || begin(q);
      } catch (e) {
        // a malformed row block: that batch is lost, not the ones queued behind it
        console.error('wsscope: a batch could not be read', e);
        ok = false;
      }
      if (!ok) {
        queue.shift();
        continue;
      }
      const rows = q.rows;
      if (rows && q.at < rows.cols.count) {
        // a session reset (a session event) while the batch was under way: its rows are gone
        if (q.table !== messages.table) {
          queue.shift();
          continue;
        }
        if (room === 0) break;
        const to = Math.min(rows.cols.count, q.at + room);
        messages.appendSlice(rows, q.at, to, q.b.totals.messages);
        room -= to - q.at;
        q.at = to;
        if (q.at < rows.cols.count) break;
      }
      queue.shift();
      finish(q);
    }
    if (queue.length > 0 && !disposed) {
      waiting = true;
      nextTask(pump);
    }
  }

  function onBatch(b: Batch): void {
    queue.push({ b, started: false, rows: null, at: 0, from: 0, table: null });
    if (!waiting) pump();
  }

  const offs = [
    api.onBatch(onBatch),
    api.onProgress((p) => {
      capture.progress = p;
    }),
    api.onCaptureStatus((s) => {
      if (s.state === 'running' && capture.status.state !== 'running') messages.follow = true;
      capture.status = s;
      if (s.error) capture.pushError(s.error);
    }),
    api.onSession(onSession),
    api.onError((e) => capture.pushError(e)),
  ];
  onScopeDispose(() => {
    disposed = true;
    queue.length = 0;
    for (const off of offs) off();
  });

  const ready = (async () => {
    // Batches are pushed once, to whoever listens: a page that connects after a file was
    // opened or a capture started (`wsscope serve FILE`, a reload, a second tab) asks for
    // the session again from its first row; pages that have the rows ignore the repeats.
    // Both calls go out together, a round trip less to the first row: a replay without a
    // session does nothing, and rows that come before the session's answer switch to their
    // session themselves (begin).
    const [r] = await Promise.all([api.currentSession(), api.replay()]);
    if (r.ok) onSession(r.value);
    await Promise.all([capture.loadInterfaces(), capture.loadRecent()]);
  })();
  return { ready };
}
