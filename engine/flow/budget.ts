/**
 * The reassembly memory budget shared by every TCP stream of a capture: each reassembler is
 * bounded on its own (`maxBufferedBytes`), and all of them together by `maxTotal`. Over the
 * total, the stream holding the most out-of-order bytes gives up its oldest hole (the bytes
 * behind it are delivered, the hole becomes a gap), until under budget: never an OOM.
 *
 * It also knows which connections hold bytes behind a hole (`holding`), for gap expiry
 * (gap-expiry.ts).
 *
 * Memory: a set of the connections holding bytes; counts only.
 */
import type { ChunkMeta } from '../types';
import type { TcpReassembler } from '../tcp/reassembler';
import type { TcpConn } from './tcp-conn';

/** the connections to choose from when over budget (the flow table), each once */
export interface ConnSource {
  all(): Iterable<TcpConn>;
}

export class ReassemblyBudget {
  /** out-of-order bytes buffered over all streams */
  total = 0;
  /** connections with out-of-order data waiting behind a hole */
  readonly holding = new Set<TcpConn>();

  constructor(readonly maxTotal: number) {}

  /** Account a connection's buffered bytes after a segment (`before`: what it held before). */
  update(conn: TcpConn, before: number, meta: ChunkMeta, conns: ConnSource): void {
    const after = conn.ra.bufferedBytes + conn.rb.bufferedBytes;
    if (after > 0) this.holding.add(conn);
    else if (before > 0) this.holding.delete(conn);
    if (after !== before) {
      this.total += after - before;
      if (this.total > this.maxTotal) this.release(meta, conns);
    }
  }

  /** bytes a reassembler let go of outside `update` (a hole released by gap expiry) */
  released(n: number): void {
    this.total -= n;
  }

  /** Over budget: release the oldest hole of the fullest stream until under (see module comment). */
  private release(meta: ChunkMeta, conns: ConnSource): void {
    while (this.total > this.maxTotal) {
      let worst: TcpReassembler | undefined;
      let worstConn: TcpConn | undefined;
      for (const c of conns.all()) {
        if (!worst || c.ra.bufferedBytes > worst.bufferedBytes) [worst, worstConn] = [c.ra, c];
        if (c.rb.bufferedBytes > worst.bufferedBytes) [worst, worstConn] = [c.rb, c];
      }
      if (!worst || worst.bufferedBytes === 0 || !worstConn) return;
      const released = worst.releaseFirstHole();
      this.total -= released;
      worstConn.finding('limit-reached', worst === worstConn.ra ? 'a' : 'b', meta, `All TCP streams together buffered more than ${this.maxTotal} out-of-order bytes; a missing range of this stream was declared lost to free ${released} bytes.`);
      if (released === 0) return;
    }
  }
}
