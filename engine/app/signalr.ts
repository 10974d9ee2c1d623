/**
 * ASP.NET Core SignalR over WebSocket, JSON hub protocol (dotnet/aspnetcore
 * src/SignalR/docs/specs/HubProtocol.md): records are JSON objects each ended by the record
 * separator 0x1e; a message may carry several, and a record may continue in the next message,
 * so each direction's text is cut at 0x1e (what follows the last separator is held). The
 * first record each way is the handshake: `{"protocol":"json","version":1}` from the client,
 * `{}` (or `{"error":...}`) from the server.
 *
 * Items: `type` as the spec names the message (`Invocation`, `StreamItem`, `Completion`,
 * `StreamInvocation`, `CancelInvocation`, `Ping`, `Close`, `Ack`, `Sequence`), and
 * `HandshakeRequest`/`HandshakeResponse`; fields `target`, `invocationId`, `arguments`,
 * `error`, `hubProtocol` and `version` (handshake). Correlation: an Invocation or StreamInvocation with an invocationId ->
 * StreamItem* -> its Completion from the other side; HandshakeRequest -> HandshakeResponse.
 * The MessagePack hub protocol (binary) is not decoded: after a `messagepack` handshake
 * binary messages complete no item.
 *
 * Memory: per direction the text of a record not ended yet, at most `limits.maxStreamBytes`
 * characters; the pending table (correlate.ts).
 */
import type { AppPacket, AppValue, Direction, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { isObject, messageText, other, parseJson, type AppContext, type AppProtocol } from './decoder';

const RS = '\u001e';
const TYPES = ['', 'Invocation', 'StreamItem', 'Completion', 'StreamInvocation', 'CancelInvocation', 'Ping', 'Close', 'Ack', 'Sequence'];

class SignalRDecoder extends PairingDecoder {
  private readonly held: Record<Direction, string> = { client: '', server: '' };
  private readonly shook: Record<Direction, boolean> = { client: false, server: false };

  constructor(ctx: AppContext) {
    super(ctx, 'SignalR invocation');
  }

  message(m: MessageEvent): AppPacket[] {
    if (m.opcode !== 1) return [];
    const text = messageText(m, this.ctx.limits);
    if (text === null) {
      this.held[m.dir] = '';
      return [];
    }
    const all = this.held[m.dir] + text;
    const records = all.split(RS);
    const rest = records.pop() as string;
    if (rest.length > this.ctx.limits.maxStreamBytes) {
      this.ctx.finding('limit-reached', m, `A SignalR record has ${rest.length} characters without its 0x1e separator (limit ${this.ctx.limits.maxStreamBytes}); this direction's stream starts over.`);
      this.held[m.dir] = '';
    } else this.held[m.dir] = rest;
    const out: AppPacket[] = [];
    for (const r of records) {
      const p = this.record(m, r);
      if (p !== null) out.push(p);
    }
    return out;
  }

  private record(m: MessageEvent, r: string): AppPacket | null {
    const v = parseJson(r);
    if (!isObject(v)) {
      this.ctx.finding('subprotocol-malformed', m, 'SignalR record that is not a JSON object.');
      return null;
    }
    if (!this.shook[m.dir]) {
      this.shook[m.dir] = true;
      if (m.dir === 'client') {
        const p: AppPacket = { protocol: 'signalr', type: 'HandshakeRequest' };
        // `hubProtocol`: the item's own `protocol` is "signalr"
        if (typeof v.protocol === 'string') p.hubProtocol = v.protocol;
        if (typeof v.version === 'number') p.version = v.version;
        this.pending.open('client|handshake', m, 'handshake');
        return p;
      }
      const p: AppPacket = { protocol: 'signalr', type: 'HandshakeResponse' };
      if (typeof v.error === 'string') p.error = v.error;
      this.pending.reply('client|handshake', m, p, false, true);
      return p;
    }
    const t = typeof v.type === 'number' ? TYPES[v.type] : undefined;
    if (!t) {
      this.ctx.finding('subprotocol-malformed', m, `SignalR message type ${JSON.stringify(v.type) ?? 'missing'} is not one of 1-9.`);
      return null;
    }
    const p: AppPacket = { protocol: 'signalr', type: t };
    const target = typeof v.target === 'string' ? v.target : undefined;
    if (target !== undefined) p.target = target;
    const id = typeof v.invocationId === 'string' ? v.invocationId : undefined;
    if (id !== undefined) p.invocationId = id;
    if (Array.isArray(v.arguments)) p.arguments = v.arguments as AppValue[];
    if (typeof v.error === 'string') p.error = v.error;
    if ((t === 'Invocation' || t === 'StreamInvocation') && target === undefined) this.ctx.finding('subprotocol-malformed', m, `SignalR ${t} without a target.`);
    if ((t === 'StreamItem' || t === 'Completion' || t === 'StreamInvocation' || t === 'CancelInvocation') && id === undefined) this.ctx.finding('subprotocol-malformed', m, `SignalR ${t} without an invocationId.`);
    if (id !== undefined) {
      if (t === 'Invocation' || t === 'StreamInvocation') this.pending.open(`${m.dir}|${id}`, m, target ?? '');
      else if (t === 'StreamItem' || t === 'Completion') {
        const asked = this.pending.reply(`${other(m.dir)}|${id}`, m, p, t === 'StreamItem');
        if (asked) p.target = asked;
      } else if (t === 'CancelInvocation') this.pending.drop(`${m.dir}|${id}`);
    }
    return p;
  }

  override finish(meta: { ts: number; packet: number }): void {
    for (const dir of ['client', 'server'] as const) {
      if (this.held[dir] !== '') this.ctx.endFinding('subprotocol-incomplete', dir, meta, `${this.held[dir].length} characters of a SignalR record never got their 0x1e separator.`);
      this.held[dir] = '';
    }
    super.finish(meta);
  }
}

export const signalRProtocol: AppProtocol = {
  id: 'signalr',
  subprotocols: [],
  sniff(m, limits) {
    // the client's handshake: {"protocol":"json"|"messagepack","version":N} and 0x1e
    if (m.dir !== 'client' || m.opcode !== 1 || m.data.length > 1024 || m.data[m.data.length - 1] !== 0x1e) return false;
    const text = messageText(m, limits);
    const v = text === null ? undefined : parseJson(text.slice(0, -1));
    return isObject(v) && typeof v.protocol === 'string' && typeof v.version === 'number';
  },
  create: (ctx) => new SignalRDecoder(ctx),
};
