/**
 * User-typed regular expressions (the timeline filter), run in linear time. Shared by the
 * renderer (which filters small sessions itself) and the engine (which filters large ones).
 *
 * A JavaScript RegExp backtracks: `(a|aa)+x` over a 40-character run of "a" takes minutes, and
 * a regex cannot be interrupted, so one hostile preview would freeze the engine or the page
 * for good. The pattern is compiled with RE2 instead (re2js: Google's RE2 in plain
 * JavaScript, so the same code runs in Node and in the sandboxed page), whose automaton
 * matches in time linear in the input whatever the pattern
 * (https://github.com/google/re2/wiki/WhyRE2). RE2 syntax is JavaScript's minus
 * backreferences and lookaround (https://github.com/google/re2/wiki/Syntax): those are
 * refused as invalid, with RE2's reason.
 *
 * Memory: a compiled matcher holds its program (bounded by RE2's program size limit); `test`
 * allocates nothing that outlives the call.
 */
import { RE2JS } from 're2js';

export interface UserRegex {
  /** true when the pattern matches somewhere in `s` (case-insensitive) */
  test(s: string): boolean;
}

/**
 * Compiles `pattern` case-insensitively; an invalid one gives `{ error }`, one sentence
 * starting "Invalid regular expression:" (RE2's reason, e.g. "missing closing )").
 */
export function compileUserRegex(pattern: string): UserRegex | { error: string } {
  try {
    return RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (e) {
    // "error parsing regexp: missing closing ): `(?i)(a`": the flag re2js put in front is ours, not the user's
    const why = (e instanceof Error ? e.message : String(e)).replace(/^error parsing regexp: /, '').replace('`(?i)', '`');
    return { error: `Invalid regular expression: ${why}` };
  }
}
