/**
 * Incremental WebSocket frame decoder for one direction of a connection (RFC 6455 section 5.2),
 * in the shape of websockets/ws lib/receiver.js: named states, "not enough bytes" is a plain
 * return, frames may span any number of chunks and a chunk may hold many frames.
 *
 * The decoder only parses headers and routes payload bytes: the sink (the message assembler)
 * chooses at frame start where the payload goes (`head.target`, unmasked into it; `head.wire`,
 * the masked copy), and is told when the frame ends. Lost bytes (`skip`) inside a payload whose
 * length is known are consumed as part of it (`head.lost`); lost bytes anywhere else send the
 * decoder into RESYNC, which scans for the next plausible frame header (plausible.ts).
 *
 * Memory: input chunks are read during `push` only; the header is copied (`head.header`, 2..14
 * bytes: a new buffer per frame; with `sharedHeaders` into the decoder's own 14 bytes, and the
 * frame event's copy into one process-wide buffer, see `FrameHead.eventHeader`); payload
 * bytes are copied by the target buffers (a frame's wire bytes may be kept in its target,
 * `head.wireAt`), or not at all when the sink takes a frame whose payload lies whole in the
 * chunk as a view of it (`head.whole`, during `frameStart` only). While resynchronising, an
 * undecided candidate (at most 256 KiB) is carried to the next chunk.
 */
import type { ChunkMeta } from '../types';
import { findFrameStart, type Expectation } from './plausible';
import type { PayloadBuffer } from './payload-buffer';

export const enum DecoderState {
  GET_HEADER = 0,
  GET_PAYLOAD = 1,
  RESYNC = 2,
  DRAIN = 3,
  ENDED = 4,
}

/** The frame being decoded. One object per decoder, reused: sinks copy what they keep. */
export class FrameHead {
  fin = false;
  rsv1 = false;
  rsv2 = false;
  rsv3 = false;
  opcode = 0;
  masked = false;
  readonly mask = new Uint8Array(4);
  maskKey = '';
  /** declared payload length (approximate above 2^53) */
  length = 0;
  headerLength = 0;
  /** the header's bytes: exactly them, or with shared headers the decoder's buffer holding them at [0, headerLength) */
  header: Uint8Array = new Uint8Array(0);
  /** see FrameDecoder's `sharedHeaders` */
  sharedHeader = false;
  /** the 64-bit length had its most significant bit set (RFC 6455 section 5.2) */
  highBit = false;
  /** the length was not in its minimal encoding */
  nonMinimal = false;
  firstPacket = 0;
  /** a capture time (a double: starting as one keeps the object's shape, see TcpReassembler's constructor) */
  firstTs = 0.5;
  /** payload bytes consumed so far, lost ones included */
  received = 0;
  /** payload bytes lost to capture gaps or to the end of the stream */
  lost = 0;
  /** of `lost`, the bytes missing because the stream ended inside the payload */
  endLost = 0;
  /** set when the stream ended inside this frame's payload */
  cutBy: '' | 'fin' | 'rst' | 'eof' = '';
  /** where unmasked payload goes (null: counted, not kept) */
  target: PayloadBuffer | null = null;
  /** the mask payload bytes are unmasked with on their way to `target`: `mask`, or null (unmasked frame; or unmasked in place once the frame ends, see `wireAt`) */
  targetMask: Uint8Array | null = null;
  /** where the masked wire bytes go (null: not kept) */
  wire: PayloadBuffer | null = null;
  /**
   * During `frameStart` only: the chunk holding the whole payload, from `wholeAt` on (null when
   * the payload runs past the chunk or the header came in pieces). A sink that consumes the
   * frame before the chunk's `push` returns may take the payload as a view of it and leave
   * `target` null; the decoder clears the field when `frameStart` returns, so no chunk is kept.
   */
  whole: Uint8Array | null = null;
  wholeAt = 0;
  /** the wire bytes as a view of `whole`, when the sink took them so at `frameStart` (the sink clears it when the frame ends) */
  wireView: Uint8Array | null = null;
  /**
   * >= 0: the wire bytes are kept without a buffer of their own, as `target`'s bytes from this
   * offset on (a frame whose bytes all go to the target, see MessageAssembler.frameStart): an
   * unmasked frame's are the wire bytes; a masked one's go there still masked (`targetMask`
   * null) and are unmasked in place once the frame event is out. A gap ends that: the bytes
   * so far move to a `wire` buffer (and are unmasked in the target).
   */
  wireAt = -1;

  /**
   * The header as the frame event's `header`: `header` itself (a buffer of its own), or with
   * shared headers the one process-wide header buffer refilled with it, a view of the right
   * length: valid until the next frame event of the process, that is during the emit (no frame
   * is decoded while an event is being consumed). No allocation per frame, and no memory per
   * decoder.
   */
  eventHeader(): Uint8Array {
    if (!this.sharedHeader) return this.header;
    const n = this.headerLength;
    const src = this.header;
    for (let k = 0; k < n; k++) SHARED_HEADER[k] = src[k];
    return SHARED_HEADER_VIEWS[n];
  }
}

/** the process-wide buffer of FrameHead.eventHeader and its views at each header length (2..14) */
const SHARED_HEADER = new Uint8Array(new ArrayBuffer(14));
const SHARED_HEADER_VIEWS = Array.from({ length: 15 }, (_, n) => new Uint8Array(SHARED_HEADER.buffer, 0, n));

export interface FrameSink {
  frameStart(h: FrameHead, meta: ChunkMeta): void;
  frameEnd(h: FrameHead, meta: ChunkMeta): void;
  /** bytes were lost where no frame length told us how to skip them; decoder now resynchronises */
  lostSync(lostBytes: number, partialHeader: number, meta: ChunkMeta): void;
  /** RESYNC found a frame header after skipping `skipped` bytes (found=false: stream ended first) */
  resynced(skipped: number, found: boolean, meta: ChunkMeta): void;
  /** the stream ended (or the capture did) in the middle of a header */
  partialHeader(have: number, reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void;
  /** the direction already sent a close frame: are following bytes still frames? false = drain them */
  acceptAfterClose(firstByte: number, meta: ChunkMeta, bytesLeft: number): boolean;
  /** flush a message in progress at the end of the stream */
  streamEnd(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void;
  expectation(): Expectation;
  readonly closed: boolean;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const TWO32 = 4294967296;
const MAX_CARRY = 256 * 1024;

export class FrameDecoder {
  state: DecoderState = DecoderState.GET_HEADER;
  readonly head = new FrameHead();
  private readonly sink: FrameSink;
  private readonly hdr = new Uint8Array(14);
  private hdrHave = 0;
  private hdrNeed = 2;
  private left = 0;
  private carry: Uint8Array | null = null;
  private resyncSkipped = 0;
  private readonly pending = { at: -1 };
  /** mask bit of the last decoded frame (resync expects the same) */
  lastMasked: boolean | null = null;
  /**
   * `sharedHeaders`: `head.header` is the decoder's own header buffer (the bytes at [0,
   * headerLength), until the frame has ended), and the frame event's header a view of a
   * process-wide one (`FrameHead.eventHeader`), instead of a new buffer per frame (for
   * SessionOptions.ephemeralPayloads: events consumed during the emit).
   */
  constructor(sink: FrameSink, startInResync = false, sharedHeaders = false) {
    this.sink = sink;
    if (startInResync) this.state = DecoderState.RESYNC;
    this.head.sharedHeader = sharedHeaders;
    // written twice so V8 does not treat them as constants until the first header split across
    // chunks (see TcpReassembler's constructor)
    this.hdrNeed = 14;
    this.hdrNeed = 2;
    this.hdrHave = 1;
    this.hdrHave = 0;
  }

  /** In a frame (header started or payload pending)? */
  get midFrame(): boolean {
    return (this.state === DecoderState.GET_HEADER && this.hdrHave > 0) || this.state === DecoderState.GET_PAYLOAD;
  }

  push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (this.state === DecoderState.ENDED) return;
    if (skip > 0) this.gap(skip, meta);
    else if (skip < 0 && !this.midFrame && this.state === DecoderState.GET_HEADER) this.state = DecoderState.RESYNC;
    this.run(bytes, 0, meta);
  }

  /** `n` bytes were lost just before the next chunk */
  private gap(n: number, meta: ChunkMeta): void {
    switch (this.state) {
      case DecoderState.GET_PAYLOAD: {
        const h = this.head;
        // the length is known: the lost bytes belong to this frame as far as it reaches
        const inFrame = Math.min(n, this.left);
        h.received += inFrame;
        h.lost += inFrame;
        // the wire bytes go on after the hole (as they always did), the target's stop
        if (h.wireAt >= 0 && h.target !== null) {
          h.wire = h.target.copyFrom(h.wireAt);
          if (h.masked) h.target.unmaskFrom(h.wireAt, h.mask);
        }
        h.wireAt = -1;
        h.target = null; // never append after a hole: data stays an honest prefix
        this.left -= inFrame;
        if (this.left === 0) {
          this.state = DecoderState.GET_HEADER;
          this.hdrHave = 0;
          this.sink.frameEnd(h, meta);
          if (n > inFrame) {
            this.sink.lostSync(n - inFrame, 0, meta);
            this.state = DecoderState.RESYNC;
          }
        }
        return;
      }
      case DecoderState.GET_HEADER:
        this.sink.lostSync(n, this.hdrHave, meta);
        this.hdrHave = 0;
        this.state = DecoderState.RESYNC;
        return;
      case DecoderState.RESYNC:
        this.carry = null;
        this.resyncSkipped += n;
        return;
      default:
        return;
    }
  }

  private run(bytes: Uint8Array, p: number, meta: ChunkMeta): void {
    let n = bytes.length;
    const h = this.head;
    while (p < n) {
      switch (this.state) {
        case DecoderState.GET_HEADER: {
          let have = this.hdrHave;
          // the header began in an earlier chunk: its payload cannot be a view of this one (`head.whole`)
          const split = have > 0;
          if (!split) {
            if (this.sink.closed && !this.sink.acceptAfterClose(bytes[p], meta, n - p)) {
              this.state = DecoderState.DRAIN;
              return;
            }
            h.firstPacket = meta.packet;
            h.firstTs = meta.ts;
          }
          // One path for every header, whole in this chunk or not: the first header split
          // across chunks (a few MB into a capture) then runs code V8 has run before. A slow
          // path of its own had no type feedback when it first ran, and TurboFan threw the
          // optimized `run` away there and took 5-7 MB to optimize it again (--trace-deopt).
          let need = this.hdrNeed;
          const hdr = this.hdr;
          while (have < need && p < n) {
            hdr[have++] = bytes[p++];
            if (have === 2) need = headerLength(hdr[1]);
          }
          const done = have === need;
          // written on both outcomes, so neither store is new to V8 when a header splits
          this.hdrHave = done ? 0 : have;
          this.hdrNeed = done ? 2 : need;
          if (!done) return;
          this.startFrame(h.sharedHeader ? hdr : headerCopy(hdr, 0, need), need, meta, split ? null : bytes, p);
          break;
        }
        case DecoderState.GET_PAYLOAD: {
          const avail = n - p;
          const take = avail < this.left ? avail : this.left;
          if (h.target !== null) h.target.append(bytes, p, p + take, h.targetMask, h.received);
          if (h.wire !== null) h.wire.append(bytes, p, p + take, null, 0);
          h.received += take;
          this.left -= take;
          p += take;
          if (this.left === 0) {
            this.state = DecoderState.GET_HEADER;
            this.sink.frameEnd(h, meta);
          }
          break;
        }
        case DecoderState.RESYNC: {
          if (this.carry !== null) {
            // continue on the carried bytes joined with this chunk (iteratively: a garbage
            // stream may resynchronise thousands of times in one chunk)
            const c = this.carry;
            const joined = new Uint8Array(c.length + n - p);
            joined.set(c);
            joined.set(bytes.subarray(p), c.length);
            this.carry = null;
            bytes = joined;
            n = joined.length;
            p = 0;
          }
          const at = this.resync(bytes, p, meta);
          if (at < 0) return;
          p = at;
          break;
        }
        default:
          return;
      }
    }
  }

  /** Scan for a frame start from p: its offset (state is then GET_HEADER), or -1 (all consumed). */
  private resync(bytes: Uint8Array, p: number, meta: ChunkMeta): number {
    const n = bytes.length;
    const at = findFrameStart(bytes, p, n, this.expectation(), false, this.pending, true);
    if (at >= 0) {
      this.resyncSkipped += at - p;
      this.sink.resynced(this.resyncSkipped, true, meta);
      this.resyncSkipped = 0;
      this.state = DecoderState.GET_HEADER;
      this.hdrHave = 0;
      this.hdrNeed = 2;
      return at;
    }
    // keep a candidate the chunk end leaves undecided (its header, or its frame plus the
    // start of the next header); bounded so a pathological stream cannot grow it
    let keepFrom = this.pending.at >= 0 ? this.pending.at : n;
    if (n - keepFrom > MAX_CARRY) keepFrom = n - MAX_CARRY;
    this.resyncSkipped += keepFrom - p;
    if (keepFrom < n) this.carry = copyOf(bytes, keepFrom, n);
    return -1;
  }

  private expectation(): Expectation {
    const e = this.sink.expectation();
    if (this.lastMasked !== null && e.masked !== null) e.masked = this.lastMasked;
    return e;
  }

  /** A frame header, hb[0, len); `src` holds the payload from `at` on when it holds its start (else null). */
  private startFrame(hb: Uint8Array, len: number, meta: ChunkMeta, src: Uint8Array | null, at: number): void {
    const h = this.head;
    const b0 = hb[0];
    const b1 = hb[1];
    h.header = hb;
    h.headerLength = len;
    h.fin = (b0 & 0x80) !== 0;
    h.rsv1 = (b0 & 0x40) !== 0;
    h.rsv2 = (b0 & 0x20) !== 0;
    h.rsv3 = (b0 & 0x10) !== 0;
    h.opcode = b0 & 0x0f;
    h.masked = (b1 & 0x80) !== 0;
    this.lastMasked = h.masked;
    const len7 = b1 & 0x7f;
    let off = 2;
    h.highBit = false;
    h.nonMinimal = false;
    if (len7 === 126) {
      h.length = (hb[2] << 8) | hb[3];
      h.nonMinimal = h.length < 126;
      off = 4;
    } else if (len7 === 127) {
      const hi = ((hb[2] << 24) | (hb[3] << 16) | (hb[4] << 8) | hb[5]) >>> 0;
      const lo = ((hb[6] << 24) | (hb[7] << 16) | (hb[8] << 8) | hb[9]) >>> 0;
      h.highBit = hi >= 0x80000000;
      // a small integer when it is one: `hi * TWO32` makes a double even for hi = 0, and the
      // first double stored in `length` (the first frame of 64 KiB or more, some MB into a
      // capture) changed FrameHead's map under every optimized function that reads a frame
      // head ("wrong map" and "not a Smi" deoptimizations all along the frame path)
      h.length = hi === 0 ? lo : hi * TWO32 + lo;
      h.nonMinimal = h.length < 65536;
      off = 10;
    } else {
      h.length = len7;
    }
    if (h.masked) {
      h.mask[0] = hb[off];
      h.mask[1] = hb[off + 1];
      h.mask[2] = hb[off + 2];
      h.mask[3] = hb[off + 3];
      h.maskKey = HEX[hb[off]] + HEX[hb[off + 1]] + HEX[hb[off + 2]] + HEX[hb[off + 3]];
      h.targetMask = h.mask;
    } else {
      h.maskKey = '';
      h.targetMask = null;
    }
    h.received = 0;
    h.lost = 0;
    h.endLost = 0;
    h.cutBy = '';
    h.target = null;
    h.wire = null;
    h.wireAt = -1;
    h.wireView = null;
    if (src !== null && !h.highBit && h.length <= src.length - at) {
      h.whole = src;
      h.wholeAt = at;
      this.sink.frameStart(h, meta);
      h.whole = null;
    } else this.sink.frameStart(h, meta);
    if (h.highBit) {
      // RFC 6455 section 5.2: the length is meaningless; nothing tells where the next frame is
      this.sink.frameEnd(h, meta);
      this.state = DecoderState.RESYNC;
      return;
    }
    if (h.length === 0) {
      this.sink.frameEnd(h, meta);
      return;
    }
    this.left = h.length;
    this.state = DecoderState.GET_PAYLOAD;
  }

  /** The stream ended (FIN, RST, end of capture): flush what is in progress. */
  end(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    if (this.state === DecoderState.ENDED) return;
    if (this.state === DecoderState.GET_HEADER && this.hdrHave > 0) {
      this.sink.partialHeader(this.hdrHave, reason, meta);
    } else if (this.state === DecoderState.GET_PAYLOAD) {
      const h = this.head;
      h.lost += this.left;
      h.endLost = this.left;
      h.received += this.left;
      h.cutBy = reason;
      this.left = 0;
      this.sink.frameEnd(h, meta);
    } else if (this.state === DecoderState.RESYNC && (this.resyncSkipped > 0 || this.carry !== null)) {
      this.sink.resynced(this.resyncSkipped + (this.carry?.length ?? 0), false, meta);
    }
    this.carry = null;
    this.state = DecoderState.ENDED;
    this.sink.streamEnd(reason, meta);
  }
}

/**
 * A copy of b[start, end). Not `b.slice()`: on a Node Buffer that is a view, and the pipeline
 * may hand us Buffers over memory the capture source reuses.
 */
export function copyOf(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

/** A copy of the `n` (2..14) header bytes at b[p]: one small allocation, no intermediate view. */
function headerCopy(b: Uint8Array, p: number, n: number): Uint8Array {
  const h = new Uint8Array(n);
  for (let k = 0; k < n; k++) h[k] = b[p + k];
  return h;
}

/** header size from the second byte (RFC 6455 section 5.2) */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}
