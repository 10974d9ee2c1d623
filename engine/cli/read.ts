/**
 * `wsscope read FILE`: decode a capture file and print its WebSocket conversations.
 */
import { analyzeFile } from '../pipeline';
import { writeEvent } from './json';
import { TextFormatter } from './format';
import { Out } from './out';
import { byteCount, maxFlows, parseCommand, parseDecode, parsePorts, wantColor } from './args';
import { defaultAppRegistry } from '../app/registry';
import { CaptureFileError } from '../capture/file-source';
import { NotRegularFileError, probeInputFile } from '../fs/input';
import type { EngineEvent } from '../../shared/events';
import { KeyLog } from '../tls/keylog';

export const READ_HELP = `Usage: wsscope read FILE [options]

Decode a .pcap / .pcapng (optionally gzip-compressed) capture and print every WebSocket
conversation in it: handshakes (Sec-WebSocket-Accept verified), messages (unmasked,
reassembled from fragments, inflated), close codes, and a finding for every protocol
violation.

Options:
  --json               print the NDJSON event stream (see docs/events.md)
  --frames             text output: also print one line per frame
  --ws-port N          decode TCP port N as WebSocket even without a captured handshake
                       (like Wireshark's Decode As); repeatable
  --keylog FILE        TLS key log (NSS format, as SSLKEYLOGFILE / node --tls-keylog write
                       it) to decrypt wss:// with; repeatable. pcapng decryption secrets
                       blocks in the capture are used without it
  --no-heuristic       do not guess WebSocket on connections without a handshake
  --decode CONN=PROTO  decode the messages of connection CONN as PROTO (socket.io, mqtt,
                       stomp, graphql-ws, signalr, phoenix, wamp, actioncable, json-rpc)
                       or not at all (none);
                       repeatable. Without it the subprotocol, the URL or the first
                       messages choose
  --max-inflate BYTES  cap on the inflated size of one permessage-deflate message
                       (default 67108864); a message over it is cut and flagged
  --max-inflate-total BYTES
                       cap on the bytes inflated in the whole file, all connections
                       together (default 536870912); past it messages are cut, later
                       compressed messages are not inflated, a finding says so
  --max-payload-out BYTES
                       --json: write at most BYTES of each message's payload (before
                       encoding); a cut message says "truncated": true (default: all)
  --max-reassembly BYTES
                       cap on out-of-order TCP bytes buffered over all streams (default
                       67108864); over it the oldest hole is declared lost (a tcp-gap)
  --max-flows N        TCP flows (and UDP flows) tracked at once (default 5000); over it
                       the least recently active is evicted, an evicted-flows finding
                       counts them (docs/hardening.md "Flows")
  --summary            decode everything, print only the summary line (or event)
  --color / --no-color colour the text output (default: on when stdout is a TTY)
  -h, --help           this help

Exit status: 0 when the file was decoded (even with findings or a truncated capture),
2 for a missing file, a file that is not a capture, or bad options.
`;

export async function readCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('read', READ_HELP, {
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      frames: { type: 'boolean', default: false },
      'ws-port': { type: 'string', multiple: true, default: [] },
      keylog: { type: 'string', multiple: true, default: [] },
      'no-heuristic': { type: 'boolean', default: false },
      decode: { type: 'string', multiple: true, default: [] },
      'max-inflate': { type: 'string' },
      'max-inflate-total': { type: 'string' },
      'max-payload-out': { type: 'string' },
      'max-reassembly': { type: 'string' },
      'max-flows': { type: 'string' },
      summary: { type: 'boolean', default: false },
      color: { type: 'boolean' },
      'no-color': { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    process.stderr.write('wsscope read: expected exactly one capture file (see wsscope read --help)\n');
    return 2;
  }
  const fail = (msg: string): number => {
    process.stderr.write(`wsscope read: ${msg}\n`);
    return 2;
  };
  // a FIFO or a device would block or never end: regular files only (engine/fs/input.ts)
  try {
    probeInputFile(positionals[0]);
  } catch (e) {
    if (e instanceof NotRegularFileError) return fail(e.message);
  }
  const wsPorts = parsePorts(values['ws-port']);
  if (typeof wsPorts === 'string') return fail(wsPorts);
  const decode = parseDecode(values.decode, defaultAppRegistry.list().map((p) => p.id));
  if (typeof decode === 'string') return fail(decode);
  const maxInflate = byteCount('max-inflate', values['max-inflate']);
  if (typeof maxInflate === 'string') return fail(maxInflate);
  const maxTotal = byteCount('max-reassembly', values['max-reassembly']);
  if (typeof maxTotal === 'string') return fail(maxTotal);
  const maxInflateTotal = byteCount('max-inflate-total', values['max-inflate-total']);
  if (typeof maxInflateTotal === 'string') return fail(maxInflateTotal);
  const maxPayloadOut = byteCount('max-payload-out', values['max-payload-out']);
  if (typeof maxPayloadOut === 'string') return fail(maxPayloadOut);
  const flows = maxFlows(values['max-flows']);
  if (typeof flows === 'string') return fail(flows);
  const keyLog = new KeyLog();
  for (const f of values.keylog ?? []) {
    try {
      for (const w of keyLog.addFile(f)) process.stderr.write(`wsscope read: ${w}\n`);
    } catch (e) {
      return fail(`--keylog ${f}: ${(e as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
  }
  const color = wantColor(values);
  const out = new Out();
  const fmt = new TextFormatter({ color, frames: values.frames ?? false, preview: 100 });
  const json = values.json ?? false;
  const summaryOnly = values.summary ?? false;
  // events are written as they come, payloads in slices (engine/cli/json.ts): nothing the
  // size of a payload is built, and a slow reader of stdout slows the decode (engine/cli/out.ts)
  const wire = { maxPayloadOut: maxPayloadOut ?? Infinity };
  const emit = (ev: EngineEvent): void => {
    if (summaryOnly && ev.type !== 'summary') return;
    if (json) writeEvent(out, ev, wire);
    else {
      const s = fmt.format(ev);
      if (s !== null) out.line(s);
    }
  };
  try {
    await analyzeFile(positionals[0], emit, {
      wsPorts,
      heuristic: !values['no-heuristic'],
      keyLog,
      ...(maxTotal !== undefined ? { maxTotalBufferedBytes: maxTotal } : {}),
      ...(flows !== undefined ? { maxFlows: flows } : {}),
      // events are printed and dropped at once, so payload buffers can be reused
      session: {
        ephemeralPayloads: true,
        ...(maxInflate !== undefined ? { maxInflate } : {}),
        ...(maxInflateTotal !== undefined ? { maxInflateTotal } : {}),
        app: { decode },
      },
    });
  } catch (e) {
    out.flush();
    if (e instanceof CaptureFileError) {
      process.stderr.write(`wsscope read: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  out.flush();
  return 0;
}
