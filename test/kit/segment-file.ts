/**
 * A capture file as the TCP conflict history sees it (engine/tcp/history.ts), for tests that
 * feed a TcpReassembler by hand: every payload given to `put` is appended to a real temporary
 * file, one spacer byte after the previous one (so no two payloads are adjacent in the file,
 * and a read past a payload's end meets a byte that is in no stream), and `link` reads the file
 * back by position with pread, as the file source's reader does (engine/capture/file-source.ts).
 *
 * `mode` says which segments get their file offset: 'copy' none (the history copies every
 * byte, as for live capture), 'file' all, 'mixed' every other one with payload.
 *
 * Memory: the file lives in its own temporary directory until `close`.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadBackLink } from '../../engine/tcp/history';

export type HistoryMode = 'copy' | 'file' | 'mixed';
export const HISTORY_MODES: HistoryMode[] = ['copy', 'file', 'mixed'];

const SPACER = new Uint8Array([0xee]);

export class SegmentFile {
  readonly link = new ReadBackLink();
  readonly path: string;
  /** readAt calls so far */
  reads = 0;
  private readonly dir: string;
  private fd: number;
  private size = 0;
  private puts = 0;

  constructor(readonly mode: HistoryMode = 'file') {
    this.dir = mkdtempSync(join(tmpdir(), 'wsscope-segfile-'));
    this.path = join(this.dir, 'segments.bin');
    this.fd = openSync(this.path, 'w+');
    this.link.reader = {
      readAt: (pos, dst, len) => {
        this.reads++;
        return this.fd < 0 ? -1 : readSync(this.fd, dst, 0, len, pos);
      },
    };
  }

  /** Appends `payload` and returns its file offset, or -1 when this mode gives it none. */
  put(payload: Uint8Array): number {
    if (this.mode === 'copy' || payload.length === 0) return -1;
    if (this.mode === 'mixed' && this.puts++ % 2 === 1) return -1;
    writeSync(this.fd, SPACER, 0, 1, this.size);
    const pos = this.size + 1;
    writeSync(this.fd, payload, 0, payload.length, pos);
    this.size = pos + payload.length;
    return pos;
  }

  /** The file cut to `size` bytes under the reader. */
  truncate(size: number): void {
    ftruncateSync(this.fd, size);
  }

  /** Other bytes at file offset `pos`, the file's length unchanged. */
  overwrite(pos: number, bytes: Uint8Array): void {
    writeSync(this.fd, bytes, 0, bytes.length, pos);
  }

  close(): void {
    this.link.reader = null;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
