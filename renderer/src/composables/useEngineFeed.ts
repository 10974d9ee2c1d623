/**
 * The one place the renderer subscribes to engine pushes. Call once from the root component:
 * it subscribes to batch/progress/captureStatus/session/error, routes each into the stores,
 * asks for the current session, and unsubscribes when the calling scope ends.
 *
 * Session rule: a session event or a batch with a new session id resets every store; a batch
 * for an older session is dropped (it was in flight when the user opened something else).
 */
import { onScopeDispose } from 'vue';
import type { Batch, SessionInfo } from '../../../shared/api';
import { useApi } from '../api/index';
import { useCaptureStore } from '../stores/capture';
import { useConnectionsStore } from '../stores/connections';
import { useFiltersStore } from '../stores/filters';
import { useFindingsStore } from '../stores/findings';
import { useMessagesStore } from '../stores/messages';
import { useSelectionStore } from '../stores/selection';

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

  function onBatch(b: Batch): void {
    const current = capture.session.id;
    if (b.session < current) return;
    if (b.session > current) {
      capture.setSession({ ...capture.session, id: b.session });
      resetSessionData();
    }
    connections.upsert(b.connections);
    connections.addHandshakes(b.handshakes);
    const from = messages.append(b.messages);
    if (b.rows) messages.appendBlock(b.rows, b.totals.messages);
    findings.append(b.findings);
    messages.totals = b.totals;
    if (b.messages.length || b.rows?.count) filters.onRowsAppended(from);
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
    for (const off of offs) off();
  });

  const ready = (async () => {
    const r = await api.currentSession();
    if (r.ok) {
      onSession(r.value);
      // Batches are pushed once, to whoever listens: a page that connects after a file was
      // opened or a capture started (`wsscope serve FILE`, a reload, a second tab) asks for
      // the session again from its first row; pages that have the rows ignore the repeats.
      if (r.value.kind !== 'none') await api.replay();
    }
    await Promise.all([capture.loadInterfaces(), capture.loadRecent()]);
  })();
  return { ready };
}
