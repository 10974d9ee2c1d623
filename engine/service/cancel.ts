/**
 * Cancelling long calls. Two ways in, one mechanism:
 *  - the `cancel(kind)` call of the contract (shared/api.ts CancelKind) stops every running
 *    call of that kind;
 *  - `dispatch(handlers, name, args, signal)` (./dispatch.ts) runs the handler with `signal`
 *    as the call's ambient signal (`callSignal`, an AsyncLocalStorage), so aborting it stops
 *    that one call, without every handler taking a signal argument.
 *
 * `Cancels.run(kind, work)` gives `work` one AbortSignal that fires on either, and forgets it
 * when the work settles. The work itself decides how it stops (a paced loop checks the signal
 * at each turn it yields: ../store/export.ts Pacer, ../store/session-store.ts queryPaced) and
 * rejects with the signal's reason; `isCancel` recognises that rejection so the part answers
 * `cancelled` instead of `internal`.
 *
 * Memory: one AbortController per running call, dropped when it settles.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CancelKind } from '../../shared/api';

/** The signal of the call being dispatched (none outside a dispatch, or when the caller gave none). */
export const callSignal = new AsyncLocalStorage<AbortSignal>();

/** The reason a `cancel` call aborts with. */
export class CancelledError extends Error {
  readonly code = 'cancelled';
}

/** true when `e` is the rejection of work stopped through `signal` */
export function isCancel(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (e === signal.reason || e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError'));
}

export class Cancels {
  private readonly running = new Map<CancelKind, Set<AbortController>>();

  /** Runs `work` with a signal that `cancel(kind)` or the dispatched call's own signal aborts. */
  async run<T>(kind: CancelKind, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    const outer = callSignal.getStore();
    const onOuter = (): void => ac.abort(new CancelledError(`The ${kind} was cancelled.`));
    if (outer?.aborted) onOuter();
    outer?.addEventListener('abort', onOuter, { once: true });
    let set = this.running.get(kind);
    if (!set) this.running.set(kind, (set = new Set()));
    set.add(ac);
    try {
      return await work(ac.signal);
    } finally {
      set.delete(ac);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  /** Aborts every running call of `kind`; returns how many there were. */
  cancel(kind: CancelKind): number {
    const set = this.running.get(kind);
    if (!set) return 0;
    const n = set.size;
    for (const ac of set) ac.abort(new CancelledError(`The ${kind} was cancelled.`));
    set.clear();
    return n;
  }
}
