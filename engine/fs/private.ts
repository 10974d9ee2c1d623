/**
 * Private files and folders: every file wsscope writes (capture files, exports, spill files,
 * uploads, recent.json) and every folder it writes them in goes through this module, so that
 * another local user can neither redirect a write (a symlink or a file planted in a shared
 * folder such as /tmp) nor read what was written.
 *
 * Contract:
 *  - `createPrivateFile` opens a NEW file: O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600. O_EXCL makes
 *    open(2) fail with EEXIST when anything (a file, a symlink, even a dangling one) already
 *    has the name, so a planted name is refused instead of followed or truncated
 *    (open(2): "If O_CREAT and O_EXCL are set ... symbolic links are not followed").
 *  - `replaceFile` gives "save as" semantics without following anything: the content goes to a
 *    new private file in the target's folder, which is then renamed over the target. rename(2)
 *    replaces the directory entry, so a symlink at the target is replaced, never written
 *    through, and a failed write leaves the old file untouched.
 *  - `makeScratchDir` makes a fresh folder `wsscope-<pid>-<hex>` (mkdir(2) of a new name, mode
 *    0700: like mkdtemp, it fails rather than reuse what exists). The pid in the name lets
 *    `removeStaleScratchDirs` delete the folders of wsscope processes that died without
 *    cleaning up (SIGKILL, power loss): only folders of that exact shape, owned by this user,
 *    whose pid is not alive.
 *  - `ensurePrivateDir` is for folders that outlive the process (capture folder, config
 *    folder): created 0700 when missing; when present, used only if it is a real folder (not a
 *    symlink) owned by this user and not writable by anyone else (with `strict`, not
 *    readable either).
 *  - Errors thrown are Node's (with `code`) except PrivateFsError, whose message is one
 *    sentence that says what is wrong and what to do.
 *
 * Memory: nothing is retained; callers own the descriptors they get and must close them.
 */
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, O_RDWR } = constants;

/** A refused path, with a message meant for the user. */
export class PrivateFsError extends Error {
  constructor(
    message: string,
    readonly code: 'EEXIST' | 'ELOOP' | 'EUNSAFE',
  ) {
    super(message);
  }
}

/** The effective uid (undefined where POSIX ids do not exist: Windows). */
const euid = (): number | undefined => process.geteuid?.();

/**
 * Creates `path` as a new file, mode 0600, and returns its descriptor (write-only, or
 * read-write with `readable`; with `append`, every write goes to the end, so a file truncated
 * to 0 is written from its start again). Refuses an existing name, a symlink included.
 */
export function createPrivateFile(path: string, readable = false, append = false): number {
  try {
    return openSync(path, O_CREAT | O_EXCL | O_NOFOLLOW | (readable ? O_RDWR : O_WRONLY) | (append ? O_APPEND : 0), 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new PrivateFsError(`${path} already exists; wsscope never overwrites a file there: choose a new name or remove it first.`, 'EEXIST');
    if (code === 'ELOOP') throw new PrivateFsError(`${path} is a symbolic link; wsscope does not write through links: choose another name.`, 'ELOOP');
    throw e;
  }
}

/** Writes all of `bytes` to `fd`. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes `bytes` to the new private file `path` (see createPrivateFile). */
export function writePrivateFile(path: string, bytes: Uint8Array | string): void {
  const fd = createPrivateFile(path);
  try {
    writeAll(fd, typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  } finally {
    closeSync(fd);
  }
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A fresh name next to `target`, for a file that will be renamed over it. */
function siblingTemp(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `target` by way of a new private file beside it (`write` receives its path and must
 * create it with createPrivateFile or a function built on it), renamed over `target` once
 * `write` succeeded; on failure the temp file goes and `target` is left as it was.
 */
export async function replaceFile(target: string, write: (tempPath: string) => Promise<void> | void): Promise<void> {
  // rename(2) cannot put a file over a folder: say so before writing anything
  if (isDir(target)) throw Object.assign(new Error(`EISDIR: ${target} is a directory`), { code: 'EISDIR' });
  const tmp = siblingTemp(target);
  try {
    await write(tmp);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** replaceFile for content in hand (recent.json): synced before the rename, so a crash leaves the old or the new list. */
export function replaceFileSync(target: string, bytes: Uint8Array | string): void {
  const tmp = siblingTemp(target);
  try {
    const fd = createPrivateFile(tmp);
    try {
      writeAll(fd, typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Bytes a copy moves between turns of the event loop (16 reads of 1 MiB). */
const COPY_SLICE = 16 << 20;

/**
 * Copies `src` into the new private file `dst` (see createPrivateFile), 1 MiB at a time,
 * giving the event loop a turn every 16 MiB so a copy of gigabytes never holds up other
 * work; with `signal`, stops at such a turn once it is aborted. On any failure (a full disk,
 * the signal) `dst` is removed: no partial copy is left behind.
 */
export async function copyToPrivateFile(src: string, dst: string, signal?: AbortSignal): Promise<void> {
  const input = openSync(src, 'r');
  try {
    const out = createPrivateFile(dst);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let sinceTurn = 0;
      for (let n; (n = readSync(input, buf, 0, buf.length, null)) > 0; ) {
        writeAll(out, buf.subarray(0, n));
        sinceTurn += n;
        if (sinceTurn >= COPY_SLICE) {
          sinceTurn = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          signal?.throwIfAborted();
        }
      }
    } catch (e) {
      closeSync(out);
      unlinkSync(dst);
      throw e;
    }
    closeSync(out);
  } finally {
    closeSync(input);
  }
}

const SCRATCH_NAME = /^wsscope-(\d+)-[0-9a-f]+$/;

/** Makes a new folder `wsscope-<pid>-<12 hex>` under `parent` (default: the temp folder), mode 0700. */
export function makeScratchDir(parent = tmpdir()): string {
  const dir = join(parent, `wsscope-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** true when a process with this pid exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the scratch folders (makeScratchDir) under `parent` left by wsscope processes of
 * this user that are gone. Returns the folders removed. Never throws: cleaning up is a
 * courtesy, and a folder it cannot judge is left alone.
 */
export function removeStaleScratchDirs(parent = tmpdir()): string[] {
  const removed: string[] = [];
  const me = euid();
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = SCRATCH_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const dir = join(parent, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (me !== undefined && st.uid !== me)) continue;
      // rm does not follow symlinks inside: it unlinks them
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/**
 * Makes sure `dir` is a folder only this user can write (and, with `strict`, read): creates
 * it (and missing parents) with mode 0700, or checks the one that exists. Throws
 * PrivateFsError when it is a symlink, not a folder, someone else's, or too open.
 */
export function ensurePrivateDir(dir: string, strict = false): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const me = euid();
  const why = st.isSymbolicLink()
    ? 'is a symbolic link'
    : !st.isDirectory()
      ? 'is not a folder'
      : me !== undefined && st.uid !== me
        ? `belongs to another user (uid ${st.uid})`
        : me !== undefined && (st.mode & (strict ? 0o077 : 0o022)) !== 0
          ? `is open to other users (mode ${(st.mode & 0o777).toString(8)})`
          : '';
  if (why) throw new PrivateFsError(`${dir} ${why}; wsscope writes only into folders that are yours alone: choose another folder or fix it (chmod 700).`, 'EUNSAFE');
  return dir;
}

/**
 * The default folder for capture files: `<temp>/wsscope-captures-<uid>`, private (0700, ours).
 * If another user planted that name, a fresh folder is made instead (never theirs).
 */
export function defaultCaptureDir(): string {
  const base = join(tmpdir(), `wsscope-captures-${euid() ?? 'user'}`);
  try {
    return ensurePrivateDir(base, true);
  } catch (e) {
    if (!(e instanceof PrivateFsError)) throw e;
    const dir = `${base}-${randomBytes(6).toString('hex')}`;
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }
}
