import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBytes } from './fuzz-decode';
import { mutate, parseRecords } from './fuzz-mutate';
import { readSidecarKeys, tlsShapeSources } from './fuzz-tls';
import { CaptureParser } from '../../engine/capture/pcap-parser';
import { Pipeline } from '../../engine/pipeline';
import type { EngineEvent } from '../../shared/events';

const dir = mkdtempSync(join(tmpdir(), 'wsscope-fuzz-tls-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** the events of an unmutated decode, with the same wiring as decodeBytes */
function events(bytes: Uint8Array, keys?: string): EngineEvent[] {
  const out: EngineEvent[] = [];
  const pipe = new Pipeline((e) => out.push(e));
  if (keys !== undefined) pipe.keyLog.addText(keys, 'test');
  const p = new CaptureParser({ packet: (r) => pipe.packet(r), secrets: (t, d) => pipe.secrets(t, d) });
  p.push(bytes);
  p.end();
  pipe.finish();
  return out;
}

describe('the fuzzer TLS shape', () => {
  it('makes wss captures that decrypt (sidecar key log, embedded secrets block), and mutations of them never crash the decoder', async () => {
    const [withKeys, withDsb] = await tlsShapeSources(dir);
    const keys = readSidecarKeys(withKeys);
    expect(readSidecarKeys(withDsb)).toBeUndefined();
    for (const [file, k] of [[withKeys, keys], [withDsb, undefined]] as const) {
      const evs = events(new Uint8Array(readFileSync(file)), k);
      const tls = evs.filter((e) => e.type === 'tls');
      expect(tls.length).toBe(4);
      expect(tls.every((t) => t.type === 'tls' && t.decrypted)).toBe(true);
      expect(evs.filter((e) => e.type === 'message').length).toBeGreaterThan(20);
      expect(evs.filter((e) => e.type === 'finding')).toEqual([]);
    }
    for (const [file, k] of [[withKeys, keys], [withDsb, undefined]] as const) {
      const bytes = new Uint8Array(readFileSync(file));
      const recs = parseRecords(bytes);
      for (let seed = 1; seed <= 150; seed++) {
        const m = mutate(bytes, recs, seed * 7919);
        const d = decodeBytes(m.bytes, seed, k);
        expect(d.swallowed, `${file} seed ${seed} (${m.desc})`).toBeNull();
      }
    }
  }, 60_000);
});
