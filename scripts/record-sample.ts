/**
 * Records resources/samples/chat.pcapng: a real conversation between npm `ws` peers on
 * 127.0.0.1, captured by Wireshark's dumpcap on `lo`. Two connections: one with
 * permessage-deflate (context takeover), one plain with a subprotocol, covering text, JSON,
 * binary, a fragmented message with a ping between fragments, and close codes.
 * Run: npx tsx scripts/record-sample.ts [OUT]   (as root, or with dumpcap capabilities)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { WebSocketServer, WebSocket } from 'ws';

const out = process.argv[2] ?? 'resources/samples/chat.pcapng';

async function main(): Promise<void> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 }, handleProtocols: (p) => (p.has('chat.v1') ? 'chat.v1' : false) });
  await once(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  wss.on('connection', (sock) => {
    sock.on('message', (data, isBinary) => {
      const s = isBinary ? null : data.toString();
      if (s === 'bye') sock.close(1000, 'see you');
      else sock.send(isBinary ? data : `echo: ${s}`, { binary: isBinary });
    });
  });
  const dump = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `tcp port ${port}`, '-w', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  dump.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // dumpcap prints "Capturing on 'Loopback: lo'" once it is capturing
  for (let i = 0; i < 100 && !err.includes('Capturing on'); i++) await new Promise((r) => setTimeout(r, 50));

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
  await new Promise((r) => setTimeout(r, 300));
  dump.kill('SIGINT');
  await once(dump, 'exit');
  wss.close();
  process.stdout.write(`wrote ${out}\n${err}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
