/**
 * The Socket.IO case of `npm run bench` (issue 14): a generated capture of Socket.IO v4 over
 * WebSocket (default 100 MB), decoded with its meaning by `wsscope read --summary --json`
 * against tshark's plain WebSocket decode of the same file (`-Y websocket -T fields`), which
 * knows nothing of Socket.IO. Target: wsscope with decoding >= 5x tshark's throughput.
 *
 * The capture: CONNECTIONS connections opened to `/socket.io/?EIO=4&transport=websocket`
 * (so the URL picks the decoder), interleaved round-robin; each does the Engine.IO open,
 * the namespace CONNECT, then events with acks (`42N["chat",{...}]` answered `43N[...]`),
 * server broadcasts, binary events with one attachment (`451-N[...]` then the bytes) and
 * ping/pong, one message per TCP segment, client frames masked (RFC 6455 section 5.3). The
 * generator counts what it wrote: the decode must report exactly that many messages.
 *
 * Files: bench-data/socketio-SIZE.pcap, reused when present (deleted at the end unless keep).
 * Memory: the generator streams through CaptureWriter; measured programs run as children.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureWriter, ipv4 } from './capture-writer';
import { measureAlternating, median, roundRatios } from './measure';
import { tsharkWebSocketArgs } from './tshark-ws';
import { summaryMessages, wsscopeCli } from './wsscope-cli';
import { Prng } from './prng';
import { ACK, FIN, PSH, SYN } from '../../test/kit/capture';

const MB = 1e6;
const CONNECTIONS = 32;
const TARGET = 5;

export interface AppBenchOptions {
  root: string;
  sizeMb: number;
  runs: number;
  keep: boolean;
  skipTshark: boolean;
  seed: number;
}

interface Side {
  ep: { ip: number; port: number };
  seq: number;
}

interface Conn {
  c: Side;
  s: Side;
  ack: number;
}

/** Generates the capture; returns the number of WebSocket messages in it. */
export function generateSocketIo(file: string, bytes: number, seed: number): number {
  const w = new CaptureWriter(file, 'pcap');
  const r = new Prng(seed);
  let ts = 1_700_000_000_000_000;
  let messages = 0;
  const seg = (from: Side, to: Side, flags: number, payload: Uint8Array): void => {
    ts += 20;
    w.tcp(ts, from.ep, to.ep, from.seq, to.seq, flags, payload, 0, payload.length);
    from.seq = (from.seq + payload.length + (flags & (SYN | FIN) ? 1 : 0)) >>> 0;
  };
  const frame = (client: boolean, opcode: number, data: Uint8Array): Uint8Array => {
    const len = data.length;
    const hdr = 2 + (len < 126 ? 0 : 2) + (client ? 4 : 0);
    const out = new Uint8Array(hdr + len);
    out[0] = 0x80 | opcode;
    out[1] = (client ? 0x80 : 0) | (len < 126 ? len : 126);
    if (len >= 126) {
      out[2] = len >> 8;
      out[3] = len & 0xff;
    }
    if (client) {
      const key = out.subarray(hdr - 4, hdr);
      r.fill(key, 0, 4);
      for (let i = 0; i < len; i++) out[hdr + i] = data[i]! ^ key[i & 3]!;
    } else out.set(data, hdr);
    return out;
  };
  const send = (k: Conn, client: boolean, opcode: number, text: string | Uint8Array): void => {
    const data = typeof text === 'string' ? new Uint8Array(Buffer.from(text)) : text;
    messages++;
    if (client) seg(k.c, k.s, ACK | PSH, frame(true, opcode, data));
    else seg(k.s, k.c, ACK | PSH, frame(false, opcode, data));
  };
  const conns: Conn[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const k: Conn = { c: { ep: { ip: ipv4(10, 0, 0, 2), port: 40000 + i }, seq: r.u32() }, s: { ep: { ip: ipv4(10, 0, 0, 1), port: 3000 }, seq: r.u32() }, ack: 0 };
    seg(k.c, k.s, SYN, new Uint8Array(0));
    seg(k.s, k.c, SYN | ACK, new Uint8Array(0));
    seg(k.c, k.s, ACK, new Uint8Array(0));
    seg(k.c, k.s, ACK | PSH, Buffer.from(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 10.0.0.1:3000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://10.0.0.1:3000\r\n\r\n`));
    seg(k.s, k.c, ACK | PSH, Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n'));
    send(k, false, 1, `0{"sid":"sid${i}xxxxxxxxxxxxxx","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`);
    send(k, true, 1, '40');
    send(k, false, 1, `40{"sid":"ns${i}xxxxxxxxxxxxxxx"}`);
    conns.push(k);
  }
  const words = ['hello', 'socket', 'scope', 'meaning', 'decoded', 'frame', 'ack', 'room', 'lobby', 'chat'];
  while (w.bytes < bytes) {
    for (const k of conns) {
      const id = ++k.ack;
      const roll = r.int(0, 19);
      if (roll < 12) {
        const text = Array.from({ length: r.int(3, 30) }, () => r.pick(words)).join(' ');
        send(k, true, 1, `42${id}["chat",{"room":"lobby","user":"u${r.int(1, 500)}","text":"${text}","ts":${Math.floor(ts / 1000)}}]`);
        send(k, false, 1, `43${id}[{"ok":true,"id":${id}}]`);
      } else if (roll < 17) {
        send(k, false, 1, `42["news",{"headline":"${Array.from({ length: r.int(4, 40) }, () => r.pick(words)).join(' ')}","n":${id}}]`);
      } else if (roll < 19) {
        send(k, true, 1, `451-${id}["upload","f${id}.bin",{"_placeholder":true,"num":0}]`);
        const blob = new Uint8Array(r.int(64, 1024));
        r.fill(blob, 0, blob.length);
        send(k, true, 2, blob);
        send(k, false, 1, `43${id}["stored"]`);
      } else {
        send(k, false, 1, '2');
        send(k, true, 1, '3');
      }
    }
  }
  for (const k of conns) {
    seg(k.c, k.s, ACK | FIN, new Uint8Array(0));
    seg(k.s, k.c, ACK | FIN, new Uint8Array(0));
    seg(k.c, k.s, ACK, new Uint8Array(0));
  }
  w.close();
  return messages;
}

/** Runs the Socket.IO case; returns the summary lines (target verdicts) and whether the decode was right. */
export async function runAppBench(o: AppBenchOptions): Promise<{ lines: string[]; ok: boolean }> {
  const file = join(o.root, 'bench-data', `socketio-${o.sizeMb}.pcap`);
  const countFile = `${file}.messages`;
  const generated = !existsSync(file) || !existsSync(countFile);
  if (generated) writeFileSync(countFile, String(generateSocketIo(file, o.sizeMb * MB, o.seed)));
  const expected = Number(readFileSync(countFile, 'utf8'));
  const lines: string[] = [];
  try {
    const cli = wsscopeCli('read', file, '--summary', '--json');
    const tshark = { cmd: 'tshark', args: tsharkWebSocketArgs(file) };
    // the CLI and tshark in alternation (measureAlternating): the ratio is the figure
    const alt = await measureAlternating(o.runs, [{ cmd: cli[0], args: cli[1], opts: { captureStdout: true, cwd: o.root } }, ...(o.skipTshark ? [] : [tshark])]);
    const m = alt.best[0];
    const messages = summaryMessages(m.stdout);
    const ok = messages === expected;
    const mbps = o.sizeMb / m.wall;
    lines.push(`socket.io ${o.sizeMb} MB: wsscope read --summary (decoding Socket.IO) ${m.wall.toFixed(2)} s = ${mbps.toFixed(1)} MB/s, peak RSS ${(m.peakRss / MB).toFixed(0)} MB; ${messages} messages (${ok ? 'as generated' : `WRONG: generated ${expected}`})`);
    if (!o.skipTshark) {
      const t = alt.best[1];
      const ratio = t.wall / m.wall;
      const rr = roundRatios(alt.rounds, 1, 0);
      lines.push(`socket.io ${o.sizeMb} MB: tshark -Y websocket (plain WebSocket, no Socket.IO) ${t.wall.toFixed(2)} s; wsscope ${ratio.toFixed(1)}x tshark (best run of each, timed in alternation; round by round ${rr.map((x) => `${x.toFixed(1)}x`).join(', ')}, median ${median(rr).toFixed(1)}x); target >= ${TARGET}x: ${ratio >= TARGET ? 'holds' : 'MISSED'}`);
    }
    return { lines, ok };
  } finally {
    if (generated && !o.keep) {
      rmSync(file, { force: true });
      rmSync(countFile, { force: true });
    }
  }
}
