/**
 * In-memory decode of capture bytes for the fuzzer: CaptureParser (fed in random-sized chunks,
 * to exercise records that straddle pushes) -> Pipeline -> wire form -> JSON, i.e. everything
 * `wsscope read --json` does except reading the file. Some inputs also get unusual options
 * (tiny buffers and limits, no heuristic, Decode-As ports, payloads valid during the emit only
 * as the CLI has them). Exceptions that escape are the caller's crashes; the ones the engine
 * contains (a decoder-error finding) are caught by the pipeline's `onInternalError` hook and
 * returned as `swallowed`.
 *
 * With a `JsonStream`, every event is also streamed as `read --json` writes it (engine/cli/json.ts
 * `writeEvent` through an `Out`, with a buffer of random size, WebAssembly or JS encoders) into
 * its file, and the file must be the events' `JSON.stringify(toWire(ev))` lines byte for byte
 * (writeEvent's contract): a difference is returned as `streamMismatch`.
 *
 * Memory: nothing is kept but a SHA-256 state; events are serialised and dropped. A JsonStream
 * keeps its writers (at most 8, each with its WebAssembly memory: one per process, not one per
 * input, whose memories the garbage collector would free too late) and one file, started over
 * for every input.
 */
import { ftruncateSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { CaptureParser } from '../../engine/capture/pcap-parser';
import { createPrivateFile } from '../../engine/fs/private';
import { Pipeline, type PipelineOptions } from '../../engine/pipeline';
import { toWire, writeEvent } from '../../engine/cli/json';
import { MIN_SIZE, Out } from '../../engine/cli/out';
import type { EngineEvent } from '../../shared/events';
import { Prng } from './prng';
import { KeyLog } from '../../engine/tls/keylog';

export interface DecodeResult {
  events: number;
  /** the first internal error the engine contained (reported as a decoder-error finding) */
  swallowed: unknown;
  /** with a JsonStream: how the streamed lines differ from the JSON texts, when they do */
  streamMismatch?: string;
}

/** Where decodeBytes streams the JSON lines: one file and its writers, for a worker's life. */
export class JsonStream {
  private readonly fd: number;
  private readonly outs = new Map<string, Out>();

  /** `path`: a new name in a private folder; created 0600 (engine/fs/private.ts) for appending, so truncating the file starts it over */
  constructor(readonly path: string) {
    this.fd = createPrivateFile(path, true, true);
  }

  /** An empty file and a writer with a buffer size and encoders picked by `r`. */
  begin(r: Prng): Out {
    // a writer an earlier input left mid-line (a crash) empties its buffer into the old file
    for (const o of this.outs.values()) o.flush();
    ftruncateSync(this.fd, 0);
    const size = r.pick([MIN_SIZE, 4096, 65536, 512 * 1024]);
    const wasm = r.chance(0.8);
    const key = `${size}:${wasm}`;
    let out = this.outs.get(key);
    if (out === undefined) this.outs.set(key, (out = new Out(this.fd, size, wasm)));
    return out;
  }

  /** what the file holds */
  read(): Buffer {
    return readFileSync(this.path);
  }
}

/**
 * Decode bytes in memory the way a file would be, pushed in random-sized chunks; pcapng
 * Decryption Secrets Blocks feed the key log as in `analyzeFile`, and `keys` (a key log text)
 * is given to it first.
 */
export function decodeBytes(bytes: Uint8Array, chunkSeed: number, keys?: string, json?: JsonStream): DecodeResult {
  let swallowed: unknown = null;
  let events = 0;
  // the streamed form's own choices, from a generator of their own: the options and chunk
  // sizes below stay what they were for every seed
  const r2 = new Prng(chunkSeed ^ 0x2545f491);
  const out = json !== undefined ? json.begin(r2) : null;
  const expected = createHash('sha256');
  let lines = 0;
  const sink = (ev: EngineEvent): void => {
    events++;
    const w = toWire(ev);
    if (w) {
      const line = JSON.stringify(w);
      if (out !== null) {
        expected.update(line + '\n');
        lines++;
      }
    }
    if (out !== null) writeEvent(out, ev, { maxPayloadOut: Infinity });
  };
  const r = new Prng(chunkSeed);
  // vary the options that change code paths: tiny reassembly buffers (holes declared lost),
  // no heuristic, a small inflate limit, Decode-As on the common ports
  const opts: Partial<PipelineOptions> = {
    onInternalError: (e) => {
      swallowed ??= e;
    },
  };
  if (r.chance(0.2)) opts.maxBufferedBytes = r.pick([0, 1500, 65536]);
  if (r.chance(0.2)) opts.heuristic = false;
  if (r.chance(0.2)) opts.session = { maxInflate: r.pick([0, 100, 65536]), maxMessageBytes: r.pick([0, 10, 65536]) };
  if (r.chance(0.1)) opts.wsPorts = [80, 8080, 8008, 12345, 443];
  if (out !== null && r2.chance(0.5)) opts.session = { ...opts.session, ephemeralPayloads: true };
  if (keys !== undefined) {
    opts.keyLog = new KeyLog();
    opts.keyLog.addText(keys, 'fuzz');
  }
  const pipe = new Pipeline(sink, opts);
  const parser = new CaptureParser({ packet: (rec) => pipe.packet(rec), problem: (p) => pipe.problem(p), secrets: (type, data) => pipe.secrets(type, data) });
  const whole = r.chance(0.5);
  for (let o = 0; o < bytes.length && !parser.stopped; ) {
    const n = whole ? bytes.length : r.logInt(1, 65536);
    parser.push(bytes.subarray(o, o + n));
    o += n;
  }
  parser.end();
  pipe.finish();
  const res: DecodeResult = { events, swallowed };
  if (json !== undefined && out !== null) {
    out.flush();
    const got = json.read();
    if (createHash('sha256').update(got).digest('hex') !== expected.digest('hex')) {
      const n = got.reduce((k, b) => k + (b === 0x0a ? 1 : 0), 0);
      res.streamMismatch = `${got.length} bytes in ${n} lines that are not the ${lines} JSON.stringify(toWire(ev)) lines`;
    }
  }
  return res;
}

