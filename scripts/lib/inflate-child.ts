/**
 * Benchmark floor for permessage-deflate: how long inflating alone takes. Regenerates the
 * benchmark's deflate capture from its truth sidecar (same generator, seed, size and
 * connections, written to a temp file and removed) to collect every compressed message as
 * the sender framed it, then inflates them all, direction by direction in capture order, with
 * the engine's own Inflater: once on the wasm path (libdeflate, as the CLI runs it) and once
 * on zlib's streaming path. Prints one JSON line:
 *   { ok, messages, inBytes, outBytes, wasmSeconds, zlibSeconds }
 * (best of `--runs`, in-process, after one warm-up pass per path). In the warm-up passes every
 * inflated message's SHA-256 is compared with that of the generator's plaintext, so the
 * figures are of correct work.
 *
 *   node --import tsx scripts/lib/inflate-child.ts TRUTH.json [--runs N]
 *
 * Memory: holds the capture's compressed messages (about 90% of the file) and a 32-byte
 * digest of each plaintext.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inflater, type InflateEngine } from '../../engine/ws/inflate';
import { generateCapture, type CaptureTruth } from '../gen-capture';

interface Compressed {
  key: string;
  wire: Uint8Array;
}

function takeoverOf(extensions: string, dir: 'client' | 'server'): boolean {
  return !extensions.includes(`${dir}_no_context_takeover`);
}

async function main(argv: string[]): Promise<void> {
  const truth = JSON.parse(readFileSync(argv[0]!, 'utf8')) as CaptureTruth;
  const ri = argv.indexOf('--runs');
  const runs = ri >= 0 ? Number(argv[ri + 1]) : 3;
  if (!truth.deflate) throw new Error('not a permessage-deflate capture');
  const tmp = mkdtempSync(join(tmpdir(), 'wsscope-inflate-'));
  const msgs: Compressed[] = [];
  let mismatch = 0;
  const digest = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
  const plain: Buffer[] = [];
  try {
    await generateCapture({
      out: join(tmp, 'c.pcap'),
      bytes: truth.targetBytes,
      deflate: true,
      connections: truth.connections,
      seed: truth.seed,
      format: truth.format,
      onMessage: (m) => {
        if (!m.compressed) return;
        plain.push(digest(m.data));
        // the generator reuses its buffers: keep a copy
        msgs.push({ key: `${m.conn} ${m.dir}`, wire: new Uint8Array(m.wire) });
      },
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const ext = new Map(truth.perConnection.map((c) => [c.id, c.extensions]));

  const pass = (engine: InflateEngine, check: boolean): { seconds: number; out: number } => {
    const inflaters = new Map<string, Inflater>();
    let out = 0;
    const t0 = performance.now();
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      let f = inflaters.get(m.key);
      if (f === undefined) {
        const [conn, dir] = m.key.split(' ') as [string, 'client' | 'server'];
        f = new Inflater(takeoverOf(ext.get(Number(conn)) ?? '', dir), 64 << 20, { engine, views: true });
        inflaters.set(m.key, f);
      }
      const r = f.inflate(m.wire, true);
      out += r.data.length;
      if (check && (r.error !== undefined || !digest(r.data).equals(plain[i]!))) mismatch++;
    }
    const seconds = (performance.now() - t0) / 1000;
    for (const f of inflaters.values()) f.close();
    return { seconds, out };
  };

  const inBytes = msgs.reduce((a, m) => a + m.wire.length, 0);
  pass('wasm', true);
  pass('stream', true);
  let wasm = Infinity;
  let zlib = Infinity;
  let outBytes = 0;
  for (let k = 0; k < runs; k++) {
    const a = pass('wasm', false);
    wasm = Math.min(wasm, a.seconds);
    outBytes = a.out;
    zlib = Math.min(zlib, pass('stream', false).seconds);
  }
  process.stdout.write(JSON.stringify({ ok: mismatch === 0, mismatches: mismatch, messages: msgs.length, inBytes, outBytes, wasmSeconds: wasm, zlibSeconds: zlib }) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stdout.write(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n');
  process.exitCode = 1;
});
