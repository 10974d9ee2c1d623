// PayloadCursor over a store whose bytes are mostly in its spill file: what it reads back is
// the stored bytes (checked against the appended data), a cursor made for one row reads a
// small block (a preview, a detail view), and a scan's refills grow and stay in one buffer.
import { describe, it, expect, afterEach } from 'vitest';
import { PayloadCursor, PayloadStore } from './payload-store';

const stores: PayloadStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** 3,000 payloads of 1..2,000 bytes (about 3 MB) in a store that keeps 64 KiB in memory. */
function filled(): { store: PayloadStore; rows: Array<{ off: number; data: Uint8Array }> } {
  const store = new PayloadStore({ budget: 64 * 1024, chunkSize: 16 * 1024 });
  stores.push(store);
  const rows: Array<{ off: number; data: Uint8Array }> = [];
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    const data = new Uint8Array(1 + (i * 7919) % 2000);
    for (let j = 0; j < data.length; j++) data[j] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    rows.push({ off: store.append(data), data });
  }
  return { store, rows };
}

describe('PayloadCursor', () => {
  it('reads back every payload, in order and out of order, from the spill file and memory', () => {
    const { rows, store } = filled();
    expect(store.size).toBeGreaterThan(2_000_000);
    const scan = new PayloadCursor(store);
    for (const r of rows) {
      const at = scan.seek(r.off, r.data.length);
      expect(scan.block.subarray(at, at + r.data.length)).toEqual(r.data);
    }
    const jump = new PayloadCursor(store);
    for (let i = 0; i < rows.length; i += 1 + (i % 13) * 97) {
      const r = rows[rows.length - 1 - (i % rows.length)];
      const at = jump.seek(r.off, r.data.length);
      expect(jump.block.subarray(at, at + r.data.length)).toEqual(r.data);
    }
  });

  it('reads a small block for one row, more while a scan goes on, never past 4 MiB', () => {
    const { rows, store } = filled();
    const one = new PayloadCursor(store);
    one.seek(rows[10].off, rows[10].data.length);
    // a preview's cursor: 64 KiB, not a 4 MiB block (which made every row shown read 4 MiB)
    expect(one.block.length).toBe(64 * 1024);
    const scan = new PayloadCursor(store);
    const sizes: number[] = [];
    for (const r of rows) {
      const before = scan.block;
      scan.seek(r.off, r.data.length);
      if (scan.block !== before && scan.block.length > 0) sizes.push(scan.block.length);
    }
    expect(sizes[0]).toBe(64 * 1024);
    expect(Math.max(...sizes)).toBeGreaterThan(64 * 1024);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4 * 1024 * 1024);
  });
});
