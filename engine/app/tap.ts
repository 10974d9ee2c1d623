/**
 * Where subprotocol decoding meets the WebSocket layer: picks one connection's decoder and
 * taps the layer's event sink so every `message` event gets its `app` packets before it goes
 * on.
 *
 *   MessageAssembler -> shared.emit (= the tap while it is on) -> decoder -> ev.app -> sink
 *
 * Choice, per connection: `--decode CONN=ID` (`AppOptions.decode`; 'none' turns decoding
 * off), else the negotiated `Sec-WebSocket-Protocol`, else the upgrade's URL, else sniffing:
 * the first `SNIFF_MESSAGES` data messages are shown to each protocol's sniffer in registry
 * order and the first yes wins (that message is the first one decoded). A connection nothing
 * matches gets no tap at all; one whose sniffing comes to nothing gets its sink back, so the
 * plain path costs nothing once the first few messages are past.
 *
 * On a connection with a decoder every message event carries `app` (empty for control frames
 * and for messages that complete no packet). Findings a decoder reports while it decodes a
 * message are emitted after that message, as the assembler does with its own.
 *
 * Memory: the decoder's state (bounded by `AppLimits`); a list of findings held during one
 * message.
 */
import type { Direction, EngineEvent, EventSink, MessageEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import type { ChunkMeta } from '../types';
import { DEFAULT_APP_LIMITS, type AppContext, type AppDecoder, type AppHints, type AppLimits, type AppOptions, type AppProtocol } from './decoder';
import { defaultAppRegistry } from './registry';

/** data messages of a connection shown to the sniffers before giving up */
export const SNIFF_MESSAGES = 4;

type Finding = (id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string, frame?: number) => void;

/** What the tap hooks into: the layer's shared state, whose `emit` the assembler calls. */
export interface TapTarget {
  emit: EventSink;
}

interface Held {
  id: FindingId;
  m: MessageEvent;
  text: string;
}

export class AppTap {
  private decoder: AppDecoder | null = null;
  private sniffLeft = SNIFF_MESSAGES;
  private readonly ctx: AppContext & { fromStart: boolean };
  private readonly held: Held[] = [];
  /** the sink the tap passes events on to (the layer's own) */
  private readonly next: EventSink;

  constructor(
    private readonly target: TapTarget,
    conn: number,
    finding: Finding,
    limits: AppLimits,
    private readonly hints: AppHints,
    /** the protocol chosen up front; null: sniff among `candidates` */
    chosen: AppProtocol | null,
    private readonly candidates: readonly AppProtocol[],
  ) {
    this.next = target.emit;
    const ctx = {
      conn,
      limits,
      fromStart: hints.handshake,
      finding: (id: FindingId, m: MessageEvent, text: string) => this.held.push({ id, m, text }),
      endFinding: (id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string) => finding(id, dir, meta, text),
    };
    this.ctx = ctx;
    const flush = (): void => {
      for (const h of this.held) finding(h.id, h.m.dir, { ts: h.m.ts, packet: h.m.packet }, h.text, h.m.frames.length ? h.m.frames[h.m.frames.length - 1] : undefined);
      this.held.length = 0;
    };
    if (chosen !== null) this.use(chosen);
    target.emit = (ev: EngineEvent): void => {
      if (ev.type !== 'message') return this.next(ev);
      this.message(ev);
      this.next(ev);
      if (this.held.length > 0) flush();
    };
  }

  /** id of the protocol decoding this connection, null while none is */
  protocol: string | null = null;

  private message(m: MessageEvent): void {
    const data = m.opcode === 1 || m.opcode === 2;
    if (this.decoder === null) {
      if (!data) return;
      const p = this.sniff(m);
      if (p === null) {
        // nothing recognised in the first messages: untap, the plain path costs nothing again
        if (--this.sniffLeft === 0) this.target.emit = this.next;
        return;
      }
      // messages went by undecoded: requests they carried are unknown to the decoder
      if (this.sniffLeft < SNIFF_MESSAGES) this.ctx.fromStart = false;
      this.use(p);
    }
    m.app = data ? (this.decoder as AppDecoder).message(m) : [];
  }

  private use(p: AppProtocol): void {
    this.protocol = p.id;
    this.decoder = p.create(this.ctx, this.hints);
  }

  private sniff(m: MessageEvent): AppProtocol | null {
    for (const p of this.candidates) if (p.sniff?.(m, this.ctx.limits)) return p;
    return null;
  }

  /** the connection is over: the decoder lists what never completed or was never answered */
  finish(meta: ChunkMeta): void {
    this.decoder?.finish(meta);
  }
}

/**
 * Put a decoder (or a sniffing tap) on a WebSocket connection, or nothing: null when decoding
 * is off for it, or no protocol could apply.
 */
export function attachApp(target: TapTarget, conn: number, finding: Finding, opts: AppOptions | undefined, hints: AppHints): AppTap | null {
  const reg = opts?.protocols ?? defaultAppRegistry;
  const limits: AppLimits = opts?.limits ? { ...DEFAULT_APP_LIMITS, ...opts.limits } : DEFAULT_APP_LIMITS;
  const forced = opts?.decode?.[conn];
  if (forced === 'none') return null;
  const all = reg.list();
  let chosen: AppProtocol | null = null;
  if (forced !== undefined) chosen = reg.get(forced) ?? null;
  if (chosen === null && hints.protocol !== '') {
    const want = hints.protocol.toLowerCase();
    chosen = all.find((p) => p.subprotocols.includes(want)) ?? null;
  }
  if (chosen === null && hints.path !== '') chosen = all.find((p) => p.path?.(hints.path) === true) ?? null;
  if (chosen === null) {
    if (opts?.sniff === false) return null;
    const sniffers = all.filter((p) => p.sniff !== undefined);
    if (sniffers.length === 0) return null;
    return new AppTap(target, conn, finding, limits, hints, null, sniffers);
  }
  return new AppTap(target, conn, finding, limits, hints, chosen, []);
}
