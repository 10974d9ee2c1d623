/**
 * Messages between an engine host process (engine/service/host.ts) and its client
 * (engine/service/client.ts). They travel by structured clone (Electron utilityProcess
 * MessagePort, or Node's IPC channel with `serialization: 'advanced'`), so typed arrays
 * survive as they are. Plain data only.
 *
 *   client -> host: {t:'call', id, name, args} | {t:'shutdown'} | {t:'ping', id}
 *   host -> client: {t:'ready', pid, scratch?} | {t:'result', id, result} | {t:'push', name, payload} | {t:'pong', id}
 *
 * `ping` is the client's watchdog (./client.ts): the host answers `pong` from its message
 * handler, so an answer proves its event loop still turns.
 *
 * `scratch` is the directory the host made for uploads and spill files: it removes it when
 * it shuts down, and when it dies instead the client does (nothing else would).
 */
import type { PushName, Result } from '../../shared/api';

export type ToHost = { t: 'call'; id: number; name: string; args: unknown[] } | { t: 'shutdown' } | { t: 'ping'; id: number };

export type FromHost =
  | { t: 'ready'; pid: number; scratch?: string }
  | { t: 'result'; id: number; result: Result<unknown> }
  | { t: 'push'; name: PushName; payload: unknown }
  | { t: 'pong'; id: number };

export function isFromHost(m: unknown): m is FromHost {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { t?: unknown }).t;
  return t === 'ready' || t === 'result' || t === 'push' || t === 'pong';
}

export function isToHost(m: unknown): m is ToHost {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as { t?: unknown; id?: unknown; name?: unknown; args?: unknown };
  if (o.t === 'shutdown') return true;
  if (o.t === 'ping') return typeof o.id === 'number';
  return o.t === 'call' && typeof o.id === 'number' && typeof o.name === 'string' && Array.isArray(o.args);
}
