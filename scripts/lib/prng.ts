/**
 * Seeded pseudo-random numbers for the capture generator: sfc32 (Chris Doty-Humphrey's Small
 * Fast Counter, 32-bit) seeded through splitmix32, so one integer seed gives one reproducible
 * sequence on every platform. Not cryptographic; never use it for anything but test data.
 *
 * Memory: holds four 32-bit words; `fill` writes into the caller's buffer.
 */

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    // splitmix32 spreads a small seed over the whole state
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** next uniformly distributed unsigned 32-bit integer */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** uniform in [0, 1) */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** uniform integer in [lo, hi] (both inclusive) */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** log-uniform integer in [lo, hi]: small values as likely per octave as large ones */
  logInt(lo: number, hi: number): number {
    const v = Math.floor(Math.exp(Math.log(lo) + this.float() * (Math.log(hi + 1) - Math.log(lo))));
    return Math.min(hi, Math.max(lo, v));
  }

  /** fill `len` bytes of `buf` from `off` with random bytes */
  fill(buf: Uint8Array, off: number, len: number): void {
    const end = off + len;
    let i = off;
    while (i + 4 <= end) {
      const v = this.u32();
      buf[i] = v;
      buf[i + 1] = v >>> 8;
      buf[i + 2] = v >>> 16;
      buf[i + 3] = v >>> 24;
      i += 4;
    }
    if (i < end) {
      let v = this.u32();
      while (i < end) {
        buf[i++] = v;
        v >>>= 8;
      }
    }
  }
}
