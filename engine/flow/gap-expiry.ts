/**
 * Gap expiry for live capture: a hole open longer than `limitSeconds` of capture time is
 * declared lost (the reassembler delivers what waited behind it, the hole becomes a gap,
 * reported as `tcp-gap` downstream), so one lost packet does not freeze a conversation on
 * screen. Files use Infinity: a late retransmission can always still come.
 *
 * Checked at most every 0.1 s of capture time, over the connections the budget knows to hold
 * bytes. Nothing is kept here but the time of the last check.
 */
import type { ChunkMeta } from '../types';
import type { ReassemblyBudget } from './budget';

export class GapExpiry {
  private last = 0;

  constructor(
    private readonly limitSeconds: number,
    private readonly budget: ReassemblyBudget,
  ) {}

  /** call per packet; cheap unless a connection holds bytes and 0.1 s passed */
  tick(meta: ChunkMeta): void {
    if (this.budget.holding.size === 0 || meta.ts - this.last < 0.1) return;
    this.last = meta.ts;
    const limit = this.limitSeconds;
    if (!(limit < Infinity)) return;
    for (const conn of this.budget.holding) {
      if (conn.failed) {
        this.budget.holding.delete(conn);
        continue;
      }
      conn.contain(meta, () => {
        for (const r of [conn.ra, conn.rb]) {
          while (meta.ts - r.waitingSince > limit) {
            const released = r.releaseFirstHole();
            this.budget.released(released);
            if (released === 0) break;
          }
        }
      });
      if (conn.ra.bufferedBytes + conn.rb.bufferedBytes === 0) this.budget.holding.delete(conn);
    }
  }
}
