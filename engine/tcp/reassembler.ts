/**
 * One direction of a TCP connection turned into an ordered byte stream, in the shape of
 * gopacket's reassembly (tcpassembly/assembly.go): the caller hands in every segment of the
 * direction (SYN, FIN, RST and pure ACKs included) in capture order; the sink receives the
 * bytes in stream order with `skip` marking what was lost (engine/types.ts `StreamSink`),
 * then exactly one `end`.
 *
 * Memory ownership: `payload` is a view valid only during `segment()`. In-order bytes are
 * passed to `sink.data` as that same view (zero copy), so the sink must copy what it keeps.
 * Out-of-order bytes are copied (`slice`) into a buffer bounded by `maxBufferedBytes` and
 * `maxSegments`; when a bound is hit the oldest hole is declared lost and the buffered data
 * after it is delivered with `skip` = the hole size, so memory never grows past the bound.
 *
 * Rules (deterministic, first copy wins):
 * - SYN sets the ISN; data starts at ISN+1 (RFC 9293 section 3.4). Without a SYN, the first
 *   segment carrying data (or FIN/RST) starts the stream and the first chunk has skip -1;
 *   bytes sequenced before that start are dropped and counted (`stats.beforeStart`).
 * - Bytes already delivered or already buffered are trimmed from a new segment; where the
 *   overlapping bytes differ from the first copy, `sink.conflict` is called. Buffered bytes
 *   are always checked; delivered bytes only within `conflictWindow` (the last delivered
 *   bytes since the last skip, off by default): history.ts keeps them, as where they lie in
 *   the capture file when the segment says so (`pos` of `segment`, with a reader in
 *   `readBack`) and read back only for a comparison, else as a copy.
 * - Keep-alives (0 or 1 byte at next-1, RFC 9293 section 3.8.4) are counted and ignored.
 *   Zero-window probes are either of that form (Linux) or carry the genuine next byte
 *   (RFC 9293 section 3.8.6.1); that byte is delivered once and its later retransmission
 *   is trimmed as a duplicate, so a probe never adds a byte to the stream.
 * - FIN ends the stream once every byte before it is delivered (its offset is remembered
 *   when it comes early). RST ends at once: buffered data is delivered (with skips over
 *   holes), then `end('rst')`. Data after the FIN or after the end is counted and ignored.
 * - A hole the peer acknowledged is lost to the capture, not to the connection: the receiver
 *   has those bytes and the sender will never send them again (RFC 9293 section 3.10.7.4:
 *   SND.UNA advances past acknowledged data, which leaves the retransmission queue). The
 *   owner hands in the peer's acknowledgment numbers (`acknowledge`); a hole below the
 *   highest one is declared lost at once (Wireshark's "ACKed segment that wasn't captured"),
 *   so the bytes behind it are delivered in capture order, not at the end of the file.
 * - `missing` bytes (cut by the snap length) are never invented: the captured prefix is
 *   delivered and the cut tail becomes part of the next chunk's `skip`.
 * - Offsets are kept as JS numbers from the stream start (exact to 2^53), sequence numbers
 *   only compared through `seqDiff`, so streams crossing 2^32 need no special case.
 */
import { TCP_FIN, TCP_RST, TCP_SYN } from '../types';
import type { ChunkMeta, StreamSink } from '../types';
import { seqDiff } from './seq';
import { DeliveredHistory, type ReadBackLink } from './history';

export interface ReassemblerOptions {
  /** bytes of out-of-order data kept per direction before a hole is declared lost (4 MiB) */
  maxBufferedBytes?: number;
  /** out-of-order pieces kept before a hole is declared lost (8192) */
  maxSegments?: number;
  /** bytes of delivered data remembered to detect conflicting retransmits (0 = off) */
  conflictWindow?: number;
  /** the reader of the capture file the segments' `pos` refer to (history.ts) */
  readBack?: ReadBackLink;
}

export interface ReassemblerStats {
  /** calls to segment() */
  segments: number;
  /** bytes handed to sink.data */
  delivered: number;
  /** bytes declared lost: holes skipped and snap-length-cut tails */
  skipped: number;
  /** holes declared lost (buffer bound, RST, flush) */
  gaps: number;
  /** segments that had to be buffered */
  outOfOrder: number;
  /** data segments whose every byte had been seen already */
  retransmits: number;
  /** data segments partly overlapping bytes seen already */
  overlaps: number;
  /** sink.conflict calls */
  conflicts: number;
  keepAlives: number;
  /** bytes sequenced before the start of a mid-stream pickup, dropped */
  beforeStart: number;
  /** segments carrying data past the FIN or after the end, ignored (trimmed part counted) */
  afterEnd: number;
  /** bytes the snap length cut (sum of `missing`) */
  cutBytes: number;
}

/** A buffered out-of-order piece: `data` (a private copy) then `missing` unknown bytes. */
interface Piece {
  off: number;
  data: Uint8Array;
  missing: number;
  meta: ChunkMeta;
}

const EMPTY = new Uint8Array(0);
const EMPTY_META: ChunkMeta = { ts: 0, packet: 0 };
const CTRL = TCP_SYN | TCP_FIN | TCP_RST;
const INSERTED = 1;
const OVERLAPPED = 2;

export class TcpReassembler {
  readonly stats: ReassemblerStats = {
    segments: 0,
    delivered: 0,
    skipped: 0,
    gaps: 0,
    outOfOrder: 0,
    retransmits: 0,
    overlaps: 0,
    conflicts: 0,
    keepAlives: 0,
    beforeStart: 0,
    afterEnd: 0,
    cutBytes: 0,
  };

  private readonly sink: StreamSink;
  private readonly maxBytes: number;
  private readonly maxPieces: number;

  private started = false;
  private midstream = false;
  private firstChunk = true;
  private isEnded = false;
  /** sequence number of the next byte to deliver */
  private nextSeq = 0;
  /** stream offset of the next byte to deliver */
  private nextOffset = 0;
  /** bytes lost since the last chunk, reported as the next chunk's skip */
  private pendingSkip = 0;
  /** stream offset of the FIN (-1 = none seen) */
  private finOffset = -1;
  private finMeta: ChunkMeta | null = null;
  /** out-of-order pieces, sorted by offset, non-overlapping, all after nextOffset */
  private buf: Piece[] = [];
  private buffered = 0;
  /** stream offset the peer acknowledged (-1: no acknowledgment seen since the start) */
  private acked = -1;

  /** the delivered bytes a retransmission is compared with (null: conflictWindow 0) */
  private readonly history: DeliveredHistory | null;

  constructor(sink: StreamSink, opts?: ReassemblerOptions) {
    this.sink = sink;
    this.maxBytes = opts?.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.maxPieces = opts?.maxSegments ?? 8192;
    const window = opts?.conflictWindow ?? 0;
    this.history = window > 0 ? new DeliveredHistory(window, opts?.readBack ?? null) : null;
    // V8 treats a field written only once as a constant and folds its value into optimized
    // code; the first FIN or end of any stream, typically well into a capture, would then
    // throw away the optimized per-packet path (segment and everything it is inlined into)
    // and compile it again. A second write here makes them plain mutable fields from the start.
    this.finOffset = -2;
    this.finOffset = -1;
    this.finMeta = EMPTY_META;
    this.finMeta = null;
    this.isEnded = true;
    this.isEnded = false;
    this.buffered = -1;
    this.buffered = 0;
    this.acked = 0;
    this.acked = -1;
    this.buf = [];
    this.buf = [];
  }

  /**
   * Back to the state of a new reassembler (same sink and options), so an owner can reuse it
   * for another stream instead of allocating one: the flow table pools the reassemblers of
   * flows evicted before they carried payload (tcp-flows.ts). Every field the class
   * initializes is set here again; the delivered-bytes history goes back to the spares.
   */
  reset(): void {
    const st = this.stats;
    st.segments = st.delivered = st.skipped = st.gaps = st.outOfOrder = st.retransmits = 0;
    st.overlaps = st.conflicts = st.keepAlives = st.beforeStart = st.afterEnd = st.cutBytes = 0;
    this.started = this.midstream = this.isEnded = false;
    this.firstChunk = true;
    this.nextSeq = this.nextOffset = this.pendingSkip = 0;
    this.finOffset = -1;
    this.finMeta = null;
    if (this.buf.length > 0) this.buf = [];
    this.buffered = 0;
    this.acked = -1;
    this.history?.reset();
  }

  /**
   * Take over a stream whose first segments, none with payload, its owner followed itself
   * (tcp-conn.ts: a handshake costs no reassembly): the data starts at sequence number
   * `nextSeq` (after the SYN; -1: no SYN seen), the peer acknowledged up to stream offset
   * `acked` (-1: nothing), or the stream `ended` already (its end was reported to the sink).
   * Only on a new or reset reassembler. The SYN and the acknowledgment go through `segment`
   * and `acknowledge`, so their rules stay in one place (and the per-segment path sees a SYN
   * early, as it did before owners took over handshakes: V8 then compiles it with that branch
   * known, instead of dropping the compiled code at the first FIN of a capture).
   */
  resume(nextSeq: number, acked: number, ended: boolean, meta: ChunkMeta): void {
    if (ended) this.isEnded = true;
    else if (nextSeq >= 0) {
      this.segment((nextSeq - 1) >>> 0, TCP_SYN, EMPTY, 0, meta, -1);
      if (acked >= 0) this.acknowledge((nextSeq + acked) >>> 0);
    }
  }

  /** bytes of out-of-order data currently held */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** true once end() was called on the sink */
  get ended(): boolean {
    return this.isEnded;
  }

  /** stream offset of the next byte expected (bytes delivered + skipped so far) */
  get offset(): number {
    return this.nextOffset;
  }

  /**
   * One segment of the direction; `pos` is the capture-file offset of payload[0] when the
   * payload is a contiguous range of the file being read (-1: unknown, see history.ts).
   */
  segment(seq: number, flags: number, payload: Uint8Array, missing: number, meta: ChunkMeta, pos = -1): void {
    this.stats.segments++;
    const len = payload.length;
    if (len === 0 && missing === 0 && (flags & CTRL) === 0) {
      // Pure ACK or window update: the common case, only a keep-alive is worth counting.
      if (this.started && !this.isEnded && this.isKeepAliveSeq(seq)) this.stats.keepAlives++;
      return;
    }
    if (this.isEnded) {
      if (len + missing > 0) this.stats.afterEnd++;
      return;
    }
    if (seq === this.nextSeq && (flags & CTRL) === 0 && this.buf.length === 0 && this.finOffset < 0 && this.started) {
      // Fast path: the next bytes, nothing buffered: hand the view over, no copy.
      if (len > 0) this.emit(payload, meta, pos);
      const n = len + missing;
      this.nextOffset += n;
      this.nextSeq = (seq + n) >>> 0;
      if (missing > 0) {
        this.stats.cutBytes += missing;
        this.cut(missing);
      }
      return;
    }
    this.slowPath(seq, flags, payload, missing, meta, pos);
  }

  /** End of input: deliver what is buffered, with skips over holes, then end the stream. */
  flush(meta: ChunkMeta): void {
    if (this.isEnded) return;
    this.flushAll();
    if (this.finOffset >= 0 && this.finMeta !== null) {
      // Bytes between the last delivered one and the FIN were never seen.
      if (this.finOffset > this.nextOffset) this.stats.skipped += this.finOffset - this.nextOffset;
      this.finish('fin', this.finMeta);
    } else {
      this.finish('eof', meta);
    }
  }

  private slowPath(seq: number, flags: number, payload: Uint8Array, missing: number, meta: ChunkMeta, pos: number): void {
    const st = this.stats;
    let dataSeq = seq;
    if ((flags & TCP_SYN) !== 0) {
      // The SYN occupies one sequence number; its data starts after it (RFC 9293 3.4).
      dataSeq = (seq + 1) >>> 0;
      if (!this.started) {
        this.started = true;
        this.nextSeq = dataSeq;
      }
      // A SYN on a started stream (retransmitted, or seen after a mid-stream start) moves
      // nothing: any data it carries is judged against what was seen, like any segment.
    }
    if (!this.started) {
      // Mid-stream pickup: this segment (it carries data, FIN or RST) defines the start.
      this.started = true;
      this.midstream = true;
      this.nextSeq = dataSeq;
    }
    if (missing > 0) st.cutBytes += missing;
    let len = payload.length;
    let segLen = len + missing;
    let off = this.nextOffset + seqDiff(dataSeq, this.nextSeq);

    if ((flags & CTRL) === 0 && segLen <= 1 && this.isKeepAliveSeq(dataSeq)) {
      // Keep-alive: 0 or 1 byte at SND.NXT-1 (RFC 9293 3.8.4); never part of the stream.
      st.keepAlives++;
      return;
    }
    let overlapped = false;

    if ((flags & TCP_FIN) !== 0 && this.finOffset < 0) this.setFin(off + segLen, meta);

    if (segLen > 0 && this.finOffset >= 0 && off + segLen > this.finOffset) {
      // Bytes sequenced after the FIN cannot be part of the stream.
      st.afterEnd++;
      const keep = Math.max(0, this.finOffset - off);
      if (keep < len) {
        payload = payload.subarray(0, keep);
        len = keep;
        missing = 0;
      } else {
        missing = keep - len;
      }
      segLen = keep;
    }

    if (segLen > 0 && off < this.nextOffset) {
      // Some or all of these bytes were delivered already: the first copy wins.
      const old = Math.min(this.nextOffset - off, segLen);
      if (off < 0) st.beforeStart += Math.min(-off, segLen);
      const h = this.history;
      if (h !== null && len > 0) {
        const a = h.compare(off, payload, Math.min(old, len));
        if (a >= 0) this.conflict(a, h.lastDiff - a + 1, meta);
      }
      if (old === segLen) {
        if (off + segLen > 0) st.retransmits++;
        segLen = 0;
      } else {
        overlapped = true;
        if (old <= len) {
          payload = payload.subarray(old);
          len -= old;
          if (pos >= 0) pos += old;
        } else {
          missing -= old - len;
          payload = EMPTY;
          len = 0;
        }
        segLen -= old;
        off = this.nextOffset;
      }
    }

    if (segLen > 0) {
      if (off === this.nextOffset) {
        const head = this.buf.length > 0 ? this.buf[0] : undefined;
        const direct = head === undefined ? segLen : Math.min(segLen, head.off - off);
        // In order: deliver what precedes the first buffered piece straight from the view.
        const d = Math.min(direct, len);
        if (d > 0) {
          this.emit(d === len ? payload : payload.subarray(0, d), meta, pos);
          this.advance(d);
        }
        if (direct > d) {
          this.cut(direct - d);
          this.advance(direct - d);
        }
        if (direct < segLen) {
          // The rest runs into buffered data: resolve it piece by piece.
          this.insert(off + direct, d < len ? payload.subarray(d) : EMPTY, missing - Math.max(0, direct - len), meta);
          overlapped = true;
        }
      } else {
        const r = this.insert(off, payload, missing, meta);
        if (r === OVERLAPPED) st.retransmits++;
        else {
          st.outOfOrder++;
          if (r !== INSERTED) overlapped = true;
        }
      }
      if (overlapped) st.overlaps++;
      this.drain();
      if (this.acked > this.nextOffset) this.releaseAcked();
      this.enforceBound();
    }

    if (this.finOffset >= 0 && this.nextOffset >= this.finOffset && this.finMeta !== null) {
      this.finish('fin', this.finMeta);
    } else if ((flags & TCP_RST) !== 0) {
      // RST: the connection is gone; nothing after a hole will ever be filled.
      this.flushAll();
      this.finish('rst', meta);
    }
  }

  /**
   * A keep-alive is sent at SND.NXT-1. With a hole open, our next byte lags behind the
   * sender's SND.NXT, best estimated by the end of the highest buffered piece; either
   * position holds only bytes already seen, so nothing is lost by ignoring them.
   */
  private isKeepAliveSeq(seq: number): boolean {
    const rel = seqDiff(seq, this.nextSeq);
    if (rel === -1) return true;
    const n = this.buf.length;
    if (n === 0) return false;
    const last = this.buf[n - 1];
    return this.nextOffset + rel === last.off + last.data.length + last.missing - 1;
  }

  private setFin(finOffset: number, meta: ChunkMeta): void {
    // A FIN claiming an offset already passed cannot move the stream backwards.
    const fo = Math.max(finOffset, this.nextOffset);
    this.finOffset = fo;
    this.finMeta = { ts: meta.ts, packet: meta.packet };
    // Drop or cut buffered pieces past the FIN.
    const buf = this.buf;
    while (buf.length > 0) {
      const p = buf[buf.length - 1];
      if (p.off >= fo) {
        buf.pop();
        this.buffered -= p.data.length;
        this.stats.afterEnd++;
        continue;
      }
      const keep = fo - p.off;
      if (p.data.length + p.missing > keep) {
        this.stats.afterEnd++;
        if (keep < p.data.length) {
          this.buffered -= p.data.length - keep;
          p.data = p.data.subarray(0, keep);
          p.missing = 0;
        } else {
          p.missing = keep - p.data.length;
        }
      }
      break;
    }
  }

  /**
   * Buffers [off, off+len+missing) where it is not buffered already (first copy wins),
   * comparing overlapped bytes with the buffered copy. `off` >= nextOffset. Returns
   * INSERTED and/or OVERLAPPED bits. The affected range of the buffer is rebuilt once, so a
   * segment spanning many buffered pieces costs O(pieces), not O(pieces^2).
   */
  private insert(off: number, payload: Uint8Array, missing: number, meta: ChunkMeta): number {
    const buf = this.buf;
    const len = payload.length;
    const dataEnd = off + len;
    const end = dataEnd + missing;
    const i0 = this.firstEndingAfter(off);
    let i = i0;
    let cur = off;
    let result = 0;
    let m: ChunkMeta | null = null;
    const mid: Piece[] = [];
    while (cur < end) {
      const b = i < buf.length ? buf[i] : undefined;
      if (b !== undefined && b.off <= cur) {
        const bEnd = b.off + b.data.length + b.missing;
        const oEnd = Math.min(end, bEnd);
        this.compare(cur, Math.min(oEnd, dataEnd, b.off + b.data.length), b.data, b.off, payload, off, meta);
        result |= OVERLAPPED;
        mid.push(b);
        cur = oEnd;
        i++;
      } else {
        const pEnd = b !== undefined ? Math.min(end, b.off) : end;
        const dEnd = Math.min(pEnd, dataEnd);
        const data = cur < dEnd ? payload.slice(cur - off, dEnd - off) : EMPTY;
        if (m === null) m = { ts: meta.ts, packet: meta.packet };
        mid.push({ off: cur, data, missing: pEnd - Math.max(cur, dEnd), meta: m });
        this.buffered += data.length;
        result |= INSERTED;
        cur = pEnd;
      }
    }
    if ((result & INSERTED) !== 0) {
      if (mid.length === 1) buf.splice(i0, i - i0, mid[0]);
      else this.buf = buf.slice(0, i0).concat(mid, buf.slice(i));
    }
    return result;
  }

  /** index of the first buffered piece ending after `off` (pieces are sorted, disjoint) */
  private firstEndingAfter(off: number): number {
    const buf = this.buf;
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = buf[mid];
      if (p.off + p.data.length + p.missing <= off) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** compares new bytes with a first copy over stream offsets [lo, hi); reports a difference */
  private compare(lo: number, hi: number, first: Uint8Array, firstOff: number, next: Uint8Array, nextOff: number, meta: ChunkMeta): void {
    let a = -1;
    let z = -1;
    for (let o = lo; o < hi; o++) {
      if (first[o - firstOff] !== next[o - nextOff]) {
        if (a < 0) a = o;
        z = o;
      }
    }
    if (a >= 0) this.conflict(a, z - a + 1, meta);
  }

  private conflict(offset: number, length: number, meta: ChunkMeta): void {
    this.stats.conflicts++;
    this.sink.conflict?.(offset, length, meta);
  }

  /** delivers buffered pieces that start at the next offset */
  private drain(): void {
    const buf = this.buf;
    while (buf.length > 0 && buf[0].off === this.nextOffset) {
      const p = buf.shift() as Piece;
      this.buffered -= p.data.length;
      if (p.data.length > 0) {
        // (a buffered piece is a copy already: its file position is not kept)
        this.emit(p.data, p.meta, -1);
        this.advance(p.data.length);
      }
      if (p.missing > 0) {
        this.cut(p.missing);
        this.advance(p.missing);
      }
    }
  }

  /** over a bound: give up on the first hole, deliver what follows it, until under */
  private enforceBound(): void {
    while (this.buf.length > 0 && (this.buffered > this.maxBytes || this.buf.length > this.maxPieces)) {
      this.skipTo(this.buf[0].off);
      this.drain();
    }
  }

  /**
   * The peer acknowledged sequence number `ack` of this direction (an ACK segment of the other
   * side). Holes below it are declared lost and what waited behind them is delivered (see the
   * module comment). Returns the buffered bytes released. Cheap when nothing is buffered: one
   * comparison and a store.
   */
  acknowledge(ack: number): number {
    if (!this.started || this.isEnded) return 0;
    const off = this.nextOffset + seqDiff(ack, this.nextSeq);
    if (off <= this.acked) return 0;
    this.acked = off;
    if (this.buf.length === 0 || off <= this.nextOffset) return 0;
    const before = this.buffered;
    this.releaseAcked();
    const released = before - this.buffered;
    // the FIN may have waited behind the hole
    if (this.finOffset >= 0 && this.nextOffset >= this.finOffset && this.finMeta !== null) this.finish('fin', this.finMeta);
    return released;
  }

  /**
   * Skips the acknowledged part of each hole below `acked` and delivers what follows. A hole
   * only partly acknowledged is skipped up to the acknowledgment: its tail may still come.
   */
  private releaseAcked(): void {
    const buf = this.buf;
    while (buf.length > 0 && this.acked > this.nextOffset) {
      this.skipTo(Math.min(this.acked, buf[0].off));
      this.drain();
    }
  }

  /** capture time of the first buffered piece after the hole (Infinity when nothing waits) */
  get waitingSince(): number {
    return this.buf.length > 0 ? this.buf[0].meta.ts : Infinity;
  }

  /**
   * Give up on the first hole (its bytes are declared lost and reported as a skip) and
   * deliver what follows it; used by the owner to enforce a memory budget shared by many
   * streams. Returns the buffered bytes released.
   */
  releaseFirstHole(): number {
    const before = this.buffered;
    if (this.buf.length > 0) {
      this.skipTo(this.buf[0].off);
      this.drain();
    }
    return before - this.buffered;
  }

  private flushAll(): void {
    while (this.buf.length > 0) {
      this.skipTo(this.buf[0].off);
      this.drain();
    }
  }

  private skipTo(off: number): void {
    const hole = off - this.nextOffset;
    if (hole <= 0) return;
    this.stats.gaps++;
    this.stats.skipped += hole;
    this.pendingSkip += hole;
    this.advance(hole);
  }

  /** a snap-length-cut tail: lost bytes reported as the next chunk's skip */
  private cut(n: number): void {
    this.stats.skipped += n;
    this.pendingSkip += n;
  }

  private advance(n: number): void {
    this.nextOffset += n;
    this.nextSeq = (this.nextSeq + n) >>> 0;
  }

  /** hands `bytes` (starting at nextOffset; at file offset `pos`, -1: none) to the sink; the caller advances */
  private emit(bytes: Uint8Array, meta: ChunkMeta, pos: number): void {
    let skip = this.pendingSkip;
    if (this.firstChunk) {
      this.firstChunk = false;
      if (this.midstream) skip = -1;
    }
    this.pendingSkip = 0;
    this.stats.delivered += bytes.length;
    if (this.history !== null && !this.isEnded) this.history.record(this.nextOffset, bytes, pos);
    this.sink.data(bytes, skip, meta);
  }

  private finish(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    this.isEnded = true;
    this.buf = [];
    this.buffered = 0;
    // nothing is delivered after the end: the retransmission history can go
    this.history?.release();
    this.sink.end(reason, meta);
  }
}
