/**
 * Child-process side of the fuzz/corpus runner (forked by ./fuzz-runner with tsx loaded).
 * One job at a time, over the IPC channel:
 *  - `{ type: 'init', sources, scratch }`: read (and parse) the source captures once; `scratch`
 *    is a private folder (the pool's) for the file the streamed JSON goes to;
 *  - `{ type: 'fuzz', id, seed, source }`: mutate source `source` with `seed` (./fuzz-mutate;
 *    source APP_SOURCE: the subprotocol shape of ./fuzz-app instead),
 *    push it through CaptureParser (random chunk sizes) and the Pipeline, turn every event into
 *    its wire form and JSON, and stream it as `wsscope read --json` does; the streamed lines
 *    must be those JSON texts byte for byte (./fuzz-decode);
 *  - `{ type: 'file', id, path, opts }`: `analyzeFile` on a file, collecting the golden form.
 * Replies `{ id, status: 'ok' | 'crash', ms, rss, ... }`. An exception that escapes the engine
 * is a crash (its stack is sent). Hangs and memory are watched by the parent, which kills us.
 *
 * Memory: sources stay loaded for the process's life; each job's buffers are dropped after it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureFileError } from '../../engine/capture/file-source';
import { analyzeFile, type AnalyzeOptions } from '../../engine/pipeline';
import { JsonStream, decodeBytes } from './fuzz-decode';
import { GoldenCollector } from './fuzz-golden';
import { mutate, parseRecords, type ParsedRecord } from './fuzz-mutate';
import { readSidecarKeys } from './fuzz-tls';
import { APP_SOURCE, appInput } from './fuzz-app';

export type WorkerJob =
  | { type: 'fuzz'; id: number; seed: number; source: number }
  | { type: 'file'; id: number; path: string; opts?: AnalyzeOptions };

export type WorkerInit = { type: 'init'; sources: string[]; scratch: string };

export interface WorkerReply {
  id: number;
  status: 'ok' | 'crash';
  ms: number;
  /** resident set size after the job, MiB */
  rss: number;
  desc?: string;
  error?: string;
  golden?: import('./fuzz-golden').Golden;
  events?: number;
  /** stack of an error the engine caught internally (a TcpSession gave a direction up) */
  swallowed?: string;
}

interface Source {
  bytes: Uint8Array;
  recs: ParsedRecord[] | null | undefined;
  /** a key log for the source's TLS sessions (./fuzz-tls.ts) */
  keys: string | undefined;
}

const sources: Source[] = [];
/** where this worker's streamed JSON goes (a file in the pool's scratch folder) */
let json: JsonStream | undefined;

function send(m: unknown): void {
  process.send!(m);
}

/** source `i` mutated with `seed` (./fuzz-mutate) */
function mutated(i: number, seed: number): { bytes: Uint8Array; desc: string } {
  const s = sources[i]!;
  if (s.recs === undefined) s.recs = parseRecords(s.bytes);
  return mutate(s.bytes, s.recs, seed);
}

async function runJob(job: WorkerJob): Promise<WorkerReply> {
  const t0 = performance.now();
  const reply: WorkerReply = { id: job.id, status: 'ok', ms: 0, rss: 0 };
  try {
    if (job.type === 'fuzz') {
      const m = job.source === APP_SOURCE ? appInput(job.seed) : mutated(job.source, job.seed);
      reply.desc = m.desc;
      const keys = job.source === APP_SOURCE ? undefined : sources[job.source]?.keys;
      const d = decodeBytes(m.bytes, job.seed ^ 0x5bd1e995, keys, json);
      reply.events = d.events;
      if (d.streamMismatch) throw new Error(`read --json streamed ${d.streamMismatch}`);
      if (d.swallowed) reply.swallowed = d.swallowed instanceof Error ? (d.swallowed.stack ?? d.swallowed.message) : String(d.swallowed);
    } else {
      const col = new GoldenCollector();
      try {
        await analyzeFile(job.path, col.sink, job.opts ?? {});
      } catch (e) {
        if (!(e instanceof CaptureFileError)) throw e;
        col.g.error = e.code;
      }
      reply.golden = col.g;
    }
  } catch (e) {
    reply.status = 'crash';
    reply.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  reply.ms = performance.now() - t0;
  reply.rss = process.memoryUsage.rss() / 1048576;
  return reply;
}

process.on('message', (m: WorkerInit | WorkerJob) => {
  if (m.type === 'init') {
    json = new JsonStream(join(m.scratch, `json-${process.pid}`));
    sources.length = 0;
    for (const p of m.sources) sources.push({ bytes: new Uint8Array(readFileSync(p)), recs: undefined, keys: readSidecarKeys(p) });
    send({ ready: true });
    return;
  }
  void runJob(m).then(send);
});

process.on('uncaughtException', (e) => {
  send({ id: -1, status: 'crash', ms: 0, rss: 0, error: `uncaught: ${e.stack ?? e.message}` });
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  send({ id: -1, status: 'crash', ms: 0, rss: 0, error: `unhandled rejection: ${e instanceof Error ? e.stack : String(e)}` });
  process.exit(70);
});
