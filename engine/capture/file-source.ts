/**
 * Streams a capture file (pcap / pcapng, optionally gzip-compressed) through a CaptureParser.
 *
 * Contract: the file is read in chunks (default 1 MiB; the first one 64 KiB) into
 * READ_AHEAD + 1 reused buffers, never whole: while the parser works on one buffer, READ_AHEAD
 * reads fill the others (1 MiB chunks decode as fast as 4 MiB ones on the benchmark capture
 * and keep 6 MiB less resident; with one read ahead the decoder waited for it about 20 ms per
 * 200 MB whenever the other core was busy, docs/benchmarks.md "third pass"). Records go to
 * `sink` as the parser finds them; `onProgress` gets the bytes of the FILE read so far (compressed
 * bytes for a .gz) after each chunk. Missing, unreadable or non-capture files reject with a
 * `CaptureFileError`; an abort rejects with `signal.reason`. Damage inside a capture is not
 * an error: it reaches `sink.problem` and the records before (and after a resync) still arrive.
 *
 * Memory ownership: `rec.data` views alias the read buffer, which is refilled once the
 * synchronous `push` of its chunk has returned, so a sink must copy what it keeps.
 *
 * Reading back: a plain (not gzip'd) file is also readable by position while it is read, for
 * a sink with `fileReader` (types.ts `CaptureFileReader`; the TCP conflict history reads
 * delivered bytes back instead of copying them, engine/tcp/history.ts). The reader uses the
 * same read-only descriptor; it is withdrawn and answers -1 from the moment the read ends
 * (done, failed or aborted), before the file is closed, so no read ever reaches a closed fd.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { CaptureFileReader, CaptureSink } from '../types';
import { CaptureParser, isCaptureMagic, type CaptureFormat } from './pcap-parser';

export type CaptureFileErrorCode = 'not-found' | 'not-a-capture' | 'io';

export class CaptureFileError extends Error {
  readonly code: CaptureFileErrorCode;
  constructor(code: CaptureFileErrorCode, message: string) {
    super(message);
    this.name = 'CaptureFileError';
    this.code = code;
  }
}

export interface ReadCaptureOptions {
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** read size in bytes (default 1 MiB) */
  chunkSize?: number;
}

export interface ReadCaptureResult {
  format: CaptureFormat;
  /** capture bytes parsed (after decompression) */
  bytes: number;
  packets: number;
  gzip: boolean;
}

const DEFAULT_CHUNK = 1024 * 1024;
/** reads in flight ahead of the chunk being parsed */
const READ_AHEAD = 3;
/** size of the first read (see readPlain) */
const FIRST_CHUNK = 64 * 1024;

function ioError(path: string, e: unknown): CaptureFileError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return new CaptureFileError('not-found', `${path}: no such file`);
  const msg = e instanceof Error ? e.message : String(e);
  return new CaptureFileError('io', `${path}: ${msg}`);
}

function notCapture(path: string, head: Uint8Array): CaptureFileError {
  if (head.length === 0) return new CaptureFileError('not-a-capture', `${path}: empty file, not a capture`);
  let hex = '';
  for (let i = 0; i < Math.min(4, head.length); i++) hex += head[i].toString(16).padStart(2, '0');
  return new CaptureFileError('not-a-capture', `${path}: not a pcap or pcapng file (starts with ${hex})`);
}

export async function readCaptureFile(path: string, sink: CaptureSink, opts: ReadCaptureOptions = {}): Promise<ReadCaptureResult> {
  const chunkSize = Math.max(opts.chunkSize ?? DEFAULT_CHUNK, 64);
  opts.signal?.throwIfAborted();
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(path, e);
  }
  let total: number;
  let head: Uint8Array;
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new CaptureFileError('io', `${path}: is a directory`);
    total = st.size;
    head = new Uint8Array(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    head = head.subarray(0, bytesRead);
  } catch (e) {
    await fh.close();
    throw e instanceof CaptureFileError ? e : ioError(path, e);
  }
  // RFC 1952 section 2.3.1: a gzip member starts with 1f 8b.
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    await fh.close();
    return readGzip(path, total, sink, opts, chunkSize);
  }
  try {
    if (!isCaptureMagic(head)) throw notCapture(path, head);
    return await readPlain(fh, path, total, sink, opts, chunkSize);
  } finally {
    await fh.close();
  }
}

/** Positional reads of an open capture file, until `close` (see the module comment). */
class FileReadBack implements CaptureFileReader {
  constructor(private fd: number) {}

  readAt(pos: number, dst: Uint8Array, len: number): number {
    if (this.fd < 0) return -1;
    try {
      // pread(2): no shared file position, so the chunk reads in flight are not disturbed
      return readSync(this.fd, dst, 0, len, pos);
    } catch {
      return -1;
    }
  }

  close(): void {
    this.fd = -1;
  }
}

async function readPlain(fh: FileHandle, path: string, total: number, sink: CaptureSink, opts: ReadCaptureOptions, chunkSize: number): Promise<ReadCaptureResult> {
  const readBack = sink.fileReader !== undefined ? new FileReadBack(fh.fd) : null;
  const parser = new CaptureParser(sink, { filePositions: readBack !== null });
  if (readBack !== null) sink.fileReader?.(readBack);
  try {
    return await readPlainChunks(fh, parser, path, total, opts, chunkSize);
  } finally {
    // withdrawn before readCaptureFile closes the file
    readBack?.close();
    if (readBack !== null) sink.fileReader?.(null);
  }
}

async function readPlainChunks(fh: FileHandle, parser: CaptureParser, path: string, total: number, opts: ReadCaptureOptions, chunkSize: number): Promise<ReadCaptureResult> {
  const bufs: Uint8Array[] = [];
  for (let k = 0; k <= READ_AHEAD; k++) bufs.push(new Uint8Array(chunkSize));
  // reads in flight, oldest first, each into the next buffer of the ring: at most READ_AHEAD,
  // so the buffer being parsed is never one a read fills
  const pending: Array<{ buf: Uint8Array; want: number; read: Promise<{ bytesRead: number }> }> = [];
  let issued = 0;
  let readPos = 0;
  const issue = (want: number): void => {
    const buf = bufs[issued++ % bufs.length];
    pending.push({ buf, want, read: fh.read(buf, 0, want, readPos) });
    readPos += want;
  };
  // A small first read: the parser then meets a record cut by a chunk end within the first
  // few dozen packets, before V8 optimizes it, instead of after 1 MiB, where the optimized
  // code had never seen that path and was thrown away (`--trace-deopt`, third pass).
  issue(Math.min(FIRST_CHUNK, chunkSize));
  let pos = 0;
  try {
    for (;;) {
      const next = pending.shift()!;
      let r: number;
      try {
        r = (await next.read).bytesRead;
      } catch (e) {
        throw ioError(path, e);
      }
      if (r === 0) break;
      pos += r;
      if (r === next.want) {
        // the file goes on: keep READ_AHEAD reads in flight while this chunk is parsed
        while (pending.length < READ_AHEAD) issue(chunkSize);
      } else {
        // a short read (the end for now; a file being written may grow): the reads issued
        // past it are dropped and the next one starts where this one ended
        for (const p of pending.splice(0)) await p.read.catch(() => undefined);
        readPos = pos;
        issue(chunkSize);
      }
      // The sink's own exceptions pass through unchanged (they are not I/O errors).
      parser.push(r === chunkSize ? next.buf : next.buf.subarray(0, r));
      opts.onProgress?.(pos, total);
      opts.signal?.throwIfAborted();
      if (parser.stopped) break;
    }
  } finally {
    // never close the file under a read in flight
    for (const p of pending) await p.read.catch(() => undefined);
  }
  parser.end();
  return { format: parser.format ?? 'pcap', bytes: parser.bytes, packets: parser.packets, gzip: false };
}

async function readGzip(path: string, total: number, sink: CaptureSink, opts: ReadCaptureOptions, chunkSize: number): Promise<ReadCaptureResult> {
  const src = createReadStream(path, { highWaterMark: Math.min(chunkSize, 1024 * 1024) });
  const gunzip = createGunzip({ chunkSize: Math.min(chunkSize, 1024 * 1024) });
  src.on('error', (e) => gunzip.destroy(e));
  src.pipe(gunzip);
  const parser = new CaptureParser(sink);
  let checked = false;
  let head = new Uint8Array(0);
  /** set when the sink (or an abort) threw: those pass through unchanged */
  let passThrough: { error: unknown } | undefined;
  try {
    for await (const out of gunzip as AsyncIterable<Buffer>) {
      // Hand the parser plain Uint8Array views (no Buffer escapes into records).
      let chunk = new Uint8Array(out.buffer, out.byteOffset, out.length);
      if (!checked) {
        // The magic may straddle the first output chunks.
        const joined = new Uint8Array(head.length + chunk.length);
        joined.set(head);
        joined.set(chunk, head.length);
        if (joined.length < 4) {
          head = joined;
          continue;
        }
        if (!isCaptureMagic(joined)) throw notCapture(path, joined);
        checked = true;
        chunk = joined;
      }
      try {
        parser.push(chunk);
        opts.onProgress?.(src.bytesRead, total);
        opts.signal?.throwIfAborted();
      } catch (e) {
        passThrough = { error: e };
        break;
      }
      if (parser.stopped) break;
    }
  } catch (e) {
    src.destroy();
    gunzip.destroy();
    if (e instanceof CaptureFileError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw ioError(path, e);
    if (!checked) throw new CaptureFileError('not-a-capture', `${path}: gzip data is damaged (${(e as Error).message})`);
    // A damaged or cut gzip stream after a good start: keep what was decoded.
    sink.problem?.({ kind: 'truncated-capture', packet: parser.packets, offset: parser.bytes, text: `gzip stream is damaged or cut short: ${(e as Error).message}` });
  }
  src.destroy();
  gunzip.destroy();
  if (passThrough !== undefined) throw passThrough.error;
  if (!checked) throw notCapture(path, head);
  parser.end();
  return { format: parser.format ?? 'pcap', bytes: parser.bytes, packets: parser.packets, gzip: true };
}
