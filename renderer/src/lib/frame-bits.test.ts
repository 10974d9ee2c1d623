import { describe, it, expect } from 'vitest';
import { readHeader } from './frame-bits';

describe('readHeader', () => {
  it('reads the masked "Hello" header of RFC 6455 section 5.7 field by field', () => {
    const r = readHeader(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]));
    expect(r.bits).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1]);
    const f = Object.fromEntries(r.fields.map((x) => [x.name, x]));
    expect(f.fin.pattern).toBe('1... ....');
    expect(f.fin.value).toBe('True');
    expect(f.rsv1.value).toBe('False');
    expect(f.opcode.pattern).toBe('.... 0001');
    expect(f.opcode.value).toBe('text (1)');
    expect(f.masked.value).toBe('True');
    expect(f.payloadLength.pattern).toBe('.000 0101');
    expect(f.payloadLength.value).toBe('5');
    expect(r.maskingKey).toBe('37fa213d');
    expect(r.extended).toBeNull();
    expect(r.short).toBe(false);
  });

  it('reads a 16-bit extended length (126) and a 64-bit one (127)', () => {
    const a = readHeader(new Uint8Array([0x82, 0x7e, 0x01, 0x00]));
    expect(a.extended).toEqual({ bits: 16, value: '256', hex: '01 00' });
    expect(a.payloadLength).toBe('256');
    expect(a.maskingKey).toBeNull();
    const b = readHeader(new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]));
    expect(b.extended?.value).toBe('65536');
    // RFC 6455 5.2 forbids the top bit; the pane still shows the full 64-bit value
    const c = readHeader(new Uint8Array([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]));
    expect(c.extended?.value).toBe('9223372036854775809');
  });

  it('marks RSV bits, reserved opcodes and a header cut before its masking key', () => {
    const r = readHeader(new Uint8Array([0x7b, 0xfe, 0x00]));
    const f = Object.fromEntries(r.fields.map((x) => [x.name, x.value]));
    expect(f.fin).toBe('False');
    expect(f.rsv1).toBe('True');
    expect(f.rsv2).toBe('True');
    expect(f.rsv3).toBe('True');
    expect(f.opcode).toBe('reserved-b (11)');
    expect(r.short).toBe(true);
  });
});
