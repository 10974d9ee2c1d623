/**
 * One line of meaning for a decoded application packet (shared/events.ts `AppPacket`), as the
 * CLI prints it after the payload preview and a "meaning" column would show it:
 * `EVENT chat ["hi"] ack 1`, `PUBLISH sensors/1/temp q1 #12`, `subscribe Countdown #1`.
 * Plain text, not escaped: the caller escapes for its medium (payload fields are hostile).
 */
import type { AppPacket, AppValue } from './events';

/** characters of arguments shown before they are cut with "..." */
const ARGS_MAX = 60;

export function describeAppPacket(p: AppPacket): string {
  const parts = [p.type];
  const f = (k: string): AppValue | undefined => p[k];
  const add = (s: string | false | undefined): void => {
    if (s) parts.push(s);
  };
  switch (p.protocol) {
    case 'socket.io':
      if (f('nsp') !== undefined && f('nsp') !== '/') add(String(f('nsp')));
      add(f('event') !== undefined && String(f('event')));
      if (f('ackId') !== undefined && (p.type === 'ACK' || p.type === 'BINARY_ACK')) add(`#${String(f('ackId'))}`);
      add(f('args') !== undefined && short(f('args')));
      if (f('ackId') !== undefined && !(p.type === 'ACK' || p.type === 'BINARY_ACK')) add(`ack ${String(f('ackId'))}`);
      add(f('sid') !== undefined && `sid=${String(f('sid'))}`);
      add(f('message') !== undefined && short(f('message')));
      add(p.type === 'attachment' && `${String(f('num') ?? '?')} (${String(f('length'))} B)`);
      add(f('data') !== undefined && p.type !== 'CONNECT' && p.type !== 'CONNECT_ERROR' && String(f('data')));
      break;
    case 'mqtt':
      add(f('clientId') !== undefined && short(f('clientId')));
      add(p.type === 'CONNECT' && `v${String(f('protocolVersion'))}`);
      add(f('topic') !== undefined && String(f('topic')));
      add(f('qos') !== undefined && `q${String(f('qos'))}`);
      add(f('packetId') !== undefined && `#${String(f('packetId'))}`);
      add(f('retain') === true && 'retain');
      add(f('dup') === true && 'dup');
      add(f('payloadLength') !== undefined && `(${String(f('payloadLength'))} B)`);
      add(Array.isArray(f('subscriptions')) && (f('subscriptions') as Array<{ topic: string; qos: number }>).map((s) => `${s.topic} q${s.qos}`).join(', '));
      add(Array.isArray(f('unsubscriptions')) && (f('unsubscriptions') as string[]).join(', '));
      add(Array.isArray(f('granted')) && `granted ${(f('granted') as number[]).join(',')}`);
      add(f('returnCode') !== undefined && `rc=${String(f('returnCode'))}`);
      add(f('reasonCode') !== undefined && f('reasonCode') !== 0 && `reason=${String(f('reasonCode'))}`);
      break;
    case 'json-rpc':
      add(f('method') !== undefined && String(f('method')));
      add(f('id') !== undefined && `#${JSON.stringify(f('id'))}`);
      add(f('code') !== undefined && `${String(f('code'))} ${String(f('message') ?? '')}`);
      add(f('reason') !== undefined && String(f('reason')));
      break;
    case 'stomp': {
      add(f('destination') !== undefined && String(f('destination')));
      const h = (f('headers') ?? {}) as Record<string, string>;
      add(h.id !== undefined && `id=${h.id}`);
      add(h.subscription !== undefined && `sub=${h.subscription}`);
      add(h.receipt !== undefined && `receipt=${h.receipt}`);
      add(h['receipt-id'] !== undefined && `receipt-id=${h['receipt-id']}`);
      add(h.message !== undefined && short(h.message));
      add(f('bodyLength') !== undefined && f('bodyLength') !== 0 && `(${String(f('bodyLength'))} B)`);
      break;
    }
    case 'signalr':
      add(f('hubProtocol') !== undefined && `${String(f('hubProtocol'))} v${String(f('version'))}`);
      add(f('target') !== undefined && String(f('target')));
      add(f('invocationId') !== undefined && `#${String(f('invocationId'))}`);
      add(f('arguments') !== undefined && short(f('arguments')));
      add(f('error') !== undefined && `error ${short(f('error'))}`);
      break;
    case 'phoenix':
      add(f('topic') !== undefined && String(f('topic')));
      add(f('ref') !== undefined && `#${String(f('ref'))}`);
      add(f('status') !== undefined && String(f('status')));
      add(f('payload') !== undefined && short(f('payload')));
      add(f('response') !== undefined && short(f('response')));
      add(f('payloadLength') !== undefined && `(${String(f('payloadLength'))} B)`);
      break;
    case 'wamp':
      for (const k of ['realm', 'procedure', 'topic', 'request', 'error', 'reason']) add(f(k) !== undefined && String(f(k)));
      add(f('requestId') !== undefined && `#${String(f('requestId'))}`);
      add(f('args') !== undefined && short(f('args')));
      break;
    case 'actioncable':
      add(f('channel') !== undefined && String(f('channel')));
      add(f('action') !== undefined && String(f('action')));
      add(f('message') !== undefined && short(f('message')));
      add(f('reason') !== undefined && String(f('reason')));
      break;
    case 'graphql-ws':
      add(f('operationType') !== undefined && String(f('operationType')));
      add(f('operationName') !== undefined && String(f('operationName')));
      add(f('id') !== undefined && `#${String(f('id'))}`);
      add(f('errors') !== undefined && `${String(f('errors'))} errors`);
      break;
    default:
      parts.unshift(p.protocol);
  }
  if (p.latencyMs !== undefined) parts.push(`(${p.latencyMs} ms)`);
  return parts.join(' ');
}

function short(v: AppValue | undefined): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
  return s.length > ARGS_MAX ? `${s.slice(0, ARGS_MAX)}...` : s;
}

/** the fields that name what a packet is about, per protocol family, in the order they are looked for */
const NAME_FIELDS = ['event', 'topic', 'destination', 'method', 'operationName', 'target', 'procedure', 'channel'] as const;

/**
 * The name a packet is filtered by: its event (Socket.IO), topic (MQTT, Phoenix, WAMP pub/sub),
 * destination (STOMP), method (JSON-RPC), operation (GraphQL), target (SignalR), procedure
 * (WAMP), channel (Action Cable); '' when it has none.
 */
export function appName(p: AppPacket): string {
  for (const k of NAME_FIELDS) {
    const v = p[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return '';
}

/** Most packets of one message described in its meaning; the rest are counted. */
const MEANING_PACKETS = 4;

/** The meaning column of a message: its packets described, ' · ' between ('' for none). */
export function describeApp(app: readonly AppPacket[]): string {
  const parts = app.slice(0, MEANING_PACKETS).map(describeAppPacket);
  if (app.length > MEANING_PACKETS) parts.push(`+${app.length - MEANING_PACKETS} more`);
  return parts.join(' · ');
}
