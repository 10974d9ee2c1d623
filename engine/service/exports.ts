/**
 * The exportData call: the current session as NDJSON (the CLI's `read --json` lines), HAR
 * or pcapng (engine/store/export.ts writes them). With a target path the export is written
 * there; without one (the browser shell) its bytes come back with a suggested file name.
 *
 * NDJSON and HAR are paced (engine/store/export.ts Pacer): other calls, a running capture's
 * batches and queries, are served while they run, and the store stays open under them (they
 * run through `Sessions.using`, which a session switch waits for). Every export runs under
 * `Cancels.run('export')` (./cancel.ts): `cancel('export')` or the call's own signal stops it
 * at its next turn, and it answers `cancelled`; `abortAll` stops them all when the engine
 * shuts down. pcapng is a copy of the capture file (live: paced too) or a conversion of it,
 * through a scratch file under `workDir` when the bytes are returned.
 *
 * Files: an export to a path replaces the target the way a save dialog does, through a new
 * private file beside it renamed over it (engine/fs/private.ts replaceFile): mode 0600, never
 * written through a symlink, the old file intact and no partial file left when the export
 * fails or is cancelled.
 *
 * With a filter, NDJSON and HAR hold the matching messages only (engine/store/export.ts
 * ExportSelection) and the suggested name says so (`capture-filtered.ndjson`).
 *
 * Memory: a download is built in memory (MemorySink, which refuses beyond its limit: the
 * answer is then `unsupported`, with the way out); a file export streams.
 */
import { readFileSync, rmSync } from 'node:fs';
import { copyToPrivateFile, replaceFile } from '../fs/private';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { err, ok, type ExportFormat, type ExportOptions, type MessageQuery, type Result } from '../../shared/api';
import { convertToPcapng, FileSink, MemorySink, Pacer, writeHar, writeNdjson, type ExportSelection, type TextSink } from '../store/export';
import type { SessionStore } from '../store/session-store';
import { CancelledError, isCancel, type Cancels } from './cancel';
import { fsError, isDiskFull, messageOf, nothingLoaded } from './errors';
import type { KeyLogs } from './keylogs';
import type { Sessions } from './sessions';

export type ExportResult = Result<{ path: string; bytes?: Uint8Array }>;

export interface ExporterOptions {
  sessions: Sessions;
  /** where a pcapng download is assembled */
  workDir: string;
  /** the creator version written into HAR */
  version: string;
  /** running calls by kind, for `cancel('export')` */
  cancels: Cancels;
  /** the user's key logs, embedded in a pcapng export when asked (`ExportOptions.secrets`) */
  keyLogs?: KeyLogs;
}

/** How long a paced export runs before it yields to the event loop (ms). */
const PACE_MS = 20;

export class Exporter {
  private readonly abort = new AbortController();

  constructor(private readonly opts: ExporterOptions) {}

  /** `o.filter`: NDJSON and HAR of the matching messages only (the UI's filtered timeline); `o.secrets`: pcapng with the key logs embedded. */
  async export(format: ExportFormat, pathArg?: string, o: ExportOptions = {}): Promise<ExportResult> {
    const target = pathArg === undefined ? undefined : resolve(pathArg);
    const store = this.opts.sessions.store;
    if (!store) return nothingLoaded();
    const info = this.opts.sessions.info;
    // the suggestion is a file name in a save dialog or a download: letters, digits, space,
    // . _ - only (a bidi override in a capture's name would disguise the extension)
    const stem = info.path ? basename(info.path).replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '').replace(/[^\p{L}\p{N} ._-]/gu, '_') || 'wsscope' : 'wsscope';
    const filter = o.filter;
    const filtered = filter !== undefined && format !== 'pcapng';
    const suggested = `${stem}${filtered ? '-filtered' : ''}.${format}`;
    let sel: ExportSelection | undefined;
    if (filtered) {
      try {
        sel = selection(store, filter!);
      } catch (e) {
        if (e instanceof SyntaxError) return err('bad-request', e.message);
        throw e;
      }
    }
    return this.opts.cancels.run('export', async (own) => {
      const signal = AbortSignal.any([own, this.abort.signal]);
      try {
        if (format === 'pcapng') return await this.pcapng(info.path, info.kind === 'live', target, suggested, signal, o.secrets ? this.opts.keyLogs?.secretsText() : undefined);
        return await this.opts.sessions.using(this.text(store, format, target, suggested, signal, sel));
      } catch (e) {
        if (isCancel(e, signal)) {
          const why = e instanceof CancelledError ? '' : ` (${messageOf(e)})`;
          return err('cancelled', `The export was cancelled${why}${target ? `; ${target} was not written` : ''}.`);
        }
        throw e;
      }
    });
  }

  /** Stops the paced exports in progress (they resolve with an error). */
  abortAll(reason: Error): void {
    this.abort.abort(reason);
  }

  /** `secrets`: key log text the user chose to embed (a Decryption Secrets Block; the file is private either way) */
  private async pcapng(src: string, live: boolean, target: string | undefined, suggested: string, signal: AbortSignal, secrets?: Uint8Array): Promise<ExportResult> {
    const dst = target ?? join(this.opts.workDir, `export-${randomBytes(6).toString('hex')}.pcapng`);
    const embed = secrets !== undefined && secrets.length > 0;
    const write = async (to: string): Promise<void> => (live && !embed ? copyToPrivateFile(src, to, signal) : convertToPcapng(src, to, signal, embed ? secrets : undefined));
    try {
      if (target) {
        await replaceFile(target, write);
        return ok({ path: target });
      }
      await write(dst);
      const bytes = readFileSync(dst);
      return ok({ path: suggested, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    } catch (e) {
      if (isCancel(e, signal)) throw e;
      return { ok: false, error: fsError(target ?? src, e) };
    } finally {
      if (!target) rmSync(dst, { force: true });
    }
  }

  private async text(
    store: SessionStore,
    format: 'ndjson' | 'har',
    target: string | undefined,
    suggested: string,
    signal: AbortSignal,
    sel?: ExportSelection,
  ): Promise<ExportResult> {
    const pace = new Pacer(PACE_MS, signal);
    const write = (out: TextSink): Promise<void> =>
      format === 'ndjson' ? writeNdjson(store, out, pace, sel) : writeHar(store, out, this.opts.version, pace, sel);
    if (target) {
      let writing = false;
      try {
        await replaceFile(target, async (tmp) => {
          const sink = new FileSink(tmp);
          writing = true;
          try {
            await write(sink);
          } finally {
            sink.close();
          }
          writing = false;
        });
      } catch (e) {
        // failing to create or place the file is the user's to fix, and so is a full disk; any
        // other failure while writing is the export's
        if (writing && !isDiskFull(e)) throw e;
        return { ok: false, error: fsError(target, e) };
      }
      return ok({ path: target });
    }
    const mem = new MemorySink();
    try {
      await write(mem);
    } catch (e) {
      if (e instanceof RangeError) return err('unsupported', `The export is too big to download (${e.message}); use the desktop app or \`wsscope read --json\`.`);
      throw e;
    }
    return ok({ path: suggested, bytes: mem.bytes() });
  }
}

/**
 * The messages `filter` matches (engine/store/query.ts, the same answer the timeline got) and
 * their connections. Memory: one byte per message of the session. Throws SyntaxError on a bad
 * regular expression.
 */
function selection(store: SessionStore, filter: MessageQuery): ExportSelection {
  const messages = new Uint8Array(store.messageCount);
  const conns = new Set<number>();
  for (const i of store.query(filter)) {
    messages[i] = 1;
    const row = store.message(i);
    if (row) conns.add(row.conn);
  }
  return { messages, conns };
}
