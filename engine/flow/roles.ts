/**
 * Which side of a TCP connection is the client, when no SYN said so: the side that sends an
 * HTTP request (or receives a response), else the side that masks WebSocket frames (RFC 6455
 * section 5.1: clients mask), else the side with the higher (ephemeral) port (RFC 6335
 * section 6). HTTP is recognised by the same test the stack's HTTP/1.1 detector uses
 * (engine/http/head.ts), frames by the one its resynchronisation uses (engine/ws/plausible.ts),
 * so roles and decoding never disagree about what a first chunk is.
 *
 * Pure functions over the caller's bytes; nothing is kept.
 */
import { looksLikeHttpStart } from '../http/head';
import { looksLikeWebSocketStart } from '../ws/plausible';

export type RoleEvidence = 'syn' | 'http' | 'mask' | 'port';

export interface RoleVerdict {
  /** the side that sent `firstBytes` is the client */
  senderIsClient: boolean;
  by: RoleEvidence;
}

/** What the first payload bytes of a side say about its role; undefined when they say nothing. */
export function roleFromPayload(bytes: Uint8Array): RoleVerdict | undefined {
  if (bytes.length === 0) return undefined;
  if (looksLikeHttpStart(bytes, 0, bytes.length, false) === 'yes') return { senderIsClient: true, by: 'http' };
  if (looksLikeHttpStart(bytes, 0, bytes.length, true) === 'yes') return { senderIsClient: false, by: 'http' };
  const ws = looksLikeWebSocketStart(bytes);
  if (ws) return { senderIsClient: ws.masked, by: 'mask' };
  return undefined;
}

/**
 * Decide from the first payload one side sent (`senderPort`); without evidence, the higher
 * port is the client's, and on equal ports the sender is.
 */
export function decideRoles(firstBytes: Uint8Array, senderPort: number, otherPort: number): RoleVerdict {
  const r = roleFromPayload(firstBytes);
  if (r) return r;
  return { senderIsClient: senderPort >= otherPort, by: 'port' };
}
