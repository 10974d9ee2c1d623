/**
 * Contracts between the engine's stages (source -> link/IP decode -> flows -> reassembly ->
 * the stream stack, whose own contracts are in engine/stack/layer.ts). Plain Node TypeScript: no electron, no cap import anywhere under engine/
 * except engine/capture/live-*.ts which load cap lazily.
 *
 * Memory ownership: a `PacketRecord.data` view is only valid during the callback that
 * receives it (sources reuse their read buffers). A stage that keeps bytes past the
 * callback copies them (`Uint8Array.prototype.slice`).
 */

/** One capture record. */
export interface PacketRecord {
  /** 1-based record number in the capture */
  no: number;
  /** seconds since the epoch */
  ts: number;
  /** LINKTYPE_* value (pcap / pcapng IDB) */
  linkType: number;
  /** captured bytes (a view; valid during the callback only) */
  readonly data: Uint8Array;
  /**
   * Optional, for readers on the per-packet path: the captured bytes are buf[off, off + caplen)
   * (what `data` views). The file parser fills them and makes `data` only when it is read,
   * so the header walk (engine/net/decode.ts) costs no view per packet.
   */
  readonly buf?: Uint8Array;
  readonly off?: number;
  readonly caplen?: number;
  /** length on the wire; > data.length when the snap length cut it */
  origLen: number;
  /** pcapng interface id (0 for pcap) */
  iface: number;
  /**
   * Offset in the capture file of the record's first captured byte, for reading it back
   * (`CaptureFileReader`); -1 or absent when unknown (gzip, live capture, a stream).
   */
  readonly filePos?: number;
}

/**
 * Reads the bytes of the capture file being read back by their file offset, synchronously
 * (engine/capture/file-source.ts makes it; the TCP conflict history uses it,
 * engine/tcp/history.ts). `readAt` fills dst[0, len) from file offset `pos` and returns the
 * bytes read: fewer than `len` when the file is shorter now than when it was read, -1 once
 * the read of the file is over (the file is closed) or on an I/O error.
 */
export interface CaptureFileReader {
  readAt(pos: number, dst: Uint8Array, len: number): number;
}

export interface CaptureInterfaceInfo {
  id: number;
  linkType: number;
  name?: string;
  description?: string;
  snaplen: number;
  /** seconds per timestamp unit, e.g. 1e-6 */
  tsResolution: number;
}

/** Problems a capture reader reports (and keeps going where it can). */
export interface CaptureProblem {
  kind: 'truncated-capture' | 'corrupt-block' | 'unknown-link-type' | 'bad-header';
  /** record number the problem is next to (0 if none) */
  packet: number;
  offset: number;
  text: string;
}

export interface CaptureSink {
  packet(rec: PacketRecord): void;
  problem?(p: CaptureProblem): void;
  iface?(info: CaptureInterfaceInfo): void;
  /** a pcapng Decryption Secrets Block: its secrets type (0x544c534b = TLS key log) and data (a view, valid during the call) */
  secrets?(type: number, data: Uint8Array): void;
  /**
   * A file source's reader of the file's bytes by position: given before the first record
   * (whose `filePos` is then set), withdrawn (null) when the read ends, before the file is
   * closed. A sink without this method gets records with `filePos` -1.
   */
  fileReader?(reader: CaptureFileReader | null): void;
}

/** Result of the link/IP/transport header walk. */
export interface DecodedPacket {
  ipVersion: 4 | 6;
  /** printable addresses (IPv6 without brackets) */
  src: string;
  dst: string;
  /** 6 = TCP, 17 = UDP, other = IP protocol number */
  protocol: number;
  srcPort: number;
  dstPort: number;
  /** TCP only */
  seq: number;
  ack: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80) */
  flags: number;
  window: number;
  /** transport payload (view into the record; valid during the callback) */
  payload: Uint8Array;
  /** transport payload bytes that the snap length cut (payload is shorter than the segment) */
  missing: number;
  /**
   * TCP only: capture-file offset of payload[0] when the payload is a view of the record and
   * the record's `filePos` is known; -1 otherwise (a reassembled IP datagram, an unknown position)
   */
  payloadPos: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/**
 * Where a chunk of stream data came from. Like the bytes it comes with, a meta is valid during
 * the call only: the pipeline refills one object for every packet (no allocation per packet),
 * so a layer that keeps a meta past the call keeps a copy (`keepMeta`), or the packet numbers
 * it prints later are those of whatever packet came last.
 */
export interface ChunkMeta {
  ts: number;
  /** record number of the packet that carried (the end of) these bytes */
  packet: number;
}

/** a copy of `m` that may be kept past the call it came with (see ChunkMeta) */
export function keepMeta(m: ChunkMeta): ChunkMeta {
  return { ts: m.ts, packet: m.packet };
}

/**
 * One direction of a TCP connection, ordered (gopacket's Stream shape); the stack's
 * `ByteStream` (engine/stack/layer.ts) takes the same `skip`.
 * `skip` on `data`: 0 = contiguous with the previous chunk; N > 0 = N bytes were lost just
 * before this chunk; -1 = the start of the stream was not seen (mid-stream pickup), reported
 * on the first chunk only.
 */
export interface StreamSink {
  data(bytes: Uint8Array, skip: number, meta: ChunkMeta): void;
  end(reason: 'fin' | 'rst' | 'eof', meta: ChunkMeta): void;
  /** a retransmitted byte range that differs from what was delivered first */
  conflict?(offset: number, length: number, meta: ChunkMeta): void;
}
