/**
 * Records the bundled samples (resources/samples/README.md) from real peers on 127.0.0.1,
 * captured by Wireshark's dumpcap on `lo`:
 *
 *   npx tsx scripts/record-sample.ts [chat] [OUT]   chat.pcapng: npm `ws` peers. Two
 *     connections: one with permessage-deflate (context takeover), one plain with a
 *     subprotocol, covering text, JSON, binary, a fragmented message with a ping between
 *     fragments, and close codes.
 *   npx tsx scripts/record-sample.ts wss            wss.pcapng + wss.keys: the same kind of
 *     conversation over TLS 1.3 (Node `https` + `ws`), with the key log the server's TLS
 *     stack wrote (Node's `keylog` event).
 *   npx tsx scripts/record-sample.ts h2             h2.pcapng: WebSockets over HTTP/2 over
 *     TLS (RFC 8441; Node's http2 secure server and client, test/peers/h2-websocket.ts), the
 *     key log embedded as a pcapng Decryption Secrets Block (`editcap --inject-secrets`), so
 *     the file decrypts alone.
 *
 * Run as root, or with dumpcap capabilities. The certificates are throwaway, made for the run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import { selfSigned } from '../test/peers/tls';
import { connectH2, startH2Server } from '../test/peers/h2-websocket';

const SAMPLES = 'resources/samples';

/** dumpcap on lo for one port; `stop()` ends it once everything was written */
async function startDump(port: number, out: string): Promise<{ stop(): Promise<string> }> {
  const dump = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `tcp port ${port}`, '-w', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  dump.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // dumpcap prints "Capturing on 'Loopback: lo'" once it is capturing
  for (let i = 0; i < 100 && !err.includes('Capturing on'); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300));
      dump.kill('SIGINT');
      await once(dump, 'exit');
      return err;
    },
  };
}

/** the echo server of the ws samples: `bye` closes with 1000 "see you" */
function echo(wss: WebSocketServer): void {
  wss.on('connection', (sock) => {
    sock.on('message', (data, isBinary) => {
      const s = isBinary ? null : data.toString();
      if (s === 'bye') sock.close(1000, 'see you');
      else sock.send(isBinary ? data : `echo: ${s}`, { binary: isBinary });
    });
  });
}

async function chat(out: string): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 }, handleProtocols: (p) => (p.has('chat.v1') ? 'chat.v1' : false) });
  await once(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  echo(wss);
  const dump = await startDump(port, out);

  async function session(opts: { deflate: boolean; protocol?: string }, script: (ws: WebSocket) => Promise<void>): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat?room=lobby`, opts.protocol ? [opts.protocol] : [], { perMessageDeflate: opts.deflate, origin: 'http://localhost:5173' });
    await once(ws, 'open');
    await script(ws);
    if (ws.readyState !== WebSocket.CLOSED) await once(ws, 'close');
  }
  const reply = (ws: WebSocket): Promise<unknown> => once(ws, 'message');

  await session({ deflate: true }, async (ws) => {
    ws.send('Hello, wsscope!');
    await reply(ws);
    ws.send(JSON.stringify({ type: 'join', user: 'ada', rooms: ['lobby', 'dev'], ts: 1700000000 }));
    await reply(ws);
    ws.send(JSON.stringify({ type: 'join', user: 'ada', rooms: ['lobby', 'dev'], ts: 1700000001 }));
    await reply(ws);
    ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]), { binary: true });
    await reply(ws);
    ws.send('bye');
  });
  await session({ deflate: false, protocol: 'chat.v1' }, async (ws) => {
    ws.send('part one, ', { fin: false });
    ws.ping('are you there?');
    ws.send('part two', { fin: true });
    await reply(ws);
    ws.send('x'.repeat(70000));
    await reply(ws);
    ws.close(4001, 'custom application code');
  });
  const err = await dump.stop();
  wss.close();
  process.stdout.write(`wrote ${out}\n${err}`);
}

async function wssSample(): Promise<void> {
  const out = join(SAMPLES, 'wss.pcapng');
  const keysOut = join(SAMPLES, 'wss.keys');
  const tmp = mkdtempSync(join(tmpdir(), 'wsscope-sample-'));
  const cert = selfSigned(tmp);
  const keylog: string[] = [];
  const https = createServer({ ...cert, minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'] });
  https.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
  const wss = new WebSocketServer({ server: https, perMessageDeflate: { threshold: 0 } });
  echo(wss);
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  const port = (https.address() as { port: number }).port;
  const dump = await startDump(port, out);
  const ws = new WebSocket(`wss://localhost:${port}/live?feed=prices`, { rejectUnauthorized: false, perMessageDeflate: true, origin: 'https://localhost:5173', lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) });
  await once(ws, 'open');
  const reply = (): Promise<unknown> => once(ws, 'message');
  ws.send(JSON.stringify({ op: 'subscribe', symbols: ['BTC-USD', 'ETH-USD'] }));
  await reply();
  ws.send('Hello over TLS 1.3!');
  await reply();
  ws.send(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4]), { binary: true });
  await reply();
  ws.send('bye');
  await once(ws, 'close');
  const err = await dump.stop();
  wss.close();
  https.close();
  writeFileSync(keysOut, `# TLS secrets of the sessions in wss.pcapng (a throwaway sample: see README.md)\n${keylog.join('')}`);
  rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`wrote ${out} and ${keysOut}\n${err}`);
}

async function h2Sample(): Promise<void> {
  const out = join(SAMPLES, 'h2.pcapng');
  const tmp = mkdtempSync(join(tmpdir(), 'wsscope-sample-'));
  const server = await startH2Server({ tls: selfSigned(tmp), body: 'plain HTTP/2 response' });
  const raw = join(tmp, 'h2-raw.pcapng');
  const dump = await startDump(server.port, raw);
  const client = await connectH2(server.port, { tls: true });
  const chat = await client.webSocket('/chat', { deflate: true, protocol: 'chat.v1' });
  const sChat = await server.accepted();
  const feed = await client.webSocket('/feed');
  const sFeed = await server.accepted();
  await chat.send('Hello over HTTP/2!');
  await sChat.send('welcome to /chat');
  await sFeed.send(JSON.stringify({ tick: 1, price: 64210.5 }));
  await client.get('/status');
  await feed.send(new Uint8Array([1, 2, 3, 4]));
  await sFeed.send(JSON.stringify({ tick: 2, price: 64211 }));
  const closed = Promise.all([once(chat.ws, 'close'), once(sChat.ws, 'close'), once(feed.ws, 'close'), once(sFeed.ws, 'close')]);
  chat.ws.close(1000, 'done');
  sFeed.ws.close(4000, 'feed over');
  await closed;
  await client.close();
  await server.close();
  const err = await dump.stop();
  const keys = join(tmp, 'h2.keys');
  writeFileSync(keys, server.keylog());
  execFileSync('editcap', ['--inject-secrets', `tls,${keys}`, raw, out]);
  rmSync(tmp, { recursive: true, force: true });
  process.stdout.write(`wrote ${out}\n${err}`);
}

async function main(): Promise<void> {
  const what = process.argv[2] ?? 'chat';
  if (what === 'wss') return wssSample();
  if (what === 'h2') return h2Sample();
  return chat(what === 'chat' ? (process.argv[3] ?? join(SAMPLES, 'chat.pcapng')) : what);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
