/**
 * Deterministic generator of flow floods: captures whose cost is the number of TCP flows,
 * not their bytes, for the flow-table limits (docs/hardening.md "Flows"), the benchmark
 * (scripts/lib/bench-flood.ts), the regression test (test/flow-flood.test.ts) and the fuzzer.
 *
 *   tsx scripts/gen-flood.ts --out F.pcap --shape syn|tiny [--flows 1000000] [--rate 10000] [--seed 1]
 *   import { generateFlood } from './gen-flood'
 *
 * Shapes (Ethernet/IPv4/TCP pcap, 70-byte packets, scripts/lib/capture-writer.ts):
 * - `syn`: a SYN flood: one SYN (RFC 9293 section 3.5) per flow from a random source address
 *   in 10.0.0.0/8 and a random ephemeral port to 192.0.2.1:80, never answered; 70 bytes per
 *   flow (1,000,000 flows: 70 MB).
 * - `tiny`: complete connections that carry nothing: SYN, SYN-ACK, FIN-ACK from the client,
 *   FIN-ACK from the server (an orderly close, RFC 9293 section 3.6); 280 bytes per flow.
 * Flows start `rate` per second of capture time, in order; a `tiny` connection's packets
 * follow each other 100 us apart.
 *
 * One seed gives the same file byte for byte (sfc32). Memory: the writer's 4 MiB buffer and
 * its IP-id table (one entry per source endpoint).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CaptureWriter, ipv4, type Endpoint } from './lib/capture-writer';
import { Prng } from './lib/prng';

export type FloodShape = 'syn' | 'tiny';

export interface FloodOptions {
  out: string;
  shape: FloodShape;
  /** flows (default 1,000,000) */
  flows?: number;
  /** flows started per second of capture time (default 10,000) */
  rate?: number;
  seed?: number;
}

export interface FloodResult {
  bytes: number;
  packets: number;
  flows: number;
  /** capture time from the first to the last packet, seconds */
  seconds: number;
}

const T0_US = 1_700_000_000_000_000;
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const EMPTY = new Uint8Array(0);

export function generateFlood(o: FloodOptions): FloodResult {
  const flows = o.flows ?? 1_000_000;
  const rate = o.rate ?? 10_000;
  const rng = new Prng(o.seed ?? 1);
  const w = new CaptureWriter(o.out, 'pcap');
  const server: Endpoint = { ip: ipv4(192, 0, 2, 1), port: 80 };
  let last = T0_US;
  for (let i = 0; i < flows; i++) {
    const t = T0_US + Math.floor((i * 1e6) / rate);
    // random source in 10.0.0.0/8 (a spoofed flood: almost every flow from its own address)
    const client: Endpoint = { ip: (ipv4(10, 0, 0, 0) | rng.int(1, 0xfffffe)) >>> 0, port: rng.int(1024, 65535) };
    const isnC = rng.int(0, 0xffffffff);
    w.tcp(t, client, server, isnC, 0, SYN, EMPTY, 0, 0);
    last = t;
    if (o.shape === 'tiny') {
      const isnS = rng.int(0, 0xffffffff);
      w.tcp(t + 100, server, client, isnS, isnC + 1, SYN | ACK, EMPTY, 0, 0);
      w.tcp(t + 200, client, server, isnC + 1, isnS + 1, FIN | ACK, EMPTY, 0, 0);
      w.tcp(t + 300, server, client, isnS + 1, isnC + 2, FIN | ACK, EMPTY, 0, 0);
      last = t + 300;
    }
  }
  w.close();
  return { bytes: w.bytes, packets: w.packets, flows, seconds: (last - T0_US) / 1e6 };
}

function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, shape: { type: 'string', default: 'syn' }, flows: { type: 'string' }, rate: { type: 'string' }, seed: { type: 'string' } } });
  if (values.shape !== 'syn' && values.shape !== 'tiny') throw new Error('--shape is syn or tiny');
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const o: FloodOptions = { out: values.out ?? '', shape: values.shape, flows: num(values.flows), rate: num(values.rate), seed: num(values.seed) };
  if (!o.out) throw new Error('usage: gen-flood --out FILE --shape syn|tiny [--flows 1000000] [--rate 10000] [--seed 1]');
  const r = generateFlood(o);
  console.log(`${o.out}: ${(r.bytes / 1e6).toFixed(1)} MB, ${r.packets} packets, ${r.flows} ${o.shape} flows over ${r.seconds.toFixed(1)} s of capture time`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
