/**
 * The UI feed of a session: `take()` returns what changed in a SessionData since the previous
 * call (changed connection rows, new timeline rows, findings and handshakes, totals), or null
 * when nothing did. At most BATCH_MAX_MESSAGES rows and BATCH_MAX_CHARS preview characters per
 * batch, so one push (and its IPC clone) stays bounded; what is left stays pending for the next call. The first batch of a
 * session (and the first after a rewind) holds at most BATCH_FIRST_MESSAGES rows: the page
 * shows its first screen from it while the large ones are still on their way. `rewind()`
 * makes the next batches start again from the first row (a renderer that reloaded).
 *
 * Rows go by column (Batch.rows, shared/row-block.ts): copied from the store's message
 * columns in one pass, no object per row, so a batch costs little to build, to clone to
 * the UI process and to encode for the browser.
 *
 * Memory: batches are fresh copies (a row block of their own, connection rows cloned); the
 * feed keeps only its three cursors and clears the data's change marks.
 */
import type { Batch, ConnectionRow } from '../../shared/api';
import { rowBlock } from './rows';
import type { SessionData } from './session-data';

/**
 * Maximum message rows in one batch: keeps one push (and its IPC clone, ~2 MB at this size)
 * bounded, and the page's work on one batch short (about 20 ms on a quiet machine). Larger
 * batches (50,000) loaded a million rows no faster on the shared 2-core machine and made
 * every batch a main-thread task over 50 ms (docs/benchmarks.md, "UI load at 1,000,000
 * messages, second pass").
 */
export const BATCH_MAX_MESSAGES = 20_000;

/** Maximum rows in a session's first batch: a few screens, built, sent and shown at once. */
export const BATCH_FIRST_MESSAGES = 1_000;

/**
 * Maximum preview characters in one batch (at least one row): 20,000 rows of 40-character
 * previews fit, 20,000 hex previews (200 characters, two-byte strings once a "…" ends them:
 * 8 MB joined, and as much again serialized) would not. Two such batches waiting in the
 * engine host's IPC channel, and the strings of the ones before them that V8 had not collected
 * yet, were most of its peak RSS at the end of a file of 300,000 binary messages.
 */
export const BATCH_MAX_CHARS = 1 << 20;

export class BatchFeed {
  private msg = 0;
  private finding = 0;
  private handshake = 0;

  constructor(
    private readonly d: SessionData,
    private readonly session: number,
  ) {}

  /** true when `take` would return something not yet handed out */
  get pending(): boolean {
    return this.d.changed || this.d.dirty.size > 0;
  }

  /** Make the next batches start again from the first row, connection and finding. */
  rewind(): void {
    const d = this.d;
    this.msg = 0;
    this.finding = 0;
    this.handshake = 0;
    for (const id of d.conns.keys()) d.dirty.add(id);
    d.changed = d.messages.length > 0 || d.findings.length > 0 || d.handshakes.length > 0;
  }

  /** What changed since the previous call, or null when nothing did. */
  take(): Batch | null {
    const d = this.d;
    if (!this.pending) return null;
    const connections: ConnectionRow[] = [];
    for (const id of d.dirty) {
      const c = d.conns.get(id);
      if (c) connections.push({ ...c.row });
    }
    d.dirty.clear();
    const count = d.messages.length;
    const end = Math.min(count, this.msg + (this.msg === 0 ? BATCH_FIRST_MESSAGES : BATCH_MAX_MESSAGES));
    const rows = rowBlock(d, this.msg, end, BATCH_MAX_CHARS);
    this.msg += rows.count;
    const findings = d.findings.slice(this.finding);
    this.finding = d.findings.length;
    const handshakes = d.handshakes.slice(this.handshake);
    this.handshake = d.handshakes.length;
    // more rows left: stay "changed" so the next call continues
    d.changed = this.msg < count;
    return {
      session: this.session,
      connections,
      messages: [],
      rows,
      findings,
      handshakes,
      totals: { packets: d.packetCount, messages: count, findings: d.findings.length, connections: d.connectionTotal },
    };
  }
}
