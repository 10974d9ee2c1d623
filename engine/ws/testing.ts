/**
 * Test helpers for the WebSocket layer: build frames and handshakes by hand, feed a
 * TcpSession in arbitrary splits, collect its events. Used by *.test.ts only.
 */
import type { Direction, EngineEvent, FindingEvent, FrameEvent, HandshakeEvent, MessageEvent } from '../../shared/events';
import { computeAccept } from '../http/accept';
import { DEFAULT_SESSION_OPTIONS, TcpSession, type SessionOptions } from './session';

export interface FrameSpec {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  opcode: number;
  /** masking key (4 bytes) or null for unmasked */
  mask?: Uint8Array | null;
  payload?: Uint8Array | string;
  /** force a length encoding: 7, 16 or 64 bits */
  lenBits?: 7 | 16 | 64;
  /** override the declared length (64-bit form) */
  declaredLength?: bigint;
}

export const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const enc = new TextEncoder();

export function bytesOf(x: Uint8Array | string | undefined): Uint8Array {
  if (x === undefined) return new Uint8Array(0);
  return typeof x === 'string' ? enc.encode(x) : x;
}

export function frame(spec: FrameSpec): Uint8Array {
  const payload = bytesOf(spec.payload);
  const n = payload.length;
  const bits = spec.declaredLength !== undefined ? 64 : (spec.lenBits ?? (n < 126 ? 7 : n < 65536 ? 16 : 64));
  const mask = spec.mask === undefined ? null : spec.mask;
  const hl = 2 + (bits === 16 ? 2 : bits === 64 ? 8 : 0) + (mask ? 4 : 0);
  const out = new Uint8Array(hl + n);
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | spec.opcode;
  let off = 2;
  if (bits === 7) out[1] = n;
  else if (bits === 16) {
    out[1] = 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
    off = 4;
  } else {
    out[1] = 127;
    const v = spec.declaredLength ?? BigInt(n);
    new DataView(out.buffer).setBigUint64(2, v);
    off = 10;
  }
  if (mask) {
    out[1] |= 0x80;
    out.set(mask, off);
    off += 4;
    for (let i = 0; i < n; i++) out[off + i] = payload[i] ^ mask[i & 3];
  } else {
    out.set(payload, off);
  }
  return out;
}

/** client frame (masked with MASK) */
export function cf(opcode: number, payload?: Uint8Array | string, extra: Partial<FrameSpec> = {}): Uint8Array {
  return frame({ opcode, payload, mask: MASK, ...extra });
}
/** server frame (unmasked) */
export function sf(opcode: number, payload?: Uint8Array | string, extra: Partial<FrameSpec> = {}): Uint8Array {
  return frame({ opcode, payload, ...extra });
}

/** the test byte builders' concat (scripts/lib/fuzz-build.ts), under the name these tests use */
export { concat as concatAll } from '../../scripts/lib/fuzz-build';

export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function upgradeRequest(extra: string[] = [], opts: { key?: string | null; version?: string | null; origin?: boolean; path?: string } = {}): string {
  const lines = [`GET ${opts.path ?? '/chat'} HTTP/1.1`, 'Host: example.com', 'Upgrade: websocket', 'Connection: Upgrade'];
  if (opts.key !== null) lines.push(`Sec-WebSocket-Key: ${opts.key ?? KEY}`);
  if (opts.version !== null) lines.push(`Sec-WebSocket-Version: ${opts.version ?? '13'}`);
  if (opts.origin !== false) lines.push('Origin: http://example.com');
  return [...lines, ...extra, '', ''].join('\r\n');
}

export function upgradeResponse(extra: string[] = [], opts: { accept?: string | null; key?: string } = {}): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
  if (opts.accept !== null) lines.push(`Sec-WebSocket-Accept: ${opts.accept ?? computeAccept(opts.key ?? KEY)}`);
  return [...lines, ...extra, '', ''].join('\r\n');
}

export type Step = [Direction, Uint8Array | string] | [Direction, Uint8Array | string, number];

export interface Run {
  events: EngineEvent[];
  session: TcpSession;
  frames: FrameEvent[];
  messages: MessageEvent[];
  findings: FindingEvent[];
  handshakes: HandshakeEvent[];
}

/**
 * Feed steps (direction, bytes[, skip]) to a fresh session, each step cut into pieces by
 * `split` (chunk sizes, cycled; 0 or empty = whole), then finish.
 */
export function run(steps: Step[], opts: Partial<SessionOptions> = {}, split: number[] = []): Run {
  const events: EngineEvent[] = [];
  const counters = { frames: 0, messages: 0 };
  const session = new TcpSession(1, (e) => events.push(e), counters, { ...DEFAULT_SESSION_OPTIONS, ...opts });
  let packet = 0;
  let k = 0;
  for (const step of steps) {
    const bytes = bytesOf(step[1]);
    let skip = step[2] ?? 0;
    if (split.length === 0) {
      packet++;
      session.data(step[0], bytes, skip, { ts: packet, packet });
      continue;
    }
    let p = 0;
    while (p < bytes.length) {
      const size = Math.max(1, split[k++ % split.length]);
      packet++;
      session.data(step[0], bytes.subarray(p, p + size), skip, { ts: packet, packet });
      skip = 0;
      p += size;
    }
  }
  packet++;
  session.finish({ ts: packet, packet });
  if (session.lastError) throw session.lastError;
  return {
    events,
    session,
    frames: events.filter((e): e is FrameEvent => e.type === 'frame'),
    messages: events.filter((e): e is MessageEvent => e.type === 'message'),
    findings: events.filter((e): e is FindingEvent => e.type === 'finding'),
    handshakes: events.filter((e): e is HandshakeEvent => e.type === 'handshake'),
  };
}

export const text = (m: MessageEvent): string => new TextDecoder().decode(m.data);

/** events without packet/ts (which depend on the split), for split-invariance checks */
export function normalise(events: EngineEvent[]): unknown[] {
  return events.map((e) => {
    const o: Record<string, unknown> = { ...e };
    delete o.ts;
    delete o.packet;
    delete o.firstPacket;
    if (o.data instanceof Uint8Array) o.data = Buffer.from(o.data).toString('hex');
    if (o.header instanceof Uint8Array) o.header = Buffer.from(o.header).toString('hex');
    if (o.wirePayload instanceof Uint8Array) o.wirePayload = Buffer.from(o.wirePayload).toString('hex');
    return o;
  });
}
