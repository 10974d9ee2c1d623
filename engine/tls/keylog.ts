/**
 * TLS secrets from NSS key log files (the format browsers, curl, Node, Python and Go write
 * under SSLKEYLOGFILE / `keylog`; https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
 * one `LABEL <client_random hex> <secret hex>` per line, `#` comments and blank lines
 * ignored, CRLF accepted. Labels:
 *   CLIENT_RANDOM                       TLS 1.2 (and earlier) master secret, 48 bytes
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET     TLS 1.3 (RFC 8446 section 7.1)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET
 *   CLIENT_TRAFFIC_SECRET_0
 *   SERVER_TRAFFIC_SECRET_0
 *   CLIENT_EARLY_TRAFFIC_SECRET
 *   EXPORTER_SECRET                     accepted, unused
 *   EARLY_EXPORTER_SECRET               accepted, unused (OpenSSL writes it with 0-RTT)
 *   CLIENT_TRAFFIC_SECRET_N             accepted, unused (OpenSSL writes the secret after a
 *   SERVER_TRAFFIC_SECRET_N             KeyUpdate; the layer derives it, RFC 8446 section 7.2)
 * Sessions are keyed by the ClientHello's random (32 bytes), which both sides of a capture
 * show in clear. A duplicate line is harmless (the last one wins); a malformed line gives one
 * warning naming its line number and the rest of the file is used.
 *
 * Secrets are secrets: no warning, error or log line ever contains a secret or a whole line
 * (a warning names the file's label and line number only).
 *
 * Bounds: a file over MAX_KEYLOG_BYTES is read up to that size (one warning), lines past
 * MAX_KEYLOG_LINES are ignored (one warning), at most MAX_SESSIONS client randoms are kept
 * (one warning, later ones dropped), at most MAX_WARNINGS warnings are listed (then counted).
 *
 * Memory: the store owns copies of every secret (Buffers from hex); `version` grows each time
 * a session gains a secret, so a reader holding records for missing keys knows when to look again.
 */
import { readFileSync } from 'node:fs';

/** bytes of one key log read (a browser's log of a day is a few MB) */
export const MAX_KEYLOG_BYTES = 64 * 1024 * 1024;
/** lines read from one source */
export const MAX_KEYLOG_LINES = 1_000_000;
/** client randoms kept over all sources */
export const MAX_SESSIONS = 1_000_000;
/** warnings listed per source; the rest are counted in one last warning */
export const MAX_WARNINGS = 20;

/** What a key log says about one TLS session (one client random). */
export interface SessionSecrets {
  /** TLS 1.2 master secret (CLIENT_RANDOM) */
  master?: Buffer;
  clientHandshake?: Buffer;
  serverHandshake?: Buffer;
  clientTraffic0?: Buffer;
  serverTraffic0?: Buffer;
  clientEarly?: Buffer;
  exporter?: Buffer;
}

const LABELS: Record<string, keyof SessionSecrets> = {
  CLIENT_RANDOM: 'master',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshake',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshake',
  CLIENT_TRAFFIC_SECRET_0: 'clientTraffic0',
  SERVER_TRAFFIC_SECRET_0: 'serverTraffic0',
  CLIENT_EARLY_TRAFFIC_SECRET: 'clientEarly',
  EXPORTER_SECRET: 'exporter',
};

/** labels other key log writers add, checked like the others and not kept */
const UNUSED = new Set(['EARLY_EXPORTER_SECRET', 'CLIENT_TRAFFIC_SECRET_N', 'SERVER_TRAFFIC_SECRET_N']);

const HEX = /^[0-9a-fA-F]+$/;

export class KeyLog {
  private readonly sessions = new Map<string, SessionSecrets>();
  /** grows whenever a secret is added */
  version = 0;
  private full = false;

  /** number of client randoms with at least one secret */
  get size(): number {
    return this.sessions.size;
  }

  /** Secrets of the session with this client random (32 bytes), if the log has any. */
  lookup(clientRandom: Uint8Array): SessionSecrets | undefined {
    return this.sessions.get(Buffer.from(clientRandom.buffer, clientRandom.byteOffset, clientRandom.byteLength).toString('hex'));
  }

  /** Read a key log file; returns the warnings (each names `name` and a line number, never a secret). */
  addFile(path: string, name = path): string[] {
    const buf = readFileSync(path);
    return this.addText(buf, name);
  }

  /**
   * Add key log text (a file, or the body of a pcapng Decryption Secrets Block). Returns
   * the warnings about it; `firstLine` numbers its first line (text appended to a followed file).
   */
  addText(data: Uint8Array | string, name: string, firstLine = 1): string[] {
    const warnings: string[] = [];
    let extra = 0;
    const warn = (s: string): void => {
      if (warnings.length < MAX_WARNINGS) warnings.push(s);
      else extra++;
    };
    let bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length > MAX_KEYLOG_BYTES) {
      warn(`${name}: only the first ${MAX_KEYLOG_BYTES} bytes of the key log are read.`);
      bytes = bytes.subarray(0, MAX_KEYLOG_BYTES);
    }
    const text = bytes.toString('latin1');
    let lineNo = firstLine - 1;
    let at = 0;
    while (at < text.length) {
      let nl = text.indexOf('\n', at);
      if (nl < 0) nl = text.length;
      const line = text.slice(at, nl).replace(/\r$/, '').trim();
      at = nl + 1;
      lineNo++;
      if (lineNo - firstLine + 1 > MAX_KEYLOG_LINES) {
        warn(`${name}: lines after ${MAX_KEYLOG_LINES} are ignored.`);
        break;
      }
      if (line === '' || line.startsWith('#')) continue;
      const problem = this.addLine(line);
      if (problem !== null) warn(`${name}: line ${lineNo}: ${problem}; the line is ignored.`);
    }
    if (extra > 0) warnings.push(`${name}: ${extra} more key log warning${extra === 1 ? '' : 's'} were not listed.`);
    return warnings;
  }

  /** one non-blank, non-comment line; null when used, else what is wrong (no secret in it) */
  private addLine(line: string): string | null {
    const parts = line.split(/[ \t]+/);
    const label = parts[0];
    const field = Object.prototype.hasOwnProperty.call(LABELS, label) ? LABELS[label] : UNUSED.has(label) ? null : undefined;
    if (field === undefined) return `unknown label "${label.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}"`;
    if (parts.length !== 3) return `${label} needs a client random and a secret`;
    const [, random, secret] = parts;
    if (random.length !== 64 || !HEX.test(random)) return `${label}: the client random is not 32 bytes of hex`;
    if (secret.length % 2 !== 0 || !HEX.test(secret)) return `${label}: the secret is not hex`;
    // TLS 1.2 master secrets are 48 bytes; TLS 1.3 secrets are the hash's size (32 or 48)
    const n = secret.length / 2;
    if (field === 'master' ? n !== 48 : n !== 32 && n !== 48) return `${label}: the secret has ${n} bytes`;
    if (field === null) return null;
    const key = random.toLowerCase();
    let s = this.sessions.get(key);
    if (s === undefined) {
      if (this.sessions.size >= MAX_SESSIONS) {
        if (this.full) return null;
        this.full = true;
        return `more than ${MAX_SESSIONS} sessions; later ones are dropped`;
      }
      s = {};
      this.sessions.set(key, s);
    }
    s[field] = Buffer.from(secret, 'hex');
    this.version++;
    return null;
  }
}
