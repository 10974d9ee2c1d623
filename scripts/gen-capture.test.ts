// The capture generator checked against independent decoders: tshark (frames, handshake,
// payload text, RSV1) and Python's zlib (a real streaming inflater for context takeover).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture, generateUncompressedTwin, truthPath, type CaptureTruth, type GeneratedMessage } from './gen-capture';
import { acceptFor } from '../test/kit/websocket';

const SIZE = 1_500_000;
const OPCODES: Record<string, number> = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

function tshark(file: string, args: string[]): string {
  return execFileSync('tshark', ['-r', file, ...args], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8');
}

interface TsharkPacket {
  stream: number;
  fromServer: boolean;
  /** the client's TCP port (the server is on 8080) */
  clientPort: number;
  opcodes: number[];
  rsv: number[];
  texts: string[];
  keys: string[];
  accepts: string[];
  expert: string[];
}

function tsharkPackets(file: string): TsharkPacket[] {
  const fields = ['tcp.stream', 'tcp.srcport', 'tcp.dstport', 'websocket.opcode', 'websocket.rsv', 'websocket.payload.text', 'http.sec_websocket_key', 'http.sec_websocket_accept', '_ws.expert.message'];
  const json = JSON.parse(tshark(file, ['-T', 'json', ...fields.flatMap((f) => ['-e', f])])) as Array<{ _source: { layers: Record<string, string[] | undefined> } }>;
  return json.map(({ _source: { layers: l } }) => ({
    stream: Number(l['tcp.stream']?.[0]),
    fromServer: l['tcp.srcport']?.[0] === '8080',
    clientPort: Number(l['tcp.srcport']?.[0] === '8080' ? l['tcp.dstport']?.[0] : l['tcp.srcport']?.[0]),
    opcodes: (l['websocket.opcode'] ?? []).map(Number),
    rsv: (l['websocket.rsv'] ?? []).map(Number),
    texts: l['websocket.payload.text'] ?? [],
    keys: l['http.sec_websocket_key'] ?? [],
    accepts: l['http.sec_websocket_accept'] ?? [],
    expert: l['_ws.expert.message'] ?? [],
  }));
}

/**
 * How many of the expected texts tshark shows in the same order (`seen` also holds the
 * partial texts of fragments, and tshark 4.0 drops the text of some frames that share a
 * packet with the end of a reassembled message).
 */
function inOrder(expected: string[], seen: string[]): number {
  let j = 0;
  let found = 0;
  for (const e of expected) {
    const k = seen.indexOf(e, j);
    if (k < 0) continue;
    found++;
    j = k + 1;
  }
  return found;
}

function textsBy(packets: TsharkPacket[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const p of packets) {
    const k = `${p.stream}/${p.fromServer ? 'server' : 'client'}`;
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(...p.texts);
  }
  return m;
}

function countOpcodes(packets: TsharkPacket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of Object.keys(OPCODES)) counts[name] = 0;
  for (const p of packets) for (const op of p.opcodes) counts[Object.keys(OPCODES).find((k) => OPCODES[k] === op) ?? `op${op}`]!++;
  return counts;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gen-capture-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('plain capture (pcap)', () => {
  let file = '';
  let truth: CaptureTruth;
  const messages: Array<{ conn: number; dir: string; opcode: number; text: string; frames: number }> = [];
  let packets: TsharkPacket[] = [];

  beforeAll(async () => {
    file = join(dir, 'plain.pcap');
    truth = await generateCapture({
      out: file,
      bytes: SIZE,
      connections: 8,
      seed: 7,
      onMessage: (m: GeneratedMessage) => messages.push({ conn: m.conn, dir: m.dir, opcode: m.opcode, text: m.opcode === 1 ? Buffer.from(m.data).toString('utf8') : '', frames: m.frames }),
    });
    packets = tsharkPackets(file);
  });

  it('reaches the requested size and writes a truth sidecar that matches the returned truth', () => {
    const size = statSync(file).size;
    expect(size).toBe(truth.bytes);
    expect(size).toBeGreaterThanOrEqual(SIZE);
    expect(size).toBeLessThan(SIZE * 1.3);
    expect(JSON.parse(readFileSync(truthPath(file), 'utf8'))).toEqual(truth);
    expect(truth.messages).toBe(messages.length);
    expect(truth.fragmentedMessages).toBeGreaterThan(0);
  });

  it('has tshark list every generated WebSocket frame, by opcode, in the packets the truth names', () => {
    expect(packets.filter((p) => p.opcodes.length > 0).length).toBe(truth.wsPackets);
    expect(countOpcodes(packets)).toEqual(truth.framesByOpcode);
    expect(tshark(file, ['-Y', 'websocket']).trim().split('\n').length).toBe(truth.wsPackets);
  });

  it('answers every Upgrade with a 101 whose Sec-WebSocket-Accept is SHA-1 of the key and the GUID', () => {
    const keys = new Map<number, string>();
    const accepts = new Map<number, string>();
    for (const p of packets) {
      if (p.keys[0]) keys.set(p.stream, p.keys[0]);
      if (p.accepts[0]) accepts.set(p.stream, p.accepts[0]);
    }
    expect(keys.size).toBe(8);
    expect(accepts.size).toBe(8);
    for (const [stream, key] of keys) expect(accepts.get(stream)).toBe(acceptFor(key));
  });

  it('has tshark show, unmasked and in order per connection and direction, at least 95% of the unfragmented text messages', () => {
    const seen = textsBy(packets);
    let checked = 0;
    let found = 0;
    for (let conn = 0; conn < 8; conn++) {
      for (const d of ['client', 'server']) {
        const expected = messages.filter((m) => m.conn === conn && m.dir === d && m.opcode === 1 && m.frames === 1).map((m) => m.text);
        checked += expected.length;
        found += inOrder(expected, seen.get(`${conn}/${d}`) ?? []);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(found).toBeGreaterThanOrEqual(checked * 0.95);
  });

  it('has nothing tshark calls malformed or worth a warning', () => {
    expect(tshark(file, ['-Y', '_ws.malformed || _ws.expert.severity >= 0x00600000'])).toBe('');
  });

  it('writes the same bytes for the same seed and different bytes for another seed', async () => {
    const again = join(dir, 'again.pcap');
    const other = join(dir, 'other.pcap');
    const t2 = await generateCapture({ out: again, bytes: SIZE, connections: 8, seed: 7 });
    await generateCapture({ out: other, bytes: SIZE, connections: 8, seed: 8 });
    expect(sha256File(again)).toBe(sha256File(file));
    expect(t2).toEqual(truth);
    expect(sha256File(other)).not.toBe(sha256File(file));
  });
});

describe('permessage-deflate capture (pcapng)', () => {
  let file = '';
  let truth: CaptureTruth;
  const messages: Array<{ conn: number; dir: string; opcode: number; data: Buffer; wire: Buffer; frames: number; compressed: boolean }> = [];
  let packets: TsharkPacket[] = [];

  beforeAll(async () => {
    file = join(dir, 'deflate.pcapng');
    truth = await generateCapture({
      out: file,
      bytes: SIZE,
      connections: 8,
      seed: 11,
      deflate: true,
      format: 'pcapng',
      onMessage: (m) =>
        messages.push({ conn: m.conn, dir: m.dir, opcode: m.opcode, data: Buffer.from(m.data), wire: Buffer.from(m.wire), frames: m.frames, compressed: m.compressed }),
    });
    packets = tsharkPackets(file);
  });

  it('has tshark list every frame by opcode and see RSV1 on the first frame of each compressed message', () => {
    expect(packets.filter((p) => p.opcodes.length > 0).length).toBe(truth.wsPackets);
    expect(countOpcodes(packets)).toEqual(truth.framesByOpcode);
    const rsv1 = packets.reduce((n, p) => n + p.rsv.filter((r) => r & 4).length, 0);
    expect(rsv1).toBe(truth.compressedMessages);
    expect(truth.compressedMessages).toBeGreaterThan(truth.messagesByOpcode.text! / 2);
  });

  it('inflates every compressed message with one streaming inflater per direction (context takeover) or per message', () => {
    // Python's zlib.decompressobj is a true streaming inflater: the window carries over between
    // messages exactly as a receiver with context takeover keeps it (RFC 7692 section 7.2.2).
    const script = [
      'import sys, json, zlib',
      'st = {}',
      'bad = 0',
      'n = 0',
      'for line in sys.stdin:',
      '    m = json.loads(line)',
      '    k = (m["conn"], m["dir"])',
      '    if m["noContext"] or k not in st: st[k] = zlib.decompressobj(-15)',
      '    out = st[k].decompress(bytes.fromhex(m["wire"]) + b"\\x00\\x00\\xff\\xff")',
      '    n += 1',
      '    bad += out != bytes.fromhex(m["data"])',
      'print(json.dumps({"n": n, "bad": bad}))',
    ].join('\n');
    const compressed = messages.filter((m) => m.compressed);
    const input = compressed
      .map((m) => JSON.stringify({ conn: m.conn, dir: m.dir, noContext: m.conn % 2 === 1, wire: m.wire.toString('hex'), data: m.data.toString('hex') }))
      .join('\n');
    const out = JSON.parse(execFileSync('python3', ['-c', script], { input, maxBuffer: 1 << 24 }).toString()) as { n: number; bad: number };
    expect(out).toEqual({ n: truth.compressedMessages, bad: 0 });
    expect(compressed.every((m) => m.wire.length > 0 && !m.wire.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff])))).toBe(true);
  });

  it('negotiates no_context_takeover on odd connections and tshark inflates their text messages to the generated text', () => {
    const exts = truth.perConnection.map((c) => c.extensions);
    expect(exts[0]).toBe('permessage-deflate');
    expect(exts[1]).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    const seen = textsBy(packets);
    let checked = 0;
    let found = 0;
    for (let conn = 1; conn < 8; conn += 2) {
      for (const d of ['client', 'server']) {
        const expected = messages.filter((m) => m.conn === conn && m.dir === d && m.opcode === 1 && m.frames === 1 && m.compressed).map((m) => m.data.toString('utf8'));
        checked += expected.length;
        found += inOrder(expected, seen.get(`${conn}/${d}`) ?? []);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(found).toBeGreaterThanOrEqual(checked * 0.95);
  });

  it('has nothing tshark calls malformed, and tshark inflates everything on connections without context takeover', () => {
    expect(tshark(file, ['-Y', '_ws.malformed || _ws.expert.severity >= 0x00800000'])).toBe('');
    // tshark 4.0 loses its inflate context after a fragmented compressed message, so
    // failures are only expected on context-takeover connections (even ids)
    const failedStreams = new Set(packets.filter((p) => p.expert.includes('Decompression failed')).map((p) => p.stream));
    expect([...failedStreams].filter((s) => s % 2 === 1)).toEqual([]);
  });
});

describe('uncompressed twin of a permessage-deflate capture', () => {
  let deflate: CaptureTruth;
  let twin: CaptureTruth;
  let packets: TsharkPacket[] = [];
  const texts = new Map<string, string[]>();

  beforeAll(async () => {
    const twinFile = join(dir, 'twin.pcap');
    ({ deflate, twin } = await generateUncompressedTwin(
      {
        out: join(dir, 'deflate-for-twin.pcap'),
        bytes: SIZE,
        connections: 6,
        seed: 13,
        onMessage: (m) => {
          if (m.opcode !== 1 || m.frames !== 1) return;
          const k = `${m.conn}/${m.dir}`;
          if (!texts.has(k)) texts.set(k, []);
          texts.get(k)!.push(Buffer.from(m.data).toString('utf8'));
        },
      },
      twinFile,
    ));
    packets = tsharkPackets(twinFile);
    expect(JSON.parse(readFileSync(truthPath(twinFile), 'utf8'))).toEqual(twin);
  });

  it('carries the same messages in the same frames, with nothing compressed', () => {
    expect(deflate.compressedMessages).toBeGreaterThan(0);
    expect(twin.compressedMessages).toBe(0);
    expect(twin.messagesByOpcode).toEqual(deflate.messagesByOpcode);
    // tshark, decoding the twin on its own, sees the deflate run's frames opcode by opcode and no RSV1
    expect(countOpcodes(packets)).toEqual(deflate.framesByOpcode);
    expect(packets.some((p) => p.rsv.some((r) => r !== 0))).toBe(false);
    expect(twin.payloadBytes).toBe(deflate.payloadBytes);
    expect(twin.perConnection.map((c) => [c.client, c.fromClient.sha256, c.fromServer.sha256])).toEqual(deflate.perConnection.map((c) => [c.client, c.fromClient.sha256, c.fromServer.sha256]));
    expect(twin.perConnection.every((c) => c.extensions === '')).toBe(true);
  });

  it('has tshark show the unfragmented texts of the deflate run in order on the twin', () => {
    const seen = textsBy(packets);
    let expected = 0;
    let found = 0;
    // connection ids are in the client ports (40000 + id); tshark numbers streams by first packet
    const streamOf = new Map(packets.map((p) => [p.clientPort - 40000, p.stream]));
    for (const [k, list] of texts) {
      const [conn, d] = k.split('/');
      expected += list.length;
      found += inOrder(list, seen.get(`${streamOf.get(Number(conn))}/${d}`) ?? []);
    }
    expect(expected).toBeGreaterThan(20);
    expect(found / expected).toBeGreaterThan(0.95);
  });
});

describe('capture with TCP anomalies (retransmissions, reordering)', () => {
  let file = '';
  let truth: CaptureTruth;

  beforeAll(async () => {
    file = join(dir, 'anomalies.pcap');
    truth = await generateCapture({ out: file, bytes: SIZE, connections: 8, seed: 5, tcpAnomalies: true });
  });

  it('has tshark, reassembling out-of-order segments, still list every frame by opcode in the packets the truth names', () => {
    const lines = tshark(file, ['-o', 'tcp.reassemble_out_of_order:TRUE', '-Y', 'websocket', '-T', 'fields', '-e', 'websocket.opcode']).trim().split('\n');
    expect(lines.length).toBe(truth.wsPackets);
    const counts: Record<string, number> = Object.fromEntries(Object.keys(OPCODES).map((k) => [k, 0]));
    for (const op of lines.join(',').split(',').map(Number)) counts[Object.keys(OPCODES).find((k) => OPCODES[k] === op) ?? `op${op}`]!++;
    expect(counts).toEqual(truth.framesByOpcode);
  });

  it('has tshark flag as many retransmitted or out-of-order segments as the truth counts, and nothing malformed', () => {
    const a = truth.tcpAnomalies!;
    expect(a.retransmissions).toBeGreaterThan(0);
    expect(a.outOfOrder).toBeGreaterThan(0);
    const flagged = tshark(file, ['-o', 'tcp.reassemble_out_of_order:TRUE', '-Y', 'tcp.analysis.retransmission || tcp.analysis.out_of_order']).trim().split('\n');
    // tshark tells the two apart by timing (within an RTT = out of order), so only the sum is comparable
    expect(flagged.length).toBe(a.retransmissions + a.outOfOrder);
    expect(tshark(file, ['-o', 'tcp.reassemble_out_of_order:TRUE', '-Y', '_ws.malformed || _ws.expert.severity >= 0x00800000'])).toBe('');
  });

  it('leaves the plain capture of the same seed without anomalies', async () => {
    const plain = join(dir, 'no-anomalies.pcap');
    const t = await generateCapture({ out: plain, bytes: SIZE, connections: 8, seed: 5 });
    expect(t.tcpAnomalies).toBeNull();
    expect(tshark(plain, ['-Y', 'tcp.analysis.retransmission || tcp.analysis.out_of_order || tcp.analysis.lost_segment'])).toBe('');
    expect(t.packets).toBeLessThan(truth.packets);
  });
});
