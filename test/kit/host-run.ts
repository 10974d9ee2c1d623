/**
 * Test-only: open a capture in a fresh engine host started as `wsscope serve` starts it
 * (engine/service/host.ts through nodeFork), wait for its final progress, and report the
 * host's peak RSS (VmHWM from /proc/PID/status) with what its batches carried. Used by the
 * engine-RSS tests of issue 10 (test/engine-rss.test.ts, test/engine-rss-messages.test.ts).
 * Memory: the findings and connection ids pushed (bounded by the store's caps) and a few counters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { nodeFork, spawnEngine } from '../../engine/service/client';
import type { Batch, ProgressInfo } from '../../shared/api';

export interface HostRun {
  /** the host's peak RSS (bytes) */
  hwm: number;
  findings: { id: string; text: string }[];
  /** connection rows pushed, over all batches (a connection that changed between batches is pushed again) */
  connectionRows: number;
  /** the connections those rows were of */
  connectionIds: Set<number>;
  /** the largest message count a connection row carried */
  maxConnMessages: number;
  /** timeline rows pushed, over all batches */
  rows: number;
  /** those of them with a decoded meaning (Socket.IO, JSON-RPC, ...) */
  meanings: number;
  totals: Batch['totals'] | null;
}

/** Opens `file` in an engine host whose config and work folders are under `dir`, until its final progress. */
export async function openInHost(file: string, dir: string): Promise<HostRun> {
  const engine = spawnEngine({ fork: nodeFork({ args: [`--config-dir=${join(dir, 'config')}`, `--work-dir=${join(dir, 'work')}`] }), watchdog: false });
  try {
    await engine.ready();
    const pid = engine.pid;
    const run: HostRun = { hwm: 0, findings: [], connectionRows: 0, connectionIds: new Set(), maxConnMessages: 0, rows: 0, meanings: 0, totals: null };
    const done = new Promise<ProgressInfo>((resolve) =>
      engine.onPush((name, p) => {
        if (name === 'batch') {
          const b = p as Batch;
          run.findings.push(...b.findings);
          run.connectionRows += b.connections.length;
          run.rows += b.rows?.count ?? 0;
          for (const m of b.rows?.meanings?.split('\n') ?? []) if (m !== '') run.meanings++;
          for (const c of b.connections) {
            run.maxConnMessages = Math.max(run.maxConnMessages, c.messages);
            run.connectionIds.add(c.id);
          }
          run.totals = b.totals;
        }
        if (name === 'progress' && (p as ProgressInfo).done) resolve(p as ProgressInfo);
      }),
    );
    expect((await engine.call('openFile', [file])).ok).toBe(true);
    await done;
    run.hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
    return run;
  } finally {
    await engine.close();
  }
}
