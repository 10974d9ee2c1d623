/**
 * wss:// end to end: real TLS peers on `lo` (Node `https` + npm `ws`, TLS 1.3 and 1.2 with
 * each cipher suite forced in turn), captured by dumpcap in the test itself through a
 * `tcp port N` filter on the test's own port, with the key log the server's TLS stack wrote.
 * Every message each peer sent must come out byte-exact of `wsscope read --json` with
 * `--keylog`, tshark (given the same key log) must agree frame by frame, and the capture
 * with the secrets injected by `editcap --inject-secrets` must decrypt with no option.
 * A wrong key, no key and a truncated key log each give their finding, no crash. Other TLS
 * stacks write their own key logs: Python's ssl (keylog_filename) under python3-websockets,
 * and headless Chromium (--ssl-key-log-file) against a Python wss server.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { constants } from 'node:crypto';
import { captureLo, dataMessages, frameRows, messageKeys, tsharkFrameRows } from './peers/capture';
import { startPeer, type Peer, type PeerMessage } from './peers/peer';
import { startChromiumClient } from './peers/chromium';
import { runWsscope } from './peers/wsscope';
import { portBlock } from './kit/ports';
import { selfSigned, wssConversation, type Cert, type TlsParams, type WssConversation } from './peers/tls';
import { analyzeFile } from '../engine/pipeline';
import { KeyLog } from '../engine/tls/keylog';
import type { EngineEvent, TlsEvent } from '../shared/events';

const big = 'wss payload '.repeat(3000); // 36 kB: several TLS records, several segments
const MESSAGES: Array<string | Uint8Array> = ['hello over TLS', 'grüße 🌍', new Uint8Array(Array.from({ length: 256 }, (_, i) => i)), '', big, '{"op":"ping"}'];

interface Case {
  name: string;
  tls: TlsParams;
  serverTls?: TlsParams;
  version: string;
  suite: string;
}

const CASES: Case[] = [
  { name: 'TLS 1.3 AES-128-GCM', tls: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, version: 'TLS 1.3', suite: 'TLS_AES_128_GCM_SHA256' },
  { name: 'TLS 1.3 AES-256-GCM', tls: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' }, version: 'TLS 1.3', suite: 'TLS_AES_256_GCM_SHA384' },
  { name: 'TLS 1.3 ChaCha20-Poly1305', tls: { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, version: 'TLS 1.3', suite: 'TLS_CHACHA20_POLY1305_SHA256' },
  // the client's key share is X25519, the server takes P-256 only: a HelloRetryRequest first
  { name: 'TLS 1.3 after a HelloRetryRequest', tls: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256', ecdhCurve: 'X25519:P-256' }, serverTls: { ecdhCurve: 'P-256' }, version: 'TLS 1.3', suite: 'TLS_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 ECDHE-RSA AES-128-GCM', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' },
  { name: 'TLS 1.2 ECDHE-RSA AES-256-GCM', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' },
  { name: 'TLS 1.2 ECDHE-RSA ChaCha20-Poly1305', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' },
  { name: 'TLS 1.2 ECDHE-RSA AES-128-CBC-SHA (encrypt_then_mac)', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' },
  { name: 'TLS 1.2 ECDHE-RSA AES-128-CBC-SHA (MAC then encrypt)', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA', secureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC }, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' },
  { name: 'TLS 1.2 ECDHE-RSA AES-256-CBC-SHA384', tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-SHA384' }, version: 'TLS 1.2', suite: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384' },
  { name: 'TLS 1.2 RSA AES-256-CBC-SHA256', tls: { maxVersion: 'TLSv1.2', ciphers: 'AES256-SHA256' }, version: 'TLS 1.2', suite: 'TLS_RSA_WITH_AES_256_CBC_SHA256' },
];

let dir: string;
let cert: Cert;
// one port per test, from a block below the ephemeral range (test/kit/ports.ts)
let nextPort = portBlock(20000, 24);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-tls-'));
  cert = selfSigned(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Recorded {
  file: string;
  keylog: string;
  port: number;
  talk: WssConversation;
}

/** capture one wss conversation on lo with dumpcap; resolves once the capture saw the connection end */
async function record(name: string, tls: TlsParams, messages = MESSAGES, connections = 1, serverTls?: TlsParams): Promise<Recorded> {
  const port = nextPort++;
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.pcapng`);
  const live = await captureLo({ backend: 'dumpcap', port, file });
  const talk = await wssConversation({ port, cert, tls, serverTls, messages, connections });
  // the live pipeline (no keys) still sees the TCP connections end: every packet is in the file
  await live.until((evs) => evs.filter((e) => e.type === 'connection-end').length === connections, 'the connections end');
  await live.stop();
  const keylog = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.keys`);
  writeFileSync(keylog, talk.keylog);
  return { file, keylog, port, talk };
}

async function read(file: string, keylogText?: string): Promise<EngineEvent[]> {
  const keyLog = new KeyLog();
  if (keylogText !== undefined) keyLog.addText(keylogText, 'test');
  const events: EngineEvent[] = [];
  await analyzeFile(file, (e) => events.push(e), { keyLog });
  return events;
}

const tlsEvents = (evs: EngineEvent[]): TlsEvent[] => evs.filter((e): e is TlsEvent => e.type === 'tls');
const findingIds = (evs: EngineEvent[]): string[] => evs.flatMap((e) => (e.type === 'finding' ? [e.id] : []));
const REPO = join(import.meta.dirname, '..');

function wsscope(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'wsscope.cjs'), ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** ServerHello messages in a capture (a HelloRetryRequest is one), as tshark reads them */
function serverHellos(file: string): number {
  return execFileSync('tshark', ['-r', file, '-Y', 'tls.handshake.type == 2', '-T', 'fields', '-e', 'tls.handshake.type'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split(/[\n,]/)
    .filter((t) => t === '2').length;
}

/** ServerHello extension types of a capture, as tshark reads them */
function serverHelloExtensions(file: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'tls.handshake.type == 2', '-T', 'fields', '-e', 'tls.handshake.extension.type'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim().split(',').filter(Boolean).map(Number);
}

describe('wss:// decrypted from the key log of real peers', () => {
  it.each(CASES)('$name: every message byte-exact, tshark agrees, injected secrets need no option', async (c) => {
    const r = await record(c.name, c.tls, MESSAGES, 1, c.serverTls);
    expect(r.talk.cipher).toBe(c.suite);
    // two ServerHellos (the HelloRetryRequest is one) exactly when the case forces a retry
    expect(serverHellos(r.file)).toBe(c.serverTls ? 2 : 1);
    const events = await read(r.file, r.talk.keylog);
    const [t] = tlsEvents(events);
    expect(tlsEvents(events)).toHaveLength(1);
    // ALPN from the ServerHello (TLS 1.2) or from the decrypted EncryptedExtensions (TLS 1.3)
    expect(t).toMatchObject({ version: c.version, cipherSuite: c.suite, sni: 'localhost', alpn: 'http/1.1', decrypted: true });
    expect(t.reason).toBeUndefined();
    expect(messageKeys(dataMessages(events, 'client'))).toEqual(messageKeys(r.talk.clientSent));
    expect(messageKeys(dataMessages(events, 'server'))).toEqual(messageKeys(r.talk.serverSent));
    expect(events.find((e) => e.type === 'handshake')).toMatchObject({ path: '/chat', status: 101, acceptValid: true, websocket: true });
    expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
    // tshark, given the same key log, decodes the same frames
    const tshark = tsharkFrameRows(r.file, r.port, ['-o', `tls.keylog_file:${r.keylog}`, '-d', `tcp.port==${r.port},tls`, '-d', `tls.port==${r.port},http`]);
    expect(tshark.length).toBeGreaterThan(MESSAGES.length * 2);
    expect(frameRows(events).map(({ packet: _p, ...f }) => f)).toEqual(tshark.map(({ packet: _p, ...f }) => f));
    // editcap --inject-secrets: the secrets travel in the pcapng, no option needed
    const injected = r.file.replace(/\.pcapng$/, '-dsb.pcapng');
    execFileSync('editcap', ['--inject-secrets', `tls,${r.keylog}`, r.file, injected], { stdio: 'ignore' });
    const alone = await read(injected);
    expect(tlsEvents(alone)[0]).toMatchObject({ decrypted: true });
    expect(messageKeys(dataMessages(alone))).toEqual(messageKeys(dataMessages(events)));
    // the CBC cases run both record layouts (RFC 7366 encrypt_then_mac, and MAC-then-encrypt)
    if (c.suite.includes('CBC')) expect(serverHelloExtensions(r.file).includes(22)).toBe(!c.tls.secureOptions);
  });
});

/**
 * The checks every real-peer capture passes: one decrypted TLS connection, each message each
 * side logged byte-exact, no warning, and tshark with the same key log agreeing frame by frame.
 */
async function expectDecrypted(file: string, port: number, keylogFile: string, client: PeerMessage[], server: PeerMessage[]): Promise<TlsEvent> {
  const events = await read(file, readFileSync(keylogFile, 'latin1'));
  expect(tlsEvents(events)).toHaveLength(1);
  expect(tlsEvents(events)[0]).toMatchObject({ decrypted: true });
  expect(messageKeys(dataMessages(events, 'client'))).toEqual(messageKeys(client));
  expect(messageKeys(dataMessages(events, 'server'))).toEqual(messageKeys(server));
  expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
  const tshark = tsharkFrameRows(file, port, ['-o', `tls.keylog_file:${keylogFile}`, '-d', `tcp.port==${port},tls`, '-d', `tls.port==${port},http`]);
  expect(tshark.length).toBeGreaterThanOrEqual(client.length + server.length);
  expect(frameRows(events).map(({ packet: _p, ...f }) => f)).toEqual(tshark.map(({ packet: _p, ...f }) => f));
  return tlsEvents(events)[0];
}

describe('other TLS stacks: Python ssl and Chromium (BoringSSL), each writing its own key log', () => {
  /**
   * A python3-websockets wss server on lo, captured by dumpcap on its port, and a client
   * `start`ed against it that writes its key log to `keylog`; the checks of expectDecrypted.
   */
  async function againstPythonServer(name: string, start: (port: number, keylog: string) => Promise<Peer>): Promise<TlsEvent> {
    writeFileSync(join(dir, 'key.pem'), cert.key);
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    const server = await startPeer({ impl: 'python', role: 'server', tls: { keylog: join(dir, `${name}-server.keys`), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
    const file = join(dir, `${name}.pcapng`);
    const keylog = join(dir, `${name}-client.keys`);
    const live = await captureLo({ backend: 'dumpcap', port: server.port, file });
    let client: Peer | undefined;
    try {
      client = await start(server.port, keylog);
      await client.done;
      await server.sentCount(MESSAGES.length);
      await live.until((evs) => evs.some((e) => e.type === 'connection-end'), 'the connection ends');
    } finally {
      await live.stop();
      await client?.stop();
      await server.stop();
    }
    return expectDecrypted(file, server.port, keylog, client.sent, server.sent);
  }

  it('Python websockets over ssl (keylog_filename on the client), both ends Python', async () => {
    const t = await againstPythonServer('python', (port, keylog) => startPeer({ impl: 'python', role: 'client', port, messages: MESSAGES, path: '/py', tls: { keylog } }));
    expect(t).toMatchObject({ version: 'TLS 1.3', cipherSuite: 'TLS_AES_256_GCM_SHA384' });
  });

  it('headless Chromium with --ssl-key-log-file against a local wss server (self-signed, --ignore-certificate-errors)', async () => {
    const t = await againstPythonServer('chromium', (port, keylogFile) => startChromiumClient({ port, messages: MESSAGES, path: '/browser', keylogFile }));
    // the server's OpenSSL picks the suite; no SNI for an IP literal (RFC 6066 section 3); the
    // Python server configures no ALPN
    expect(t).toMatchObject({ version: 'TLS 1.3', cipherSuite: 'TLS_AES_256_GCM_SHA384', sni: '', alpn: '' });
  }, 60_000);
});

describe('live: wsscope capture --keylog', () => {
  it('follows the key log while the peer writes it and decodes every message of the wss conversation', async () => {
    const port = nextPort++;
    const keylog = join(dir, 'live.keys'); // does not exist yet: the follower waits for it
    const file = join(dir, 'live.pcapng');
    const cli = runWsscope(['capture', '-i', 'lo', '-f', `tcp port ${port}`, '--backend', 'dumpcap', '-w', file, '--json', '--keylog', keylog]);
    try {
      await cli.stderrMatch(/Capturing on lo/);
      const talk = await wssConversation({ port, cert, tls: { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, messages: MESSAGES, keylogFile: keylog });
      const parsed = (): Array<Record<string, unknown>> => cli.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const data = (dir: string): Array<Record<string, unknown>> => parsed().filter((l) => l.type === 'message' && (l.opcode === 1 || l.opcode === 2) && l.dir === dir);
      await cli.linesUntil(() => data('client').length >= MESSAGES.length && data('server').length >= MESSAGES.length, 'every message each way', 45_000); // 20 s was too short at load 11
      const key = (m: Record<string, unknown>): string => `${String(m.opcode)}:${Buffer.from((m.text as string | undefined) ?? '', 'utf8').toString('hex') || Buffer.from((m.base64 as string | undefined) ?? '', 'base64').toString('hex')}`;
      expect(data('client').map(key)).toEqual(messageKeys(talk.clientSent));
      expect(data('server').map(key)).toEqual(messageKeys(talk.serverSent));
      expect(parsed().find((l) => l.type === 'tls')).toMatchObject({ decrypted: true, cipherSuite: 'TLS_CHACHA20_POLY1305_SHA256', sni: 'localhost' });
    } finally {
      cli.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    }
    // the file written carries the key log as Decryption Secrets Blocks: it decrypts alone,
    // in wsscope and in tshark (no key log option); it is private, and no secret was printed
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const alone = await read(file);
    expect(tlsEvents(alone)[0]).toMatchObject({ decrypted: true });
    expect(messageKeys(dataMessages(alone, 'client'))).toEqual(messageKeys(MESSAGES.map((m) => (typeof m === 'string' ? { opcode: 1, data: new TextEncoder().encode(m) } : { opcode: 2, data: m }))));
    const tshark = tsharkFrameRows(file, port, ['-d', `tcp.port==${port},tls`, '-d', `tls.port==${port},http`]);
    expect(tshark.length).toBeGreaterThan(MESSAGES.length * 2);
    expect(frameRows(alone).map(({ packet: _p, ...f }) => f)).toEqual(tshark.map(({ packet: _p, ...f }) => f));
    const printed = cli.stdout() + cli.stderr();
    for (const line of readFileSync(keylog, 'latin1').trim().split('\n')) expect(printed).not.toContain(line.split(' ')[2]);
  });
});

describe('resumed sessions', () => {
  it.each([
    ['TLS 1.3 (PSK from a ticket)', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }],
    ['TLS 1.2 (session ticket)', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }],
  ] as Array<[string, TlsParams]>)('%s: the resumed connection decrypts from its own key log lines', async (name, tls) => {
    const r = await record(`resume ${name}`, tls, ['one', 'two'], 2);
    expect(r.talk.reused).toEqual([false, true]);
    const events = await read(r.file, r.talk.keylog);
    expect(tlsEvents(events).map((t) => [t.conn, t.decrypted])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(messageKeys(dataMessages(events, 'client'))).toEqual(messageKeys(r.talk.clientSent));
    expect(messageKeys(dataMessages(events, 'server'))).toEqual(messageKeys(r.talk.serverSent));
    expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);
  });
});

describe('wss:// that cannot be decrypted, and the command line', () => {
  let r: Recorded;
  beforeAll(async () => {
    r = await record('cli', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }, ['first', 'second']);
  });

  it('reads GET wss://host/path and every message with --keylog, and --json carries the tls event', () => {
    const text = wsscope('read', r.file, '--keylog', r.keylog);
    expect(text.code).toBe(0);
    expect(text.err).toBe('');
    expect(text.out).toContain(`TLS 1.3 TLS_AES_128_GCM_SHA256 sni=localhost alpn=http/1.1 decrypted`);
    expect(text.out).toMatch(new RegExp(`GET wss://127\.0\.0\.1:${r.port}/chat -> 101 Switching Protocols accept ok`));
    expect(text.out).toMatch(/C->S text +5B "first"/);
    expect(text.out).toMatch(/S->C text +12B "echo: second"/);
    const lines = wsscope('read', r.file, '--json', '--keylog', r.keylog)
      .out.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.type === 'tls')).toEqual([expect.objectContaining({ conn: 1, version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', sni: 'localhost', alpn: 'http/1.1', decrypted: true })]);
    const said = (dir: string): unknown[] => lines.filter((l) => l.type === 'message' && l.opcode === 1 && l.dir === dir).map((l) => l.text);
    expect(said('client')).toEqual(['first', 'second']);
    expect(said('server')).toEqual(['echo: first', 'echo: second']);
  });

  it('without a key: tls-no-key naming the client random, the connection listed with its record counts', () => {
    const out = wsscope('read', r.file, '--json');
    expect(out.code).toBe(0);
    const lines = out.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const t = lines.find((l) => l.type === 'tls') as Record<string, unknown> & { records: { client: number; server: number } };
    expect(t).toMatchObject({ decrypted: false, reason: 'no key for this session', sni: 'localhost', cipherSuite: 'TLS_AES_128_GCM_SHA256' });
    expect(t.records.client).toBeGreaterThan(3);
    expect(t.records.server).toBeGreaterThan(3);
    const random = /^CLIENT_HANDSHAKE_TRAFFIC_SECRET ([0-9a-f]{64}) /m.exec(r.talk.keylog)![1];
    expect(lines.find((l) => l.type === 'finding' && l.id === 'tls-no-key')?.text).toContain(random);
    expect(lines.some((l) => l.type === 'message')).toBe(false);
  });

  it('with a wrong key: one tls-decrypt-failed, nothing decoded from garbage', async () => {
    // every secret flipped in its last byte: the session is found, no record authenticates
    const wrong = r.talk.keylog.replace(/ ([0-9a-f]{64})$/gm, (_m, sec: string) => ` ${sec.slice(0, 62)}${(parseInt(sec.slice(62), 16) ^ 1).toString(16).padStart(2, '0')}`);
    const evs = await read(r.file, wrong);
    expect(findingIds(evs)).toEqual(['tls-decrypt-failed']);
    expect(tlsEvents(evs)[0]).toMatchObject({ decrypted: false, reason: expect.stringMatching(/^decryption failed at record \d+$/) });
    expect(evs.filter((e) => e.type === 'message' || e.type === 'handshake')).toEqual([]);
  });

  it('with the key log of another capture: tls-no-key, nothing decoded, no warning about the log', async () => {
    const other = await wssConversation({ port: nextPort++, cert, tls: { minVersion: 'TLSv1.3' }, messages: ['elsewhere'] });
    const evs = await read(r.file, other.keylog);
    expect(findingIds(evs)).toEqual(['tls-no-key']);
    expect(tlsEvents(evs)[0]).toMatchObject({ decrypted: false, reason: 'no key for this session' });
    expect(evs.some((e) => e.type === 'message')).toBe(false);
  });

  it('with a truncated key log: its warning on stderr, no crash, the session it lacks is tls-no-key', () => {
    const lines = r.talk.keylog.split('\n');
    // cut in the middle of the fourth line, as a copy interrupted mid-write leaves it
    const cut = join(dir, 'cut.keys');
    writeFileSync(cut, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 70)}`);
    const out = wsscope('read', r.file, '--json', '--keylog', cut);
    expect(out.code).toBe(0);
    expect(out.err).toMatch(/^wsscope read: .*cut\.keys: line 4: .* the line is ignored\.\n$/);
    expect(out.err).not.toContain(lines[3].slice(40, 70));
    const ids = out.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === 'finding').map((l) => l.id);
    expect(ids).toEqual(['tls-no-key']);
  });

  it('with the truncated key log injected as a pcapng secrets block: tls-keylog-line naming the line, then tls-no-key', async () => {
    const lines = r.talk.keylog.split('\n');
    const cut = join(dir, 'cut-dsb.keys');
    writeFileSync(cut, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 70)}`);
    const injected = join(dir, 'cut-dsb.pcapng');
    execFileSync('editcap', ['--inject-secrets', `tls,${cut}`, r.file, injected], { stdio: 'ignore' });
    const evs = await read(injected);
    expect(findingIds(evs)).toEqual(['tls-keylog-line', 'tls-no-key']);
    const f = evs.find((e) => e.type === 'finding' && e.id === 'tls-keylog-line');
    expect(f?.type === 'finding' && f.text).toMatch(/^decryption secrets block: line 4: /);
    expect(f?.type === 'finding' && f.text).not.toContain(lines[3].slice(40, 70));
  });

  it('refuses a --keylog file that does not exist (exit 2)', () => {
    const out = wsscope('read', r.file, '--keylog', join(dir, 'missing.keys'));
    expect(out.code).toBe(2);
    expect(out.err).toBe(`wsscope read: --keylog ${join(dir, 'missing.keys')}: ENOENT\n`);
  });
});
