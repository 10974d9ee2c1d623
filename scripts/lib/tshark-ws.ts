/**
 * tshark as the benchmarks run it against wsscope: a full WebSocket dissection (TCP reassembly,
 * unmasking, inflation) printing one line per packet that completes WebSocket frames, and the
 * frame count read back from those lines.
 *
 *   const m = await measure('tshark', tsharkWebSocketArgs(file), { captureStdout: true });
 *   tsharkOpcodeCount(m.stdout)   // WebSocket frames tshark decoded
 */

/** reordered segments need tshark's out-of-order reassembly (off by default in 4.0) */
export const TSHARK_OUT_OF_ORDER: readonly string[] = ['-o', 'tcp.reassemble_out_of_order:TRUE'];

/** `tshark PREFS -r FILE -Y websocket -T fields -e frame.number -e websocket.opcode` */
export function tsharkWebSocketArgs(file: string, prefs: readonly string[] = []): string[] {
  return [...prefs, '-r', file, '-Y', 'websocket', '-T', 'fields', '-e', 'frame.number', '-e', 'websocket.opcode'];
}

/** WebSocket frames in `tshark -T fields` output whose last field is websocket.opcode (comma-separated per packet) */
export function tsharkOpcodeCount(stdout: string): number {
  let n = 0;
  for (const line of stdout.split('\n')) {
    const f = line.slice(line.lastIndexOf('\t') + 1);
    if (f !== '') n += f.split(',').length;
  }
  return n;
}
