/**
 * The read calls of the contract (message detail, handshake, connection stats, message
 * query) over the current session's store, as Results: an index or connection the store
 * does not hold is `not-found`, no store at all is `no-capture` (a query then matches
 * nothing). Arguments arrive checked (engine/service/validate.ts). Pure functions of the
 * store: nothing is kept. A query is paced (SessionStore.queryPaced: other calls are served
 * while it scans) and answers `cancelled` once its signal aborts.
 */
import { err, ok, type ConnStats, type MessageDetail, type MessageQuery, type Result } from '../../shared/api';
import type { HandshakeEvent } from '../../shared/events';
import type { SessionStore } from '../store/session-store';
import { isCancel } from './cancel';
import { nothingLoaded } from './errors';

export function messageDetail(store: SessionStore | null, index: number): Result<MessageDetail> {
  if (!store) return nothingLoaded();
  const d = store.detail(index);
  return d ? ok(d) : err('not-found', `There is no message ${index} in this session.`);
}

export function handshake(store: SessionStore | null, conn: number): Result<HandshakeEvent | null> {
  if (!store) return nothingLoaded();
  if (!store.hasConnection(conn)) return err('not-found', `There is no connection ${conn} in this session.`);
  return ok(store.handshake(conn));
}

export function connStats(store: SessionStore | null, conn: number): Result<ConnStats> {
  if (!store) return nothingLoaded();
  const s = store.stats(conn);
  return s ? ok(s) : err('not-found', `There is no connection ${conn} in this session.`);
}

export async function queryMessages(store: SessionStore | null, q: MessageQuery, signal?: AbortSignal): Promise<Result<{ indexes: Uint32Array; total: number }>> {
  if (!store) return ok({ indexes: new Uint32Array(0), total: 0 });
  try {
    const indexes = await store.queryPaced(q, signal);
    return ok({ indexes, total: store.messageCount });
  } catch (e) {
    if (signal && isCancel(e, signal)) return err('cancelled', 'The query was cancelled.');
    throw e;
  }
}
