import { describe, it, expect } from 'vitest';
import { chunks, formatRelTime, hexDumpLines, visibleText } from './format';

describe('format', () => {
  it('makes C0 controls, DEL, C1 controls, bidi overrides, isolates and zero-width chars visible', () => {
    expect(visibleText('a\u0000b\u0007c\u007fd')).toBe('a␀b␇c␡d');
    expect(visibleText('x\u0085y')).toBe('x⟨U+0085⟩y');
    expect(visibleText('\u202Eabc\u202C\u2066\u2069\u200B\uFEFF')).toBe(
      '⟨U+202E⟩abc⟨U+202C⟩⟨U+2066⟩⟨U+2069⟩⟨U+200B⟩⟨U+FEFF⟩',
    );
    // multi-line views keep tab and line breaks; single-line views show them
    expect(visibleText('a\tb\nc\r\n')).toBe('a\tb\nc\r\n');
    expect(visibleText('a\tb\nc\r\n', true)).toBe('a␉b␊c␍␊');
    expect(visibleText('plain ünïcödé 😀')).toBe('plain ünïcödé 😀');
  });

  it('splits long text into bounded chunks', () => {
    expect(chunks('abcdefg', 3)).toEqual(['abc', 'def', 'g']);
    expect(chunks('ab', 3)).toEqual(['ab']);
  });

  it('dumps hex with offsets and a printable-ASCII column only', () => {
    const lines = hexDumpLines(new TextEncoder().encode('Hello, <b>\u0000 world!'));
    expect(lines[0]).toBe('00000000  48 65 6c 6c 6f 2c 20 3c  62 3e 00 20 77 6f 72 6c  |Hello, <b>. worl|');
    expect(lines[1]).toBe('00000010  64 21                                             |d!|');
  });

  it('formats relative time with microseconds', () => {
    expect(formatRelTime(1_700_000_001.25, 1_700_000_000)).toBe('1.250000');
  });
});
