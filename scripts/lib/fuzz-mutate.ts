/**
 * Deterministic mutations of capture files for the fuzzer: one (source bytes, seed) pair always
 * gives the same mutated bytes, so a failing input is identified by its seed and can be
 * regenerated (and is also saved).
 *
 * Byte level: random byte errors at ~2% per byte over the whole file (like `editcap -E 0.02`,
 * which only touches packet data: that variant is `packet-errors`), truncation, interesting
 * integer values written at random places (0, 0x7f, 0x80, 0xff.., 125/126/127: frame lengths),
 * spliced copies of a region. Payload level: errors or interesting values only inside TCP/UDP
 * payloads, headers intact, so they reach the HTTP and WebSocket decoders. Record level (parse -> mutate the record list -> rewrite as
 * pcapng): records shuffled within a window, duplicated (sometimes with changed bytes: a
 * conflicting retransmission), dropped, cut short (snap length).
 *
 * Memory: returns fresh buffers; sources and parsed record lists are read, never changed.
 */
import { gunzipSync } from 'node:zlib';
import { CaptureParser } from '../../engine/capture/pcap-parser';
import { NetDecoder } from '../../engine/net/decode';
import { Prng } from './prng';
import { concat, ngEpb, ngIdb, ngShb, type Bytes, type Rec } from '../../test/kit/capture';

export interface ParsedRecord {
  linkType: number;
  tsUs: number;
  data: Bytes;
  origLen: number;
}

/** A timestamp in whole microseconds that the pcapng writer can encode (damaged files give odd ones). */
function safeUs(ts: number): number {
  const us = Math.round(ts * 1e6);
  return Number.isFinite(us) && us >= 0 ? Math.min(us, 2 ** 52) : 0;
}

/** Records of a capture (gunzipped first when it is gzip); null when none could be read. */
export function parseRecords(file: Bytes): ParsedRecord[] | null {
  let bytes = file;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes));
    } catch {
      return null;
    }
  }
  const recs: ParsedRecord[] = [];
  const p = new CaptureParser({
    packet: (r) => recs.push({ linkType: r.linkType, tsUs: safeUs(r.ts), data: r.data.slice(), origLen: r.origLen }),
  });
  p.push(bytes);
  p.end();
  return recs.length ? recs : null;
}

/** Rewrite records as pcapng, one interface per link type. */
export function writeRecords(recs: readonly ParsedRecord[]): Bytes {
  const ifaces = new Map<number, number>();
  const blocks: Bytes[] = [ngShb()];
  for (const r of recs) {
    if (!ifaces.has(r.linkType)) {
      ifaces.set(r.linkType, ifaces.size);
      blocks.push(ngIdb({ linkType: r.linkType & 0xffff }));
    }
    const rec: Rec = { tsUs: r.tsUs, data: r.data, origLen: r.origLen, iface: ifaces.get(r.linkType)! };
    blocks.push(ngEpb(rec));
  }
  return concat(blocks);
}

const INTERESTING = [0x00, 0x01, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x88, 0x89, 0x8a, 0xff, 0x0f, 0x10, 0x40, 0x3f];

/** Replace each byte with probability p (geometric skips: cost ~ p * length). */
function byteErrors(b: Bytes, from: number, to: number, p: number, r: Prng): number {
  let n = 0;
  const lq = Math.log(1 - p);
  let i = from + Math.floor(Math.log(1 - r.float()) / lq);
  while (i < to) {
    b[i] = r.u32() & 0xff;
    n++;
    i += 1 + Math.floor(Math.log(1 - r.float()) / lq);
  }
  return n;
}

export interface Mutation {
  bytes: Bytes;
  desc: string;
}

export type MutationKind =
  | 'file-errors'
  | 'packet-errors'
  | 'truncate'
  | 'interesting'
  | 'splice'
  | 'shuffle'
  | 'duplicate'
  | 'drop'
  | 'snap'
  | 'payload-errors'
  | 'tcp-mix';

const KINDS: Array<[MutationKind, number]> = [
  ['file-errors', 16],
  ['packet-errors', 16],
  ['truncate', 8],
  ['interesting', 12],
  ['splice', 6],
  ['shuffle', 10],
  ['duplicate', 10],
  ['drop', 10],
  ['snap', 5],
  ['payload-errors', 14],
  ['tcp-mix', 12],
];
const TOTAL_WEIGHT = KINDS.reduce((a, [, w]) => a + w, 0);

function pickKind(r: Prng): MutationKind {
  let x = r.float() * TOTAL_WEIGHT;
  for (const [k, w] of KINDS) {
    x -= w;
    if (x < 0) return k;
  }
  return 'file-errors';
}

function errorRate(r: Prng): number {
  // mostly the 2%, sometimes sparse or dense
  const x = r.float();
  return x < 0.6 ? 0.02 : x < 0.8 ? 0.002 : x < 0.9 ? 0.0002 : 0.1;
}

function shuffleWindow<T>(a: T[], win: number, r: Prng): void {
  for (let i = 0; i < a.length; i++) {
    const j = Math.min(a.length - 1, i + r.int(0, win));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/**
 * Mutate `src` (whose records are `recs`, or null when unparseable) with the generator seeded
 * by `seed`. Record-level kinds fall back to byte errors when there are no records.
 */
export function mutate(src: Bytes, recs: readonly ParsedRecord[] | null, seed: number): Mutation {
  const r = new Prng(seed);
  let kind = pickKind(r);
  const recLevel = kind === 'packet-errors' || kind === 'payload-errors' || kind === 'shuffle' || kind === 'duplicate' || kind === 'drop' || kind === 'snap' || kind === 'tcp-mix';
  if (recLevel && !recs) kind = 'file-errors';
  switch (kind) {
    case 'file-errors': {
      const b = src.slice();
      const p = errorRate(r);
      // keep the magic most of the time so the damage reaches the records
      const from = r.chance(0.8) ? Math.min(4, b.length) : 0;
      const n = byteErrors(b, from, b.length, p, r);
      return { bytes: b, desc: `file-errors p=${p} changed=${n}` };
    }
    case 'truncate': {
      const at = r.int(0, src.length);
      return { bytes: src.slice(0, at), desc: `truncate at ${at}/${src.length}` };
    }
    case 'interesting': {
      const b = src.slice();
      const n = r.int(1, 32);
      for (let i = 0; i < n && b.length; i++) {
        const at = r.int(0, b.length - 1);
        const w = r.pick([1, 1, 1, 2, 4]);
        const v = r.pick(INTERESTING);
        for (let k = 0; k < w && at + k < b.length; k++) b[at + k] = k === 0 ? v : r.chance(0.5) ? 0xff : 0;
      }
      return { bytes: b, desc: `interesting x${n}` };
    }
    case 'splice': {
      if (src.length < 2) return { bytes: src.slice(), desc: 'splice (too short)' };
      const from = r.int(0, src.length - 1);
      const len = r.int(1, Math.min(4096, src.length - from));
      const to = r.int(0, src.length);
      const b = concat([src.subarray(0, to), src.subarray(from, from + len), src.subarray(to)]);
      return { bytes: b, desc: `splice ${len}@${from} -> ${to}` };
    }
    default:
      return recordMutation(kind, recs!, r);
  }
}

function recordMutation(kind: MutationKind, recs: readonly ParsedRecord[], r: Prng): Mutation {
  let list = recs.slice();
  const parts: string[] = [];
  const doErrors = (): void => {
    const p = errorRate(r);
    let n = 0;
    list = list.map((x) => {
      const d = x.data.slice();
      n += byteErrors(d, 0, d.length, p, r);
      return { ...x, data: d };
    });
    parts.push(`packet-errors p=${p} changed=${n}`);
  };
  const doShuffle = (): void => {
    const win = r.pick([1, 2, 4, 16, list.length]);
    shuffleWindow(list, win, r);
    parts.push(`shuffle win=${win}`);
  };
  const doDuplicate = (): void => {
    const p = r.pick([0.05, 0.2, 0.5]);
    const out: ParsedRecord[] = [];
    let n = 0;
    for (const x of list) {
      out.push(x);
      if (r.chance(p)) {
        n++;
        // a third of the copies carry different bytes (conflicting retransmission)
        if (r.chance(0.33) && x.data.length > 54) {
          const d = x.data.slice();
          byteErrors(d, 54, d.length, 0.05, r);
          out.push({ ...x, data: d });
        } else out.push(x);
      }
    }
    list = out;
    parts.push(`duplicate p=${p} n=${n}`);
  };
  const doDrop = (): void => {
    const p = r.pick([0.02, 0.1, 0.3]);
    const before = list.length;
    list = list.filter(() => !r.chance(p));
    parts.push(`drop p=${p} n=${before - list.length}`);
  };
  // Damage only transport payloads (frame headers, lengths, masks, HTTP heads), keeping the
  // link/IP/TCP headers intact so the damage reaches the WebSocket layer.
  const doPayload = (): void => {
    const net = new NetDecoder();
    const p = r.pick([0.001, 0.01, 0.05]);
    let n = 0;
    list = list.map((x, i) => {
      const d = net.decode({ no: i + 1, ts: 0, linkType: x.linkType, data: x.data, origLen: x.origLen, iface: 0 });
      if (!d || d.payload.length === 0 || d.payload.buffer !== x.data.buffer) return x;
      const data = x.data.slice();
      const from = d.payload.byteOffset - x.data.byteOffset;
      const to = from + d.payload.length;
      if (r.chance(0.5)) n += byteErrors(data, from, to, p, r);
      else {
        // an interesting value at a frame-header-like position: the first bytes of the payload
        const at = from + Math.min(d.payload.length - 1, r.logInt(1, 16) - 1);
        data[at] = r.pick(INTERESTING);
        n++;
      }
      return { ...x, data };
    });
    parts.push(`payload-errors p=${p} changed=${n}`);
  };
  const doSnap = (): void => {
    const snap = r.pick([14, 34, 54, 60, 64, 100, 200]);
    list = list.map((x) => (r.chance(0.5) && x.data.length > snap ? { ...x, data: x.data.subarray(0, snap) } : x));
    parts.push(`snap ${snap}`);
  };
  switch (kind) {
    case 'packet-errors':
      doErrors();
      break;
    case 'shuffle':
      doShuffle();
      break;
    case 'duplicate':
      doDuplicate();
      break;
    case 'drop':
      doDrop();
      break;
    case 'snap':
      doSnap();
      break;
    case 'payload-errors':
      doPayload();
      break;
    default: {
      const ops = [doShuffle, doDuplicate, doDrop, doSnap, doErrors, doPayload];
      const n = r.int(2, 4);
      for (let i = 0; i < n; i++) r.pick(ops)();
    }
  }
  return { bytes: writeRecords(list), desc: (kind === 'tcp-mix' ? 'tcp-mix ' : '') + parts.join(', ') };
}
