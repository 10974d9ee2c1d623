/**
 * Input files: what wsscope agrees to open for reading. Only regular files (symlinks to them
 * are fine). A named pipe (FIFO) would block open(2) until some writer appears, and a device
 * such as /dev/zero never ends; either one froze the engine for good (a synchronous open
 * blocks its only thread; an asynchronous one holds a libuv pool thread, and every later file
 * call queues behind it). Callers check with `probeInputFile` before handing a path to the
 * decoder: the service (engine/service/sessions.ts openFile) and the CLI (`wsscope read`).
 *
 * Contract: `probeInputFile` never blocks: it stats the path (no open at all for a
 * non-regular file), then opens with O_NONBLOCK (a FIFO swapped in meanwhile opens at once
 * instead of waiting) and checks the descriptor again with fstat. It returns the size and the
 * first bytes; a refusal is a NotRegularFileError whose message is one sentence. Other errors
 * (ENOENT, EACCES) are Node's, thrown as they are.
 *
 * Memory: returns a 4-byte copy; the descriptor is closed before returning.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** A path that is not a regular file; `message` says what it is. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuse(path: string, st: Stats): never {
  throw new NotRegularFileError(`${path} is ${kind(st)}, not a capture file: wsscope opens regular files only.`);
}

/** The size and first (up to 4) bytes of the regular file `path`; throws NotRegularFileError for anything else. */
export function probeInputFile(path: string): { size: number; head: Uint8Array } {
  const st = statSync(path);
  if (!st.isFile()) refuse(path, st);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) refuse(path, fst);
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, 4, 0);
    return { size: fst.size, head: head.subarray(0, n) };
  } finally {
    closeSync(fd);
  }
}
