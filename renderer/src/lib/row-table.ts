/**
 * Timeline rows stored by column: typed arrays for the numbers and flags, one array of preview
 * strings. A million rows cost ~55 bytes each plus their preview (a MessageRow object costs
 * three times that), and the garbage collector never walks the typed columns.
 * `get(p)` builds a MessageRow on demand for the few rows on screen; hot loops (filtering,
 * the time axis, lookups) read the columns directly. Append-only; the table owns its arrays.
 */
import type { MessageRow } from '../../../shared/api';
import type { Direction } from '../../../shared/events';

const F_SERVER = 1;
const F_COMPRESSED = 2;
const F_FIN = 4;
const F_MASKED = 8;
const F_TRUNCATED = 16;
const F_CODE = 32;

const KINDS: MessageRow['kind'][] = ['text', 'binary', 'close', 'ping', 'pong', 'other'];
const KIND_ID: Record<string, number> = { text: 0, binary: 1, close: 2, ping: 3, pong: 4, other: 5 };

export class RowTable {
  length = 0;
  index = new Uint32Array(0);
  conn = new Uint32Array(0);
  ts = new Float64Array(0);
  opcode = new Uint8Array(0);
  flags = new Uint8Array(0);
  rsv = new Uint8Array(0);
  kind = new Uint8Array(0);
  size = new Float64Array(0);
  wireSize = new Float64Array(0);
  frames = new Uint32Array(0);
  findings = new Uint32Array(0);
  code = new Uint16Array(0);
  preview: string[] = [];

  constructor(rows: MessageRow[] = []) {
    this.reserve(rows.length);
    for (const r of rows) this.push(r);
  }

  private reserve(n: number): void {
    if (n <= this.index.length) return;
    const cap = Math.max(n, 1024, this.index.length * 2);
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.length) as never);
      return b;
    };
    this.index = grow(this.index, (n) => new Uint32Array(n));
    this.conn = grow(this.conn, (n) => new Uint32Array(n));
    this.ts = grow(this.ts, (n) => new Float64Array(n));
    this.opcode = grow(this.opcode, (n) => new Uint8Array(n));
    this.flags = grow(this.flags, (n) => new Uint8Array(n));
    this.rsv = grow(this.rsv, (n) => new Uint8Array(n));
    this.kind = grow(this.kind, (n) => new Uint8Array(n));
    this.size = grow(this.size, (n) => new Float64Array(n));
    this.wireSize = grow(this.wireSize, (n) => new Float64Array(n));
    this.frames = grow(this.frames, (n) => new Uint32Array(n));
    this.findings = grow(this.findings, (n) => new Uint32Array(n));
    this.code = grow(this.code, (n) => new Uint16Array(n));
  }

  push(r: MessageRow): void {
    const p = this.length;
    if (p === this.index.length) this.reserve(p + 1);
    this.index[p] = r.index;
    this.conn[p] = r.conn;
    this.ts[p] = r.ts;
    this.opcode[p] = r.opcode;
    this.flags[p] =
      (r.dir === 'server' ? F_SERVER : 0) |
      (r.compressed ? F_COMPRESSED : 0) |
      (r.fin ? F_FIN : 0) |
      (r.masked ? F_MASKED : 0) |
      (r.truncated ? F_TRUNCATED : 0) |
      (r.code !== undefined ? F_CODE : 0);
    this.rsv[p] = r.rsv;
    this.kind[p] = KIND_ID[r.kind] ?? 5;
    this.size[p] = r.length;
    this.wireSize[p] = r.wireLength;
    this.frames[p] = r.frames;
    this.findings[p] = r.findings;
    this.code[p] = r.code ?? 0;
    this.preview.push(r.preview);
    this.length = p + 1;
  }

  dir(p: number): Direction {
    return this.flags[p] & F_SERVER ? 'server' : 'client';
  }

  get(p: number): MessageRow {
    const f = this.flags[p];
    const row: MessageRow = {
      index: this.index[p],
      conn: this.conn[p],
      dir: f & F_SERVER ? 'server' : 'client',
      ts: this.ts[p],
      opcode: this.opcode[p],
      length: this.size[p],
      wireLength: this.wireSize[p],
      compressed: (f & F_COMPRESSED) !== 0,
      fin: (f & F_FIN) !== 0,
      rsv: this.rsv[p],
      masked: (f & F_MASKED) !== 0,
      frames: this.frames[p],
      truncated: (f & F_TRUNCATED) !== 0,
      preview: this.preview[p],
      kind: KINDS[this.kind[p]],
      findings: this.findings[p],
    };
    if (f & F_CODE) row.code = this.code[p];
    return row;
  }
}
