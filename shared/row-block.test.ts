import { describe, it, expect } from 'vitest';
import { batchRows, packRows, unpackRows, ROW_BYTES } from './row-block';
import { decodeWire, encodeWire } from './wire';
import type { Batch, MessageRow } from './api';

const row = (index: number, over: Partial<MessageRow> = {}): MessageRow => ({
  index,
  conn: 7,
  dir: index % 2 ? 'server' : 'client',
  ts: 1_700_000_000.123456 + index,
  opcode: 1,
  length: 2 ** 40 + index,
  wireLength: 2 ** 40 + index + 14,
  compressed: index % 3 === 0,
  fin: index % 4 !== 0,
  rsv: index % 8,
  masked: index % 2 === 0,
  frames: 3,
  truncated: index === 2,
  preview: `row ${index} ✓ "quoted"`,
  kind: 'text',
  findings: index,
  ...over,
});

describe('row blocks', () => {
  it('carry every field of every row, through the wire format too', () => {
    const rows = [row(0), row(1, { opcode: 8, kind: 'close', code: 1000, preview: '1000 Normal Closure' }), row(2, { opcode: 2, kind: 'binary', preview: '00 ff …' }), row(3, { preview: '' })];
    const block = packRows(rows);
    expect(block.data.byteLength).toBe(rows.length * ROW_BYTES);
    const batch: Batch = { session: 1, connections: [], messages: [], rows: block, findings: [], handshakes: [], totals: { packets: 0, messages: 4, findings: 0, connections: 1 } };
    expect(batchRows(batch)).toEqual(rows);
    const back = decodeWire(encodeWire({ t: 'push', name: 'batch', payload: batch })) as { payload: Batch };
    expect(batchRows(back.payload)).toEqual(rows);
  });

  it('keep previews apart whatever they hold, and refuse blocks whose sizes disagree', () => {
    const rows = [row(0, { preview: 'a\nb' }), row(1)];
    expect(batchRows({ messages: [], rows: packRows(rows) }).map((r) => r.preview)).toEqual(['a␊b', rows[1].preview]);
    const block = packRows(rows);
    expect(() => unpackRows({ ...block, count: 3 })).toThrow(RangeError);
    expect(() => unpackRows({ ...block, previews: 'one' })).toThrow(RangeError);
    expect(unpackRows(packRows([])).count).toBe(0);
    // a view that does not start on an 8-byte boundary is copied, not misread
    const shifted = new Uint8Array(block.data.byteLength + 1);
    shifted.set(block.data, 1);
    expect(batchRows({ messages: [], rows: { ...block, data: shifted.subarray(1) } })).toEqual(batchRows({ messages: [], rows: block }));
  });
});
