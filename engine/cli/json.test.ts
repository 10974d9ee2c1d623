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
import { MIN_SIZE, Out } from './out';
import fc from 'fast-check';
import type { MessageEvent } from '../../shared/events';
import { validUtf8 } from '../ws/utf8';
import { CORPUS, SAMPLE_CHAT, publicCapture, publicCaptureNames } from '../../test/kit/paths';
import { generateCapture } from '../../scripts/gen-capture';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-json-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Decode `file` (payloads ephemeral, as the CLI does); the streamed lines and the toWire lines.
 * `wasm`: whether Out's buffer is the WebAssembly encoder's (the CLI's case) or the JS one's.
 */
async function both(file: string, maxPayloadOut = Infinity, wasm = true): Promise<{ streamed: string; objects: string }> {
  const path = join(dir, 'out.ndjson');
  const fd = openSync(path, 'w');
  const out = new Out(fd, 4096, wasm); // small, so lines and slices straddle flushes
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
      for (const wasm of [true, false]) {
        // a few corpus files are not captures at all (empty, a text file): nothing to write
        const r = await both(f, Infinity, wasm).catch((e: unknown) => (e instanceof CaptureFileError ? null : Promise.reject(e)));
        if (r === null) continue;
        const { streamed, objects } = r;
        expect(streamed, `${f} (wasm: ${wasm})`).toBe(objects);
        if (wasm) truncated += (streamed.match(/"truncated":true,"wireLength":\d+/g) ?? []).length;
      }
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

  it('writes random text, binary, invalid UTF-8 and cut-inside-a-character messages exactly as JSON.stringify(toWire(ev))', () => {
    const path = join(dir, 'random.ndjson');
    const payload = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 3000 }).map((s) => ({ opcode: 1, data: Buffer.from(s) })),
      fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '日', '\u{1f600}', 'a'), maxLength: 3000 }).map((s) => ({ opcode: 1, data: Buffer.from(s) })),
      fc.uint8Array({ maxLength: 3000 }).map((data) => ({ opcode: 1, data })),
      fc.uint8Array({ maxLength: 3000 }).map((data) => ({ opcode: 2, data })),
    );
    fc.assert(
      fc.property(payload, fc.nat(3000), fc.boolean(), fc.boolean(), fc.double(), fc.constantFrom(MIN_SIZE, 4096, 1 << 19), ({ opcode, data }, cutAt, cutIt, wasm, ts, size) => {
        // a message truncated by a limit or a gap may end inside a character (validUtf8's cutAtEnd)
        const truncated = cutIt && cutAt < data.length;
        const d = truncated ? data.subarray(0, cutAt) : data;
        const m: MessageEvent = { type: 'message', conn: 7, dir: cutIt ? 'client' : 'server', ts, index: 0, opcode, compressed: wasm, length: data.length, wireLength: data.length + 3, frames: [0], packet: 9, data: d, truncated, utf8Valid: opcode === 1 && validUtf8(d, truncated) };
        const fd = openSync(path, 'w');
        try {
          const out = new Out(fd, size, wasm);
          writeEvent(out, m, { maxPayloadOut: Infinity });
          writeEvent(out, m, { maxPayloadOut: Infinity });
          out.flush();
        } finally {
          closeSync(fd);
        }
        const line = JSON.stringify(toWire(m)) + '\n';
        expect(readFileSync(path, 'utf8')).toBe(line + line);
      }),
      { numRuns: 800 },
    );
  });
});
