/**
 * The TLS key logs the user gave the desktop app or the browser shell ("Key log file...",
 * the File menu, drag-and-drop): their text, kept in the engine process only, and a fresh
 * engine/tls/keylog.ts `KeyLog` built from them for every analysis (so the secrets blocks
 * of one capture never decrypt the next one). A live capture gets the KeyLog it started
 * with, and key logs added while it runs go into that one too (its waiting records decrypt
 * as the keys appear).
 *
 * Secrets: the text never leaves this module except into a KeyLog and, when the user
 * confirmed it, a pcapng Decryption Secrets Block (`secretsText`). What goes out through the
 * contract is `KeyLogInfo`: file names and counts. Warnings name a line number, never a
 * secret (KeyLog.addText).
 *
 * Bounds: at most MAX_KEYLOG_FILES files, each read up to engine/tls/keylog.ts
 * MAX_KEYLOG_BYTES.
 *
 * Memory: owns the copies of the files' text.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { KeyLogInfo } from '../../shared/api';
import { KeyLog, MAX_KEYLOG_BYTES } from '../tls/keylog';

export const MAX_KEYLOG_FILES = 32;

interface KeyLogFile {
  name: string;
  text: Buffer;
  sessions: number;
  warnings: number;
}

export class KeyLogs {
  private readonly files: KeyLogFile[] = [];
  /** the KeyLog of the running live capture, if any */
  private live: KeyLog | null = null;

  get count(): number {
    return this.files.length;
  }

  /** Adds a key log by path (null: it holds no secret, nothing added); throws the file system's error (the caller words it). */
  addFile(path: string): { name: string; warnings: string[] } | null {
    const text = readFileSync(path);
    return this.addBytes(basename(path), text);
  }

  /**
   * Adds a key log's bytes under `name` (a file of that name is replaced); null when it holds
   * no secret (nothing added). The warnings name the file and line numbers only.
   */
  addBytes(name: string, bytes: Uint8Array): { name: string; warnings: string[] } | null {
    const text = Buffer.from(bytes.subarray(0, MAX_KEYLOG_BYTES));
    const probe = new KeyLog();
    const warnings = probe.addText(text, name);
    if (probe.size === 0) return null;
    const entry = { name, text, sessions: probe.size, warnings: warnings.length };
    const same = this.files.findIndex((f) => f.name === name);
    if (same >= 0) this.files[same] = entry;
    else {
      if (this.files.length >= MAX_KEYLOG_FILES) this.files.shift();
      this.files.push(entry);
    }
    this.live?.addText(text, name);
    return { name, warnings };
  }

  /** A fresh KeyLog holding every file (for one analysis). */
  build(): KeyLog {
    const k = new KeyLog();
    for (const f of this.files) k.addText(f.text, f.name);
    return k;
  }

  /** The KeyLog a live capture starts with; later files are added to it as well. */
  forLive(): KeyLog {
    this.live = this.build();
    return this.live;
  }

  /** The live capture ended. */
  liveDone(): void {
    this.live = null;
  }

  /** All files' text, one after the other (for a Decryption Secrets Block); empty without files. */
  secretsText(): Uint8Array {
    return Buffer.concat(this.files.flatMap((f) => (f.text.length && f.text[f.text.length - 1] !== 0x0a ? [f.text, Buffer.from('\n')] : [f.text])));
  }

  /** Names and counts; `tls` = [decrypted, all] TLS connections of the current session. */
  info(tls: [number, number]): KeyLogInfo {
    const all = this.build();
    return {
      files: this.files.map((f) => ({ name: f.name, sessions: f.sessions, warnings: f.warnings })),
      sessions: all.size,
      decrypted: tls[0],
      tlsConnections: tls[1],
    };
  }
}

/** true when `bytes` look like an NSS key log (its first label line), not a capture */
export function looksLikeKeyLog(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  for (const line of head.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    return /^(CLIENT_RANDOM|CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|CLIENT_EARLY_TRAFFIC_SECRET|EXPORTER_SECRET) [0-9A-Fa-f]+ /.test(t);
  }
  return false;
}
