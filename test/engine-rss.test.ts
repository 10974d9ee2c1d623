/**
 * The engine process (engine/service/host.ts, as `wsscope serve` and the desktop app run it)
 * stays under the 300 MB RSS target of issue 10 on a multi-connection decompression bomb
 * (scripts/gen-bombs.ts `inflate-8conn`, scaled to 4 connections each inflating 256 MiB,
 * 64 MiB messages): the payload store moves its memory in reused fixed-size chunks and the
 * host's sessions hand inflated messages out as views (docs/hardening.md, "Engine process").
 * Peak RSS is the host's VmHWM (/proc/PID/status), read after its final progress.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { writeBomb } from '../scripts/gen-bombs';
import { nodeFork, spawnEngine } from '../engine/service/client';
import type { ProgressInfo } from '../shared/api';

const dir = mkdtempSync(join(tmpdir(), 'wsscope-rss-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the engine host decodes a multi-connection inflate bomb under 300 MB peak RSS', async () => {
  const file = join(dir, 'bomb.pcap');
  writeBomb('inflate-8conn', file, 0.5);
  const engine = spawnEngine({ fork: nodeFork({ args: [`--config-dir=${join(dir, 'config')}`, `--work-dir=${join(dir, 'work')}`] }), watchdog: false });
  try {
    await engine.ready();
    const pid = engine.pid;
    let findings: string[] = [];
    const done = new Promise<ProgressInfo>((resolve) =>
      engine.onPush((name, p) => {
        if (name === 'batch') findings = findings.concat((p as { findings: { id: string }[] }).findings.map((f) => f.id));
        if (name === 'progress' && (p as ProgressInfo).done) resolve(p as ProgressInfo);
      }),
    );
    expect((await engine.call('openFile', [file])).ok).toBe(true);
    await done;
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
    // the bomb did inflate past the in-memory budget (the store spilled), and the host stayed bounded
    expect(findings.length).toBeGreaterThan(0);
    expect(hwm).toBeGreaterThan(64 << 20);
    expect(hwm).toBeLessThan(300e6);
  } finally {
    await engine.close();
  }
}, 60_000);
