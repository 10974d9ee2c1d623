/**
 * Flows by 4-tuple, both directions, in one open-addressing hash table keyed by the port pair
 * in either order, `(low << 16) | high`: a lookup hashes one int32 and compares the decoder's
 * cached address strings, allocating nothing. A Map keyed by a string built per packet would allocate and
 * hash that string each time; nested maps per address (what this replaced) cost a Map per
 * flow when addresses are many (a SYN flood from random sources); a Map keyed by the port
 * pair alone spends a flood's time rehashing as keys come and go.
 *
 * The key is the same from both directions, so a flow takes one slot (a flood's flows cost one
 * insertion and one deletion each, not two); flows of different address pairs on the same
 * port pair take a slot each and are told apart by their ports and addresses (`FlowEnds`: a
 * flow's two endpoints, either order). Linear probing, deletion by backward shift (Knuth,
 * TAOCP vol. 3, 6.4, Algorithm R), so no tombstones pile up under churn. Iteration is not
 * offered: owners that need an order keep their own (tcp-flows.ts sorts by creation).
 *
 * Memory: a key array and a value array of a power-of-two size, at least twice the flows
 * stored; doubled when more than half full, never shrunk (the owners bound the flows: at
 * most maxFlows of them).
 */

export interface Endpoint {
  addr: string;
  port: number;
  v6: boolean;
}

/**
 * `:port` in one string made from its character codes. A number's text comes from V8's
 * number-string cache, and a flood's random client ports mostly miss it: each miss is a call
 * into the runtime, the largest single cost of announcing such a flow; a table of the 65,536
 * texts instead costs two cache misses (its slot, the string) per random port.
 */
function portText(p: number): string {
  if (p >>> 0 !== p || p > 0xffff) return `:${p}`;
  const c = 48; // '0'
  if (p < 10) return String.fromCharCode(58, c + p);
  if (p < 100) return String.fromCharCode(58, c + ((p / 10) | 0), c + (p % 10));
  if (p < 1000) return String.fromCharCode(58, c + ((p / 100) | 0), c + (((p / 10) | 0) % 10), c + (p % 10));
  if (p < 10000) return String.fromCharCode(58, c + ((p / 1000) | 0), c + (((p / 100) | 0) % 10), c + (((p / 10) | 0) % 10), c + (p % 10));
  return String.fromCharCode(58, c + ((p / 10000) | 0), c + (((p / 1000) | 0) % 10), c + (((p / 100) | 0) % 10), c + (((p / 10) | 0) % 10), c + (p % 10));
}

/** `addr:port`, `[addr]:port` for IPv6 (RFC 5952 section 6) */
export function endpointString(e: Endpoint): string {
  return e.v6 ? `[${e.addr}]${portText(e.port)}` : e.addr + portText(e.port);
}

/** the key of a port pair, the same from both directions */
function portKey(sp: number, dp: number): number {
  return sp <= dp ? (sp << 16) | dp : (dp << 16) | sp;
}

const INITIAL_SLOTS = 1024;

/** what the map keeps: a flow with its two endpoints (either order) */
export interface FlowEnds {
  readonly a: Endpoint;
  readonly b: Endpoint;
  /**
   * The map's: the flow's key, stored by `add` so that `delete` need not read the endpoints
   * (under a flood, a flow deleted is one no packet touched for long: objects out of the caches).
   */
  mapKey: number;
}

export class FlowMap<T extends FlowEnds> {
  private keys = new Int32Array(INITIAL_SLOTS);
  private vals: Array<T | null> = new Array<T | null>(INITIAL_SLOTS).fill(null);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;
  /** the flow `get` found last (null when it was deleted) */
  private last: T | null = null;

  /** the home slot of a key (Fibonacci hashing: the ports' low bits alone would cluster) */
  private home(k: number): number {
    return (Math.imul(k, 0x9e3779b1) >>> 16) & this.mask;
  }

  private matches(v: T, src: string, dst: string, sp: number, dp: number): boolean {
    const x = v.a;
    const y = v.b;
    if (x.port === sp && y.port === dp && x.addr === src && y.addr === dst) return true;
    return y.port === sp && x.port === dp && y.addr === src && x.addr === dst;
  }

  get(src: string, dst: string, sp: number, dp: number): T | undefined {
    // a packet of the flow found last (a burst of segments of one connection) needs no probe
    const last = this.last;
    if (last !== null && this.matches(last, src, dst, sp, dp)) return last;
    const k = portKey(sp, dp);
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    // the step runs before every probe, the first included: V8 then has its type feedback
    // when it optimizes this, instead of throwing the optimized code away at the first
    // collision (`--trace-deopt`: "Insufficient type feedback for binary operation")
    for (let i = (this.home(k) - 1) & mask; ; ) {
      i = (i + 1) & mask;
      const v = vals[i];
      if (v === null) return undefined;
      if (keys[i] === k && this.matches(v, src, dst, sp, dp)) return (this.last = v);
    }
  }

  /** store a flow (not stored yet, and no other flow of its 4-tuple), found from both directions */
  add(v: T): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const k = portKey(v.a.port, v.b.port);
    v.mapKey = k;
    this.put(k, v);
  }

  delete(v: T): void {
    if (this.last === v) this.last = null;
    this.drop(v.mapKey, v);
  }

  private put(k: number, v: T): void {
    let i = this.home(k);
    while (this.vals[i] !== null) i = (i + 1) & this.mask;
    this.keys[i] = k;
    this.vals[i] = v;
    this.count++;
  }

  private drop(k: number, v: T): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = this.home(k);
    for (; vals[i] !== v || keys[i] !== k; i = (i + 1) & mask) if (vals[i] === null) return;
    this.count--;
    // backward shift: move later entries of the run into the hole when their home slot allows
    for (let j = (i + 1) & mask; vals[j] !== null; j = (j + 1) & mask) {
      const h = this.home(keys[j]);
      // entry j may move to i when its home is not in the cyclic range (i, j]
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        keys[i] = keys[j];
        vals[i] = vals[j];
        i = j;
      }
    }
    vals[i] = null;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const size = oldKeys.length * 2;
    this.keys = new Int32Array(size);
    this.vals = new Array<T | null>(size).fill(null);
    this.mask = size - 1;
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const v = oldVals[i];
      if (v !== null) this.put(oldKeys[i], v);
    }
  }
}
