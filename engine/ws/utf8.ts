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
  // The data was cut: accept it when only its last, incomplete sequence fails, i.e. when the
  // tail (lead byte + up to 2 continuation bytes) can be completed into a valid character.
  const n = data.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = data[n - back];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (need <= back) return false;
    const tail = new Uint8Array(need);
    tail.set(data.subarray(n - back));
    // smallest continuation allowed after this lead (RFC 3629 section 4)
    if (back === 1) tail[1] = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    for (let k = Math.max(back, 2); k < need; k++) tail[k] = 0x80;
    return isUtf8(tail) && isUtf8(data.subarray(0, n - back));
  }
  return false;
}

const decoder = new TextDecoder('utf-8');
/** Decode with U+FFFD for bad sequences (display only). */
export function decodeUtf8Lossy(data: Uint8Array): string {
  return decoder.decode(data);
}
