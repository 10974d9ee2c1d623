/**
 * Close frames, in one place: what a close code means, whether it may be sent, and how a
 * close payload splits into code and reason (RFC 6455 sections 5.5.1 and 7.4), for the
 * engine (the session store's detail view and export replay, the CLI) and the renderer. No
 * Node types: runs in the browser too.
 *
 * Memory: the functions read the given bytes during the call only.
 */

/** RFC 6455 section 7.4.1 and the IANA "WebSocket Close Code Number Registry". */
export const CLOSE_CODES: Record<number, string> = {
  1000: 'Normal Closure',
  1001: 'Going Away',
  1002: 'Protocol Error',
  1003: 'Unsupported Data',
  1004: 'Reserved',
  1005: 'No Status Received (never on the wire)',
  1006: 'Abnormal Closure (never on the wire)',
  1007: 'Invalid Frame Payload Data',
  1008: 'Policy Violation',
  1009: 'Message Too Big',
  1010: 'Mandatory Extension',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
  1014: 'Bad Gateway',
  1015: 'TLS Handshake (never on the wire)',
};

export function closeCodeMeaning(code: number): string {
  if (CLOSE_CODES[code]) return CLOSE_CODES[code];
  if (code < 1000) return 'Invalid (below 1000)';
  if (code < 3000) return 'Reserved for future RFCs';
  if (code < 4000) return 'Registered with IANA (libraries, frameworks)';
  if (code < 5000) return 'Private use (application)';
  return 'Invalid (5000 and above)';
}

/**
 * Whether a close code may be sent in a close frame: RFC 6455 section 7.4 and the
 * Autobahn test-suite's case 7.9 (1004-1006, 1015, 1016-2999 and anything under 1000 or
 * over 4999 fail; 1012-1014 are registered since and accepted).
 */
export function isValidWireCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return false;
}

// Keeps a leading U+FEFF: an inspector shows every character of the reason (the same string
// Node's Buffer#toString('utf8') gives); bad sequences become U+FFFD (display only: whether
// the reason is valid UTF-8 is the engine's finding).
const reasonDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The status code of a close payload (RFC 6455 section 5.5.1: the first two bytes, big-endian), or undefined when it has none. */
export function closeCode(payload: Uint8Array): number | undefined {
  return payload.length >= 2 ? (payload[0] << 8) | payload[1] : undefined;
}

/** The reason of a close payload: the UTF-8 text after the 2-byte code ('' when there is none). */
export function closeReason(payload: Uint8Array): string {
  return payload.length > 2 ? reasonDecoder.decode(payload.subarray(2)) : '';
}
