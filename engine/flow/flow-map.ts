/**
 * Flows by 4-tuple, both directions, in one Map keyed by the port pair: `(sp << 16) | dp` is
 * a small integer (Smi) to V8 for every port pair, hashed without allocating, where a key
 * string built per packet would be allocated and hashed each time, and a map per address (the
 * nested maps this replaced) costs a Map per flow when the addresses are many (a SYN flood
 * from random sources). Different address pairs on the same port pair share a key; their
 * flows are then kept in a short array and told apart by their addresses (string compares
 * of the decoder's cached address strings, no allocation).
 *
 * A flow is stored under both directions' keys (once when they are equal), `ends` names its
 * two endpoints. Iteration order is not part of the contract: owners that need an order keep
 * their own (tcp-flows.ts sorts by creation).
 *
 * Memory: one entry per key, an array only while two flows share a key; `delete` removes
 * the flow's entries.
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

export class FlowMap<T extends object> {
  private readonly byPorts = new Map<number, T | T[]>();

  /** `first`, `second`: a flow's two endpoints (either order) */
  constructor(
    private readonly first: (v: T) => Endpoint,
    private readonly second: (v: T) => Endpoint,
  ) {}

  private matches(v: T, src: string, dst: string, sp: number, dp: number): boolean {
    const x = this.first(v);
    const y = this.second(v);
    if (x.port === sp && y.port === dp && x.addr === src && y.addr === dst) return true;
    return y.port === sp && x.port === dp && y.addr === src && x.addr === dst;
  }

  get(src: string, dst: string, sp: number, dp: number): T | undefined {
    const e = this.byPorts.get(portKey(sp, dp));
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return this.matches(e, src, dst, sp, dp) ? e : undefined;
    for (const v of e) if (this.matches(v, src, dst, sp, dp)) return v;
    return undefined;
  }

  /** store a flow (not stored yet, and no other flow of its 4-tuple) under both directions */
  add(v: T): void {
    const x = this.first(v);
    const y = this.second(v);
    const k1 = portKey(x.port, y.port);
    const k2 = portKey(y.port, x.port);
    this.put(k1, v);
    if (k2 !== k1) this.put(k2, v);
  }

  delete(v: T): void {
    const x = this.first(v);
    const y = this.second(v);
    const k1 = portKey(x.port, y.port);
    const k2 = portKey(y.port, x.port);
    this.drop(k1, v);
    if (k2 !== k1) this.drop(k2, v);
  }

  private put(k: number, v: T): void {
    const e = this.byPorts.get(k);
    if (e === undefined) this.byPorts.set(k, v);
    else if (Array.isArray(e)) e.push(v);
    else this.byPorts.set(k, [e, v]);
  }

  private drop(k: number, v: T): void {
    const e = this.byPorts.get(k);
    if (e === v) this.byPorts.delete(k);
    else if (Array.isArray(e)) {
      const i = e.indexOf(v);
      if (i >= 0) e.splice(i, 1);
      if (e.length === 1) this.byPorts.set(k, e[0]);
    }
  }
}
