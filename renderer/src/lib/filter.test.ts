import { describe, it, expect } from 'vitest';
import { compileQuery } from './filter';

const match = (text: string, preview: string): boolean => {
  const q = compileQuery({ text, regex: true });
  if ('error' in q) throw new Error(q.error);
  return q.test(1, 'server', 1, 0, preview);
};

describe('compileQuery with a regular expression', () => {
  it('runs the backtracking traps (a|aa)+x and (a+)+$ over a long run of "a" promptly (RE2, linear time)', () => {
    // V8 would take minutes on a few dozen "a"s (each more one multiplies the time by ~1.6)
    const preview = 'a'.repeat(100_000);
    const t0 = performance.now();
    expect(match('(a|aa)+x', preview)).toBe(false);
    expect(match('(a+)+!$', preview)).toBe(false);
    expect(match('(\\w+\\s?)+$', preview + '!')).toBe(false);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(match('^(a|aa)+$', preview)).toBe(true);
  });

  it('matches case-insensitively anywhere in the preview', () => {
    expect(match('"op":"(ack|subscribe)"', '{"OP":"Subscribe","ch":1}')).toBe(true);
    expect(match('^ch', '{"ch":1}')).toBe(false);
    expect(match('\\d{3}', 'code 404')).toBe(true);
  });

  it('refuses an invalid pattern, and what RE2 does not run (backreferences, lookaround), with one sentence', () => {
    expect(compileQuery({ text: '(unclosed', regex: true })).toEqual({ error: 'Invalid regular expression: missing closing ): `(unclosed`' });
    for (const p of ['(a)\\1', '(?<=a)b', 'a(?!b)']) expect(compileQuery({ text: p, regex: true })).toEqual({ error: expect.stringMatching(/^Invalid regular expression: \S/) });
    // the same text without regex is a plain substring
    expect('test' in compileQuery({ text: '(unclosed', regex: false })).toBe(true);
  });
});
