/**
 * Hand-made engine events for tests of the store and the service: a
 * connection, its 101 handshake, then masked client / unmasked server single-frame
 * messages, exactly as engine/pipeline.ts would emit them (frame before message, capture-wide
 * indexes). Pure functions; every event owns its bytes.
 */
import type { ConnectionEvent, EngineEvent, FindingEvent, FrameEvent, HandshakeEvent, MessageEvent } from '../../shared/events';
import { KEY, MASK, acceptFor, wsFrame } from './websocket';

export function connectionEvent(id: number, ts: number): ConnectionEvent {
  return {
    type: 'connection',
    id,
    transport: 'tcp',
    client: `127.0.0.1:${40000 + id}`,
    server: '127.0.0.1:8080',
    ts,
    packet: 1,
    roleBy: 'syn',
  };
}

export function handshakeEvent(conn: number, ts: number, path = '/chat'): HandshakeEvent {
  const key = KEY;
  const accept = acceptFor(key);
  const requestHeaders: Array<[string, string]> = [
    ['Host', 'example.test:8080'],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
    ['Origin', 'http://example.test'],
  ];
  const responseHeaders: Array<[string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ];
  return {
    type: 'handshake',
    conn,
    ts,
    packet: 4,
    method: 'GET',
    path,
    host: 'example.test:8080',
    status: 101,
    statusText: 'Switching Protocols',
    key,
    accept,
    expectedAccept: accept,
    acceptValid: true,
    version: '13',
    origin: 'http://example.test',
    protocol: '',
    requestedProtocols: '',
    extensions: '',
    requestedExtensions: '',
    websocket: true,
    requestHeaders,
    responseHeaders,
    requestLine: `GET ${path} HTTP/1.1`,
    statusLine: 'HTTP/1.1 101 Switching Protocols',
    requestBytes: 180,
    responseBytes: 130,
  };
}

export interface SyntheticMessage {
  conn: number;
  dir: 'client' | 'server';
  ts: number;
  opcode: number;
  data: Uint8Array;
  packet: number;
}

/** The frame and message events of one single-frame message; client frames are masked. */
export function messageEvents(m: SyntheticMessage, frameIndex: number, messageIndex: number): [FrameEvent, MessageEvent] {
  const masked = m.dir === 'client';
  const len = m.data.length;
  const bytes = wsFrame({ opcode: m.opcode, payload: m.data, mask: masked ? MASK : null });
  const header = bytes.slice(0, bytes.length - len);
  const wire = masked ? bytes.slice(bytes.length - len) : m.data;
  const frame: FrameEvent = {
    type: 'frame',
    conn: m.conn,
    dir: m.dir,
    ts: m.ts,
    index: frameIndex,
    fin: true,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    opcode: m.opcode,
    masked,
    maskKey: masked ? Buffer.from(MASK).toString('hex') : '',
    length: len,
    headerLength: header.length,
    packet: m.packet,
    firstPacket: m.packet,
    header,
    wirePayload: wire,
  };
  const message: MessageEvent = {
    type: 'message',
    conn: m.conn,
    dir: m.dir,
    ts: m.ts,
    index: messageIndex,
    opcode: m.opcode,
    compressed: false,
    length: len,
    wireLength: len,
    frames: [frameIndex],
    packet: m.packet,
    data: m.data,
    truncated: false,
    utf8Valid: true,
  };
  if (m.opcode === 8 && len >= 2) {
    message.code = (m.data[0] << 8) | m.data[1];
    message.reason = Buffer.from(m.data.subarray(2)).toString('utf8');
  }
  return [frame, message];
}

/** A whole conversation: connection, handshake, `n` text messages alternating sides, a close each way. */
export function conversation(conn: number, n: number, t0 = 1700000000, text = (i: number) => `{"seq":${i},"msg":"hello ${i}"}`): EngineEvent[] {
  const evs: EngineEvent[] = [connectionEvent(conn, t0), handshakeEvent(conn, t0 + 0.001)];
  let packet = 5;
  let i = 0;
  for (; i < n; i++) {
    const dir = i % 2 === 0 ? 'client' : 'server';
    evs.push(...messageEvents({ conn, dir, ts: t0 + 0.01 + i * 0.01, opcode: 1, data: Buffer.from(text(i)), packet: packet++ }, i, i));
  }
  const close = Uint8Array.of(0x03, 0xe8, 0x62, 0x79, 0x65); // 1000 "bye"
  evs.push(...messageEvents({ conn, dir: 'client', ts: t0 + 0.02 + n * 0.01, opcode: 8, data: close, packet: packet++ }, i, i));
  i++;
  evs.push(...messageEvents({ conn, dir: 'server', ts: t0 + 0.03 + n * 0.01, opcode: 8, data: close.slice(0, 2), packet: packet++ }, i, i));
  evs.push({ type: 'connection-end', conn, ts: t0 + 0.04 + n * 0.01, packet: packet++, reason: 'fin' });
  return evs;
}

/** A decode's events sorted by type (each list in emission order). */
export interface EventsByType {
  frames: FrameEvent[];
  messages: MessageEvent[];
  findings: FindingEvent[];
  handshakes: HandshakeEvent[];
}

export function byType(events: readonly EngineEvent[]): EventsByType {
  const out: EventsByType = { frames: [], messages: [], findings: [], handshakes: [] };
  for (const e of events) {
    if (e.type === 'frame') out.frames.push(e);
    else if (e.type === 'message') out.messages.push(e);
    else if (e.type === 'finding') out.findings.push(e);
    else if (e.type === 'handshake') out.handshakes.push(e);
  }
  return out;
}
