import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { hkdfExpandLabel, MAX_RECORD_BODY, nextTrafficSecret, prf12, tls13Decrypter } from './crypto';
import { suiteOf } from './suites';

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
