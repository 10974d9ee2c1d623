/**
 * A wss:// conversation between an in-process npm `ws` server (over `https`) and an npm `ws`
 * client, with the TLS parameters forced by the test, and the key log the server's TLS stack
 * wrote (Node's `keylog` event, the lines OpenSSL gives SSLKEYLOGFILE). The client sends
 * `messages` in order; the server echoes each with the same opcode; the client waits for
 * every echo, then closes with 1000 "done". Both sides offer ALPN http/1.1. What each side sent is logged. With
 * `connections: N` the client does it N times in turn, each connection offering the session
 * the previous one got (TLS 1.2 session resumption, TLS 1.3 PSK from a ticket). With
 * `keylogFile`, each key log line is also appended to that file the moment the TLS stack
 * hands it over.
 *
 *   const cert = selfSigned(dir);                          // openssl req, once per test file
 *   const s = await wssConversation({ port, cert, tls: { maxVersion: 'TLSv1.2', ciphers: '...' }, messages });
 *   s.keylog                                               // the NSS key log text
 *   s.clientSent, s.serverSent                             // PeerMessage[]
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { appendFileSync, readFileSync } from 'node:fs';
import { connect, type ConnectionOptions, type SecureVersion, type TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import type { PeerMessage } from './peer';

export interface Cert {
  key: Buffer;
  cert: Buffer;
}

/** A self-signed RSA certificate for localhost, made with the openssl command line (test side only). */
export function selfSigned(dir: string): Cert {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

export interface TlsParams {
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  /** OpenSSL names for TLS 1.2 suites, IANA names (TLS_AES_128_GCM_SHA256) for TLS 1.3 ones: Node takes both here */
  ciphers?: string;
  /** OpenSSL option bits (crypto.constants.SSL_OP_*), e.g. SSL_OP_NO_ENCRYPT_THEN_MAC */
  secureOptions?: number;
  /** key exchange groups, preferred first (a TLS 1.3 client sends a key share for the first only) */
  ecdhCurve?: string;
}

export interface WssConversation {
  keylog: string;
  clientSent: PeerMessage[];
  serverSent: PeerMessage[];
  /** the TLS version and cipher the client's socket reported */
  protocol: string;
  cipher: string;
  /** per connection: did the client's socket resume a session */
  reused: boolean[];
}

/** `serverTls`: what the server alone takes on top of `tls` (e.g. other groups, forcing a HelloRetryRequest) */
export async function wssConversation(o: { port: number; cert: Cert; tls: TlsParams; serverTls?: TlsParams; messages: Array<string | Uint8Array>; path?: string; deflate?: boolean; connections?: number; keylogFile?: string }): Promise<WssConversation> {
  const lines: string[] = [];
  const server = createServer({ key: o.cert.key, cert: o.cert.cert, ALPNProtocols: ['http/1.1'], ...o.tls, ...o.serverTls });
  server.on('keylog', (line: Buffer) => {
    lines.push(line.toString('latin1'));
    // as SSLKEYLOGFILE is written: appended line by line while connections open
    if (o.keylogFile !== undefined) appendFileSync(o.keylogFile, line);
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: o.deflate ?? false });
  const serverSent: PeerMessage[] = [];
  let serverCloses = 0;
  let onServerClose = (): void => {};
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer, binary: boolean) => {
      const reply = binary ? new Uint8Array(data) : new Uint8Array(Buffer.from(`echo: ${data.toString('utf8')}`));
      serverSent.push({ opcode: binary ? 2 : 1, data: reply });
      ws.send(reply, { binary });
    });
    ws.on('close', () => {
      serverCloses++;
      onServerClose();
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port, '127.0.0.1', resolve));
  const clientSent: PeerMessage[] = [];
  const reused: boolean[] = [];
  let protocol = '';
  let cipher = '';
  let session: Buffer | undefined;
  try {
    // one connection after the other; each offers the session (ticket) the previous one got
    for (let n = 1; n <= (o.connections ?? 1); n++) {
      await new Promise<void>((resolve, reject) => {
        // our own connect, so the session (ticket) is caught as soon as the TLS stack has it
        const createConnection = (opts: ConnectionOptions): TLSSocket => {
          const sock = connect({ ...opts, path: undefined, ...(session ? { session } : {}) });
          sock.on('session', (s: Buffer) => (session = s));
          return sock;
        };
        const ws = new WebSocket(`wss://127.0.0.1:${o.port}${o.path ?? '/chat'}`, { rejectUnauthorized: false, servername: 'localhost', ALPNProtocols: ['http/1.1'], perMessageDeflate: o.deflate ?? false, ...o.tls, createConnection } as ConstructorParameters<typeof WebSocket>[2]);
        let echoes = 0;
        ws.on('error', reject);
        ws.on('upgrade', (res) => {
          const sock = res.socket as TLSSocket;
          protocol = sock.getProtocol() ?? '';
          cipher = sock.getCipher().standardName;
          reused.push(sock.isSessionReused());
        });
        ws.on('open', () => {
          for (const m of o.messages) {
            const binary = typeof m !== 'string';
            const data = binary ? m : new Uint8Array(Buffer.from(m));
            clientSent.push({ opcode: binary ? 2 : 1, data });
            ws.send(data, { binary });
          }
        });
        ws.on('message', () => {
          if (++echoes === o.messages.length) ws.close(1000, 'done');
        });
        ws.on('close', () => resolve());
      });
      await new Promise<void>((resolve) => {
        onServerClose = () => serverCloses >= n && resolve();
        onServerClose();
      });
    }
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { keylog: lines.join(''), clientSent, serverSent, protocol, cipher, reused };
}
