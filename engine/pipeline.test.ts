import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Conv, pcap } from '../test/kit/capture';
import { cf, sf } from '../test/kit/websocket';
import { analyzeFile } from './pipeline';
import { builtinRegistry, type ModuleRegistry } from './stack/registry';
import type { Layer, LayerContext } from './stack/layer';
import { webSocketModule } from './ws/ws-layer';
import type { EngineEvent } from '../shared/events';
import { PUBLIC_CAPTURES as PUB } from '../test/kit/paths';

/** the built-in modules, with each connection's WebSocket layer passed through `wrap` */
function wrappedWebSocket(wrap: (layer: Layer, ctx: LayerContext) => Layer): ModuleRegistry {
  return builtinRegistry().register({ ...webSocketModule, create: (ctx, init, meta) => wrap(webSocketModule.create(ctx, init, meta), ctx) });
}

describe('pipeline', () => {
  it('keeps decoding the other connections when one connection decoder throws', async () => {
    const events: EngineEvent[] = [];
    // wstunnel-ssh holds two WebSocket connections; the decoder of the first one breaks
    await analyzeFile(join(PUB, 'zeek__wstunnel-ssh.pcap'), (e) => events.push(e), {
      registry: wrappedWebSocket((layer, ctx) => {
        if (ctx.conn !== 1) return layer;
        let calls = 0;
        return {
          finish: (meta) => layer.finish(meta),
          open: (dir, resync) => {
            const s = layer.open(dir, resync);
            return {
              push: (bytes, skip, meta) => {
                if (++calls === 3) throw new Error('boom');
                s.push(bytes, skip, meta);
              },
              end: (reason, meta) => s.end(reason, meta),
            };
          },
        };
      }),
    });
    const err = events.find((e) => e.type === 'finding' && e.id === 'decoder-error');
    expect(err && err.type === 'finding' && err.conn).toBe(1);
    expect(err && err.type === 'finding' && err.text).toContain('in the websocket layer (boom)');
    expect(events.filter((e) => e.type === 'finding' && e.id === 'decoder-error')).toHaveLength(1);
    const wsConns = new Set(events.filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? e.conn : 0)));
    expect(wsConns.size).toBeGreaterThanOrEqual(1);
    expect([...wsConns].some((c) => c !== 1)).toBe(true);
    expect(events[events.length - 1].type).toBe('summary');
  });

  it('starts a new connection when a SYN with a new sequence number reuses a finished 4-tuple', async () => {
    const first = new Conv({ isnC: 1000, isnS: 5000 }).upgrade();
    first.send('c', cf(1, 'first'));
    first.close();
    const second = new Conv({ isnC: 900_000, isnS: 7_000_000, t0: first.t + 1_000_000 }).upgrade();
    second.send('c', cf(1, 'second'));
    second.close();
    const file = join(mkdtempSync(join(tmpdir(), 'wsscope-pipe-')), 'reuse.pcap');
    writeFileSync(file, pcap([...first.recs, ...second.recs], { linkType: first.linkType }));
    const events: EngineEvent[] = [];
    await analyzeFile(file, (e) => events.push(e));
    const conns = events.filter((e) => e.type === 'connection');
    expect(conns.map((c) => c.type === 'connection' && [c.id, c.client, c.server, c.roleBy])).toEqual([
      [1, '127.0.0.1:54321', '127.0.0.1:8080', 'syn'],
      [2, '127.0.0.1:54321', '127.0.0.1:8080', 'syn'],
    ]);
    const msgs = events.flatMap((e) => (e.type === 'message' ? [[e.conn, Buffer.from(e.data).toString()]] : []));
    expect(msgs).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
    expect(events.filter((e) => e.type === 'handshake')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
  });

  it('infers the client without a SYN from the HTTP request, and from masking', async () => {
    const c = new Conv({ clientPort: 40000, serverPort: 50000 }).upgrade();
    c.send('c', cf(1, 'hi'));
    // drop the TCP handshake: the pickup starts with the request, sent by the lower port
    const file = join(mkdtempSync(join(tmpdir(), 'wsscope-pipe-')), 'nosyn.pcap');
    writeFileSync(file, pcap(c.recs.slice(3), { linkType: c.linkType }));
    const events: EngineEvent[] = [];
    await analyzeFile(file, (e) => events.push(e));
    const conn = events.find((e) => e.type === 'connection');
    expect(conn && conn.type === 'connection' && [conn.client, conn.roleBy]).toEqual(['127.0.0.1:40000', 'http']);

    const m = new Conv({ clientPort: 40000, serverPort: 50000 });
    m.send('s', sf(1, 'from server'));
    m.send('c', cf(1, 'from client'));
    const file2 = join(mkdtempSync(join(tmpdir(), 'wsscope-pipe-')), 'mask.pcap');
    writeFileSync(file2, pcap(m.recs, { linkType: m.linkType }));
    const ev2: EngineEvent[] = [];
    await analyzeFile(file2, (e) => ev2.push(e), { wsPorts: [50000] });
    const conn2 = ev2.find((e) => e.type === 'connection');
    expect(conn2 && conn2.type === 'connection' && [conn2.client, conn2.roleBy]).toEqual(['127.0.0.1:40000', 'mask']);
    expect(ev2.filter((e) => e.type === 'finding' && (e.id === 'unmasked-client-frame' || e.id === 'masked-server-frame'))).toEqual([]);
  });

  it('keeps total reassembly memory under its budget by declaring the oldest hole lost', async () => {
    const recs = [];
    for (let i = 0; i < 4; i++) {
      const c = new Conv({ clientPort: 41000 + i, t0: 1_700_000_000_000_000 + i * 10 });
      c.upgrade();
      const lost = c.send('c', cf(2, new Uint8Array(1000).fill(i)), 500); // 3 segments
      c.recs.splice(c.recs.indexOf(lost[0]), 1); // the first one is lost
      for (let k = 0; k < 8; k++) c.send('c', cf(1, `after ${k} `.padEnd(600, '.')), 700);
      recs.push(...c.recs);
    }
    recs.sort((a, b) => a.tsUs - b.tsUs);
    const file = join(mkdtempSync(join(tmpdir(), 'wsscope-pipe-')), 'holes.pcap');
    writeFileSync(file, pcap(recs, { linkType: 1 }));
    const events: EngineEvent[] = [];
    await analyzeFile(file, (e) => events.push(e), { maxTotalBufferedBytes: 8000 });
    const limits = events.filter((e) => e.type === 'finding' && e.id === 'limit-reached');
    expect(limits.length).toBeGreaterThan(0);
    const gaps = events.filter((e) => e.type === 'finding' && e.id === 'tcp-gap');
    expect(new Set(gaps.map((g) => (g.type === 'finding' ? g.conn : 0))).size).toBe(4);
    // after the declared loss, each connection decodes the frames that follow the damaged one
    for (let conn = 1; conn <= 4; conn++) {
      const texts = events.filter((e) => e.type === 'message' && e.conn === conn && e.opcode === 1);
      expect(texts.length, `conn ${conn}`).toBeGreaterThanOrEqual(7);
    }
  });

  it('contains a failure to even create a layer to that connection', async () => {
    const events: EngineEvent[] = [];
    await analyzeFile(join(PUB, 'zeek__wstunnel-ssh.pcap'), (e) => events.push(e), {
      registry: wrappedWebSocket((layer, ctx) => {
        if (ctx.conn === 1) throw new Error('no decoder for you');
        return layer;
      }),
    });
    const errs = events.filter((e) => e.type === 'finding' && e.id === 'decoder-error');
    expect(errs).toHaveLength(1);
    expect(errs[0].type === 'finding' && errs[0].conn).toBe(1);
    expect(errs[0].type === 'finding' && errs[0].text).toContain('in the websocket layer (no decoder for you)');
    expect(events.some((e) => e.type === 'message' && e.conn !== 1)).toBe(true);
    expect(events[events.length - 1].type).toBe('summary');
  });

  it('declares a hole lost after gapTimeoutSeconds of capture time (live mode), not at the end', async () => {
    const held = new Conv({ clientPort: 42001 }).upgrade();
    const lost = held.send('c', cf(1, 'x'.repeat(900)), 500); // 2 segments
    held.recs.splice(held.recs.indexOf(lost[0]), 1);
    held.send('c', cf(1, 'after the hole'));
    const later = new Conv({ clientPort: 42002, t0: held.t + 3_000_000 }).upgrade();
    later.send('c', cf(1, 'three seconds later'));
    const file = join(mkdtempSync(join(tmpdir(), 'wsscope-pipe-')), 'stall.pcap');
    writeFileSync(file, pcap([...held.recs, ...later.recs], { linkType: 1 }));
    const order = async (gapTimeoutSeconds: number): Promise<string[]> => {
      const out: string[] = [];
      await analyzeFile(file, (e) => {
        if (e.type === 'message') out.push(Buffer.from(e.data).toString());
      }, { gapTimeoutSeconds });
      return out;
    };
    // live: the message behind the hole shows up when the timeout passes, before later traffic
    expect(await order(1)).toEqual(['after the hole', 'three seconds later']);
    // files: it waits for a retransmission until the end of the capture
    expect(await order(Infinity)).toEqual(['three seconds later', 'after the hole']);
  });

  it('lets go of a connection decoder when both directions end, and forgets the flow 60 s later', async () => {
    const c = new Conv({ clientPort: 43001 }).upgrade();
    c.send('c', cf(1, 'hello'));
    const dataRec = c.recs[c.recs.length - 1];
    c.close();
    const endPacket = c.recs.length;
    // a copy of the data segment 30 s later (a late retransmission) still belongs to it...
    const late1 = { ...dataRec, tsUs: c.t + 30_000_000 };
    // ...one 100 s later no longer does: it is a new (mid-stream) connection
    const late2 = { ...dataRec, tsUs: c.t + 100_000_000 };
    const file = join(mkdtempSync(join(tmpdir(), 'wsscope-pipe-')), 'ended.pcap');
    writeFileSync(file, pcap([...c.recs, late1, late2], { linkType: c.linkType }));
    const finishedAt: Array<[number, number]> = [];
    const events: EngineEvent[] = [];
    await analyzeFile(file, (e) => events.push(e), {
      wsPorts: [8080],
      registry: wrappedWebSocket((layer, ctx) => ({
        open: (dir, resync) => layer.open(dir, resync),
        finish: (m) => {
          finishedAt.push([ctx.conn, m.packet]);
          layer.finish(m);
        },
      })),
    });
    // the first connection's decoder was finished when its last FIN arrived, not at the end
    expect(finishedAt[0]).toEqual([1, endPacket - 1]);
    expect(events.filter((e) => e.type === 'connection').map((e) => (e.type === 'connection' ? e.id : 0))).toEqual([1, 2]);
    const second = events.find((e) => e.type === 'connection' && e.id === 2);
    expect(second && second.type === 'connection' && second.packet).toBe(endPacket + 2);
  });
});
