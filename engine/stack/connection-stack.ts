/**
 * The stream stack of one connection: detection over the registered modules, the layers it
 * made, and the one boundary that contains their failures.
 *
 *   reassembled bytes (per direction) -> DirEntry.push -> [undecided: detect] -> layer stream
 *
 * Detection, per direction, on its first bytes (held while a detector needs more): modules
 * are asked in registry order; "Decode As" (`decodeAs`) answers yes for its module in that
 * module's slot; a heuristic module is asked only when heuristics are on. The first yes gets
 * the direction: the connection's layer of that module is made (one per module per
 * connection) and the direction's stream opened. When every module says no the direction is
 * rejected; a layer that claims the connection (WebSocket) later takes rejected directions
 * resynchronising, and every undecided one.
 *
 * Hot path: once decided, `DirEntry.push` calls the stream it holds (`target`) directly:
 * no lookup, no allocation, no closure per chunk. A layer that hands a direction to a child
 * (HTTP/1.1 -> WebSocket) re-points `target` through `handOff`, so upgraded bytes go from the
 * reassembler to the frame decoder with one call in between.
 *
 * Containment: every call into a layer (push, end, finish, detection, creation) runs inside
 * this boundary. An exception stops decoding of this connection only: one `decoder-error`
 * finding names the layer and the error, `onInternalError` is told (the fuzzer and the tests
 * count with it), and the connection's streams are dropped; other connections go on.
 *
 * Memory: undecided bytes are copied while a detector asks for more (bounded by the
 * detectors: HTTP/1.1 holds < 17 bytes, WebSocket's heuristic < 64 KiB); pushed bytes are
 * otherwise only read during the call. Layers own their buffers; `finish` lets go of them.
 */
import type { Direction, EventSink, FindingEvent } from '../../shared/events';
import { FINDINGS, type FindingId } from '../../shared/findings';
import type { ChunkMeta } from '../types';
import type { Counters, SessionOptions } from '../ws/options';
import { DETECT_MORE, DETECT_NEXT, DETECT_NO, type ByteStream, type CarriedConnection, type CarriedFields, type DetectView, type EndReason, type Layer, type LayerContext, type ProtocolModule } from './layer';
import type { ModuleRegistry } from './registry';

/** findings of one id listed per connection before they are only counted */
export const FINDINGS_PER_ID = 20;

/**
 * The per-id cap: counts findings by id and says whether one is still listed (the first
 * FINDINGS_PER_ID of an id); `flush` emits one "N more" finding per id over the cap. Used by
 * every producer of findings (the stack, the TCP connection, the capture itself), so no id
 * can flood the output. Memory: one count per id seen (a few dozen at most).
 */
export class FindingCap {
  private counts: Map<FindingId, number> | null = null;

  take(id: FindingId): boolean {
    const m = (this.counts ??= new Map());
    const n = (m.get(id) ?? 0) + 1;
    m.set(id, n);
    return n <= FINDINGS_PER_ID;
  }

  /** the "N more" findings (`where`: "this connection", "this capture"), then the counts start again */
  flush(emit: EventSink, conn: number, meta: ChunkMeta, where: string): void {
    if (this.counts === null) return;
    for (const [id, n] of this.counts) {
      if (n <= FINDINGS_PER_ID) continue;
      const more = n - FINDINGS_PER_ID;
      emit({ type: 'finding', id, severity: FINDINGS[id].severity, conn, ts: meta.ts, packet: meta.packet, text: `${more} more ${id} finding${more === 1 ? '' : 's'} on ${where} were not listed.` });
    }
    this.counts = null;
  }
}

/** stacks nested in one connection's stack (TLS in TLS in ...) before nest() refuses */
export const MAX_NESTING = 4;

/** Where an internal error was contained. */
export interface InternalErrorSite {
  conn: number;
  /** module id of the layer that threw ('stack' for detection itself) */
  layer: string;
}

export type InternalErrorHook = (error: unknown, site: InternalErrorSite) => void;

export interface StackOptions {
  /** options of the layers (limits, heuristic, payload handling) */
  session: SessionOptions;
  registry: ModuleRegistry;
  /** module forced on this connection ("Decode As"), still tried in its detection slot */
  decodeAs?: string;
  clientPort?: number;
  serverPort?: number;
  onInternalError?: InternalErrorHook;
  /** how deep this stack is nested in its connection's (0: on TCP) */
  depth?: number;
  /**
   * Announces a connection carried inside this one (LayerContext.openConnection): takes the
   * next id from the pipeline's counter, emits its `connection` event, returns the id.
   * Absent (a lone stack, engine/ws/session.ts): ids count on from this stack's own.
   */
  carrier?: (fields: CarriedFields, parent: number, meta: ChunkMeta) => number;
}

/** an error thrown while making a layer, tagged with the layer's module id */
class LayerFault extends Error {
  constructor(
    readonly layer: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

const UNDECIDED = 0;
const DECIDED = 1;
const REJECTED = 2;

/** One direction's entry into the stack: what the reassembler (or a test) pushes to. */
export class DirEntry implements ByteStream {
  /** the decided layer's stream; null while undecided or rejected */
  target: ByteStream | null = null;
  owner: Layer | null = null;
  /** module id of `owner`, named when it fails */
  layerId = 'stack';
  state = UNDECIDED;
  pre: Uint8Array | null = null;
  preSkip = 0;
  seen = 0;
  midStream = false;
  gotData = false;
  ended = false;
  /** examined from its first byte and rejected by every module */
  rejectedFromStart = false;

  constructor(
    private readonly stack: ConnStack,
    readonly dir: Direction,
  ) {
    // V8 folds a field written only once into optimized code as a constant: the first
    // direction to end would then throw away the per-packet path `push` is inlined into
    // (the reassembler's segment) and compile it again. A second write makes it a plain field.
    this.ended = true;
    this.ended = false;
  }

  push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    const t = this.target;
    if (t !== null && !this.ended) {
      try {
        t.push(bytes, skip, meta);
      } catch (e) {
        this.stack.fail(e, this.layerId, meta);
      }
      return;
    }
    // Not here: a closure in this function would make V8 allocate its context (about 80 bytes)
    // on every call, the decided path's included: 19 MB per 200 MB of capture (--heap-prof).
    this.undecided(bytes, skip, meta);
  }

  /** bytes of a direction no module has taken yet: detection, holding what a detector needs */
  private undecided(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (this.state !== UNDECIDED || this.ended) return;
    if (!this.gotData) {
      this.gotData = true;
      if (skip < 0) this.midStream = true;
    }
    let buf = bytes;
    let s = skip;
    if (this.pre !== null) {
      // lost bytes while deciding: what was held cannot be joined with what follows
      if (skip <= 0) {
        buf = concat(this.pre, bytes);
        s = this.preSkip;
      }
      this.pre = null;
    }
    this.stack.guarded(meta, () => this.stack.decide(this, buf, s, meta, false));
  }

  end(reason: EndReason, meta: ChunkMeta): void {
    if (this.ended) return;
    this.ended = true;
    this.stack.guarded(meta, () => {
      this.decidePending(meta);
      this.target?.end(reason, meta);
    });
  }

  /** bytes held for a detector: decide on them now, nothing more will come */
  decidePending(meta: ChunkMeta): void {
    if (this.state !== UNDECIDED || this.pre === null) return;
    const pre = this.pre;
    this.pre = null;
    this.stack.decide(this, pre, this.preSkip, meta, true);
  }

  route(to: ByteStream, owner: Layer, id: string): void {
    this.target = to;
    this.owner = owner;
    this.layerId = id;
    this.state = DECIDED;
    this.pre = null;
  }

  drop(): void {
    this.target = null;
    this.owner = null;
    this.pre = null;
    this.state = REJECTED;
  }

  get rejected(): boolean {
    return this.state === REJECTED;
  }
}

export class ConnStack {
  readonly client: DirEntry;
  readonly server: DirEntry;
  readonly ctx: LayerContext;
  readonly clientPort: number;
  readonly serverPort: number;
  private readonly mods: readonly ProtocolModule[];
  private readonly layers = new Map<string, Layer>();
  /** layers in creation order (finish order) */
  private readonly made: Layer[] = [];
  private claimer: ProtocolModule | null = null;
  private readonly cap = new FindingCap();
  /** module whose code runs (for naming a failure outside a decided stream) */
  private where = 'stack';
  finished = false;
  failed = false;
  /** carried connections opened without a carrier (ids after this stack's own) */
  private carried = 0;
  /** carried connections not closed yet: closed here if this stack fails */
  private readonly carriedOpen = new Set<CarriedConnection>();

  constructor(
    readonly conn: number,
    private readonly emit: EventSink,
    counters: Counters,
    readonly opts: StackOptions,
  ) {
    this.mods = opts.registry.list();
    this.clientPort = opts.clientPort ?? 0;
    this.serverPort = opts.serverPort ?? 0;
    this.client = new DirEntry(this, 'client');
    this.server = new DirEntry(this, 'server');
    this.ctx = {
      conn,
      emit,
      counters,
      opts: opts.session,
      finding: (id, dir, meta, text, frame) => this.finding(id, dir, meta, text, frame),
      openChild: (id, init, meta) => this.layerOf(id, init, meta),
      claimed: () => this.claimer !== null,
      handOff: (from, dir, to, toId) => {
        const d = this.entry(dir);
        if (d.state !== UNDECIDED && d.owner !== from) return false;
        d.route(to, this.layers.get(toId) ?? from, toId);
        return true;
      },
      reject: (from, dir) => {
        const d = this.entry(dir);
        if (d.state === UNDECIDED || d.owner === from) d.drop();
      },
      nest: () => {
        const depth = (opts.depth ?? 0) + 1;
        if (depth > MAX_NESTING) throw new Error(`protocols nested more than ${MAX_NESTING} deep`);
        // its own entries, layers and boundary: a failure inside stops the nested decoding only
        return new ConnStack(conn, emit, counters, { ...opts, depth });
      },
      openConnection: (fields, meta) => this.openConnection(fields, meta),
    };
  }

  /** A connection carried inside this one: a stack of its own, over the same modules. */
  private openConnection(fields: CarriedFields, meta: ChunkMeta): CarriedConnection {
    const o = this.opts;
    const id = o.carrier ? o.carrier(fields, this.conn, meta) : this.conn + ++this.carried;
    const stack = new ConnStack(id, this.emit, this.ctx.counters, { ...o, decodeAs: undefined });
    let closed = false;
    const carried: CarriedConnection = {
      ctx: stack.ctx,
      client: stack.client,
      server: stack.server,
      close: (reason, m) => {
        if (closed) return;
        closed = true;
        this.carriedOpen.delete(carried);
        stack.client.end(reason, m);
        stack.server.end(reason, m);
        stack.finish(m);
        this.emit({ type: 'connection-end', conn: id, ts: m.ts, packet: m.packet, reason });
      },
    };
    this.carriedOpen.add(carried);
    return carried;
  }

  entry(dir: Direction): DirEntry {
    return dir === 'client' ? this.client : this.server;
  }

  /** the connection's layer of module `id`, if one was made */
  layer(id: string): Layer | undefined {
    return this.layers.get(id);
  }

  /** First bytes of a direction: which module's layer gets it (see the module comment). */
  decide(d: DirEntry, buf: Uint8Array, skip: number, meta: ChunkMeta, final: boolean): void {
    d.seen += buf.length;
    const midStream = skip < 0 || d.midStream;
    // made per decision, not per chunk: a direction is decided on its first chunk or few
    const view: DetectView = {
      clientPort: this.clientPort,
      serverPort: this.serverPort,
      midStream,
      final,
      seen: d.seen,
      otherRejected: (d.dir === 'client' ? this.server : this.client).rejectedFromStart,
      opts: this.opts.session,
    };
    for (const m of this.mods) {
      let at: number;
      let forced = false;
      if (m === this.claimer || m.id === this.opts.decodeAs) {
        at = 0;
        forced = true;
      } else if (m.detect === undefined || (m.heuristic === true && !this.opts.session.heuristic)) {
        continue;
      } else {
        this.where = m.id;
        at = m.detect(buf, d.dir, view);
        // a connection claimed by a layer gives its directions to that layer only
        if (this.claimer !== null && at >= 0) at = DETECT_NO;
      }
      if (at >= 0) {
        this.take(d, m, buf, skip, at, forced, midStream, meta);
        return;
      }
      if (final) continue;
      if (at === DETECT_MORE) {
        d.seen -= buf.length;
        d.pre = new Uint8Array(buf);
        d.preSkip = skip;
        return;
      }
      if (at === DETECT_NEXT) {
        d.midStream = true;
        return;
      }
    }
    d.drop();
    if (!d.midStream) d.rejectedFromStart = true;
  }

  private take(d: DirEntry, m: ProtocolModule, buf: Uint8Array, skip: number, at: number, forced: boolean, midStream: boolean, meta: ChunkMeta): void {
    const layer = this.layerOf(m.id, undefined, meta);
    this.where = m.id;
    // forced (Decode As, or a claiming layer): the bytes may start anywhere and lost bytes
    // count; detected: the detector found where the protocol starts
    const stream = layer.open(d.dir, forced && midStream);
    d.route(stream, layer, m.id);
    if (at > 0) this.finding('resync', d.dir, meta, `Skipped ${at} bytes to the first plausible frame header.`);
    stream.push(at === 0 ? buf : buf.subarray(at), forced && skip > 0 ? skip : 0, meta);
  }

  private layerOf(id: string, init: unknown, meta: ChunkMeta): Layer {
    const have = this.layers.get(id);
    if (have) return have;
    const m = this.opts.registry.get(id);
    if (!m) throw new Error(`no protocol module ${JSON.stringify(id)} is registered`);
    let layer: Layer;
    try {
      layer = m.create(this.ctx, init, meta);
    } catch (e) {
      throw new LayerFault(id, e);
    }
    this.layers.set(id, layer);
    this.made.push(layer);
    if (m.claimsConnection && this.claimer === null) {
      this.claimer = m;
      // directions written off (not any protocol's start) rejoin, resynchronising
      for (const d of [this.client, this.server]) if (d.rejected) d.route(layer.open(d.dir, true), layer, id);
    }
    return layer;
  }

  /** The connection is over: layers flush, open directions end, capped findings are counted. */
  finish(meta: ChunkMeta): void {
    if (this.finished || this.failed) return;
    this.finished = true;
    this.guarded(meta, () => {
      for (const l of this.made.slice()) {
        this.where = this.idOf(l);
        l.finish(meta);
      }
      for (const d of [this.client, this.server]) {
        d.decidePending(meta);
        this.where = d.layerId;
        if (!d.ended) d.target?.end('eof', meta);
        d.ended = true;
      }
    });
    if (this.failed) return;
    this.cap.flush(this.emit, this.conn, meta, 'this connection');
  }

  /** run `f` inside the boundary (not the hot path: detection, end, finish) */
  guarded(meta: ChunkMeta, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.fail(e, this.where, meta);
    }
  }

  /** The boundary: one decoder-error finding, the hook told, this connection's decoding stops. */
  fail(e: unknown, layer: string, meta: ChunkMeta): void {
    if (this.failed) return;
    // a layer that could not be made is named, not the one that asked for it
    if (e instanceof LayerFault) [layer, e] = [e.layer, e.cause];
    this.failed = true;
    this.client.drop();
    this.server.drop();
    this.client.ended = this.server.ended = true;
    reportInternalError(this.emit, this.conn, layer, e, meta, this.opts.onInternalError);
    // the connections this one carried get nothing more: they end here (each in its own boundary)
    for (const c of [...this.carriedOpen]) c.close('eof', meta);
  }

  private idOf(l: Layer): string {
    for (const [id, x] of this.layers) if (x === l) return id;
    return 'stack';
  }

  private finding(id: FindingId, dir: Direction | undefined, meta: ChunkMeta, text: string, frame?: number): void {
    if (!this.cap.take(id)) return;
    const ev: FindingEvent = {
      type: 'finding',
      id,
      severity: FINDINGS[id].severity,
      conn: this.conn,
      ...(dir ? { dir } : {}),
      ts: meta.ts,
      packet: meta.packet,
      ...(frame !== undefined ? { frame } : {}),
      text,
    };
    this.emit(ev);
  }
}

/** The one way an internal error is reported: a decoder-error finding naming the layer, and the hook. */
export function reportInternalError(emit: EventSink, conn: number, layer: string, e: unknown, meta: ChunkMeta, hook: InternalErrorHook | undefined): void {
  const msg = e instanceof Error ? e.message : String(e);
  emit({
    type: 'finding',
    id: 'decoder-error',
    severity: FINDINGS['decoder-error'].severity,
    conn,
    ts: meta.ts,
    packet: meta.packet,
    text: `Decoding of this connection stopped after an internal error in the ${layer} layer (${msg}); other connections are not affected.`,
  });
  hook?.(e, { conn, layer });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
