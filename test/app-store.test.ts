/**
 * The session store and the engine service with decoded meaning, TLS and HTTP/2, on captures
 * recorded from real peers on `lo` (test/peers/app-sessions.ts): Socket.IO (socket.io +
 * socket.io-client), MQTT (mqtt.js + aedes), wss (Node tls + ws, with the key log the server
 * wrote, one session left without a key) and WebSockets on h2c (Node http2). What the UI gets
 * through the contract (timeline meaning, detail packets and reply links, facets, filters,
 * TLS and HTTP/2 rows, HTTP/2 requests) and what the exports keep (`app`, `tls`,
 * `http2-request` in NDJSON as `read --json` prints them; `_app` in HAR; a pcapng with the
 * secrets embedded only when asked, which then decrypts alone).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { batchRows } from '../shared/row-block';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { EngineService } from '../engine/service/engine-service';
import { SessionStore } from '../engine/store/session-store';
import { analyzeFile } from '../engine/pipeline';
import { writeHar, writeNdjson, MemorySink } from '../engine/store/export';
import { KeyLog } from '../engine/tls/keylog';
import type { ApiError, Batch, ConnectionRow, KeyLogInfo, MessageRow, Result } from '../shared/api';
import { recordBinary, recordH2c, recordMqtt, recordSocketIo, recordWss, type BinarySession, type H2cSession, type MqttSession, type SocketIoSession, type WssSession } from './peers/app-sessions';
import { REPO_ROOT } from './kit/paths';

let dir: string;
let sio: SocketIoSession;
let mq: MqttSession;
let wss: WssSession;
let h2: H2cSession;
let bin: BinarySession;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-appstore-'));
  sio = await recordSocketIo(dir);
  mq = await recordMqtt(dir);
  wss = await recordWss(dir, 20000 + (process.pid % 20000));
  h2 = await recordH2c(dir);
  bin = await recordBinary(dir);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(file: string, keys?: string): Promise<SessionStore> {
  const store = new SessionStore(1, { payload: { dir } });
  const keyLog = new KeyLog();
  if (keys) keyLog.addText(keys, 'test');
  await analyzeFile(file, (e) => store.ingest(e), { keyLog, session: { keepWirePayload: true } });
  return store;
}

function rows(store: SessionStore): MessageRow[] {
  const out: MessageRow[] = [];
  for (let i = 0; i < store.messageCount; i++) out.push(store.message(i) as MessageRow);
  return out;
}

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.status).toBe(0);
  return r.stdout;
}

async function ndjson(store: SessionStore): Promise<string> {
  const mem = new MemorySink();
  await writeNdjson(store, mem);
  return Buffer.from(mem.bytes()).toString('utf8');
}

describe('decoded meaning in the session store', () => {
  it('gives Socket.IO rows their meaning, the detail its packets and the links between acks and events', async () => {
    const store = await load(sio.file);
    const all = rows(store);
    const meanings = all.map((r) => r.meaning ?? '');
    expect(meanings).toContain('EVENT chat ["hi"] ack 0');
    expect(meanings).toContain('ACK #0 [{"ok":true,"length":2}] (' + meanings.find((m) => m.startsWith('ACK #0'))!.split('(').pop());
    expect(meanings.some((m) => m.startsWith('EVENT welcome ["hello",1]'))).toBe(true);
    // the connection says which decoder it has
    const ws = store.connections().find((c) => c.websocket) as ConnectionRow;
    expect(ws.app).toBe('socket.io');
    // reply -> request and back, as message indexes
    const chat = all.find((r) => r.meaning === 'EVENT chat ["hi"] ack 0') as MessageRow;
    const ack = all.find((r) => r.meaning?.startsWith('ACK #0')) as MessageRow;
    const dAck = store.detail(ack.index)!;
    expect(dAck.request).toBe(chat.index);
    expect(dAck.app?.[0]).toMatchObject({ protocol: 'socket.io', type: 'ACK', ackId: 0, args: [{ ok: true, length: 2 }] });
    expect(store.detail(chat.index)!.replies).toEqual([ack.index]);
    // what the peers logged is what the packets say
    const events = all.flatMap((r) => store.detail(r.index)!.app ?? []).filter((p) => p.type === 'EVENT' || p.type === 'BINARY_EVENT');
    expect(events.filter((p) => p.event !== 'welcome').map((p) => p.event)).toEqual(sio.serverLog.map((l) => l[0]));
  });

  it('counts decoded protocols, types and names and filters on them in the engine', async () => {
    const store = await load(sio.file);
    const f = store.appFacets(null);
    expect(f.protocols[0].protocol).toBe('socket.io');
    expect(f.names).toEqual(expect.arrayContaining([{ protocol: 'socket.io', name: 'chat', count: 1 }, { protocol: 'socket.io', name: 'upload', count: 1 }, { protocol: 'socket.io', name: 'welcome', count: 1 }]));
    const acks = f.types.find((t) => t.type === 'ACK')!;
    expect(acks.count).toBe(2);
    const hit = store.query({ app: { protocol: 'socket.io', type: 'ACK' } });
    expect(hit.length).toBe(2);
    for (const i of hit) expect(store.message(i)!.meaning).toMatch(/^ACK #/);
    expect(Array.from(store.query({ app: { name: 'upload' } })).map((i) => store.message(i)!.meaning)).toEqual([expect.stringMatching(/^attachment 0 \(5 B\) · BINARY_EVENT upload \["a.bin",{"\$binary":5}\] ack 1$/)]);
    expect(store.query({ app: { name: 'upload' }, dir: 'server' }).length).toBe(0);
  });

  it('decodes MQTT split over many messages: the message that completes a packet carries its meaning', async () => {
    const store = await load(mq.file);
    const meanings = rows(store).flatMap((r) => (r.meaning ? [r.meaning] : []));
    expect(meanings.some((m) => /^PUBLISH sensors\/1\/temp q1 #\d+ \(4 B\)$/.test(m))).toBe(true);
    expect(meanings.some((m) => /^SUBSCRIBE #\d+ sensors\/# q1$/.test(m))).toBe(true);
    const sentTypes = store.appFacets(null).types.map((t) => t.type);
    for (const t of mq.sent) expect(sentTypes).toContain(t);
    // a PUBACK links to its PUBLISH
    const puback = rows(store).find((r) => r.meaning?.startsWith('PUBACK'))!;
    const req = store.detail(puback.index)!.request!;
    expect(store.message(req)!.meaning).toMatch(/^PUBLISH sensors\/1\/temp q1/);
  });

  it('keeps app, tls and http2-request events in the NDJSON export exactly as read --json prints them, and app in HAR', async () => {
    for (const [file, keys] of [
      [sio.file, undefined],
      [wss.file, wss.keylog],
      [h2.file, undefined],
    ] as const) {
      const store = await load(file, keys ? readFileSync(keys, 'utf8') : undefined);
      const want = cli('read', file, '--json', ...(keys ? ['--keylog', keys] : []))
        .split('\n')
        .filter((l) => l !== '' && !l.includes('"type":"summary"'));
      const got = (await ndjson(store)).split('\n').filter((l) => l !== '' && !l.includes('"type":"summary"'));
      expect(got).toEqual(want);
    }
    const store = await load(sio.file);
    const mem = new MemorySink();
    await writeHar(store, mem);
    const har = JSON.parse(Buffer.from(mem.bytes()).toString('utf8')) as { log: { entries: Array<{ _webSocketMessages: Array<{ _app?: Array<{ type: string }> }> }> } };
    const types = har.log.entries[0]._webSocketMessages.flatMap((m) => (m._app ?? []).map((p) => p.type));
    expect(types).toEqual(expect.arrayContaining(['open', 'CONNECT', 'EVENT', 'BINARY_EVENT', 'attachment', 'ACK']));
  });
});

describe('binary payloads as trees in the detail', () => {
  it('shows the MessagePack and CBOR maps a ws client sent as the values @msgpack/msgpack and cbor-x encoded', async () => {
    const store = await load(bin.file);
    const binary = rows(store).filter((r) => r.opcode === 2);
    expect(binary).toHaveLength(2 * bin.sent.length);
    // each direction in the order sent (the server echoes)
    for (const dir of ['client', 'server'] as const) {
      const mine = binary.filter((r) => r.dir === dir);
      mine.forEach((r, i) => {
        const [format, value] = bin.sent[i];
        expect(store.detail(r.index)!.trees?.find((t) => t.format === format)?.value).toEqual(value);
      });
    }
    // text messages get none
    expect(rows(store).filter((r) => r.opcode !== 2).every((r) => store.detail(r.index)!.trees === undefined)).toBe(true);
  });
});

describe('TLS and HTTP/2 in the session store', () => {
  it('lists each TLS connection with SNI, version, suite, ALPN and decrypted or no key (with the client random); the wss URL', async () => {
    const store = await load(wss.file, wss.keylogText);
    const conns = store.connections();
    expect(conns).toHaveLength(2);
    const [a, b] = conns;
    expect(a.tls).toMatchObject({ version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', sni: 'localhost', alpn: 'http/1.1', decrypted: true });
    expect(a.url).toBe(`wss://127.0.0.1:${wss.port}/chat`);
    expect(a.messages).toBeGreaterThanOrEqual(4);
    expect(b.tls).toMatchObject({ decrypted: false, reason: 'no key for this session' });
    expect(b.tls!.clientRandom).toMatch(/^[0-9a-f]{64}$/);
    // it is the random the client sent, which the full key log names
    expect(wss.allKeys).toContain(b.tls!.clientRandom!);
    expect(wss.keylogText).not.toContain(b.tls!.clientRandom!);
    // no secret in anything the UI is sent
    const everything = JSON.stringify([conns, rows(store), store.takeBatch()]);
    for (const line of wss.allKeys.split('\n').filter(Boolean)) expect(everything).not.toContain(line.split(' ')[2]);
  });

  it('groups WebSockets under their HTTP/2 connection: parent, stream, the extended CONNECT handshake, the plain requests', async () => {
    const store = await load(h2.file);
    const conns = store.connections();
    const carrier = conns.find((c) => c.http2Requests !== undefined)!;
    const carried = conns.filter((c) => c.h2);
    expect(carried.map((c) => c.h2)).toEqual(h2.streams.map((stream) => ({ parent: carrier.id, stream, settingSeen: true })));
    expect(carried[0].url).toBe(`ws://${carried[0].server.replace(/:\d+$/, '')}:${carried[0].server.split(':').pop()}/chat`);
    const hs = store.handshake(carried[0].id)!;
    expect(hs.http2).toBe(true);
    expect(hs.requestHeaders).toEqual(expect.arrayContaining([[':method', 'CONNECT'], [':protocol', 'websocket'], [':path', '/chat']]));
    expect(hs.status).toBe(200);
    expect(store.http2Requests(carrier.id)).toEqual([expect.objectContaining({ method: 'GET', path: '/plain', status: 200, responseBytes: 'plain http2 body'.length })]);
  });
});

describe('the engine service: key logs, decoder choice, pcapng with secrets', () => {
  async function service(): Promise<{ svc: EngineService; batches: Batch[]; errors: ApiError[] }> {
    const batches: Batch[] = [];
    const errors: ApiError[] = [];
    const svc = new EngineService({
      push: (name, payload) => {
        if (name === 'batch') batches.push(payload as Batch);
        if (name === 'error') errors.push(payload as ApiError);
      },
      configDir: join(dir, 'config'),
      workDir: mkdtempSync(join(dir, 'work-')),
      batchMs: 5,
    });
    return { svc, batches, errors };
  }
  const value = <T>(r: Result<T>): T => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };

  it('decrypts the open file when a key log is dropped on it, and answers names and counts only', async () => {
    const { svc } = await service();
    try {
      value(await svc.call('openFile', [wss.file]));
      await svc.idle();
      const before = value(await svc.call('keyLogs', [])) as KeyLogInfo;
      expect(before).toEqual({ files: [], sessions: 0, decrypted: 0, tlsConnections: 2 });
      const info = value(await svc.call('addKeyLogBytes', ['wss.keys', new Uint8Array(Buffer.from(wss.keylogText))])) as KeyLogInfo;
      expect(info).toEqual({ files: [{ name: 'wss.keys', sessions: 1, warnings: 0 }], sessions: 1, decrypted: 1, tlsConnections: 2 });
      expect(JSON.stringify(info)).not.toMatch(/[0-9a-f]{64}/);
      const n = value(await svc.call('queryMessages', [{}])) as { total: number };
      expect(n.total).toBeGreaterThanOrEqual(4);
      // a capture is not a key log
      const bad = await svc.call('addKeyLogBytes', ['x.pcapng', new Uint8Array(readFileSync(wss.file))]);
      expect(bad).toMatchObject({ ok: false, error: { code: 'unsupported' } });
      // pcapng: without secrets unless asked; with them it decrypts alone
      const plain = join(dir, 'plain.pcapng');
      const secret = join(dir, 'secret.pcapng');
      value(await svc.call('exportData', ['pcapng', plain]));
      value(await svc.call('exportData', ['pcapng', secret, { secrets: true }]));
      const decodes = (f: string): string => cli('read', f, '--summary');
      expect(readFileSync(plain).includes(Buffer.from('CLIENT_HANDSHAKE_TRAFFIC_SECRET'))).toBe(false);
      expect(readFileSync(secret).includes(Buffer.from('CLIENT_HANDSHAKE_TRAFFIC_SECRET'))).toBe(true);
      expect(decodes(plain)).toMatch(/ 0 messages/);
      expect(decodes(secret)).not.toMatch(/ 0 messages/);
      // tshark reads the embedded secrets too
      const t = spawnSync('tshark', ['-r', secret, '-Y', 'websocket', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
      expect(t.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(4);
    } finally {
      await svc.dispose();
    }
  });

  it('decodes a connection as the protocol the user chose (or not at all), reading the file again', async () => {
    const { svc, batches } = await service();
    try {
      value(await svc.call('openFile', [sio.file]));
      await svc.idle();
      const conn = batches.flatMap((b) => b.connections).find((c) => c.websocket)!.id;
      expect(value(await svc.call('listDecoders', []))).toContain('socket.io');
      batches.length = 0;
      value(await svc.call('setDecoder', [conn, 'none']));
      await svc.idle();
      const rowsNone = batches.flatMap((b) => batchRows(b));
      expect(rowsNone.length).toBeGreaterThan(0);
      expect(rowsNone.every((r) => r.meaning === undefined)).toBe(true);
      expect(batches.flatMap((b) => b.connections).find((c) => c.id === conn)).toMatchObject({ decodeAs: 'none' });
      batches.length = 0;
      value(await svc.call('setDecoder', [conn, '']));
      await svc.idle();
      expect(batches.flatMap((b) => batchRows(b)).some((r) => r.meaning?.startsWith('EVENT chat'))).toBe(true);
      expect(await svc.call('setDecoder', [conn, 'nope'])).toMatchObject({ ok: false, error: { code: 'bad-request' } });
      const facets = value(await svc.call('getAppFacets', [conn])) as { protocols: unknown[] };
      expect(facets.protocols).toEqual([{ protocol: 'socket.io', count: expect.any(Number) }]);
    } finally {
      await svc.dispose();
    }
  });
});
