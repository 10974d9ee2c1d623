/**
 * Wire format of the browser shell (`wsscope serve`): the WsscopeApi contract over one
 * WebSocket at `ws://127.0.0.1:PORT/api?token=TOKEN`, JSON text messages.
 *   renderer -> engine: {"t":"call","id":N,"name":CallName,"args":[...]}
 *   engine -> renderer: {"t":"result","id":N,"result":Result}
 *                       {"t":"push","name":PushName,"payload":...}
 * Typed arrays do not survive JSON, so `encodeWire` replaces them with {"$u8": base64} /
 * {"$u32": base64} and `decodeWire` restores them. No Node types (runs in the browser too).
 */
import type { CallName, PushName, PushPayloads, Result } from './api';

export type WireCall = { t: 'call'; id: number; name: CallName; args: unknown[] };
export type WireResult = { t: 'result'; id: number; result: Result<unknown> };
export type WirePush = { [K in PushName]: { t: 'push'; name: K; payload: PushPayloads[K] } }[PushName];
export type WireMessage = WireCall | WireResult | WirePush;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Native base64 where the runtime has it (Node's Buffer in the engine, `Uint8Array.fromBase64`
 * / `toBase64` in current Chromium): a filter answer of a million indexes is 4 MB of bytes,
 * and a hand-written loop over it costs tens of milliseconds. The loop stays as the fallback.
 */
interface NativeBase64 {
  Buffer?: { from(a: ArrayBuffer | string, b?: number | string, c?: number): { toString(enc: string): string; buffer: ArrayBuffer; byteOffset: number; byteLength: number } };
}
const native = globalThis as unknown as NativeBase64;
const U8 = Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array; prototype: { toBase64?: () => string } };

export function bytesToBase64(b: Uint8Array): string {
  if (native.Buffer) return native.Buffer.from(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength).toString('base64');
  if (typeof U8.prototype.toBase64 === 'function') return (b as unknown as { toBase64(): string }).toBase64();
  return bytesToBase64Js(b);
}

/** The portable encoder (exported for tests). */
export function bytesToBase64Js(b: Uint8Array): string {
  const parts: string[] = [];
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
    if (out.length >= 65536) {
      parts.push(out);
      out = '';
    }
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + '=';
  }
  parts.push(out);
  return parts.join('');
}

const REV = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) REV[B64.charCodeAt(i)] = i;

/** Strict: throws on characters outside the base64 alphabet (like the fallback loop). */
export function base64ToBytes(s: string): Uint8Array {
  if (typeof U8.fromBase64 === 'function') return U8.fromBase64(s);
  return base64ToBytesJs(s);
}

/** The portable decoder (exported for tests). */
export function base64ToBytesJs(s: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? REV[c] : -1;
    if (v < 0) throw new Error('invalid base64');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

export function encodeWire(msg: WireMessage): string {
  return JSON.stringify(msg, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return { $u8: bytesToBase64(v) };
    if (v instanceof Uint32Array) return { $u32: bytesToBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    return v;
  });
}

export function decodeWire(text: string): WireMessage {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$u8 === 'string' && Object.keys(o).length === 1) return base64ToBytes(o.$u8);
      if (typeof o.$u32 === 'string' && Object.keys(o).length === 1) {
        const b = base64ToBytes(o.$u32);
        const copy = new Uint8Array(b.length);
        copy.set(b);
        return new Uint32Array(copy.buffer, 0, copy.length >> 2);
      }
    }
    return v;
  }) as WireMessage;
}
