/**
 * The fuzzer's subprotocol shape: byte mutations of a capture mostly break TCP or WebSocket
 * framing before a subprotocol decoder sees anything, so this shape keeps the framing valid
 * and mutates what the decoders read. It takes one conversation of ./fuzz-corpus-app.ts
 * (Socket.IO, MQTT, STOMP, GraphQL, JSON-RPC, SignalR, Phoenix, WAMP, Action Cable, each
 * selected by its handshake), and mutates its messages: bytes flipped, cut, repeated, spliced
 * from another message, JSON-ish tokens inserted, messages dropped, duplicated or swapped,
 * text turned binary. The result is a pcap of well-framed WebSocket messages with hostile
 * subprotocol content.
 *
 * Deterministic in `seed`; bounded: at most MAX_MESSAGES messages of at most MAX_MESSAGE_BYTES.
 * Memory: builds the capture in memory and returns it.
 */
import { Prng } from './prng';
import { APP_TEMPLATES, conversation, type Msg } from './fuzz-corpus-app';

/** the source number fuzz jobs use for this shape (scripts/fuzz.ts: every APP_EVERY-th input) */
export const APP_SOURCE = -1;
export const APP_EVERY = 8;

const MAX_MESSAGES = 64;
const MAX_MESSAGE_BYTES = 4096;
const TOKENS = ['{', '}', '[', ']', '"', ',', ':', '\x1e', '\0', '\n', 'null', '-1', '1e999', '"__proto__"', '{"type":', '[1,', '4', '42', '451-'].map((t) => Buffer.from(t, 'latin1'));

function bytesOf(d: string | Uint8Array): Uint8Array {
  return typeof d === 'string' ? new Uint8Array(Buffer.from(d, 'utf8')) : d;
}

function mutateBytes(r: Prng, b: Uint8Array, other: Uint8Array): Uint8Array {
  let out = Buffer.from(b);
  switch (r.int(0, 4)) {
    case 0: // flip a few bytes
      for (let n = r.int(1, 4); n > 0 && out.length > 0; n--) out[r.int(0, out.length - 1)] = r.int(0, 255);
      break;
    case 1: // cut
      out = out.subarray(0, r.int(0, out.length));
      break;
    case 2: // repeat a piece
      if (out.length > 0) {
        const at = r.int(0, out.length - 1);
        const piece = out.subarray(at, r.int(at, out.length));
        out = Buffer.concat([out, piece, piece]);
      }
      break;
    case 3: // splice from another message
      out = Buffer.concat([out.subarray(0, r.int(0, out.length)), Buffer.from(other).subarray(r.int(0, other.length))]);
      break;
    default: // insert a token
      out = Buffer.concat([out.subarray(0, r.int(0, out.length)), r.pick(TOKENS), out.subarray(r.int(0, out.length))]);
  }
  return new Uint8Array(out.subarray(0, MAX_MESSAGE_BYTES));
}

/** One input of the shape: a capture and what was done to it. */
export function appInput(seed: number): { bytes: Uint8Array; desc: string } {
  const r = new Prng(seed);
  const t = r.pick(APP_TEMPLATES);
  const msgs: Msg[] = t.msgs.map(([who, op, d]) => [who, op, bytesOf(d)]);
  const edits = r.int(1, 6);
  for (let e = 0; e < edits && msgs.length > 0; e++) {
    const i = r.int(0, msgs.length - 1);
    const [who, op, d] = msgs[i]!;
    const k = r.int(0, 9);
    if (k < 6) msgs[i] = [who, op, mutateBytes(r, d as Uint8Array, msgs[r.int(0, msgs.length - 1)]![2] as Uint8Array)];
    else if (k === 6) msgs.splice(i, 1);
    else if (k === 7 && msgs.length < MAX_MESSAGES) msgs.splice(i, 0, msgs[i]!);
    else if (k === 8) {
      const j = r.int(0, msgs.length - 1);
      [msgs[i], msgs[j]] = [msgs[j]!, msgs[i]!];
    } else msgs[i] = [who, op === 1 ? 2 : 1, d];
  }
  return { bytes: conversation(t.req, t.res, msgs), desc: `app ${t.name} ${edits} edits` };
}
