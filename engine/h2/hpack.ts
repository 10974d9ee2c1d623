/**
 * HPACK (RFC 7541) decoding of one direction's header blocks, through hpack.js's decompressor
 * (static and dynamic tables, Huffman, dynamic table size updates). One decoder per
 * direction: each direction's encoder has its own dynamic table (RFC 7541 section 2.2).
 *
 * HPACK state cannot be recovered: after a block fails to decode (or a block is lost), every
 * later block of the direction may index entries this decoder never saw, so the decoder
 * stays failed (`failed`) and the caller says so once.
 *
 * Bounds: the dynamic table starts at 4,096 octets (RFC 7541 section 4.2, the default
 * SETTINGS_HEADER_TABLE_SIZE) and may be resized by the encoder up to `TABLE_MAX` (64 KiB);
 * a bigger size update fails the decoder. A block keeps at most `FIELDS_MAX` fields (the rest
 * are decoded, to keep the table right, and dropped). The caller bounds a block's size.
 *
 * Memory: the decompressor copies each block it is given (hpack.js buffers it); the fields
 * returned are strings the caller owns.
 */
import { createRequire } from 'node:module';
import type hpackLib from 'hpack.js';

/**
 * hpack.js, loaded on the first HTTP/2 header block rather than at start-up: requiring it
 * (with its readable-stream dependency) costs about 15 ms, paid by every `wsscope read`
 * whether or not the capture holds HTTP/2 (docs/benchmarks.md).
 */
let hpack: typeof hpackLib | undefined;
function lib(): typeof hpackLib {
  return (hpack ??= createRequire(import.meta.url)('hpack.js') as typeof hpackLib);
}

/** largest dynamic table an encoder may ask for here */
export const TABLE_MAX = 64 * 1024;
/** fields kept per block */
export const FIELDS_MAX = 256;
/** RFC 7541 section 4.2 / RFC 9113 section 6.5.2: SETTINGS_HEADER_TABLE_SIZE's initial value */
const DEFAULT_TABLE = 4096;

export type HeaderList = Array<[string, string]>;

export class HpackDecoder {
  private readonly d = lib().decompressor.create({ table: { maxSize: TABLE_MAX } });
  private error: Error | null = null;
  failed = false;

  constructor() {
    this.d.on('error', (e) => {
      this.error = e;
    });
    this.d.updateTableSize(DEFAULT_TABLE);
  }

  /**
   * The decoder's side announced SETTINGS_HEADER_TABLE_SIZE = `size`: the encoder may use a
   * table that large. Taking the larger size at once is safe (an encoder never references
   * an entry it evicted), a smaller one waits for the encoder's size update.
   */
  allow(size: number): void {
    if (this.failed || size <= DEFAULT_TABLE) return;
    this.d.updateTableSize(Math.min(size, TABLE_MAX));
  }

  /** One complete header block: its fields, or the reason it failed (the decoder is then failed). */
  decode(block: Uint8Array): HeaderList | string {
    if (this.failed) return 'an earlier header block of this direction failed to decode';
    this.error = null;
    try {
      this.d.write(block);
      this.d.execute();
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
    }
    const out: HeaderList = [];
    for (let f = this.d.read(); f !== null; f = this.d.read()) if (out.length < FIELDS_MAX) out.push([f.name, f.value]);
    if (this.error !== null) {
      this.failed = true;
      return this.error.message;
    }
    return out;
  }
}
