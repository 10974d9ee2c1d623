/** The part of hpack.js (https://github.com/indutny/hpack.js, no published types) engine/h2/hpack.ts uses. */
declare module 'hpack.js' {
  interface HeaderField {
    name: string;
    value: string;
    neverIndex: boolean;
  }
  interface Decompressor {
    write(chunk: Uint8Array): boolean;
    execute(): void;
    read(): HeaderField | null;
    updateTableSize(size: number): void;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  const hpack: {
    decompressor: { create(options: { table: { size?: number; maxSize?: number } }): Decompressor };
  };
  export default hpack;
}
