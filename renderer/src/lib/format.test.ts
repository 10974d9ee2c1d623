import { describe, it, expect } from 'vitest';
import { chunks, formatDelta, formatDuration, formatRelTime, hexDumpLineChars, hexDumpLines, hexPreviewAscii, middleEllipsis, visibleText } from './format';

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

describe('format helpers for the timeline, hex dump and connections', () => {
  it('dumps 8 or 4 bytes a line for a narrow pane, ASCII column included', () => {
    const b = new TextEncoder().encode('Hello, world');
    expect(hexDumpLines(b, 0, b.length, 8)).toEqual(['00000000  48 65 6c 6c 6f 2c 20 77  |Hello, w|', '00000008  6f 72 6c 64              |orld|']);
    expect(hexDumpLines(b, 0, 4, 4)[0]).toBe('00000000  48 65 6c 6c  |Hell|');
    for (const n of [4, 8, 16]) expect(hexDumpLines(new Uint8Array(n), 0, n, n)[0]).toHaveLength(hexDumpLineChars(n));
  });

  it('reads a hex preview as printable ASCII, and nothing else', () => {
    expect(hexPreviewAscii('4d 51 54 54 00 04 ff …')).toBe('MQTT...…');
    expect(hexPreviewAscii('3c 62 3e')).toBe('<b>');
    expect(hexPreviewAscii('hello')).toBeNull();
    expect(hexPreviewAscii('')).toBeNull();
  });

  it('cuts a long URL in the middle so its tail stays visible', () => {
    const url = 'ws://api.example.com:8443/v1/streams/tenant-a/market-data/orderbook/BTC-USD';
    const cut = middleEllipsis(url, 40);
    expect(cut).toHaveLength(40);
    expect(cut.startsWith('ws://api.example.')).toBe(true);
    expect(cut.endsWith('orderbook/BTC-USD')).toBe(true);
    expect(middleEllipsis('ws://a/b', 40)).toBe('ws://a/b');
  });

  it('formats durations and delta times', () => {
    expect(formatDuration(0.00085)).toBe('850 µs');
    expect(formatDuration(0.0124)).toBe('12.4 ms');
    expect(formatDuration(1.25)).toBe('1.25 s');
    expect(formatDelta(0.000123)).toBe('0.000123');
  });
});
