/**
 * The parts of the TLS handshake wsscope reads (RFC 8446 section 4.1, RFC 5246 section 7.4):
 * ClientHello (random, SNI, ALPN offered, supported versions), ServerHello (random, version
 * from supported_versions, cipher suite, ALPN selected, encrypt_then_mac) and the
 * HelloRetryRequest (a ServerHello with a fixed random, RFC 8446 section 4.1.3), plus
 * `HandshakeReader`, which cuts handshake messages out of the records that carry them (a
 * message may span records, a record may hold several messages).
 *
 * Parsers never throw: a malformed hello returns null. Parsed fields are copies (strings,
 * fresh Uint8Arrays); `HandshakeReader` copies a message only when it spans records.
 */

export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
/** RFC 8446 section 4.5: the client's last message under the early traffic keys */
export const HS_END_OF_EARLY_DATA = 5;
export const HS_ENCRYPTED_EXTENSIONS = 8;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

/** TLS version numbers (RFC 8446 appendix B.1 / RFC 5246) */
export function versionName(v: number): string {
  switch (v) {
    case 0x0304:
      return 'TLS 1.3';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0300:
      return 'SSL 3.0';
    default:
      return `0x${v.toString(16).padStart(4, '0')}`;
  }
}

export interface ClientHello {
  random: Uint8Array;
  sni: string;
  alpn: string[];
  /** supported_versions, or [legacy_version] without it */
  versions: number[];
  suites: number[];
  earlyData: boolean;
}

export interface ServerHello {
  random: Uint8Array;
  /** from supported_versions when present (TLS 1.3), else legacy_version */
  version: number;
  suite: number;
  alpn: string;
  encryptThenMac: boolean;
  /** a HelloRetryRequest (RFC 8446 section 4.1.3) */
  retry: boolean;
}

/** SHA-256("HelloRetryRequest"), the random of every HelloRetryRequest */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** bounds-checked reader over one message body */
class Cursor {
  p = 0;
  constructor(
    readonly b: Uint8Array,
    readonly end = b.length,
  ) {}
  u8(): number {
    if (this.p + 1 > this.end) throw RangeError('short');
    return this.b[this.p++];
  }
  u16(): number {
    if (this.p + 2 > this.end) throw RangeError('short');
    const v = (this.b[this.p] << 8) | this.b[this.p + 1];
    this.p += 2;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (this.p + n > this.end) throw RangeError('short');
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  /** a sub-cursor over a vector with an n-byte length */
  vec(lenBytes: 1 | 2): Cursor {
    const n = lenBytes === 1 ? this.u8() : this.u16();
    const c = new Cursor(this.b, this.p + n);
    if (c.end > this.end) throw RangeError('short');
    c.p = this.p;
    this.p += n;
    return c;
  }
  get left(): number {
    return this.end - this.p;
  }
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function extensions(c: Cursor, each: (type: number, body: Cursor) => void): void {
  if (c.left === 0) return;
  const all = c.vec(2);
  while (all.left > 0) {
    const type = all.u16();
    each(type, all.vec(2));
  }
}

/** a ClientHello body (after the 4-byte handshake header) */
export function parseClientHello(body: Uint8Array): ClientHello | null {
  try {
    const c = new Cursor(body);
    const legacy = c.u16();
    const random = new Uint8Array(c.bytes(32));
    c.vec(1); // legacy_session_id
    const cs = c.vec(2);
    const suites: number[] = [];
    while (cs.left > 0) suites.push(cs.u16());
    c.vec(1); // compression methods
    const out: ClientHello = { random, sni: '', alpn: [], versions: [legacy], suites, earlyData: false };
    extensions(c, (type, e) => {
      if (type === 0) {
        // RFC 6066 section 3: server_name_list of (name_type, HostName)
        const list = e.vec(2);
        while (list.left > 0) {
          const t = list.u8();
          const name = list.vec(2);
          if (t === 0 && out.sni === '') out.sni = latin1(name.bytes(name.left));
        }
      } else if (type === 16) {
        // RFC 7301 section 3.1: ProtocolNameList
        const list = e.vec(2);
        while (list.left > 0) {
          const n = list.vec(1);
          out.alpn.push(latin1(n.bytes(n.left)));
        }
      } else if (type === 43) {
        const list = e.vec(1);
        const vs: number[] = [];
        while (list.left > 0) vs.push(list.u16());
        out.versions = vs;
      } else if (type === 42) out.earlyData = true;
    });
    return out;
  } catch {
    return null;
  }
}

/**
 * What an EncryptedExtensions body says (TLS 1.3 sends these there, RFC 8446 section 4.3.1):
 * the ALPN protocol selected ('' for none) and whether the server accepted the client's
 * 0-RTT data (an empty early_data extension, RFC 8446 section 4.2.10).
 */
export function readEncryptedExtensions(body: Uint8Array): { alpn: string; earlyData: boolean } {
  const out = { alpn: '', earlyData: false };
  try {
    extensions(new Cursor(body), (type, e) => {
      if (type === 42) out.earlyData = true;
      if (type !== 16) return;
      const n = e.vec(2).vec(1);
      out.alpn = latin1(n.bytes(n.left));
    });
  } catch {
    // malformed: what was read so far
  }
  return out;
}

/** a ServerHello (or HelloRetryRequest) body */
export function parseServerHello(body: Uint8Array): ServerHello | null {
  try {
    const c = new Cursor(body);
    const legacy = c.u16();
    const random = new Uint8Array(c.bytes(32));
    c.vec(1);
    const suite = c.u16();
    c.u8();
    const out: ServerHello = { random, version: legacy, suite, alpn: '', encryptThenMac: false, retry: Buffer.from(random).equals(HRR_RANDOM) };
    extensions(c, (type, e) => {
      if (type === 43) out.version = e.u16();
      else if (type === 16) {
        const list = e.vec(2);
        const n = list.vec(1);
        out.alpn = latin1(n.bytes(n.left));
      } else if (type === 22) out.encryptThenMac = true;
    });
    return out;
  } catch {
    return null;
  }
}

/** `b` after the bytes held from the chunk before (a fresh array), or `b` itself when none are held */
export function afterHeld(held: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (held === null) return b;
  const j = new Uint8Array(held.length + b.length);
  j.set(held);
  j.set(b, held.length);
  return j;
}

/** longest handshake message kept whole (certificate chains are far below it) */
export const MAX_HANDSHAKE_MESSAGE = 256 * 1024;

/**
 * Handshake messages out of a direction's handshake records (RFC 8446 section 5.1: messages
 * may be split over records and coalesced into one). `each` gets the type and the body (a
 * view valid during the call). A message over MAX_HANDSHAKE_MESSAGE is skipped, not kept
 * (its type is still reported, with an empty body).
 */
export class HandshakeReader {
  private held: Uint8Array | null = null;
  private skipping = 0;

  constructor(private readonly each: (type: number, body: Uint8Array) => void) {}

  push(bytes: Uint8Array): void {
    let b = bytes;
    if (this.skipping > 0) {
      const n = Math.min(this.skipping, b.length);
      this.skipping -= n;
      b = b.subarray(n);
    }
    b = afterHeld(this.held, b);
    this.held = null;
    let p = 0;
    while (p < b.length) {
      if (b.length - p < 4) break;
      const type = b[p];
      const len = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      if (len > MAX_HANDSHAKE_MESSAGE) {
        this.each(type, new Uint8Array(0));
        const have = b.length - p - 4;
        if (have >= len) p += 4 + len;
        else {
          this.skipping = len - have;
          return;
        }
        continue;
      }
      if (b.length - p - 4 < len) break;
      this.each(type, b.subarray(p + 4, p + 4 + len));
      p += 4 + len;
    }
    if (p < b.length) this.held = b.slice(p);
  }

  /** bytes of a message still incomplete */
  get pending(): boolean {
    return this.held !== null || this.skipping > 0;
  }
}
