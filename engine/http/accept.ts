/**
 * Sec-WebSocket-Key / Sec-WebSocket-Accept arithmetic (RFC 6455 section 4.2.2 item 5.4 and
 * section 4.1 item 7). Pure functions over strings; nothing is kept.
 */
import { createHash } from 'node:crypto';

/** RFC 6455 section 1.3: the GUID appended to the key before hashing. */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** base64(SHA-1(key + GUID)), the value a server must send back. */
export function computeAccept(key: string): string {
  return createHash('sha1').update(key + WS_GUID, 'latin1').digest('base64');
}

/**
 * RFC 6455 section 4.1 item 7: the key is a base64-encoded 16-byte nonce, which is always
 * 22 base64 characters followed by "==". The last character must leave no stray bits
 * (16 bytes end on a 4-bit boundary: only A, Q, g, w are canonical).
 */
export function isValidKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}
