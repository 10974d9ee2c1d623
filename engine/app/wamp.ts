/**
 * WAMP v2 over WebSocket, JSON serialization (`wamp.2.json`; the WAMP specification, "Message
 * Definitions"): every message is a JSON array `[CODE, ...]`. Items: `type` the message name
 * (`HELLO`, `WELCOME`, `CALL`, `RESULT`, `SUBSCRIBE`, `EVENT`, ...), `requestId`, and by type
 * `realm`, `session`, `procedure`, `topic`, `subscription`, `registration`, `publication`,
 * `args`, `error`, `reason`.
 *
 * Correlation by request id, per requester and request type: HELLO -> WELCOME | ABORT,
 * CALL -> RESULT (progressive results keep it open), REGISTER -> REGISTERED, UNREGISTER ->
 * UNREGISTERED, SUBSCRIBE -> SUBSCRIBED, UNSUBSCRIBE -> UNSUBSCRIBED, PUBLISH with
 * `acknowledge` -> PUBLISHED, INVOCATION -> YIELD; ERROR answers the request its type and id
 * name. `wamp.2.msgpack` (binary) is not decoded.
 *
 * Memory: the pending table (correlate.ts).
 */
import type { AppPacket, AppValue, Direction, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { isObject, messageText, other, parseJson, type AppProtocol } from './decoder';

const NAMES: Record<number, string> = {
  1: 'HELLO',
  2: 'WELCOME',
  3: 'ABORT',
  4: 'CHALLENGE',
  5: 'AUTHENTICATE',
  6: 'GOODBYE',
  8: 'ERROR',
  16: 'PUBLISH',
  17: 'PUBLISHED',
  32: 'SUBSCRIBE',
  33: 'SUBSCRIBED',
  34: 'UNSUBSCRIBE',
  35: 'UNSUBSCRIBED',
  36: 'EVENT',
  48: 'CALL',
  49: 'CANCEL',
  50: 'RESULT',
  64: 'REGISTER',
  65: 'REGISTERED',
  66: 'UNREGISTER',
  67: 'UNREGISTERED',
  68: 'INVOCATION',
  69: 'INTERRUPT',
  70: 'YIELD',
};
/** reply code -> the request code it answers */
const ANSWERS: Record<number, number> = { 17: 16, 33: 32, 35: 34, 50: 48, 65: 64, 67: 66, 70: 68 };

class WampDecoder extends PairingDecoder {
  message(m: MessageEvent): AppPacket[] {
    if (m.opcode !== 1) return [];
    const text = messageText(m, this.ctx.limits);
    if (text === null) return [];
    const v = parseJson(text);
    if (!Array.isArray(v) || typeof v[0] !== 'number' || NAMES[v[0]] === undefined) {
      this.ctx.finding('subprotocol-malformed', m, 'WAMP message that is not an array starting with a known message code.');
      return [];
    }
    const code = v[0];
    const p: AppPacket = { protocol: 'wamp', type: NAMES[code] };
    const str = (k: number, name: string): void => {
      if (typeof v[k] === 'string') p[name] = v[k] as string;
    };
    const num = (k: number, name: string): void => {
      if (typeof v[k] === 'number') p[name] = v[k] as number;
    };
    const args = (k: number): void => {
      if (Array.isArray(v[k])) p.args = v[k] as AppValue[];
    };
    const dir = m.dir;
    switch (code) {
      case 1:
        str(1, 'realm');
        this.pending.open(`${dir}|1|`, m, `HELLO ${String(p.realm ?? '')}`);
        break;
      case 2:
      case 3:
        if (code === 2) num(1, 'session');
        else str(2, 'reason');
        this.pending.reply(`${other(dir)}|1|`, m, p, false, true);
        break;
      case 6:
        str(2, 'reason');
        break;
      case 8: {
        num(2, 'requestId');
        str(4, 'error');
        args(5);
        const of = typeof v[1] === 'number' ? v[1] : -1;
        if (NAMES[of] !== undefined) p.requestType = NAMES[of];
        const label = this.pending.reply(`${other(dir)}|${of}|${String(p.requestId)}`, m, p);
        if (label) p.request = label;
        break;
      }
      case 16:
      case 32:
      case 48:
      case 64: {
        num(1, 'requestId');
        const what = code === 16 || code === 32 ? 'topic' : 'procedure';
        str(3, what);
        if (code === 16 || code === 48) args(4);
        // PUBLISH is acknowledged only when asked (Options.acknowledge)
        if (code !== 16 || (isObject(v[2]) && v[2].acknowledge === true)) this.open(dir, code, m, p, `${p.type} ${String(p[what] ?? '')}`);
        break;
      }
      case 34:
      case 66:
        num(1, 'requestId');
        num(2, code === 34 ? 'subscription' : 'registration');
        this.open(dir, code, m, p, p.type);
        break;
      case 68:
        num(1, 'requestId');
        num(2, 'registration');
        args(4);
        this.open(dir, code, m, p, 'INVOCATION');
        break;
      case 36:
        num(1, 'subscription');
        num(2, 'publication');
        args(4);
        break;
      default: {
        const asked = ANSWERS[code];
        if (asked === undefined) break;
        num(1, 'requestId');
        if (code === 17) num(2, 'publication');
        if (code === 33) num(2, 'subscription');
        if (code === 65) num(2, 'registration');
        if (code === 50 || code === 70) args(3);
        // RESULT with Details.progress is one of several (progressive call results)
        const more = code === 50 && isObject(v[2]) && v[2].progress === true;
        const label = this.pending.reply(`${other(dir)}|${asked}|${String(p.requestId)}`, m, p, more);
        if (label) p.request = label;
      }
    }
    return [p];
  }

  private open(dir: Direction, code: number, m: MessageEvent, p: AppPacket, label: string): void {
    if (typeof p.requestId === 'number') this.pending.open(`${dir}|${code}|${p.requestId}`, m, label);
  }

}

export const wampProtocol: AppProtocol = {
  id: 'wamp',
  subprotocols: ['wamp.2.json'],
  sniff(m, limits) {
    // the client's HELLO: [1, "realm", {...}]
    if (m.dir !== 'client' || m.opcode !== 1 || m.data.length > 64 << 10 || m.data[0] !== 0x5b) return false;
    const text = messageText(m, limits);
    const v = text === null ? undefined : parseJson(text);
    return Array.isArray(v) && v.length === 3 && v[0] === 1 && typeof v[1] === 'string' && isObject(v[2]) && isObject(v[2].roles);
  },
  create: (ctx) => new WampDecoder(ctx, 'WAMP request'),
};
