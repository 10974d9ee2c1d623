import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Conv, ascii, pcap, type Rec } from '../../test/kit/capture';
import { cf, sf, wsRequest, wsResponse } from '../../test/kit/websocket';
import { concat } from '../../test/kit/bytes';
import { analyzeFile } from '../analyze';
import type { Direction, EngineEvent, MessageEvent } from '../../shared/events';
import type { ChunkMeta } from '../types';
import { DETECT_MORE, DETECT_NO, type ByteStream, type LayerContext, type ProtocolModule } from './layer';
import { builtinRegistry } from './registry';
import { webSocketModule, type WebSocketInit } from '../ws/ws-layer';
import { MAX_NESTING, type InternalErrorSite } from './connection-stack';

/**
 * A carrier protocol, the smallest there is: each direction opens with one marker byte ('>'
 * from the client, '<' from the server) and carries what follows. Its layer hands the
 * carried bytes to a nested stack (LayerContext.nest), as TLS hands its plaintext.
 */
const peelModule: ProtocolModule = {
  id: 'peel',
  detect: (bytes, dir) => (bytes.length === 0 ? DETECT_MORE : bytes[0] === (dir === 'client' ? 0x3e : 0x3c) ? 0 : DETECT_NO),
  claimsConnection: true,
  create: (ctx) => {
    const inner = ctx.nest();
    const stream = (dir: Direction): ByteStream => {
      let marker = true;
      return {
        push: (bytes, skip, meta) => {
          const rest = marker ? bytes.subarray(1) : bytes;
          marker = false;
          if (rest.length > 0) inner[dir].push(rest, skip, meta);
        },
        end: (reason, meta) => inner[dir].end(reason, meta),
      };
    };
    const streams = { client: stream('client'), server: stream('server') };
    return { open: (dir) => streams[dir], finish: (meta) => inner.finish(meta) };
  },
};

/** one upgraded WebSocket conversation carried inside `depth` peel layers */
function peeled(depth: number): string {
  const wrap = (marker: string, b: Uint8Array): Uint8Array => concat([ascii(marker.repeat(depth)), b]);
  const conv = new Conv({ clientPort: 40100 }).open();
  conv.send('c', wrap('>', wsRequest()));
  conv.send('s', wrap('<', concat([wsResponse(), sf(1, 'welcome')])));
  conv.send('c', cf(1, 'hi inside'));
  conv.close();
  const file = join(tmp, `peel-${depth}.pcap`);
  writeFileSync(file, pcap(conv.recs, { linkType: 1 }));
  return file;
}

const LINE_PORT = 7777;
const tmp = mkdtempSync(join(tmpdir(), 'wsscope-stack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A newline-delimited text protocol on one port, written the way a real module would be:
 * a detector (the port and a printable first byte), one stream per direction that cuts lines
 * and emits each as a text message. `failOn`: a line that makes the layer throw (a bug).
 */
function lineModule(failOn?: string): ProtocolModule {
  class LineStream implements ByteStream {
    private held = '';
    private last: ChunkMeta = { ts: 0, packet: 0 };
    constructor(
      private readonly ctx: LayerContext,
      private readonly dir: Direction,
    ) {}
    push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
      if (skip > 0) this.held = '';
      this.last = meta;
      this.held += Buffer.from(bytes).toString('latin1');
      let nl: number;
      while ((nl = this.held.indexOf('\n')) >= 0) {
        this.line(this.held.slice(0, nl), meta);
        this.held = this.held.slice(nl + 1);
      }
    }
    end(): void {
      if (this.held !== '') this.line(this.held, this.last);
      this.held = '';
    }
    private line(text: string, meta: ChunkMeta): void {
      if (text === failOn) throw new Error(`cannot parse ${JSON.stringify(text)}`);
      const data = new Uint8Array(Buffer.from(text, 'latin1'));
      const ev: MessageEvent = { type: 'message', conn: this.ctx.conn, dir: this.dir, ts: meta.ts, index: this.ctx.counters.messages++, opcode: 1, compressed: false, length: data.length, wireLength: data.length + 1, frames: [], packet: meta.packet, data, truncated: false, utf8Valid: true };
      this.ctx.emit(ev);
    }
  }
  return {
    id: 'line',
    detect: (bytes, _dir, view) => (view.serverPort !== LINE_PORT ? DETECT_NO : bytes.length === 0 ? DETECT_MORE : bytes[0] >= 0x20 && bytes[0] < 0x7f ? 0 : DETECT_NO),
    create: (ctx) => {
      const streams = { client: new LineStream(ctx, 'client'), server: new LineStream(ctx, 'server') };
      return { open: (dir) => streams[dir], finish: () => {} };
    },
  };
}

/** one line-protocol connection (lines cut into 5-byte segments) and two WebSocket ones */
function capture(): string {
  const recs: Rec[] = [];
  const line = new Conv({ clientPort: 40001, serverPort: LINE_PORT }).open();
  line.send('c', ascii('HELLO wsscope\nLIST\n'), 5);
  line.send('s', ascii('OK 2 items\nitem one\nitem two\n'), 5);
  line.send('c', ascii('QUIT'), 5);
  line.close();
  recs.push(...line.recs);
  for (const port of [40002, 40003]) {
    const ws = new Conv({ clientPort: port, t0: line.t + port }).upgrade();
    ws.send('c', cf(1, `hi from ${port}`));
    ws.send('s', sf(1, `hello ${port}`));
    ws.close();
    recs.push(...ws.recs);
  }
  recs.sort((a, b) => a.tsUs - b.tsUs);
  const file = join(tmp, 'lines.pcap');
  writeFileSync(file, pcap(recs, { linkType: 1 }));
  return file;
}

const texts = (events: EngineEvent[], conn: number): string[] => events.flatMap((e) => (e.type === 'message' && e.conn === conn ? [`${e.dir} ${Buffer.from(e.data).toString()}`] : []));

describe('the stream stack', () => {
  it('decodes a protocol registered by a test, next to WebSocket, with no change to the pipeline', async () => {
    const file = capture();
    const events: EngineEvent[] = [];
    const summary = await analyzeFile(file, (e) => events.push(e), { registry: builtinRegistry().registerFirst(lineModule()) });
    const conns = events.filter((e) => e.type === 'connection').map((e) => (e.type === 'connection' ? [e.id, e.server] : []));
    expect(conns).toEqual([
      [1, `127.0.0.1:${LINE_PORT}`],
      [2, '127.0.0.1:8080'],
      [3, '127.0.0.1:8080'],
    ]);
    expect(texts(events, 1)).toEqual(['client HELLO wsscope', 'client LIST', 'server OK 2 items', 'server item one', 'server item two', 'client QUIT']);
    expect(texts(events, 2)).toEqual(['client hi from 40002', 'server hello 40002']);
    expect(texts(events, 3)).toEqual(['client hi from 40003', 'server hello 40003']);
    expect(summary.messages).toBe(10);
    expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
    // without the module, the line connection is not decoded at all
    const plain: EngineEvent[] = [];
    await analyzeFile(file, (e) => plain.push(e), { heuristic: false });
    expect(texts(plain, 1)).toEqual([]);
    expect(texts(plain, 2)).toEqual(texts(events, 2));
  });

  it('contains a layer that throws: one decoder-error naming it, told to the hook, every other connection decoded fully', async () => {
    const file = capture();
    const errors: Array<[string, InternalErrorSite]> = [];
    const events: EngineEvent[] = [];
    await analyzeFile(file, (e) => events.push(e), {
      registry: builtinRegistry().registerFirst(lineModule('item one')),
      onInternalError: (e, site) => errors.push([e instanceof Error ? e.message : String(e), site]),
    });
    const faults = events.filter((e) => e.type === 'finding' && e.id === 'decoder-error');
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatchObject({ conn: 1, severity: 'error' });
    expect(faults[0].type === 'finding' && faults[0].text).toContain('in the line layer (cannot parse "item one")');
    expect(errors).toEqual([['cannot parse "item one"', { conn: 1, layer: 'line' }]]);
    // the failed connection decoded up to the fault and nothing after it
    expect(texts(events, 1)).toEqual(['client HELLO wsscope', 'client LIST', 'server OK 2 items']);
    expect(texts(events, 2)).toEqual(['client hi from 40002', 'server hello 40002']);
    expect(texts(events, 3)).toEqual(['client hi from 40003', 'server hello 40003']);
    expect(events.filter((e) => e.type === 'connection-end').map((e) => (e.type === 'connection-end' ? e.conn : 0))).toEqual([1, 2, 3]);
    expect(events[events.length - 1].type).toBe('summary');
  });

  it('lets a module registered first judge before HTTP/1.1', async () => {
    const all: ProtocolModule = { ...lineModule(), id: 'line-all', detect: () => 0 };
    const events: EngineEvent[] = [];
    await analyzeFile(capture(), (e) => events.push(e), { registry: builtinRegistry().registerFirst(all) });
    expect(texts(events, 2)[0]).toBe('client GET /chat HTTP/1.1\r');
    expect(events.some((e) => e.type === 'handshake')).toBe(false);
  });

  it('puts a module without a detector on the connections of a port named in decodeAs, in its detection slot', async () => {
    const { detect: _unused, ...forced } = lineModule();
    // first in the order, it takes every direction of the port
    const first: EngineEvent[] = [];
    await analyzeFile(capture(), (e) => first.push(e), { registry: builtinRegistry().registerFirst(forced), decodeAs: { [LINE_PORT]: 'line' } });
    expect(texts(first, 1)).toEqual(['client HELLO wsscope', 'client LIST', 'server OK 2 items', 'server item one', 'server item two', 'client QUIT']);
    expect(texts(first, 2)).toEqual(['client hi from 40002', 'server hello 40002']);
    // after HTTP/1.1 (as --ws-port is for WebSocket), a direction that starts like HTTP stays HTTP
    const last: EngineEvent[] = [];
    await analyzeFile(capture(), (e) => last.push(e), { registry: builtinRegistry().register(forced), decodeAs: { [LINE_PORT]: 'line' } });
    expect(texts(last, 1)).toEqual(['server OK 2 items', 'server item one', 'server item two']);
  });

  it('detects again inside a layer that nests: HTTP/1.1 -> WebSocket carried by another protocol, three deep', async () => {
    const events: EngineEvent[] = [];
    await analyzeFile(peeled(3), (e) => events.push(e), { registry: builtinRegistry().registerFirst(peelModule) });
    expect(events.find((e) => e.type === 'handshake')).toMatchObject({ conn: 1, status: 101, websocket: true });
    expect(texts(events, 1)).toEqual(['server welcome', 'client hi inside']);
    expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
  });

  it(`refuses to nest more than ${MAX_NESTING} deep: one decoder-error, contained to the connection`, async () => {
    const errors: InternalErrorSite[] = [];
    const events: EngineEvent[] = [];
    await analyzeFile(peeled(MAX_NESTING + 1), (e) => events.push(e), { registry: builtinRegistry().registerFirst(peelModule), onInternalError: (_e, site) => errors.push(site) });
    const faults = events.filter((e) => e.type === 'finding' && e.id === 'decoder-error');
    expect(faults).toHaveLength(1);
    expect(faults[0].type === 'finding' && faults[0].text).toContain(`protocols nested more than ${MAX_NESTING} deep`);
    expect(errors).toEqual([{ conn: 1, layer: 'peel' }]);
    expect(texts(events, 1)).toEqual([]);
    expect(events[events.length - 1].type).toBe('summary');
  });

  it('has HTTP/1.1 open the WebSocket child with what the handshake negotiated (real capture)', async () => {
    const made: Array<[number, WebSocketInit | undefined]> = [];
    const registry = builtinRegistry().register({
      ...webSocketModule,
      create: (ctx, init, meta) => {
        made.push([ctx.conn, init as WebSocketInit | undefined]);
        return webSocketModule.create(ctx, init, meta);
      },
    });
    const chat = fileURLToPath(new URL('../../resources/samples/chat.pcapng', import.meta.url));
    const events: EngineEvent[] = [];
    await analyzeFile(chat, (e) => events.push(e), { registry });
    expect(made).toEqual([
      [1, { mode: 'negotiated', deflate: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }, foreignExtensions: [], protocol: '', path: '/chat?room=lobby' }],
      [2, { mode: 'none', deflate: null, foreignExtensions: [], protocol: 'chat.v1', path: '/chat?room=lobby' }],
    ]);
    expect(events.filter((e) => e.type === 'message')).toHaveLength(19);
  });
});
