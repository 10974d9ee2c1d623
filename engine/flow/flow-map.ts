/**
 * Flows keyed by (src, dst, srcPort, dstPort) without building a key string per packet: the
 * decoder hands out cached address strings, whose hashes V8 keeps, so three small Map
 * lookups cost less than hashing a freshly concatenated string. A flow is stored under both
 * directions' keys by its owner.
 *
 * The ports are one int32 key, `(sp << 16) | dp`: a small integer (Smi) to V8 for every port
 * pair, where `sp * 65536 + dp` is a heap number for any source port >= 32768 (every ephemeral
 * port), boxed and hashed as a double on every lookup.
 *
 * Memory: one entry per key set; `delete` removes one key, and the inner maps it empties.
 */

export interface Endpoint {
  addr: string;
  port: number;
  v6: boolean;
}

export function endpointString(e: Endpoint): string {
  return e.v6 ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`;
}

function portKey(sp: number, dp: number): number {
  return (sp << 16) | dp;
}

export class FlowMap<T> {
  private readonly bySrc = new Map<string, Map<string, Map<number, T>>>();

  get(src: string, dst: string, sp: number, dp: number): T | undefined {
    return this.bySrc.get(src)?.get(dst)?.get(portKey(sp, dp));
  }

  set(src: string, dst: string, sp: number, dp: number, v: T): void {
    let byDst = this.bySrc.get(src);
    if (!byDst) this.bySrc.set(src, (byDst = new Map()));
    let byPorts = byDst.get(dst);
    if (!byPorts) byDst.set(dst, (byPorts = new Map()));
    byPorts.set(portKey(sp, dp), v);
  }

  delete(src: string, dst: string, sp: number, dp: number): void {
    const byDst = this.bySrc.get(src);
    const byPorts = byDst?.get(dst);
    if (!byDst || !byPorts) return;
    byPorts.delete(portKey(sp, dp));
    // a flood from many addresses must not leave an empty map per address behind
    if (byPorts.size === 0) {
      byDst.delete(dst);
      if (byDst.size === 0) this.bySrc.delete(src);
    }
  }

  /** every stored value once per key (a flow stored under both directions comes twice) */
  *values(): IterableIterator<T> {
    for (const byDst of this.bySrc.values()) for (const byPorts of byDst.values()) yield* byPorts.values();
  }
}
