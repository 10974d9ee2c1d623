/**
 * Public captures (/work/shared/captures/public, see its README) through the lead's pipeline
 * into TcpSession, cross-checked against tshark's decode stored beside each file: every frame
 * tshark shows (packet, direction, opcode, length) and every message payload (SHA-256), close
 * code and reason. Connections tshark does not decode (no handshake, heuristic pickup) are
 * not compared.
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { analyzeFile } from '../pipeline';
import type { ConnectionEvent, EngineEvent, FrameEvent, MessageEvent } from '../../shared/events';

const DIR = existsSync(new URL('../../../shared/captures/public/', import.meta.url)) ? new URL('../../../shared/captures/public/', import.meta.url).pathname : '/work/shared/captures/public/';

interface TFrame {
  frame_number: number;
  src: string;
  dst: string;
  direction: 'c2s' | 's2c';
  opcode: number;
  payload_len: number;
}
interface TItem {
  kind: 'message' | 'control' | 'close';
  opcode?: number;
  sha256?: string;
  code?: number;
  reason?: string;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const files = readdirSync(DIR).filter((f) => /\.(pcap|pcapng)$/.test(f));
// Decode-As ports tshark was given (README "tshark opts")
const wsPorts: Record<string, number[]> = { 'ndpi__websocket.pcap': [12345], 'eririmba-socket.io-sample__websocket.pcap': [8008] };
// tshark 4.0 does not reassemble or inflate these the way the bytes say (README "Caveats")
const skipMessages = new Set(['eririmba-socket.io-sample__websocket.pcap']);

describe('public captures agree with tshark', () => {
  it('has captures to check', () => {
    expect(files.length).toBeGreaterThan(20);
  });
  for (const f of files) {
    it(`decodes the frames and messages of ${f} as tshark does`, async () => {
      const t = JSON.parse(readFileSync(DIR + f + '.tshark.json', 'utf8')) as { tshark: { frames: TFrame[]; messages: Array<{ tcp_stream: number; direction: 'c2s' | 's2c'; items: TItem[] }> } };
      const events: EngineEvent[] = [];
      await analyzeFile(DIR + f, (e) => events.push(e), { wsPorts: wsPorts[f] ?? [] });
      const conns = events.filter((e): e is ConnectionEvent => e.type === 'connection');
      const connOf = (a: string, b: string): ConnectionEvent | undefined => conns.find((c) => (c.client === a && c.server === b) || (c.client === b && c.server === a));
      // tshark frames, as ours would look
      const streamConn = new Map<number, number>();
      const want: string[] = [];
      for (const fr of t.tshark.frames) {
        const c = connOf(fr.src, fr.dst);
        expect(c, `connection ${fr.src} ${fr.dst}`).toBeDefined();
        const dir = c?.client === fr.src ? 'client' : 'server';
        want.push(`${c?.id} ${fr.frame_number} ${dir} ${fr.opcode} ${fr.payload_len}`);
        streamConn.set((fr as unknown as { tcp_stream: number }).tcp_stream, c?.id ?? -1);
      }
      const compared = new Set(streamConn.values());
      const got = events
        .filter((e): e is FrameEvent => e.type === 'frame' && compared.has(e.conn))
        .map((e) => `${e.conn} ${e.packet} ${e.dir} ${e.opcode} ${e.length}`);
      expect(got.sort()).toEqual(want.sort());
      if (skipMessages.has(f)) return;
      for (const m of t.tshark.messages) {
        const conn = streamConn.get(m.tcp_stream);
        const dir = m.direction === 'c2s' ? 'client' : 'server';
        const ours = events.filter((e): e is MessageEvent => e.type === 'message' && e.conn === conn && e.dir === dir);
        const wantItems = m.items.map((it) => (it.kind === 'close' ? `close ${it.code ?? ''} ${it.reason ?? ''}` : `${it.opcode} ${it.sha256}`));
        const gotItems = ours.map((e) => (e.opcode === 8 ? `close ${e.code ?? ''} ${e.reason ?? ''}` : `${e.opcode} ${sha(e.data)}`));
        expect(gotItems).toEqual(wantItems);
      }
    });
  }
});
