/**
 * Engine.IO v3 long-polling against real peers on `lo`: socket.io-client 2.5 (the devDependency
 * `socket.io-client-v2`, Engine.IO protocol 3, Socket.IO protocol 4) against the project's
 * socket.io 4 server with `allowEIO3`, captured with dumpcap through a filter on the test's
 * port. Client A (Node; its XMLHttpRequest has no binary, so its URLs say `b64=1`: text
 * `<length>:<packet>` payloads, binary as `b4` + base64) polls, sends a binary attachment, then
 * upgrades to WebSocket. Client B is the library's browser build in headless Chromium (XHR2,
 * no `b64`), polling only: its binary attachments go both ways in binary payloads
 * (`<0|1><length digits><0xff><packet>` records). The decoded `polling` events are compared
 * with what the peers' libraries logged (events, arguments, acks, attachments), the `sid` with
 * the one each client's engine holds, and the bodies with tshark's own HTTP decode of the file.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLo } from './peers/capture';
import { bothClosed, fileEvents, items, loggingIo, polls, tsharkPollingBodies } from './peers/engine-io';
import { launchChromium } from './peers/chromium';
import { SessionStore } from '../engine/store/session-store';
import { describeAppPacket } from '../shared/app';
import type { AppPacket, FindingEvent, HandshakeEvent, MessageEvent } from '../shared/events';

/** the part of socket.io-client 2.x this test uses (the package ships no types) */
interface V2Socket {
  io: { engine: { id: string; transport: { name: string }; once(ev: 'upgrade', cb: () => void): void } };
  on(ev: string, cb: (...args: unknown[]) => void): void;
  emit(ev: string, ...args: unknown[]): void;
  disconnect(): void;
}
const require = createRequire(import.meta.url);
const ioV2 = require('socket.io-client-v2') as (url: string, o: object) => V2Socket;
/** the browser build of the same package */
const BROWSER_BUILD = readFileSync(join(require.resolve('socket.io-client-v2/package.json'), '..', 'dist', 'socket.io.js'));

/** client B's page: polling only, an ack'd chat, then an upload with a binary argument; resolves with its log */
const PAGE = `<!doctype html><meta charset="utf-8"><script src="/socket.io-v2.js"></script>
<script>
window.run = () => new Promise((resolve) => {
  const log = [];
  const s = io({ transports: ['polling'], reconnection: false });
  s.on('welcome', (...a) => log.push(['welcome', ...a]));
  s.on('connect', () => {
    const sid = s.io.engine.id;
    s.emit('chat', 'h\\u00e9 there', (r) => {
      log.push(['ack', r]);
      // an ArrayBuffer: socket.io-client 2 sends a typed array as JSON, not as an attachment
      s.emit('upload', 'b.bin', new Uint8Array([1, 2, 3, 4, 5, 6]).buffer, (w, x) => {
        log.push(['ack', w, { $binary: x.byteLength }]);
        s.disconnect();
        resolve({ sid, log });
      });
    });
  });
});
</script>`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-poll3-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const connected = (c: V2Socket): Promise<void> => new Promise((resolve) => c.on('connect', () => resolve()));
const withAck = (c: V2Socket, ...args: unknown[]): Promise<unknown[]> => new Promise((resolve) => c.emit(...(args as [string]), (...r: unknown[]) => resolve(r)));
/** a packet as the peers log it: [event, ...args] or ['ack', ...args] */
const logged = (p: AppPacket): unknown[] => [p.event ?? 'ack', ...(p.args as unknown[])];

/**
 * tshark's HTTP bodies on polling URLs as `frame:bytes` of the frame that ends each (answers to
 * POSTs, `ok`, left out; bytes: Content-Length, which both peers send), and the frames of
 * those whose Content-Type is application/octet-stream (the v3 binary payload form)
 */
function tsharkBodies(file: string): { bodies: string[]; binary: string[] } {
  const bodies = tsharkPollingBodies(file, ['http.content_length', 'http.content_type']).filter((r) => r[1] !== '' && r[1] !== '0');
  return { bodies: bodies.map((r) => `${r[0]}:${r[1]}`), binary: bodies.filter((r) => r[2] === 'application/octet-stream').map((r) => r[0]) };
}

describe('Engine.IO v3 long-polling decoded from real socket.io-client 2 sessions on lo', () => {
  it('text and binary v3 payloads match what the peers logged, and the sid ties polling to the upgraded WebSocket', async () => {
    const http = createServer((req, res) => {
      const js = req.url === '/socket.io-v2.js';
      res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html; charset=utf-8' });
      res.end(js ? BROWSER_BUILD : PAGE);
    });
    const { server, serverLog } = loggingIo(http, ['h\u00e9llo', 1], { allowEIO3: true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const file = join(dir, 'polling-v3.pcapng');
    const live = await captureLo({ backend: 'dumpcap', port, file });
    const browser = await launchChromium();
    const logs: Record<string, unknown[][]> = {};
    let upgraded = '';
    let xhr2 = '';
    try {
      // A: Node, polling then the upgrade; its upload goes by polling (base64) before it
      const a = ioV2(`http://127.0.0.1:${port}`, { reconnection: false });
      const welcome = new Promise<unknown[]>((resolve) => a.on('welcome', (...args: unknown[]) => resolve(args)));
      await connected(a);
      upgraded = a.io.engine.id;
      const aLog: unknown[][] = (logs[upgraded] = []);
      aLog.push(['welcome', ...(await welcome)]);
      const [word, bin] = (await withAck(a, 'upload', 'a.bin', Buffer.from([1, 2, 3, 4, 5]))) as [string, Uint8Array];
      aLog.push(['ack', word, { $binary: bin.byteLength }]);
      if (a.io.engine.transport.name !== 'websocket') await new Promise<void>((resolve) => a.io.engine.once('upgrade', () => resolve()));
      aLog.push(['ack', ...(await withAck(a, 'chat', 'after the upgrade'))]);
      a.disconnect();
      // B: Chromium, XHR2 polling only
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      const b = await page.evaluate(() => (globalThis as unknown as { run(): Promise<{ sid: string; log: unknown[][] }> }).run());
      xhr2 = b.sid;
      logs[xhr2] = b.log;
      await live.until(bothClosed(() => xhr2), 'both sessions closed');
    } finally {
      await browser.close();
      await live.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const events = await fileEvents(file, live.events);
    expect(events.filter((e): e is FindingEvent => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
    for (const e of polls(events)) {
      expect(e.path).toMatch(/[?&]EIO=3&/);
      expect([upgraded, xhr2]).toContain(e.sid);
      expect(e.truncated).toBe(false);
    }
    // the two payload forms were both on the wire: A's URLs ask for base64, B's do not
    expect(polls(events).filter((e) => e.sid === upgraded && !/[?&]b64=1/.test(e.path))).toEqual([]);
    expect(polls(events).filter((e) => e.sid === xhr2 && /[?&]b64=1/.test(e.path))).toEqual([]);

    // the sid: each handshake's open packet, the WebSocket of A's upgrade
    expect(items(events, upgraded, 'server', 'open')).toHaveLength(1);
    expect(items(events, xhr2, 'server', 'open')).toHaveLength(1);
    const hs = events.filter((e): e is HandshakeEvent => e.type === 'handshake');
    expect(hs.map((h) => [h.sid, h.websocket])).toEqual([[upgraded, true]]);
    const wsApp = events.filter((e): e is MessageEvent => e.type === 'message' && e.conn === hs[0].conn).flatMap((m) => m.app ?? []);
    expect(wsApp.slice(0, 3).map((p) => [p.type, p.data])).toEqual([
      ['ping', 'probe'],
      ['pong', 'probe'],
      ['upgrade', undefined],
    ]);

    // the session's packets, by polling and (A) over the WebSocket: a packet may start on one
    // and complete on the other (A's upload: announced in a POST, its attachment sent once upgraded)
    const wsMsgs = events.filter((e): e is MessageEvent => e.type === 'message' && e.conn === hs[0].conn);
    const session = (sid: string, dir: 'client' | 'server', types: string[]): AppPacket[] => [...items(events, sid, dir), ...(sid === upgraded ? wsMsgs.filter((m) => m.dir === dir).flatMap((m) => m.app ?? []) : [])].filter((p) => types.includes(p.type));
    for (const sid of [upgraded, xhr2]) {
      expect(session(sid, 'client', ['EVENT', 'BINARY_EVENT']).map(logged)).toEqual(serverLog[sid]);
      const got = session(sid, 'server', ['EVENT', 'ACK', 'BINARY_ACK']);
      expect(got.map(logged)).toEqual(logs[sid]);
      // every ack paired with its request, across the requests and the upgrade
      for (const p of got.filter((x) => x.type !== 'EVENT')) expect(p.latencyMs).toBeGreaterThan(0);
      // the attachments: the upload's 5 (A) or 6 (B) bytes up, the ack's 3 down
      expect(session(sid, 'client', ['attachment'])).toEqual([{ protocol: 'socket.io', type: 'attachment', num: 0, length: sid === upgraded ? 5 : 6 }]);
      expect(session(sid, 'server', ['attachment'])).toEqual([{ protocol: 'socket.io', type: 'attachment', num: 0, length: 3 }]);
    }

    // the session store serves the session on the upgraded WebSocket (the handshake pane's Engine.IO view)
    const store = new SessionStore(1);
    for (const e of events) store.ingest(e);
    const aBodies = polls(events).filter((e) => e.sid === upgraded);
    expect(store.engineIoSession(hs[0].conn)).toEqual({
      sid: upgraded,
      eio: 3,
      conn: hs[0].conn,
      upgradeTs: hs[0].ts,
      total: aBodies.length,
      beforeUpgrade: aBodies.filter((e) => e.ts < hs[0].ts).length,
      first: aBodies[0].ts,
      last: aBodies[aBodies.length - 1].ts,
      conns: [...new Set(aBodies.map((e) => e.conn))],
      bodies: aBodies.map((e) => ({ conn: e.conn, dir: e.dir, ts: e.ts, packet: e.packet, method: e.method, length: e.length, truncated: false, packets: e.app.map(describeAppPacket), packetCount: e.app.length })),
    });
    expect(store.engineIoSession(hs[0].conn)?.bodies[0].packets).toEqual([`open sid=${upgraded}`]);
    // B never upgraded: its polling connections name no session of their own
    for (const c of new Set(polls(events).filter((e) => e.sid === xhr2).map((e) => e.conn))) expect(store.engineIoSession(c)).toBeNull();
    store.close();

    // tshark, independently: the same bodies end in the same frames with the same lengths, and
    // B's binary attachments went both ways in binary payloads
    const ts = tsharkBodies(file);
    expect(polls(events).map((e) => `${e.packet}:${e.length}`).sort()).toEqual(ts.bodies.sort());
    const binary = polls(events).filter((e) => ts.binary.includes(String(e.packet)));
    expect(binary.map((e) => [e.sid, e.dir, e.app.map((p) => p.type)])).toEqual([
      [xhr2, 'client', ['attachment', 'BINARY_EVENT']],
      [xhr2, 'server', ['attachment', 'BINARY_ACK']],
    ]);
  }, 60_000);
});
