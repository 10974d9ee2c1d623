/**
 * Export replay: the events a SessionData holds, rebuilt in their original order from the
 * event log (what export.ts writes as NDJSON), and message events one connection at a time
 * (what export.ts writes as HAR). A replayed event gives the same `toWire` line
 * (engine/cli/json.ts) as the ingested one, payloads included; fields `toWire` does not write
 * may differ (a replayed finding names the message it was tied to).
 *
 * Memory: events are built one at a time as the generator is pulled; their payloads are fresh
 * copies re-read from the payload store (memory or spill file). Connection, handshake,
 * connection-end and summary events are the stored objects themselves: do not modify them.
 */
import type { ConnectionEndEvent, EngineEvent, FrameEvent, Http2RequestEvent, MessageEvent, SummaryEvent, TlsEvent } from '../../shared/events';
import { closeReason } from '../../shared/close';
import { frameFields } from './rows';
import { Ev, evWithRef, FRAME, MSG, type ConnRec, type SessionData } from './session-data';

/** Frame row `fr` as its event. */
function frameEvent(d: SessionData, fr: number): FrameEvent {
  const f = d.frames.cols;
  const flags = f.flags.get(fr);
  const ev: FrameEvent = {
    type: 'frame',
    conn: f.conn.get(fr),
    dir: flags & FRAME.SERVER ? 'server' : 'client',
    ...frameFields(d, fr),
    headerLength: d.frameHeaderLen(fr),
    packet: f.packet.get(fr),
    firstPacket: d.frameFirstPacket(fr),
  };
  if (flags & FRAME.HAS_WIRE) ev.wirePayload = d.payloads.read(d.frameOffset(fr), d.frameKept(fr));
  return ev;
}

/** Message row `r` as its event. */
export function messageEvent(d: SessionData, r: number): MessageEvent {
  const m = d.messages.cols;
  const flags = m.flags.get(r);
  const data = d.payloads.read(d.messageOffset(r), d.messageKept(r));
  const ev: MessageEvent = {
    type: 'message',
    conn: m.conn.get(r),
    dir: flags & MSG.SERVER ? 'server' : 'client',
    ts: m.ts.get(r),
    index: d.messageIndex(r),
    opcode: flags & MSG.OPCODE,
    compressed: (flags & MSG.COMPRESSED) !== 0,
    length: d.messageLength(r),
    wireLength: d.messageWireLength(r),
    frames: d.messageFrames(r),
    packet: m.packet.get(r),
    data,
    truncated: (flags & MSG.TRUNCATED) !== 0,
    utf8Valid: (flags & MSG.UTF8) !== 0,
  };
  if (flags & MSG.HAS_CODE) {
    ev.code = m.code.get(r);
    ev.reason = closeReason(data);
  }
  appOf(d, r, ev);
  return ev;
}

/**
 * The events in their original order, up to log row `end` (default: all, including any
 * ingested while the replay runs).
 */
export function* replayEvents(d: SessionData, end = Infinity): Generator<EngineEvent> {
  // the next row of each table (the log names its events by their order: session-data.ts)
  const next = new Array<number>(Object.keys(Ev).length).fill(0);
  let refs = 0;
  for (let i = 0; i < d.log.length && i < end; i++) {
    // read through the tables per event: ingesting while the replay is suspended may grow them
    const type = d.log.cols.type.get(i);
    const ref = evWithRef(type) ? d.logRefs.cols.ref.get(refs++) : next[type]++;
    switch (type) {
      case Ev.Connection:
        yield (d.conns.get(ref) as ConnRec).ev;
        break;
      case Ev.Handshake:
        yield d.handshakes[ref];
        break;
      case Ev.Frame:
        yield frameEvent(d, ref);
        break;
      case Ev.Message:
        yield messageEvent(d, ref);
        break;
      case Ev.Finding: {
        const { index: _index, ...rest } = d.findings[ref];
        yield { type: 'finding', ...rest };
        break;
      }
      case Ev.Datagram: {
        const g = d.datagrams.cols;
        yield { type: 'datagram', conn: g.conn.get(ref), dir: g.server.get(ref) ? 'server' : 'client', ts: g.ts.get(ref), length: g.length.get(ref), packet: g.packet.get(ref) };
        break;
      }
      case Ev.End:
        yield (d.conns.get(ref) as ConnRec).end as ConnectionEndEvent;
        break;
      case Ev.Summary:
        yield d.summary as SummaryEvent;
        break;
      case Ev.Tls:
      case Ev.H2Request:
        yield appEvent(d, type, ref);
        break;
      case Ev.Polling:
        yield d.app.polling[ref];
        break;
    }
  }
}

/** The `app` of message row `r`, as its event had it (absent on connections without a decoder). */
function appOf(d: SessionData, r: number, ev: MessageEvent): void {
  const app = d.app.packets(r);
  if (app !== undefined) ev.app = app;
}

/** A stored `tls` or `http2-request` event (the objects themselves: do not modify them). */
function appEvent(d: SessionData, type: number, ref: number): TlsEvent | Http2RequestEvent {
  return type === Ev.Tls ? (d.app.tls.get(ref) as TlsEvent) : d.app.h2Requests[ref];
}

/**
 * Message rows [0, end) grouped by connection, each in order: one pass over the rows, so an
 * export that walks connection by connection stays linear in the message count.
 */
export function messageRowsByConnection(d: SessionData, end = d.messages.length): Map<number, number[]> {
  const by = new Map<number, number[]>();
  const n = Math.min(end, d.messages.length);
  const conns = d.messages.cols.conn;
  for (let r = 0; r < n; r++) {
    const c = conns.get(r);
    const rows = by.get(c);
    if (rows) rows.push(r);
    else by.set(c, [r]);
  }
  return by;
}
