/**
 * Gap expiry: a hole open longer than `limitSeconds` of capture time is declared lost (the
 * reassembler delivers what waited behind it, the hole becomes a gap, reported as `tcp-gap`
 * downstream), so one lost packet neither freezes a conversation on screen (live capture,
 * about 1 s) nor moves what follows it to the end of a file (files, FILE_GAP_TIMEOUT_S).
 * A hole the peer acknowledged goes at once, without waiting (engine/tcp/reassembler.ts
 * `acknowledge`); this bound is for holes no acknowledgment speaks about (one direction
 * captured, or its ACKs lost too).
 *
 * Checked at most every 0.1 s of capture time, over the connections the budget knows to hold
 * bytes. Nothing is kept here but the time of the last check.
 */
import type { ChunkMeta } from '../types';
import type { ReassemblyBudget } from './budget';

/**
 * gapTimeoutSeconds for files: a retransmission normally fills a hole within one RTO (1 s
 * initially, RFC 6298 section 2; 200 ms minimum on Linux); after 10 s the sender has retried
 * three times with exponential backoff (1 + 2 + 4 s) and a capture that still shows no copy
 * will not show one. Events behind such a hole are late by at most this much capture time.
 */
export const FILE_GAP_TIMEOUT_S = 10;

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
