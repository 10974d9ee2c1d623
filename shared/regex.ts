/**
 * Guarding user-typed regular expressions (the timeline filter). Shared by the renderer (which
 * filters small sessions itself) and the engine (which filters large ones): a regex cannot be
 * interrupted, so either side would hang on a pattern that backtracks exponentially.
 */

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

