/**
 * The TLS cipher suites wsscope decrypts, by IANA code point, with what the record layer and
 * key schedule need: the bulk cipher, the MAC (CBC suites), and the PRF / HKDF hash.
 * Names are the IANA registry's (https://www.iana.org/assignments/tls-parameters/).
 * A suite absent here is reported by name when the registry table knows it
 * (`suiteName`), else as its hex code point, with a `tls-unsupported-cipher` finding.
 */

export type Bulk = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-cbc' | 'aes-256-cbc';
export type Hash = 'sha1' | 'sha256' | 'sha384';

export interface Suite {
  code: number;
  name: string;
  bulk: Bulk;
  /** TLS 1.2 CBC suites: the record MAC; null for AEAD */
  mac: Hash | null;
  /** TLS 1.2 PRF hash, TLS 1.3 HKDF hash */
  hash: 'sha256' | 'sha384';
  tls13: boolean;
}

/** key sizes in bytes */
export function keyLength(b: Bulk): number {
  return b === 'aes-128-gcm' || b === 'aes-128-cbc' ? 16 : 32;
}

export function macLength(h: Hash): number {
  return h === 'sha1' ? 20 : h === 'sha256' ? 32 : 48;
}

const S = (code: number, name: string, bulk: Bulk, mac: Hash | null, hash: 'sha256' | 'sha384', tls13 = false): Suite => ({ code, name, bulk, mac, hash, tls13 });

const LIST: Suite[] = [
  // TLS 1.3 (RFC 8446 appendix B.4)
  S(0x1301, 'TLS_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256', true),
  S(0x1302, 'TLS_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384', true),
  S(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256', true),
  // TLS 1.2 AEAD (RFC 5288, RFC 5289, RFC 7905); the PRF hash is the suite's
  S(0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'),
  S(0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'),
  S(0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'),
  S(0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'),
  S(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'),
  S(0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'),
  S(0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', null, 'sha256'),
  S(0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', null, 'sha384'),
  S(0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'),
  S(0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'),
  S(0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', null, 'sha256'),
  // TLS 1.2 CBC (RFC 5246 appendix A.5, RFC 4492, RFC 5289): PRF SHA-256 unless the suite names SHA-384
  S(0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'),
  S(0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'),
  S(0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'),
  S(0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'aes-256-cbc', 'sha256', 'sha256'),
  S(0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'),
  S(0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'),
  S(0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'),
  S(0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'aes-256-cbc', 'sha256', 'sha256'),
  S(0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'),
  S(0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'),
  S(0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'aes-128-cbc', 'sha1', 'sha256'),
  S(0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'aes-256-cbc', 'sha1', 'sha256'),
  S(0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'),
  S(0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'aes-256-cbc', 'sha384', 'sha384'),
  S(0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'aes-128-cbc', 'sha256', 'sha256'),
  S(0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'aes-256-cbc', 'sha384', 'sha384'),
];

const BY_CODE = new Map(LIST.map((s) => [s.code, s]));

/** other suites seen in the wild, named but not decrypted */
const NAMES_ONLY: Record<number, string> = {
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
  0xc012: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  0xc0ac: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
  0xc09c: 'TLS_RSA_WITH_AES_128_CCM',
};

export function suiteOf(code: number): Suite | undefined {
  return BY_CODE.get(code);
}

/** IANA name of a cipher suite, or its code point as 0xNNNN */
export function suiteName(code: number): string {
  return BY_CODE.get(code)?.name ?? NAMES_ONLY[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}
