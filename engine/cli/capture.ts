/**
 * `wsscope capture` (live capture, decoded as it arrives, written through to pcapng) and
 * `wsscope interfaces`.
 *
 * Output: events on stdout (text lines, or NDJSON with --json, the same events as
 * `wsscope read`); progress and the closing report on stderr, so stdout stays parseable.
 * The first stderr line, "Capturing on IF (backend B) -> FILE", is printed once packets are
 * being captured. SIGINT/SIGTERM stop cleanly: everything captured is decoded, the summary
 * printed, the file closed. A capture file that cannot be written (the disk is full) stops
 * the capture the same way: the summary, then one line saying what was lost and what to do;
 * the file ends on its last whole block (engine/capture/live.ts). Exit status: 0 after a
 * clean stop, 1 when the capture could not start or failed (a full disk included), 2 for bad
 * options.
 */
import { toWire, writeEvent } from './json';
import { TextFormatter } from './format';
import { Out } from './out';
import { listInterfaces } from '../capture/interfaces';
import { CAP_DROPS_NOTE, DEFAULT_BUFFER_MIB, DEFAULT_SNAPLEN, startLiveCapture } from '../capture/live';
import type { EngineEvent, SummaryEvent } from '../../shared/events';
import type { CaptureStatus } from '../../shared/api';
import { byteCount, maxFlows, parseCommand, parseDecode, parsePorts, wantColor } from './args';
import { KeyLog } from '../tls/keylog';
import { KeyLogFollower } from '../tls/keylog-follow';

export const CAPTURE_HELP = `Usage: wsscope capture -i IF [options]

Capture live from an interface, decode every WebSocket conversation as it happens, and
write every packet through to a pcapng file (kept when the capture stops or fails).

Options:
  -i, --interface IF     interface to capture on (see 'wsscope interfaces')
  -f, --filter BPF       capture filter in libpcap syntax, e.g. 'tcp port 8080'
  -w, --write FILE       new pcapng file to write, mode 0600 (an existing name or a symlink
                         is refused; default: a new file in a private folder under the
                         temp directory)
  --json                 print the NDJSON event stream instead of text
  --frames               text output: also print one line per frame
  --duration S           stop after S seconds
  -c, --count N          stop after N packets
  --backend B            auto (default), cap (libpcap through the cap addon, lowest latency;
                         no drop counters; frames over 65535 bytes are cut, so auto picks
                         dumpcap on lo) or dumpcap (Wireshark's helper; needs no root when
                         dumpcap has capabilities; up to ~250 ms delivery delay)
  -s, --snaplen N        bytes kept per packet (default ${DEFAULT_SNAPLEN})
  -B, --buffer-size MB   kernel capture buffer in MiB (default ${DEFAULT_BUFFER_MIB})
  --no-promisc           do not put the interface in promiscuous mode (dumpcap backend)
  --ws-port N            decode TCP port N as WebSocket without a captured handshake; repeatable
  --keylog FILE          TLS key log to decrypt wss:// with, followed while it grows (a browser
                         appends as it connects; records wait for their keys); repeatable.
                         Its lines are embedded in the file written (pcapng Decryption
                         Secrets Blocks), which then decrypts alone in wsscope and Wireshark
  --max-tls-held BYTES   encrypted bytes a TLS connection holds while its keys are not in the
                         key log yet (default 262144); past it the connection is not decrypted
  --decode CONN=PROTO    decode the messages of connection CONN as PROTO (socket.io, mqtt,
                         stomp, graphql-ws, signalr, phoenix, wamp, actioncable, json-rpc)
                         or not at all (none); repeatable (connections count from 1 as
                         they appear)
  --max-flows N          TCP (and UDP) flows tracked at once (default 5000); over it the least
                         recently active is evicted, an evicted-flows finding counts them
  --color / --no-color   colour the text output (default: on when stdout is a TTY)
  -h, --help             this help

Ctrl-C stops the capture and prints a summary (packets, connections, messages, findings,
drops, file). When the disk fills up, the capture stops by itself the same way (exit status
1): the file keeps every packet written until then and ends on a whole pcapng block.
`;

export const INTERFACES_HELP = `Usage: wsscope interfaces [--json]

List the interfaces live capture can use, with their addresses and state.
`;

function positiveNumber(v: string | undefined, name: string, integer: boolean): number | undefined | Error {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) return new Error(`${name} ${v}: expected a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

export async function captureCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('capture', CAPTURE_HELP, {
    args: argv,
    allowPositionals: false,
    options: {
      interface: { type: 'string', short: 'i' },
      filter: { type: 'string', short: 'f' },
      write: { type: 'string', short: 'w' },
      json: { type: 'boolean', default: false },
      frames: { type: 'boolean', default: false },
      duration: { type: 'string' },
      count: { type: 'string', short: 'c' },
      backend: { type: 'string', default: 'auto' },
      snaplen: { type: 'string', short: 's' },
      'buffer-size': { type: 'string', short: 'B' },
      'no-promisc': { type: 'boolean', default: false },
      'ws-port': { type: 'string', multiple: true, default: [] },
      keylog: { type: 'string', multiple: true, default: [] },
      'max-tls-held': { type: 'string' },
      decode: { type: 'string', multiple: true, default: [] },
      'max-flows': { type: 'string' },
      color: { type: 'boolean' },
      'no-color': { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const usage = (msg: string): number => {
    process.stderr.write(`wsscope capture: ${msg} (see wsscope capture --help)\n`);
    return 2;
  };
  if (!values.interface) return usage('choose an interface with -i');
  // loaded here so `wsscope interfaces` never loads the subprotocol decoders
  const { defaultAppRegistry } = await import('../app/registry');
  const decode = parseDecode(values.decode, defaultAppRegistry.list().map((p) => p.id));
  if (typeof decode === 'string') return usage(decode);
  const backend = values.backend;
  if (backend !== 'auto' && backend !== 'cap' && backend !== 'dumpcap') return usage(`--backend ${backend}: expected auto, cap or dumpcap`);
  const duration = positiveNumber(values.duration, '--duration', false);
  const count = positiveNumber(values.count, '--count', true);
  const snaplen = positiveNumber(values.snaplen, '--snaplen', true);
  const bufferSize = positiveNumber(values['buffer-size'], '--buffer-size', false);
  for (const v of [duration, count, snaplen, bufferSize]) if (v instanceof Error) return usage(v.message);
  const wsPorts = parsePorts(values['ws-port']);
  if (typeof wsPorts === 'string') return usage(wsPorts);
  const maxTlsHeld = byteCount('max-tls-held', values['max-tls-held']);
  if (typeof maxTlsHeld === 'string') return usage(maxTlsHeld);
  const flows = maxFlows(values['max-flows']);
  if (typeof flows === 'string') return usage(flows);

  const json = values.json ?? false;
  const color = wantColor(values);
  const out = new Out();
  const WIRE_ALL = { maxPayloadOut: Infinity };
  const fmt = new TextFormatter({ color, frames: values.frames ?? false, preview: 100 });
  // live output: flush once per event-loop turn, not per event and not only at 64 KiB
  let flushQueued = false;
  const flushOut = (): void => {
    flushQueued = false;
    out.flush();
  };
  const emit = (ev: EngineEvent): void => {
    if (ev.type === 'summary') return; // printed with the capture's own figures below
    if (json) {
      // streamed like read --json: payloads escaped in slices, never one string per payload
      writeEvent(out, ev, WIRE_ALL);
    } else {
      const s = fmt.format(ev);
      if (s !== null) out.line(s);
    }
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flushOut);
    }
  };
  // loaded here so `wsscope interfaces` never loads the decoder
  const { Pipeline, LIVE_GAP_TIMEOUT_S } = await import('../pipeline');
  // live: a lost packet must not hold back what follows it for the rest of the capture
  const keyLog = new KeyLog();
  // the key log lines also go into the file written (Decryption Secrets Blocks, a 0600
  // file), so it decrypts alone; lines read before the capture starts wait for it
  const early: Uint8Array[] = [];
  let embed = (text: Uint8Array): void => void early.push(text.slice());
  const followers = (values.keylog ?? []).map((f) => new KeyLogFollower(keyLog, f, (w) => process.stderr.write(`wsscope capture: ${w}\n`), undefined, (text) => embed(text)));
  for (const f of followers) f.start();
  const pipe = new Pipeline(emit, { wsPorts, gapTimeoutSeconds: LIVE_GAP_TIMEOUT_S, keyLog, ...(flows !== undefined ? { maxFlows: flows } : {}), session: { app: { decode }, ...(maxTlsHeld !== undefined ? { maxTlsHeld } : {}) } });

  const started = await startLiveCapture(
    {
      iface: values.interface,
      filter: values.filter,
      file: values.write,
      snaplen: snaplen as number | undefined,
      bufferSize: bufferSize as number | undefined,
      promiscuous: !values['no-promisc'],
      durationSeconds: duration as number | undefined,
      count: count as number | undefined,
      backend,
    },
    { packet: (rec) => pipe.packet(rec), problem: (p) => pipe.problem(p) },
  );
  if (!started.ok) {
    for (const f of followers) f.stop();
    process.stderr.write(`wsscope capture: ${started.error.message}\n`);
    return 1;
  }
  const live = started.value;
  embed = (text) => live.addSecrets(text);
  for (const t of early.splice(0)) live.addSecrets(t);
  process.stderr.write(`Capturing on ${values.interface} (backend ${live.backend}) -> ${live.file}; Ctrl-C stops\n`);

  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals > 1) {
      // a second Ctrl-C while stopping: leave now (the file holds every flushed batch)
      process.stderr.write('wsscope capture: interrupted again, exiting without the summary\n');
      process.exit(130);
    }
    // the lines written last go into the file before it closes
    for (const f of followers) f.poll();
    void live.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let final: CaptureStatus;
  try {
    final = await live.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // the lines written last unlock the connections still waiting, decrypted as they finish
  for (const f of followers) f.stop();
  const summary = pipe.finish();
  out.flush();
  printSummary(out, summary, final, json);
  out.flush();
  if (final.state === 'failed') {
    process.stderr.write(`wsscope capture: ${final.error?.message ?? 'capture failed'}\n`);
    return 1;
  }
  return 0;
}

function printSummary(out: Out, s: SummaryEvent, st: CaptureStatus, json: boolean): void {
  const drops = st.drops === null ? (st.backend === 'cap' ? CAP_DROPS_NOTE : 'drops: not reported') : `drops: ${st.drops}`;
  if (json) {
    const w = toWire(s) ?? { type: 'summary' };
    out.line(JSON.stringify({ ...w, drops: st.drops, backend: st.backend, file: st.file }));
  }
  const text =
    `${s.packets} packets, ${s.connections} connections, ${s.messages} messages, ${s.findings} findings; ` +
    `${drops}; file: ${st.file}\n`;
  // text mode: the summary is the last stdout line; JSON mode: stdout stays NDJSON, the
  // readable summary goes to stderr
  if (json) process.stderr.write(text);
  else out.line(text.trimEnd());
}

export async function interfacesCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('interfaces', INTERFACES_HELP, { args: argv, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const list = listInterfaces();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(list)}\n`);
    return 0;
  }
  const width = Math.max(4, ...list.map((i) => i.name.length));
  const lines = list.map((i) => {
    const flags = [i.loopback ? 'loopback' : '', i.up ? 'up' : 'down', i.running ? 'running' : ''].filter(Boolean).join(',');
    const addrs = i.addresses.join(' ');
    return `${i.name.padEnd(width)}  ${flags.padEnd(21)}  ${addrs}${i.description ? `  (${i.description})` : ''}`.trimEnd();
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
