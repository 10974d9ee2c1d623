/**
 * Local form of `MessageQuery`: a predicate over timeline rows, used when the session is small
 * enough to filter in the renderer. Text matches the row preview (case-insensitive substring,
 * or a case-insensitive RE2 regex, shared/regex.ts); the engine's `queryMessages` matches whole payloads.
 */
import type { MessageQuery, MessageRow } from '../../../shared/api';
import type { Direction } from '../../../shared/events';
import type { RowTable } from './row-table';
import { compileUserRegex, type UserRegex } from '../../../shared/regex';

/** Takes the fields a query looks at, so rows can be tested from objects or from columns. */
export type FieldPredicate = (conn: number, dir: Direction, opcode: number, findings: number, preview: string) => boolean;
export type RowPredicate = (r: MessageRow) => boolean;

export function rowTest(f: FieldPredicate): RowPredicate {
  return (r) => f(r.conn, r.dir, r.opcode, r.findings, r.preview);
}

/** Predicate over positions of a RowTable. */
export function tableTest(f: FieldPredicate, t: RowTable): (p: number) => boolean {
  return (p) => f(t.conn[p], t.dir(p), t.opcode[p], t.findings[p], t.previewAt(p));
}

export function isQueryActive(q: MessageQuery): boolean {
  return !!q.text || !!q.dir || (q.opcodes?.length ?? 0) > 0 || (q.conn ?? null) !== null || !!q.findingsOnly || isAppQuery(q);
}

/** A filter on decoded fields: the renderer does not hold the packets, so it runs in the engine. */
export function isAppQuery(q: MessageQuery): boolean {
  return !!(q.app && (q.app.protocol || q.app.type || q.app.name));
}

export function compileQuery(q: MessageQuery): { test: FieldPredicate } | { error: string } {
  let re: UserRegex | null = null;
  let needle = '';
  if (q.text) {
    if (q.regex) {
      // RE2, linear time: no pattern can freeze the page (shared/regex.ts)
      const c = compileUserRegex(q.text);
      if ('error' in c) return c;
      re = c;
    } else {
      needle = q.text.toLowerCase();
    }
  }
  const ops = q.opcodes && q.opcodes.length ? new Set(q.opcodes) : null;
  const conn = q.conn ?? null;
  const dir = q.dir || '';
  const findingsOnly = !!q.findingsOnly;
  // decoded fields are matched by the engine; rows that arrive between its answers wait for the next one
  const engineOnly = isAppQuery(q);
  return {
    test: (rConn, rDir, rOpcode, rFindings, preview) => {
      if (engineOnly) return false;
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
