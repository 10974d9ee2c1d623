/**
 * IP address formatting: IPv4 dotted quad, IPv6 per RFC 5952 (lower-case hex, no leading
 * zeros, the longest run of two or more zero groups compressed to "::" (the first on a tie),
 * IPv4-mapped addresses as ::ffff:a.b.c.d, RFC 5952 section 5).
 *
 * `AddressCache` sits on the hot path: one capture has few distinct addresses but millions of
 * packets, so formatted strings are kept in small direct-mapped caches keyed by the raw bytes.
 * Both caches are bounded (fixed slot count) and never allocate on a hit.
 *
 * Memory: functions read the given bytes during the call only and keep no reference to them.
 */

/** each octet's decimal text followed by a dot, and without */
const OCTET_DOT: readonly string[] = Array.from({ length: 256 }, (_, i) => `${i}.`);
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => `${i}`);

/**
 * Dotted quad of the 4 bytes at `off`. Three joins of table strings, not a template of seven
 * parts: a flood from random sources formats an address per packet, and each join makes a
 * string (about 40 instead of 60 ns and half the garbage, issue 10).
 */
export function formatIPv4(b: Uint8Array, off: number): string {
  return OCTET_DOT[b[off]] + OCTET_DOT[b[off + 1]] + OCTET_DOT[b[off + 2]] + OCTET[b[off + 3]];
}

export function formatIPv6(b: Uint8Array, off: number): string {
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i] << 8) | b[off + 2 * i + 1];
  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  // RFC 5952 section 4.2: compress the longest run of zero groups (length >= 2; first on a tie).
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && g[i] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      const len = i - runStart;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    // RFC 5952 section 4.1 / 4.3: no leading zeros, lower case.
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += g[i].toString(16);
  }
  return s;
}

const V4_SLOTS = 1024;
const V6_SLOTS = 256;

/** Bounded caches of formatted addresses (direct-mapped: a colliding address replaces the slot). */
export class AddressCache {
  private readonly v4Keys = new Int32Array(V4_SLOTS);
  private readonly v4Strs: Array<string | undefined> = new Array<string | undefined>(V4_SLOTS);
  private readonly v6Keys = new Int32Array(V6_SLOTS * 4);
  private readonly v6Strs: Array<string | undefined> = new Array<string | undefined>(V6_SLOTS);

  /** Dotted quad of the 4 bytes at `off`. */
  v4(b: Uint8Array, off: number): string {
    const key = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
    // Fold the high bytes in: private networks differ mostly in the last octets.
    const slot = ((key ^ (key >>> 10) ^ (key >>> 20)) & (V4_SLOTS - 1)) >>> 0;
    const hit = this.v4Strs[slot];
    if (hit !== undefined && this.v4Keys[slot] === key) return hit;
    const s = formatIPv4(b, off);
    this.v4Keys[slot] = key;
    this.v4Strs[slot] = s;
    return s;
  }

  /** RFC 5952 text of the 16 bytes at `off`. */
  v6(b: Uint8Array, off: number): string {
    const k0 = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
    const k1 = (b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7];
    const k2 = (b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11];
    const k3 = (b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15];
    const h = k0 ^ k1 ^ k2 ^ k3;
    const slot = (h ^ (h >>> 8) ^ (h >>> 16) ^ (h >>> 24)) & (V6_SLOTS - 1);
    const ks = this.v6Keys;
    const i = slot * 4;
    const hit = this.v6Strs[slot];
    if (hit !== undefined && ks[i] === k0 && ks[i + 1] === k1 && ks[i + 2] === k2 && ks[i + 3] === k3) return hit;
    const s = formatIPv6(b, off);
    ks[i] = k0;
    ks[i + 1] = k1;
    ks[i + 2] = k2;
    ks[i + 3] = k3;
    this.v6Strs[slot] = s;
    return s;
  }
}
