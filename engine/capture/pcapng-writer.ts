/**
 * PcapngWriter: appends a pcapng stream (one Section Header Block, Interface Description
 * Blocks, Enhanced Packet Blocks) to a file descriptor, for live write-through and export.
 *
 * Contract: blocks are encoded into one growing in-memory batch and reach the file only in
 * `flush()`, with one `fs.writeSync` per batch of whole blocks. The file therefore always
 * ends on a block boundary as far as this process is concerned: a SIGKILL between flushes
 * loses the unflushed batch and nothing else, and every block in the file reads back.
 * Block layouts follow draft-ietf-opsawg-pcapng (sections 4.1 SHB, 4.2 IDB, 4.3 EPB, 4.7 DSB),
 * written in little-endian byte order (the SHB's byte-order magic tells readers which); a
 * Decryption Secrets Block appended into another writer's section (dumpcap's) takes that
 * section's byte order.
 *
 * A write that fails (ENOSPC, EDQUOT, EIO, EFBIG: a full or failing disk) leaves no torn
 * block either: the file is cut back (ftruncate) to the end of the last batch written whole,
 * `flush()` throws the error once, and the writer is dead from then on: `failure` holds the
 * error, appends are dropped (EPBs counted in `packetsLost`), flush writes nothing and
 * `close()` only closes. So a capture on a full disk keeps a file that ends on a block
 * boundary and reads back in tshark; the caller stops and says what happened.
 *
 * Memory ownership: `appendPacket` copies `data` into the batch (callers may reuse their
 * buffer right after). `flush()` hands the flushed batch to `onFlush` as a view that the
 * writer will not touch again (it allocates a fresh batch buffer), so a consumer may keep it.
 */
import { Buffer } from 'node:buffer';
import { closeSync, ftruncateSync, writeSync } from 'node:fs';
import { createPrivateFile } from '../fs/private';

export interface PcapngInterface {
  /** LINKTYPE_* value */
  linkType: number;
  snaplen: number;
  name?: string;
  description?: string;
  /** decimal exponent of the timestamp unit: 6 = microseconds (default), 9 = nanoseconds */
  tsResolution?: 6 | 9;
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const DSB = 0x0000000a;
/** DSB secrets type of an NSS key log (pcapng section 4.7: 'TLSK') */
export const SECRETS_TLS_KEY_LOG = 0x544c534b;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_DESCRIPTION = 3;
const OPT_IF_TSRESOL = 9;

/** Flush automatically once a batch grows past this, so one busy tick never holds much. */
const AUTO_FLUSH_BYTES = 1 << 20;
const TWO_32 = 4294967296;

const encoder = new TextEncoder();
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const pad4 = (n: number): number => (n + 3) & ~3;

export class PcapngWriter {
  private fd: number;
  private readonly ownsFd: boolean;
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;
  private readonly resolutions: number[] = [];
  /** bytes that reached the file */
  bytesWritten = 0;
  /** packets that reached the file */
  packetsWritten = 0;
  private packetsPending = 0;
  /** packets dropped because a write failed (see `failure`) */
  packetsLost = 0;
  /** the write error that killed this writer, if one did */
  failure: NodeJS.ErrnoException | null = null;
  /** called after each flush with the bytes just written and the file offset they start at */
  onFlush: ((bytes: Uint8Array, offset: number) => void) | null = null;

  /**
   * Creates `path` as a new private file (engine/fs/private.ts: refuses an existing name or a
   * symlink, mode 0600) and writes the Section Header Block into the first batch.
   */
  static create(path: string, application = 'wsscope'): PcapngWriter {
    return new PcapngWriter(createPrivateFile(path), true, application);
  }

  /** Writes to an already open fd; `ownsFd` decides whether `close()` closes it. */
  constructor(fd: number, ownsFd: boolean, application: string | null = 'wsscope') {
    this.fd = fd;
    this.ownsFd = ownsFd;
    this.buf = newBatch(64 * 1024);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    if (application !== null) this.writeShb(application);
  }

  /** Bytes waiting in the batch. */
  get pending(): number {
    return this.len;
  }

  /** Adds an Interface Description Block; returns the interface id EPBs refer to. */
  addInterface(iface: PcapngInterface): number {
    const tsres = iface.tsResolution ?? 6;
    const opts: Array<[number, Uint8Array]> = [];
    if (iface.name) opts.push([OPT_IF_NAME, encoder.encode(iface.name)]);
    if (iface.description) opts.push([OPT_IF_DESCRIPTION, encoder.encode(iface.description)]);
    opts.push([OPT_IF_TSRESOL, Uint8Array.of(tsres)]);
    const body = 8 + optionsLength(opts);
    const total = 12 + body;
    this.reserve(total);
    const v = this.view;
    let o = this.len;
    v.setUint32(o, IDB, true);
    v.setUint32(o + 4, total, true);
    v.setUint16(o + 8, iface.linkType, true);
    v.setUint16(o + 10, 0, true); // reserved
    v.setUint32(o + 12, iface.snaplen >>> 0, true);
    o = this.writeOptions(o + 16, opts);
    v.setUint32(o, total, true);
    this.len = o + 4;
    this.resolutions.push(tsres === 9 ? 1e9 : 1e6);
    return this.resolutions.length - 1;
  }

  /**
   * Appends one Enhanced Packet Block with the timestamp given in the interface's units,
   * as the integer `units` (must be exact below 2^53: microseconds since the epoch are).
   */
  appendPacketUnits(iface: number, units: number, data: Uint8Array, origLen: number): void {
    this.appendEpb(iface, Math.floor(units / TWO_32), units >>> 0, data, origLen);
  }

  /** Appends one packet stamped in seconds since the epoch (export path). */
  appendPacket(iface: number, tsSeconds: number, data: Uint8Array, origLen: number): void {
    const res = this.resolutions[iface];
    if (res === undefined) throw new RangeError(`pcapng: no interface ${iface}`);
    if (res === 1e6) {
      const us = Math.round(tsSeconds * 1e6);
      this.appendEpb(iface, Math.floor(us / TWO_32), us >>> 0, data, origLen);
      return;
    }
    // nanoseconds since the epoch exceed 2^53: split seconds and fraction so the digits
    // the double holds survive, and split the 64-bit count exactly with BigInt
    const sec = Math.floor(tsSeconds);
    const ns = BigInt(sec) * 1000000000n + BigInt(Math.round((tsSeconds - sec) * 1e9));
    this.appendEpb(iface, Number(ns >> 32n), Number(ns & 0xffffffffn), data, origLen);
  }

  private appendEpb(iface: number, hi: number, lo: number, data: Uint8Array, origLen: number): void {
    if (this.failure) {
      this.packetsLost++;
      return;
    }
    const capLen = data.length;
    const total = 32 + pad4(capLen);
    this.reserve(total);
    const v = this.view;
    const o = this.len;
    v.setUint32(o, EPB, true);
    v.setUint32(o + 4, total, true);
    v.setUint32(o + 8, iface, true);
    v.setUint32(o + 12, hi, true);
    v.setUint32(o + 16, lo, true);
    v.setUint32(o + 20, capLen, true);
    v.setUint32(o + 24, origLen, true);
    this.buf.set(data, o + 28);
    // padding bytes must be zero (section 3.1); the batch memory is not zeroed
    const end = o + 28 + capLen;
    const padded = o + 28 + pad4(capLen);
    for (let i = end; i < padded; i++) this.buf[i] = 0;
    v.setUint32(padded, total, true);
    this.len = padded + 4;
    this.packetsPending++;
    if (this.len >= AUTO_FLUSH_BYTES) this.flush();
  }

  /**
   * Appends a Decryption Secrets Block (section 4.7; no options) holding `secrets`, e.g. key
   * log lines (SECRETS_TLS_KEY_LOG), so the file decrypts with no key log beside it. The
   * secrets are copied. `littleEndian`: the byte order of the section it goes into.
   */
  appendSecrets(type: number, secrets: Uint8Array, littleEndian = true): void {
    const total = 20 + pad4(secrets.length);
    this.reserve(total);
    const v = this.view;
    const o = this.len;
    v.setUint32(o, DSB, littleEndian);
    v.setUint32(o + 4, total, littleEndian);
    v.setUint32(o + 8, type, littleEndian);
    v.setUint32(o + 12, secrets.length, littleEndian);
    this.buf.set(secrets, o + 16);
    const padded = o + 16 + pad4(secrets.length);
    for (let i = o + 16 + secrets.length; i < padded; i++) this.buf[i] = 0;
    v.setUint32(padded, total, littleEndian);
    this.len = padded + 4;
    if (this.len >= AUTO_FLUSH_BYTES) this.flush();
  }

  /** Appends whole pcapng blocks produced elsewhere (e.g. dumpcap's stdout), unchanged. */
  appendRaw(bytes: Uint8Array): void {
    if (this.failure) return;
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    if (this.len >= AUTO_FLUSH_BYTES) this.flush();
  }

  /**
   * Writes the batch to the file; returns the number of bytes written. Throws the write
   * error when one happens (once: the writer is dead afterwards, see the module comment).
   */
  flush(): number {
    if (this.failure) {
      this.len = 0;
      return 0;
    }
    if (this.len === 0) return 0;
    const batch = this.buf.subarray(0, this.len);
    let off = 0;
    while (off < batch.length) {
      try {
        off += writeSync(this.fd, batch, off, batch.length - off);
      } catch (e) {
        // a non-blocking pipe (stdout of the capture helper) that is full: wait for the reader
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(sleeper, 0, 0, 1);
          continue;
        }
        this.die(e as NodeJS.ErrnoException, off > 0);
        throw e;
      }
    }
    const at = this.bytesWritten;
    this.bytesWritten += batch.length;
    this.packetsWritten += this.packetsPending;
    this.packetsPending = 0;
    this.len = 0;
    if (this.onFlush) {
      // hand the batch over and start a fresh one, so the consumer may keep the flushed
      // bytes; unzeroed memory is fine because every byte of a block is written (padding too)
      this.buf = newBatch(Math.min(this.buf.length, AUTO_FLUSH_BYTES * 2));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      this.onFlush(batch, at);
    }
    return batch.length;
  }

  /** Flushes and closes (the fd only when this writer opened it, and even when the flush throws). */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      if (this.ownsFd) closeSync(this.fd);
      this.fd = -1;
    }
  }

  /**
   * A write failed: drop the batch, cut a partly written one back off the file (a pipe cannot
   * be cut, and nothing past bytesWritten was promised there either), and refuse all later work.
   */
  private die(e: NodeJS.ErrnoException, torn: boolean): void {
    this.failure = e;
    this.packetsLost += this.packetsPending;
    this.packetsPending = 0;
    this.len = 0;
    if (!torn) return;
    try {
      ftruncateSync(this.fd, this.bytesWritten);
    } catch {
      // not a regular file
    }
  }

  private writeShb(application: string): void {
    const opts: Array<[number, Uint8Array]> = [[OPT_SHB_USERAPPL, encoder.encode(application)]];
    const total = 28 + optionsLength(opts);
    this.reserve(total);
    const v = this.view;
    const o = this.len;
    v.setUint32(o, SHB, true);
    v.setUint32(o + 4, total, true);
    v.setUint32(o + 8, BYTE_ORDER_MAGIC, true);
    v.setUint16(o + 12, 1, true);
    v.setUint16(o + 14, 0, true);
    // section length -1: not specified (we append without knowing the end)
    v.setInt32(o + 16, -1, true);
    v.setInt32(o + 20, -1, true);
    const e = this.writeOptions(o + 24, opts);
    v.setUint32(e, total, true);
    this.len = e + 4;
  }

  private writeOptions(o: number, opts: Array<[number, Uint8Array]>): number {
    const v = this.view;
    for (const [code, value] of opts) {
      v.setUint16(o, code, true);
      v.setUint16(o + 2, value.length, true);
      this.buf.set(value, o + 4);
      const end = o + 4 + value.length;
      o += 4 + pad4(value.length);
      for (let i = end; i < o; i++) this.buf[i] = 0;
    }
    v.setUint32(o, OPT_ENDOFOPT, true);
    return o + 4;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = newBatch(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}

/** A batch buffer outside Node's shared pool (it may be handed over and kept). */
function newBatch(size: number): Uint8Array {
  return Buffer.allocUnsafeSlow(size);
}

function optionsLength(opts: Array<[number, Uint8Array]>): number {
  let n = 4; // opt_endofopt
  for (const [, value] of opts) n += 4 + pad4(value.length);
  return n;
}
