/**
 * The benchmark's inflate floor (scripts/lib/inflate-child.ts) on a small generated
 * permessage-deflate capture: it regenerates the capture from the truth sidecar, and every
 * message both paths inflate equals the generator's plaintext.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture, type CaptureTruth } from '../gen-capture';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir = '';
let truthFile = '';
let truth: CaptureTruth;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-inflate-child-'));
  truth = await generateCapture({ out: join(dir, 'd.pcap'), bytes: 1_500_000, deflate: true, connections: 16, seed: 3 });
  truthFile = join(dir, 'd.pcap.truth.json');
  writeFileSync(truthFile, JSON.stringify(truth));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('inflate-child', () => {
  it('inflates every compressed message of the capture correctly on both paths and reports the times', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/lib/inflate-child.ts'), truthFile, '--runs', '1'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; mismatches: number; messages: number; inBytes: number; outBytes: number; wasmSeconds: number; zlibSeconds: number };
    expect(out.ok).toBe(true);
    expect(out.mismatches).toBe(0);
    expect(out.messages).toBe(truth.compressedMessages);
    expect(out.outBytes).toBeGreaterThan(out.inBytes);
    expect(out.wasmSeconds).toBeGreaterThan(0);
    expect(out.zlibSeconds).toBeGreaterThan(0);
  });
});
