/**
 * IP fragment reassembly for IPv4 (RFC 791 section 3.2, RFC 815 hole tracking) and IPv6
 * (RFC 8200 section 4.5), bounded: at most `maxDatagrams` datagrams and `maxBytes` buffered
 * bytes in flight (the oldest datagram is evicted first), and a datagram whose first fragment
 * is older than `timeout` seconds of *capture* time is dropped (timestamps come from the
 * packets, never from the clock).
 *
 * Contract: `add()` returns null until the datagram is complete, then returns its whole
 * payload (the fragmentable part) in a NEW buffer that the caller owns; the datagram is then
 * forgotten. Fragment bytes are copied in, so callers may pass views of reused buffers.
 * Overlapping fragments: the later bytes win (counted in `stats.overlaps`).
 */

export interface FragmentLimits {
  /** datagrams reassembled at once (default 256) */
  maxDatagrams: number;
  /** bytes buffered across all datagrams (default 8 MiB) */
  maxBytes: number;
  /** seconds of capture time a datagram may stay incomplete (default 30, RFC 8200 says 60 s max) */
  timeout: number;
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = { maxDatagrams: 256, maxBytes: 8 * 1024 * 1024, timeout: 30 };

/** An IP payload can't exceed 65535 bytes (16-bit length fields, jumbograms are never fragmented). */
const MAX_DATAGRAM = 65535;

interface Datagram {
  firstTs: number;
  buf: Uint8Array;
  /** covered byte ranges, flat [start0, end0, start1, end1, ...], sorted and disjoint */
  ranges: number[];
  /** payload length, known once the last fragment (MF = 0) arrived; -1 before */
  total: number;
}

export interface FragmentStats {
  fragments: number;
  reassembled: number;
  /** datagrams dropped: timeout, eviction, inconsistent or invalid fragments */
  dropped: number;
  overlaps: number;
}

export class FragmentReassembler {
  readonly limits: FragmentLimits;
  readonly stats: FragmentStats = { fragments: 0, reassembled: 0, dropped: 0, overlaps: 0 };
  private readonly flights = new Map<string, Datagram>();
  private bytes = 0;

  constructor(limits: Partial<FragmentLimits> = {}) {
    this.limits = { ...DEFAULT_FRAGMENT_LIMITS, ...limits };
  }

  /** datagrams currently incomplete */
  get inFlight(): number {
    return this.flights.size;
  }

  /** bytes currently buffered */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /**
   * Add one fragment. `offset` is the byte offset in the datagram's payload, `more` the
   * More Fragments flag, `data` the fragment's payload. `cut` marks a fragment that the snap
   * length shortened: its datagram can never be completed, so it is dropped.
   * Returns the complete payload (new buffer) or null.
   */
  add(key: string, ts: number, offset: number, more: boolean, data: Uint8Array, cut: boolean): Uint8Array | null {
    this.stats.fragments++;
    this.expire(ts);
    const end = offset + data.length;
    let d = this.flights.get(key);
    // RFC 791 / RFC 8200: every fragment but the last carries a multiple of 8 bytes.
    const invalid = end > MAX_DATAGRAM || (more && data.length % 8 !== 0) || cut;
    if (invalid) {
      if (d !== undefined) this.drop(key, d);
      else this.stats.dropped++;
      return null;
    }
    if (d === undefined) {
      while (this.flights.size >= this.limits.maxDatagrams) this.evictOldest();
      d = { firstTs: ts, buf: new Uint8Array(0), ranges: [], total: -1 };
      this.flights.set(key, d);
    }
    if (!more) {
      if ((d.total >= 0 && d.total !== end) || (d.ranges.length > 0 && d.ranges[d.ranges.length - 1] > end)) {
        this.drop(key, d);
        return null;
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      this.drop(key, d);
      return null;
    }
    if (end > d.buf.length) {
      let cap = Math.max(d.buf.length * 2, 2048);
      while (cap < end) cap *= 2;
      cap = Math.min(cap, MAX_DATAGRAM);
      if (d.total >= 0) cap = Math.max(end, Math.min(cap, d.total));
      const grow = cap - d.buf.length;
      while (this.bytes + grow > this.limits.maxBytes && this.flights.size > 1) {
        const oldest = this.flights.keys().next().value as string;
        if (oldest === key) break;
        this.evictOldest();
      }
      if (this.bytes + grow > this.limits.maxBytes) {
        this.drop(key, d);
        return null;
      }
      const nb = new Uint8Array(cap);
      nb.set(d.buf);
      d.buf = nb;
      this.bytes += grow;
    }
    d.buf.set(data, offset);
    if (data.length > 0 && insertRange(d.ranges, offset, end)) this.stats.overlaps++;
    if (d.total >= 0 && (d.total === 0 || (d.ranges.length === 2 && d.ranges[0] === 0 && d.ranges[1] === d.total))) {
      this.flights.delete(key);
      this.bytes -= d.buf.length;
      this.stats.reassembled++;
      return d.buf.length === d.total ? d.buf : d.buf.slice(0, d.total);
    }
    return null;
  }

  private expire(ts: number): void {
    // Insertion order is first-fragment order, so the oldest datagrams come first.
    for (const [key, d] of this.flights) {
      if (ts - d.firstTs <= this.limits.timeout) break;
      this.drop(key, d);
    }
  }

  private evictOldest(): void {
    const first = this.flights.entries().next();
    if (first.done === true) return;
    this.drop(first.value[0], first.value[1]);
  }

  private drop(key: string, d: Datagram): void {
    this.flights.delete(key);
    this.bytes -= d.buf.length;
    this.stats.dropped++;
  }
}

/**
 * Merge [start, end) into a sorted list of disjoint ranges. Returns true when it overlapped
 * bytes already covered.
 */
export function insertRange(r: number[], start: number, end: number): boolean {
  let i = 0;
  while (i < r.length && r[i + 1] < start) i += 2;
  // r[i..] are ranges that end at or after `start`
  let overlap = false;
  let s = start;
  let e = end;
  let j = i;
  while (j < r.length && r[j] <= end) {
    if (r[j] < end && r[j + 1] > start) overlap = true;
    if (r[j] < s) s = r[j];
    if (r[j + 1] > e) e = r[j + 1];
    j += 2;
  }
  r.splice(i, j - i, s, e);
  return overlap;
}
