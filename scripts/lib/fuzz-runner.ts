/**
 * Parent side of the fuzz/corpus runner: a small pool of forked worker processes
 * (./fuzz-worker under tsx), one job in flight per worker, each job watched:
 *  - time: a job still running after `timeLimitMs` is a hang; the worker is SIGKILLed;
 *  - memory: the worker's VmRSS (/proc/PID/status) is polled every 20 ms during a job and
 *    read again from the reply; over `rssLimitMb` the worker is killed and the job fails;
 *  - V8's heap is capped (--max-old-space-size) so a runaway allocation dies instead of
 *    swapping; a worker that dies mid-job (OOM abort, uncaught error) is a crash.
 * A killed or dead worker is replaced before the next job.
 *
 * Memory: the pool keeps only per-worker bookkeeping; replies are handed to the caller.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerJob, WorkerReply } from './fuzz-worker';

export type JobStatus = 'ok' | 'crash' | 'hang' | 'rss' | 'died';

export interface JobResult extends Omit<WorkerReply, 'status'> {
  status: JobStatus;
}

export interface PoolOptions {
  workers: number;
  timeLimitMs: number;
  rssLimitMb: number;
  sources: string[];
}

const WORKER = fileURLToPath(new URL('./fuzz-worker.ts', import.meta.url));
const TSX = fileURLToPath(import.meta.resolve('tsx'));

function rssOf(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  stderr: string;
  /** settles the current job */
  done: ((r: JobResult) => void) | null;
  job: WorkerJob | null;
  timer: NodeJS.Timeout | null;
  poll: NodeJS.Timeout | null;
  maxRss: number;
}

export class FuzzPool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly waiting: Array<(s: Slot) => void> = [];
  /** largest RSS seen in any worker, MiB */
  maxRss = 0;
  private closed = false;
  /** the workers' scratch files (a private folder, removed by `close`) */
  private readonly scratch = mkdtempSync(join(tmpdir(), 'wsscope-fuzz-'));

  constructor(private readonly o: PoolOptions) {
    for (let i = 0; i < o.workers; i++) {
      const s = this.spawn();
      this.slots.push(s);
      this.idle.push(s);
    }
  }

  private spawn(): Slot {
    const heapMb = Math.max(64, Math.floor(this.o.rssLimitMb * 0.75));
    const child = fork(WORKER, [], {
      execArgv: ['--import', TSX, `--max-old-space-size=${heapMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const slot: Slot = { child, ready: Promise.resolve(), stderr: '', done: null, job: null, timer: null, poll: null, maxRss: 0 };
    child.stderr!.on('data', (d: Buffer) => {
      slot.stderr = (slot.stderr + d.toString('utf8')).slice(-4000);
    });
    slot.ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: { ready?: boolean }): void => {
        if (m.ready) {
          child.off('message', onMsg);
          resolve();
        }
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`fuzz worker exited (${code}) before it was ready: ${slot.stderr}`)));
    });
    slot.ready.catch(() => undefined);
    child.on('message', (m: WorkerReply & { ready?: boolean }) => {
      if (m.ready) return;
      if (m.id === -1) {
        // uncaught error in the worker: the exit handler settles the job as a crash
        slot.stderr += `\n${m.error ?? ''}`;
        return;
      }
      this.settle(slot, { ...m, status: m.status });
    });
    child.on('exit', (code, signal) => {
      if (slot.done) this.settle(slot, { id: slot.job?.id ?? -1, status: 'died', ms: 0, rss: slot.maxRss, error: `worker exited (code ${code}, signal ${signal}): ${slot.stderr.slice(-2000)}` });
    });
    child.send({ type: 'init', sources: this.o.sources, scratch: this.scratch });
    return slot;
  }

  private settle(slot: Slot, r: JobResult): void {
    const done = slot.done;
    if (!done) return;
    slot.done = null;
    slot.job = null;
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.poll) clearInterval(slot.poll);
    slot.timer = slot.poll = null;
    r.rss = Math.max(r.rss, slot.maxRss);
    if (r.status === 'ok' && r.rss > this.o.rssLimitMb) r.status = 'rss';
    this.maxRss = Math.max(this.maxRss, r.rss);
    const healthy = r.status === 'ok' || r.status === 'crash';
    if (!healthy) this.replace(slot);
    else this.release(slot);
    done(r);
  }

  private replace(slot: Slot): void {
    slot.child.removeAllListeners('exit');
    if (slot.child.exitCode === null && slot.child.signalCode === null) slot.child.kill('SIGKILL');
    if (this.closed) return;
    const i = this.slots.indexOf(slot);
    const fresh = this.spawn();
    this.slots[i] = fresh;
    this.release(fresh);
  }

  private release(slot: Slot): void {
    const w = this.waiting.shift();
    if (w) w(slot);
    else this.idle.push(slot);
  }

  private acquire(): Promise<Slot> {
    const s = this.idle.pop();
    if (s) return Promise.resolve(s);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Run one job on the next free worker; `timeLimitMs` overrides the pool's for this job. */
  async run(job: WorkerJob, timeLimitMs = this.o.timeLimitMs): Promise<JobResult> {
    const slot = await this.acquire();
    await slot.ready;
    return new Promise<JobResult>((resolve) => {
      slot.done = resolve;
      slot.job = job;
      slot.maxRss = 0;
      const pid = slot.child.pid!;
      slot.timer = setTimeout(() => {
        slot.child.kill('SIGKILL');
        this.settle(slot, { id: job.id, status: 'hang', ms: timeLimitMs, rss: slot.maxRss, error: `no answer within ${timeLimitMs} ms` });
      }, timeLimitMs);
      slot.poll = setInterval(() => {
        const rss = rssOf(pid);
        if (rss > slot.maxRss) slot.maxRss = rss;
        if (rss > this.o.rssLimitMb) {
          slot.child.kill('SIGKILL');
          this.settle(slot, { id: job.id, status: 'rss', ms: 0, rss, error: `RSS ${rss.toFixed(0)} MiB over the ${this.o.rssLimitMb} MiB limit` });
        }
      }, 20);
      slot.child.send(job);
    });
  }

  /** Stop every worker (by its own pid). */
  close(): void {
    this.closed = true;
    for (const s of this.slots) {
      s.child.removeAllListeners('exit');
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
