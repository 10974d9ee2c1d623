// The test kit's WebSocket oracle against the worked examples of RFC 6455 itself, so tests
// that check the engine against the kit check it against the RFC.
import { describe, it, expect } from 'vitest';
import { KEY, acceptFor, cf, closePayload, sf, wsFrame } from './websocket';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('test kit: WebSocket bytes', () => {
  it('computes the accept of the section 1.3 example', () => {
    expect(acceptFor(KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('writes the frames of section 5.7', () => {
    expect(hex(sf(1, 'Hello'))).toBe('810548656c6c6f');
    // the kit's default masking key is the one the RFC's example uses
    expect(hex(cf(1, 'Hello'))).toBe('818537fa213d7f9f4d5158');
    expect(hex(sf(1, 'Hel', { fin: false }))).toBe('010348656c');
    expect(hex(sf(0, 'lo'))).toBe('80026c6f');
    expect(hex(cf(9, 'Hello', { mask: null }))).toBe('890548656c6c6f');
    expect(hex(sf(10, 'Hello', { mask: Uint8Array.of(0x37, 0xfa, 0x21, 0x3d) }))).toBe('8a8537fa213d7f9f4d5158');
    expect(hex(sf(2, new Uint8Array(256)).subarray(0, 4))).toBe('827e0100');
    expect(hex(sf(2, new Uint8Array(65536)).subarray(0, 10))).toBe('827f0000000000010000');
  });

  it('writes non-minimal lengths and declared lengths as asked', () => {
    expect(hex(sf(1, 'hello', { lenForm: 16 }))).toBe('817e000568656c6c6f');
    expect(hex(wsFrame({ opcode: 2, declared: 1n << 63n }))).toBe('827f8000000000000000');
  });

  it('writes a close payload as code then reason (section 5.5.1)', () => {
    expect(hex(closePayload(1000, 'bye'))).toBe('03e8627965');
  });
});
