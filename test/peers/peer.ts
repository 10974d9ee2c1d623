/**
 * Real WebSocket peers on loopback for end-to-end tests, behind one small API:
 *
 *   const server = await startPeer({ impl: 'node-ws', role: 'server', deflate: true });
 *   // ... start a capture with filter `tcp port ${server.port}` ...
 *   const client = await startPeer({ impl: 'python', role: 'client', port: server.port, messages });
 *   await client.done;                  // every echo came back and the close handshake ended
 *   client.sent / server.sent           // what each peer put on the wire, in order
 *   await server.stop();
 *
 * Implementations: 'node-ws' (npm ws, test/peers/ws-node.ts run by `node --import tsx`, so
 * `pid` is the peer itself and not a wrapper) and 'python'
 * (python3-websockets, test/peers/ws_python.py), each a child process; headless Chromium as
 * a browser client lives in ./chromium.ts with the same `Peer` shape. Servers echo every
 * message back with the same opcode; clients send `messages` in order, wait for all echoes,
 * then close with 1000 "done". Servers listen on 127.0.0.1 on a port the kernel picks.
 *
 * Peers report on stdout as JSON lines: {"ev":"listening","port"} (clients: once connected) {"ev":"sent"|"received",
 * "opcode","b64"} {"ev":"done"} {"ev":"error","message"}. Every process is stopped by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '..', '..');
export const PYTHON = '/usr/bin/python3';

export interface PeerMessage {
  /** 1 text, 2 binary */
  opcode: number;
  data: Uint8Array;
}

export interface Peer {
  /** listening port (servers) or the port connected to (clients); the HTTP port for Chromium's page server */
  port: number;
  pid: number;
  /** messages this peer sent, in order (filled as they go) */
  readonly sent: PeerMessage[];
  readonly received: PeerMessage[];
  /** clients: resolves when the conversation ended (close handshake done); servers: on exit */
  readonly done: Promise<void>;
  /** resolves once this peer has logged `n` sent messages (a server's log can trail the client's `done`) */
  sentCount(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The message log of one peer, with waiters on its length. */
export class PeerLog {
  readonly sent: PeerMessage[] = [];
  readonly received: PeerMessage[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  add(ev: 'sent' | 'received', opcode: number, b64: string): void {
    (ev === 'sent' ? this.sent : this.received).push({ opcode, data: new Uint8Array(Buffer.from(b64, 'base64')) });
    if (ev !== 'sent') return;
    this.waiters = this.waiters.filter((w) => {
      if (this.sent.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  sentCount(n: number, what: string, timeoutMs = 20_000): Promise<void> {
    if (this.sent.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what}: ${this.sent.length} of ${n} messages sent after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }
}

export type PeerImpl = 'node-ws' | 'python';

export interface PeerOptions {
  impl: PeerImpl;
  role: 'server' | 'client';
  /** server: port to listen on (default 0 = any); client: port to connect to */
  port?: number;
  /** negotiate permessage-deflate (RFC 7692) */
  deflate?: boolean;
  /** client: messages to send (string = text, Uint8Array = binary) */
  messages?: Array<string | Uint8Array>;
  /** client: request path */
  path?: string;
  /** ms before a peer that has not finished is declared stuck */
  timeoutMs?: number;
  /** python only: wss://, the TLS secrets written to `keylog`; a server needs `cert` and `key` (PEM files) */
  tls?: { keylog: string; cert?: string; key?: string };
}

export function textOf(m: PeerMessage): string {
  return Buffer.from(m.data).toString('utf8');
}

/** Messages in the JSON form the peer programs take on the command line. */
export function encodeMessages(messages: Array<string | Uint8Array>): string {
  return JSON.stringify(messages.map((m) => (typeof m === 'string' ? { opcode: 1, b64: Buffer.from(m, 'utf8').toString('base64') } : { opcode: 2, b64: Buffer.from(m).toString('base64') })));
}

interface LogLine {
  ev: 'listening' | 'sent' | 'received' | 'done' | 'error';
  port?: number;
  opcode?: number;
  b64?: string;
  message?: string;
}

/** Wraps a peer child process that speaks the JSON-lines log protocol. */
export function attachPeer(child: ChildProcess, what: string, role: 'server' | 'client', timeoutMs: number, onStop?: () => Promise<void>): Promise<Peer> {
  const log = new PeerLog();
  const { sent, received } = log;
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-8192);
  });
  let resolveDone!: () => void;
  let rejectDone!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  done.catch(() => {}); // observed by whoever awaits it
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  return new Promise<Peer>((resolve, reject) => {
    const timer = setTimeout(() => {
      const e = new Error(`${what}: no progress within ${timeoutMs} ms (sent ${sent.length}, received ${received.length}); stderr: ${stderr}`);
      reject(e);
      rejectDone(e);
      child.kill('SIGKILL');
    }, timeoutMs);
    const peer: Peer = {
      port: 0,
      pid: child.pid ?? -1,
      sent,
      received,
      done,
      sentCount: (n, timeoutMs) => log.sentCount(n, what, timeoutMs),
      stop: async () => {
        clearTimeout(timer);
        if (onStop) await onStop();
        // child.kill, not process.kill: a child that has exited and been reaped before its 'exit'
        // event ran gives ESRCH, which child.kill reports as false instead of throwing
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      let m: LogLine;
      try {
        m = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      if (m.ev === 'listening') {
        peer.port = m.port ?? 0;
        // a server's deadline is to start listening; a client's is to finish its conversation
        if (role === 'server') clearTimeout(timer);
        resolve(peer);
      } else if (m.ev === 'sent' || m.ev === 'received') {
        log.add(m.ev, m.opcode ?? 0, m.b64 ?? '');
      } else if (m.ev === 'done') {
        clearTimeout(timer);
        resolveDone();
      } else if (m.ev === 'error') {
        const e = new Error(`${what}: ${m.message}`);
        reject(e);
        rejectDone(e);
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (role === 'server') resolveDone();
      const e = new Error(`${what} exited (status ${code}); stderr: ${stderr}`);
      reject(e); // no-op once resolved
      rejectDone(e); // no-op once done
    });
  });
}

export function startPeer(o: PeerOptions): Promise<Peer> {
  // messages travel on stdin (one JSON line): argv is too small for big test messages
  const args = [o.role, String(o.port ?? 0), o.deflate ? 'deflate' : 'plain', o.path ?? '/'];
  const child =
    o.impl === 'node-ws'
      ? spawn(process.execPath, ['--import', 'tsx', join(here, 'ws-node.ts'), ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: REPO })
      : spawn(PYTHON, [join(here, 'ws_python.py'), ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: REPO, env: o.tls ? { ...process.env, WSS_KEYLOG: o.tls.keylog, WSS_CERT: o.tls.cert ?? '', WSS_KEY: o.tls.key ?? '' } : process.env });
  child.stdin!.on('error', () => {}); // a peer that died early is reported by attachPeer
  child.stdin!.end(`${encodeMessages(o.messages ?? [])}\n`);
  return attachPeer(child, `${o.impl} ${o.role}`, o.role, o.timeoutMs ?? 30_000);
}
