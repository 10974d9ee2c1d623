/**
 * With `keepWirePayload` and `ephemeralPayloads` (the engine host), a frame's `wirePayload` is
 * a view of the message buffer its bytes went to, not a second copy (a large masked frame's
 * bytes are unmasked there in place once its event is out): the events must still be exactly
 * those of the owned-buffer mode (read during the emit, as the store does), whatever the
 * chunking, gaps, limits and fragments. And a large message's
 * buffer grows straight to its final size past PayloadBuffer's preallocation bound.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent, FrameEvent, MessageEvent } from '../../shared/events';
import { analyzeFile } from '../analyze';
import { generateCapture } from '../../scripts/gen-capture';
import { SAMPLE_CHAT, publicCapture, publicCaptureNames } from '../../test/kit/paths';
import { DEFAULT_SESSION_OPTIONS, TcpSession, type SessionOptions } from './session';
import { PayloadBuffer } from './payload-buffer';
import type { FrameDecoder } from './frame-decoder';
import type { WebSocketLayer } from './ws-layer';
import { ConnStack } from '../stack/connection-stack';
import { defaultRegistry } from '../stack/registry';
import { concat } from '../../test/kit/bytes';
import { cf, sf } from '../../test/kit/websocket';
import { normalise, upgradeRequest, upgradeResponse, type Step } from '../../test/kit/session';

function pattern(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** An unmasked frame header claiming `length` bytes (64-bit form, RFC 6455 section 5.2). */
function longHeader(opcode: number, length: bigint): Uint8Array {
  const h = new Uint8Array(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  new DataView(h.buffer).setBigUint64(2, length);
  return h;
}

const open: Step[] = [
  ['client', upgradeRequest()],
  ['server', upgradeResponse()],
];

/** Events of `steps` fed in `split`-sized chunks, each normalised during its emit (ephemeral bytes are valid then only). */
function decode(steps: Step[], opts: Partial<SessionOptions>, split: number[]): { events: unknown[]; raw: EngineEvent[] } {
  const events: unknown[] = [];
  const raw: EngineEvent[] = [];
  const s = new TcpSession(1, (e) => {
    events.push(normalise([e])[0]);
    raw.push(e);
  }, { frames: 0, messages: 0 }, { ...DEFAULT_SESSION_OPTIONS, keepWirePayload: true, ...opts });
  let packet = 0;
  let k = 0;
  for (const [dir, data, skip0] of steps) {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    let skip = skip0 ?? 0;
    for (let p = 0; p < bytes.length; ) {
      const size = split.length ? split[k++ % split.length] : bytes.length;
      packet++;
      s.data(dir, bytes.subarray(p, p + size), skip, { ts: packet, packet });
      skip = 0;
      p += size;
    }
  }
  s.finish({ ts: packet + 1, packet: packet + 1 });
  return { events, raw };
}

const big = sf(2, pattern(3000));
const bigMasked = cf(2, pattern(80_000));
const CASES: Array<[string, Step[], Partial<SessionOptions>]> = [
  ['single frames, both directions, control frames', [...open, ['server', concat([sf(1, 'hello'), sf(2, pattern(70_000)), sf(9, 'ping'), sf(10, pattern(200))])], ['client', concat([cf(1, 'masked'), cf(10, 'ping')])]], {}],
  ['fragments, the second crossing maxMessageBytes', [...open, ['server', concat([sf(2, pattern(3000), { fin: false }), sf(0, pattern(3000, 9)), sf(1, 'after')])]], { maxMessageBytes: 4096 }],
  ['one frame past maxMessageBytes', [...open, ['server', concat([sf(2, pattern(9000)), sf(1, 'after')])]], { maxMessageBytes: 4096 }],
  ['a gap inside an unmasked frame', [...open, ['server', big.subarray(0, 1200)], ['server', concat([big.subarray(1500), sf(1, 'next')]), 300]], {}],
  ['a gap inside the second fragment', [...open, ['server', concat([sf(2, pattern(500), { fin: false }), sf(0, pattern(3000)).subarray(0, 900)])], ['server', concat([sf(0, pattern(3000)).subarray(1000), sf(1, 'next')]), 100]], {}],
  ['a frame claiming 2^62 bytes, cut by the end of the capture', [...open, ['server', concat([longHeader(2, 1n << 62n), pattern(20_000)])]], { maxMessageBytes: 8192 }],
  ['a ping claiming 2^40 bytes', [...open, ['server', concat([longHeader(9, 1n << 40n), pattern(5000)])]], {}],
  // masked frames from 16 KiB on keep their masked bytes in the target until the frame event is out
  ['large masked frames, a ping between fragments', [...open, ['client', concat([cf(2, pattern(70_000), { fin: false }), cf(9, pattern(66_000)), cf(0, pattern(65_536, 3)), cf(1, 'small')])]], {}],
  ['large masked fragments, the second crossing maxMessageBytes', [...open, ['client', concat([cf(2, pattern(70_000), { fin: false }), cf(0, pattern(70_000, 9)), cf(1, 'after')])]], { maxMessageBytes: 100_000 }],
  ['a gap inside a large masked frame', [...open, ['client', bigMasked.subarray(0, 30_001)], ['client', concat([bigMasked.subarray(30_500), cf(1, 'next')]), 499]], {}],
  ['a large masked frame cut by the end of the capture', [...open, ['client', bigMasked.subarray(0, 50_003)]], {}],
];

describe('unmasked wire payloads as views of the message buffer', () => {
  for (const [name, steps, opts] of CASES) {
    it(`${name}: the same events as with buffers of their own`, () => {
      for (const split of [[], [1], [7, 1460, 3]]) {
        const owned = decode(steps, { ...opts, ephemeralPayloads: false }, split).events;
        expect(owned.some((e) => typeof (e as { wirePayload?: unknown }).wirePayload === 'string')).toBe(true);
        expect(decode(steps, { ...opts, ephemeralPayloads: true }, split).events).toEqual(owned);
      }
    });
  }

  it('shares the memory of a single-frame message (no second copy), masked small frames excepted', () => {
    const { raw } = decode([...open, ['server', sf(2, pattern(70_000))], ['client', concat([cf(2, pattern(70_000)), cf(2, pattern(5000))])]], { ephemeralPayloads: true }, [1460]);
    const frames = raw.filter((e): e is FrameEvent => e.type === 'frame');
    const msgs = raw.filter((e): e is MessageEvent => e.type === 'message');
    expect(frames.map((f) => [f.dir, f.masked])).toEqual([
      ['server', false],
      ['client', true],
      ['client', true],
    ]);
    expect(frames[0].wirePayload?.buffer).toBe(msgs[0].data.buffer);
    expect(frames[1].wirePayload?.buffer).toBe(msgs[1].data.buffer);
    expect(frames[2].wirePayload?.buffer).not.toBe(msgs[2].data.buffer);
  });
});

describe('PayloadBuffer growth past the preallocation bound', () => {
  /** the sizes of the buffers a buffer went through while `total` bytes arrived in 1460-byte pieces, `announced` by the header */
  function buffers(b: PayloadBuffer, total: number, announced = total): number[] {
    const seen: number[] = [];
    const piece = pattern(1460);
    b.reserve(announced);
    for (let n = 0; n < total; n += piece.length) {
      b.append(piece, 0, Math.min(piece.length, total - n), null, 0);
      if (seen[seen.length - 1] !== b.buf.length) seen.push(b.buf.length);
    }
    return seen;
  }

  it('grows once to what the header announced, at most the limit', () => {
    expect(buffers(new PayloadBuffer(0, 64 << 20), 20 << 20)).toEqual([4 << 20, 20 << 20]);
    expect(buffers(PayloadBuffer.scratch(64 << 20), 20 << 20)).toEqual([4 << 20, 20 << 20]);
    // a length of 2^62 announced, 10 MiB arrived: one buffer of the limit (its pages cost memory once written)
    expect(buffers(new PayloadBuffer(0, 16 << 20), 10 << 20, 2 ** 62)).toEqual([4 << 20, 16 << 20]);
  });

  it('grows a message of many fragments geometrically, then to the limit', () => {
    const b = new PayloadBuffer(0, 64 << 20);
    const seen: number[] = [];
    for (let k = 0; k < 10; k++) {
      b.reserve(1 << 20);
      b.append(pattern(1 << 20), 0, 1 << 20, null, 0);
      if (seen[seen.length - 1] !== b.buf.length) seen.push(b.buf.length);
    }
    expect(seen).toEqual([1 << 20, 2 << 20, 4 << 20, 5 << 20, 64 << 20]);
    expect(Buffer.from(b.view().subarray(9 << 20, (9 << 20) + 100)).equals(Buffer.from(pattern(100)))).toBe(true);
  });
});

/** one line per frame (its wire bytes) and per message (its bytes), read during the emit */
async function digest(file: string, ephemeralPayloads: boolean): Promise<string[]> {
  const out: string[] = [];
  const sha = (b: Uint8Array | undefined): string => (b ? createHash('sha256').update(b).digest('hex') : '-');
  await analyzeFile(
    file,
    (ev) => {
      if (ev.type === 'frame') out.push(`f ${ev.conn} ${ev.dir} ${ev.index} ${ev.masked} ${ev.length} ${ev.wirePayload?.length} ${sha(ev.wirePayload)}`);
      else if (ev.type === 'message') out.push(`m ${ev.conn} ${ev.dir} ${ev.index} ${ev.length} ${ev.truncated} ${sha(ev.data)}`);
    },
    { session: { keepWirePayload: true, ephemeralPayloads } },
  );
  return out;
}

describe('captures decoded with wire payloads: views and own buffers agree', () => {
  let tmp = '';
  let generated = '';
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wsscope-wire-views-'));
    generated = join(tmp, 'gen.pcap');
    // retransmissions and reordering, client messages masked, some past MASK_IN_PLACE_MIN (16 KiB)
    await generateCapture({ out: generated, bytes: 4_000_000, connections: 16, seed: 11, tcpAnomalies: true });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const file of [...publicCaptureNames().map(publicCapture), SAMPLE_CHAT]) {
    it(file.split('/').pop()!, async () => {
      expect(await digest(file, true)).toEqual(await digest(file, false));
    });
  }

  it('a generated capture with TCP anomalies and large masked messages', async () => {
    const [a, b] = [await digest(generated, true), await digest(generated, false)];
    expect(a.filter((l) => l.startsWith('f ') && l.split(' ')[4] === 'true' && Number(l.split(' ')[5]) >= 16 * 1024).length).toBeGreaterThan(0);
    expect(a).toEqual(b);
  });
});

/**
 * The per-frame path without copies or allocations the events do not need, with ephemeral
 * payloads (the CLI, the engine host): a single unmasked frame whose payload lies whole in the
 * chunk being decoded is handed out as a view of that chunk, and frame headers as views of one
 * process-wide header buffer. Both rest on the events being consumed during the emit, and on the
 * message event going out before the chunk's push returns.
 */
describe('zero-copy views of the input with ephemeral payloads', () => {
  const enc = new TextEncoder();
  /** a stack over the default registry, its server decoder once the upgrade is through, and a push that notes which chunk each event came in */
  function open(opts: Partial<SessionOptions>) {
    const events: Array<{ ev: EngineEvent; chunk: Uint8Array | null; data?: string; header?: string }> = [];
    let pushing: Uint8Array | null = null;
    const stack = new ConnStack(1, (ev) => {
      // bytes read during the emit, the only time ephemeral bytes are valid
      const rec: (typeof events)[number] = { ev, chunk: pushing };
      if (ev.type === 'message') rec.data = Buffer.from(ev.data).toString('hex');
      if (ev.type === 'frame') rec.header = Buffer.from(ev.header).toString('hex');
      events.push(rec);
    }, { frames: 0, messages: 0 }, { session: { ...DEFAULT_SESSION_OPTIONS, ...opts }, registry: defaultRegistry });
    const meta = { ts: 1, packet: 1 };
    const push = (dir: 'client' | 'server', b: Uint8Array): void => {
      pushing = b;
      stack.entry(dir).push(b, 0, meta);
      pushing = null;
      meta.packet++;
    };
    push('client', enc.encode(upgradeRequest()));
    push('server', enc.encode(upgradeResponse()));
    const ws = stack.layer('websocket') as WebSocketLayer;
    return { events, push, server: ws.open('server', false) as FrameDecoder, client: ws.open('client', false) as FrameDecoder };
  }

  const frames = [sf(1, 'hello'), sf(2, pattern(300)), sf(1, 'x'.repeat(5000)), sf(2)];

  for (const keepWirePayload of [false, true]) {
    it(`a whole unmasked single-frame message is a view of its chunk, out before the push returns${keepWirePayload ? ' (wire payload too)' : ''}`, () => {
      const c = open({ ephemeralPayloads: true, keepWirePayload });
      // an all-in-one chunk, then a frame cut across two chunks, then a fragmented message
      const chunk = concat(frames);
      c.push('server', chunk);
      const cut = sf(2, pattern(2000, 3));
      c.push('server', cut.subarray(0, 700));
      c.push('server', cut.subarray(700));
      c.push('server', concat([sf(1, 'frag', { fin: false }), sf(0, 'ment')]));
      const msgs = c.events.filter((e) => e.ev.type === 'message');
      expect(msgs.map((m) => m.data)).toEqual([...['hello', pattern(300), 'x'.repeat(5000), ''].map((p) => Buffer.from(typeof p === 'string' ? enc.encode(p) : p).toString('hex')), Buffer.from(pattern(2000, 3)).toString('hex'), Buffer.from('fragment').toString('hex')]);
      let at = 0;
      for (let k = 0; k < frames.length; k++) {
        const m = msgs[k].ev as MessageEvent;
        const headerLength = frames[k].length - m.data.length;
        // the very bytes of the chunk (no copy), emitted during its push
        expect(msgs[k].chunk).toBe(chunk);
        expect(m.data.buffer).toBe(chunk.buffer);
        expect(m.data.byteOffset).toBe(chunk.byteOffset + at + headerLength);
        const f = c.events.filter((e) => e.ev.type === 'frame')[k].ev as FrameEvent;
        if (keepWirePayload) expect(f.wirePayload).toBe(m.data);
        else expect(f.wirePayload).toBeUndefined();
        at += frames[k].length;
      }
      // a frame in pieces and a fragmented message are gathered into a buffer of the decoder's
      for (const m of msgs.slice(frames.length)) expect((m.ev as MessageEvent).data.buffer).not.toBe(chunk.buffer);
      // nothing of a chunk is kept once its push has returned
      expect(c.server.head.whole).toBeNull();
    });
  }

  it('the wire bytes of a frame whole in its chunk are a view of it, masked ones included', () => {
    const c = open({ ephemeralPayloads: true, keepWirePayload: true });
    const chunk = concat([cf(1, 'masked'), cf(2, pattern(3000)), cf(9, 'ping')]);
    c.push('client', chunk);
    const cut = cf(2, pattern(900));
    c.push('client', cut.subarray(0, 500));
    c.push('client', cut.subarray(500));
    const fr = c.events.filter((e) => e.ev.type === 'frame').map((e) => e.ev as FrameEvent);
    expect(fr.map((f) => f.wirePayload?.buffer === chunk.buffer)).toEqual([true, true, true, false]);
    // the masked bytes as they were on the wire
    let at = 0;
    for (const f of fr.slice(0, 3)) {
      at += f.headerLength;
      expect(f.wirePayload?.byteOffset).toBe(chunk.byteOffset + at);
      at += f.length;
    }
    expect(c.client.head.wireView).toBeNull();
  });

  it('masked frames and owned payloads are copies', () => {
    for (const opts of [{ ephemeralPayloads: true }, { ephemeralPayloads: false }]) {
      const c = open(opts);
      const client = cf(1, 'masked');
      c.push('client', client);
      const server = sf(1, 'owned');
      c.push('server', server);
      const [mc, ms] = c.events.filter((e) => e.ev.type === 'message').map((e) => e.ev as MessageEvent);
      expect(Buffer.from(mc.data).toString()).toBe('masked');
      expect(mc.data.buffer).not.toBe(client.buffer);
      expect(Buffer.from(ms.data).toString()).toBe('owned');
      if (!opts.ephemeralPayloads) expect(ms.data.buffer).not.toBe(server.buffer);
    }
  });

  it('frame headers: one process-wide buffer with ephemeral payloads, a buffer each otherwise, the same bytes', () => {
    const headersOf = (ephemeralPayloads: boolean): { hex: string[]; headers: Uint8Array[] } => {
      const c = open({ ephemeralPayloads });
      // whole headers, a header split across chunks, 2- to 14-byte headers
      const server = concat([sf(1, 'a'), sf(2, pattern(200)), sf(2, pattern(70_000))]);
      c.push('server', server.subarray(0, 4));
      c.push('server', server.subarray(4, 210));
      c.push('server', server.subarray(210));
      c.push('client', concat([cf(2, pattern(200)), cf(9, 'p')]));
      const fr = c.events.filter((e) => e.ev.type === 'frame');
      return { hex: fr.map((e) => e.header as string), headers: fr.map((e) => (e.ev as FrameEvent).header) };
    };
    const shared = headersOf(true);
    const owned = headersOf(false);
    expect(shared.hex).toEqual(owned.hex);
    expect(shared.hex.map((h) => h.length / 2)).toEqual([2, 4, 10, 8, 6]);
    // every header (both directions, any connection) is a view of one buffer; owned ones keep their bytes afterwards
    expect(new Set([...shared.headers, ...headersOf(true).headers].map((h) => h.buffer)).size).toBe(1);
    expect(new Set(owned.headers.map((h) => h.buffer)).size).toBe(owned.headers.length);
    expect(owned.headers.map((h) => Buffer.from(h).toString('hex'))).toEqual(owned.hex);
  });
});
