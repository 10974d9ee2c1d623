/**
 * Wrap-safe TCP sequence-number arithmetic (RFC 9293 section 3.4: sequence numbers are
 * compared modulo 2^32, "a <= b" meaning b is reached from a within half the space).
 *
 * Contract: inputs are unsigned 32-bit integers (0 .. 2^32-1) as JS numbers; outputs of
 * `seqAdd` are too. Pure functions, no allocation, no state.
 */

/**
 * Signed distance from `b` to `a` (a - b) in (-2^31, 2^31]. The exact half-way point is
 * ambiguous in modulo arithmetic; we resolve it to +2^31 so the result range is
 * half-open and `seqDiff(a, b)` is never -2^31.
 */
export function seqDiff(a: number, b: number): number {
  // `| 0` is ToInt32: reduces (a - b) modulo 2^32 into [-2^31, 2^31).
  const d = (a - b) | 0;
  return d === -0x80000000 ? 0x80000000 : d;
}

/** a comes strictly before b (modulo 2^32). */
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** a comes before b or is b (modulo 2^32). */
export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

/** a + n modulo 2^32, as an unsigned 32-bit number; n may be negative. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
