/**
 * TLS as a stream-stack layer (engine/stack/layer.ts): the record layer over each
 * direction's reassembled bytes (records spanning segments, several per segment), the
 * handshake read in clear (ClientHello, ServerHello, HelloRetryRequest: handshake.ts), keys
 * looked up in the key log by the client random (keylog.ts), records decrypted
 * (crypto.ts), and the plaintext of each direction fed to a nested stack
 * (`LayerContext.nest`), which detects what runs inside (HTTP/1.1 -> WebSocket, ...) exactly
 * as on a plaintext connection.
 *
 * Detection: a handshake record (RFC 8446 section 5.1, RFC 5246 section 6.2.1) starting a
 * ClientHello on the client's first bytes, or a ServerHello on the server's. The layer
 * claims its connection (both directions are records whatever comes).
 *
 * Key schedule: TLS 1.3 uses the handshake traffic secrets from ServerHello on, each
 * direction's application secret after its Finished, and the next secret after a KeyUpdate
 * (RFC 8446 sections 7.1-7.2); TLS 1.2 derives the key block from the master secret once
 * the ServerHello is seen and a direction is encrypted after its ChangeCipherSpec.
 *
 * What a user gets, once per connection, as a `tls` event: version, cipher suite, SNI,
 * ALPN, and whether it decrypted. It is emitted before the first decrypted application
 * data, or at the first record that does not authenticate (`tls-decrypt-failed`, then
 * nothing more of the connection is decrypted: no garbage is handed on), or at the end of
 * the connection (no key: `tls-no-key` with the client random; unsupported suite:
 * `tls-unsupported-cipher`). Alerts give `tls-alert` (close_notify excepted).
 *
 * 0-RTT (RFC 8446 sections 2.3, 4.2.10): the client's records after a ClientHello offering
 * early_data are held until the server's EncryptedExtensions says whether it accepted early
 * data. Accepted: they are opened with the keys of CLIENT_EARLY_TRAFFIC_SECRET (the PSK's
 * suite is the one the ServerHello selects) up to the client's EndOfEarlyData, and their
 * application data is the start of the client's stream inside. Rejected (or a
 * HelloRetryRequest): they are skipped as the server skips them; the client sends that data
 * again after the handshake.
 *
 * Keys that are not there yet (a pcapng Decryption Secrets Block later in the file, a line
 * a followed key log has not got yet): the records are held, copied, up to `maxTlsHeld`
 * bytes per connection (session option, default MAX_HELD_BYTES; `wsscope capture
 * --max-tls-held`), and decrypted as soon as the key log has the session; past the bound
 * (`limit-reached`) the connection is given up as keyless.
 *
 * Memory: a partial record per direction (at most 5 + 2^14 + 2048 bytes), partial handshake
 * messages (handshake.ts bounds them), held records as said (0-RTT records count in the
 * same MAX_HELD_BYTES). Plaintext handed to the nested
 * stack is written into a buffer lent per record (crypto.ts `lendPlaintext`: one per level
 * of TLS in TLS, not one per connection), valid during the push (the nested layers copy what
 * they keep, as with TCP bytes).
 *
 * Speed (the wss:// hot path besides the AEAD): a record inside one chunk is opened in place;
 * a record cut by segment boundaries (most of them: 16 KB records over ~1.4 KB segments) is
 * copied once, chunk by chunk, into the direction's record buffer, a chunk that falls whole
 * into it without making a view. Opening such a record chunk by chunk instead (a streaming
 * AEAD, no copy) was measured no faster, twice (the second in commit df6fe94, reverted): on the
 * wss benchmark capture (9,957 records cut by segments hold 87.6 of its 91 MB, in about
 * 70,000 pieces of chunks) the copy's 18 ms went, and an addon call per piece (+7.6 ms of
 * Node-API) and OpenSSL's work per call on partial blocks (+8 ms) came. Chunks holding two or
 * more whole records, which one addon call could open together, are 120 of its 76,462.
 */
import type { Direction } from '../../shared/events';
import { byteView, uninitializedBytes } from '../net/bytes';
import { keepMeta, type ChunkMeta } from '../types';
import { DETECT_MORE, DETECT_NO, type ByteStream, type EndReason, type Layer, type LayerContext, type NestedStack, type ProtocolModule } from '../stack/layer';
import { lendPlaintext, MAX_RECORD_BODY, nextTrafficSecret, returnPlaintext, tls12Decrypters, tls13Decrypter, type Opened, type RecordDecrypter } from './crypto';
import { readEncryptedExtensions, HandshakeReader, HS_CLIENT_HELLO, HS_ENCRYPTED_EXTENSIONS, HS_END_OF_EARLY_DATA, HS_FINISHED, HS_KEY_UPDATE, HS_SERVER_HELLO, parseClientHello, parseServerHello, versionName, type ClientHello, type ServerHello } from './handshake';
import type { SessionSecrets } from './keylog';
import { suiteName, suiteOf, type Suite } from './suites';

const CT_CCS = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPDATA = 23;
/** RFC 8446 section 5.2: TLSCiphertext.length <= 2^14 + 256; RFC 5246 section 6.2.3: 2^14 + 2048 */
const MAX_RECORD = MAX_RECORD_BODY;
/** 0-RTT records skipped before the client's first handshake record before that counts as a failure */
const MAX_EARLY_RECORDS = 64;
/** bytes of encrypted records held per connection while its keys are missing */
export const MAX_HELD_BYTES = 256 * 1024;

/** RFC 8446 section 6 / RFC 5246 section 7.2 alert descriptions */
const ALERTS: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure', 42: 'bad_certificate',
  43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown', 47: 'illegal_parameter',
  48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security',
  80: 'internal_error', 86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation', 109: 'missing_extension',
  110: 'unsupported_extension', 112: 'unrecognized_name', 113: 'bad_certificate_status_response', 115: 'unknown_psk_identity',
  116: 'certificate_required', 120: 'no_application_protocol',
};

export function alertName(d: number): string {
  return ALERTS[d] ?? `alert ${d}`;
}

/** is this a TLS record header: a known content type, version 3.x, a length in range? */
function recordHeaderOk(b: Uint8Array, p: number): boolean {
  const t = b[p];
  const len = (b[p + 3] << 8) | b[p + 4];
  return t >= CT_CCS && t <= 24 && b[p + 1] === 3 && b[p + 2] <= 4 && len <= MAX_RECORD;
}

/**
 * A copy of the record at rec[at] (header and `len` bytes of body). Not `rec.slice()`: on a
 * Node Buffer that is a view, and the bytes pushed may be a Buffer the source reuses.
 */
function recordCopy(rec: Uint8Array, at: number, len: number): Uint8Array {
  return new Uint8Array(byteView(rec, at, 5 + len));
}

/** One direction's record reader. */
class TlsDirection implements ByteStream {
  /** the record cut by a segment boundary, copied (one buffer of the largest record, made on first use) */
  private part: Uint8Array | null = null;
  /** bytes of it held */
  private fill = 0;
  stopped = false;
  records = 0;
  /** decrypts this direction's records from now on (null: clear, or no key) */
  dec: RecordDecrypter | null = null;
  /** the direction sent ChangeCipherSpec (TLS 1.2: what follows is encrypted) */
  encrypted = false;
  /** TLS 1.3: the traffic secret of the current epoch (KeyUpdate derives the next) */
  secret: Uint8Array | null = null;
  appEpoch = false;
  /** a record of this direction was decrypted */
  opened = false;
  /** 0-RTT records skipped (early data the server rejected, or without its key) */
  skippedEarly = 0;
  /** client: the early traffic keys, from an accepted 0-RTT until EndOfEarlyData */
  early: RecordDecrypter | null = null;
  readonly clearHs: HandshakeReader;
  readonly innerHs: HandshakeReader;

  constructor(
    private readonly layer: TlsLayer,
    readonly dir: Direction,
  ) {
    this.clearHs = new HandshakeReader((t, b) => layer.handshake(this, t, b, false));
    this.innerHs = new HandshakeReader((t, b) => layer.handshake(this, t, b, true));
  }

  push(bytes: Uint8Array, skip: number, meta: ChunkMeta): void {
    if (this.stopped) return;
    if (skip !== 0) {
      // records cannot be found again after lost bytes, and the sequence numbers are lost with them
      if (skip > 0) this.layer.ctx.finding('tcp-gap', this.dir, meta, `${skip} bytes of TLS were lost; the rest of this direction is not decrypted.`);
      this.stop(meta);
      return;
    }
    const b = bytes;
    const n = b.length;
    let p = 0;
    if (this.fill > 0) {
      // complete the record held from the chunks before: header first, then its body
      const rec = this.part as Uint8Array;
      if (this.fill < 5) {
        const take = Math.min(5 - this.fill, n);
        rec.set(b.subarray(0, take), this.fill);
        this.fill += take;
        p = take;
        if (this.fill < 5) return;
        if (!this.headerOk(rec, 0, meta)) return;
      }
      const want = 5 + ((rec[3] << 8) | rec[4]);
      const take = Math.min(want - this.fill, n - p);
      // most chunks of a record larger than a segment fall whole into it: copied without a view
      rec.set(take === n ? b : byteView(b, p, take), this.fill);
      this.fill += take;
      p += take;
      if (this.fill < want) return;
      this.fill = 0;
      if (!this.take(rec, 0, want - 5, meta)) return;
    }
    // whole records in this chunk are read in place
    while (n - p >= 5) {
      if (!this.headerOk(b, p, meta)) return;
      const len = (b[p + 3] << 8) | b[p + 4];
      if (n - p - 5 < len) break;
      if (!this.take(b, p, len, meta)) return;
      p += 5 + len;
    }
    if (p < n) {
      // the start of a record the next chunks finish: copied into the direction's record buffer
      this.part ??= uninitializedBytes(5 + MAX_RECORD);
      this.part.set(p === 0 ? b : byteView(b, p, n - p), 0);
      this.fill = n - p;
      if (this.fill >= 5 && !this.headerOk(this.part, 0, meta)) return;
    }
  }

  /** is there a record header at `p`? When not, the direction is given up */
  private headerOk(b: Uint8Array, p: number, meta: ChunkMeta): boolean {
    if (recordHeaderOk(b, p)) return true;
    // a direction that never spoke TLS (the other side's ClientHello claimed the
    // connection) is given back to the stack quietly; one that did has been damaged
    if (this.records === 0) this.layer.ctx.reject(this.layer, this.dir);
    else this.layer.ctx.finding('tls-decrypt-failed', this.dir, meta, `Bytes that are not a TLS record at record ${this.layer.recordNo + 1}; the rest of this direction is not decoded.`);
    this.stop(meta);
    return false;
  }

  /** one whole record at rec[at] (header, then `len` bytes of body; valid during the call); false when the direction stopped */
  private take(rec: Uint8Array, at: number, len: number, meta: ChunkMeta): boolean {
    this.records++;
    this.layer.record(this, rec, at, len, meta);
    return !this.stopped;
  }

  end(reason: EndReason, meta: ChunkMeta): void {
    this.part = null;
    this.fill = 0;
    this.layer.inner?.[this.dir].end(reason, meta);
  }

  private stop(meta: ChunkMeta): void {
    this.stopped = true;
    this.part = null;
    this.fill = 0;
    this.layer.inner?.[this.dir].end('eof', meta);
  }
}

interface Held {
  d: TlsDirection;
  /** the record, header and body, copied */
  rec: Uint8Array;
  meta: ChunkMeta;
}

type State = 'hello' | 'waiting' | 'decrypting' | 'nokey' | 'failed' | 'unsupported';
/** 0-RTT: none offered; offered and the answer (EncryptedExtensions) not read yet; answered */
type Early = 'none' | 'pending' | 'answered';

export class TlsLayer implements Layer {
  readonly client: TlsDirection;
  readonly server: TlsDirection;
  inner: NestedStack | null = null;
  recordNo = 0;
  private ch: ClientHello | null = null;
  private sh: ServerHello | null = null;
  private suite: Suite | undefined;
  private secrets: SessionSecrets | undefined;
  private state: State = 'hello';
  private reason = '';
  private announced = false;
  private held: Held[] = [];
  private heldBytes = 0;
  private early: Early = 'none';
  /** the client's encrypted records while the server's answer to its 0-RTT offer is unknown */
  private earlyHeld: Held[] = [];
  private earlyBytes = 0;
  private keyVersion = -1;
  /** ALPN the server selected: in the ServerHello (TLS 1.2), in EncryptedExtensions (TLS 1.3) */
  private alpn = '';
  /**
   * the meta of the record being read (handshake messages come out of the reader without
   * one): read only while that record is processed, so the caller's meta (or a held record's
   * kept copy) is referred to, not copied
   */
  private lastMeta: ChunkMeta = { ts: 0, packet: 0 };

  constructor(readonly ctx: LayerContext) {
    this.client = new TlsDirection(this, 'client');
    this.server = new TlsDirection(this, 'server');
  }

  open(dir: Direction): ByteStream {
    return dir === 'client' ? this.client : this.server;
  }

  finish(meta: ChunkMeta): void {
    if (this.state === 'waiting') this.tryKeys(meta);
    if (this.state === 'waiting') this.noKey(meta);
    if (!this.announced) {
      if (this.state === 'hello') this.reason = this.ch === null ? 'no complete ClientHello was captured' : 'no ServerHello was captured';
      this.announce(meta, this.state === 'decrypting');
    }
    this.held = [];
    this.earlyHeld = [];
    this.earlyBytes = 0;
    this.inner?.finish(meta);
  }

  /** a record of `d` at rec[at]: its header, then `len` bytes of body (valid during the call) */
  record(d: TlsDirection, rec: Uint8Array, at: number, len: number, meta: ChunkMeta): void {
    this.recordNo++;
    this.lastMeta = meta;
    const type = rec[at];
    if (this.early === 'pending' && d === this.client && type === CT_APPDATA) {
      this.holdEarly(rec, at, len, meta);
      return;
    }
    if (this.state === 'waiting' && (d.encrypted || type === CT_APPDATA)) {
      if (this.ctx.opts.keyLog !== undefined && this.ctx.opts.keyLog.version !== this.keyVersion) this.tryKeys(meta);
      if (this.state === 'waiting') {
        this.hold(d, rec, at, len, meta);
        return;
      }
    }
    this.process(d, rec, at, len, meta);
  }

  private process(d: TlsDirection, rec: Uint8Array, at: number, len: number, meta: ChunkMeta): void {
    const type = rec[at];
    const tls13 = this.suite?.tls13 === true;
    if (type === CT_CCS) {
      // RFC 5246 section 7.1: records after ChangeCipherSpec use the pending keys. Before the
      // ServerHello it is TLS 1.3's middlebox-compatibility CCS (RFC 8446 appendix D.4: after
      // a HelloRetryRequest, or the client's with 0-RTT), which changes nothing
      if (!tls13 && this.sh !== null) d.encrypted = true;
      return;
    }
    const sealed = tls13 ? type === CT_APPDATA && this.sh !== null : d.encrypted;
    if (!sealed) {
      if (type === CT_HANDSHAKE) d.clearHs.push(byteView(rec, at + 5, len));
      else if (type === CT_ALERT) this.alert(d, byteView(rec, at + 5, len), meta);
      return;
    }
    // the plaintext is read in a lent buffer, given back once it has been pushed on
    const out = lendPlaintext();
    try {
      this.openSealed(d, rec, at, len, out, meta);
    } finally {
      returnPlaintext();
    }
  }

  /** a sealed record of `d` */
  private openSealed(d: TlsDirection, rec: Uint8Array, at: number, len: number, out: Uint8Array, meta: ChunkMeta): void {
    if (d.early !== null) {
      // accepted 0-RTT: the early keys until EndOfEarlyData (handshake() drops them then);
      // a record they do not open is past the early data
      const o = d.early.open(rec, at, len, out);
      if (o !== null) return this.opened(d, o, meta);
      d.early = null;
    }
    if (d.dec === null) return;
    const opened = d.dec.open(rec, at, len, out);
    if (opened === null) {
      // RFC 8446 section 4.2.10: 0-RTT records (early traffic keys) come before the client's
      // handshake records; skipped as a server skips rejected early data, not a failure
      if (d.dir === 'client' && this.suite?.tls13 === true && this.ch?.earlyData === true && !d.opened && d.skippedEarly < MAX_EARLY_RECORDS) {
        d.skippedEarly++;
        return;
      }
      this.fail(d, meta);
      return;
    }
    this.opened(d, opened, meta);
  }

  /** a record of `d` that authenticated */
  private opened(d: TlsDirection, opened: Opened, meta: ChunkMeta): void {
    d.opened = true;
    if (opened.type === CT_APPDATA) {
      if (!this.announced) this.announce(meta, true);
      if (opened.data.length > 0) this.nested()[d.dir].push(opened.data, 0, meta);
    } else if (opened.type === CT_HANDSHAKE) d.innerHs.push(opened.data);
    else if (opened.type === CT_ALERT) this.alert(d, opened.data, meta);
  }

  /** a handshake message of direction `d` (`sealed`: it came decrypted) */
  handshake(d: TlsDirection, type: number, body: Uint8Array, sealed: boolean): void {
    const meta = this.lastMeta;
    if (!sealed && type === HS_CLIENT_HELLO && d.dir === 'client') {
      const ch = parseClientHello(body);
      // after a HelloRetryRequest the second ClientHello keeps the random (RFC 8446 section 4.1.2)
      if (ch !== null) {
        // RFC 8446 section 4.1.2: a second ClientHello (after a HelloRetryRequest) has no
        // early_data: the 0-RTT records before it were rejected
        if (this.ch !== null && this.early === 'pending') this.answerEarly(false, meta);
        else if (this.ch === null && ch.earlyData) this.early = 'pending';
        this.ch = ch;
      }
    } else if (!sealed && type === HS_SERVER_HELLO && d.dir === 'server' && this.sh === null) {
      const sh = parseServerHello(body);
      if (sh === null || sh.retry) return; // a HelloRetryRequest: the real ServerHello follows
      this.sh = sh;
      this.alpn = sh.alpn;
      this.suite = suiteOf(sh.suite);
      this.setup(meta);
    } else if (sealed && this.suite?.tls13 && d.secret !== null) {
      if (type === HS_ENCRYPTED_EXTENSIONS && d.dir === 'server') {
        const ee = readEncryptedExtensions(body);
        this.alpn = ee.alpn;
        if (this.early === 'pending') this.answerEarly(ee.earlyData, meta);
      } else if (type === HS_END_OF_EARLY_DATA && d.dir === 'client') d.early = null;
      else if (type === HS_FINISHED && !d.appEpoch) {
        // RFC 8446 section 7.1: after its Finished a side sends with its application secret
        const s = this.secrets;
        const next = d.dir === 'client' ? s?.clientTraffic0 : s?.serverTraffic0;
        if (next === undefined) return;
        d.appEpoch = true;
        this.epoch(d, next);
      } else if (type === HS_KEY_UPDATE && d.appEpoch) {
        // RFC 8446 section 4.6.3: the sender's next records use the next secret
        this.epoch(d, nextTrafficSecret(this.suite, d.secret));
      }
    }
  }

  private epoch(d: TlsDirection, secret: Uint8Array): void {
    d.secret = secret;
    d.dec = tls13Decrypter(this.suite as Suite, secret);
  }

  private setup(meta: ChunkMeta): void {
    const sh = this.sh as ServerHello;
    // 0-RTT exists in TLS 1.3 only; a server choosing an older version ignored the offer
    if (this.early === 'pending' && this.suite?.tls13 !== true) {
      this.early = 'answered';
      this.earlyHeld = [];
      this.earlyBytes = 0;
    }
    if (this.suite === undefined || (sh.version !== 0x0304 && sh.version !== 0x0303) || this.suite.tls13 !== (sh.version === 0x0304)) {
      this.state = 'unsupported';
      const what = this.suite === undefined ? `cipher suite ${suiteName(sh.suite)}` : `${versionName(sh.version)} with ${suiteName(sh.suite)}`;
      this.reason = `${what} is not supported for decryption`;
      this.announce(meta, false);
      this.ctx.finding('tls-unsupported-cipher', undefined, meta, `This connection uses ${what}, which wsscope does not decrypt.`);
      return;
    }
    this.state = 'waiting';
    this.tryKeys(meta);
  }

  /** look the session up in the key log; on success decrypt what was held */
  private tryKeys(meta: ChunkMeta): void {
    const log = this.ctx.opts.keyLog;
    this.keyVersion = log?.version ?? 0;
    if (this.ch === null || log === undefined) return;
    const s = log.lookup(this.ch.random);
    const suite = this.suite as Suite;
    const sh = this.sh as ServerHello;
    if (suite.tls13) {
      if (!s?.clientHandshake || !s.serverHandshake || !s.clientTraffic0 || !s.serverTraffic0) return;
      this.secrets = s;
      this.epoch(this.client, s.clientHandshake);
      this.epoch(this.server, s.serverHandshake);
    } else {
      if (!s?.master) return;
      this.secrets = s;
      const k = tls12Decrypters(suite, s.master, this.ch.random, sh.random, sh.encryptThenMac);
      this.client.dec = k.client;
      this.server.dec = k.server;
    }
    this.state = 'decrypting';
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) {
      if (this.state !== 'decrypting') break;
      this.lastMeta = h.meta;
      this.process(h.d, h.rec, 0, h.rec.length - 5, h.meta);
    }
    this.lastMeta = meta;
  }

  /**
   * The server's answer to the 0-RTT offer (EncryptedExtensions, or a HelloRetryRequest):
   * the client's records held meanwhile are read now, with the early keys when accepted,
   * else by the skip rule in process() (RFC 8446 section 4.2.10: the server skips them).
   */
  private answerEarly(accepted: boolean, meta: ChunkMeta): void {
    this.early = 'answered';
    const held = this.earlyHeld;
    this.earlyHeld = [];
    this.earlyBytes = 0;
    const secret = this.secrets?.clientEarly;
    if (accepted && this.suite?.tls13 && secret !== undefined) this.client.early = tls13Decrypter(this.suite, secret);
    else if (accepted) this.ctx.finding('tls-no-key', 'client', meta, 'The server accepted 0-RTT early data, but the key log has no CLIENT_EARLY_TRAFFIC_SECRET for this session: the early data is not decrypted.');
    for (const h of held) {
      if (this.state !== 'decrypting') break;
      this.lastMeta = h.meta;
      this.process(h.d, h.rec, 0, h.rec.length - 5, h.meta);
    }
    this.lastMeta = meta;
  }

  /** a client record while the 0-RTT answer is unknown: copied, within `maxTlsHeld` */
  private holdEarly(rec: Uint8Array, at: number, len: number, meta: ChunkMeta): void {
    const max = this.ctx.opts.maxTlsHeld ?? MAX_HELD_BYTES;
    if (this.heldBytes + this.earlyBytes + len > max) {
      if (this.state === 'waiting' || this.state === 'hello') return this.hold(this.client, rec, at, len, meta);
      this.ctx.finding('limit-reached', 'client', meta, `Over ${max} bytes of 0-RTT records came before the server's answer to them; they are not decrypted.`);
      this.early = 'answered';
      this.earlyBytes = 0;
      this.earlyHeld = [];
      return;
    }
    this.earlyBytes += len + 5;
    this.earlyHeld.push({ d: this.client, rec: recordCopy(rec, at, len), meta: keepMeta(meta) });
  }

  private hold(d: TlsDirection, rec: Uint8Array, at: number, len: number, meta: ChunkMeta): void {
    const max = this.ctx.opts.maxTlsHeld ?? MAX_HELD_BYTES;
    if (this.heldBytes + this.earlyBytes + len > max) {
      this.ctx.finding('limit-reached', d.dir, meta, `Over ${max} bytes of this connection's TLS records came before the key log had its session; they are dropped and the connection is not decrypted (raise the bound with --max-tls-held).`);
      this.noKey(meta);
      return;
    }
    this.heldBytes += len + 5;
    this.held.push({ d, rec: recordCopy(rec, at, len), meta: keepMeta(meta) });
  }

  private noKey(meta: ChunkMeta): void {
    this.state = 'nokey';
    this.held = [];
    this.earlyHeld = [];
    this.earlyBytes = 0;
    this.early = 'answered';
    this.heldBytes = 0;
    const random = this.ch === null ? '' : Buffer.from(this.ch.random).toString('hex');
    this.reason = 'no key for this session';
    this.announce(meta, false);
    this.ctx.finding('tls-no-key', undefined, meta, `No key log entry for this TLS session (client random ${random}); give the key log the client wrote with --keylog.`);
  }

  private fail(d: TlsDirection, meta: ChunkMeta): void {
    this.state = 'failed';
    this.client.dec = this.server.dec = null;
    this.reason = `decryption failed at record ${this.recordNo}`;
    if (!this.announced) this.announce(meta, false);
    this.ctx.finding('tls-decrypt-failed', d.dir, meta, `Decryption failed at record ${this.recordNo} (the record does not authenticate: a wrong key or damaged capture); nothing more of this connection is decrypted.`);
  }

  private alert(d: TlsDirection, body: Uint8Array, meta: ChunkMeta): void {
    if (body.length < 2 || body[1] === 0) return; // close_notify is the normal end
    this.ctx.finding('tls-alert', d.dir, meta, `TLS ${body[0] === 2 ? 'fatal' : 'warning'} alert ${alertName(body[1])} (${body[1]}).`);
  }

  private nested(): NestedStack {
    return (this.inner ??= this.ctx.nest());
  }

  private announce(meta: ChunkMeta, decrypted: boolean): void {
    this.announced = true;
    const sh = this.sh;
    this.ctx.emit({
      type: 'tls',
      conn: this.ctx.conn,
      ts: meta.ts,
      packet: meta.packet,
      version: sh === null ? '' : versionName(sh.version),
      cipherSuite: sh === null ? '' : suiteName(sh.suite),
      sni: this.ch?.sni ?? '',
      alpn: this.alpn,
      decrypted,
      ...(decrypted ? {} : { reason: this.reason }),
      records: { client: this.client.records, server: this.server.records },
    });
  }
}

/** a TLS record header starting a ClientHello (client) or ServerHello (server) */
function detectTls(b: Uint8Array, dir: Direction): number {
  const want = dir === 'client' ? HS_CLIENT_HELLO : HS_SERVER_HELLO;
  const n = Math.min(b.length, 6);
  const expect = [CT_HANDSHAKE, 3, -1, -1, -1, want];
  for (let i = 0; i < n; i++) {
    if (i === 2 && b[i] > 4) return DETECT_NO;
    if (expect[i] >= 0 && b[i] !== expect[i]) return DETECT_NO;
  }
  return n < 6 ? DETECT_MORE : 0;
}

export const tlsModule: ProtocolModule = {
  id: 'tls',
  claimsConnection: true,
  detect: (bytes, dir, view) => (view.midStream ? DETECT_NO : detectTls(bytes, dir)),
  create: (ctx) => new TlsLayer(ctx),
};
