/**
 * Flow floods stay bounded (docs/hardening.md "Flows"): captures made by scripts/gen-flood.ts
 * (50,000 and 200,000 SYNs that never complete; 50,000 complete connections that carry nothing) decoded
 * by `wsscope read --json` in a child process, its peak RSS measured from outside
 * (scripts/lib/measure.ts). The flow table holds at most DEFAULT_MAX_FLOWS flows: four times
 * the flows may not cost more than a few tens of MB more, the flows given up are counted in
 * one `evicted-flows` finding, and every flow is still announced once.
 *
 * `--max-flows N` sets that cap from the CLI (read and capture).
 *
 * Beside it, the per-id cap on findings that used to escape it: `tcp-overlap-conflict` (a
 * connection retransmitting different bytes over and over) and `unsupported-link-type` (a
 * pcapng interface of an unknown link type) list 20 and count the rest.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFlood } from '../scripts/gen-flood';
import { measure } from '../scripts/lib/measure';
import { DEFAULT_MAX_FLOWS } from '../engine/flow/tcp-flows';
import { FINDINGS_PER_ID } from '../engine/stack/connection-stack';
import { analyzeFile } from '../engine/pipeline';
import { ACK, Conv, pcapng } from './kit/capture';
import { REPO_ROOT } from './kit/paths';
import type { EngineEvent, FindingEvent } from '../shared/events';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-flood-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Decoded {
  rssMb: number;
  connections: number;
  findings: Array<{ id: string; text: string; conn: number }>;
}

/** `wsscope read --json FILE [args]` in a child: peak RSS, connection lines, findings */
async function decode(file: string, ...args: string[]): Promise<Decoded> {
  const m = await measure(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), 'read', file, '--json', ...args], { captureStdout: true, cwd: REPO_ROOT });
  expect(m.exitCode, m.stderr).toBe(0);
  let connections = 0;
  const findings: Decoded['findings'] = [];
  for (const line of m.stdout.split('\n')) {
    if (line.startsWith('{"type":"connection"')) connections++;
    else if (line.startsWith('{"type":"finding"')) findings.push(JSON.parse(line) as Decoded['findings'][number]);
  }
  return { rssMb: m.peakRss / 2 ** 20, connections, findings };
}

function flood(shape: 'syn' | 'tiny', flows: number): string {
  const file = join(dir, `${shape}-${flows}.pcap`);
  generateFlood({ out: file, shape, flows });
  return file;
}

describe('flow floods', () => {
  it('decodes 200,000 SYNs that never complete with bounded memory and counts the flows it evicted', async () => {
    const small = await decode(flood('syn', 50_000));
    const big = await decode(flood('syn', 200_000));
    // every SYN is a connection, announced once
    expect([small.connections, big.connections]).toEqual([50_000, 200_000]);
    const evicted = big.findings.filter((f) => f.id === 'evicted-flows');
    expect(evicted).toHaveLength(1);
    expect(evicted[0].conn).toBe(0);
    // 200,000 flows over 20 s of capture time: none idle for 240 s, so the cap alone evicts
    const n = 200_000 - DEFAULT_MAX_FLOWS;
    expect(evicted[0].text).toContain(`${n} TCP flow(s) were evicted before they ended: ${n} without payload`);
    // four times the flows (both well over the cap), less than 64 MB more: what varies is the
    // garbage collector's slack (before the cap, about 4 KB a flow: +600 MB)
    expect(big.rssMb - small.rssMb, `peak RSS ${small.rssMb.toFixed(0)} MB -> ${big.rssMb.toFixed(0)} MB`).toBeLessThan(64);
    expect(big.rssMb).toBeLessThan(300);
  }, 120_000);

  it('decodes 50,000 complete connections that carry nothing without evicting any of them', async () => {
    const r = await decode(flood('tiny', 50_000));
    expect(r.connections).toBe(50_000);
    // ended connections are let go of (first when over the cap), which is no eviction
    expect(r.findings).toEqual([]);
    expect(r.rssMb).toBeLessThan(300);
  }, 120_000);
});

describe('--max-flows', () => {
  it('read --max-flows N evicts over N flows and says so in evicted-flows', async () => {
    const file = flood('syn', 1_000);
    // under the default cap nothing is evicted
    expect((await decode(file)).findings).toEqual([]);
    const r = await decode(file, '--max-flows', '100');
    expect(r.connections).toBe(1_000);
    expect(r.findings.map((f) => [f.id, f.conn])).toEqual([['evicted-flows', 0]]);
    expect(r.findings[0].text).toContain('900 TCP flow(s) were evicted before they ended: 900 without payload');
    expect(r.findings[0].text).toContain('over the cap of 100 flows tracked at once');
  }, 60_000);

  it('read and capture refuse a --max-flows that is not a positive integer, with exit 2', () => {
    for (const [cmd, v] of [['read', '0'], ['read', '1.5'], ['capture', 'many']]) {
      const args = cmd === 'read' ? ['read', join(REPO_ROOT, 'resources', 'samples', 'chat.pcapng')] : ['capture', '-i', 'lo'];
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), ...args, '--max-flows', v], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(r.status, `${cmd} ${v}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^wsscope ${cmd}: --max-flows ${v.replace('.', '\\.')}: not a positive number of flows`));
    }
  }, 60_000);
});

describe('every finding id under the per-id cap', () => {
  it('lists 20 tcp-overlap-conflict findings of one connection and counts the rest', async () => {
    const c = new Conv().open();
    const first = c.send('c', new Uint8Array(100).fill(0x61), 100)[0];
    // the same 100 bytes retransmitted 500 times, each copy different from the first
    for (let i = 0; i < 500; i++) {
      const seq = (c.seq.c - 100) >>> 0;
      c.push(c.segment('c', seq, ACK, new Uint8Array(100).fill(0x62 + (i % 20))));
    }
    expect(first).toBeDefined();
    c.close();
    const file = join(dir, 'conflicts.pcapng');
    writeFileSync(file, c.pcapng());
    const evs: EngineEvent[] = [];
    await analyzeFile(file, (e) => evs.push(e));
    const conflicts = evs.filter((e): e is FindingEvent => e.type === 'finding' && e.id === 'tcp-overlap-conflict');
    expect(conflicts).toHaveLength(FINDINGS_PER_ID + 1);
    expect(conflicts[FINDINGS_PER_ID].text).toBe(`${500 - FINDINGS_PER_ID} more tcp-overlap-conflict findings on this connection were not listed.`);
    // the count comes before the connection's end
    const end = evs.findIndex((e) => e.type === 'connection-end');
    expect(evs.indexOf(conflicts[FINDINGS_PER_ID])).toBeLessThan(end);
  });

  it('lists 20 unsupported-link-type findings of a capture and counts the rest', async () => {
    // 300 interfaces of a link type wsscope does not decode, one packet on the last
    const ifaces = Array.from({ length: 300 }, () => ({ linkType: 4242 }));
    const file = join(dir, 'linktype.pcapng');
    writeFileSync(file, pcapng([{ tsUs: 1_700_000_000_000_000, data: new Uint8Array(60), iface: 299 }], ifaces));
    const evs: EngineEvent[] = [];
    await analyzeFile(file, (e) => evs.push(e));
    const lt = evs.filter((e): e is FindingEvent => e.type === 'finding' && e.id === 'unsupported-link-type');
    expect(lt).toHaveLength(FINDINGS_PER_ID + 1);
    expect(lt[FINDINGS_PER_ID].text).toBe(`${300 - FINDINGS_PER_ID} more unsupported-link-type findings on this capture were not listed.`);
  });
});
