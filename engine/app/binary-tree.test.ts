import { describe, it, expect } from 'vitest';
import { encode as msgpack } from '@msgpack/msgpack';
import { encode as cbor } from 'cbor-x';
import { binaryTrees, MAX_NODES, protobuf } from './binary-tree';

describe('binary payloads as trees', () => {
  it('shows a whole MessagePack map as its value, byte strings as hex and 64-bit integers as strings', () => {
    const bytes = msgpack({ type: 1, target: 'Send', args: ['hi', new Uint8Array([1, 2, 255])], big: 2n ** 63n - 1n }, { useBigInt64: true });
    expect(binaryTrees(bytes)).toEqual([{ format: 'msgpack', value: { type: 1, target: 'Send', args: ['hi', { $bytes: '0102ff' }], big: '9223372036854775807' } }]);
  });

  it('shows one whole CBOR item with its tags', () => {
    const bytes = cbor({ t: 'hi', n: [1, 2, 3], when: new Date(Date.UTC(2024, 0, 2)) });
    expect(binaryTrees(bytes).find((t) => t.format === 'cbor')?.value).toEqual({ t: 'hi', n: [1, 2, 3], when: '2024-01-02T00:00:00.000Z' });
  });

  it('refuses a payload with a trailing byte, a lone scalar, a cut payload, and plain binary', () => {
    const m = msgpack({ a: 1 });
    expect(binaryTrees(Uint8Array.from([...m, 0])).filter((t) => t.format === 'msgpack')).toEqual([]);
    expect(binaryTrees(msgpack('just a string')).filter((t) => t.format === 'msgpack')).toEqual([]);
    const c = cbor({ list: [1, 2, 3, 4] });
    expect(binaryTrees(c.subarray(0, c.length - 1)).filter((t) => t.format === 'cbor')).toEqual([]);
    expect(binaryTrees(Uint8Array.from([1, 2, 3, 4, 5]))).toEqual([]);
  });

  it('reads protobuf wire format without a schema: varints, fixed, nested messages and text (protobuf.dev "Encoding" examples)', () => {
    // field 1 = 150 (the "Encoding" page's first example), field 2 = "testing", field 3 = { 1: 150 }, field 4 fixed32, field 5 fixed64
    const pb = Uint8Array.from([0x08, 0x96, 0x01, 0x12, 0x07, ...Buffer.from('testing'), 0x1a, 0x03, 0x08, 0x96, 0x01, 0x25, 1, 0, 0, 0, 0x29, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(binaryTrees(pb)).toEqual([
      {
        format: 'protobuf',
        value: [
          { field: 1, wire: 'varint', value: 150 },
          { field: 2, wire: 'len', value: 'testing' },
          { field: 3, wire: 'len', value: [{ field: 1, wire: 'varint', value: 150 }] },
          { field: 4, wire: 'i32', value: { $bytes: '01000000' } },
          { field: 5, wire: 'i64', value: { $bytes: '0102030405060708' } },
        ],
      },
    ]);
    // a length past the end, a group, field number 0, an unfinished varint
    for (const bad of [[0x12, 0x05, 0x61], [0x0b, 0x0c], [0x00, 0x01], [0x08, 0xff]]) expect(protobuf(Uint8Array.from(bad), 0)).toBeNull();
  });

  it('stays within its bounds on a deep or wide value', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 60; i++) deep = [deep];
    const t = binaryTrees(msgpack(deep));
    expect(JSON.stringify(t[0].value)).toContain('"…"');
    const wide = binaryTrees(msgpack(Array.from({ length: MAX_NODES + 10 }, (_, i) => i)))[0].value as unknown[];
    expect(wide.filter((v) => v === '…').length).toBeGreaterThan(0);
  });
});
