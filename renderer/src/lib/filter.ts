/**
 * Local form of `MessageQuery`: a predicate over timeline rows, used when the session is small
 * enough to filter in the renderer. Text matches the row preview (case-insensitive substring,
 * or a case-insensitive regex); the engine's `queryMessages` matches whole payloads.
 */
import type { MessageQuery, MessageRow } from '../../../shared/api';

export type RowPredicate = (r: MessageRow) => boolean;

export function isQueryActive(q: MessageQuery): boolean {
  return !!q.text || !!q.dir || (q.opcodes?.length ?? 0) > 0 || (q.conn ?? null) !== null || !!q.findingsOnly;
}

export function compileQuery(q: MessageQuery): { test: RowPredicate } | { error: string } {
  let re: RegExp | null = null;
  let needle = '';
  if (q.text) {
    if (q.regex) {
      try {
        re = new RegExp(q.text, 'i');
      } catch (e) {
        return { error: `Invalid regular expression: ${(e as Error).message}` };
      }
    } else {
      needle = q.text.toLowerCase();
    }
  }
  const ops = q.opcodes && q.opcodes.length ? new Set(q.opcodes) : null;
  const conn = q.conn ?? null;
  const dir = q.dir || '';
  const findingsOnly = !!q.findingsOnly;
  return {
    test: (r) => {
      if (conn !== null && r.conn !== conn) return false;
      if (dir && r.dir !== dir) return false;
      if (ops && !ops.has(r.opcode)) return false;
      if (findingsOnly && r.findings === 0) return false;
      if (re) return re.test(r.preview);
      if (needle) return r.preview.toLowerCase().includes(needle);
      return true;
    },
  };
}
