/**
 * Push-based, resumable reader of pcap and pcapng capture files.
 *
 * Contract: `push(chunk)` any number of times with consecutive bytes of the file (any split,
 * down to one byte at a time), then `end()`. Records go to `sink.packet` in file order,
 * numbered 1.. ; interfaces to `sink.iface` before their first record; problems to
 * `sink.problem`. Nothing throws out of `push`/`end`: bad input is reported and the parser
 * resynchronises (bounded scan) or stops for good.
 *
 * Formats:
 *  - pcap (draft-ietf-opsawg-pcap): both byte orders, microsecond (0xa1b2c3d4) and nanosecond
 *    (0xa1b23c4d) magic, Kuznetsov's 0xa1b2cd34 (24-byte record header); the FCS bits of the
 *    link-type field (section 4, "F" bit and FCS length) strip the FCS from each record.
 *  - pcapng (draft-ietf-opsawg-pcapng): SHB in both byte orders, several sections, several IDBs
 *    (link type, snaplen, if_tsresol, if_tsoffset, if_name, if_description, if_fcslen), EPB, SPB,
 *    the obsolete Packet Block; every other block is skipped without being buffered.
 *
 * Interface ids in `PacketRecord.iface` are global across pcapng sections (as in Wireshark),
 * so two sections' interface 0 get distinct ids.
 *
 * File positions: with `filePositions` (the caller pushes a file's bytes from its start, not
 * decompressed ones), `PacketRecord.filePos` is the file offset of each record's first
 * captured byte; otherwise -1.
 *
 * Speed: the run of whole pcap records, or of whole well-formed Enhanced Packet Blocks, inside a
 * pushed chunk is handed on from one loop (`pcapRun`, `ngRun`); every other unit (headers,
 * other blocks, a unit cut by the chunk end, one that fails a check) goes through the per-unit
 * state machine (`unit`), which reports it. Both paths give the same records and problems.
 *
 * Memory ownership: when a whole record lies inside the pushed chunk, `rec.data` is a view of
 * that chunk (zero copy); a record that straddles chunks is assembled in an internal buffer
 * that grows to the largest unit seen (bounded by MAX_BUFFERED_UNIT) and is reused. Either way
 * `rec.data` (and `rec.buf`) is valid only during the `sink.packet` call. The record object
 * itself is one object per parser, refilled for every record, and its `data` view is made
 * only when a sink reads it (the pipeline reads `buf`/`off`/`caplen`): no allocation per
 * packet. A sink copies the fields it keeps. The parser never reads a chunk after `push`
 * returns (the record may still point at the last one until the next record), so the caller
 * may reuse its buffer.
 */
import type { CaptureInterfaceInfo, CaptureProblem, CaptureSink, PacketRecord } from '../types';
import { isSupportedLinkType } from '../net/decode';
import { byteView } from '../net/bytes';

export type CaptureFormat = 'pcap' | 'pcapng';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_KUZNETSOV = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
/** Decryption Secrets Block (pcapng draft section 4.7): handed to `sink.secrets` */
const BT_DSB = 10;
const KNOWN_BLOCKS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x0bad, 0x40000bad, PCAPNG_SHB]);

/** A block larger than this is corrupt (blocks we skip are never buffered, so this costs no memory). */
export const MAX_UNIT = 256 * 1024 * 1024;
/**
 * Blocks that must be buffered whole (SHB, IDB, packet blocks) and pcap records larger than
 * this are corrupt: Wireshark's pcapng reader uses the same 16 MiB bound, and it caps what a
 * damaged length can make the reader allocate.
 */
export const MAX_BUFFERED_UNIT = 16 * 1024 * 1024;
/** Largest captured length believed when the snap length is smaller (libpcap's MAXIMUM_SNAPLEN). */
const MAX_PLAUSIBLE_CAPLEN = 262144;
/** How far a resync scans before giving up. */
const MAX_RESYNC_SCAN = 16 * 1024 * 1024;
/** A block buffered only to check a resync candidate's trailer may not exceed this. */
const MAX_RESYNC_BLOCK = 1024 * 1024;

type State =
  | 'magic'
  | 'pcap-header'
  | 'pcap-record'
  | 'pcap-resync'
  | 'ng-block'
  | 'ng-resync'
  | 'stopped';

interface NgIface {
  id: number;
  linkType: number;
  snaplen: number;
  /** timestamp units per second when a power of 10 (division keeps precision), else 0 */
  tsDiv: number;
  tsMul: number;
  tsOffset: number;
  fcsLen: number;
}

/** True when `bytes` starts with a pcap magic (any byte order) or a pcapng SHB. */
export function isCaptureMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const be = u32be(bytes, 0);
  const le = u32le(bytes, 0);
  for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV]) if (be === m || le === m) return true;
  return be === PCAPNG_SHB;
}

export class CaptureParser {
  private readonly sink: CaptureSink;
  private state: State = 'magic';
  private _format: CaptureFormat | undefined;

  /** bytes of a unit that straddles chunks */
  private pend: Uint8Array = new Uint8Array(0);
  private pendLen = 0;
  /** total bytes the current unit needs (valid while pendLen > 0 or after unit() returned 0) */
  private need = 4;
  /** bytes still to be skipped (the rest of a skipped block) */
  private skip = 0;
  /** file offset of the next unprocessed byte (start of the current unit) */
  private offset = 0;
  private _packets = 0;
  private _bytes = 0;

  // pcap
  private le = true;
  private nanos = false;
  private recHdrLen = 16;
  private pcapLink = 0;
  private pcapSnap = 0;
  private pcapFcs = 0;
  private lastSec = -1;

  // pcapng
  private ifaces: NgIface[] = [];
  private nextIfaceId = 0;
  private lastTs = 0;
  private sawSection = false;

  // resync
  private resyncFrom = 0;
  private resyncScanned = 0;

  /** the record handed to `sink.packet`, refilled for every packet (see Memory ownership) */
  private readonly rec = new ParsedRecord();
  /** pushed bytes are a file's from offset 0: records get their `filePos` */
  private readonly positions: boolean;
  /** file offset of b[0] for the `b` of the unit being parsed (set by `unit`) */
  private unitBase = 0;

  constructor(sink: CaptureSink, opts?: { filePositions?: boolean }) {
    this.sink = sink;
    this.positions = opts?.filePositions === true;
  }

  get format(): CaptureFormat | undefined {
    return this._format;
  }
  /** records delivered so far */
  get packets(): number {
    return this._packets;
  }
  /** bytes pushed so far */
  get bytes(): number {
    return this._bytes;
  }
  /** true once the parser gave up (bad header or unrecoverable corruption) */
  get stopped(): boolean {
    return this.state === 'stopped';
  }

  push(chunk: Uint8Array): void {
    this._bytes += chunk.length;
    if (this.state === 'stopped') return;
    let pos = 0;
    const n = chunk.length;
    // 1. finish a unit that began in an earlier chunk
    while (this.pendLen > 0) {
      if (this.pendLen < this.need) {
        const take = Math.min(this.need - this.pendLen, n - pos);
        this.ensurePend(this.pendLen + take);
        this.pend.set(chunk.subarray(pos, pos + take), this.pendLen);
        this.pendLen += take;
        pos += take;
        if (this.pendLen < this.need) return;
      }
      const r = this.unit(this.pend, 0, this.pendLen);
      if (this.stopped) {
        this.pendLen = 0;
        return;
      }
      if (r > 0) {
        this.offset += Math.min(r, this.pendLen);
        if (r >= this.pendLen) {
          this.skip = r - this.pendLen;
          this.pendLen = 0;
        } else {
          this.pend.copyWithin(0, r, this.pendLen);
          this.pendLen -= r;
        }
      }
      // r === 0: `need` grew beyond pendLen or the state changed; loop
    }
    // 2. skip the tail of a skipped block
    if (this.skip > 0) {
      const s = Math.min(this.skip, n - pos);
      this.skip -= s;
      this.offset += s;
      pos += s;
      if (this.skip > 0) return;
    }
    // 3. units wholly inside this chunk are parsed in place (zero copy)
    while (pos < n) {
      // the run of whole pcap records or Enhanced Packet Blocks, in one loop (the common case)
      if (this.state === 'pcap-record') pos = this.pcapRun(chunk, pos, n);
      else if (this.state === 'ng-block') pos = this.ngRun(chunk, pos, n);
      if (pos === n) return;
      const avail = n - pos;
      const r = this.unit(chunk, pos, avail);
      if (this.stopped) return;
      if (r > 0) {
        if (r > avail) {
          this.skip = r - avail;
          this.offset += avail;
          return;
        }
        pos += r;
        this.offset += r;
        continue;
      }
      if (this.need > avail) {
        this.ensurePend(Math.max(avail, 64));
        this.pend.set(chunk.subarray(pos), 0);
        this.pendLen = avail;
        return;
      }
      // state change with enough bytes: loop
    }
  }

  end(): void {
    if (this.state === 'stopped') return;
    const state = this.state;
    const partial = this.pendLen;
    this.state = 'stopped';
    if (state === 'magic') {
      this.report('bad-header', this.offset, partial === 0 ? 'empty file: not a capture' : `file too short to be a capture (${partial} bytes)`);
      return;
    }
    if (state === 'pcap-header') {
      this.report('truncated-capture', this.offset, `file ends inside the pcap file header (${partial} of 24 bytes)`);
      return;
    }
    if (state === 'pcap-resync' || state === 'ng-resync') {
      if (partial > 0) this.report('truncated-capture', this.offset, `file ends at offset ${this.offset + partial} while scanning for the next record after a corrupt one`);
    } else if (partial > 0 || this.skip > 0) {
      const what = state === 'pcap-record' ? `record ${this._packets + 1}` : 'a block';
      const need = this.skip > 0 ? `${this.skip} bytes short` : `${partial} of ${this.need} bytes`;
      this.report('truncated-capture', this.offset, `file ends inside ${what} at offset ${this.offset} (${need})`);
    }
    this.pendLen = 0;
    this.skip = 0;
  }

  private ensurePend(size: number): void {
    if (this.pend.length >= size) return;
    let cap = Math.max(this.pend.length * 2, 4096);
    while (cap < size) cap *= 2;
    const next = new Uint8Array(Math.min(cap, Math.max(size, MAX_BUFFERED_UNIT + 64)));
    next.set(this.pend.subarray(0, this.pendLen));
    this.pend = next;
  }

  private report(kind: CaptureProblem['kind'], offset: number, text: string): void {
    this.sink.problem?.({ kind, packet: this._packets, offset, text });
  }

  private stop(kind: CaptureProblem['kind'], offset: number, text: string): number {
    this.report(kind, offset, text);
    this.state = 'stopped';
    return 0;
  }

  /**
   * Parse one unit at b[off..off+len). Returns bytes consumed (> 0; may exceed len for a
   * block that is skipped without buffering), or 0 after setting `need` > len (more bytes
   * needed) or changing state (call again).
   */
  private unit(b: Uint8Array, off: number, len: number): number {
    // every unit starts at `offset`, at b[off]
    this.unitBase = this.offset - off;
    switch (this.state) {
      case 'pcap-record':
        return this.pcapRecord(b, off, len);
      case 'ng-block':
        return this.ngBlock(b, off, len);
      case 'magic':
        return this.magic(b, off, len);
      case 'pcap-header':
        return this.pcapHeader(b, off, len);
      case 'pcap-resync':
        return this.pcapResync(b, off, len);
      case 'ng-resync':
        return this.ngResync(b, off, len);
      default:
        return 0;
    }
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le ? u32le(b, o) : u32be(b, o);
  }

  private u16(b: Uint8Array, o: number): number {
    return this.le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
  }

  private magic(b: Uint8Array, off: number, len: number): number {
    if (len < 4) {
      this.need = 4;
      return 0;
    }
    const be = u32be(b, off);
    const le = u32le(b, off);
    if (be === PCAPNG_SHB) {
      this._format = 'pcapng';
      this.state = 'ng-block';
      this.need = 12;
      return 0;
    }
    for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETSOV]) {
      if (le === m || be === m) {
        this._format = 'pcap';
        this.le = le === m;
        this.nanos = m === PCAP_MAGIC_NS;
        this.recHdrLen = m === PCAP_MAGIC_KUZNETSOV ? 24 : 16;
        this.state = 'pcap-header';
        this.need = 24;
        return 0;
      }
    }
    let hex = '';
    for (let i = 0; i < 4; i++) hex += b[off + i].toString(16).padStart(2, '0');
    return this.stop('bad-header', 0, `not a pcap or pcapng file (first bytes ${hex})`);
  }

  private pcapHeader(b: Uint8Array, off: number, len: number): number {
    if (len < 24) {
      this.need = 24;
      return 0;
    }
    const major = this.u16(b, off + 4);
    const minor = this.u16(b, off + 6);
    if (major !== 2) return this.stop('bad-header', 0, `unsupported pcap version ${major}.${minor}`);
    this.pcapSnap = this.u32(b, off + 16);
    const network = this.u32(b, off + 20);
    // draft-ietf-opsawg-pcap section 4: bits 0-15 (libpcap: 0-25) link type, bit 26 "F",
    // bits 28-31 the FCS length in 16-bit units.
    this.pcapLink = network & 0x03ffffff;
    this.pcapFcs = network & 0x04000000 ? ((network >>> 28) & 0xf) * 2 : 0;
    const info: CaptureInterfaceInfo = {
      id: 0,
      linkType: this.pcapLink,
      snaplen: this.pcapSnap,
      tsResolution: this.nanos ? 1e-9 : 1e-6,
    };
    this.sink.iface?.(info);
    if (!isSupportedLinkType(this.pcapLink)) {
      this.report('unknown-link-type', 20, `link type ${this.pcapLink} is not decoded (records are still read)`);
    }
    this.state = 'pcap-record';
    this.need = this.recHdrLen;
    return 24;
  }

  private pcapCaplenLimit(): number {
    return Math.max(Math.min(this.pcapSnap, MAX_BUFFERED_UNIT), MAX_PLAUSIBLE_CAPLEN);
  }

  private pcapRecord(b: Uint8Array, off: number, len: number): number {
    const hl = this.recHdrLen;
    if (len < hl) {
      this.need = hl;
      return 0;
    }
    const caplen = this.u32(b, off + 8);
    if (caplen > this.pcapCaplenLimit()) {
      this.report('corrupt-block', this.offset, `record ${this._packets + 1} at offset ${this.offset}: captured length ${caplen} is larger than the snap length ${this.pcapSnap}; scanning for the next record`);
      this.state = 'pcap-resync';
      this.resyncFrom = this.offset;
      this.resyncScanned = 0;
      return 1;
    }
    const total = hl + caplen;
    if (len < total) {
      this.need = total;
      return 0;
    }
    const sec = this.u32(b, off);
    const frac = this.u32(b, off + 4);
    let origLen = this.u32(b, off + 12);
    const ts = sec + (this.nanos ? frac / 1e9 : frac / 1e6);
    this.lastSec = sec;
    if (origLen < caplen) origLen = caplen;
    this.rec.ts = ts;
    this.emit(this.pcapLink, b, off + hl, caplen, origLen, 0, this.pcapFcs);
    return total;
  }

  /**
   * Hand on the whole pcap records at b[pos, n) in one loop; returns where the first one that
   * is not whole (or not plausible) starts, which `pcapRecord` then handles. What `pcapRecord`
   * does per record, without the per-unit dispatch and the byte-order branch per field: on a
   * capture of small packets (a SYN flood: 70-byte records) that dispatch was a fifth of the
   * parser's time.
   */
  private pcapRun(b: Uint8Array, pos: number, n: number): number {
    const hl = this.recHdrLen;
    const limit = this.pcapCaplenLimit();
    const div = this.nanos ? 1e9 : 1e6;
    const link = this.pcapLink;
    const fcs = this.pcapFcs;
    const le = this.le;
    // as `unit` does: the records handed on here start at `offset`, at b[pos]
    this.unitBase = this.offset - pos;
    // the fields through a DataView (see ngRun)
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    while (pos + hl <= n) {
      const caplen = dv.getUint32(pos + 8, le);
      const total = hl + caplen;
      if (caplen > limit || pos + total > n) break;
      const sec = dv.getUint32(pos, le);
      const frac = dv.getUint32(pos + 4, le);
      const origLen = dv.getUint32(pos + 12, le);
      this.lastSec = sec;
      // the time straight into the record: as an argument it would be a heap number per packet
      this.rec.ts = sec + frac / div;
      this.emit(link, b, pos + hl, caplen, origLen < caplen ? caplen : origLen, 0, fcs);
      pos += total;
      this.offset += total;
    }
    return pos;
  }

  /** Is there a believable pcap record header at b[o..o+hl)? (used only while resyncing) */
  private plausiblePcapHeader(b: Uint8Array, o: number): boolean {
    const sec = this.u32(b, o);
    const frac = this.u32(b, o + 4);
    const caplen = this.u32(b, o + 8);
    const origLen = this.u32(b, o + 12);
    if (frac >= (this.nanos ? 1e9 : 1e6)) return false;
    if (caplen > this.pcapCaplenLimit() || origLen < caplen || origLen > MAX_BUFFERED_UNIT) return false;
    if (this.pcapSnap > 0 && caplen > this.pcapSnap) return false;
    if (this.lastSec >= 0 && Math.abs(sec - this.lastSec) > 7 * 86400) return false;
    return true;
  }

  private pcapResync(b: Uint8Array, off: number, len: number): number {
    const hl = this.recHdrLen;
    if (len < hl) {
      this.need = hl;
      return 0;
    }
    if (this.plausiblePcapHeader(b, off)) {
      this.report('corrupt-block', this.offset, `skipped ${this.offset - this.resyncFrom} bytes; records resume at offset ${this.offset}`);
      this.state = 'pcap-record';
      this.need = hl;
      return 0;
    }
    this.resyncScanned++;
    if (this.resyncScanned > MAX_RESYNC_SCAN) {
      return this.stop('corrupt-block', this.offset, `no plausible record within ${MAX_RESYNC_SCAN} bytes after offset ${this.resyncFrom}; giving up`);
    }
    return 1;
  }

  /**
   * Hand b[off, off + caplen) to the sink as record `no`, less a trailing FCS of `fcs` bytes;
   * the caller has set the record's `ts`.
   */
  private emit(linkType: number, b: Uint8Array, off: number, caplen: number, origLen: number, iface: number, fcs: number): void {
    this._packets++;
    if (fcs > 0) {
      // drop the frame check sequence: it is not part of the frame's payload
      origLen = origLen >= fcs ? origLen - fcs : 0;
      if (caplen > origLen) caplen = origLen;
    }
    const rec = this.rec;
    rec.no = this._packets;
    rec.linkType = linkType;
    rec.buf = b;
    rec.off = off;
    rec.caplen = caplen;
    rec.view = null;
    rec.origLen = origLen;
    rec.iface = iface;
    rec.filePos = this.positions ? this.unitBase + off : -1;
    this.sink.packet(rec);
  }

  // ---- pcapng ----

  private ngBlock(b: Uint8Array, off: number, len: number): number {
    if (len < 8) {
      this.need = 8;
      return 0;
    }
    // The SHB's type is a palindrome; its byte order comes from the byte-order magic.
    const typeBE = u32be(b, off);
    if (typeBE === PCAPNG_SHB) {
      if (len < 12) {
        this.need = 12;
        return 0;
      }
      const bomLE = u32le(b, off + 8);
      const bomBE = u32be(b, off + 8);
      if (bomLE === PCAPNG_BOM) this.le = true;
      else if (bomBE === PCAPNG_BOM) this.le = false;
      else if (!this.sawSection) return this.stop('bad-header', this.offset, 'pcapng section header has no valid byte-order magic');
      else return this.corruptNg(`section header at offset ${this.offset} has no valid byte-order magic`);
    }
    const type = this.u32(b, off);
    const blen = this.u32(b, off + 4);
    if (!this.sawSection && typeBE !== PCAPNG_SHB) {
      return this.stop('bad-header', this.offset, 'pcapng file does not start with a section header block');
    }
    if (blen < 12 || blen % 4 !== 0 || blen > MAX_UNIT) {
      if (typeBE === PCAPNG_SHB && !this.sawSection) return this.stop('bad-header', this.offset, `pcapng section header has a bad length ${blen}`);
      return this.corruptNg(`block at offset ${this.offset} (type 0x${type.toString(16)}) has a bad length ${blen}`);
    }
    const interesting = type === BT_EPB || type === BT_SPB || type === BT_PB || type === BT_IDB || typeBE === PCAPNG_SHB || (type === BT_DSB && this.sink.secrets !== undefined);
    if (!interesting) return blen; // NRB, ISB, DSB, custom, unknown: skipped without buffering
    if (blen > MAX_BUFFERED_UNIT) {
      return this.corruptNg(`block at offset ${this.offset} (type 0x${type.toString(16)}) claims ${blen} bytes, more than any real one`);
    }
    if (len < blen) {
      this.need = blen;
      return 0;
    }
    const trailer = this.u32(b, off + blen - 4);
    if (trailer !== blen) {
      return this.corruptNg(`block at offset ${this.offset} (type 0x${type.toString(16)}): trailing length ${trailer} differs from leading length ${blen}`);
    }
    const body = off + 8;
    const bodyLen = blen - 12;
    if (typeBE === PCAPNG_SHB) this.ngSection(b, body, bodyLen);
    else if (type === BT_IDB) this.ngIdb(b, body, bodyLen);
    else if (type === BT_EPB) this.ngEpb(b, body, bodyLen);
    else if (type === BT_SPB) this.ngSpb(b, body, bodyLen);
    else if (type === BT_DSB) this.ngDsb(b, body, bodyLen);
    else this.ngPb(b, body, bodyLen);
    if (this.state === 'stopped') return 0;
    return blen;
  }

  /**
   * `pcapRun` for pcapng: hand on the whole, well-formed Enhanced Packet Blocks at b[pos, n) in
   * one loop; returns where the first other unit starts (another block type, a block cut by the
   * chunk end, anything `ngBlock` would report), which `ngBlock` then handles. The checks are
   * `ngBlock`'s and `ngPacket`'s for an EPB: a block that fails one is left to them, so what
   * they report is unchanged.
   */
  private ngRun(b: Uint8Array, pos: number, n: number): number {
    if (!this.sawSection) return pos;
    const le = this.le;
    // as `unit` does: the blocks handed on here start at `offset`, at b[pos]
    this.unitBase = this.offset - pos;
    // The fields through a DataView: TurboFan compiles its reads to a load (and a byte swap),
    // where `le ? u32le : u32be` calls, eight per block, were left out of line in this loop
    // (3% of the main thread on the wss benchmark capture, perf).
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // an EPB is at least 32 bytes: type, length, 20 bytes of fields, trailing length
    while (pos + 32 <= n) {
      if (dv.getUint32(pos, le) !== BT_EPB) break;
      const blen = dv.getUint32(pos + 4, le);
      if (blen < 32 || blen % 4 !== 0 || blen > MAX_BUFFERED_UNIT || pos + blen > n) break;
      if (dv.getUint32(pos + blen - 4, le) !== blen) break;
      const body = pos + 8;
      const ifc = this.ifaces[dv.getUint32(body, le)];
      const caplen = dv.getUint32(body + 12, le);
      if (ifc === undefined || caplen > blen - 32) break;
      const ts = this.ngTs(ifc, dv.getUint32(body + 4, le), dv.getUint32(body + 8, le));
      this.ngEmit(ifc, ts, b, body + 20, caplen, dv.getUint32(body + 16, le));
      pos += blen;
      this.offset += blen;
    }
    return pos;
  }

  /** Report a corrupt block and look for the next plausible one (4-byte steps). */
  private corruptNg(text: string): number {
    this.report('corrupt-block', this.offset, `${text}; scanning for the next block`);
    this.state = 'ng-resync';
    this.resyncFrom = this.offset;
    this.resyncScanned = 0;
    this.need = 12;
    return 4;
  }

  private ngResync(b: Uint8Array, off: number, len: number): number {
    if (len < 12) {
      this.need = 12;
      return 0;
    }
    const typeBE = u32be(b, off);
    let candidate = false;
    if (typeBE === PCAPNG_SHB) candidate = true;
    else {
      const type = this.u32(b, off);
      const blen = this.u32(b, off + 4);
      if (KNOWN_BLOCKS.has(type) && blen >= 12 && blen % 4 === 0 && blen <= MAX_RESYNC_BLOCK) {
        if (len < blen) {
          this.need = blen;
          return 0;
        }
        candidate = this.u32(b, off + blen - 4) === blen;
      }
    }
    if (candidate) {
      this.report('corrupt-block', this.offset, `skipped ${this.offset - this.resyncFrom} bytes; blocks resume at offset ${this.offset}`);
      this.state = 'ng-block';
      this.need = 12;
      return 0;
    }
    this.resyncScanned += 4;
    if (this.resyncScanned > MAX_RESYNC_SCAN) {
      return this.stop('corrupt-block', this.offset, `no plausible block within ${MAX_RESYNC_SCAN} bytes after offset ${this.resyncFrom}; giving up`);
    }
    this.need = 12;
    return 4;
  }

  private ngSection(b: Uint8Array, body: number, bodyLen: number): void {
    if (bodyLen < 16) {
      this.state = 'stopped';
      this.report(this.sawSection ? 'corrupt-block' : 'bad-header', this.offset, 'pcapng section header block is too short');
      return;
    }
    const major = this.u16(b, body + 4);
    if (major !== 1) {
      this.state = 'stopped';
      this.report('bad-header', this.offset, `unsupported pcapng version ${major}.${this.u16(b, body + 6)}`);
      return;
    }
    this.sawSection = true;
    // draft-ietf-opsawg-pcapng section 4.1: interface ids restart in every section.
    this.ifaces = [];
  }

  private ngIdb(b: Uint8Array, body: number, bodyLen: number): void {
    if (bodyLen < 8) {
      this.report('corrupt-block', this.offset, `interface description block at offset ${this.offset} is too short`);
      // keep numbering consistent: later packets refer to this interface
      this.ifaces.push({ id: this.nextIfaceId++, linkType: -1, snaplen: 0, tsDiv: 1e6, tsMul: 0, tsOffset: 0, fcsLen: 0 });
      return;
    }
    const linkType = this.u16(b, body);
    const snaplen = this.u32(b, body + 4);
    const ifc: NgIface = { id: this.nextIfaceId++, linkType, snaplen, tsDiv: 1e6, tsMul: 0, tsOffset: 0, fcsLen: 0 };
    let name: string | undefined;
    let description: string | undefined;
    let tsResolution = 1e-6;
    let o = body + 8;
    const end = body + bodyLen;
    while (o + 4 <= end) {
      const code = this.u16(b, o);
      const olen = this.u16(b, o + 2);
      const v = o + 4;
      if (code === 0 || v + olen > end) break;
      if (code === 2) name = utf8(b, v, olen);
      else if (code === 3) description = utf8(b, v, olen);
      else if (code === 9 && olen >= 1) {
        // if_tsresol: high bit clear -> 10^-n, set -> 2^-n (section 4.2)
        const r = b[v];
        const exp = r & 0x7f;
        if (r & 0x80) {
          ifc.tsDiv = 0;
          ifc.tsMul = Math.pow(2, -exp);
          tsResolution = ifc.tsMul;
        } else {
          ifc.tsDiv = Math.pow(10, exp);
          tsResolution = 1 / ifc.tsDiv;
        }
      } else if (code === 14 && olen >= 8) {
        // if_tsoffset: signed 64-bit seconds added to every timestamp
        const hi = this.u32(b, v + (this.le ? 4 : 0)) | 0;
        const lo = this.u32(b, v + (this.le ? 0 : 4));
        ifc.tsOffset = hi * 4294967296 + lo;
      } else if (code === 13 && olen >= 1) {
        ifc.fcsLen = b[v];
      }
      o = v + ((olen + 3) & ~3);
    }
    this.ifaces.push(ifc);
    this.sink.iface?.({ id: ifc.id, linkType, name, description, snaplen, tsResolution });
    if (!isSupportedLinkType(linkType)) {
      this.report('unknown-link-type', this.offset, `interface ${ifc.id} has link type ${linkType}, which is not decoded (records are still read)`);
    }
  }

  private ngTs(ifc: NgIface, hi: number, lo: number): number {
    const units = hi * 4294967296 + lo;
    // Dividing by 10^n rounds correctly; multiplying by 1e-9 would not.
    const ts = (ifc.tsDiv > 0 ? units / ifc.tsDiv : units * ifc.tsMul) + ifc.tsOffset;
    this.lastTs = ts;
    return ts;
  }

  private ngEpb(b: Uint8Array, body: number, bodyLen: number): void {
    if (bodyLen >= 20) this.ngPacket(b, body, bodyLen, this.u32(b, body));
    else this.report('corrupt-block', this.offset, `enhanced packet block at offset ${this.offset} is too short`);
  }

  /** The obsolete Packet Block (type 2): an EPB with a 16-bit interface id and drop count. */
  private ngPb(b: Uint8Array, body: number, bodyLen: number): void {
    if (bodyLen >= 20) this.ngPacket(b, body, bodyLen, this.u16(b, body));
    else this.report('corrupt-block', this.offset, `packet block at offset ${this.offset} is too short`);
  }

  /** EPB and PB share their layout after the interface id: ts high, ts low, caplen, origLen, data. */
  private ngPacket(b: Uint8Array, body: number, bodyLen: number, ifId: number): void {
    const caplen = this.u32(b, body + 12);
    const origLen = this.u32(b, body + 16);
    const ifc = this.ifaces[ifId];
    if (ifc === undefined) {
      this.report('corrupt-block', this.offset, `packet at offset ${this.offset} refers to interface ${ifId}, which this section did not describe`);
      return;
    }
    if (caplen > bodyLen - 20) {
      this.report('corrupt-block', this.offset, `packet at offset ${this.offset}: captured length ${caplen} is larger than its block`);
      return;
    }
    const ts = this.ngTs(ifc, this.u32(b, body + 4), this.u32(b, body + 8));
    this.ngEmit(ifc, ts, b, body + 20, caplen, origLen);
  }

  /** DSB: secrets type, secrets length, the secrets (a view, valid during the call) */
  private ngDsb(b: Uint8Array, body: number, bodyLen: number): void {
    const len = bodyLen >= 8 ? this.u32(b, body + 4) : -1;
    if (len < 0 || len > bodyLen - 8) return this.report('corrupt-block', this.offset, `decryption secrets block at offset ${this.offset} has a bad secrets length; it is skipped`);
    this.sink.secrets?.(this.u32(b, body), b.subarray(body + 8, body + 8 + len));
  }

  private ngSpb(b: Uint8Array, body: number, bodyLen: number): void {
    const ifc = this.ifaces[0];
    if (ifc === undefined || bodyLen < 4) {
      this.report('corrupt-block', this.offset, `simple packet block at offset ${this.offset} without an interface 0 in its section`);
      return;
    }
    const origLen = this.u32(b, body);
    // Section 4.4: captured length = min(original length, snaplen of interface 0), and the
    // block's size bounds it.
    let caplen = Math.min(origLen, bodyLen - 4);
    if (ifc.snaplen > 0) caplen = Math.min(caplen, ifc.snaplen);
    // No timestamp in an SPB: reuse the last one seen.
    this.ngEmit(ifc, this.lastTs, b, body + 4, caplen, origLen);
  }

  private ngEmit(ifc: NgIface, ts: number, b: Uint8Array, off: number, caplen: number, origLen: number): void {
    this.rec.ts = ts;
    this.emit(ifc.linkType, b, off, caplen, origLen < caplen ? caplen : origLen, ifc.id, ifc.fcsLen);
  }
}

/**
 * The parser's one PacketRecord, refilled per packet: the captured bytes are buf[off, off +
 * caplen), and the `data` view is made only if a sink reads it (the pipeline's header walk
 * reads `buf` directly), saving a typed-array object per packet.
 */
class ParsedRecord implements PacketRecord {
  no = 0;
  ts = 0;
  linkType = 0;
  origLen = 0;
  iface = 0;
  buf: Uint8Array = EMPTY_BYTES;
  off = 0;
  caplen = 0;
  filePos = -1;
  /** the view of this packet, once made */
  view: Uint8Array | null = null;

  get data(): Uint8Array {
    return (this.view ??= byteView(this.buf, this.off, this.caplen));
  }
}

const EMPTY_BYTES = new Uint8Array(0);

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
function utf8(b: Uint8Array, o: number, n: number): string {
  let end = o + n;
  // options are often NUL-terminated by their writers
  while (end > o && b[end - 1] === 0) end--;
  return decoder.decode(b.subarray(o, end));
}
