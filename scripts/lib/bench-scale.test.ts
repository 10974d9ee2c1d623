// The bench's throughput-at-scale step: the frame count it checks tshark by, read from real
// tshark output on a generated capture (the generator's truth is the oracle); the marginal
// ratio; and the step itself with commands of known duration, right and failing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCapture, type CaptureTruth } from '../gen-capture';
import { benchScale, countsCheck, marginalRatio } from './bench-scale';
import { tsharkOpcodeCount } from './tshark-ws';
import type { Measured } from './measure';
import { wsscopeCli } from './wsscope-cli';

let dir = '';
let file = '';
let truth: CaptureTruth;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-bench-scale-'));
  file = join(dir, 'plain.pcap');
  // fragmented messages and control frames included: frames != messages != packets
  truth = await generateCapture({ out: file, bytes: 300_000, connections: 4, seed: 7 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tshark = (...fields: string[]): string => {
  const r = spawnSync('tshark', ['-r', file, '-Y', 'websocket', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64e6 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

describe('tsharkOpcodeCount', () => {
  it("counts tshark's WebSocket frames, several per packet, as the generator's truth has them", () => {
    const withFrame = tshark('frame.number', 'websocket.opcode');
    const alone = tshark('websocket.opcode');
    // packets that carry more than one frame exist, so a line count would be wrong
    expect(withFrame.split('\n').filter((l) => l !== '').length).toBe(truth.wsPackets);
    expect(truth.frames).toBeGreaterThan(truth.wsPackets);
    expect(tsharkOpcodeCount(withFrame)).toBe(truth.frames);
    expect(tsharkOpcodeCount(alone)).toBe(truth.frames);
    expect(tsharkOpcodeCount('')).toBe(0);
  });
});

describe('countsCheck', () => {
  const run = (stdout: string): Measured => ({ wall: 0, peakRss: 0, exitCode: 0, stdout, stderr: '', rssSource: 'none' });

  it("passes the real CLI's summary and tshark's output against the truth, and names each count that differs", () => {
    const [cmd, args] = wsscopeCli('read', file, '--summary', '--json');
    const cli = spawnSync(cmd, args, { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const t = tshark('frame.number', 'websocket.opcode');
    expect(countsCheck(truth)(run(cli.stdout), run(t))).toEqual([]);
    expect(countsCheck({ ...truth, messages: truth.messages + 1 })(run(cli.stdout), run(t))).toEqual([`CLI at scale: ${truth.messages} messages (truth ${truth.messages + 1})`]);
    expect(countsCheck({ ...truth, frames: truth.frames - 1 })(run(cli.stdout), run(t))).toEqual([`tshark at scale: ${truth.frames} WebSocket frames (truth ${truth.frames - 1})`]);
    // a CLI that printed no summary
    expect(countsCheck(truth)(run('not json'), run(t))).toEqual([`CLI at scale: undefined messages (truth ${truth.messages})`]);
  });
});

describe('marginalRatio', () => {
  it("is tshark's extra seconds over the CLI's, and NaN when either did not grow", () => {
    expect(marginalRatio({ cli: 2, tshark: 4 }, { cli: 4, tshark: 12 })).toBe(4);
    expect(marginalRatio({ cli: 2, tshark: 4 }, { cli: 2, tshark: 12 })).toBeNaN();
    expect(marginalRatio({ cli: 2, tshark: 4 }, { cli: 3, tshark: 3 })).toBeNaN();
  });
});

describe('benchScale', () => {
  const cli: [string, string[]] = ['sh', ['-c', 'sleep 0.15; echo \'{"messages":3}\'']];
  const slow: [string, string[]] = ['sh', ['-c', 'sleep 0.45; printf "1\\t1,2\\n2\\t8\\n"']];
  // the standard capture's commands: 0.1 s less for the CLI, 0.3 s less for "tshark"
  const small = { bytes: 1e6, cli: ['sh', ['-c', 'sleep 0.05']] as [string, string[]], tshark: ['sh', ['-c', 'sleep 0.15']] as [string, string[]] };

  it('times both sizes in alternation, checks the untimed runs, and reports the ratio, the rounds and the marginal rate', async () => {
    const seen: string[] = [];
    const s = await benchScale({
      label: 'plain',
      runs: 2,
      small,
      large: { bytes: 3e6, cli, tshark: slow },
      check: (c, t) => {
        seen.push(c.stdout, t.stdout);
        return tsharkOpcodeCount(t.stdout) === 3 ? [] : ['wrong count'];
      },
    });
    expect(seen).toEqual(['{"messages":3}\n', '1\t1,2\n2\t8\n']);
    expect(s.problems).toEqual([]);
    expect(s.cli.wall).toBeGreaterThanOrEqual(0.15);
    expect(s.tshark.wall).toBeGreaterThanOrEqual(0.45);
    expect(s.ratio).toBe(s.tshark.wall / s.cli.wall);
    expect(s.rounds).toHaveLength(2);
    // 0.3 s more against 0.1 s more: about 3x, whatever the start-up of sh
    expect(s.marginal).toBeGreaterThan(1.5);
    expect(s.marginal).toBeLessThan(6);
    expect(s.lines[0]).toMatch(/^- plain at 3\.0 MB \(the same traffic, 3\.0x the size\): wsscope CLI .* timed in alternation; round by round .*x, .*x/);
    expect(s.lines[1]).toMatch(/^- plain, marginal throughput from 1\.0 to 3\.0 MB .* ratio round by round \d+\.\dx, \d+\.\dx \(median \d+\.\dx\)$/);
    expect(s.lines[2]).toMatch(/correctness .*: OK$/);
  });

  it('reports a failing command or a failed check, with no ratio', async () => {
    const failing = await benchScale({ label: 'wss', runs: 2, small, large: { bytes: 3e6, cli: ['sh', ['-c', 'exit 4']], tshark: slow }, check: () => [] });
    expect(failing.ratio).toBeNaN();
    expect(failing.marginal).toBeNaN();
    expect(failing.problems[0]).toMatch(/^CLI at scale exit 4/);
    expect(failing.lines[2]).toMatch(/FAILED: CLI at scale exit 4/);
    const wrong = await benchScale({ label: 'wss', runs: 1, small, large: { bytes: 3e6, cli, tshark: slow }, check: () => ['tshark at scale: 2 frames (truth 3)'] });
    expect(wrong.ratio).toBeNaN();
    expect(wrong.lines[2]).toBe('- wss at 3.0 MB, correctness (counts against the truth, both tools): FAILED: tshark at scale: 2 frames (truth 3)');
  });
});
