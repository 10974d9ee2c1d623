/**
 * Message assembly and validation for one direction of a WebSocket connection (RFC 6455
 * sections 5.4-5.6, 7.4, 8.1; RFC 7692). Receives frames from the FrameDecoder, emits
 * FrameEvent, MessageEvent and FindingEvent through the connection's shared context.
 *
 * Fragmented data messages are merged as they arrive into one growing PayloadBuffer (no list
 * of fragments is kept); control frames may interleave (section 5.4) and get their own buffer.
 * Frame-level findings are collected at frame start and emitted right after the frame event,
 * so they carry its capture-wide index.
 *
 * Memory: emitted `data`, `header` and `wirePayload` buffers are owned by the event (never
 * reused), except with SessionOptions.ephemeralPayloads: a data message's `data` is then a view
 * of a per-direction scratch buffer, and so is the `wirePayload` of an unmasked or large masked
 * frame (see frameStart), a frame's `header` is a view of one process-wide buffer
 * (FrameHead.eventHeader), all valid during the emit only. What lies whole in the decoder's
 * input chunk is not copied at all: the `wirePayload` of such a frame and the `data` of such
 * an unmasked, uncompressed single-frame message are views of the chunk, emitted before the
 * chunk's `push` returns. Nothing of the decoder's input is kept.
 */
import { createHash } from 'node:crypto';
import type { ChunkMeta } from '../types';
import type { DeflateParams, Direction, EventSink, FrameEvent, MessageEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import { OPCODE_NAMES, isValidWireCloseCode } from '../../shared/labels';
import type { FrameHead, FrameSink } from './frame-decoder';
import { Inflater, type InflateResult } from './inflate';
import { byteView } from '../net/bytes';
import { PayloadBuffer } from './payload-buffer';
import type { Expectation } from './plausible';
import { firstBytePlausible } from './plausible';
import type { Counters, SessionOptions } from './options';
import { decodeUtf8Lossy, validUtf8 } from './utf8';

export type DeflateMode = 'negotiated' | 'none' | 'unknown';

/** State shared by both directions of one connection (owned by TcpSession). */
export interface WsShared {
  conn: number;
  emit: EventSink;
  counters: Counters;
  opts: SessionOptions;
  deflateMode: DeflateMode;
  deflate: DeflateParams | null;
  /** negotiated extensions other than permessage-deflate: they may define RSV bits we cannot judge */
  foreignExtensions: string[];
  closeSent: Record<Direction, boolean>;
  /** outstanding pings per sender, in capture-time order (bounded) */
  pings: Record<Direction, Ping[]>;
  /** pongs waiting for the other direction to reach their capture time (made on first use) */
  pongWait?: PongWait;
  /** inflated bytes so far, both directions (bounded by opts.maxInflatePerConnection) */
  inflated: number;
  finding(id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string, frame?: number): void;
  onClose(dir: Direction, meta: ChunkMeta): void;
}

/** A ping not answered yet: its payload (`pingKey`), payload length and capture time. */
export interface Ping {
  data: Uint8Array;
  length: number;
  ts: number;
}

/** A pong no ping answered yet (its payload as `pingKey` keeps it, and length), and where its finding would point. */
interface HeldPong {
  data: Uint8Array;
  length: number;
  meta: ChunkMeta;
  frame: number;
}

/**
 * Pongs are matched with pings by capture time, not by the order the two directions happen
 * to be emitted in (after a hole one direction can lag behind the other): a pong that no
 * ping before it answers is held until the pinging direction has emitted a frame later than
 * the pong, or has ended; only then is it `unsolicited-pong` or `pong-mismatch`.
 */
interface PongWait {
  /** held pongs, by the direction that sent them (bounded like the pings) */
  held: Record<Direction, HeldPong[]>;
  /** capture time of the last frame each direction emitted */
  at: Record<Direction, number>;
  /** the direction's frames come here (a direction left in HTTP never sends a ping) */
  open: Record<Direction, boolean>;
  ended: Record<Direction, boolean>;
}

interface Message {
  opcode: number;
  compressed: boolean;
  frames: number[];
  frameCount: number;
  wireLength: number;
  buf: PayloadBuffer;
  /** ephemeral payloads: the whole payload as a view of the decoder's input (see frameStart); null when in `buf` */
  direct: Uint8Array | null;
  /** bytes are missing in the middle (gap) or at the end (stream ended): data is a prefix */
  holed: boolean;
  fragLimitReported: boolean;
}

const MAX_PINGS = 32;
/** ping and pong payloads kept as they are up to this length, as a digest past it (`pingKey`) */
const PING_BYTES_MAX = 4096;
/**
 * Masked frames from this length on keep their wire bytes in the target and are unmasked there
 * in place (see frameStart): the same copies and XORs as unmasking on the way in next to a wire
 * buffer of their own, minus that buffer. Smaller ones keep the one-pass path.
 */
const MASK_IN_PLACE_MIN = 16 * 1024;
const EMPTY = new Uint8Array(0);
/** the frame list of a message before its first frame has ended (never written: frameEnd replaces it) */
const NO_FRAMES: number[] = [];
/** What a compressed message gives once the inflate budget is spent: nothing, cut at the limit. */
const SPENT: InflateResult = { data: EMPTY, partial: true, error: 'limit' };
type Pending = Array<[FindingId, string]>;

export class MessageAssembler implements FrameSink {
  private readonly s: WsShared;
  private readonly dir: Direction;
  private readonly other: Direction;
  /**
   * dir === 'client'. The per-frame path reads the shared per-direction records through it
   * (`isClient ? r.client : r.server`), not as `r[this.dir]`: one keyed site seeing both names
   * goes megamorphic in V8 (a stub-cache probe on every frame).
   */
  private readonly isClient: boolean;
  private msg: Message | null = null;
  private ctrl: PayloadBuffer | null = null;
  private readonly pend: Pending = [];
  /** findings of the message being emitted, listed after its event (reused: nearly always empty) */
  private readonly post: Pending = [];
  private inflater: Inflater | null = null;
  private zeroMaskReported = false;
  private drained = 0;

  constructor(shared: WsShared, dir: Direction) {
    this.s = shared;
    this.dir = dir;
    this.other = dir === 'client' ? 'server' : 'client';
    this.isClient = dir === 'client';
    const pw = (shared.pongWait ??= { held: { client: [], server: [] }, at: { client: -Infinity, server: -Infinity }, open: { client: false, server: false }, ended: { client: false, server: false } });
    pw.open[dir] = true;
  }

  get closed(): boolean {
    const c = this.s.closeSent;
    return this.isClient ? c.client : c.server;
  }

  expectation(): Expectation {
    return {
      masked: this.dir === 'client',
      rsv1: this.s.deflateMode !== 'none',
      continuation: this.msg !== null,
    };
  }

  frameStart(h: FrameHead, meta: ChunkMeta): void {
    const pf = this.pend;
    // (guarded: setting an array's length goes through V8's generic setter even when it is 0
    // already, about 20 ns per frame, and the list is nearly always empty)
    if (pf.length !== 0) pf.length = 0;
    const op = h.opcode;
    const control = (op & 0x08) !== 0;
    const known = op <= 2 || (op >= 8 && op <= 10);
    const mode = this.s.deflateMode;
    if (this.closed) pf.push(['frame-after-close', `${this.dir} sent a ${opName(op)} frame after its close frame.`]);
    if (!known) pf.push(['reserved-opcode', `Opcode 0x${op.toString(16)} is reserved.`]);
    // RFC 6455 section 5.1: clients mask every frame, servers never do
    if (this.dir === 'client' && !h.masked) pf.push(['unmasked-client-frame', `Client ${opName(op)} frame is not masked.`]);
    if (this.dir === 'server' && h.masked) pf.push(['masked-server-frame', `Server ${opName(op)} frame is masked (key ${h.maskKey}).`]);
    if (h.masked && h.maskKey === '00000000' && !this.zeroMaskReported) {
      this.zeroMaskReported = true;
      pf.push(['zero-mask-key', `The ${this.dir} uses the all-zero masking key, which leaves payloads readable on the wire.`]);
    }
    const foreign = this.s.foreignExtensions.length > 0;
    if ((h.rsv2 || h.rsv3) && !foreign) pf.push(['rsv-without-extension', `RSV${h.rsv2 ? '2' : '3'} is set; no negotiated extension defines it.`]);
    if (h.rsv1) {
      if (mode === 'none') {
        if (!foreign) pf.push(['rsv-without-extension', `RSV1 is set on a ${opName(op)} frame but permessage-deflate was not negotiated.`]);
      } else if (control) pf.push(['rsv1-on-control-frame', `RSV1 is set on a ${opName(op)} frame; control frames are never compressed.`]);
      else if (op === 0) pf.push(['rsv1-on-continuation', 'RSV1 is set on a continuation frame; only the first frame of a message carries it.']);
    }
    if (control && h.length > 125) pf.push(['control-frame-too-long', `${cap(opName(op))} frame payload is ${h.length} bytes (at most 125).`]);
    if (control && !h.fin) pf.push(['fragmented-control-frame', `${cap(opName(op))} frame has FIN clear.`]);
    if (h.nonMinimal) pf.push(['non-minimal-length', `Length ${h.length} uses the ${h.headerLength - (h.masked ? 4 : 0) === 4 ? '16' : '64'}-bit form.`]);
    if (h.highBit) pf.push(['length-high-bit-set', '64-bit payload length has its most significant bit set; the rest of the stream is resynchronised.']);

    const limit = this.s.opts.maxMessageBytes;
    if (control) {
      this.ctrl = new PayloadBuffer(Math.min(h.length, 125), limit);
      h.target = this.ctrl;
    } else {
      if (op === 0) {
        if (this.msg === null) {
          pf.push(['unexpected-continuation', 'Continuation frame with no fragmented message in progress.']);
          this.msg = this.newMessage(0, false);
        }
      } else {
        if (this.msg !== null) {
          // after lost bytes the old message's end may simply be in the gap: no violation to report
          if (!this.msg.holed) pf.push(['interleaved-data-message', `A new ${opName(op)} message started before the previous fragmented message was finished.`]);
          this.finishMessage(meta, 'interrupted');
        }
        this.msg = this.newMessage(op, h.rsv1 && mode !== 'none');
      }
      const m = this.msg as Message;
      if (h.whole !== null && h.fin && !h.masked && !m.compressed && m.frameCount === 0 && this.s.opts.ephemeralPayloads && h.length <= m.buf.limit) {
        // A message of one unmasked frame, all of it in the chunk being decoded: its bytes are
        // the payload (RFC 6455 section 5.3: only masking makes them differ), and the message
        // event goes out before the chunk's push returns, so `data` is a view of the chunk and
        // no byte is copied. `target` stays null: the decoder counts the payload, copies none.
        // Not a compressed one: the inflater may hold on to its input past the call (zlib's
        // handle keeps the last buffer written), which would keep the chunk, and the capture
        // buffer under it, alive (+1 MB peak RSS on the deflate benchmark capture).
        m.direct = byteView(h.whole, h.wholeAt, h.length);
      } else if (!m.holed) {
        m.buf.reserve(h.length);
        h.target = m.buf;
      }
    }
    if (this.s.opts.keepWirePayload) {
      const t = h.target;
      if (h.whole !== null && this.s.opts.ephemeralPayloads && h.length <= limit) {
        // all of the frame is in the chunk being decoded and its event goes out before the
        // chunk's push returns: its wire bytes (masked or not) are a view of the chunk
        const m = this.msg;
        h.wireView = !control && m !== null && m.direct !== null ? m.direct : byteView(h.whole, h.wholeAt, h.length);
        return;
      }
      // With ephemeral payloads (events are consumed during the emit) the wire bytes of a frame
      // are a view of the target they all go to, not a second copy of up to maxMessageBytes:
      // an unmasked frame's bytes are the wire bytes (RFC 6455 section 5.3: only masking makes
      // them differ); a large masked frame's go there masked and are unmasked in place after
      // the frame event (frameEnd). Not when the target would cut this frame before a buffer of
      // its own would (a later fragment near the limit).
      if (t !== null && this.s.opts.ephemeralPayloads && (!h.masked || h.length >= MASK_IN_PLACE_MIN) && t.dropped === 0 && (t.len === 0 || t.len + h.length <= t.limit)) {
        h.wireAt = t.len;
        h.targetMask = null;
      } else h.wire = new PayloadBuffer(Math.min(h.length, 1 << 20), limit);
    }
  }

  /** Scratch buffer reused by every data message when payloads are ephemeral. */
  private scratch: PayloadBuffer | null = null;

  private messageBuffer(): PayloadBuffer {
    if (!this.s.opts.ephemeralPayloads) return new PayloadBuffer(0, this.s.opts.maxMessageBytes);
    if (this.scratch === null) this.scratch = PayloadBuffer.scratch(this.s.opts.maxMessageBytes);
    this.scratch.reset();
    return this.scratch;
  }

  private newMessage(opcode: number, compressed: boolean): Message {
    return {
      opcode,
      compressed,
      // replaced by a new array at the first frame (frameEnd): `[index]` is one allocation of the
      // right size, where pushing to an empty array allocates it twice (the array, then room for 17)
      frames: NO_FRAMES,
      frameCount: 0,
      wireLength: 0,
      buf: this.messageBuffer(),
      direct: null,
      holed: false,
      fragLimitReported: false,
    };
  }

  frameEnd(h: FrameHead, meta: ChunkMeta): void {
    const s = this.s;
    const index = s.counters.frames++;
    const ev: FrameEvent = {
      type: 'frame',
      conn: s.conn,
      dir: this.dir,
      ts: meta.ts,
      index,
      fin: h.fin,
      rsv1: h.rsv1,
      rsv2: h.rsv2,
      rsv3: h.rsv3,
      opcode: h.opcode,
      masked: h.masked,
      maskKey: h.maskKey,
      length: h.length,
      headerLength: h.headerLength,
      packet: meta.packet,
      firstPacket: h.firstPacket,
      header: h.eventHeader(),
    };
    if (h.wire !== null) ev.wirePayload = h.wire.view();
    else if (h.wireAt >= 0) ev.wirePayload = (h.target as PayloadBuffer).sharedFrom(h.wireAt);
    else if (h.wireView !== null) {
      ev.wirePayload = h.wireView;
      h.wireView = null; // a view of the decoder's input: not kept past this frame
    }
    s.emit(ev);
    // the masked wire bytes are out: the target's bytes become the payload (see frameStart)
    if (h.wireAt >= 0 && h.masked) (h.target as PayloadBuffer).unmaskFrom(h.wireAt, h.mask);
    const pf = this.pend;
    if (pf.length !== 0) {
      for (let k = 0; k < pf.length; k++) s.finding(pf[k][0], this.dir, meta, pf[k][1], index);
      pf.length = 0;
    }
    const gapLost = h.lost - h.endLost;
    if (gapLost > 0) s.finding('tcp-gap', this.dir, meta, `${gapLost} of the ${h.length} payload bytes of this frame were lost in the capture.`, index);
    if (h.endLost > 0) s.finding(h.cutBy === 'eof' ? 'truncated-capture' : h.cutBy === 'fin' || h.cutBy === 'rst' ? 'incomplete-frame' : 'tcp-gap', this.dir, meta, endText(h.cutBy, `${h.endLost} of the ${h.length} payload bytes of this frame never arrived`), index);
    if ((h.opcode & 0x08) !== 0) {
      this.controlMessage(h, index, meta);
      return;
    }
    const pw = s.pongWait as PongWait;
    if (this.isClient) pw.at.client = meta.ts;
    else pw.at.server = meta.ts;
    if ((this.isClient ? pw.held.server : pw.held.client).length > 0) this.settlePongs(pw);
    const m = this.msg;
    if (m === null) return;
    m.frameCount++;
    if (m.frameCount <= s.opts.maxFragments) {
      if (m.frameCount === 1) m.frames = [index];
      else m.frames.push(index);
    }
    else if (!m.fragLimitReported) {
      m.fragLimitReported = true;
      s.finding('limit-reached', this.dir, meta, `Message has more than ${s.opts.maxFragments} fragments; the frame list is cut there.`, index);
    }
    m.wireLength += h.length;
    if (h.lost > 0 || h.highBit) m.holed = true;
    if (h.fin || h.highBit) this.finishMessage(meta, '');
  }

  /** Emit the data message in progress. `ending`: why it is emitted without its final fragment. */
  private finishMessage(meta: ChunkMeta, ending: '' | 'interrupted' | 'fin' | 'rst' | 'eof'): void {
    const incomplete = ending !== '';
    const m = this.msg;
    if (m === null) return;
    this.msg = null;
    const s = this.s;
    const after = this.post;
    const raw = m.direct !== null ? m.direct : this.s.opts.ephemeralPayloads ? m.buf.shared() : m.buf.view();
    const cut = m.buf.cut;
    let truncated = cut || m.holed || incomplete;
    let data = raw;
    let length = truncated && !cut ? raw.length : m.wireLength;
    if (cut) after.push(['limit-reached', `Message payload is ${m.wireLength} bytes; only the first ${raw.length} are kept (maxMessageBytes).`]);
    if (m.compressed) {
      if (this.inflater === null) this.inflater = this.makeInflater();
      // the per-message limit, further bounded by what is left of the connection's budget and
      // of the file's (every connection together: SessionOptions.maxInflateTotal)
      const connLeft = Math.max(0, s.opts.maxInflatePerConnection - s.inflated);
      const fileLeft = Math.max(0, s.opts.maxInflateTotal - (s.counters.inflated ?? 0));
      const limit = Math.min(s.opts.maxInflate, connLeft, fileLeft);
      // a spent budget never comes back: later messages are not even handed to the inflater
      const r = limit > 0 ? this.inflater.inflate(raw, !truncated, limit) : SPENT;
      data = r.data;
      length = data.length;
      s.inflated += data.length;
      s.counters.inflated = (s.counters.inflated ?? 0) + data.length;
      if (r.partial) truncated = true;
      if (r.error === 'limit' && fileLeft < connLeft && fileLeft < s.opts.maxInflate) {
        after.push(['decompressed-size-limit', `This capture has inflated ${s.counters.inflated} bytes over all connections, its limit (maxInflateTotal ${s.opts.maxInflateTotal}, --max-inflate-total); this message was cut at ${data.length} bytes and later compressed messages are not inflated.`]);
      } else if (r.error === 'limit' && limit < s.opts.maxInflate) {
        after.push(['decompressed-size-limit', `This connection has inflated ${s.inflated} bytes, its limit (maxInflatePerConnection ${s.opts.maxInflatePerConnection}); this message was cut at ${data.length} bytes and later compressed messages are not inflated.`]);
      } else if (r.error === 'limit') after.push(['decompressed-size-limit', `Message inflates to more than ${s.opts.maxInflate} bytes; inflation stopped there (${data.length} bytes kept).`]);
      else if (r.error === 'corrupt') {
        const unknownWindow = s.deflateMode === 'unknown' && /too far back/.test(r.detail ?? '');
        after.push([
          'decompression-failed',
          unknownWindow
            ? 'Compressed message refers back to earlier messages (context takeover) that were not captured, so it cannot be inflated.'
            : `Compressed message does not inflate: ${r.detail ?? 'corrupt data'}.`,
        ]);
      }
      else if (r.error === 'context-lost') after.push(['decompression-failed', 'An earlier message of this direction could not be inflated completely, so the compression window this message refers to is unknown.']);
      if (data.length > s.opts.maxMessageBytes) {
        data = data.subarray(0, s.opts.maxMessageBytes);
        truncated = true;
        after.push(['limit-reached', `Inflated message is ${length} bytes; only the first ${data.length} are kept (maxMessageBytes).`]);
      }
    }
    let utf8Valid = true;
    if (m.opcode === 1) {
      utf8Valid = validUtf8(data, truncated);
      if (!utf8Valid) after.push(['invalid-utf8', `Text message of ${length} bytes is not valid UTF-8.`]);
    }
    if (ending === 'eof') after.push(['truncated-capture', 'The capture ended before the final fragment of this message.']);
    const ev: MessageEvent = {
      type: 'message',
      conn: s.conn,
      dir: this.dir,
      ts: meta.ts,
      index: s.counters.messages++,
      opcode: m.opcode,
      compressed: m.compressed,
      length,
      wireLength: m.wireLength,
      frames: m.frames,
      packet: meta.packet,
      data,
      truncated,
      utf8Valid,
    };
    s.emit(ev);
    // a scratch buffer grown by one big message is not kept for the rest of the connection
    if (m.buf === this.scratch && m.buf.buf.length > 256 << 10) {
      m.buf.release();
      this.scratch = null;
    }
    if (after.length !== 0) {
      const lastFrame = m.frames.length ? m.frames[m.frames.length - 1] : undefined;
      for (let k = 0; k < after.length; k++) s.finding(after[k][0], this.dir, meta, after[k][1], lastFrame);
      after.length = 0;
    }
  }

  private makeInflater(): Inflater {
    const s = this.s;
    let takeover: boolean | null = null;
    if (s.deflateMode === 'negotiated' && s.deflate) {
      takeover = this.dir === 'client' ? !s.deflate.clientNoContextTakeover : !s.deflate.serverNoContextTakeover;
    }
    return new Inflater(takeover, s.opts.maxInflate, { views: s.opts.ephemeralPayloads });
  }

  private controlMessage(h: FrameHead, index: number, meta: ChunkMeta): void {
    const s = this.s;
    const buf = this.ctrl;
    this.ctrl = null;
    const data = buf ? buf.view() : EMPTY;
    const truncated = (buf?.cut ?? false) || h.lost > 0 || h.highBit;
    const after = this.post;
    // RFC 6455 section 5.5.1: a close payload is empty, or a 2-byte code followed by a UTF-8
    // reason. The reason is validated before the event is built: writing utf8Valid afterwards
    // would turn the field mutable in the shape every message event shares, and V8 would drop
    // the optimized finishMessage that relied on it.
    const closeWithCode = h.opcode === 8 && data.length >= 2;
    const reason = closeWithCode ? data.subarray(2) : EMPTY;
    const utf8Valid = closeWithCode ? validUtf8(reason, truncated) : true;
    // made before the event literal, not inside it: a literal holding another literal is
    // built by V8's runtime (Runtime_CreateObjectLiteral, a walk of its boilerplate) until the
    // function is optimized, which for this one, run per control frame only, is some 70 MB
    // into the benchmark capture; a flat literal is cloned by a builtin
    const frames = [index];
    const ev: MessageEvent = {
      type: 'message',
      conn: s.conn,
      dir: this.dir,
      ts: meta.ts,
      index: s.counters.messages++,
      opcode: h.opcode,
      compressed: false,
      length: truncated ? data.length : h.length,
      wireLength: h.length,
      frames,
      packet: meta.packet,
      data,
      truncated,
      utf8Valid,
    };
    if (h.opcode === 8) {
      if (data.length === 1 && !truncated) {
        after.push(['close-payload-too-short', 'Close frame payload is 1 byte; a status code needs 2.']);
      } else if (closeWithCode) {
        const code = (data[0] << 8) | data[1];
        ev.code = code;
        ev.reason = decodeUtf8Lossy(reason);
        if (!isValidWireCloseCode(code)) after.push(['invalid-close-code', `Close code ${code} may not be sent in a close frame (RFC 6455 section 7.4).`]);
        if (!utf8Valid) after.push(['invalid-utf8', 'Close reason is not valid UTF-8.']);
      }
    }
    s.emit(ev);
    if (after.length !== 0) {
      for (let k = 0; k < after.length; k++) s.finding(after[k][0], this.dir, meta, after[k][1], index);
      after.length = 0;
    }
    const pw = s.pongWait as PongWait;
    // the per-direction records by name, as on the data-frame path (see `isClient`)
    const client = this.isClient;
    if (client) pw.at.client = meta.ts;
    else pw.at.server = meta.ts;
    if (h.opcode === 9) {
      const q = client ? s.pings.client : s.pings.server;
      if (q.length >= MAX_PINGS) q.shift();
      q.push({ data: pingKey(data), length: data.length, ts: meta.ts });
    } else if (h.opcode === 10) {
      // RFC 6455 section 5.5.3: a pong echoes the payload of the ping it answers
      const held = client ? pw.held.client : pw.held.server;
      if (held.length >= MAX_PINGS) this.judgePong(held.shift() as HeldPong, this.dir, true);
      const at = { ts: meta.ts, packet: meta.packet }; // flat literals (see `frames` above)
      held.push({ data: pingKey(data), length: data.length, meta: at, frame: index });
    }
    // pongs of this direction (just held) and of the other, now that this one moved on
    this.settlePongs(pw);
    if (h.opcode === 8) {
      if (client) s.closeSent.client = true;
      else s.closeSent.server = true;
      s.onClose(this.dir, meta);
    }
  }

  /**
   * Judge the held pongs that can be judged: those a ping answers, and those whose pinging
   * direction has moved past them, has ended, or never reached WebSocket while the pong's
   * direction has ended.
   */
  private settlePongs(pw: PongWait): void {
    // this direction's, then the other's (no array of the two per call: this runs per control frame)
    this.settlePongsFrom(pw, this.dir);
    this.settlePongsFrom(pw, this.other);
  }

  private settlePongsFrom(pw: PongWait, from: Direction): void {
    // by name, not `r[from]` (see `isClient`)
    const fromClient = from === 'client';
    const held = fromClient ? pw.held.client : pw.held.server;
    const done = fromClient ? pw.ended.server || (!pw.open.server && pw.ended.client) : pw.ended.client || (!pw.open.client && pw.ended.server);
    const pingerAt = fromClient ? pw.at.server : pw.at.client;
    while (held.length > 0) {
      const p = held[0];
      if (!this.judgePong(p, from, done || pingerAt > p.meta.ts)) break;
      held.shift();
    }
  }

  /**
   * Match a pong from `from` with the pings sent before it; false when none answers it and
   * the pinging direction may still show an earlier ping (not `decided`).
   */
  private judgePong(p: HeldPong, from: Direction, decided: boolean): boolean {
    const s = this.s;
    const q = from === 'client' ? s.pings.server : s.pings.client;
    // Oldest first among the pings sent before the pong: pongs answer pings in order, and a
    // pong for the latest ping also settles the older ones it skipped (a MAY of section
    // 5.5.3). Searching newest-first would let one pong settle several pings with equal
    // payloads (often empty ones).
    let before = 0;
    while (before < q.length && q[before].ts <= p.meta.ts) before++;
    for (let k = 0; k < before; k++) {
      if (q[k].length === p.length && sameBytes(q[k].data, p.data)) {
        q.splice(0, k + 1);
        return true;
      }
    }
    if (!decided) return false;
    const other = from === 'client' ? 'server' : 'client';
    if (before === 0) s.finding('unsolicited-pong', from, p.meta, `Pong from the ${from} with no outstanding ping from the ${other}.`, p.frame);
    else {
      s.finding('pong-mismatch', from, p.meta, `Pong payload (${p.length} bytes) matches none of the ${before} outstanding ping(s).`, p.frame);
      q.shift();
    }
    return true;
  }

  lostSync(lostBytes: number, partialHeader: number, meta: ChunkMeta): void {
    const where = partialHeader > 0 ? ` after ${partialHeader} bytes of a frame header` : ' at a frame boundary';
    this.s.finding('tcp-gap', this.dir, meta, `${lostBytes} bytes were lost${where}; looking for the next frame header.`);
    if (this.msg !== null) this.msg.holed = true;
  }

  resynced(skipped: number, found: boolean, meta: ChunkMeta): void {
    if (found) {
      if (skipped === 0) return; // picked up exactly at a frame start: nothing to report
      this.s.finding('resync', this.dir, meta, `Skipped ${skipped} bytes to the next plausible frame header.`);
    } else {
      this.s.finding('resync', this.dir, meta, `No plausible frame header in the last ${skipped} bytes of the stream.`);
    }
  }

  partialHeader(have: number, reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    this.s.finding(reason === 'eof' ? 'truncated-capture' : 'incomplete-frame', this.dir, meta, endText(reason, `only ${have} bytes of a frame header were seen`));
  }

  acceptAfterClose(firstByte: number, meta: ChunkMeta, bytesLeft: number): boolean {
    if (firstBytePlausible(firstByte, { masked: null, rsv1: this.s.deflateMode !== 'none', continuation: true })) return true;
    this.drained += bytesLeft;
    this.s.finding('data-after-close', this.dir, meta, `${bytesLeft} bytes that are not a WebSocket frame followed the ${this.dir}'s close frame; not decoded.`);
    return false;
  }

  streamEnd(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void {
    if (this.msg !== null) this.finishMessage(meta, reason);
    // no ping will come from this direction any more: the other's held pongs are judged
    const pw = this.s.pongWait as PongWait;
    pw.ended[this.dir] = true;
    this.settlePongs(pw);
    // nothing more comes in this direction: release zlib's stream and the scratch buffer
    this.inflater?.close();
    this.inflater = null;
    this.scratch?.release();
    this.scratch = null;
  }
}

function opName(op: number): string {
  return OPCODE_NAMES[op] ?? `reserved 0x${op.toString(16)}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function endText(reason: string, what: string): string {
  const how = reason === 'eof' ? 'The capture ended' : reason === 'rst' ? 'The connection was reset' : 'The sender closed the stream';
  return `${how} mid-frame: ${what}.`;
}

/**
 * What the ping and pong queues keep of a payload: the bytes themselves up to PING_BYTES_MAX,
 * past it their SHA-256 (compared along with the length). A control frame over 125 bytes is
 * already a violation (RFC 6455 section 5.5); kept whole, MAX_PINGS of them could hold 32 x
 * maxMessageBytes (2 GiB) per direction.
 */
function pingKey(data: Uint8Array): Uint8Array {
  return data.length <= PING_BYTES_MAX ? data : createHash('sha256').update(data).digest();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
