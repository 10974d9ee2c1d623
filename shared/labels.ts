/** Label tables shared by the CLI and the UI. */

export const OPCODE_NAMES: Record<number, string> = {
  0: 'continuation',
  1: 'text',
  2: 'binary',
  8: 'close',
  9: 'ping',
  10: 'pong',
};

export function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? `reserved-${op.toString(16)}`;
}

export function isControlOpcode(op: number): boolean {
  return (op & 0x8) !== 0;
}

// The close-code tables moved to shared/close.ts (with close payload decoding); re-exported
// for the importers that still name them here.
export { CLOSE_CODES, closeCodeMeaning, isValidWireCloseCode } from './close';
