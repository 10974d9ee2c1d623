/**
 * WebSocket bytes for tests, written from RFC 6455 alone (no engine code): frames (any flag,
 * length form or declared length, masked or not), close payloads, the opening handshake's
 * request and response, and the Sec-WebSocket-Accept a server must send, computed here
 * independently of engine/http/accept.ts so that tests can check the engine against it.
 *
 * Memory: every function returns a fresh Uint8Array that the caller owns; inputs are copied.
 */
import { createHash } from 'node:crypto';
import { ascii, be16, bytesOf, concat, type Bytes } from './bytes';

/** The masking key client frames use unless a test gives another. */
export const MASK = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

export interface FrameOpts {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  opcode: number;
  /** payload bytes, or a string sent as UTF-8 */
  payload?: Bytes | string;
  /** masking key (client frames); null/undefined = unmasked */
  mask?: Bytes | null;
  /** force the 16- or 64-bit length form (non-minimal encodings) */
  lenForm?: 7 | 16 | 64;
  /** declared length written in the header, when it must differ from the payload (64-bit form) */
  declared?: bigint;
}

/** One frame as on the wire (RFC 6455 section 5.2), payload masked when a key is given. */
export function wsFrame(f: FrameOpts): Bytes {
  const payload = bytesOf(f.payload);
  const n = f.declared ?? BigInt(payload.length);
  const form = f.lenForm ?? (n < 126n ? 7 : n < 65536n ? 16 : 64);
  const hdr: number[] = [];
  hdr.push((f.fin === false ? 0 : 0x80) | (f.rsv1 ? 0x40 : 0) | (f.rsv2 ? 0x20 : 0) | (f.rsv3 ? 0x10 : 0) | (f.opcode & 0x0f));
  const m = f.mask ? 0x80 : 0;
  if (form === 7) hdr.push(m | Number(n));
  else if (form === 16) hdr.push(m | 126, Number(n >> 8n) & 0xff, Number(n) & 0xff);
  else {
    hdr.push(m | 127);
    for (let i = 7; i >= 0; i--) hdr.push(Number((n >> BigInt(i * 8)) & 0xffn));
  }
  let body = payload;
  if (f.mask) {
    hdr.push(...f.mask);
    body = new Uint8Array(payload.length);
    for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ f.mask[i & 3]!;
  }
  return concat([Uint8Array.from(hdr), body]);
}

/** A client frame, masked with MASK unless `o.mask` says otherwise. */
export function cf(opcode: number, payload: Bytes | string = '', o: Partial<FrameOpts> = {}): Bytes {
  return wsFrame({ opcode, payload, mask: MASK, ...o });
}

/** A server frame, unmasked unless `o.mask` says otherwise. */
export function sf(opcode: number, payload: Bytes | string = '', o: Partial<FrameOpts> = {}): Bytes {
  return wsFrame({ opcode, payload, mask: null, ...o });
}

/** Close payload: 2-byte code then the reason bytes (RFC 6455 section 5.5.1). */
export function closePayload(code: number, reason: Bytes | string = ''): Bytes {
  return concat([be16(code), bytesOf(reason)]);
}

/** RFC 6455 section 1.3: the GUID a server appends to the client's key before hashing. */
export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The sample nonce of RFC 6455 section 1.3 (its accept is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=). */
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The Sec-WebSocket-Accept for `key`: base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export interface HandshakeOpts {
  path?: string;
  /** null = leave the header out */
  key?: string | null;
  version?: string | null;
  upgrade?: string | null;
  extensions?: string;
  protocols?: string;
  origin?: string | null;
}

export function wsRequest(o: HandshakeOpts = {}): Bytes {
  const lines = [`GET ${o.path ?? '/chat'} HTTP/1.1`, 'Host: 127.0.0.1:8080'];
  if (o.upgrade !== null) lines.push(`Upgrade: ${o.upgrade ?? 'websocket'}`);
  lines.push('Connection: Upgrade');
  if (o.key !== null) lines.push(`Sec-WebSocket-Key: ${o.key ?? KEY}`);
  if (o.version !== null) lines.push(`Sec-WebSocket-Version: ${o.version ?? '13'}`);
  if (o.origin !== null) lines.push(`Origin: ${o.origin ?? 'http://127.0.0.1:8080'}`);
  if (o.extensions) lines.push(`Sec-WebSocket-Extensions: ${o.extensions}`);
  if (o.protocols) lines.push(`Sec-WebSocket-Protocol: ${o.protocols}`);
  return ascii(lines.join('\r\n') + '\r\n\r\n');
}

export interface ResponseOpts {
  status?: number;
  accept?: string;
  extensions?: string;
  protocol?: string;
  body?: string;
}

export function wsResponse(o: ResponseOpts = {}): Bytes {
  const status = o.status ?? 101;
  if (status !== 101) {
    const body = o.body ?? 'forbidden';
    return ascii(`HTTP/1.1 ${status} Forbidden\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n${body}`);
  }
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${o.accept ?? acceptFor(KEY)}`];
  if (o.extensions) lines.push(`Sec-WebSocket-Extensions: ${o.extensions}`);
  if (o.protocol) lines.push(`Sec-WebSocket-Protocol: ${o.protocol}`);
  return ascii(lines.join('\r\n') + '\r\n\r\n');
}
