/**
 * Local form of `MessageQuery`: a predicate over timeline rows, used when the session is small
 * enough to filter in the renderer. Text matches the row preview (case-insensitive substring,
 * or a case-insensitive regex); the engine's `queryMessages` matches whole payloads.
 */
import type { MessageQuery, MessageRow } from '../../../shared/api';
import type { Direction } from '../../../shared/events';
import type { RowTable } from './row-table';

/** Takes the fields a query looks at, so rows can be tested from objects or from columns. */
export type FieldPredicate = (conn: number, dir: Direction, opcode: number, findings: number, preview: string) => boolean;
export type RowPredicate = (r: MessageRow) => boolean;

export function rowTest(f: FieldPredicate): RowPredicate {
  return (r) => f(r.conn, r.dir, r.opcode, r.findings, r.preview);
}

/** Predicate over positions of a RowTable. */
export function tableTest(f: FieldPredicate, t: RowTable): (p: number) => boolean {
  return (p) => f(t.conn[p], t.dir(p), t.opcode[p], t.findings[p], t.preview[p]);
}

export function isQueryActive(q: MessageQuery): boolean {
  return !!q.text || !!q.dir || (q.opcodes?.length ?? 0) > 0 || (q.conn ?? null) !== null || !!q.findingsOnly;
}

/** The quantifier at `i` ("+", "*", "?", "{n}", "{n,}", "{n,m}"): its largest count, or -1. */
function quantifierMax(pattern: string, i: number): number {
  const c = pattern[i];
  if (c === '+' || c === '*') return Infinity;
  if (c === '?') return 1;
  if (c !== '{') return -1;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 32));
  if (!m) return -1; // a literal "{"
  if (m[2] === undefined) return Number(m[1]);
  return m[3] === '' ? Infinity : Number(m[3]);
}

/**
 * Whether a pattern repeats a group that itself holds a quantifier (`(a+)+`, `(\w+\s?)*`,
 * `((a)+){2,}`): such patterns can backtrack exponentially, and a regex cannot be interrupted
 * on the page's only thread, so one hostile preview ("aaaa…a!") would freeze the UI for good.
 * A walk over the pattern (escapes and character classes skipped) with one flag per open
 * group: "holds a quantifier". Alternations of overlapping branches (`(a|a)+`) are not caught.
 */
export function nestsQuantifiers(pattern: string): boolean {
  const holds: boolean[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(') {
      holds.push(false);
      // (?: (?= (?! (?<= (?<! (?<name>: that "?" is no quantifier
      if (pattern[i + 1] === '?') i++;
    } else if (c === ')') {
      const had = holds.pop() ?? false;
      const max = quantifierMax(pattern, i + 1);
      if (had && max > 1) return true;
      if (holds.length && (had || max >= 0)) holds[holds.length - 1] = true;
    } else if (holds.length && quantifierMax(pattern, i) >= 0) {
      holds[holds.length - 1] = true;
    }
  }
  return false;
}

export function compileQuery(q: MessageQuery): { test: FieldPredicate } | { error: string } {
  let re: RegExp | null = null;
  let needle = '';
  if (q.text) {
    if (q.regex) {
      try {
        re = new RegExp(q.text, 'i');
      } catch (e) {
        return { error: `Invalid regular expression: ${(e as Error).message}` };
      }
      if (nestsQuantifiers(q.text)) return { error: 'The regular expression nests quantifiers (like (a+)+), which can take forever; simplify it.' };
    } else {
      needle = q.text.toLowerCase();
    }
  }
  const ops = q.opcodes && q.opcodes.length ? new Set(q.opcodes) : null;
  const conn = q.conn ?? null;
  const dir = q.dir || '';
  const findingsOnly = !!q.findingsOnly;
  return {
    test: (rConn, rDir, rOpcode, rFindings, preview) => {
      if (conn !== null && rConn !== conn) return false;
      if (dir && rDir !== dir) return false;
      if (ops && !ops.has(rOpcode)) return false;
      if (findingsOnly && rFindings === 0) return false;
      if (re) return re.test(preview);
      if (needle) return preview.toLowerCase().includes(needle);
      return true;
    },
  };
}
