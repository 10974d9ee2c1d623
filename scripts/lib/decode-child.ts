/**
 * Benchmark child: decode one capture with the engine (`analyzeFile` from engine/pipeline.ts)
 * and print one JSON line on stdout: its own decode wall time (after the engine's modules are
 * loaded), `process.resourceUsage().maxRSS`, and event counts.
 *
 *   node --import tsx scripts/lib/decode-child.ts FILE [--verify FILE.truth.json] [--keylog KEYS]
 *   node bench-data/decode-child.mjs FILE      (bundled by the bench with esbuild)
 *
 * With --verify it also hashes every text/binary message payload per connection and
 * direction and compares with the generator's truth (see scripts/gen-capture.ts), which
 * costs a SHA-256 over all payloads, so the timed run goes without it.
 *
 * Memory: keeps only counters and, with --verify, one hash object per connection direction;
 * message payloads are looked at during the callback only.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EngineEvent, SummaryEvent } from '../../shared/events';
import type { CaptureTruth } from '../gen-capture';

export interface DecodeChildResult {
  ok: boolean;
  error?: string;
  /** seconds spent in analyzeFile */
  decodeSeconds: number;
  /** seconds to import the engine */
  loadSeconds: number;
  /** bytes (process.resourceUsage().maxRSS is in KiB) */
  maxRss: number;
  connections: number;
  frames: number;
  messages: number;
  findings: number;
  /** finding id -> count */
  findingIds: Record<string, number>;
  truncatedMessages: number;
  summary?: SummaryEvent;
  /** with --verify: problems found against the truth ([] when all match) */
  mismatches?: string[];
}

interface ConnState {
  client: string;
  hashes: Record<'client' | 'server', Hash>;
  messages: Record<'client' | 'server', number>;
}

async function main(argv: string[]): Promise<DecodeChildResult> {
  const file = argv[0];
  const vi = argv.indexOf('--verify');
  const truthFile = vi >= 0 ? argv[vi + 1] : undefined;
  // a TLS key log (the wss bench capture, scripts/lib/bench-tls.ts)
  const ki = argv.indexOf('--keylog');
  const res: DecodeChildResult = { ok: false, decodeSeconds: 0, loadSeconds: 0, maxRss: 0, connections: 0, frames: 0, messages: 0, findings: 0, findingIds: {}, truncatedMessages: 0 };
  if (!file) {
    res.error = 'usage: decode-child FILE [--verify TRUTH]';
    return res;
  }
  const t0 = performance.now();
  // loaded here (not at the top) so the load time is measured apart from the decode
  const { analyzeFile } = await import('../../engine/pipeline');
  const { KeyLog } = await import('../../engine/tls/keylog');
  const keyLog = new KeyLog();
  if (ki >= 0) keyLog.addFile(argv[ki + 1]);
  const t1 = performance.now();
  res.loadSeconds = (t1 - t0) / 1000;

  const conns = new Map<number, ConnState>();
  const verify = truthFile !== undefined;
  const emit = (ev: EngineEvent): void => {
    switch (ev.type) {
      case 'message':
        res.messages++;
        if (ev.truncated) res.truncatedMessages++;
        if (verify && (ev.opcode === 1 || ev.opcode === 2)) {
          const c = conns.get(ev.conn);
          if (c) {
            c.hashes[ev.dir].update(ev.data);
            c.messages[ev.dir]++;
          }
        }
        break;
      case 'frame':
        res.frames++;
        break;
      case 'connection':
        res.connections++;
        if (verify) {
          conns.set(ev.id, { client: ev.client, hashes: { client: createHash('sha256'), server: createHash('sha256') }, messages: { client: 0, server: 0 } });
        }
        break;
      case 'finding':
        res.findings++;
        res.findingIds[ev.id] = (res.findingIds[ev.id] ?? 0) + 1;
        break;
      default:
        break;
    }
  };
  // payloads read during the emit only (above), as `wsscope read` and the app's engine host
  // decode: the decode-only figure is the configuration that ships
  res.summary = await analyzeFile(file, emit, { keyLog, session: { ephemeralPayloads: true } });
  res.decodeSeconds = (performance.now() - t1) / 1000;
  res.maxRss = process.resourceUsage().maxRSS * 1024;

  if (truthFile) {
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as CaptureTruth;
    const mism: string[] = [];
    const byClient = new Map<string, ConnState>();
    for (const c of conns.values()) byClient.set(c.client, c);
    for (const t of truth.perConnection) {
      const c = byClient.get(t.client);
      if (!c) {
        mism.push(`connection ${t.client} not found`);
        continue;
      }
      for (const d of ['client', 'server'] as const) {
        const want = d === 'client' ? t.fromClient : t.fromServer;
        const got = c.hashes[d].digest('hex');
        if (got !== want.sha256 || c.messages[d] !== want.dataMessages) {
          mism.push(`${t.client} from ${d}: ${c.messages[d]} data messages (want ${want.dataMessages}), payload SHA-256 ${got === want.sha256 ? 'matches' : 'differs'}`);
        }
      }
    }
    res.mismatches = mism.slice(0, 20);
    if (mism.length > 20) res.mismatches.push(`... ${mism.length - 20} more`);
  }
  res.ok = true;
  return res;
}

main(process.argv.slice(2)).then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exitCode = r.ok ? 0 : 1;
  },
  (e: unknown) => {
    process.stdout.write(JSON.stringify({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }) + '\n');
    process.exitCode = 1;
  },
);
