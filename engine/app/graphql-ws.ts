/**
 * GraphQL over WebSocket, both protocols that share the name:
 *
 * - `graphql-transport-ws` (the graphql-ws library, github.com/enisdenjo/graphql-ws
 *   PROTOCOL.md): connection_init -> connection_ack, ping/pong, subscribe {id, payload} ->
 *   next* -> complete | error; the client's complete cancels.
 * - the legacy `graphql-ws` (subscriptions-transport-ws PROTOCOL.md): connection_init ->
 *   connection_ack | connection_error, ka, start {id, payload} -> data* -> complete | error;
 *   stop cancels, connection_terminate ends.
 *
 * One JSON object per text message. Items: `type` as sent, `id`, and `operationName` (from the
 * payload's `operationName`, else the first operation definition of the query; replies carry
 * their operation's), `operationType` on subscribe/start.
 *
 * Correlation by operation id: every next/data, and the final complete/error, carry
 * `latencyMs` from their subscribe/start; connection_init -> connection_ack and ping -> pong
 * too. An operation that never got any reply is listed when the connection ends.
 *
 * Memory: the pending table (correlate.ts): one record per running operation.
 */
import type { AppPacket, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { isObject, messageText, other, parseJson, type AppProtocol } from './decoder';

const CLIENT_TYPES = new Set(['connection_init', 'ping', 'pong', 'subscribe', 'complete', 'start', 'stop', 'connection_terminate']);
const SERVER_TYPES = new Set(['connection_ack', 'connection_error', 'ping', 'pong', 'next', 'error', 'complete', 'data', 'ka']);

class GraphqlWsDecoder extends PairingDecoder {
  message(m: MessageEvent): AppPacket[] {
    const text = messageText(m, this.ctx.limits);
    if (text === null) {
      if (!m.truncated) this.ctx.finding('subprotocol-malformed', m, 'GraphQL over WebSocket message that is not JSON text.');
      return [];
    }
    const v = parseJson(text);
    if (!isObject(v) || typeof v.type !== 'string') {
      this.ctx.finding('subprotocol-malformed', m, 'GraphQL over WebSocket message that is not a JSON object with a string "type".');
      return [];
    }
    const type = v.type;
    const p: AppPacket = { protocol: 'graphql-ws', type };
    const id = typeof v.id === 'string' || typeof v.id === 'number' ? String(v.id) : undefined;
    if (id !== undefined) p.id = id;
    const known = m.dir === 'client' ? CLIENT_TYPES : SERVER_TYPES;
    if (!known.has(type)) {
      this.ctx.finding('subprotocol-malformed', m, `GraphQL over WebSocket: the ${m.dir} does not send "${type}" messages.`);
      return [p];
    }
    const needsId = type === 'subscribe' || type === 'start' || type === 'next' || type === 'data' || type === 'stop' || ((type === 'complete' || type === 'error') && m.dir === 'server') || (type === 'complete' && m.dir === 'client');
    if (needsId && id === undefined) {
      this.ctx.finding('subprotocol-malformed', m, `GraphQL over WebSocket "${type}" without an id.`);
      return [p];
    }
    const key = `op|${id}`;
    switch (type) {
      case 'connection_init':
        this.pending.open('client|init', m, 'connection_init');
        break;
      case 'connection_ack':
      case 'connection_error':
        this.pending.reply('client|init', m, p, false, true);
        break;
      case 'ping':
        this.pending.open(`${m.dir}|ping`, m, 'ping');
        break;
      case 'pong':
        // a pong may also be a one-way heartbeat (graphql-ws PROTOCOL.md "Pong")
        this.pending.reply(`${other(m.dir)}|ping`, m, p, false, true);
        break;
      case 'subscribe':
      case 'start': {
        const op = operationOf(v.payload);
        if (op.name !== undefined) p.operationName = op.name;
        if (op.type !== undefined) p.operationType = op.type;
        this.pending.open(key, m, op.name ?? '');
        break;
      }
      case 'next':
      case 'data':
      case 'error':
      case 'complete': {
        if (m.dir === 'client') {
          // the client cancels (complete): an operation the server already completed is no error
          this.name(p, this.pending.drop(key));
          break;
        }
        if (type === 'next' || type === 'data') {
          const payload = v.payload;
          if (isObject(payload) && Array.isArray(payload.errors)) p.errors = payload.errors.length;
        }
        this.name(p, this.pending.reply(key, m, p, type === 'next' || type === 'data'));
        break;
      }
      case 'stop':
        this.name(p, this.pending.drop(key));
        break;
    }
    return [p];
  }

  private name(p: AppPacket, label: string | undefined): void {
    if (label) p.operationName = label;
  }

}

/** the operation's name and type: the payload's operationName, else the query's first operation definition */
function operationOf(payload: unknown): { name?: string; type?: string } {
  if (!isObject(payload)) return {};
  const given = typeof payload.operationName === 'string' && payload.operationName !== '' ? payload.operationName : undefined;
  if (typeof payload.query !== 'string') return given === undefined ? {} : { name: given };
  // GraphQL spec section 2.3: OperationType Name? ...; the shorthand `{ ... }` is an anonymous query.
  // Comments (#...) and strings are blanked first so a keyword inside them does not count.
  const q = payload.query.slice(0, 64 << 10).replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, ' ');
  if (q.trimStart().startsWith('{')) return given === undefined ? { type: 'query' } : { name: given, type: 'query' };
  const hit = /(^|[\s}])(query|mutation|subscription)(?![_0-9A-Za-z])\s*([_A-Za-z][_0-9A-Za-z]*)?/.exec(q);
  const name = given ?? hit?.[3];
  return { ...(name !== undefined ? { name } : {}), ...(hit ? { type: hit[2] } : {}) };
}

export const graphqlWsProtocol: AppProtocol = {
  id: 'graphql-ws',
  subprotocols: ['graphql-transport-ws', 'graphql-ws'],
  sniff(m, limits) {
    // the client's first message: {"type":"connection_init",...}
    if (m.dir !== 'client' || m.opcode !== 1 || m.data.length > 64 << 10 || m.data[0] !== 0x7b) return false;
    const text = messageText(m, limits);
    if (text === null || !text.includes('connection_init')) return false;
    const v = parseJson(text);
    return isObject(v) && v.type === 'connection_init';
  },
  create: (ctx) => new GraphqlWsDecoder(ctx, 'GraphQL operation'),
};
