/**
 * Phoenix Channels over WebSocket (the `phoenix` JavaScript client's serializers,
 * phoenix/assets/js/phoenix/serializer.js): protocol 2.0.0 sends each message as a JSON array
 * `[join_ref, ref, topic, event, payload]`, or as a binary frame for binary payloads
 * (kind 0 push, 1 reply, 2 broadcast, with a header of field sizes); protocol 1.0.0 as a
 * JSON object `{topic, event, payload, ref}`.
 *
 * Items: `type` the event (`phx_join`, `phx_reply`, `phx_leave`, `phx_close`, `phx_error`,
 * `heartbeat`, or the application's own), `topic`, `ref`, `joinRef`; replies `status` and
 * `response`; other JSON messages `payload`; binary ones `payloadLength`.
 *
 * Correlation: a push with a ref is answered by the `phx_reply` with the same topic and ref
 * from the server (joins, leaves, heartbeats and application pushes alike).
 *
 * Memory: the pending table (correlate.ts).
 */
import type { AppPacket, AppValue, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { isObject, messageText, parseJson, type AppProtocol } from './decoder';
import { decodeUtf8Lossy } from '../ws/utf8';

interface Fields {
  joinRef: unknown;
  ref: unknown;
  topic: unknown;
  event: unknown;
  payload: unknown;
}

class PhoenixDecoder extends PairingDecoder {
  message(m: MessageEvent): AppPacket[] {
    if (m.opcode === 2) return this.binary(m);
    const text = messageText(m, this.ctx.limits);
    if (text === null) return [];
    const v = parseJson(text);
    let f: Fields;
    if (Array.isArray(v) && v.length === 5) f = { joinRef: v[0], ref: v[1], topic: v[2], event: v[3], payload: v[4] };
    else if (isObject(v) && 'event' in v) f = { joinRef: v.join_ref, ref: v.ref, topic: v.topic, event: v.event, payload: v.payload };
    else return this.bad(m, 'a message that is neither [join_ref, ref, topic, event, payload] nor {topic, event, payload, ref}');
    if (typeof f.topic !== 'string' || typeof f.event !== 'string') return this.bad(m, 'a message whose topic or event is not a string');
    const p = this.item(m, f.topic, f.event, f.ref, f.joinRef);
    if (f.event === 'phx_reply' && isObject(f.payload)) {
      if (typeof f.payload.status === 'string') p.status = f.payload.status;
      if (f.payload.response !== undefined) p.response = f.payload.response as AppValue;
    } else if (f.payload !== undefined) p.payload = f.payload as AppValue;
    return [p];
  }

  /** the v2 binary serializer: kind, then one size byte per field, the fields, the payload */
  private binary(m: MessageEvent): AppPacket[] {
    const b = m.data;
    const kind = b[0];
    const sizes = kind === 2 ? 2 : 4;
    if (b.length < 1 + sizes || kind > 2) return this.bad(m, `a binary message of kind ${kind} (0 push, 1 reply, 2 broadcast)`);
    const fields: string[] = [];
    let at = 1 + sizes;
    for (let k = 0; k < sizes; k++) {
      const n = b[1 + k];
      if (at + n > b.length) return this.bad(m, 'a binary message shorter than its header says');
      fields.push(decodeUtf8Lossy(b.subarray(at, at + n)));
      at += n;
    }
    const payloadLength = b.length - at;
    if (kind === 2) {
      const p = this.item(m, fields[0], fields[1], undefined, undefined);
      p.payloadLength = payloadLength;
      return [p];
    }
    // push: join_ref, ref, topic, event; reply: join_ref, ref, topic, status
    const p = this.item(m, fields[2], kind === 1 ? 'phx_reply' : fields[3], fields[1], fields[0]);
    if (kind === 1) p.status = fields[3];
    p.payloadLength = payloadLength;
    return [p];
  }

  private item(m: MessageEvent, topic: string, event: string, ref: unknown, joinRef: unknown): AppPacket {
    const p: AppPacket = { protocol: 'phoenix', type: event, topic };
    const r = typeof ref === 'string' || typeof ref === 'number' ? String(ref) : undefined;
    if (r !== undefined) p.ref = r;
    if (typeof joinRef === 'string' || typeof joinRef === 'number') p.joinRef = String(joinRef);
    if (r === undefined) return p;
    if (event === 'phx_reply') this.pending.reply(`${topic}|${r}`, m, p);
    else if (m.dir === 'client') this.pending.open(`${topic}|${r}`, m, `${event} ${topic}`);
    return p;
  }

  private bad(m: MessageEvent, why: string): AppPacket[] {
    this.ctx.finding('subprotocol-malformed', m, `Malformed Phoenix message: ${why}.`);
    return [];
  }

}

export const phoenixProtocol: AppProtocol = {
  id: 'phoenix',
  subprotocols: [],
  // the client connects to ENDPOINT/websocket?vsn=2.0.0 (Socket.endPointURL)
  path: (path) => /\/websocket\?(?:[^#]*&)?vsn=\d/.test(path),
  sniff(m, limits) {
    // the client's first push: a join or a heartbeat, in either serializer
    if (m.dir !== 'client' || m.opcode !== 1 || m.data.length > 64 << 10 || (m.data[0] !== 0x5b && m.data[0] !== 0x7b)) return false;
    const text = messageText(m, limits);
    if (text === null || !(text.includes('phx_join') || text.includes('heartbeat'))) return false;
    const v = parseJson(text);
    if (Array.isArray(v)) return v.length === 5 && typeof v[2] === 'string' && (v[3] === 'phx_join' || v[3] === 'heartbeat');
    return isObject(v) && typeof v.topic === 'string' && (v.event === 'phx_join' || v.event === 'heartbeat');
  },
  create: (ctx) => new PhoenixDecoder(ctx, 'Phoenix push'),
};
