/**
 * Turning thrown values into the contract's errors (shared/api.ts ApiError): file system
 * failures by their errno code, anything else by its message; and the one error of a call
 * that needs a session when nothing is loaded. Pure functions.
 */
import { err, type ApiError, type Result } from '../../shared/api';
import { PrivateFsError } from '../fs/private';

/** The message of a thrown value, whatever was thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The `code` property of a thrown value (Node's errno codes, our own typed errors), if any. */
export function codeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** A file system failure on `path` as a sentence a person understands. */
export function fsError(path: string, e: unknown): ApiError {
  // a path engine/fs/private.ts refused (exists, symlink, unsafe folder): its sentence says it all
  if (e instanceof PrivateFsError) return { code: 'io', message: e.message };
  const code = codeOf(e);
  if (code === 'ENOENT') return { code: 'not-found', message: `${path} does not exist.` };
  if (code === 'EACCES' || code === 'EPERM') return { code: 'permission-denied', message: `No permission to access ${path}.` };
  if (code === 'EISDIR') return { code: 'io', message: `${path} is a directory, not a capture file.` };
  if (isDiskFull(e)) return { code: 'disk-full', message: `The disk holding ${path} is full (${code}): it was not written. Free space there or choose another folder.` };
  return { code: 'io', message: `${path}: ${messageOf(e)}` };
}

/** true for the errno codes of a disk that is full (ENOSPC) or over its quota (EDQUOT) */
export function isDiskFull(e: unknown): boolean {
  const code = codeOf(e);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The answer to a call that needs a session when nothing is loaded. */
export function nothingLoaded(): Result<never> {
  return err('no-capture', 'Nothing is loaded: open a capture file or start a live capture.');
}
