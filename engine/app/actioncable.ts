/**
 * Rails Action Cable over WebSocket (`actioncable-v1-json`; actioncable's connection and
 * subscription code, the protocol has no written spec): one JSON object per text message.
 * The client sends commands `{"command":"subscribe"|"unsubscribe"|"message","identifier":"<JSON>",
 * "data":"<JSON>"}`; the server sends `{"type":"welcome"|"ping"|"confirm_subscription"|
 * "reject_subscription"|"disconnect",...}` and broadcasts `{"identifier":...,"message":...}`.
 *
 * Items: `type` the command, the server's type, or `message` for a broadcast; `identifier`,
 * `channel` (from the identifier), `action` (from a message command's data), `message`
 * (broadcasts), `reason` (disconnect). Correlation: subscribe -> confirm_subscription or
 * reject_subscription with the same identifier.
 *
 * Memory: the pending table (correlate.ts).
 */
import type { AppPacket, AppValue, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { isObject, messageText, parseJson, type AppProtocol } from './decoder';

class ActionCableDecoder extends PairingDecoder {
  message(m: MessageEvent): AppPacket[] {
    const text = messageText(m, this.ctx.limits);
    if (text === null) return [];
    const v = parseJson(text);
    if (!isObject(v)) return this.bad(m, 'not a JSON object');
    const type = m.dir === 'client' ? v.command : (v.type ?? (v.identifier !== undefined && 'message' in v ? 'message' : undefined));
    if (typeof type !== 'string') return this.bad(m, m.dir === 'client' ? 'a command without "command"' : 'a message without "type" that is no broadcast');
    const p: AppPacket = { protocol: 'actioncable', type };
    const id = typeof v.identifier === 'string' ? v.identifier : undefined;
    if (id !== undefined) {
      p.identifier = id;
      const ident = parseJson(id);
      if (isObject(ident) && typeof ident.channel === 'string') p.channel = ident.channel;
    }
    if (typeof v.data === 'string') {
      const data = parseJson(v.data);
      if (isObject(data) && typeof data.action === 'string') p.action = data.action;
    }
    if (type === 'message' && m.dir === 'server') p.message = v.message as AppValue;
    if (typeof v.reason === 'string') p.reason = v.reason;
    if (id !== undefined) {
      if (type === 'subscribe') this.pending.open(`s|${id}`, m, String(p.channel ?? id));
      else if (type === 'confirm_subscription' || type === 'reject_subscription') this.pending.reply(`s|${id}`, m, p);
    }
    return [p];
  }

  private bad(m: MessageEvent, why: string): AppPacket[] {
    this.ctx.finding('subprotocol-malformed', m, `Malformed Action Cable message: ${why}.`);
    return [];
  }

}

export const actionCableProtocol: AppProtocol = {
  id: 'actioncable',
  subprotocols: ['actioncable-v1-json', 'actioncable-v1-ext-json'],
  sniff(m, limits) {
    // the server greets first: {"type":"welcome"}
    if (m.dir !== 'server' || m.opcode !== 1 || m.data.length > 256 || m.data[0] !== 0x7b) return false;
    const text = messageText(m, limits);
    const v = text === null ? undefined : parseJson(text);
    return isObject(v) && v.type === 'welcome';
  },
  create: (ctx) => new ActionCableDecoder(ctx, 'Action Cable subscription'),
};
