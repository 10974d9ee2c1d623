/**
 * The CLI decodes with `ephemeralPayloads` (one payload buffer reused per direction, inflated
 * messages handed out as views into the wasm inflater's memory, each valid during its
 * callback only); the desktop app's store decodes without. Both must see exactly the same
 * messages. Every public capture, the bundled sample and a generated permessage-deflate
 * capture (the benchmark's generator: 128 connections, context takeover or not, messages up
 * to 64 KiB, some random binary that deflate cannot shrink) are decoded both ways and each
 * message's bytes compared.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../engine/pipeline';
import { generateCapture } from '../scripts/gen-capture';

import { SAMPLE_CHAT, publicCapture, publicCaptureNames } from './kit/paths';

/** one line per message: connection, direction, opcode, flags, length and the SHA-256 of its bytes */
async function digest(file: string, ephemeralPayloads: boolean): Promise<string[]> {
  const out: string[] = [];
  await analyzeFile(
    file,
    (ev) => {
      if (ev.type !== 'message') return;
      const h = createHash('sha256').update(ev.data).digest('hex');
      out.push(`${ev.conn} ${ev.dir} ${ev.opcode} ${ev.length} ${ev.truncated} ${ev.utf8Valid} ${ev.data.length} ${h}`);
    },
    { session: { ephemeralPayloads } },
  );
  return out;
}

let tmp: string;
let generated: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wsscope-ephemeral-'));
  generated = join(tmp, 'deflate.pcap');
  await generateCapture({ out: generated, bytes: 6_000_000, deflate: true, connections: 128, seed: 7 });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ephemeral payloads decode the same messages', () => {
  const files = [...publicCaptureNames().map(publicCapture), SAMPLE_CHAT];
  for (const file of files) {
    it(file.split('/').pop()!, async () => {
      const [a, b] = [await digest(file, true), await digest(file, false)];
      expect(a).toEqual(b);
    });
  }

  it('a generated permessage-deflate capture (128 connections, messages up to 64 KiB)', async () => {
    const [a, b] = [await digest(generated, true), await digest(generated, false)];
    expect(a.length).toBeGreaterThan(1000);
    // big messages are there: those that do not fit a direction's region are inflated in the shared buffer
    expect(a.filter((l) => Number(l.split(' ')[3]) > 60_000).length).toBeGreaterThan(0);
    expect(a).toEqual(b);
  });
});
