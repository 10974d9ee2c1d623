import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../../engine/pipeline';
import { SessionStore } from '../../engine/store/session-store';
import { FILTER_PROBES, generateSmallMessageCapture, smallTruthPath, type SmallCaptureTruth } from './bench-small-capture';

let dir = '';
let file = '';
let truth: SmallCaptureTruth;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-small-capture-'));
  file = join(dir, 'small.pcap');
  truth = generateSmallMessageCapture({ out: file, messages: 20_000, connections: 3, seed: 7 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('generateSmallMessageCapture', () => {
  it('writes exactly the asked number of messages, close frames included, and a truth sidecar', () => {
    expect(truth.messages).toBe(20_000);
    expect(truth.text + truth.binary + truth.close).toBe(20_000);
    expect(truth.close).toBe(6);
    expect(truth.bytes).toBe(statSync(file).size);
    expect(JSON.parse(readFileSync(smallTruthPath(file), 'utf8'))).toEqual(truth);
    // about 5% binary
    expect(truth.binary / truth.messages).toBeGreaterThan(0.03);
    expect(truth.binary / truth.messages).toBeLessThan(0.07);
  });

  it('is decoded by the engine without findings, and its filter counts are what the engine query returns', async () => {
    const store = new SessionStore(1);
    const byOpcode: Record<number, number> = {};
    let findings = 0;
    let maxLen = 0;
    await analyzeFile(file, (ev) => {
      store.ingest(ev);
      if (ev.type === 'message') {
        byOpcode[ev.opcode] = (byOpcode[ev.opcode] ?? 0) + 1;
        if (ev.opcode !== 8) maxLen = Math.max(maxLen, ev.length);
        expect(ev.truncated).toBe(false);
      } else if (ev.type === 'finding') findings++;
    });
    expect(findings).toBe(0);
    expect(byOpcode).toEqual({ 1: truth.text, 2: truth.binary, 8: truth.close });
    expect(maxLen).toBeLessThanOrEqual(64);
    for (const p of FILTER_PROBES) {
      const n = store.query({ text: p.text, regex: p.regex, opcodes: p.opcodes }).length;
      expect({ probe: p.name, n }).toEqual({ probe: p.name, n: truth.expected[p.name] });
      expect(n).toBeGreaterThan(0);
    }
    store.close();
  });

  it('agrees with tshark on the number of WebSocket frames and their opcodes', () => {
    const r = spawnSync('tshark', ['-r', file, '-Y', 'websocket', '-T', 'fields', '-e', 'websocket.opcode'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const counts: Record<string, number> = {};
    // one line per packet, opcodes of the frames it completes separated by commas
    for (const line of r.stdout.split('\n')) for (const op of line.split(',')) if (op) counts[op] = (counts[op] ?? 0) + 1;
    expect(counts).toEqual({ '1': truth.text, '2': truth.binary, '8': truth.close });
  });

  it('gives the same bytes for the same seed', () => {
    const again = join(dir, 'again.pcap');
    generateSmallMessageCapture({ out: again, messages: 20_000, connections: 3, seed: 7 });
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
  });
});
