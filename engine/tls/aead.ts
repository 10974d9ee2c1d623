/**
 * AEAD record opening for crypto.ts (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305: RFC 5116,
 * RFC 5288, RFC 7905, RFC 8446 section 5.2), by one of two backends with the same results:
 *
 *  - `native`: the wsscope_tls Node-API addon (native/tls/wsscope_tls.c, built by `npm ci`),
 *    one OpenSSL context per key with its key schedule done once, the plaintext written into
 *    a buffer the caller lends. Several times node:crypto's speed on a wss:// capture.
 *  - `node:crypto`: a decipher per record (node:crypto's AEAD ciphers take the nonce at
 *    creation) and a fresh plaintext buffer. Used when the addon is not built (no compiler,
 *    no libcrypto.so.3), does not load, fails its known-answer check on load, or
 *    `WSSCOPE_TLS_NATIVE=0` is set.
 *
 * `WSSCOPE_TLS_NATIVE=1` changes nothing here; it tells the tests that the addon must be in
 * use (CI sets it: .ci/run).
 *
 * The addon is found by walking up from this module's directory to the one holding
 * `native/tls/build/Release/wsscope_tls.node` (the repository root, whether this file runs
 * from source, the CLI's bundle in node_modules/.cache, or electron-vite's out/). It is
 * loaded once per process, on the first key made.
 *
 * Memory: a native key owns an OpenSSL context (freed with the key object by the GC); `open`
 * keeps nothing of its arguments and writes the plaintext into the caller's `out` (node:crypto's
 * output is copied there), so a record costs no allocation on the native path.
 */
import { createDecipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { byteView } from '../net/bytes';

export type AeadKind = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type AeadBackend = 'native' | 'node:crypto';

/** RFC 5116 section 5 / RFC 8439 section 2.8: every AEAD here has a 16-byte tag and a 12-byte nonce */
export const AEAD_TAG = 16;

/** One key of one AEAD. */
export interface AeadKey {
  /**
   * Opens the record body src[off, off + len) (ciphertext then tag) under `nonce` (12 bytes)
   * and `aad`: writes the plaintext to out[0, n) and returns n, or -1 when it does not
   * authenticate. `out` holds at least len - 16 bytes and does not overlap the body.
   */
  open(nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, off: number, len: number, out: Uint8Array): number;
}

/** the addon's exports (native/tls/wsscope_tls.c) */
export interface Addon {
  /** which OpenSSL serves: "process: OpenSSL 3.x ..." or "libcrypto.so.3: ...", "none" */
  readonly openssl: string;
  aeadNew(kind: number, key: Uint8Array): object;
  aeadOpen(ctx: object, nonce: Uint8Array, aad: Uint8Array, src: Uint8Array, off: number, len: number, out: Uint8Array): number;
}

const KINDS: Record<AeadKind, number> = { 'aes-128-gcm': 0, 'aes-256-gcm': 1, 'chacha20-poly1305': 2 };

/** where node-gyp puts the addon, relative to the repository root */
export const ADDON_PATH = join('native', 'tls', 'build', 'Release', 'wsscope_tls.node');

/** the built addon's path, looked for from this module's directory upwards; null when there is none */
export function findAddon(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; ) {
    const p = join(dir, ADDON_PATH);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

// RFC 8448 section 3: the client's first application_data record (50 bytes 00..31 and the
// inner type 23) under the client application key and IV, sequence 0: the check a loaded
// addon must pass before it is used
const KAT_KEY = '17422dda596ed5d9acd890e3c63f5051';
const KAT_NONCE = '5b78923dee08579033e523d9';
const KAT_RECORD =
  '1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4';

/** does `a` open the RFC 8448 record, and refuse it with one bit flipped? */
export function passesKnownAnswer(a: Addon): boolean {
  const rec = Buffer.from(KAT_RECORD, 'hex');
  const nonce = Buffer.from(KAT_NONCE, 'hex');
  const ctx = a.aeadNew(KINDS['aes-128-gcm'], Buffer.from(KAT_KEY, 'hex'));
  const out = new Uint8Array(rec.length);
  const n = a.aeadOpen(ctx, nonce, rec.subarray(0, 5), rec, 5, rec.length - 5, out);
  if (n !== 51 || out[50] !== 23 || out.subarray(0, 50).some((b, i) => b !== i)) return false;
  rec[20] ^= 1;
  return a.aeadOpen(ctx, nonce, rec.subarray(0, 5), rec, 5, rec.length - 5, out) === -1;
}

let addon: Addon | null | undefined;
/** why the addon is not used (for `tlsBackendInfo`); '' when it is */
let whyNot = '';
/** set by tests and `useAeadBackend` */
let forced: AeadBackend | undefined;

/** load and check the addon once; null when it is not there or not usable */
function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.WSSCOPE_TLS_NATIVE === '0') {
    whyNot = 'WSSCOPE_TLS_NATIVE=0';
    return null;
  }
  const path = findAddon();
  if (path === null) {
    whyNot = `${ADDON_PATH} is not built (npm ci builds it; see native/tls/README.md)`;
    return null;
  }
  try {
    // process.dlopen, not require: no module resolution (package.json lookups) for an absolute path
    const m = { exports: {} };
    process.dlopen(m, path);
    const a = m.exports as Addon;
    if (a.openssl === 'none') whyNot = 'the addon found no OpenSSL 3 (in the process or as libcrypto.so.3)';
    else if (!passesKnownAnswer(a)) whyNot = `${path} failed its known-answer check`;
    else addon = a;
  } catch (e) {
    whyNot = `${path} does not load: ${e instanceof Error ? e.message : String(e)}`;
  }
  return addon;
}

/** The backend new keys use: with the addon, which OpenSSL serves it; without, why not. */
export function aeadBackendInfo(): { backend: AeadBackend; openssl: string; reason: string } {
  const a = forced === 'node:crypto' ? null : loadAddon();
  if (a !== null) return { backend: 'native', openssl: a.openssl, reason: '' };
  return { backend: 'node:crypto', openssl: '', reason: forced === 'node:crypto' ? 'forced' : whyNot };
}

/** the backends usable in this process: node:crypto always, the addon when it loads and passes its check */
export function usableAeadBackends(): AeadBackend[] {
  return loadAddon() === null ? ['node:crypto'] : ['native', 'node:crypto'];
}

/**
 * Make the keys created from now on use `backend` (tests run the engine on each path);
 * undefined: the default (the addon when it is usable). Forcing `native` when the addon is not
 * usable throws.
 */
export function useAeadBackend(backend: AeadBackend | undefined): void {
  if (backend === 'native' && loadAddon() === null) throw new Error(`the TLS addon is not usable: ${whyNot}`);
  forced = backend;
}

/** A key of `kind` for opening records. */
export function aeadKey(kind: AeadKind, key: Uint8Array): AeadKey {
  const a = forced === 'node:crypto' ? null : loadAddon();
  if (a !== null) {
    const ctx = a.aeadNew(KINDS[kind], key);
    return { open: (nonce, aad, src, off, len, out) => (len < AEAD_TAG ? -1 : a.aeadOpen(ctx, nonce, aad, src, off, len, out)) };
  }
  const k = Buffer.from(key);
  return {
    open(nonce, aad, src, off, len, out) {
      const ctLen = len - AEAD_TAG;
      if (ctLen < 0) return -1;
      try {
        const d = kind === 'chacha20-poly1305' ? createDecipheriv(kind, k, nonce, { authTagLength: AEAD_TAG }) : createDecipheriv(kind, k, nonce);
        d.setAAD(aad, { plaintextLength: ctLen });
        d.setAuthTag(byteView(src, off + ctLen, AEAD_TAG));
        const p = d.update(byteView(src, off, ctLen));
        const f = d.final();
        // into `out` like the addon's, so callers see one contract (the copy costs this slow path little)
        out.set(p);
        out.set(f, p.length);
        return p.length + f.length;
      } catch {
        return -1;
      }
    },
  };
}
