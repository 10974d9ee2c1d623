/**
 * The recent files list: `recent.json` in the config directory, a JSON array of absolute
 * paths, newest first, at most `max` entries (MAX_RECENT). Reading never fails (a missing or
 * damaged list reads as empty) and neither does saving: the list is a convenience, and
 * failing to keep it must never fail the open that added to it.
 *
 * Nothing is cached: every call reads the file, so two engines sharing a config directory
 * see each other's entries.
 */
import { readFileSync } from 'node:fs';
import { ensurePrivateDir, replaceFileSync } from '../fs/private';
import { join } from 'node:path';

export const MAX_RECENT = 10;

export class RecentFiles {
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly max = MAX_RECENT,
  ) {
    this.file = join(dir, 'recent.json');
  }

  /** The list, newest first; entries that are not strings are dropped. */
  list(): string[] {
    try {
      const v: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, this.max) : [];
    } catch {
      return [];
    }
  }

  /** Puts `path` first (once), dropping the oldest beyond `max`. */
  add(path: string): void {
    const list = [path, ...this.list().filter((p) => p !== path)].slice(0, this.max);
    try {
      ensurePrivateDir(this.dir);
      // a new private file renamed over the list: a crash never leaves a half-written list,
      // and a symlink planted at recent.json is replaced, not written through
      replaceFileSync(this.file, JSON.stringify(list, null, 1));
    } catch {
      // see the module comment: saving the list is best effort
    }
  }
}
