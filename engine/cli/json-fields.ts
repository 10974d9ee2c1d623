/**
 * JSON scalars written as ASCII bytes straight into an output buffer, for the lines of
 * `read --json` that are written most (engine/cli/json.ts: frame lines and message heads).
 * Building, joining and encoding a few short strings per event (and V8's shortest round-trip
 * formatting of a fractional timestamp) cost about as much as escaping the payloads; these
 * writers build no string. Each one takes the buffer, a DataView of it and a position, writes
 * what JSON.stringify would (engine/cli/json-fields.test.ts holds them to it) and returns the
 * end. The caller has made room: every writer may store up to 5 bytes past its end (putTs
 * writes six fraction digits, then drops trailing zeros; putChunk writes whole words).
 *
 * Memory: the constants (`Chunk`) and the digit-pair table are built once, putTs keeps the
 * digits of the last whole second it wrote (16 bytes); nothing is allocated per call but by
 * the fallbacks to String() (numbers outside the fast cases below).
 */

/** An ASCII constant as little-endian 32-bit words, stored 4 bytes at a time. */
export interface Chunk {
  readonly len: number;
  readonly words: Int32Array;
}

export function chunk(s: string): Chunk {
  const words = new Int32Array((s.length + 3) >> 2);
  for (let i = 0; i < s.length; i++) words[i >> 2] |= s.charCodeAt(i) << ((i & 3) * 8);
  return { len: s.length, words };
}

/** c at p (and up to 3 bytes of padding after it) */
export function putChunk(dv: DataView, p: number, c: Chunk): number {
  const w = c.words;
  for (let i = 0; i < w.length; i++) dv.setInt32(p + 4 * i, w[i], true);
  return p + c.len;
}

/** an ASCII string at b[p] */
export function putAscii(b: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** A number as JSON.stringify writes it. */
export function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** "00" to "99": the two ASCII digits of i at 2i and 2i + 1 (two digits per division below) */
const PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 0x30 + ((i / 10) | 0);
  PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** the decimal digits of an integer 0 <= n <= 2^53 */
function putDigits(b: Uint8Array, p: number, n: number): number {
  let len = 1;
  for (let t = 10; t <= n; t *= 10) len++;
  let q = p + len;
  if (n <= 0x7fffffff) {
    let t = n;
    while (t >= 100) {
      const d = (t / 100) | 0;
      const r = 2 * (t - d * 100);
      b[--q] = PAIRS[r + 1];
      b[--q] = PAIRS[r];
      t = d;
    }
    if (t >= 10) {
      b[--q] = PAIRS[2 * t + 1];
      b[--q] = PAIRS[2 * t];
    } else b[--q] = 0x30 + t;
  } else {
    for (let t = n; q > p; t = Math.floor(t / 10)) b[--q] = 0x30 + (t % 10);
  }
  return p + len;
}

/** `num(n)`; integers 0 to 2^53 digit by digit (String(-0) is "0" too) */
export function putNum(b: Uint8Array, p: number, n: number): number {
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) return putDigits(b, p, n);
  return putAscii(b, p, num(n));
}

const TRUE = chunk('true');
const FALSE = chunk('false');

export function putBool(dv: DataView, p: number, v: boolean): number {
  return putChunk(dv, p, v ? TRUE : FALSE);
}

/**
 * `num(ts)` for a timestamp in seconds, without String(ts) when ts is a whole number of
 * microseconds in [0, 2^33) (up to the year 2242): with u = ts * 10^6 rounded and
 * u / 10^6 === ts (a correctly rounded division, so the decimal u * 10^-6 reads back as ts),
 * the digits of u with the trailing zeros of its fraction dropped (f fraction digits left)
 * are what ECMA-262 Number::toString writes. It writes the fewest digits that read back as
 * ts, the nearest of them if several do; no decimal with fewer fraction digits can (a
 * multiple of 10^-(f-1) is at least 10^-f from ours, and two decimals that read back as the
 * same double there are less than its spacing, at most 2^-20 < 10^-6, apart), nor another
 * one with f; and numbers from 10^-6 to 10^21 are written in fixed point. Everything else
 * goes through `num`.
 */
export function putTs(b: Uint8Array, p: number, ts: number): number {
  const u = Math.round(ts * 1e6);
  const whole = Math.floor(ts);
  const frac = u - whole * 1e6;
  if (!(ts >= 0 && ts < 2 ** 33 && u / 1e6 === ts && frac >= 0 && frac < 1e6)) return putAscii(b, p, num(ts));
  // the whole seconds: events come in time order, so most share the last one's
  if (whole !== lastWhole) {
    lastWholeLen = putDigits(lastWholeDigits, 0, whole);
    lastWhole = whole;
  }
  for (let i = 0; i < lastWholeLen; i++) b[p + i] = lastWholeDigits[i];
  p += lastWholeLen;
  if (frac === 0) return p;
  b[p] = 0x2e; // .
  // six fraction digits, two per step, then the trailing zeros dropped (frac > 0: one is not zero)
  const hi = (frac / 10000) | 0;
  const rest = frac - hi * 10000;
  const mid = (rest / 100) | 0;
  const lo = rest - mid * 100;
  b[p + 1] = PAIRS[2 * hi];
  b[p + 2] = PAIRS[2 * hi + 1];
  b[p + 3] = PAIRS[2 * mid];
  b[p + 4] = PAIRS[2 * mid + 1];
  b[p + 5] = PAIRS[2 * lo];
  b[p + 6] = PAIRS[2 * lo + 1];
  let end = p + 7;
  while (b[end - 1] === 0x30) end--;
  return end;
}

/** the digits of the last whole second putTs wrote (at most 11: whole < 2^33) */
const lastWholeDigits = new Uint8Array(16);
let lastWhole = -1;
let lastWholeLen = 0;
