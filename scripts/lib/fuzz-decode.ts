/**
 * In-memory decode of capture bytes for the fuzzer: CaptureParser (fed in random-sized chunks,
 * to exercise records that straddle pushes) -> Pipeline -> wire form -> JSON, i.e. everything
 * `wsscope read --json` does except the file I/O. Exceptions are left to escape: the caller
 * counts them as crashes.
 *
 * Memory: nothing is kept; events are serialised and dropped.
 */
import { CaptureParser } from '../../engine/capture/pcap-parser';
import { Pipeline } from '../../engine/pipeline';
import { toWire } from '../../engine/cli/json';
import type { EngineEvent } from '../../shared/events';
import { Prng } from './prng';

/** Decode bytes in memory the way a file would be, pushed in random-sized chunks. */
export function decodeBytes(bytes: Uint8Array, chunkSeed: number): number {
  let events = 0;
  const sink = (ev: EngineEvent): void => {
    events++;
    const w = toWire(ev);
    if (w) JSON.stringify(w);
  };
  const pipe = new Pipeline(sink);
  const parser = new CaptureParser({ packet: (rec) => pipe.packet(rec), problem: (p) => pipe.problem(p) });
  const r = new Prng(chunkSeed);
  const whole = r.chance(0.5);
  for (let o = 0; o < bytes.length && !parser.stopped; ) {
    const n = whole ? bytes.length : r.logInt(1, 65536);
    parser.push(bytes.subarray(o, o + n));
    o += n;
  }
  parser.end();
  pipe.finish();
  return events;
}

