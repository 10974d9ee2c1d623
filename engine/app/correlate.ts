/**
 * Request -> reply correlation for one connection's decoder: a bounded table of pending
 * requests keyed by what the protocol pairs on (JSON-RPC id, Socket.IO namespace + ack id,
 * MQTT packet id, GraphQL operation id), each key prefixed with the requester's direction
 * by the caller when both sides may ask.
 *
 * `open` records a request (a key already pending is a `subprotocol-duplicate-id`), `reply`
 * finds it and stamps the reply with `requestTs` and `latencyMs` (a key nobody used is a
 * `subprotocol-unknown-reply`), `finish` lists the requests never answered. Past
 * `limits.maxPending` entries the oldest is let go (one `limit-reached` per connection).
 *
 * Memory: one small record per pending request (times, packet number, a label); nothing of
 * the messages' bytes.
 */
import type { AppPacket, Direction, MessageEvent } from '../../shared/events';
import type { ChunkMeta } from '../types';
import type { AppContext, AppDecoder } from './decoder';

interface Request {
  ts: number;
  packet: number;
  dir: Direction;
  /** what the request was (method, event, topic), for the findings and for replies that name it */
  label: string;
  /** a reply was seen (kept open: GraphQL subscriptions reply many times) */
  answered: boolean;
}

export class Pending {
  private readonly table = new Map<string, Request>();
  private limitReported = false;

  constructor(
    private readonly ctx: AppContext,
    /** how the protocol names its requests in findings ("Socket.IO ack", "JSON-RPC request") */
    private readonly what: string,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** A request `m` sent under `key`. */
  open(key: string, m: MessageEvent, label: string): void {
    const t = this.table;
    if (t.has(key)) {
      this.ctx.finding('subprotocol-duplicate-id', m, `${this.what} ${JSON.stringify(label)} reuses id ${idOf(key)} while the request with that id is still pending.`);
      t.delete(key);
    } else if (t.size >= this.ctx.limits.maxPending) {
      const oldest = t.keys().next().value as string;
      t.delete(oldest);
      if (!this.limitReported) {
        this.limitReported = true;
        this.ctx.finding('limit-reached', m, `More than ${this.ctx.limits.maxPending} ${this.what}s pending on this connection; the oldest are no longer correlated.`);
      }
    }
    t.set(key, { ts: m.ts, packet: m.packet, dir: m.dir, label, answered: false });
  }

  /**
   * Reply `p` (in message `m`) to the request under `key`: stamps `requestTs` and `latencyMs`
   * and answers the request's label. `keep`: the request stays open for more replies.
   * `quiet`: an unknown key is not a finding (the protocol allows it); nor is it when the
   * decoder did not see the conversation from its start.
   */
  reply(key: string, m: MessageEvent, p: AppPacket, keep = false, quiet = false): string | undefined {
    const r = this.table.get(key);
    if (r === undefined) {
      if (!quiet && this.ctx.fromStart) this.ctx.finding('subprotocol-unknown-reply', m, `${this.what} reply ${p.type} with id ${idOf(key)} answers no pending request.`);
      return undefined;
    }
    p.requestTs = r.ts;
    p.latencyMs = Math.round((m.ts - r.ts) * 1e6) / 1e3;
    if (keep) r.answered = true;
    else this.table.delete(key);
    return r.label;
  }

  /** the request under `key` is over without a reply (cancelled): forget it */
  drop(key: string): string | undefined {
    const r = this.table.get(key);
    this.table.delete(key);
    return r?.label;
  }

  has(key: string): boolean {
    return this.table.has(key);
  }

  /** the connection is over: every request never answered is a finding */
  finish(meta: ChunkMeta): void {
    for (const [key, r] of this.table) {
      if (r.answered) continue;
      this.ctx.endFinding('subprotocol-unanswered', r.dir, meta, `${this.what} ${JSON.stringify(r.label)} (id ${idOf(key)}, packet ${r.packet}) was never answered.`);
    }
    this.table.clear();
  }
}

/**
 * The base of a decoder that pairs requests with replies: its context, its pending table, and
 * the end of the connection listing what was never answered (a decoder with more to report at
 * the end overrides `finish` and calls this one).
 */
export abstract class PairingDecoder implements AppDecoder {
  protected readonly pending: Pending;

  constructor(
    protected readonly ctx: AppContext,
    /** how findings name its requests ("JSON-RPC request") */
    what: string,
  ) {
    this.pending = new Pending(ctx, what);
  }

  abstract message(m: MessageEvent): AppPacket[];

  finish(meta: ChunkMeta): void {
    this.pending.finish(meta);
  }
}

/** the id part of a key ("client|/|3" -> "3") */
function idOf(key: string): string {
  const bar = key.lastIndexOf('|');
  return bar < 0 ? key : key.slice(bar + 1);
}
