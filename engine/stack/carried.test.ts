import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Conv, ascii, pcap, type Rec } from '../../test/kit/capture';
import { cf, sf } from '../../test/kit/websocket';
import { analyzeFile } from '../analyze';
import type { EngineEvent } from '../../shared/events';
import type { CarriedConnection, ProtocolModule } from './layer';
import { DETECT_MORE, DETECT_NO } from './layer';
import { builtinRegistry } from './registry';
import type { WebSocketInit } from '../ws/ws-layer';

const tmp = mkdtempSync(join(tmpdir(), 'wsscope-carried-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MUX_PORT = 7778;
const WS: WebSocketInit = { mode: 'none', deflate: null, foreignExtensions: [], protocol: '' };

/**
 * A toy multiplexer, the smallest layer that carries connections: after "MUX\n" from the
 * client, every byte (both ways) belongs to one carried connection whose WebSocket layer
 * this layer opens itself (as HTTP/2 does for an RFC 8441 stream).
 */
const muxModule: ProtocolModule = {
  id: 'mux',
  claimsConnection: true,
  detect: (bytes, dir, view) => {
    if (view.serverPort !== MUX_PORT) return DETECT_NO;
    if (dir === 'server') return 0;
    const head = ascii('MUX\n');
    for (let i = 0; i < Math.min(bytes.length, 4); i++) if (bytes[i] !== head[i]) return DETECT_NO;
    return bytes.length < 4 ? DETECT_MORE : 0;
  },
  create: (ctx, _init, meta) => {
    let carried: CarriedConnection | null = null;
    // the client's "MUX\n" is the multiplexer's own, not the carried connection's
    let head = 4;
    const inner = (): CarriedConnection => {
      if (carried) return carried;
      carried = ctx.openConnection({ http2: true, h2Stream: 7 }, meta);
      const ws = carried.ctx.openChild('websocket', WS, meta);
      for (const d of ['client', 'server'] as const) carried.ctx.handOff(ws, d, ws.open(d, false), 'websocket');
      return carried;
    };
    return {
      open: (dir) => ({
        push: (b, skip, m) => {
          // a bug in the carrier, for the containment test
          if (Buffer.from(b).toString('latin1') === 'BOOM') throw new Error('mux bug');
          const cut = dir === 'client' ? Math.min(head, b.length) : 0;
          if (dir === 'client') head -= cut;
          if (cut < b.length) inner()[dir].push(b.subarray(cut), skip, m);
        },
        end: (r, m) => inner()[dir].end(r, m),
      }),
      finish: (m) => inner().close('eof', m),
    };
  },
};

describe('connections carried inside a connection (LayerContext.openConnection)', () => {
  it('take their ids from the pipeline counter, announce the endpoints and their parent, and have findings and an end of their own', async () => {
    const recs: Rec[] = [];
    const mux = new Conv({ clientPort: 40010, serverPort: MUX_PORT }).open();
    mux.send('c', ascii('MUX\n'));
    mux.send('c', cf(1, 'inside'), 3);
    mux.send('s', sf(1, 'back'));
    // a server frame masked and 126 bytes of ping: findings on the carried connection only
    mux.send('s', cf(9, 'x'.repeat(126)));
    mux.close();
    recs.push(...mux.recs);
    const ws = new Conv({ clientPort: 40011, t0: mux.t + 1 }).upgrade();
    ws.send('c', cf(1, 'plain'));
    ws.close();
    recs.push(...ws.recs);
    const file = join(tmp, 'mux.pcap');
    writeFileSync(file, pcap(recs, { linkType: 1 }));

    const events: EngineEvent[] = [];
    const summary = await analyzeFile(file, (e) => events.push(e), { registry: builtinRegistry().registerFirst(muxModule) });
    expect(events.filter((e) => e.type === 'connection')).toMatchObject([
      { id: 1, server: `127.0.0.1:${MUX_PORT}` },
      { id: 2, server: `127.0.0.1:${MUX_PORT}`, client: '127.0.0.1:40010', parent: 1, http2: true, h2Stream: 7 },
      { id: 3, server: '127.0.0.1:8080' },
    ]);
    expect(summary.connections).toBe(3);
    const msgs = events.flatMap((e) => (e.type === 'message' && e.opcode === 1 ? [`${e.conn} ${e.dir} ${Buffer.from(e.data).toString()}`] : []));
    expect(msgs).toEqual(['2 client inside', '2 server back', '3 client plain']);
    expect(events.filter((e) => e.type === 'finding').map((e) => e.type === 'finding' && `${e.conn} ${e.id}`)).toEqual(['2 masked-server-frame', '2 control-frame-too-long']);
    const ends = events.filter((e) => e.type === 'connection-end').map((e) => e.type === 'connection-end' && e.conn);
    expect(ends).toContain(2);
    expect(ends.indexOf(2)).toBeLessThan(ends.indexOf(1));
  });

  it('end when their carrier fails: the carrier gets the decoder-error, the carried connection its end', async () => {
    const mux = new Conv({ clientPort: 40012, serverPort: MUX_PORT }).open();
    mux.send('c', ascii('MUX\n'));
    mux.send('c', cf(1, 'before the bug'));
    mux.send('s', ascii('BOOM'));
    mux.send('c', cf(1, 'after the bug'));
    mux.close();
    const file = join(tmp, 'mux-fail.pcap');
    writeFileSync(file, pcap(mux.recs, { linkType: 1 }));
    const events: EngineEvent[] = [];
    const errors: string[] = [];
    await analyzeFile(file, (e) => events.push(e), { registry: builtinRegistry().registerFirst(muxModule), onInternalError: (_e, site) => errors.push(`${site.conn} ${site.layer}`) });
    expect(errors).toEqual(['1 mux']);
    expect(events.filter((e) => e.type === 'message').map((e) => e.type === 'message' && `${e.conn} ${Buffer.from(e.data).toString()}`)).toEqual(['2 before the bug']);
    expect(events.filter((e) => e.type === 'finding')).toMatchObject([{ conn: 1, id: 'decoder-error' }]);
    expect(events.filter((e) => e.type === 'connection-end')).toMatchObject([
      { conn: 2, reason: 'eof' },
      { conn: 1, reason: 'fin' },
    ]);
  });
});
