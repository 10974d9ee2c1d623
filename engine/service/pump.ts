/**
 * The batch pump: while something feeds the current session (a file being read, a live
 * capture), a timer takes a batch from its store every `intervalMs` and pushes it, then the
 * latest progress, so the UI gets a few messages a second instead of one per packet
 * (style.md item 12).
 *
 * Producers `hold()` the pump and call the release they got when they end; the timer runs
 * while at least one hold is out. `flush()` pushes every batch still pending at once (the end
 * of a file or capture); `finish(p)` flushes and pushes a file's final progress;
 * `replay()` sends the session again from its first row, then its latest progress (a page
 * that joins after a file was read learns that it was read to the end). A replay of a
 * finished session pushes one batch per turn of the event loop, and builds the next only
 * while fewer than REPLAY_IN_FLIGHT wait to be written out (`written`): the first (small,
 * engine/store/batches.ts) reaches the page at once, the next ones follow while the page
 * works on it, and calls and pings are answered in between instead of after a million rows.
 * (Built all at once, the batches only left as the event loop got to write them: the second
 * reached the `wsscope serve` relay 110-220 ms after the first.)
 *
 * Memory: one pending ProgressInfo (the latest replaces the previous) and the last one
 * pushed; batches are the store's and go straight to `push`; a replay keeps the write
 * promises of at most REPLAY_IN_FLIGHT batches.
 */
import type { Batch, ProgressInfo } from '../../shared/api';
import type { PushFn } from './types';

/** What the pump needs from a session store (engine/store/session-store.ts). */
export interface BatchSource {
  takeBatch(): Batch | null;
  /** true when takeBatch would return rows not yet handed out */
  readonly pending: boolean;
  /** make the next batches start again from the first row */
  rewind(): void;
}

export interface BatchPumpOptions {
  push: PushFn;
  intervalMs: number;
  /** the current session's store (null while nothing is loaded) */
  source: () => BatchSource | null;
  /**
   * Resolves once everything pushed so far was handed to the transport (engine/service/host.ts:
   * `process.send`'s callback); without it a replay only yields a turn of the event loop
   * between batches.
   */
  written?: () => Promise<void>;
}

/** Upper bound on the batches one flush pushes (a store hands out its rows in bounded batches). */
const MAX_FLUSH_BATCHES = 1_000_000;

/**
 * Batches a replay lets wait in the transport (pushed, not yet written): enough that the
 * processes down the line (the `wsscope serve` relay, the browser) never wait for the engine
 * on a busy machine, few enough to bound the memory (each is at most BATCH_MAX_MESSAGES rows).
 */
export const REPLAY_IN_FLIGHT = 8;

/**
 * Batches the timer and the end of a file let wait in the transport while the file is still
 * being decoded: the decoder's own memory peaks then, so fewer than a replay's.
 */
export const READ_IN_FLIGHT = 2;

export class BatchPump {
  private timer: ReturnType<typeof setInterval> | null = null;
  private progress: ProgressInfo | null = null;
  /** the latest progress of the current session (pushed or pending), for replay */
  private latest: ProgressInfo | null = null;
  private holds = 0;
  private closed = false;
  /** the replay pushing a finished session now (one at a time; see `replay`) */
  private draining: Promise<void> | null = null;
  /** batches pushed and not yet written out by the transport (counted only with `written`) */
  private unwritten = 0;
  /** paced pushes waiting for a write (woken by each one; at most one per running pace) */
  private onWritten: Array<() => void> = [];

  constructor(private readonly opts: BatchPumpOptions) {}

  /** Runs the timer until the returned function is called (calling it again does nothing). */
  hold(): () => void {
    this.holds++;
    if (!this.timer && !this.closed) this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.holds === 0) this.stopTimer();
    };
  }

  /** The progress to push with the next tick (replaces one not yet pushed). */
  setProgress(p: ProgressInfo | null): void {
    this.progress = p;
    this.latest = p;
  }

  /**
   * The end of a file: every pending batch, then its final progress (`done`). With `written`,
   * the batches go out paced like a replay's (at most REPLAY_IN_FLIGHT unwritten), so a file
   * read faster than the transport drains never has its whole backlog serialized at once; the
   * returned promise resolves once the final progress was pushed (or the session changed).
   */
  finish(p: ProgressInfo): Promise<void> {
    this.progress = null;
    this.latest = p;
    const store = this.opts.source();
    if (!this.opts.written || !store) {
      this.flush();
      this.opts.push('progress', p);
      return Promise.resolve();
    }
    return this.pace(store, READ_IN_FLIGHT, () => !this.closed && this.opts.source() === store).then(() => {
      if (!this.closed && this.opts.source() === store) this.opts.push('progress', p);
    });
  }

  /**
   * Push one batch (if anything changed and the transport is not behind) and the pending
   * progress. While REPLAY_IN_FLIGHT batches wait to be written, rows stay in the store
   * (compact, typed columns) instead of piling up as serialized batches in the IPC queue
   * (docs/hardening.md, many-findings: 100 MB of queued batches before this).
   */
  tick(): void {
    if (this.unwritten < READ_IN_FLIGHT) {
      const b = this.opts.source()?.takeBatch();
      if (b) this.pushBatch(b);
    }
    if (this.progress) {
      this.opts.push('progress', this.progress);
      this.progress = null;
    }
  }

  /** push a batch; with `written`, count it until the transport has written it */
  private pushBatch(b: Batch): Promise<void> | undefined {
    this.opts.push('batch', b);
    const w = this.opts.written?.();
    if (!w) return undefined;
    this.unwritten++;
    return w.then(() => {
      this.unwritten--;
      for (const wake of this.onWritten.splice(0)) wake();
    });
  }

  /** Push every batch still pending (end of a file or capture); the pending progress is dropped. */
  flush(): void {
    this.progress = null;
    const store = this.opts.source();
    if (!store) return;
    for (let i = 0; i < MAX_FLUSH_BATCHES && store.pending; i++) {
      const b = store.takeBatch();
      if (!b) break;
      this.opts.push('batch', b);
    }
  }

  /**
   * Everything of the current session again, from its first row (see WsscopeApi.replay).
   * Resolves once a finished session's last batch and its latest progress were pushed; a
   * replay asked for while one is running restarts that one from the first row.
   */
  replay(): Promise<void> {
    const store = this.opts.source();
    if (!store) return Promise.resolve();
    store.rewind();
    // a session still growing keeps its timer: one batch now, the rest on its ticks
    if (this.timer) {
      this.tick();
      return Promise.resolve();
    }
    this.draining ??= this.drain(store).finally(() => {
      this.draining = null;
    });
    return this.draining;
  }

  /**
   * Pushes `store`'s pending batches, then the latest progress. Before building a batch it
   * waits a turn of the event loop and, with REPLAY_IN_FLIGHT batches unwritten, for the
   * oldest one's write.
   */
  private async drain(store: BatchSource): Promise<void> {
    // another session, a reading or capture that holds the timer, or the engine closing: theirs now
    const ours = (): boolean => !(this.closed || this.timer || this.opts.source() !== store);
    if (!(await this.pace(store, REPLAY_IN_FLIGHT, ours))) return;
    if (this.latest) this.opts.push('progress', this.latest);
  }

  /**
   * Pushes `store`'s pending batches while `ours()` holds, one per turn of the event loop,
   * waiting for the oldest write while `limit` are unwritten. False if `ours()` stopped it.
   */
  private async pace(store: BatchSource, limit: number, ours: () => boolean): Promise<boolean> {
    for (let i = 0; i < MAX_FLUSH_BATCHES && store.pending; i++) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      // the timer's batches count too: everything pushed and not yet written
      while (this.unwritten >= limit && ours()) await new Promise<void>((resolve) => this.onWritten.push(resolve));
      if (!ours()) return false;
      const b = store.takeBatch();
      if (!b) break;
      this.pushBatch(b);
    }
    return true;
  }

  /** Stops the timer for good (engine shutting down); holds taken later start nothing. */
  close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private stopTimer(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
