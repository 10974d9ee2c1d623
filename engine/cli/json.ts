/**
 * The NDJSON form of engine events (`wsscope read --json`), as docs/events.md documents it:
 * field names and types as written there. Events it does not list (connection-end) have no
 * wire form and return null.
 */
import type { EngineEvent, MessageEvent } from '../../shared/events';

/** Text messages carry `text` when valid UTF-8; everything else carries `base64`. */
function payloadFields(m: MessageEvent): { text: string } | { base64: string } {
  if (m.opcode === 1 && m.utf8Valid) return { text: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8') };
  return { base64: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('base64') };
}

export function toWire(ev: EngineEvent): Record<string, unknown> | null {
  switch (ev.type) {
    case 'connection': {
      const o: Record<string, unknown> = { type: 'connection', id: ev.id, transport: ev.transport, client: ev.client, server: ev.server, ts: ev.ts };
      // RFC 8441: a WebSocket carried on an HTTP/2 stream of connection `parent`
      if (ev.http2) Object.assign(o, { http2: true, h2Stream: ev.h2Stream, parent: ev.parent });
      return o;
    }
    case 'handshake':
      // an HTTP/2 handshake (extended CONNECT) has no key and no accept
      if (ev.http2) return { type: 'handshake', conn: ev.conn, ts: ev.ts, http2: true, path: ev.path, host: ev.host, status: ev.status, origin: ev.origin, protocol: ev.protocol, extensions: ev.extensions, websocket: ev.websocket };
      return {
        type: 'handshake',
        conn: ev.conn,
        ts: ev.ts,
        path: ev.path,
        host: ev.host,
        status: ev.status,
        key: ev.key,
        accept: ev.accept,
        acceptValid: ev.acceptValid,
        origin: ev.origin,
        protocol: ev.protocol,
        extensions: ev.extensions,
        websocket: ev.websocket,
      };
    case 'frame':
      return {
        type: 'frame',
        conn: ev.conn,
        dir: ev.dir,
        ts: ev.ts,
        fin: ev.fin,
        rsv1: ev.rsv1,
        rsv2: ev.rsv2,
        rsv3: ev.rsv3,
        opcode: ev.opcode,
        masked: ev.masked,
        maskKey: ev.maskKey,
        length: ev.length,
        packet: ev.packet,
      };
    case 'message': {
      const base: Record<string, unknown> = {
        type: 'message',
        conn: ev.conn,
        dir: ev.dir,
        ts: ev.ts,
        opcode: ev.opcode,
        compressed: ev.compressed,
        length: ev.length,
      };
      if (ev.opcode === 8) {
        if (ev.code !== undefined) {
          base.code = ev.code;
          base.reason = ev.reason ?? '';
        }
        if (ev.app !== undefined) base.app = ev.app;
        return base;
      }
      const wire = { ...base, ...payloadFields(ev) };
      // on connections with a subprotocol decoder (docs/events.md "Subprotocols")
      return ev.app === undefined ? wire : { ...wire, app: ev.app };
    }
    case 'finding': {
      const o: Record<string, unknown> = { type: 'finding', id: ev.id, severity: ev.severity, conn: ev.conn };
      if (ev.dir) o.dir = ev.dir;
      o.ts = ev.ts;
      o.packet = ev.packet;
      o.text = ev.text;
      return o;
    }
    case 'datagram':
      return { type: 'datagram', conn: ev.conn, dir: ev.dir, ts: ev.ts, length: ev.length };
    case 'summary':
      return {
        type: 'summary',
        packets: ev.packets,
        connections: ev.connections,
        messages: ev.messages,
        findings: ev.findings,
        bytes: ev.bytes,
        seconds: ev.seconds,
      };
    case 'tls': {
      const o: Record<string, unknown> = { type: 'tls', conn: ev.conn, ts: ev.ts, version: ev.version, cipherSuite: ev.cipherSuite, sni: ev.sni, alpn: ev.alpn, decrypted: ev.decrypted };
      if (ev.reason !== undefined) o.reason = ev.reason;
      o.records = ev.records;
      return o;
    }
    case 'http2-request':
      return { type: 'http2-request', conn: ev.conn, stream: ev.stream, ts: ev.ts, method: ev.method, path: ev.path, host: ev.host, status: ev.status, requestBytes: ev.requestBytes, responseBytes: ev.responseBytes, reset: ev.reset, ...(ev.pushed ? { pushed: true } : {}) };
    case 'connection-end':
      return null;
  }
}
