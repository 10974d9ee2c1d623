/**
 * In-memory decode of capture bytes for the fuzzer: CaptureParser (fed in random-sized chunks,
 * to exercise records that straddle pushes) -> Pipeline -> wire form -> JSON, i.e. everything
 * `wsscope read --json` does except the file I/O. Some inputs also get unusual options (tiny
 * buffers and limits, no heuristic, Decode-As ports). Exceptions that escape are the
 * caller's crashes; the ones the engine contains (a decoder-error finding) are caught by the
 * pipeline's `onInternalError` hook and returned as `swallowed`.
 *
 * Memory: nothing is kept; events are serialised and dropped.
 */
import { CaptureParser } from '../../engine/capture/pcap-parser';
import { Pipeline, type PipelineOptions } from '../../engine/pipeline';
import { toWire } from '../../engine/cli/json';
import type { EngineEvent } from '../../shared/events';
import { Prng } from './prng';
import { KeyLog } from '../../engine/tls/keylog';

export interface DecodeResult {
  events: number;
  /** the first internal error the engine contained (reported as a decoder-error finding) */
  swallowed: unknown;
}

/**
 * Decode bytes in memory the way a file would be, pushed in random-sized chunks; pcapng
 * Decryption Secrets Blocks feed the key log as in `analyzeFile`, and `keys` (a key log text)
 * is given to it first.
 */
export function decodeBytes(bytes: Uint8Array, chunkSeed: number, keys?: string): DecodeResult {
  let swallowed: unknown = null;
  let events = 0;
  const sink = (ev: EngineEvent): void => {
    events++;
    const w = toWire(ev);
    if (w) JSON.stringify(w);
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
  return { events, swallowed };
}

