// The fuzzer's streamed-JSON check: decodeBytes with a JsonStream writes what `read --json`
// writes, and reports a stream that is not the events' JSON.stringify(toWire(ev)) lines.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonStream, decodeBytes } from './fuzz-decode';
import { mutate, parseRecords } from './fuzz-mutate';
import { publicCapture } from '../../test/kit/paths';
import { wsscopeCli } from './wsscope-cli';
import { spawnSync } from 'node:child_process';

const dir = mkdtempSync(join(tmpdir(), 'wsscope-fuzz-decode-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CAPTURE = publicCapture('arkime__websocket.pcap');

describe('decodeBytes with a JsonStream', () => {
  it('streams what `wsscope read --json` prints for the same capture, whatever the buffer size and encoders', () => {
    const [cmd, args] = wsscopeCli('read', CAPTURE, '--json');
    const cli = spawnSync(cmd, args, { encoding: 'buffer', maxBuffer: 64 << 20 });
    expect(cli.status).toBe(0);
    expect(cli.stdout.length).toBeGreaterThan(1000);
    const bytes = new Uint8Array(readFileSync(CAPTURE));
    const json = new JsonStream(join(dir, 'same'));
    // seeds pick buffer sizes, encoders, chunkings and options; those with default options stream what the CLI printed
    let same = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const d = decodeBytes(bytes, seed, undefined, json);
      expect(d.streamMismatch, `seed ${seed}`).toBeUndefined();
      if (json.read().equals(cli.stdout)) same++;
    }
    expect(same).toBeGreaterThan(5);
  });

  it('reports a stream that differs from the JSON texts of the events', () => {
    class Tampered extends JsonStream {
      override read(): Buffer {
        const b = super.read();
        b[b.length >> 1] ^= 0x20;
        return b;
      }
    }
    const d = decodeBytes(new Uint8Array(readFileSync(CAPTURE)), 1, undefined, new Tampered(join(dir, 'tampered')));
    expect(d.streamMismatch).toMatch(/^\d+ bytes in \d+ lines that are not the \d+ JSON\.stringify\(toWire\(ev\)\) lines$/);
  });

  it('finds no difference on mutated inputs either', () => {
    const bytes = new Uint8Array(readFileSync(CAPTURE));
    const recs = parseRecords(bytes);
    const json = new JsonStream(join(dir, 'mutated'));
    for (let seed = 1; seed <= 200; seed++) {
      const m = mutate(bytes, recs, seed * 104729);
      const d = decodeBytes(m.bytes, seed, undefined, json);
      expect(d.streamMismatch, `seed ${seed} (${m.desc})`).toBeUndefined();
      expect(d.swallowed, `seed ${seed} (${m.desc})`).toBeNull();
    }
  });
});
