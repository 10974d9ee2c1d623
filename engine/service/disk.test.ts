/**
 * The session store's payload bytes on a bounded and on a full disk, for real: a generated
 * capture (scripts/gen-capture.ts) opened by an EngineService whose scratch folder is a 2 MiB
 * tmpfs (mounted here; root only, which CI is), and the kept-payload limit on an ordinary
 * folder. What is checked is what the user gets: every row and finding still there, the error
 * pushed with what was lost and what to do, the final progress saying the session is
 * incomplete, the spill file never past its bounds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, Batch, ProgressInfo } from '../../shared/api';
import { generateCapture, type CaptureTruth } from '../../scripts/gen-capture';
import { startServe } from '../serve/server';
import { nodeFork, spawnEngine } from './client';
import { testService, type Push } from '../../test/kit/service';
import type { EngineService, EngineServiceOptions } from './engine-service';

let dir: string;
let full: string;
let capture: string;
let truth: CaptureTruth;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-disk-'));
  full = join(dir, 'full');
  mkdirSync(full);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', full]);
  capture = join(dir, 'gen.pcap');
  truth = await generateCapture({ out: capture, bytes: 6 << 20, connections: 8, seed: 7 });
});

afterAll(() => {
  execFileSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

/** Opens `capture` in a fresh service, waits for the end, and returns what was pushed and the service (disposed by the caller). */
async function load(opts: Partial<EngineServiceOptions>): Promise<{ svc: EngineService; pushes: Push[] }> {
  const pushes: Push[] = [];
  const svc = testService(dir, pushes, opts);
  const r = await svc.call('openFile', [capture]);
  expect(r.ok).toBe(true);
  await svc.idle();
  return { svc, pushes };
}

const lastTotals = (pushes: Push[]): Batch['totals'] => (pushes.filter((p) => p[0] === 'batch').pop()?.[1] as Batch).totals;
const errors = (pushes: Push[]): ApiError[] => pushes.filter((p) => p[0] === 'error').map((p) => p[1] as ApiError);
const finalProgress = (pushes: Push[]): ProgressInfo => pushes.filter((p) => p[0] === 'progress').pop()?.[1] as ProgressInfo;
const findingIds = (pushes: Push[]): string[] => pushes.flatMap((p) => (p[0] === 'batch' ? p[1].findings.map((f) => f.id) : []));

/** Sizes of the files under `root` (the spill files), recursively. */
function fileSizes(root: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(statSync(join(e.parentPath, e.name)).size);
  return out;
}

describe('kept payload bytes', () => {
  it('stops keeping payloads at the session limit with one payload-limit finding, and keeps every row', async () => {
    const messages = truth.messages;
    const work = join(dir, 'work-limit');
    const limit = 3 << 20;
    const { svc, pushes } = await load({ workDir: work, payloadBudget: 1 << 20, payloadLimit: limit });
    try {
      const totals = lastTotals(pushes);
      expect(totals.messages).toBe(messages);
      expect(findingIds(pushes).filter((id) => id === 'payload-limit')).toHaveLength(1);
      expect(errors(pushes)).toEqual([]);
      // the spill file holds what memory could not, and never more than the limit
      const spills = fileSizes(work);
      expect(spills.length).toBe(1);
      expect(spills[0]).toBeGreaterThan(1 << 20);
      expect(spills[0]).toBeLessThanOrEqual(limit);
      const p = finalProgress(pushes);
      expect(p.done).toBe(true);
      expect(p.incomplete).toMatch(/^the payloads of \d+ frames and messages were not kept whole: the kept-payload limit of 3145728 bytes was reached$/);
      // the first message is whole; the last one kept its row and size, not its bytes
      const first = await svc.call('getMessageDetail', [0]);
      const last = await svc.call('getMessageDetail', [messages - 1]);
      if (!first.ok || !last.ok) throw new Error('detail failed');
      const d0 = first.value as { data: Uint8Array; dataTruncated: boolean; row: { length: number } };
      const dn = last.value as { data: Uint8Array; dataTruncated: boolean; row: { length: number; truncated: boolean } };
      expect(d0.dataTruncated).toBe(false);
      expect(d0.data.length).toBe(Math.min(d0.row.length, 1 << 20));
      expect(dn.row.truncated).toBe(true);
      expect(dn.dataTruncated).toBe(true);
      expect(dn.data.length).toBe(0);
    } finally {
      await svc.dispose();
    }
  });
});

describe('a full scratch disk', () => {
  it('keeps every row and finding, pushes a disk-full error that says what was lost and what to do, and never reports a complete session', async () => {
    const roomy = await load({ workDir: join(dir, 'work-roomy'), payloadBudget: 1 << 20 });
    const want = lastTotals(roomy.pushes);
    const wantFindings = findingIds(roomy.pushes);
    await roomy.svc.dispose();
    expect(want.messages).toBeGreaterThan(1000);

    const { svc, pushes } = await load({ workDir: full, payloadBudget: 1 << 20 });
    try {
      const totals = lastTotals(pushes);
      expect(totals.messages).toBe(want.messages);
      expect(totals.connections).toBe(want.connections);
      // every finding of the roomy run, plus the one that says payloads were lost
      expect(findingIds(pushes).sort()).toEqual([...wantFindings, 'payload-spill-failed'].sort());
      const errs = errors(pushes);
      expect(errs).toHaveLength(1);
      expect(errs[0].code).toBe('disk-full');
      expect(errs[0].message).toMatch(
        new RegExp(
          `^Writing decoded payloads to ${full}/wsscope-\\d+-[0-9a-f]+/payloads\\.bin failed: the disk is full \\(ENOSPC\\)\\. From (message|frame) #\\d+ on, payload bytes are not kept \\(rows, sizes and findings are; payloads show as truncated\\)\\. Free space there, or start wsscope with TMPDIR on a bigger disk, and open the capture again\\.$`,
        ),
      );
      const p = finalProgress(pushes);
      expect(p.done).toBe(true);
      expect(p.incomplete).toMatch(/were not kept whole: writing them to the scratch folder failed \(ENOSPC\)$/);
      expect(totals.messages).toBe(truth.messages);
      expect(fileSizes(full).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 << 20);
      // an export onto the full disk: said so, and no partial file left there
      const target = join(full, 'export.ndjson');
      expect(await svc.call('exportData', ['ndjson', target])).toEqual({
        ok: false,
        error: { code: 'disk-full', message: `The disk holding ${target} is full (ENOSPC): it was not written. Free space there or choose another folder.` },
      });
      expect(readdirSync(full).filter((n) => !n.startsWith('wsscope-'))).toEqual([]);
      // what was kept before the disk filled reads back, from the file and from memory
      const roomyDetail = await load({ workDir: join(dir, 'work-roomy2') });
      try {
        for (const i of [0, 1, 50, 100]) {
          const a = await svc.call('getMessageDetail', [i]);
          const b = await roomyDetail.svc.call('getMessageDetail', [i]);
          expect(a).toEqual(b);
        }
      } finally {
        await roomyDetail.svc.dispose();
      }
    } finally {
      await svc.dispose();
    }
  });
});

describe('wsscope serve on a full scratch disk', () => {
  it('prints the disk-full error on its console, where the operator sees it', async () => {
    const ui = join(dir, 'ui');
    mkdirSync(ui);
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>wsscope</title>');
    const engine = spawnEngine({ fork: nodeFork({ args: [`--config-dir=${join(dir, 'config')}`, `--work-dir=${full}`, '--payload-budget=1048576'] }) });
    let said: (line: string) => void = () => {};
    const line = new Promise<string>((resolve) => (said = resolve));
    const handle = await startServe({ file: capture, engine, staticDir: ui, log: (l) => l.includes('disk is full') && said(l) });
    try {
      expect(await line).toMatch(new RegExp(`^wsscope serve: Writing decoded payloads to ${full}/wsscope-\\d+-[0-9a-f]+/payloads\\.bin failed: the disk is full \\(ENOSPC\\)\\. From .* and open the capture again\\.$`));
    } finally {
      await handle.close();
      await engine.close();
    }
  });
});
