/**
 * The `tls` layer on a connection's stack, fed records built here from the specs: the
 * RFC 8448 simple 1-RTT session's secrets in a key log, records sealed on the test side with
 * the key/IV pairs the RFC publishes (so this file does not trust engine/tls/crypto.ts's key
 * derivation), and a WebSocket conversation inside. Every test runs on each AEAD backend
 * (aead.ts: the wsscope_tls addon when it is built, and node:crypto).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createCipheriv, createHmac } from 'node:crypto';
import { concat, ascii, be16, type Bytes } from '../../test/kit/bytes';
import { cf, sf, wsRequest, wsResponse } from '../../test/kit/websocket';
import type { EngineEvent, TlsEvent } from '../../shared/events';
import { ConnStack } from '../stack/connection-stack';
import { builtinRegistry } from '../stack/registry';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../ws/options';
import { usableAeadBackends, useAeadBackend } from './aead';
import { KeyLog } from './keylog';

const h = (s: string): Buffer => Buffer.from(s, 'hex');
const RANDOM = h('cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7');
// RFC 8448 section 3: secrets, and the key/IV each one expands to
const SECRETS = {
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38',
  CLIENT_TRAFFIC_SECRET_0: '9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5',
  SERVER_TRAFFIC_SECRET_0: 'a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643',
};
const KEYS = {
  clientHs: [h('dbfaa693d1762c5b666af5d950258d01'), h('5bd3c71b836e0b76bb73265f')],
  serverHs: [h('3fce516009c21727d0f2e4e86ee403bc'), h('5d313eb2671276ee13000b30')],
  clientAp: [h('17422dda596ed5d9acd890e3c63f5051'), h('5b78923dee08579033e523d9')],
  serverAp: [h('9f02283b6c9c07efc26bb9f2ac92e356'), h('cf782b88dd83549aadf1e984')],
} as const;
/** the test's own early traffic secret (RFC 8448's session has no 0-RTT) */
const EARLY_SECRET = '5a'.repeat(32);
const keylogText = Object.entries(SECRETS)
  .map(([label, s]) => `${label} ${RANDOM.toString('hex')} ${s}`)
  .join('\n');

const u24 = (n: number): Bytes => Uint8Array.of(n >> 16, (n >> 8) & 255, n & 255);
const vec = (lenBytes: 1 | 2, b: Bytes): Bytes => concat([lenBytes === 1 ? Uint8Array.of(b.length) : be16(b.length), b]);
const ext = (type: number, body: Bytes): Bytes => concat([be16(type), vec(2, body)]);
const hsMsg = (type: number, body: Bytes): Bytes => concat([Uint8Array.of(type), u24(body.length), body]);
const record = (type: number, body: Bytes): Bytes => concat([Uint8Array.of(type, 3, 3), be16(body.length), body]);

function clientHello(random: Bytes, earlyData = false): Bytes {
  const sni = vec(2, concat([Uint8Array.of(0), vec(2, ascii('example.com'))]));
  const alpn = vec(2, concat([vec(1, ascii('h2')), vec(1, ascii('http/1.1'))]));
  const exts = concat([ext(0, sni), ext(16, alpn), ext(43, vec(1, be16(0x0304))), ...(earlyData ? [ext(42, new Uint8Array(0))] : [])]);
  return hsMsg(1, concat([be16(0x0303), random, vec(1, new Uint8Array(0)), vec(2, concat([be16(0x1301), be16(0x1302)])), vec(1, Uint8Array.of(0)), vec(2, exts)]));
}

function serverHello(random: Bytes, exts: Bytes = ext(43, be16(0x0304)), suite = 0x1301): Bytes {
  return hsMsg(2, concat([be16(0x0303), random, vec(1, new Uint8Array(0)), be16(suite), Uint8Array.of(0), vec(2, exts)]));
}

const HRR_RANDOM = h('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');

/** RFC 8446 section 5.2: seal `inner` (content + type) with AES-128-GCM under key/iv at seq */
class Sealer {
  seq = 0;
  constructor(
    private key: Buffer,
    private iv: Buffer,
  ) {}
  seal(type: number, content: Bytes): Bytes {
    const inner = concat([content, Uint8Array.of(type)]);
    const header = concat([Uint8Array.of(23, 3, 3), be16(inner.length + 16)]);
    const nonce = Buffer.from(this.iv);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ this.seq++) >>> 0, 8);
    const c = createCipheriv('aes-128-gcm', this.key, nonce);
    c.setAAD(header);
    const ct = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
    return concat([header, ct]);
  }
  rekey(key: Buffer, iv: Buffer): void {
    this.key = key;
    this.iv = iv;
    this.seq = 0;
  }
}

/** RFC 8446 section 7.1 HKDF-Expand-Label for outputs of one SHA-256 block (the test's own) */
function expandLabel1(secret: Bytes, label: string, length: number): Buffer {
  const l = ascii(`tls13 ${label}`);
  const info = concat([be16(length), vec(1, l), Uint8Array.of(0)]);
  return createHmac('sha256', secret).update(info).update(Uint8Array.of(1)).digest().subarray(0, length);
}

/** a TLS 1.3 session: its client random and the key/IV of each traffic secret */
interface Session {
  random: Bytes;
  keys: Record<keyof typeof KEYS, readonly [Buffer, Buffer]>;
}

/**
 * the conversation, as [direction, bytes] in wire order; `session`: another session than
 * RFC 8448's; `app`: these bytes as the application data instead of the WebSocket
 */
function conversation(o: { keyUpdate?: boolean; hrr?: boolean; earlyData?: boolean; earlyAccepted?: boolean; session?: Session; app?: Array<['client' | 'server', Bytes]> } = {}): Array<['client' | 'server', Bytes]> {
  const out: Array<['client' | 'server', Bytes]> = [];
  const keys = o.session?.keys ?? KEYS;
  const ch = clientHello(o.session?.random ?? RANDOM, o.earlyData || o.earlyAccepted);
  out.push(['client', record(22, ch)]);
  // 0-RTT: application data under early traffic keys right after the hello; rejected by the
  // server (keys the key log does not have), or accepted (the upgrade and a first message,
  // under the keys of EARLY_SECRET)
  const early = o.earlyAccepted ? new Sealer(expandLabel1(h(EARLY_SECRET), 'key', 16), expandLabel1(h(EARLY_SECRET), 'iv', 12)) : new Sealer(h('42'.repeat(16)), h('24'.repeat(12)));
  if (o.earlyData) out.push(['client', concat([early.seal(23, ascii('GET /early HTTP/1.1\r\n\r\n')), early.seal(23, ascii('more'))])]);
  if (o.earlyAccepted) out.push(['client', concat([early.seal(23, wsRequest({ path: '/early' })), early.seal(23, cf(1, 'sent in 0-RTT'))])]);
  if (o.hrr) {
    // the HelloRetryRequest and the server's compatibility ChangeCipherSpec (RFC 8446 appendix D.4)
    out.push(['server', concat([record(22, serverHello(HRR_RANDOM, concat([ext(43, be16(0x0304)), ext(51, be16(0x001d))]))), record(20, Uint8Array.of(1))])]);
    out.push(['client', record(20, Uint8Array.of(1))]);
    out.push(['client', record(22, ch)]);
  }
  const sHs = new Sealer(...keys.serverHs);
  const cHs = new Sealer(...keys.clientHs);
  const sAp = new Sealer(...keys.serverAp);
  const cAp = new Sealer(...keys.clientAp);
  // EncryptedExtensions (with ALPN: TLS 1.3 selects it there) split over two records, then Certificate + Finished coalesced
  const ee = hsMsg(8, vec(2, concat([ext(16, vec(2, vec(1, ascii('http/1.1')))), ...(o.earlyAccepted ? [ext(42, new Uint8Array(0))] : [])])));
  out.push(['server', concat([record(22, serverHello(h('11'.repeat(32)))), sHs.seal(22, ee.subarray(0, 3)), sHs.seal(22, ee.subarray(3))])]);
  out.push(['server', sHs.seal(22, concat([hsMsg(11, new Uint8Array(300)), hsMsg(20, new Uint8Array(32))]))]);
  // the server accepted early data: the client ends it (EndOfEarlyData) under the early keys
  if (o.earlyData || o.earlyAccepted) out.push(['client', early.seal(22, hsMsg(5, new Uint8Array(0)))]);
  out.push(['client', concat([record(20, Uint8Array.of(1)), cHs.seal(22, hsMsg(20, new Uint8Array(32)))])]);
  if (o.app !== undefined) {
    for (const [dir, bytes] of o.app) out.push([dir, (dir === 'client' ? cAp : sAp).seal(23, bytes)]);
    return out;
  }
  if (!o.earlyAccepted) out.push(['client', cAp.seal(23, wsRequest({ path: '/feed' }))]);
  out.push(['server', sAp.seal(23, wsResponse())]);
  out.push(['client', cAp.seal(23, cf(1, 'hello inside TLS'))]);
  if (o.keyUpdate) {
    out.push(['client', cAp.seal(22, hsMsg(24, Uint8Array.of(0)))]);
    const next = expandLabel1(h(SECRETS.CLIENT_TRAFFIC_SECRET_0), 'traffic upd', 32);
    cAp.rekey(expandLabel1(next, 'key', 16), expandLabel1(next, 'iv', 12));
  }
  out.push(['client', cAp.seal(23, cf(1, 'after the key update'))]);
  out.push(['server', sAp.seal(23, concat([sf(1, 'one'), sf(2, Uint8Array.of(1, 2, 3))]))]);
  out.push(['server', sAp.seal(21, Uint8Array.of(2, 40))]);
  return out;
}

/**
 * run the conversation through a connection's stack, each direction cut into pieces of `piece`
 * bytes; `reuse`: every piece is pushed as a Node Buffer over one scratch buffer that the next
 * piece overwrites (as a capture source that reuses its buffer would)
 */
function run(steps: Array<['client' | 'server', Bytes]>, keylog: string | null, piece = Infinity, lateKeys?: { at: number; text: string }, onInternalError?: (e: unknown) => void, session: Partial<SessionOptions> = {}, reuse = false): EngineEvent[] {
  const events: EngineEvent[] = [];
  const keyLog = new KeyLog();
  if (keylog !== null) keyLog.addText(keylog, 'test');
  const stack = new ConnStack(1, (e) => events.push(e), { frames: 0, messages: 0 }, { session: { ...DEFAULT_SESSION_OPTIONS, keyLog, ...session }, registry: builtinRegistry(), clientPort: 50000, serverPort: 443, onInternalError });
  let packet = 0;
  const scratch = Buffer.alloc(steps.reduce((m, [, b]) => Math.max(m, b.length), 0));
  // one meta refilled for every chunk, as the pipeline does (engine/types.ts ChunkMeta): a held
  // record that kept it without a copy would come out with a later packet number
  const meta = { ts: 0, packet: 0 };
  for (const [dir, bytes] of steps) {
    if (lateKeys?.at === packet) keyLog.addText(lateKeys.text, 'late');
    const entry = stack.entry(dir);
    const n = Math.min(piece, bytes.length);
    for (let i = 0; i < bytes.length; i += n) {
      meta.ts = meta.packet = ++packet;
      const chunk = bytes.subarray(i, i + n);
      if (reuse) {
        scratch.set(chunk);
        entry.push(scratch.subarray(0, chunk.length), 0, meta);
      } else entry.push(chunk, 0, meta);
    }
  }
  stack.finish({ ts: packet, packet });
  return events;
}

/** a second session (its own secrets, the test's), for TLS carried inside the RFC 8448 one */
const INNER_RANDOM = h('ab'.repeat(32));
const innerKeys = (b: string): readonly [Buffer, Buffer] => [expandLabel1(h(b.repeat(32)), 'key', 16), expandLabel1(h(b.repeat(32)), 'iv', 12)];
const INNER: Session = { random: INNER_RANDOM, keys: { clientHs: innerKeys('c1'), serverHs: innerKeys('51'), clientAp: innerKeys('c2'), serverAp: innerKeys('52') } };
const INNER_KEYLOG = [
  `CLIENT_HANDSHAKE_TRAFFIC_SECRET ${INNER_RANDOM.toString('hex')} ${'c1'.repeat(32)}`,
  `SERVER_HANDSHAKE_TRAFFIC_SECRET ${INNER_RANDOM.toString('hex')} ${'51'.repeat(32)}`,
  `CLIENT_TRAFFIC_SECRET_0 ${INNER_RANDOM.toString('hex')} ${'c2'.repeat(32)}`,
  `SERVER_TRAFFIC_SECRET_0 ${INNER_RANDOM.toString('hex')} ${'52'.repeat(32)}`,
].join('\n');

const texts = (evs: EngineEvent[]): string[] => evs.flatMap((e) => (e.type === 'message' ? [`${e.dir} ${e.opcode === 1 ? Buffer.from(e.data).toString() : Buffer.from(e.data).toString('hex')}`] : []));
const tls = (evs: EngineEvent[]): TlsEvent[] => evs.filter((e): e is TlsEvent => e.type === 'tls');
const findings = (evs: EngineEvent[]): string[] => evs.flatMap((e) => (e.type === 'finding' ? [e.id] : []));
/** the events without their times and packet numbers (a run fed in other pieces numbers its packets otherwise); payloads as hex, which compares fast */
const strip = (evs: EngineEvent[]): unknown[] => evs.map((e) => ({ ...e, ts: 0, packet: 0, ...('firstPacket' in e ? { firstPacket: 0 } : {}), ...('data' in e && e.data instanceof Uint8Array ? { data: Buffer.from(e.data).toString('hex') } : {}) }));

// every test on each AEAD backend (aead.ts): the addon when it is built, and node:crypto
describe.each(usableAeadBackends())('the tls layer (AEAD: %s)', (backend) => {
  beforeAll(() => useAeadBackend(backend));
  afterAll(() => useAeadBackend(undefined));

  it('decrypts a TLS 1.3 session from the key log and decodes the WebSocket inside it', () => {
    const evs = run(conversation(), keylogText);
    // announced with the first application data (the upgrade request, packet 5), before the handshake event
    expect(tls(evs)).toEqual([{ type: 'tls', conn: 1, ts: 5, packet: 5, version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', sni: 'example.com', alpn: 'http/1.1', decrypted: true, records: { client: 4, server: 4 } }]);
    expect(evs.findIndex((e) => e.type === 'tls')).toBeLessThan(evs.findIndex((e) => e.type === 'handshake'));
    expect(evs.find((e) => e.type === 'handshake')).toMatchObject({ path: '/feed', status: 101, websocket: true, acceptValid: true });
    expect(texts(evs)).toEqual(['client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
    expect(findings(evs)).toEqual(['tls-alert']);
    expect(evs.find((e) => e.type === 'finding')).toMatchObject({ dir: 'server', text: 'TLS fatal alert handshake_failure (40).' });
  });

  it('decrypts TLS carried inside TLS (a record opened while the outer plaintext is being read), whole or in pieces', () => {
    const outer = conversation({ app: conversation({ session: INNER }) });
    for (const piece of [Infinity, 1, 7]) {
      const evs = run(outer, `${keylogText}\n${INNER_KEYLOG}`, piece);
      expect(tls(evs).map((e) => [e.sni, e.decrypted])).toEqual([
        ['example.com', true],
        ['example.com', true],
      ]);
      expect(texts(evs)).toEqual(['client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
    }
  });

  it('gives the same events fed byte by byte and in odd pieces (records and handshake messages split anywhere)', () => {
    const whole = run(conversation({ keyUpdate: true }), keylogText);
    expect(texts(whole)).toEqual(['client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
    for (const piece of [1, 3, 7, 100]) expect(strip(run(conversation({ keyUpdate: true }), keylogText, piece))).toEqual(strip(whole));
  });

  it('opens full-size records cut at segment sizes and pushed from a reused buffer: each record whole, its bytes copied as they come', () => {
    // two messages over several 2^14-byte records (RFC 8446 section 5.1), so most chunks of a
    // 1448-byte segmentation fall whole into a record begun in a chunk before
    const fromClient = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7 + 1) & 255);
    const fromServer = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 13 + 5) & 255);
    const inRecords = (dir: 'client' | 'server', b: Bytes): Array<['client' | 'server', Bytes]> => {
      const out: Array<['client' | 'server', Bytes]> = [];
      for (let at = 0; at < b.length; at += 16384) out.push([dir, b.subarray(at, at + 16384)]);
      return out;
    };
    const app: Array<['client' | 'server', Bytes]> = [['client', wsRequest({ path: '/big' })], ['server', wsResponse()], ...inRecords('client', cf(2, fromClient)), ...inRecords('server', sf(2, fromServer))];
    // each direction's consecutive records in one run of bytes, as on a TCP stream, so the cuts below fall anywhere in them
    const steps: Array<['client' | 'server', Bytes]> = [];
    for (const [dir, b] of conversation({ app })) {
      const last = steps[steps.length - 1];
      if (last?.[0] === dir) last[1] = concat([last[1], b]);
      else steps.push([dir, b]);
    }
    const whole = run(steps, keylogText);
    // as hex: vitest compares long byte arrays element by element, slowly
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    expect(whole.flatMap((e) => (e.type === 'message' ? [[e.dir, hex(e.data)]] : []))).toEqual([
      ['client', hex(fromClient)],
      ['server', hex(fromServer)],
    ]);
    // a segment's worth, one byte more, a record (5 + 2^14 + 1 + 16 bytes) and the next one's first 3 header bytes, a record less 3 bytes
    for (const piece of [1448, 1449, 16409, 16403]) expect(strip(run(steps, keylogText, piece, undefined, undefined, {}, true))).toEqual(strip(whole));
  });

  it('reads an empty record split over chunks without stalling', () => {
    const steps = conversation();
    steps.splice(1, 0, ['client', record(22, new Uint8Array(0))]);
    for (const piece of [1, 2, 4, Infinity]) expect(texts(run(steps, keylogText, piece))).toEqual(['client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
  });

  it('skips 0-RTT records it has no early keys for, without calling them a failure', () => {
    const evs = run(conversation({ earlyData: true }), keylogText);
    expect(tls(evs)[0]).toMatchObject({ decrypted: true });
    expect(texts(evs)).toEqual(['client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
    expect(findings(evs)).toEqual(['tls-alert']);
  });

  it('skips rejected 0-RTT records even when the key log has their early secret (the client sends that data again)', () => {
    const evs = run(conversation({ earlyData: true }), `${keylogText}\nCLIENT_EARLY_TRAFFIC_SECRET ${RANDOM.toString('hex')} ${EARLY_SECRET}`);
    expect(texts(evs)).toEqual(['client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
    expect(evs.find((e) => e.type === 'handshake')).toMatchObject({ path: '/feed' });
  });

  it('decrypts accepted 0-RTT data with CLIENT_EARLY_TRAFFIC_SECRET: the upgrade and first message sent early, whole or byte by byte', () => {
    const keys = `${keylogText}\nCLIENT_EARLY_TRAFFIC_SECRET ${RANDOM.toString('hex')} ${EARLY_SECRET}`;
    for (const piece of [Infinity, 1, 5]) {
      const evs = run(conversation({ earlyAccepted: true, keyUpdate: true }), keys, piece);
      expect(tls(evs)[0]).toMatchObject({ decrypted: true });
      expect(evs.find((e) => e.type === 'handshake')).toMatchObject({ path: '/early', status: 101, websocket: true });
      expect(texts(evs)).toEqual(['client sent in 0-RTT', 'client hello inside TLS', 'client after the key update', 'server one', 'server 010203']);
      expect(findings(evs)).toEqual(['tls-alert']);
      // held until the server's answer (packet 3 when fed whole), read with their own packet
      if (piece === Infinity) expect(evs.find((e) => e.type === 'message')).toMatchObject({ packet: 2 });
    }
    // without the early secret: said once, and the rest of the session still decrypts
    const without = run(conversation({ earlyAccepted: true }), keylogText);
    expect(findings(without)).toEqual(['tls-no-key', 'tls-alert']);
    expect(without.find((e) => e.type === 'finding')).toMatchObject({ dir: 'client', text: expect.stringMatching(/no CLIENT_EARLY_TRAFFIC_SECRET/) });
    expect(tls(without)[0]).toMatchObject({ decrypted: true });
  });

  it('follows a KeyUpdate to the next application secret', () => {
    const evs = run(conversation({ keyUpdate: true }), keylogText);
    expect(findings(evs)).toEqual(['tls-alert']);
    expect(texts(evs)).toContain('client after the key update');
  });

  it('skips a HelloRetryRequest and keys on the real ServerHello', () => {
    const evs = run(conversation({ hrr: true }), keylogText);
    expect(tls(evs)[0]).toMatchObject({ decrypted: true, version: 'TLS 1.3' });
    expect(texts(evs)).toHaveLength(4);
  });

  it('holds the records of a session whose keys come later (a secrets block further on) and decrypts them then', () => {
    const evs = run(conversation(), null, Infinity, { at: 6, text: keylogText });
    // the held records keep their own packet numbers: the events are those of a keyed run
    expect(tls(evs)[0]).toMatchObject({ decrypted: true, packet: 5 });
    const notTls = (e: EngineEvent): boolean => e.type !== 'tls';
    expect(evs.filter(notTls)).toEqual(run(conversation(), keylogText).filter(notTls));
    expect(texts(evs)).toHaveLength(4);
    // the held records are copies: pushed as Buffers over one reused buffer, the same events
    expect(run(conversation(), null, Infinity, { at: 6, text: keylogText }, undefined, {}, true)).toEqual(evs);
    const early = `${keylogText}\nCLIENT_EARLY_TRAFFIC_SECRET ${RANDOM.toString('hex')} ${EARLY_SECRET}`;
    expect(run(conversation({ earlyAccepted: true }), early, 7, undefined, undefined, {}, true)).toEqual(run(conversation({ earlyAccepted: true }), early, 7));
  });

  it('gives up a connection whose keys come after more than maxTlsHeld bytes of records (limit-reached), and holds up to it', () => {
    const late = { at: 6, text: keylogText };
    const over = run(conversation(), null, Infinity, late, undefined, { maxTlsHeld: 100 });
    expect(findings(over)).toEqual(['limit-reached', 'tls-no-key']);
    expect(over.find((e) => e.type === 'finding')).toMatchObject({ text: expect.stringMatching(/^Over 100 bytes .* --max-tls-held/) });
    expect(tls(over)[0]).toMatchObject({ decrypted: false });
    expect(texts(over)).toEqual([]);
    expect(texts(run(conversation(), null, Infinity, late, undefined, { maxTlsHeld: 4096 }))).toHaveLength(4);
  });

  it('names a cipher suite it does not decrypt (tls-unsupported-cipher) and decodes nothing', () => {
    const steps = conversation();
    steps[1] = ['server', record(22, serverHello(h('11'.repeat(32)), ext(43, be16(0x0304)), 0x1304))];
    const evs = run(steps, keylogText);
    expect(tls(evs)).toEqual([expect.objectContaining({ cipherSuite: 'TLS_AES_128_CCM_SHA256', decrypted: false, reason: 'cipher suite TLS_AES_128_CCM_SHA256 is not supported for decryption' })]);
    expect(findings(evs)).toEqual(['tls-unsupported-cipher']);
    expect(texts(evs)).toEqual([]);
  });

  it('survives mutated sessions (bytes flipped, cut, repeated, dropped): findings at most, never an internal error', () => {
    // xorshift32, seeded: the same mutations on every run
    let x = 0x9e3779b9;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const errors: unknown[] = [];
    for (let round = 0; round < 400; round++) {
      const steps = conversation({ keyUpdate: round % 2 === 0, hrr: round % 3 === 0, earlyData: round % 5 === 0, earlyAccepted: round % 7 === 1 }).map(([d, b]): ['client' | 'server', Bytes] => [d, new Uint8Array(b)]);
      for (let m = 1 + rnd(4); m > 0; m--) {
        const i = rnd(steps.length);
        const b = steps[i][1];
        const at = rnd(b.length);
        switch (rnd(4)) {
          case 0:
            b[at] ^= 1 << rnd(8);
            break;
          case 1:
            steps[i][1] = b.subarray(0, at);
            break;
          case 2:
            steps[i][1] = concat([b, b.subarray(at)]);
            break;
          default:
            steps.splice(i, 1);
        }
        if (steps.length === 0) break;
      }
      run(steps, `${keylogText}\nCLIENT_EARLY_TRAFFIC_SECRET ${RANDOM.toString('hex')} ${EARLY_SECRET}`, 1 + rnd(64), undefined, (e) => errors.push(e));
    }
    expect(errors).toEqual([]);
  });

  it('without a key: tls-no-key with the client random, the records counted, nothing decoded', () => {
    const evs = run(conversation(), null);
    expect(tls(evs)).toEqual([expect.objectContaining({ decrypted: false, reason: 'no key for this session', records: { client: 6, server: 7 } })]);
    const f = evs.find((e) => e.type === 'finding' && e.id === 'tls-no-key');
    expect(f?.type === 'finding' && f.text).toContain(RANDOM.toString('hex'));
    expect(texts(evs)).toEqual([]);
  });

  it('with a wrong key: decryption failed at the first encrypted record, once, and no bytes handed on, whole or in pieces', () => {
    const wrong = keylogText.replace(SECRETS.SERVER_HANDSHAKE_TRAFFIC_SECRET, 'ab'.repeat(32));
    const evs = run(conversation(), wrong);
    expect(tls(evs)).toEqual([expect.objectContaining({ decrypted: false, reason: 'decryption failed at record 3' })]);
    expect(findings(evs)).toEqual(['tls-decrypt-failed']);
    expect(evs.filter((e) => e.type === 'handshake' || e.type === 'message')).toEqual([]);
    for (const piece of [1, 7, 100]) expect(strip(run(conversation(), wrong, piece))).toEqual(strip(evs));
  });

  it('drops a record completed after a record of the other direction failed between its pieces, as one that came whole after the failure', () => {
    const steps = conversation();
    // the client's message record ('hello inside TLS'), and the server's next record damaged
    const i = steps.findIndex(([d, b], k) => d === 'client' && k > 0 && steps[k - 1][0] === 'server' && b[0] === 23 && steps[k + 1]?.[0] === 'client');
    const msg = steps[i][1];
    const damaged = new Uint8Array(steps[i + 2][1]);
    damaged[20] ^= 1;
    const cut: Array<['client' | 'server', Bytes]> = [...steps.slice(0, i), ['client', msg.subarray(0, 12)], ['server', damaged], ['client', msg.subarray(12)], ...steps.slice(i + 1)];
    const evs = run(cut, keylogText);
    expect(findings(evs)).toEqual(['tls-decrypt-failed']);
    expect(evs.find((e) => e.type === 'finding')).toMatchObject({ dir: 'server', text: expect.stringMatching(/^Decryption failed at record 10 /) });
    expect(evs.find((e) => e.type === 'handshake')).toMatchObject({ path: '/feed', status: 101 });
    expect(texts(evs)).toEqual([]);
    const after: Array<['client' | 'server', Bytes]> = [...steps.slice(0, i), ['server', damaged], ['client', msg], ...steps.slice(i + 1)];
    expect(strip(evs)).toEqual(strip(run(after, keylogText)));
    // the client's record whole before the damaged one is decoded
    expect(texts(run([...steps.slice(0, i + 1), ['server', damaged], ...steps.slice(i + 1)], keylogText))).toEqual(['client hello inside TLS']);
  });
});
