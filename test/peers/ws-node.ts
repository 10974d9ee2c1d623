/**
 * npm `ws` peer program (see ./peer.ts for the protocol):
 *   node --import tsx ws-node.ts server|client PORT deflate|plain PATH   (MESSAGES_JSON on stdin)
 * Server: echoes each message with its opcode. Client: sends MESSAGES in order, waits for as
 * many echoes, closes with 1000 "done". Logs JSON lines on stdout.
 */
import { readFileSync } from 'node:fs';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

const [role, portArg, deflateArg, path] = process.argv.slice(2);
const messagesArg = readFileSync(0, 'utf8');
const deflate = deflateArg === 'deflate';
const log = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const b64 = (d: RawData): string => (Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d as Buffer)).toString('base64');
// threshold 0: compress every message, so short test messages really carry RSV1
const pmd = deflate ? { threshold: 0 } : false;

if (role === 'server') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(portArg), perMessageDeflate: pmd });
  wss.on('listening', () => log({ ev: 'listening', port: (wss.address() as { port: number }).port }));
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      const opcode = isBinary ? 2 : 1;
      log({ ev: 'received', opcode, b64: b64(data) });
      ws.send(data, { binary: isBinary }, (e) => (e ? log({ ev: 'error', message: e.message }) : log({ ev: 'sent', opcode, b64: b64(data) })));
    });
  });
  process.on('SIGTERM', () => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => process.exit(0));
  });
} else {
  const messages = JSON.parse(messagesArg) as Array<{ opcode: number; b64: string }>;
  const ws = new WebSocket(`ws://127.0.0.1:${portArg}${path || '/'}`, { perMessageDeflate: pmd });
  let echoes = 0;
  ws.on('open', () => {
    log({ ev: 'listening', port: Number(portArg) });
    for (const m of messages) {
      const data = Buffer.from(m.b64, 'base64');
      ws.send(m.opcode === 1 ? data.toString('utf8') : data, { binary: m.opcode === 2 }, (e) => (e ? log({ ev: 'error', message: e.message }) : log({ ev: 'sent', opcode: m.opcode, b64: m.b64 })));
    }
    if (messages.length === 0) ws.close(1000, 'done');
  });
  ws.on('message', (data, isBinary) => {
    log({ ev: 'received', opcode: isBinary ? 2 : 1, b64: b64(data) });
    if (++echoes === messages.length) ws.close(1000, 'done');
  });
  // exit only once the last log line is out (stdout to a pipe is asynchronous)
  ws.on('close', () => void process.stdout.write(`${JSON.stringify({ ev: 'done' })}\n`, () => process.exit(0)));
  ws.on('error', (e) => void process.stdout.write(`${JSON.stringify({ ev: 'error', message: e.message })}\n`, () => process.exit(1)));
}
