/**
 * Sec-WebSocket-Key / Sec-WebSocket-Accept arithmetic (RFC 6455 section 4.2.2 item 5.4 and
 * section 4.1 item 7). Pure functions over strings; nothing is kept.
 */
import { createHash, hash } from 'node:crypto';

/** RFC 6455 section 1.3: the GUID appended to the key before hashing. */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** base64(SHA-1(key + GUID)), the value a server must send back. */
export function computeAccept(key: string): string {
  const s = key + WS_GUID;
  // Header values are strings of their bytes (latin1). crypto.hash is one native call where a
  // Hash object is three and a JavaScript object set up (5-10 us per handshake in a fresh
  // process, where these run: once per connection, never optimized); it encodes a string as
  // UTF-8, the same bytes as latin1 for ASCII, which every valid key is.
  return ASCII.test(s) ? hash('sha1', s, 'base64') : createHash('sha1').update(s, 'latin1').digest('base64');
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * RFC 6455 section 4.1 item 7: the key is a base64-encoded 16-byte nonce, which is always
 * 22 base64 characters followed by "==". The last character must leave no stray bits
 * (16 bytes end on a 4-bit boundary: only A, Q, g, w are canonical).
 */
export function isValidKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}
