/**
 * The streamed NDJSON writer (`writeEvent`) against the object form (`toWire`) on real
 * captures: byte for byte the same lines, and `--max-payload-out` cuts that say so.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../pipeline';
import { CaptureFileError } from '../capture/file-source';
import { toWire, writeEvent } from './json';
import { Out } from './out';
import { CORPUS, SAMPLE_CHAT, publicCapture, publicCaptureNames } from '../../test/kit/paths';
import { generateCapture } from '../../scripts/gen-capture';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-json-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Decode `file` (payloads ephemeral, as the CLI does); the streamed lines and the toWire lines. */
async function both(file: string, maxPayloadOut = Infinity): Promise<{ streamed: string; objects: string }> {
  const path = join(dir, 'out.ndjson');
  const fd = openSync(path, 'w');
  const out = new Out(fd, 4096); // small, so lines and slices straddle flushes
  const objects: string[] = [];
  try {
    await analyzeFile(
      file,
      (ev) => {
        writeEvent(out, ev, { maxPayloadOut });
        const w = toWire(ev);
        if (w) objects.push(JSON.stringify(w) + '\n');
      },
      { session: { ephemeralPayloads: true } },
    );
    out.flush();
  } finally {
    closeSync(fd);
  }
  return { streamed: readFileSync(path, 'utf8'), objects: objects.join('') };
}

describe('writeEvent', () => {
  it('writes every event of the sample, the public captures and the corpus exactly as JSON.stringify(toWire(ev))', async () => {
    const files = [SAMPLE_CHAT, ...publicCaptureNames().map(publicCapture), ...readdirSync(CORPUS).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join(CORPUS, f))];
    let truncated = 0;
    for (const f of files) {
      // a few corpus files are not captures at all (empty, a text file): nothing to write
      const r = await both(f).catch((e: unknown) => (e instanceof CaptureFileError ? null : Promise.reject(e)));
      if (r === null) continue;
      const { streamed, objects } = r;
      expect(streamed, f).toBe(objects);
      truncated += (streamed.match(/"truncated":true,"wireLength":\d+/g) ?? []).length;
    }
    expect(files.length).toBeGreaterThan(100);
    // the corpus has messages cut by gaps, snap lengths and limits: each line says so
    expect(truncated).toBeGreaterThan(5);
  });

  it('cuts payloads at --max-payload-out, text on a character boundary, and marks the cut messages', async () => {
    const file = join(dir, 'mixed.pcap');
    await generateCapture({ out: file, bytes: 1 << 20, connections: 4, seed: 3 });
    const full = (await both(file)).streamed.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const cap = 100;
    const cut = (await both(file, cap)).streamed.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(cut.length).toBe(full.length);
    let cutText = 0;
    let multiByteCut = 0;
    for (let i = 0; i < full.length; i++) {
      const a = full[i];
      const b = cut[i];
      if (a.type !== 'message' || a.opcode === 8) {
        expect(b).toEqual(a);
        continue;
      }
      const whole = typeof a.text === 'string' ? Buffer.from(a.text) : Buffer.from(a.base64 as string, 'base64');
      const part = typeof b.text === 'string' ? Buffer.from(b.text) : Buffer.from(b.base64 as string, 'base64');
      expect(part.length).toBeLessThanOrEqual(cap);
      expect(whole.subarray(0, part.length).equals(part)).toBe(true);
      expect(b.length).toBe(a.length);
      if (whole.length > cap) {
        expect(b).toMatchObject({ truncated: true, wireLength: expect.any(Number) });
        if (typeof b.text === 'string') {
          cutText++;
          // a character is never split: at most 3 bytes short of the cap, never a U+FFFD
          expect(part.length).toBeGreaterThan(cap - 4);
          expect(b.text).not.toContain('\ufffd');
          if (part.length < cap) multiByteCut++;
        }
      } else expect(b).toEqual(a);
    }
    expect(cutText).toBeGreaterThan(10);
    expect(multiByteCut).toBeGreaterThan(0);
  });
});
