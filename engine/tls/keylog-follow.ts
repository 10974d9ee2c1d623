/**
 * Follow a key log file while it grows (`wsscope capture --keylog FILE`): a browser or a
 * Node process appends lines as it opens connections, and the connections of a live capture
 * are waiting for them (engine/tls/tls-layer.ts holds their records until the key log has
 * the session). `poll()` reads what was appended since the last poll, up to the last
 * complete line (a line being written is read on a later poll), and adds it to the KeyLog;
 * `start()` polls at once and then every `intervalMs` on an unref'd timer.
 *
 * A file that does not exist yet is waited for; a file that shrinks (truncated, replaced)
 * is read again from its start. Bounds: MAX_KEYLOG_BYTES read in all, at most 64 KiB of an
 * unfinished line carried between polls (beyond it the line is dropped with a warning).
 * Warnings name the file and line number, never a secret (keylog.ts).
 *
 * `onLines` (optional) gets each run of complete lines read, e.g. to embed them in the capture
 * file being written (pcapng Decryption Secrets Blocks); it is a view valid during the call.
 *
 * Memory: the unfinished tail of the file only; the KeyLog owns the secrets.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_KEYLOG_BYTES, type KeyLog } from './keylog';

/** longest unfinished line carried from one poll to the next */
const MAX_TAIL = 64 * 1024;

export class KeyLogFollower {
  private offset = 0;
  private line = 1;
  private total = 0;
  private tail: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly keyLog: KeyLog,
    private readonly path: string,
    private readonly warn: (text: string) => void,
    private readonly intervalMs = 200,
    private readonly onLines?: (text: Uint8Array) => void,
  ) {}

  start(): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.poll();
  }

  /** read what was appended; returns the number of new complete lines */
  poll(): number {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return 0; // not there yet
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.line = 1;
        this.tail = Buffer.alloc(0);
      }
      const room = MAX_KEYLOG_BYTES - this.total;
      const n = Math.min(size - this.offset, room);
      if (n <= 0) return 0;
      const chunk = Buffer.alloc(n);
      const got = readSync(fd, chunk, 0, n, this.offset);
      this.offset += got;
      this.total += got;
      if (this.total >= MAX_KEYLOG_BYTES) this.warn(`${this.path}: only the first ${MAX_KEYLOG_BYTES} bytes of the key log are read.`);
      const all = Buffer.concat([this.tail, chunk.subarray(0, got)]);
      const end = all.lastIndexOf(0x0a) + 1;
      this.tail = all.subarray(end);
      if (this.tail.length > MAX_TAIL) {
        this.warn(`${this.path}: line ${this.line} is longer than ${MAX_TAIL} bytes; it is ignored.`);
        this.tail = Buffer.alloc(0);
      }
      if (end === 0) return 0;
      const text = all.subarray(0, end);
      for (const w of this.keyLog.addText(text, this.path, this.line)) this.warn(w);
      this.onLines?.(text);
      let lines = 0;
      for (const b of text) if (b === 0x0a) lines++;
      this.line += lines;
      return lines;
    } finally {
      closeSync(fd);
    }
  }
}
