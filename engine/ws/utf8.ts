/**
 * UTF-8 validation for text messages and close reasons (RFC 6455 sections 5.6 and 8.1, which
 * require the whole message, across fragment boundaries, to be valid). Messages are
 * reassembled before they are validated, so fragment boundaries need no streaming state; the
 * check is Node's simdutf-backed `isUtf8`. When a message was cut (limit, gap), an incomplete
 * sequence at the very end is not held against it.
 */
import { isUtf8 } from 'node:buffer';

export function validUtf8(data: Uint8Array, cutAtEnd = false): boolean {
  if (isUtf8(data)) return true;
  if (!cutAtEnd) return false;
  // drop a trailing incomplete sequence (at most 3 bytes) and retry
  const n = data.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = data[n - back];
    if ((b & 0xc0) !== 0x80) {
      // lead byte: the sequence it starts must be longer than what is left
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (need > back) return isUtf8(data.subarray(0, n - back));
      return false;
    }
  }
  return false;
}

const decoder = new TextDecoder('utf-8');
/** Decode with U+FFFD for bad sequences (display only). */
export function decodeUtf8Lossy(data: Uint8Array): string {
  return decoder.decode(data);
}
