/**
 * The two AEAD backends (aead.ts): the wsscope_tls addon (native/tls) and node:crypto. Each
 * opens the published known-answer vectors and records node:crypto sealed, for every AEAD and
 * record size, and refuses them altered;
 * the addon is in use wherever it is built (CI requires it); it loads the system's
 * libcrypto.so.3 when the process exports no OpenSSL (Electron's case); and the CLI prints
 * the same on the bundled wss:// samples with the addon and without it.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/kit/paths';
import { aeadBackendInfo, aeadKey, findAddon, usableAeadBackends, useAeadBackend, type AeadKind } from './aead';
import { MAX_RECORD_BODY } from './crypto';

const KINDS: Array<[AeadKind, number]> = [
  ['aes-128-gcm', 16],
  ['aes-256-gcm', 32],
  ['chacha20-poly1305', 32],
];
const BACKENDS = usableAeadBackends();

function seal(kind: AeadKind, key: Buffer, nonce: Buffer, aad: Buffer, pt: Buffer): Buffer {
  const c = kind === 'chacha20-poly1305' ? createCipheriv(kind, key, nonce, { authTagLength: 16 }) : createCipheriv(kind, key, nonce);
  c.setAAD(aad, { plaintextLength: pt.length });
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

afterEach(() => useAeadBackend(undefined));

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
/** the plaintext of the GCM specification's test cases 4 and 16 (McGrew and Viega, "The Galois/Counter Mode of Operation", appendix B) */
const GCM_PT = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39';
/** published vectors: kind, key, nonce, additional data, ciphertext || tag, plaintext */
const VECTORS: Array<[AeadKind, Buffer, Buffer, Buffer, Buffer, Buffer]> = [
  // GCM specification, test case 4 (AES-128) and test case 16 (AES-256)
  ['aes-128-gcm', hex('feffe9928665731c6d6a8f9467308308'), hex('cafebabefacedbaddecaf888'), hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'), hex('42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' + '5bc94fbc3221a5db94fae95ae7121a47'), hex(GCM_PT)],
  ['aes-256-gcm', hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308'), hex('cafebabefacedbaddecaf888'), hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'), hex('522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' + '76fc6ece0f4e1768cddf8853bb2d551b'), hex(GCM_PT)],
  // RFC 8439 section 2.8.2
  [
    'chacha20-poly1305',
    hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
    hex('070000004041424344454647'),
    hex('50515253c0c1c2c3c4c5c6c7'),
    hex(
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116' +
        '1ae10b594f09e26a7e902ecbd0600691',
    ),
    Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
  ],
];

describe.each(BACKENDS)('AEAD records with %s', (backend) => {
  it.each(KINDS)('%s opens what node:crypto sealed, empty to a full TLS 1.2 record, and refuses it altered', (kind, keyLen) => {
    useAeadBackend(backend);
    const key = randomBytes(keyLen);
    const k = aeadKey(kind, key);
    const out = new Uint8Array(MAX_RECORD_BODY);
    /** the plaintext of `body`, given at an offset in a larger buffer as records come, or null */
    const open = (nonce: Buffer, aad: Buffer, body: Buffer): Buffer | null => {
      const src = Buffer.concat([randomBytes(3), body, randomBytes(2)]);
      const n = k.open(nonce, aad, src, 3, body.length, out);
      return n < 0 ? null : Buffer.from(out.subarray(0, n));
    };
    for (const n of [0, 1, 15, 16, 17, 1000, 16384, 16384 + 256, MAX_RECORD_BODY - 24]) {
      const nonce = randomBytes(12);
      const aad = randomBytes(n % 2 === 0 ? 5 : 13);
      const pt = randomBytes(n);
      const body = seal(kind, key, nonce, aad, pt);
      expect(open(nonce, aad, body)?.equals(pt)).toBe(true);
      for (const [what, b, a, v] of [
        ['tag', Buffer.from(body).fill(body[body.length - 1] ^ 1, body.length - 1), aad, nonce],
        ['additional data', body, Buffer.from(aad).fill(aad[0] ^ 0x80, 0, 1), nonce],
        ['nonce', body, aad, Buffer.from(nonce).fill(nonce[11] ^ 1, 11)],
        ...(n > 0 ? [['ciphertext', Buffer.from(body).fill(body[0] ^ 1, 0, 1), aad, nonce]] : []),
      ] as Array<[string, Buffer, Buffer, Buffer]>) {
        out.fill(0xaa);
        expect(open(v, a, b), `${kind} ${n} bytes, altered ${what}`).toBeNull();
        // the addon leaves no unauthenticated plaintext in the lent buffer
        if (backend === 'native') expect(out.subarray(0, n).every((x) => x === 0)).toBe(true);
      }
    }
    // a body shorter than its tag
    expect(k.open(randomBytes(12), new Uint8Array(0), new Uint8Array(15), 0, 15, out)).toBe(-1);
    // another key of the same kind
    const nonce = randomBytes(12);
    const other = seal(kind, key, nonce, Buffer.alloc(0), Buffer.from('x'));
    expect(aeadKey(kind, randomBytes(keyLen)).open(nonce, new Uint8Array(0), other, 0, other.length, out)).toBe(-1);
  });
});

describe.each(BACKENDS)('published AEAD vectors with %s', (backend) => {
  it.each(VECTORS.map((v) => [v[0], v] as const))('%s opens its known-answer vector, and refuses it with one bit of the tag flipped, leaving no plaintext', (_, [kind, key, nonce, aad, body, pt]) => {
    useAeadBackend(backend);
    const k = aeadKey(kind, key);
    const out = new Uint8Array(body.length);
    expect(k.open(nonce, aad, body, 0, body.length, out)).toBe(pt.length);
    expect(Buffer.from(out.subarray(0, pt.length)).equals(pt)).toBe(true);
    const bad = Buffer.from(body);
    bad[bad.length - 1] ^= 0x80;
    expect(k.open(nonce, aad, bad, 0, bad.length, out)).toBe(-1);
    if (backend === 'native') expect(out.subarray(0, pt.length).every((x) => x === 0)).toBe(true);
  });
});

describe('the wsscope_tls addon', () => {
  it('is in use wherever it is built, unless WSSCOPE_TLS_NATIVE=0 (WSSCOPE_TLS_NATIVE=1, as CI sets, requires it)', () => {
    const info = aeadBackendInfo();
    const env = process.env.WSSCOPE_TLS_NATIVE;
    const required = env === '1' || (env !== '0' && findAddon() !== null);
    expect(info.backend, info.reason).toBe(required ? 'native' : 'node:crypto');
    if (info.backend === 'native') expect(info.openssl).toMatch(/^process: OpenSSL 3\./);
  });

  it('falls back to node:crypto when WSSCOPE_TLS_NATIVE=0, saying so', () => {
    const code = `import('./engine/tls/aead.ts').then((m) => console.log(JSON.stringify(m.aeadBackendInfo())))`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, WSSCOPE_TLS_NATIVE: '0' } });
    expect(JSON.parse(r.stdout)).toEqual({ backend: 'node:crypto', openssl: '', reason: 'WSSCOPE_TLS_NATIVE=0' });
  });

  it.each(BACKENDS.includes('native') ? ['process', 'system'] : [])(
    'takes its OpenSSL from the %s, and opens every AEAD with it (system: libcrypto.so.3, as in Electron, whose BoringSSL exports nothing)',
    (from) => {
      const script = `
        const { createCipheriv } = require('node:crypto');
        const m = require(${JSON.stringify(findAddon())});
        const ok = [0, 1, 2].map((kind) => {
          const name = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'][kind];
          const key = Buffer.alloc(kind === 0 ? 16 : 32, 7), nonce = Buffer.alloc(12, 9), aad = Buffer.from('aad');
          const c = createCipheriv(name, key, nonce, { authTagLength: 16 });
          c.setAAD(aad);
          const body = Buffer.concat([c.update('plaintext'), c.final(), c.getAuthTag()]);
          const out = Buffer.alloc(64);
          const n = m.aeadOpen(m.aeadNew(kind, key), nonce, aad, body, 0, body.length, out);
          return out.subarray(0, n).toString() === 'plaintext';
        });
        console.log(JSON.stringify({ openssl: m.openssl, ok }));`;
      const env = { ...process.env, WSSCOPE_TLS_LIBCRYPTO: from === 'system' ? 'system' : '' };
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
      const got = JSON.parse(r.stdout) as { openssl: string; ok: boolean[] };
      expect(got.ok).toEqual([true, true, true]);
      expect(got.openssl).toMatch(from === 'system' ? /^libcrypto\.so\.3: OpenSSL 3\./ : /^process: OpenSSL 3\./);
    },
  );

  it('gives the CLI the same output on the bundled wss:// samples as node:crypto does', () => {
    const samples = join(REPO_ROOT, 'resources', 'samples');
    const read = (native: '0' | '1', ...args: string[]): string => {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), 'read', ...args, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, WSSCOPE_TLS_NATIVE: native } });
      expect(r.status).toBe(0);
      return r.stdout;
    };
    for (const args of [[join(samples, 'wss.pcapng'), '--keylog', join(samples, 'wss.keys')], [join(samples, 'h2.pcapng')]]) {
      const withAddon = read('1', ...args);
      expect(withAddon).toContain('"decrypted":true');
      expect(read('0', ...args)).toBe(withAddon);
    }
  });
});
