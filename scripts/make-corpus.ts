/**
 * Regenerates the malformed-capture corpus (test/corpus): every case of scripts/lib/fuzz-corpus
 * is built deterministically, written as `NAME.EXT` (cases too big to commit go to a temporary
 * directory instead), decoded by the engine in a watched worker process, and its golden decode
 * written as `NAME.expected.json` together with the file's SHA-256.
 *
 *   tsx scripts/make-corpus.ts [--out test/corpus] [--only NAME[,NAME...]]
 *   tsx scripts/make-corpus.ts --table      (print the corpus table of docs/hardening.md)
 *
 * Run it after an intended change of the engine's output, then review the golden diff.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CASES, type CorpusCase } from './lib/fuzz-corpus';
import { FuzzPool, type JobStatus } from './lib/fuzz-runner';
import type { Golden } from './lib/fuzz-golden';

export const CORPUS_DIR = resolve(import.meta.dirname, '../test/corpus');

export interface ExpectedFile {
  case: string;
  file: string;
  bytes: number;
  sha256: string;
  /** how the engine's decode of the file went when the golden was written */
  status: JobStatus;
  error?: string;
  golden: Golden | null;
}

export function fileName(c: CorpusCase): string {
  return `${c.name}.${c.ext}`;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Build a case and write it into `dir`; returns its path and bytes' hash. */
export function writeCase(c: CorpusCase, dir: string): { path: string; sha: string; bytes: number } {
  const b = c.build();
  const path = join(dir, fileName(c));
  writeFileSync(path, b);
  return { path, sha: sha256(b), bytes: b.length };
}

/** The corpus as a markdown table: case, file, what it checks, required and forbidden findings. */
export function markdownTable(): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const ids = (l: readonly string[] | undefined): string => (l && l.length ? l.map((x) => `\`${x}\``).join(', ') : '-');
  const rows = CASES.map((c) => {
    const expect = c.rejects ? `rejected: \`${c.rejects}\`` : ids(c.expect);
    const where = c.commit === false ? ' (generated at test time)' : '';
    return `| \`${c.name}\`${where} | ${cell(c.checks)} | ${expect} | ${ids(c.absent)} |`;
  });
  return ['| case | what it checks | required findings | forbidden findings |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: CORPUS_DIR },
      only: { type: 'string' },
      table: { type: 'boolean', default: false },
    },
  });
  if (values.table) {
    process.stdout.write(markdownTable());
    return;
  }
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const only = values.only ? new Set(values.only.split(',')) : null;
  const tmp = mkdtempSync(join(tmpdir(), 'wsscope-corpus-'));
  const pool = new FuzzPool({ workers: 1, timeLimitMs: 30_000, rssLimitMb: 1024, sources: [] });
  let total = 0;
  let id = 0;
  try {
    for (const c of CASES) {
      if (only && !only.has(c.name)) continue;
      const commit = c.commit !== false;
      const w = writeCase(c, commit ? out : tmp);
      if (commit) total += w.bytes;
      const r = await pool.run({ type: 'file', id: id++, path: w.path });
      const exp: ExpectedFile = { case: c.name, file: fileName(c), bytes: w.bytes, sha256: w.sha, status: r.status, golden: r.golden ?? null };
      if (r.error) exp.error = r.error.split('\n').slice(0, 6).join('\n');
      writeFileSync(join(out, `${c.name}.expected.json`), JSON.stringify(exp, null, 1) + '\n');
      if (!commit) rmSync(w.path);
      const ids = r.golden ? Object.keys(r.golden.findingCounts).join(',') : '';
      process.stdout.write(`${r.status.padEnd(5)} ${r.ms.toFixed(0).padStart(6)} ms ${r.rss.toFixed(0).padStart(4)} MiB ${String(w.bytes).padStart(9)} B  ${c.name}  [${ids}]${r.golden?.error ? ` rejected:${r.golden.error}` : ''}\n`);
    }
  } finally {
    pool.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`corpus: ${CASES.length} cases, ${(total / 1048576).toFixed(2)} MiB committed in ${out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await main();
}
