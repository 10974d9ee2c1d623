import { describe, it, expect, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { AEAD_MORE, usableAeadBackends, useAeadBackend } from './aead';
import { hkdfExpandLabel, MAX_RECORD_BODY, nextTrafficSecret, prf12, tls12Decrypters, tls13Decrypter, type RecordDecrypter } from './crypto';
import { keyLength, suiteOf } from './suites';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const NONE = new Uint8Array(0);
const AES128 = suiteOf(0x1301)!;

// RFC 8448 section 3 (Simple 1-RTT Handshake), TLS_AES_128_GCM_SHA256
const SERVER_HS = h('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38');
const CLIENT_HS = h('b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21');
const SERVER_AP = h('a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643');
const CLIENT_AP = h('9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5');
// {client} send application_data record: 50 bytes 00..31 under the client application keys, sequence 0
const CLIENT_AP_RECORD = h(`1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b
  62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4`);

describe('TLS 1.3 key schedule (RFC 8448 section 3)', () => {
  it('derives the traffic keys and IVs of the simple 1-RTT handshake with HKDF-Expand-Label', () => {
    const kv = (s: Buffer): string[] => [hkdfExpandLabel('sha256', s, 'key', NONE, 16).toString('hex'), hkdfExpandLabel('sha256', s, 'iv', NONE, 12).toString('hex')];
    expect(kv(SERVER_HS)).toEqual(['3fce516009c21727d0f2e4e86ee403bc', '5d313eb2671276ee13000b30']);
    expect(kv(CLIENT_HS)).toEqual(['dbfaa693d1762c5b666af5d950258d01', '5bd3c71b836e0b76bb73265f']);
    expect(kv(SERVER_AP)).toEqual(['9f02283b6c9c07efc26bb9f2ac92e356', 'cf782b88dd83549aadf1e984']);
    expect(kv(CLIENT_AP)).toEqual(['17422dda596ed5d9acd890e3c63f5051', '5b78923dee08579033e523d9']);
  });

  it('opens the client application_data record of the RFC and refuses it altered or with another key', () => {
    // the record at an offset in a larger buffer, as records come inside TCP bytes
    const rec = Buffer.concat([Buffer.from('junk'), CLIENT_AP_RECORD]);
    const len = CLIENT_AP_RECORD.length - 5;
    const out = new Uint8Array(MAX_RECORD_BODY);
    const opened = tls13Decrypter(AES128, CLIENT_AP).open(rec, 4, len, out);
    expect(opened?.type).toBe(23);
    expect([...opened!.data]).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const bad = Buffer.from(rec);
    bad[4 + 5 + 10] ^= 1;
    expect(tls13Decrypter(AES128, CLIENT_AP).open(bad, 4, len, out)).toBeNull();
    expect(tls13Decrypter(AES128, SERVER_AP).open(rec, 4, len, out)).toBeNull();
    // the header is the additional data (RFC 8446 section 5.2)
    const badHeader = Buffer.from(rec);
    badHeader[4 + 2] = 1;
    expect(tls13Decrypter(AES128, CLIENT_AP).open(badHeader, 4, len, out)).toBeNull();
    // the sequence number is part of the nonce: the same record as the second one does not
    // open; a record that did not open took no sequence number
    const d = tls13Decrypter(AES128, CLIENT_AP);
    expect(d.open(bad, 4, len, out)).toBeNull();
    expect(d.open(rec, 4, len, out)).not.toBeNull();
    expect(d.open(rec, 4, len, out)).toBeNull();
  });

  it('derives the next application secret on KeyUpdate (RFC 8446 section 7.2, "traffic upd")', () => {
    expect(nextTrafficSecret(AES128, CLIENT_AP).equals(hkdfExpandLabel('sha256', CLIENT_AP, 'traffic upd', NONE, 32))).toBe(true);
    expect(nextTrafficSecret(suiteOf(0x1302)!, h('00'.repeat(48)))).toHaveLength(48);
  });
});

describe('TLS 1.2 PRF (RFC 5246 section 5)', () => {
  const secret = h('9bbe436ba940f017b17652849a71db35');
  const seed = h('a0ba9f936cda311827a6f796ffd5198c');
  it('matches the P_SHA256 test vector circulated on the TLS working group list', () => {
    expect(prf12('sha256', secret, 'test label', seed, 100).toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  it("matches OpenSSL's TLS1-PRF with SHA-384 (openssl kdf as the oracle)", () => {
    const label = Buffer.from('test label').toString('hex');
    const out = execFileSync('openssl', ['kdf', '-keylen', '148', '-kdfopt', 'digest:SHA2-384', '-kdfopt', `hexsecret:${secret.toString('hex')}`, '-kdfopt', `hexseed:${label}${seed.toString('hex')}`, 'TLS1-PRF'], { encoding: 'utf8' });
    expect(prf12('sha384', secret, 'test label', seed, 148).toString('hex')).toBe(out.trim().replace(/:/g, '').toLowerCase());
  });
});

/**
 * the record rec (header then body) opened piecewise by `d` as TlsDirection does: begun with
 * the first `first` bytes of body there, the rest in pieces of `piece`; undefined when `d`
 * does not take it piecewise
 */
function openInPieces(d: RecordDecrypter, rec: Uint8Array, firstAsked: number, piece: number, out: Uint8Array): { type: number; data: string } | null | undefined {
  const len = rec.length - 5;
  // the first chunk never holds the whole record (it would be opened whole)
  const first = Math.min(firstAsked, len - 1);
  const used = d.begin(rec, 0, len, first);
  if (used < 0) return undefined;
  let r = AEAD_MORE;
  if (first > used) r = d.update(rec, 5 + used, first - used, out);
  for (let at = 5 + first; at < rec.length; at += piece) {
    expect(r).toBe(AEAD_MORE);
    r = d.update(rec, at, Math.min(piece, rec.length - at), out);
  }
  const o = d.finish(r, out);
  return o && { type: o.type, data: Buffer.from(o.data).toString('hex') };
}

afterEach(() => useAeadBackend(undefined));

describe.each(usableAeadBackends())('records opened as their pieces come (%s)', (backend) => {
  it('TLS 1.3: the RFC 8448 record cut at every offset, as when opened whole; the addon only (node:crypto keys take records whole)', () => {
    useAeadBackend(backend);
    const out = new Uint8Array(MAX_RECORD_BODY);
    const whole = tls13Decrypter(AES128, CLIENT_AP).open(CLIENT_AP_RECORD, 0, CLIENT_AP_RECORD.length - 5, out);
    const want = { type: 23, data: Buffer.from(whole!.data).toString('hex') };
    for (let first = 0; first < CLIENT_AP_RECORD.length - 5; first++) {
      for (const piece of [1, 16, 1000]) {
        const got = openInPieces(tls13Decrypter(AES128, CLIENT_AP), CLIENT_AP_RECORD, first, piece, out);
        expect(got).toEqual(backend === 'native' ? want : undefined);
      }
    }
    if (backend !== 'native') return;
    // altered: null, and the sequence number not taken (the record then opens whole)
    const bad = Buffer.from(CLIENT_AP_RECORD);
    bad[30] ^= 1;
    const d = tls13Decrypter(AES128, CLIENT_AP);
    expect(openInPieces(d, bad, 3, 7, out)).toBeNull();
    expect(d.seq).toBe(0);
    expect(d.open(CLIENT_AP_RECORD, 0, CLIENT_AP_RECORD.length - 5, out)).not.toBeNull();
    // a body too short for a tag and a content type is not begun
    expect(tls13Decrypter(AES128, CLIENT_AP).begin(CLIENT_AP_RECORD, 0, 16, 3)).toBe(-1);
  });

  it.each([0xc02f, 0xc030, 0xcca8])('TLS 1.2 suite %s: records cut anywhere, the GCM explicit nonce taken by begin (and not begun without it)', (code) => {
    useAeadBackend(backend);
    const suite = suiteOf(code)!;
    const master = randomBytes(48);
    const cr = randomBytes(32);
    const sr = randomBytes(32);
    // the client write key and IV, as RFC 5246 section 6.3 lays the key block out (no MAC keys in AEAD suites)
    const keyLen = keyLength(suite.bulk);
    const ivLen = suite.bulk === 'chacha20-poly1305' ? 12 : 4;
    const kb = prf12(suite.hash, master, 'key expansion', Buffer.concat([sr, cr]), 2 * (keyLen + ivLen));
    const key = kb.subarray(0, keyLen);
    const iv = kb.subarray(2 * keyLen, 2 * keyLen + ivLen);
    /** RFC 5246 section 6.2.3.3 / RFC 7905: application data record `seq` */
    const seal = (seq: number, pt: Buffer): Buffer => {
      const explicit = ivLen === 4 ? randomBytes(8) : Buffer.alloc(0);
      const nonce = ivLen === 4 ? Buffer.concat([iv, explicit]) : Buffer.from(iv);
      if (ivLen === 12) for (let i = 0; i < 8; i++) nonce[4 + i] ^= Number((BigInt(seq) >> BigInt(8 * (7 - i))) & 255n);
      const aad = Buffer.alloc(13);
      aad.writeBigUInt64BE(BigInt(seq));
      aad.set([23, 3, 3], 8);
      aad.writeUInt16BE(pt.length, 11);
      const c = createCipheriv(suite.bulk as 'aes-128-gcm', key, nonce, { authTagLength: 16 });
      c.setAAD(aad, { plaintextLength: pt.length });
      const body = Buffer.concat([explicit, c.update(pt), c.final(), c.getAuthTag()]);
      return Buffer.concat([Buffer.from([23, 3, 3, body.length >> 8, body.length & 255]), body]);
    };
    const out = new Uint8Array(MAX_RECORD_BODY);
    const pts = [randomBytes(3000), randomBytes(1), randomBytes(700)];
    const recs = pts.map((p, i) => seal(i, p));
    for (const first of [0, 5, 8, 9, 100]) {
      for (const piece of [1, 13, 1448]) {
        const d = tls12Decrypters(suite, master, cr, sr, false).client;
        recs.forEach((rec, i) => {
          const got = openInPieces(d, rec, first, piece, out);
          // GCM's 8-byte explicit nonce must be in the first piece for begin to take the record
          const piecewise = backend === 'native' && (ivLen === 12 || Math.min(first, rec.length - 6) >= 8);
          if (piecewise) expect(got, `record ${i}, ${first} then pieces of ${piece}`).toEqual({ type: 23, data: pts[i].toString('hex') });
          else {
            expect(got).toBeUndefined();
            expect(Buffer.from(d.open(rec, 0, rec.length - 5, out)!.data).equals(pts[i])).toBe(true);
          }
        });
      }
    }
  });
});
