import { describe, it, expect } from 'vitest';
import { compileQuery } from './filter';
import { nestsQuantifiers } from '../../../shared/regex';

describe('nestsQuantifiers', () => {
  it('flags a repeated group that holds a quantifier', () => {
    for (const p of ['(a+)+$', '(a*)*', '(x+){2,}', '(.+){1,9}', '(\\w+\\s?)+$', '((a)+)+', '(?:a+)+', '(a{2,})*', '(?<n>b+)*'])
      expect(nestsQuantifiers(p), p).toBe(true);
  });

  it('lets through groups repeated once, unquantified groups and escaped or bracketed quantifiers', () => {
    for (const p of ['(a+)', '(a+)?', '(a+){1}', '(ab)+', '(?:GET|POST) /', '\\(a+\\)+', '([+*])+', '<(img|svg)[^>]*\\son\\w+=', 'a{2}b+', '(a{)+'])
      expect(nestsQuantifiers(p), p).toBe(false);
  });

  it('makes the filter refuse such a pattern instead of running it', () => {
    const q = compileQuery({ text: '(a+)+$', regex: true });
    expect('error' in q && q.error).toMatch(/nests quantifiers/);
    const ok = compileQuery({ text: '(a+)+$', regex: false });
    expect('test' in ok).toBe(true);
  });
});
