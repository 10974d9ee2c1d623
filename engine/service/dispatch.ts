/**
 * The call dispatcher: a map from call name to handler, typed against the contract
 * (shared/api.ts), and `dispatch`, which runs one call that arrived from another process.
 *
 * `CallHandlers` has one handler per name of `CALLS`, taking that call's arguments and
 * answering its Result: a handler that is missing, extra or of the wrong type does not
 * compile. `dispatch` checks the name (isCallName), the argument count (checkArity) and the
 * values (CALL_ARGS, engine/service/validate.ts), answers `bad-request` when any is wrong,
 * and turns whatever a handler throws into an `internal` error: it never throws. With a
 * `signal`, the handler runs with it as its call's signal (./cancel.ts callSignal): aborting
 * it cancels that call's long work (a query, an export), which then answers `cancelled`.
 */
import { err, type CallArgs, type CallName, type CallResult, type Result } from '../../shared/api';
import { callSignal } from './cancel';
import { messageOf } from './errors';
import { CALL_ARGS, checkArity, isCallName } from './validate';

export type CallHandler<K extends CallName> = (...args: CallArgs<K>) => CallResult<K> | Promise<CallResult<K>>;

export type CallHandlers = { readonly [K in CallName]: CallHandler<K> };

/** Longest part of an unknown call name quoted back. */
const MAX_NAME_ECHO = 80;

export async function dispatch(handlers: CallHandlers, name: unknown, args: unknown, signal?: AbortSignal): Promise<Result<unknown>> {
  if (!isCallName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name).slice(0, MAX_NAME_ECHO) : `(a ${typeof name})`;
    return err('bad-request', `Unknown call ${shown}.`);
  }
  const a = checkArity(name, args);
  if (!a.ok) return err('bad-request', a.message);
  try {
    return await (signal ? callSignal.run(signal, () => run(handlers, name, a.value)) : run(handlers, name, a.value));
  } catch (e) {
    return err('internal', `wsscope failed in ${name}: ${messageOf(e)}`);
  }
}

/** One call with its name as a type parameter, so its checker and handler agree (no casts). */
async function run<K extends CallName>(handlers: CallHandlers, name: K, args: readonly unknown[]): Promise<Result<unknown>> {
  const checked = CALL_ARGS[name](args);
  if (!checked.ok) return err('bad-request', checked.message);
  return handlers[name](...checked.value);
}
