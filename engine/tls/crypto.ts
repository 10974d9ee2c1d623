/**
 * TLS record protection, decrypt side: the TLS 1.3 key schedule's HKDF-Expand-Label
 * (RFC 8446 section 7.1), the TLS 1.2 PRF (RFC 5246 section 5) and key block (section 6.3),
 * and one `RecordDecrypter` per direction and epoch for the AEAD suites (RFC 5288, RFC 7905,
 * RFC 8446 section 5.2) and AES-CBC with HMAC (RFC 5246 section 6.2.3.2, encrypt_then_mac per
 * RFC 7366). No subprocess, no OpenSSL command line: node:crypto, and for the AEAD suites the
 * wsscope_tls addon when it is built (aead.ts; the same results either way).
 *
 * A decrypter holds its direction's keys and sequence number; `open` returns the record's
 * plaintext and its content type, or null when the record does not authenticate (a wrong key
 * or damaged bytes): nothing of an unauthenticated record is ever handed on. Keys never leave
 * this module and aead.ts in a message.
 *
 * Memory: the plaintext is written into a buffer lent for the record (`lendPlaintext`), or is
 * a new buffer (node:crypto); either way it is valid until that buffer is lent again, which
 * the TLS layer does only after it has pushed the plaintext on (engine/stack/layer.ts: pushed
 * bytes are valid during the call). One lent buffer per level of decryption in progress, so
 * the record buffers are bounded by nesting, not by connections.
 *
 * Speed (the hot path of a wss:// decode): per AEAD record, one call into the addon with the
 * key schedule already done, no allocation but the result's view; the nonce and additional
 * data are written into buffers each decrypter owns, the ciphertext is read in place (a view
 * of the record), and the sequence number is a plain number (2^53 records is beyond any
 * capture).
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { byteView, uninitializedBytes } from '../net/bytes';
import { AEAD_TAG, aeadKey, type AeadKey, type AeadKind } from './aead';
import { keyLength, macLength, type Hash, type Suite } from './suites';

/** HKDF-Expand (RFC 5869 section 2.3) */
export function hkdfExpand(hash: Hash, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  let n = 0;
  for (let i = 1; n < length; i++) {
    t = createHmac(hash, prk).update(t).update(info).update(Uint8Array.of(i)).digest();
    out.push(t);
    n += t.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 section 7.1): HkdfLabel = length, "tls13 " + label, context */
export function hkdfExpandLabel(hash: Hash, secret: Uint8Array, label: string, context: Uint8Array, length: number): Buffer {
  const l = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + l.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = l.length;
  l.copy(info, 3);
  info[3 + l.length] = context.length;
  info.set(context, 4 + l.length);
  return hkdfExpand(hash, secret, info, length);
}

/** TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label + seed) */
export function prf12(hash: 'sha256' | 'sha384', secret: Uint8Array, label: string, seed: Uint8Array, length: number): Buffer {
  const s = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a: Buffer = s;
  let n = 0;
  while (n < length) {
    a = createHmac(hash, secret).update(a).digest();
    const p = createHmac(hash, secret).update(a).update(s).digest();
    out.push(p);
    n += p.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** one record's plaintext and its (inner, for TLS 1.3) content type */
export interface Opened {
  type: number;
  data: Uint8Array;
}

export interface RecordDecrypter {
  /**
   * The record at rec[at]: its 5-byte header, then `len` bytes of body (at most
   * MAX_RECORD_BODY). `out`: a buffer from `lendPlaintext` the plaintext may be written to.
   * Returns the decrypter's own `Opened`, overwritten by its next call, or null: not authentic.
   */
  open(rec: Uint8Array, at: number, len: number, out: Uint8Array): Opened | null;
  /** records opened (or tried) so far in this epoch */
  readonly seq: number;
}

/** RFC 5246 section 6.2.3: TLSCiphertext.length <= 2^14 + 2048 (TLS 1.3 allows less, RFC 8446 section 5.2) */
export const MAX_RECORD_BODY = 16384 + 2048;
/** plaintext buffers kept for reuse: levels of TLS inside TLS deeper than this get a new buffer per record */
const KEPT_LEVELS = 4;
const plainBuffers: Uint8Array[] = [];
let plainLevel = 0;

/**
 * A buffer of MAX_RECORD_BODY bytes for one record's plaintext, lent until `returnPlaintext`:
 * the caller opens the record into it and pushes the plaintext on before giving it back. A
 * record opened while another's plaintext is still being pushed (TLS carried in TLS) gets
 * another buffer.
 */
export function lendPlaintext(): Uint8Array {
  const level = plainLevel++;
  if (level >= KEPT_LEVELS) return uninitializedBytes(MAX_RECORD_BODY);
  return (plainBuffers[level] ??= uninitializedBytes(MAX_RECORD_BODY));
}

export function returnPlaintext(): void {
  plainLevel--;
}

const TAG = AEAD_TAG;
const EMPTY = new Uint8Array(0);
const TWO_32 = 4294967296;

/** write `seq` as a 64-bit big-endian number at `b[at]` (byte by byte: Buffer's writers check their arguments on every record) */
function putSeq(b: Uint8Array, at: number, seq: number): void {
  const hi = Math.floor(seq / TWO_32);
  const lo = seq >>> 0;
  b[at] = hi >>> 24;
  b[at + 1] = hi >>> 16;
  b[at + 2] = hi >>> 8;
  b[at + 3] = hi;
  b[at + 4] = lo >>> 24;
  b[at + 5] = lo >>> 16;
  b[at + 6] = lo >>> 8;
  b[at + 7] = lo;
}

/**
 * RFC 8446 section 5.3 / RFC 7905 section 2: the per-record nonce is the IV xor the padded
 * sequence number, written into `out` (the decrypter's own 12-byte buffer)
 */
function xorNonce(out: Uint8Array, iv: Uint8Array, seq: number): Uint8Array {
  putSeq(out, 4, seq);
  for (let i = 0; i < 4; i++) out[i] = iv[i];
  for (let i = 4; i < 12; i++) out[i] ^= iv[i];
  return out;
}

/** the AEAD key of an AEAD suite */
function suiteKey(suite: Suite, key: Uint8Array): AeadKey {
  return aeadKey(suite.bulk as AeadKind, key);
}

/** TLS 1.3 traffic keys from a traffic secret (RFC 8446 section 7.3) */
export function tls13Decrypter(suite: Suite, secret: Uint8Array): RecordDecrypter {
  const key = suiteKey(suite, hkdfExpandLabel(suite.hash, secret, 'key', new Uint8Array(0), keyLength(suite.bulk)));
  const iv = hkdfExpandLabel(suite.hash, secret, 'iv', new Uint8Array(0), 12);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(5);
  const opened: Opened = { type: 0, data: EMPTY };
  let seq = 0;
  return {
    get seq() {
      return seq;
    },
    open(rec, at, len, out) {
      if (len < TAG + 1) return null;
      // RFC 8446 section 5.2: the additional data is the record header
      for (let i = 0; i < 5; i++) aad[i] = rec[at + i];
      const n = key.open(xorNonce(nonce, iv, seq), aad, rec, at + 5, len, out);
      // a record that does not open takes no sequence number: a server skips 0-RTT records it
      // rejected by trial decryption the same way (RFC 8446 section 4.2.10)
      if (n < 0) return null;
      seq++;
      // TLSInnerPlaintext: content, the real type, zero padding
      let end = n;
      while (end > 0 && out[end - 1] === 0) end--;
      if (end === 0) return null;
      opened.type = out[end - 1];
      opened.data = byteView(out, 0, end - 1);
      return opened;
    },
  };
}

/** RFC 8446 section 7.2: application_traffic_secret_N+1 */
export function nextTrafficSecret(suite: Suite, secret: Uint8Array): Buffer {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', new Uint8Array(0), suite.hash === 'sha384' ? 48 : 32);
}

/** TLS 1.2 keys of both directions from the master secret (RFC 5246 section 6.3) */
export function tls12Decrypters(suite: Suite, master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array, encryptThenMac: boolean): { client: RecordDecrypter; server: RecordDecrypter } {
  const macLen = suite.mac ? macLength(suite.mac) : 0;
  const keyLen = keyLength(suite.bulk);
  // implicit IVs only for the AEAD suites: 4-byte GCM salt (RFC 5288 section 3), 12 bytes for ChaCha20 (RFC 7905)
  const ivLen = suite.mac ? 0 : suite.bulk === 'chacha20-poly1305' ? 12 : 4;
  const kb = prf12(suite.hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (macLen + keyLen + ivLen));
  let o = 0;
  const take = (n: number): Buffer => kb.subarray(o, (o += n));
  const cMac = take(macLen);
  const sMac = take(macLen);
  const cKey = take(keyLen);
  const sKey = take(keyLen);
  const cIv = take(ivLen);
  const sIv = take(ivLen);
  const make = suite.mac ? (k: Buffer, m: Buffer): RecordDecrypter => cbcDecrypter(suite, k, m, encryptThenMac) : (k: Buffer, _m: Buffer, iv: Buffer): RecordDecrypter => aead12Decrypter(suite, k, iv);
  return { client: make(cKey, cMac, cIv), server: make(sKey, sMac, sIv) };
}

/**
 * RFC 5246 section 6.2.3.3: additional data = seq_num + type + version + length (type and
 * version from the header at rec[at]), written into `a` (13 bytes)
 */
function aad12(a: Uint8Array, seq: number, rec: Uint8Array, at: number, length: number): Uint8Array {
  putSeq(a, 0, seq);
  a[8] = rec[at];
  a[9] = rec[at + 1];
  a[10] = rec[at + 2];
  a[11] = length >>> 8;
  a[12] = length;
  return a;
}

function aead12Decrypter(suite: Suite, keyBytes: Buffer, iv: Buffer): RecordDecrypter {
  const key = suiteKey(suite, keyBytes);
  const chacha = suite.bulk === 'chacha20-poly1305';
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(13);
  const opened: Opened = { type: 0, data: EMPTY };
  if (!chacha) nonce.set(iv);
  let seq = 0;
  return {
    get seq() {
      return seq;
    },
    open(rec, at, len, out) {
      const s = seq++;
      // GCM: 8-byte explicit nonce after the salt (RFC 5288 section 3); ChaCha20: none
      const explicit = chacha ? 0 : 8;
      if (len < explicit + TAG) return null;
      const body = at + 5;
      if (chacha) xorNonce(nonce, iv, s);
      else for (let i = 0; i < 8; i++) nonce[4 + i] = rec[body + i];
      const n = key.open(nonce, aad12(aad, s, rec, at, len - explicit - TAG), rec, body + explicit, len - explicit, out);
      if (n < 0) return null;
      opened.type = rec[at];
      opened.data = byteView(out, 0, n);
      return opened;
    },
  };
}

function cbcDecrypter(suite: Suite, key: Buffer, macKey: Buffer, etm: boolean): RecordDecrypter {
  const mac = suite.mac as Hash;
  const macLen = macLength(mac);
  const aad = Buffer.alloc(13);
  let seq = 0;
  const hmac = (s: number, rec: Uint8Array, at: number, content: Uint8Array): Buffer => createHmac(mac, macKey).update(aad12(aad, s, rec, at, content.length)).update(content).digest();
  const decrypt = (ivAndCt: Uint8Array): Buffer | null => {
    if (ivAndCt.length < 32 || ivAndCt.length % 16 !== 0) return null;
    const d = createDecipheriv(suite.bulk, key, ivAndCt.subarray(0, 16));
    d.setAutoPadding(false);
    const p = Buffer.concat([d.update(ivAndCt.subarray(16)), d.final()]);
    // RFC 5246 section 6.2.3.2: padding_length + 1 bytes, each holding padding_length
    const pad = p[p.length - 1];
    if (pad + 1 > p.length) return null;
    for (let i = p.length - 1 - pad; i < p.length; i++) if (p[i] !== pad) return null;
    return p.subarray(0, p.length - 1 - pad);
  };
  return {
    get seq() {
      return seq;
    },
    open(rec, at, len) {
      const s = seq++;
      const body = byteView(rec, at + 5, len);
      if (etm) {
        // RFC 7366 section 3: the MAC covers the IV and ciphertext, checked before decrypting
        if (body.length < macLen) return null;
        const ivct = body.subarray(0, body.length - macLen);
        if (!same(hmac(s, rec, at, ivct), body.subarray(body.length - macLen))) return null;
        const p = decrypt(ivct);
        return p === null ? null : { type: rec[at], data: p };
      }
      const p = decrypt(body);
      if (p === null || p.length < macLen) return null;
      const content = p.subarray(0, p.length - macLen);
      if (!same(hmac(s, rec, at, content), p.subarray(p.length - macLen))) return null;
      return { type: rec[at], data: content };
    },
  };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
