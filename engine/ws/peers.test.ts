/**
 * Real peers: npm `ws` (and python3-websockets) talk on 127.0.0.1 through a recording TCP proxy;
 * the recorded bytes of each direction are fed to a TcpSession, which must recover exactly
 * the messages the peers sent.
 */
import { describe, it, expect } from 'vitest';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { WebSocket, WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import type { Direction, EngineEvent, FindingEvent, HandshakeEvent, MessageEvent } from '../../shared/events';
import { DEFAULT_SESSION_OPTIONS, TcpSession } from './session';

interface Chunk {
  dir: Direction;
  bytes: Uint8Array;
}

/** A proxy that forwards one connection to `target` and records what each side sent, in order. */
async function recordingProxy(targetPort: number): Promise<{ port: number; chunks: Chunk[]; closed: Promise<void>; server: Server }> {
  const chunks: Chunk[] = [];
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const server = createServer((down: Socket) => {
    const up = connect(targetPort, '127.0.0.1');
    let open = 2;
    const done = (): void => {
      if (--open === 0) resolveClosed();
    };
    down.on('data', (b: Buffer) => {
      chunks.push({ dir: 'client', bytes: new Uint8Array(b) });
      up.write(b);
    });
    up.on('data', (b: Buffer) => {
      chunks.push({ dir: 'server', bytes: new Uint8Array(b) });
      down.write(b);
    });
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    down.on('close', done);
    up.on('close', done);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, chunks, closed, server };
}

/** Feed recorded chunks to a TcpSession, optionally re-cut into pieces of `cut` bytes. */
function decode(chunks: Chunk[], cut = 0): { events: EngineEvent[]; session: TcpSession } {
  const events: EngineEvent[] = [];
  const session = new TcpSession(7, (e) => events.push(e), { frames: 0, messages: 0 }, { ...DEFAULT_SESSION_OPTIONS });
  let packet = 0;
  for (const c of chunks) {
    if (cut <= 0) {
      packet++;
      session.data(c.dir, c.bytes, 0, { ts: packet / 1000, packet });
      continue;
    }
    for (let p = 0; p < c.bytes.length; p += cut) {
      packet++;
      session.data(c.dir, c.bytes.subarray(p, p + cut), 0, { ts: packet / 1000, packet });
    }
  }
  session.end('client', 'fin', { ts: 1e6, packet: packet + 1 });
  session.end('server', 'fin', { ts: 1e6, packet: packet + 2 });
  session.finish({ ts: 1e6, packet: packet + 3 });
  expect(session.lastError).toBeNull();
  return { events, session };
}

type Sent = { kind: 'text'; v: string } | { kind: 'binary'; v: Uint8Array };

function bigBinary(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function dataMessages(events: EngineEvent[], dir: Direction): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.type === 'message' && e.dir === dir && (e.opcode === 1 || e.opcode === 2));
}

function asSent(m: MessageEvent): string {
  return m.opcode === 1 ? `text:${new TextDecoder().decode(m.data)}` : `binary:${Buffer.from(m.data).toString('hex')}`;
}

/** comparable form (deep equality over MiB-sized typed arrays is slow in vitest) */
function key(s: Sent): string {
  return s.kind === 'text' ? `text:${s.v}` : `binary:${Buffer.from(s.v).toString('hex')}`;
}

/**
 * Client sends: texts, binaries, a fragmented text (3 fragments, empty last one), a ping,
 * a 1 MiB binary. Server sends its own list plus a ping, then, once it has everything, closes
 * with 4001 + reason.
 */
async function wsExchange(pmd: false | PerMessageDeflateOptions, clientPmd: false | PerMessageDeflateOptions = pmd) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: pmd });
  await once(wss, 'listening');
  const proxy = await recordingProxy((wss.address() as AddressInfo).port);
  const clientSends: Sent[] = [
    { kind: 'text', v: 'Hello from the client' },
    { kind: 'text', v: 'Grüße, 世界 🌍'.repeat(20) },
    { kind: 'binary', v: new Uint8Array([0, 1, 2, 253, 254, 255]) },
    { kind: 'text', v: '' },
    { kind: 'binary', v: bigBinary(1024 * 1024, 1) },
    { kind: 'text', v: 'abc'.repeat(5000) },
  ];
  const fragmented = ['frag-one ', 'frag-two ', ''];
  const serverSends: Sent[] = [
    { kind: 'text', v: 'Welcome' },
    { kind: 'binary', v: bigBinary(70000, 2) },
    { kind: 'text', v: 'x'.repeat(200) },
  ];
  const expectClient = clientSends.length + 1;
  const serverGot = new Promise<void>((resolve) => {
    wss.on('connection', (sock) => {
      for (const s of serverSends) sock.send(s.v);
      sock.ping(Buffer.from('server-ping'));
      let n = 0;
      sock.on('message', () => {
        if (++n === expectClient) {
          sock.close(4001, 'done, thank you');
          resolve();
        }
      });
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/room?x=1`, { perMessageDeflate: clientPmd });
  let clientGot = 0;
  client.on('message', () => clientGot++);
  await once(client, 'open');
  client.send(clientSends[0].v);
  client.send(clientSends[1].v);
  client.ping(Buffer.from('client-ping'));
  client.send(clientSends[2].v);
  client.send(fragmented[0], { fin: false });
  client.send(fragmented[1], { fin: false });
  client.send(fragmented[2], { fin: true });
  for (const s of clientSends.slice(3)) client.send(s.v);
  const [code, reason] = (await once(client, 'close')) as [number, Buffer];
  await serverGot;
  await proxy.closed;
  proxy.server.close();
  wss.close();
  expect(code).toBe(4001);
  expect(reason.toString()).toBe('done, thank you');
  expect(clientGot).toBe(serverSends.length);
  const expectedClient: Sent[] = [clientSends[0], clientSends[1], clientSends[2], { kind: 'text', v: fragmented.join('') }, ...clientSends.slice(3)];
  return { chunks: proxy.chunks, expectedClient, serverSends };
}

function checkDecoded(events: EngineEvent[], expectedClient: Sent[], serverSends: Sent[]): void {
  const hs = events.filter((e): e is HandshakeEvent => e.type === 'handshake');
  expect(hs).toHaveLength(1);
  expect(hs[0].websocket).toBe(true);
  expect(hs[0].acceptValid).toBe(true);
  expect(hs[0].path).toBe('/room?x=1');
  expect(dataMessages(events, 'client').map(asSent)).toEqual(expectedClient.map(key));
  expect(dataMessages(events, 'server').map(asSent)).toEqual(serverSends.map(key));
  const msgs = events.filter((e): e is MessageEvent => e.type === 'message');
  const closes = msgs.filter((m) => m.opcode === 8);
  expect(closes.map((m) => [m.dir, m.code, m.reason])).toEqual([
    ['server', 4001, 'done, thank you'],
    ['client', 4001, 'done, thank you'],
  ]);
  const pings = msgs.filter((m) => m.opcode === 9).map((m) => [m.dir, new TextDecoder().decode(m.data)]);
  expect(pings.sort()).toEqual([
    ['client', 'client-ping'],
    ['server', 'server-ping'],
  ]);
  expect(msgs.filter((m) => m.opcode === 10)).toHaveLength(2);
  expect(msgs.every((m) => !m.truncated && m.utf8Valid)).toBe(true);
  const findings = events.filter((e): e is FindingEvent => e.type === 'finding');
  // ws clients send no Origin: that info finding is the only one allowed
  expect(findings.map((f) => f.id)).toEqual(['missing-origin']);
}

describe('TcpSession on traffic between real ws peers', () => {
  it('recovers every message of an uncompressed exchange, also when re-cut into 1460-byte and 7-byte pieces', async () => {
    const x = await wsExchange(false);
    checkDecoded(decode(x.chunks).events, x.expectedClient, x.serverSends);
    checkDecoded(decode(x.chunks, 1460).events, x.expectedClient, x.serverSends);
    checkDecoded(decode(x.chunks, 7).events, x.expectedClient, x.serverSends);
  });

  it('inflates permessage-deflate with context takeover in both directions', async () => {
    const x = await wsExchange({ threshold: 0 });
    const { events } = decode(x.chunks);
    checkDecoded(events, x.expectedClient, x.serverSends);
    const compressed = events.filter((e) => e.type === 'message' && e.compressed);
    expect(compressed.length).toBeGreaterThan(6);
    const hs = events.find((e): e is HandshakeEvent => e.type === 'handshake');
    expect(hs?.deflate).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
    checkDecoded(decode(x.chunks, 1000).events, x.expectedClient, x.serverSends);
  });

  it('inflates with server_no_context_takeover and client_no_context_takeover', async () => {
    const x = await wsExchange({ threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true });
    const { events } = decode(x.chunks);
    checkDecoded(events, x.expectedClient, x.serverSends);
    const hs = events.find((e): e is HandshakeEvent => e.type === 'handshake');
    expect(hs?.deflate?.serverNoContextTakeover).toBe(true);
    expect(hs?.deflate?.clientNoContextTakeover).toBe(true);
  });

  it('inflates with max_window_bits 8, 9 and 10 (context takeover)', async () => {
    for (const bits of [8, 9, 10]) {
      const x = await wsExchange({ threshold: 0, serverMaxWindowBits: bits, clientMaxWindowBits: bits });
      const { events } = decode(x.chunks);
      checkDecoded(events, x.expectedClient, x.serverSends);
      const hs = events.find((e): e is HandshakeEvent => e.type === 'handshake');
      expect(hs?.deflate?.serverMaxWindowBits).toBe(bits);
    }
  });
});

describe('TcpSession on traffic from a python3-websockets server', () => {
  it('decodes a compressed echo exchange with a python server (websockets 10, default deflate)', async () => {
    const script = [
      'import asyncio, sys, websockets',
      'async def echo(ws, path):',
      '    async for m in ws:',
      '        await ws.send(m)',
      'async def main():',
      '    async with websockets.serve(echo, "127.0.0.1", 0) as server:',
      '        print(server.sockets[0].getsockname()[1], flush=True)',
      '        await asyncio.Future()',
      'asyncio.run(main())',
    ].join('\n');
    const py = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(py.stdout, 'data')) as [Buffer];
      const port = Number(line.toString().trim());
      const proxy = await recordingProxy(port);
      const client = new WebSocket(`ws://127.0.0.1:${proxy.port}/echo`, { perMessageDeflate: { threshold: 0 } });
      await once(client, 'open');
      const sends: Sent[] = [
        { kind: 'text', v: 'echo me' },
        { kind: 'binary', v: bigBinary(100000, 3) },
        { kind: 'text', v: 'echo me '.repeat(1000) },
      ];
      let got = 0;
      const all = new Promise<void>((r) => client.on('message', () => ++got === sends.length && r()));
      for (const s of sends) client.send(s.v);
      await all;
      client.close(1000, 'bye');
      await once(client, 'close');
      await proxy.closed;
      proxy.server.close();
      const { events } = decode(proxy.chunks);
      const hs = events.find((e): e is HandshakeEvent => e.type === 'handshake');
      expect(hs?.websocket).toBe(true);
      expect(hs?.extensions).toContain('permessage-deflate');
      expect(dataMessages(events, 'client').map(asSent)).toEqual(sends.map(key));
      expect(dataMessages(events, 'server').map(asSent)).toEqual(sends.map(key));
      expect(events.filter((e) => e.type === 'message' && e.dir === 'server' && e.compressed).length).toBe(3);
      const closes = events.filter((e): e is MessageEvent => e.type === 'message' && e.opcode === 8);
      expect(closes.map((m) => [m.dir, m.code, m.reason])).toEqual([
        ['client', 1000, 'bye'],
        ['server', 1000, 'bye'],
      ]);
      const bad = events.filter((e): e is FindingEvent => e.type === 'finding' && e.severity !== 'info');
      expect(bad).toEqual([]);
    } finally {
      if (py.pid !== undefined) process.kill(py.pid);
    }
  });
});
