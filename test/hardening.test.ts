/**
 * The malformed-capture corpus (test/corpus, built by scripts/make-corpus.ts from
 * scripts/lib/fuzz-corpus.ts): every case is decoded in a watched worker process and must
 *  - decode without an exception escaping the engine, within 10 s and 512 MiB RSS;
 *  - raise the finding ids the spec requires (listed by hand per case) and none it forbids;
 *  - match its committed golden decode (NAME.expected.json);
 *  - be byte-identical to what the generator builds now (the corpus is regenerable).
 * The two big cases (1 GiB inflation bomb, a million continuation frames) are generated into
 * a temporary directory here; only their golden decode is committed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASES } from '../scripts/lib/fuzz-corpus';
import { FuzzPool } from '../scripts/lib/fuzz-runner';
import { findingIds } from '../scripts/lib/fuzz-golden';
import { CORPUS_DIR, fileName, sha256, writeCase, type ExpectedFile } from '../scripts/make-corpus';

const TIME_BUDGET_MS = 10_000;

let pool: FuzzPool;
let tmp: string;
let nextId = 0;

beforeAll(() => {
  pool = new FuzzPool({ workers: 1, timeLimitMs: TIME_BUDGET_MS, rssLimitMb: 512, sources: [] });
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-hardening-'));
});

afterAll(() => {
  pool.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('malformed-capture corpus', () => {
  it('has at least 50 cases with unique names and stays under 3 MB committed', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    let total = 0;
    for (const c of CASES) if (c.commit !== false) total += readFileSync(join(CORPUS_DIR, fileName(c))).length;
    expect(total).toBeLessThan(3_000_000);
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.checks}`, async () => {
      const exp = JSON.parse(readFileSync(join(CORPUS_DIR, `${c.name}.expected.json`), 'utf8')) as ExpectedFile;
      let path: string;
      if (c.commit === false) {
        const w = writeCase(c, tmp);
        path = w.path;
        expect(w.sha, 'the generator builds the same bytes as when the golden was written').toBe(exp.sha256);
      } else {
        path = join(CORPUS_DIR, fileName(c));
        const committed = new Uint8Array(readFileSync(path));
        expect(sha256(committed), 'the committed file is what the generator builds').toBe(sha256(c.build()));
        expect(sha256(committed)).toBe(exp.sha256);
      }
      const r = await pool.run({ type: 'file', id: nextId++, path });
      if (c.commit === false) rmSync(path, { force: true });
      expect(r.error ?? '', 'no exception, hang or memory blow-up').toBe('');
      expect(r.status).toBe('ok');
      expect(r.ms).toBeLessThan(TIME_BUDGET_MS);
      const g = r.golden!;
      if (c.rejects) {
        expect(g.error).toBe(c.rejects);
      } else {
        expect(g.error).toBeUndefined();
        const ids = findingIds(g);
        for (const id of c.expect) expect([...ids], `finding ${id} required`).toContain(id);
        for (const id of c.absent ?? []) expect([...ids], `finding ${id} forbidden`).not.toContain(id);
        if (c.check) expect(c.check(g)).toBeNull();
      }
      expect(g, `golden decode changed; if intended: npx tsx scripts/make-corpus.ts --only ${c.name}, then review the diff`).toEqual(exp.golden);
    });
  }
});
