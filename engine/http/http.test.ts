import { describe, it, expect } from 'vitest';
import { computeAccept, isValidKey } from './accept';
import { BodySkipper } from './body';
import { checkDeflate, parseExtensions } from './extensions';
import { HeadReader, looksLikeHttpStart, parseRequestLine, parseStatusLine } from './head';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('Sec-WebSocket-Accept', () => {
  it('computes the accept value of the RFC 6455 section 1.3 example', () => {
    expect(computeAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
  it('hashes a key holding bytes over 0x7f as those bytes (header values are latin1), not as their UTF-8', () => {
    // base64(SHA-1 of the latin1 bytes of 'cl\u00e9 \u00ff' + GUID), computed with Python's hashlib
    expect(computeAccept('cl\u00e9 \u00ff')).toBe('5S/M27/8fVnEss2wORUbp7LRkak=');
  });
  it('accepts only 16 bytes of base64 as a key', () => {
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe(true);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ=')).toBe(false);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZXg=')).toBe(false); // 17 bytes
    expect(isValidKey('')).toBe(false);
  });
});

describe('HeadReader', () => {
  const head = 'GET /a HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  b\r\n\r\nREST';
  it('finds the end of a head fed whole, byte by byte and in odd chunks, leaving what follows', () => {
    for (const size of [head.length, 1, 2, 3, 7]) {
      const r = new HeadReader();
      const b = enc(head);
      let end = -1;
      for (let p = 0; p < b.length && end < 0; p += size) {
        const chunk = b.subarray(p, p + size);
        const got = r.push(chunk, 0);
        if (got >= 0) end = p + got;
      }
      expect(end).toBe(head.length - 4);
      const h = r.take();
      expect(h.startLine).toBe('GET /a HTTP/1.1');
      expect(h.headers).toEqual([
        ['Host', 'x'],
        ['X-Fold', 'a b'],
      ]);
      expect(h.bytes).toBe(head.length - 4);
    }
  });
  it('accepts bare LF line ends and skips empty lines before the start line', () => {
    const r = new HeadReader();
    expect(r.push(enc('\r\nHTTP/1.1 200 OK\nA: b\n\nX'), 0)).toBe(24);
    expect(r.take().headers).toEqual([['A', 'b']]);
  });
  it('gives up on a head over the size bound', () => {
    const r = new HeadReader(100);
    expect(r.push(enc(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}`), 0)).toBe(-2);
  });
  it('parses request and status lines', () => {
    expect(parseRequestLine('GET /chat?x=1 HTTP/1.1')).toEqual({ method: 'GET', target: '/chat?x=1', version: 'HTTP/1.1' });
    expect(parseRequestLine('\u0016\u0003garbage')).toBeNull();
    expect(parseStatusLine('HTTP/1.1 101 Switching Protocols')).toEqual({ version: 'HTTP/1.1', status: 101, text: 'Switching Protocols' });
    expect(parseStatusLine('HTTP/1.1 426')).toEqual({ version: 'HTTP/1.1', status: 426, text: '' });
  });
  it('tells HTTP starts from other bytes, and waits when too few bytes are in view', () => {
    expect(looksLikeHttpStart(enc('GET / HTTP/1.1'), 0, 14, false)).toBe('yes');
    expect(looksLikeHttpStart(enc('GE'), 0, 2, false)).toBe('maybe');
    expect(looksLikeHttpStart(new Uint8Array([0x81, 0x85]), 0, 2, false)).toBe('no');
    expect(looksLikeHttpStart(enc('HTTP/1.1 101'), 0, 12, true)).toBe('yes');
    expect(looksLikeHttpStart(enc('HTT'), 0, 3, true)).toBe('maybe');
    expect(looksLikeHttpStart(enc('SSH-2.0'), 0, 7, true)).toBe('no');
  });
});

describe('BodySkipper', () => {
  const chunked = '4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT';
  it('skips a chunked body with extensions and trailers, in any split', () => {
    for (const size of [chunked.length, 1, 2, 5]) {
      const s = new BodySkipper();
      s.start('chunked');
      const b = enc(chunked);
      let end = -1;
      for (let p = 0; p < b.length && end < 0; p += size) {
        const got = s.push(b.subarray(p, p + size), 0);
        if (got >= 0) end = p + got;
      }
      expect(end).toBe(chunked.length - 4);
      expect(s.done).toBe(true);
    }
  });
  it('skips a Content-Length body across chunks', () => {
    const s = new BodySkipper();
    s.start('length', 10);
    expect(s.push(enc('12345'), 0)).toBe(-1);
    expect(s.push(enc('67890XY'), 0)).toBe(5);
  });
  it('treats broken chunked framing as a body that lasts to the end', () => {
    const s = new BodySkipper();
    s.start('chunked');
    expect(s.push(enc('zz\r\n'), 0)).toBe(-1);
    expect(s.bad).toBe(true);
  });
});

describe('extension negotiation', () => {
  it('parses offers with parameters and quoted values', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10", x-foo')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', null]] },
      { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
      { name: 'x-foo', params: [] },
    ]);
  });
  it('validates permessage-deflate parameters (RFC 7692 section 7.1)', () => {
    const [offer] = parseExtensions('permessage-deflate; client_max_window_bits; server_no_context_takeover');
    expect(checkDeflate(offer, true).problems).toEqual([]);
    const [ok] = parseExtensions('permessage-deflate; server_max_window_bits=8; client_max_window_bits=15; client_no_context_takeover');
    expect(checkDeflate(ok, false, true)).toEqual({
      params: { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 15 },
      problems: [],
    });
    for (const bad of ['server_max_window_bits=16', 'server_max_window_bits', 'client_max_window_bits', 'server_no_context_takeover=1', 'foo=1', 'server_max_window_bits=09']) {
      const [e] = parseExtensions(`permessage-deflate; ${bad}`);
      expect(checkDeflate(e, false, true).problems.length, bad).toBeGreaterThan(0);
    }
    const [notOffered] = parseExtensions('permessage-deflate; client_max_window_bits=10');
    expect(checkDeflate(notOffered, false, false).problems).toHaveLength(1);
  });
});
