/**
 * JSON-RPC 2.0 over WebSocket (jsonrpc.org/specification): each text message is a request,
 * a notification, a response, an error response, or a batch (an array) of them; one item per
 * member, in order. Anything else that claims to be JSON-RPC is `invalid` (with a
 * `subprotocol-malformed` finding): not JSON, an empty batch, `jsonrpc` not "2.0", a member
 * that is neither a call nor a response.
 *
 * Correlation: a request's id (string or number) from one side is answered by the response
 * with the same id from the other side; the response carries the request's `method`. Responses
 * with a null id (the peer could not read the request's id, section 5) answer nothing.
 *
 * Memory: the pending table (correlate.ts): method names and times.
 */
import type { AppPacket, AppValue, Direction, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { isObject, messageText, parseJson, type AppProtocol, other } from './decoder';

/** members of one batch decoded (a bigger batch is cut there, with a finding) */
const MAX_BATCH = 10_000;

class JsonRpcDecoder extends PairingDecoder {
  message(m: MessageEvent): AppPacket[] {
    const text = messageText(m, this.ctx.limits);
    if (text === null) {
      if (m.opcode === 2 || (m.opcode === 1 && !m.utf8Valid)) return [this.invalid(m, 'a JSON-RPC message must be JSON text')];
      return [];
    }
    const v = parseJson(text);
    if (v === undefined) return [this.invalid(m, 'the message is not JSON')];
    if (!Array.isArray(v)) return [this.member(m, v, false)];
    if (v.length === 0) return [this.invalid(m, 'an empty batch')];
    if (v.length > MAX_BATCH) this.ctx.finding('limit-reached', m, `JSON-RPC batch of ${v.length} members; only the first ${MAX_BATCH} are decoded.`);
    const out: AppPacket[] = [];
    for (let i = 0; i < v.length && i < MAX_BATCH; i++) out.push(this.member(m, v[i], true));
    return out;
  }

  private member(m: MessageEvent, v: unknown, batch: boolean): AppPacket {
    if (!isObject(v)) return this.invalid(m, 'a member that is not an object');
    if (v.jsonrpc !== '2.0') return this.invalid(m, `"jsonrpc" is ${JSON.stringify(v.jsonrpc) ?? 'missing'}, not "2.0"`);
    const hasId = 'id' in v;
    const id = v.id;
    if (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number') return this.invalid(m, 'an id that is neither a string, a number nor null');
    const p: AppPacket = { protocol: 'json-rpc', type: '' };
    if (batch) p.batch = true;
    if (typeof v.method === 'string') {
      if ('result' in v || 'error' in v) return this.invalid(m, 'a member with both a method and a result or error');
      p.method = v.method;
      if (!hasId) {
        p.type = 'notification';
        return p;
      }
      p.type = 'request';
      p.id = id as string | number | null;
      if (id !== null) this.pending.open(key(m.dir, id), m, v.method);
      return p;
    }
    if ('method' in v) return this.invalid(m, 'a method that is not a string');
    const isError = 'error' in v;
    if (isError === 'result' in v) return this.invalid(m, isError ? 'a response with both result and error' : 'neither a call (method) nor a response (result or error)');
    if (!hasId) return this.invalid(m, 'a response without an id');
    p.type = isError ? 'error' : 'response';
    p.id = id as string | number | null;
    if (isError) {
      const e = v.error;
      if (!isObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string') {
        this.ctx.finding('subprotocol-malformed', m, 'JSON-RPC error object without a numeric code and a string message.');
      } else {
        p.code = e.code;
        p.message = e.message;
      }
    }
    if (id !== null) {
      const label = this.pending.reply(key(other(m.dir), id), m, p);
      if (label !== undefined) p.method = label;
    }
    return p;
  }

  private invalid(m: MessageEvent, why: string): AppPacket {
    this.ctx.finding('subprotocol-malformed', m, `Invalid JSON-RPC 2.0 message: ${why}.`);
    return { protocol: 'json-rpc', type: 'invalid', reason: why };
  }

}

function key(dir: Direction, id: AppValue | unknown): string {
  return `${dir}|${typeof id === 'string' ? JSON.stringify(id) : String(id)}`;
}

export const jsonRpcProtocol: AppProtocol = {
  id: 'json-rpc',
  subprotocols: ['jsonrpc', 'json-rpc', 'jsonrpc2', 'jsonrpc-2.0'],
  sniff(m, limits) {
    // a JSON object (or batch) that says `"jsonrpc":"2.0"`, with a method or a result/error
    if (m.opcode !== 1 || m.data.length < 20 || (m.data[0] !== 0x7b && m.data[0] !== 0x5b)) return false;
    const text = messageText(m, limits);
    if (text === null || !text.includes('"jsonrpc"')) return false;
    const v = parseJson(text);
    const first = Array.isArray(v) ? v[0] : v;
    return isObject(first) && first.jsonrpc === '2.0' && (typeof first.method === 'string' || 'result' in first || 'error' in first);
  },
  create: (ctx) => new JsonRpcDecoder(ctx, 'JSON-RPC request'),
};
