/**
 * The recent files list: `recent.json` in the config directory, a JSON array of absolute
 * paths, newest first, at most `max` entries (MAX_RECENT). Reading never fails (a missing or
 * damaged list reads as empty) and neither does saving: the list is a convenience, and
 * failing to keep it must never fail the open that added to it.
 *
 * Nothing is cached: every call reads the file, so two engines sharing a config directory
 * see each other's entries.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
      mkdirSync(this.dir, { recursive: true });
      // write then rename: a crash never leaves a half-written list
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(list, null, 1));
      renameSync(tmp, this.file);
    } catch {
      // see the module comment: saving the list is best effort
    }
  }
}
