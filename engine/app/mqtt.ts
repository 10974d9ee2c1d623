/**
 * MQTT 3.1, 3.1.1 and 5.0 over WebSocket (MQTT 3.1.1 section 6, MQTT 5.0 section 6): control
 * packets ride binary messages, but a message boundary means nothing: mqtt.js writes each
 * field of a packet as its own message, other clients coalesce several packets in one. So
 * each direction is a byte stream, parsed with `mqtt-packet` (the parser mqtt.js and aedes
 * use); a packet belongs to the message that completes it.
 *
 * Items: `type` the control packet name in upper case; PUBLISH carries `topic`, `qos`,
 * `packetId` (QoS 1 and 2), `retain`, `dup`, `payloadLength`; the others what they hold (see
 * docs/events.md). Passwords and payload bytes are never copied into items.
 *
 * Correlation (packet ids are per sender, MQTT 3.1.1 section 2.3.1): PUBLISH QoS 1 ->
 * PUBACK, PUBLISH QoS 2 -> PUBREC, PUBREL -> PUBCOMP, SUBSCRIBE -> SUBACK, UNSUBSCRIBE ->
 * UNSUBACK; and CONNECT -> CONNACK, PINGREQ -> PINGRESP.
 *
 * Memory: per direction `mqtt-packet`'s buffer list holds the bytes of the packet not complete
 * yet (copies: the message's bytes are only valid during the call), at most
 * `limits.maxStreamBytes` (past it: a `limit-reached` finding and the stream starts over).
 */
import { createRequire } from 'node:module';
import type { Packet, Parser } from 'mqtt-packet';
import type { AppPacket, Direction, MessageEvent } from '../../shared/events';
import { PairingDecoder } from './correlate';
import { other, type AppContext, type AppProtocol } from './decoder';

/**
 * mqtt-packet's `parser`, loaded when the first MQTT connection is decoded rather than at
 * start-up: requiring it (with bl, readable-stream, debug) costs about 20 ms, paid by every
 * `wsscope read` whether or not the capture holds MQTT (docs/benchmarks.md).
 */
let mqttParserFn: typeof import('mqtt-packet').parser | undefined;
function mqttParser(opts: { protocolVersion: number }): Parser {
  mqttParserFn ??= (createRequire(import.meta.url)('mqtt-packet') as typeof import('mqtt-packet')).parser;
  return mqttParserFn(opts);
}

/** mqtt-packet's parser with the internals the bounds look at */
interface StreamParser extends Parser {
  settings: { protocolVersion?: number };
  error: unknown;
  _list: { length: number };
  packet: { cmd?: string };
}

class MqttDecoder extends PairingDecoder {
  private readonly parsers: Record<Direction, StreamParser>;
  /** the message being parsed and the packets it completed */
  private cur: MessageEvent | null = null;
  private out: AppPacket[] = [];
  private version = 4;

  constructor(ctx: AppContext) {
    super(ctx, 'MQTT');
    this.parsers = { client: this.parser('client'), server: this.parser('server') };
  }

  private parser(dir: Direction): StreamParser {
    const p = mqttParser({ protocolVersion: this.version }) as StreamParser;
    p.on('packet', (pk: Packet) => this.packet(dir, pk));
    p.on('error', (e: unknown) => {
      if (this.cur !== null) this.ctx.finding('subprotocol-malformed', this.cur, `Malformed MQTT packet: ${e instanceof Error ? e.message : String(e)}; the rest of this message is not decoded.`);
    });
    return p;
  }

  message(m: MessageEvent): AppPacket[] {
    const dir = m.dir;
    if (m.opcode !== 2) {
      // MQTT 3.1.1 section 6.0: "MQTT Control Packets MUST be sent in WebSocket binary data frames"
      this.ctx.finding('subprotocol-malformed', m, 'MQTT over WebSocket sent in a text message (packets must be sent in binary messages).');
      return [];
    }
    if (m.truncated) {
      // bytes are missing: what is buffered and this message cannot be joined
      this.restart(dir);
      return [];
    }
    this.cur = m;
    this.out = [];
    const p = this.parsers[dir];
    try {
      // a copy: mqtt-packet keeps a reference to what it buffers
      p.parse(Buffer.from(m.data));
    } catch (e) {
      // mqtt-packet reads past its buffer on some hostile inputs (a RangeError): malformed input, not our bug
      this.ctx.finding('subprotocol-malformed', m, `Malformed MQTT packet: ${e instanceof Error ? e.message : String(e)}.`);
      this.restart(dir);
    }
    // after a malformed packet the bytes that follow cannot be framed: start over with the next message
    if (p.error) this.restart(dir);
    else if (p._list.length > this.ctx.limits.maxStreamBytes) {
      this.ctx.finding('limit-reached', m, `An MQTT packet has ${p._list.length} bytes buffered without completing (limit ${this.ctx.limits.maxStreamBytes}); this direction's stream starts over.`);
      this.restart(dir);
    }
    this.cur = null;
    return this.out;
  }

  private restart(dir: Direction): void {
    this.parsers[dir].removeAllListeners();
    this.parsers[dir] = this.parser(dir);
  }

  private packet(dir: Direction, pk: Packet): void {
    const m = this.cur as MessageEvent;
    const p: AppPacket = { protocol: 'mqtt', type: pk.cmd.toUpperCase() };
    const id = pk.messageId;
    if (id !== undefined && pk.cmd !== 'publish') p.packetId = id;
    const reasonCode = (pk as { reasonCode?: number }).reasonCode;
    switch (pk.cmd) {
      case 'connect':
        p.clientId = pk.clientId;
        p.protocolVersion = pk.protocolVersion ?? 4;
        if (pk.keepalive !== undefined) p.keepalive = pk.keepalive;
        if (pk.clean !== undefined) p.clean = pk.clean;
        if (pk.username !== undefined) p.username = pk.username;
        if (pk.will) p.willTopic = pk.will.topic;
        // the server's packets are read with the version the client asked for (MQTT 5 adds properties)
        this.version = pk.protocolVersion ?? 4;
        for (const d of ['client', 'server'] as const) this.parsers[d].settings.protocolVersion = this.version;
        this.pending.open('client|connect', m, 'CONNECT');
        break;
      case 'connack':
        p.sessionPresent = pk.sessionPresent;
        if (pk.returnCode !== undefined) p.returnCode = pk.returnCode;
        if (reasonCode !== undefined) p.reasonCode = reasonCode;
        this.pending.reply('client|connect', m, p);
        break;
      case 'publish':
        p.topic = pk.topic;
        p.qos = pk.qos;
        if (pk.qos > 0 && id !== undefined) p.packetId = id;
        p.retain = pk.retain;
        p.dup = pk.dup;
        p.payloadLength = typeof pk.payload === 'string' ? Buffer.byteLength(pk.payload) : pk.payload.length;
        if (pk.qos > 0 && id !== undefined) this.pending.open(`${dir}|pub|${id}`, m, `PUBLISH ${pk.topic}`);
        break;
      case 'puback':
      case 'pubrec':
        if (reasonCode !== undefined) p.reasonCode = reasonCode;
        if (id !== undefined) this.pending.reply(`${other(dir)}|pub|${id}`, m, p);
        break;
      case 'pubrel':
        if (reasonCode !== undefined) p.reasonCode = reasonCode;
        if (id !== undefined) this.pending.open(`${dir}|rel|${id}`, m, 'PUBREL');
        break;
      case 'pubcomp':
        if (reasonCode !== undefined) p.reasonCode = reasonCode;
        if (id !== undefined) this.pending.reply(`${other(dir)}|rel|${id}`, m, p);
        break;
      case 'subscribe':
        p.subscriptions = pk.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos }));
        if (id !== undefined) this.pending.open(`${dir}|sub|${id}`, m, `SUBSCRIBE ${pk.subscriptions.map((s) => s.topic).join(' ')}`);
        break;
      case 'suback':
        p.granted = (pk.granted as Array<number | { qos: number }>).map((g) => (typeof g === 'number' ? g : g.qos));
        if (id !== undefined) this.pending.reply(`${other(dir)}|sub|${id}`, m, p);
        break;
      case 'unsubscribe':
        p.unsubscriptions = pk.unsubscriptions;
        if (id !== undefined) this.pending.open(`${dir}|unsub|${id}`, m, `UNSUBSCRIBE ${pk.unsubscriptions.join(' ')}`);
        break;
      case 'unsuback':
        if (id !== undefined) this.pending.reply(`${other(dir)}|unsub|${id}`, m, p);
        break;
      case 'pingreq':
        this.pending.open(`${dir}|ping`, m, 'PINGREQ');
        break;
      case 'pingresp':
        this.pending.reply(`${other(dir)}|ping`, m, p);
        break;
      case 'disconnect':
      case 'auth':
        if (reasonCode !== undefined) p.reasonCode = reasonCode;
        break;
    }
    this.out.push(p);
  }

  override finish(meta: { ts: number; packet: number }): void {
    for (const dir of ['client', 'server'] as const) {
      const p = this.parsers[dir];
      const held = p._list.length;
      const cmd = p.packet.cmd ? `${p.packet.cmd.toUpperCase()} ` : '';
      if (held > 0) this.ctx.endFinding('subprotocol-incomplete', dir, meta, `${held} bytes of an MQTT ${cmd}packet never completed.`);
      p.removeAllListeners();
    }
    super.finish(meta);
  }
}

/** CONNECT's fixed header, remaining length (1-4 bytes), then the protocol name "MQTT" or "MQIsdp" */
function looksLikeConnect(b: Uint8Array): boolean {
  if (b.length < 8 || b[0] !== 0x10) return false;
  let i = 1;
  while (i < 5 && i < b.length && (b[i] & 0x80) !== 0) i++;
  i++;
  const name = (n: string): boolean => b.length >= i + 2 + n.length && b[i] === 0 && b[i + 1] === n.length && [...n].every((c, k) => b[i + 2 + k] === c.charCodeAt(0));
  return name('MQTT') || name('MQIsdp');
}

export const mqttProtocol: AppProtocol = {
  id: 'mqtt',
  // MQTT 3.1.1 section 6.0 and MQTT 5.0 section 6: "mqtt"; MQTT 3.1 clients offered "mqttv3.1"
  subprotocols: ['mqtt', 'mqttv3.1'],
  sniff: (m) => m.dir === 'client' && m.opcode === 2 && looksLikeConnect(m.data),
  create: (ctx) => new MqttDecoder(ctx),
};
