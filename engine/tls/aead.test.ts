/**
 * The two AEAD backends (aead.ts): the wsscope_tls addon (native/tls) and node:crypto. Each
 * opens records node:crypto sealed, for every AEAD and record size, and refuses them altered;
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
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.mjs'), 'read', ...args, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, WSSCOPE_TLS_NATIVE: native } });
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
