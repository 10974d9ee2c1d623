/**
 * Message bodies for the capture generator: lorem text (with some multi-byte UTF-8 words),
 * JSON-like chat messages and record arrays, random and structured binary. Every function
 * writes exactly `len` bytes into the caller's scratch buffer from offset 0, so nothing is
 * allocated per message; text output is always valid UTF-8 (RFC 6455 section 5.6).
 *
 * Memory: writes into `out` only; keeps no reference to it.
 */
import type { Prng } from './prng';

const WORDS = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut ' +
  'labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris ' +
  'nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse ' +
  'cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui ' +
  'officia deserunt mollit anim id est laborum café naïve über Ωmega 日本語 emoji🙂 ça señor'
)
  .split(' ')
  .map((w) => Buffer.from(w, 'utf8'));

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const TYPES = ['chat', 'presence', 'typing', 'ack', 'update', 'quote'];
const SYMBOLS = ['EURUSD', 'BTCUSD', 'AAPL', 'MSFT', 'GOOG', 'TSLA'];

export type TextKind = 'lorem' | 'chat' | 'records';
export type BinaryKind = 'random' | 'structured';

/** Fill out[off, end) with space-separated words; pads the tail with ASCII letters. */
function words(rng: Prng, out: Buffer, off: number, end: number): void {
  let p = off;
  for (;;) {
    const w = WORDS[rng.int(0, WORDS.length - 1)]!;
    if (p + w.length + 1 > end) break;
    out.set(w, p);
    p += w.length;
    out[p++] = 0x20;
  }
  while (p < end) out[p++] = 0x61 + (p % 26);
}

/** Write an ASCII string; returns the new offset. */
function ascii(out: Buffer, off: number, s: string): number {
  return off + out.write(s, off, 'latin1');
}

export function textMessage(rng: Prng, out: Buffer, len: number, kind: TextKind, seq: number): void {
  if (kind === 'chat') {
    const head =
      `{"seq":${seq},"type":"${rng.pick(TYPES)}","user":"${rng.pick(USERS)}",` +
      `"room":${rng.int(1, 40)},"ts":${1700000000000 + seq * 17},"body":"`;
    if (head.length + 2 <= len) {
      const p = ascii(out, 0, head);
      words(rng, out, p, len - 2);
      out[len - 2] = 0x22; // "
      out[len - 1] = 0x7d; // }
      return;
    }
  } else if (kind === 'records' && len >= 64) {
    // [{"id":1,"sym":"AAPL","px":123.45,"qty":10},...] padded inside a final "pad" string
    let p = ascii(out, 0, '[');
    let id = seq * 1000;
    for (;;) {
      const rec = `{"id":${id++},"sym":"${rng.pick(SYMBOLS)}","px":${(rng.int(1000, 99999) / 100).toFixed(2)},"qty":${rng.int(1, 500)}},`;
      if (p + rec.length + 12 > len) break;
      p = ascii(out, p, rec);
    }
    p = ascii(out, p, '{"pad":"');
    while (p < len - 3) out[p++] = 0x2e; // .
    ascii(out, len - 3, '"}]');
    return;
  }
  words(rng, out, 0, len);
}

export function binaryMessage(rng: Prng, out: Buffer, len: number, kind: BinaryKind, seq: number): void {
  if (kind === 'random') {
    rng.fill(out, 0, len);
    return;
  }
  // 16-byte records: u32 sequence, u32 channel, float64 sample; compressible like real telemetry
  let p = 0;
  let i = 0;
  const channel = rng.int(0, 15);
  while (p + 16 <= len) {
    out.writeUInt32LE((seq * 4096 + i) >>> 0, p); // wraps past 2^20 messages (captures over ~4.9 GB)
    out.writeUInt32LE(channel, p + 4);
    out.writeDoubleLE(Math.round(Math.sin((seq + i) / 50) * 1000) / 1000, p + 8);
    p += 16;
    i++;
  }
  while (p < len) out[p++] = i & 0xff;
}
