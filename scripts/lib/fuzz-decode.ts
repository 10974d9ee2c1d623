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

export interface DecodeResult {
  events: number;
  /** an internal error a TcpSession caught and swallowed (it gives the direction up) */
  swallowed: unknown;
}

/**
 * Errors that TcpSession caught instead of throwing (it records the last one in its public
 * `lastError`). The flow table is private to the pipeline: this reaches into it on purpose,
 * as a diagnostic of the fuzz harness only, and fails loudly if its shape changes.
 */
function swallowedErrors(pipe: Pipeline): unknown {
  const tcp = (pipe as unknown as { tcp?: unknown }).tcp;
  if (!(tcp instanceof Map)) throw new Error('fuzz-decode: Pipeline has no `tcp` flow map any more; update swallowedErrors()');
  for (const conn of tcp.values() as Iterable<{ session?: { lastError: unknown } }>) {
    if (conn.session?.lastError) return conn.session.lastError;
  }
  return null;
}

/** Decode bytes in memory the way a file would be, pushed in random-sized chunks. */
export function decodeBytes(bytes: Uint8Array, chunkSeed: number): DecodeResult {
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
  return { events, swallowed: swallowedErrors(pipe) };
}

