/**
 * A harness for the WebSocket layer: the opening handshake as text, and `run`, which feeds a
 * fresh TcpSession steps of bytes in arbitrary splits (with gaps) and collects its events by
 * type. The frames come from ./websocket.ts; the accept a response carries is computed there,
 * independently of the engine.
 */
import type { Direction, EngineEvent, MessageEvent } from '../../shared/events';
import { DEFAULT_SESSION_OPTIONS, TcpSession, type SessionOptions } from '../../engine/ws/session';
import { bytesOf } from './bytes';
import { byType, type EventsByType } from './events';
import { KEY, acceptFor } from './websocket';

/** An upgrade request as text; `extra` header lines go last, `null` leaves a header out. */
export function upgradeRequest(extra: string[] = [], opts: { key?: string | null; version?: string | null; origin?: boolean; path?: string } = {}): string {
  const lines = [`GET ${opts.path ?? '/chat'} HTTP/1.1`, 'Host: example.com', 'Upgrade: websocket', 'Connection: Upgrade'];
  if (opts.key !== null) lines.push(`Sec-WebSocket-Key: ${opts.key ?? KEY}`);
  if (opts.version !== null) lines.push(`Sec-WebSocket-Version: ${opts.version ?? '13'}`);
  if (opts.origin !== false) lines.push('Origin: http://example.com');
  return [...lines, ...extra, '', ''].join('\r\n');
}

/** A 101 answer as text, with the accept for `opts.key` (the RFC's sample key by default). */
export function upgradeResponse(extra: string[] = [], opts: { accept?: string | null; key?: string } = {}): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
  if (opts.accept !== null) lines.push(`Sec-WebSocket-Accept: ${opts.accept ?? acceptFor(opts.key ?? KEY)}`);
  return [...lines, ...extra, '', ''].join('\r\n');
}

export type Step = [Direction, Uint8Array | string] | [Direction, Uint8Array | string, number];

export interface Run extends EventsByType {
  events: EngineEvent[];
  session: TcpSession;
}

/**
 * Feed steps (direction, bytes[, skip]) to a fresh session, each step cut into pieces by
 * `split` (chunk sizes, cycled; 0 or empty = whole), then finish.
 */
export function run(steps: Step[], opts: Partial<SessionOptions> = {}, split: number[] = []): Run {
  const events: EngineEvent[] = [];
  const counters = { frames: 0, messages: 0 };
  const session = new TcpSession(1, (e) => events.push(e), counters, { ...DEFAULT_SESSION_OPTIONS, ...opts });
  let packet = 0;
  let k = 0;
  // one meta refilled for every chunk, as the pipeline does (engine/types.ts ChunkMeta): a
  // layer that keeps a meta without copying it shows a later chunk's packet number
  const meta = { ts: 0, packet: 0 };
  const at = (n: number): typeof meta => {
    meta.ts = meta.packet = n;
    return meta;
  };
  for (const step of steps) {
    const bytes = bytesOf(step[1]);
    let skip = step[2] ?? 0;
    if (split.length === 0) {
      session.data(step[0], bytes, skip, at(++packet));
      continue;
    }
    let p = 0;
    while (p < bytes.length) {
      const size = Math.max(1, split[k++ % split.length]);
      session.data(step[0], bytes.subarray(p, p + size), skip, at(++packet));
      skip = 0;
      p += size;
    }
  }
  packet++;
  session.finish({ ts: packet, packet });
  if (session.lastError) throw session.lastError;
  return { events, session, ...byType(events) };
}

export const text = (m: MessageEvent): string => new TextDecoder().decode(m.data);

/** events without packet/ts (which depend on the split), for split-invariance checks */
export function normalise(events: EngineEvent[]): unknown[] {
  return events.map((e) => {
    const o: Record<string, unknown> = { ...e };
    delete o.ts;
    delete o.packet;
    delete o.firstPacket;
    if (o.data instanceof Uint8Array) o.data = Buffer.from(o.data).toString('hex');
    if (o.header instanceof Uint8Array) o.header = Buffer.from(o.header).toString('hex');
    if (o.wirePayload instanceof Uint8Array) o.wirePayload = Buffer.from(o.wirePayload).toString('hex');
    return o;
  });
}
