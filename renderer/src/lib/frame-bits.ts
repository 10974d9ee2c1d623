/**
 * Field-by-field reading of a WebSocket frame header (RFC 6455 section 5.2) for the detail
 * pane, named like Wireshark's dissector (fin, rsv1..3, opcode, masked, payloadLength,
 * maskingKey). Reads the raw header bytes; never trusts the engine's parsed copy, so the pane
 * shows exactly what was on the wire.
 */
import { opcodeName } from '../../../shared/labels';
import { hexBytes } from './format';

export interface BitField {
  name: string;
  /** first bit (0 = most significant bit of byte 0) and width */
  bit: number;
  width: number;
  /** Wireshark-style pattern of the byte holding it, e.g. ".... 0001" */
  pattern: string;
  value: string;
}

export interface HeaderReading {
  /** the first 16 bits, 0/1 */
  bits: number[];
  fields: BitField[];
  /** 16- or 64-bit extended payload length, when present */
  extended: { bits: 16 | 64; value: string; hex: string } | null;
  maskingKey: string | null;
  payloadLength: string;
  /** header shorter than its own fields say */
  short: boolean;
}

function pattern(byte: number, from: number, width: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === 4) s += ' ';
    s += i >= from && i < from + width ? String((byte >> (7 - i)) & 1) : '.';
  }
  return s;
}

export function readHeader(h: Uint8Array): HeaderReading {
  const b0 = h.length > 0 ? h[0] : 0;
  const b1 = h.length > 1 ? h[1] : 0;
  const bits: number[] = [];
  for (let i = 0; i < 16; i++) bits.push(((i < 8 ? b0 : b1) >> (7 - (i % 8))) & 1);
  const op = b0 & 0x0f;
  const len7 = b1 & 0x7f;
  const masked = (b1 & 0x80) !== 0;
  const bool = (v: number): string => (v ? 'True' : 'False');
  const fields: BitField[] = [
    { name: 'fin', bit: 0, width: 1, pattern: pattern(b0, 0, 1), value: bool(b0 & 0x80) },
    { name: 'rsv1', bit: 1, width: 1, pattern: pattern(b0, 1, 1), value: bool(b0 & 0x40) },
    { name: 'rsv2', bit: 2, width: 1, pattern: pattern(b0, 2, 1), value: bool(b0 & 0x20) },
    { name: 'rsv3', bit: 3, width: 1, pattern: pattern(b0, 3, 1), value: bool(b0 & 0x10) },
    { name: 'opcode', bit: 4, width: 4, pattern: pattern(b0, 4, 4), value: `${opcodeName(op)} (${op})` },
    { name: 'masked', bit: 8, width: 1, pattern: pattern(b1, 0, 1), value: bool(masked ? 1 : 0) },
    {
      name: 'payloadLength',
      bit: 9,
      width: 7,
      pattern: pattern(b1, 1, 7),
      value: len7 === 126 ? '126 (16-bit extended length follows)' : len7 === 127 ? '127 (64-bit extended length follows)' : String(len7),
    },
  ];
  let off = 2;
  let extended: HeaderReading['extended'] = null;
  let payloadLength = String(len7);
  let short = h.length < 2;
  // RFC 6455 section 5.2: 126 -> next 2 bytes, 127 -> next 8 bytes, network byte order
  if (len7 === 126) {
    if (h.length >= 4) {
      const v = (h[2] << 8) | h[3];
      extended = { bits: 16, value: String(v), hex: hexBytes(h.subarray(2, 4)) };
      payloadLength = String(v);
    } else short = true;
    off = 4;
  } else if (len7 === 127) {
    if (h.length >= 10) {
      let v = 0n;
      for (let i = 2; i < 10; i++) v = (v << 8n) | BigInt(h[i]);
      extended = { bits: 64, value: v.toString(), hex: hexBytes(h.subarray(2, 10)) };
      payloadLength = v.toString();
    } else short = true;
    off = 10;
  }
  let maskingKey: string | null = null;
  if (masked) {
    if (h.length >= off + 4) maskingKey = hexBytes(h.subarray(off, off + 4)).replace(/ /g, '');
    else short = true;
  }
  return { bits, fields, extended, maskingKey, payloadLength, short };
}
