/**
 * Headless Chromium as a browser WebSocket client (see ./peer.ts for the `Peer` shape).
 *
 *   const browser = await startChromiumClient({ port: server.port, messages: ['hi', bytes] });
 *   await browser.done; // every echo received, close handshake done
 *   await browser.stop();
 *
 * A local HTTP server (127.0.0.1, its own port, so a `tcp port WS` filter leaves it out)
 * serves one page whose script opens `new WebSocket('ws://127.0.0.1:PORT/')`, sends the
 * messages in order, waits for as many echoes and closes with 1000 "done". The page reports
 * through a binding into this process. Chromium is /usr/bin/chromium driven by playwright-core.
 * With `keylogFile` the page opens `wss://` instead, and Chromium writes its TLS secrets to
 * that file (`--ssl-key-log-file`) and takes the test's self-signed certificate
 * (`--ignore-certificate-errors`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { PeerLog, encodeMessages, type Peer } from './peer';

export const CHROMIUM = '/usr/bin/chromium';
/** Debian's Chromium headless, as root, on a machine with no network beyond loopback. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launch Debian's Chromium through playwright-core (the one place the flags live). */
export function launchChromium(o: { timeoutMs?: number; args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...(o.args ?? [])], timeout: o.timeoutMs });
}

const PAGE = (port: number, messagesJson: string, path: string, scheme: string): string => `<!doctype html>
<meta charset="utf-8"><title>wsscope peer</title>
<script>
const messages = ${messagesJson.replace(/</g, '\\u003c')};
const b64 = (u8) => { let s = ''; for (const b of u8) s += String.fromCharCode(b); return btoa(s); };
const bytes = (m) => Uint8Array.from(atob(m.b64), (c) => c.charCodeAt(0));
const ws = new WebSocket('${scheme}://127.0.0.1:${port}${path}');
ws.binaryType = 'arraybuffer';
let echoes = 0;
ws.onopen = () => {
  window.peerLog({ ev: 'listening', port: ${port} });
  for (const m of messages) {
    const data = bytes(m);
    ws.send(m.opcode === 1 ? new TextDecoder().decode(data) : data);
    window.peerLog({ ev: 'sent', opcode: m.opcode, b64: m.b64 });
  }
  if (!messages.length) ws.close(1000, 'done');
};
ws.onmessage = (e) => {
  const text = typeof e.data === 'string';
  window.peerLog({ ev: 'received', opcode: text ? 1 : 2, b64: b64(text ? new TextEncoder().encode(e.data) : new Uint8Array(e.data)) });
  if (++echoes === messages.length) ws.close(1000, 'done');
};
ws.onclose = () => window.peerLog({ ev: 'done' });
ws.onerror = () => window.peerLog({ ev: 'error', message: 'websocket error' });
</script>`;

export interface ChromiumOptions {
  /** WebSocket server port on 127.0.0.1 */
  port: number;
  messages: Array<string | Uint8Array>;
  path?: string;
  timeoutMs?: number;
  /** wss://: Chromium writes its TLS secrets to this file (--ssl-key-log-file) and accepts any certificate */
  keylogFile?: string;
  /**
   * Serve the page from the test's own server instead of a local HTTP one: `set` gets the
   * page's HTML, Chromium loads `url` (e.g. an HTTPS HTTP/2 server that also takes the WebSocket)
   */
  page?: { url: string; set(html: string): void };
}

export async function startChromiumClient(o: ChromiumOptions): Promise<Peer> {
  const html = PAGE(o.port, encodeMessages(o.messages), o.path ?? '/', o.keylogFile === undefined ? 'ws' : 'wss');
  let http: Server | null = null;
  let httpPort = o.port;
  if (o.page) o.page.set(html);
  else {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    });
    http = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    httpPort = (server.address() as { port: number }).port;
  }
  let browser: Browser | null = null;
  const closeAll = async (): Promise<void> => {
    await browser?.close().catch(() => {});
    browser = null;
    if (http) await new Promise<void>((r) => http!.close(() => r()));
    http = null;
  };
  const log = new PeerLog();
  const { sent, received } = log;
  let resolveDone!: () => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => {});
  try {
    browser = await launchChromium({ timeoutMs: 30_000, args: o.keylogFile === undefined ? [] : [`--ssl-key-log-file=${o.keylogFile}`, '--ignore-certificate-errors'] });
    const page = await browser.newPage();
    const timer = setTimeout(() => rejectDone(new Error(`chromium client: not done within ${o.timeoutMs ?? 30_000} ms (sent ${sent.length}, received ${received.length})`)), o.timeoutMs ?? 30_000);
    await page.exposeFunction('peerLog', (m: { ev: string; opcode?: number; b64?: string; message?: string }) => {
      if (m.ev === 'sent' || m.ev === 'received') log.add(m.ev, m.opcode ?? 0, m.b64 ?? '');
      else if (m.ev === 'done') {
        clearTimeout(timer);
        resolveDone();
      } else if (m.ev === 'error') {
        clearTimeout(timer);
        rejectDone(new Error(`chromium client: ${m.message}`));
      }
    });
    await page.goto(o.page?.url ?? `http://127.0.0.1:${httpPort}/`);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const pid = childPid(/chrom/);
  return { port: httpPort, pid, sent, received, done, sentCount: (n, t) => log.sentCount(n, 'chromium client', t), stop: closeAll };
}

/** pid of this process's child whose command line matches (playwright's Browser hides it). */
function childPid(re: RegExp): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && re.test(readFileSync(`/proc/${d}/cmdline`, 'utf8'))) return Number(d);
    } catch {
      // the process went away meanwhile
    }
  }
  return -1;
}
