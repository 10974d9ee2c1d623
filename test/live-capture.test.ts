/**
 * Live capture end to end on `lo`, with real peers: each backend captures a real conversation
 * (npm ws with permessage-deflate, python3-websockets, headless Chromium as the browser
 * client) through a `tcp port N` filter on the test's own server port. Every message the
 * peers logged must be decoded live (before the capture stops), and the pcapng written
 * through must decode to the same frames in the offline pipeline and in tshark.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer, type Peer, type PeerImpl } from './peers/peer';
import { startChromiumClient } from './peers/chromium';
import { captureLo, dataMessages, frameRows, messageKeys, tsharkFrameRows, tsharkPacketCount } from './peers/capture';
import { analyzeFile } from '../engine/pipeline';
import type { EngineEvent } from '../shared/events';

// no commas or tabs (tshark's field aggregation), all single-frame messages
const big = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(4000); // 144 kB: spans several segments
const MESSAGES: Array<string | Uint8Array> = ['hello', 'grüße aus dem Loopback 🌍', new Uint8Array(Array.from({ length: 256 }, (_, i) => i)), '', big, '{"op":"ping"}'];

interface Scenario {
  name: string;
  server: PeerImpl;
  client: PeerImpl | 'chromium';
  deflate: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'npm ws client and server with permessage-deflate', server: 'node-ws', client: 'node-ws', deflate: true },
  { name: 'python3-websockets client and server', server: 'python', client: 'python', deflate: true },
  { name: 'headless Chromium page against an npm ws server', server: 'node-ws', client: 'chromium', deflate: true },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-live-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runClient(s: Scenario, port: number): Promise<Peer> {
  if (s.client === 'chromium') return startChromiumClient({ port, messages: MESSAGES });
  return startPeer({ impl: s.client, role: 'client', port, deflate: s.deflate, messages: MESSAGES });
}

describe.each(['cap', 'dumpcap'] as const)('live capture on lo with the %s backend', (backend) => {
  it.each(SCENARIOS)('decodes every message of $name live, and the written pcapng decodes the same offline and in tshark', async (s) => {
    const file = join(dir, `${backend}-${s.server}-${s.client}.pcapng`);
    const server = await startPeer({ impl: s.server, role: 'server', deflate: s.deflate });
    let client: Peer | undefined;
    try {
      const live = await captureLo({ backend, port: server.port, file });
      expect(live.capture.backend).toBe(backend);
      client = await runClient(s, server.port);
      await client.done;
      await server.sentCount(MESSAGES.length);
      // the peers' logs are the truth: every message each side sent, decoded while capturing
      const expectedClient = messageKeys(client.sent);
      const expectedServer = messageKeys(server.sent);
      expect(expectedClient).toHaveLength(MESSAGES.length);
      expect(expectedServer).toHaveLength(MESSAGES.length);
      await live.until(
        (evs) => dataMessages(evs, 'client').length >= MESSAGES.length && dataMessages(evs, 'server').length >= MESSAGES.length,
        `${MESSAGES.length} messages each way`,
      );
      expect(live.capture.status().state).toBe('running');
      const { status, summary } = await live.stop();
      expect(status.state).toBe('stopped');
      expect(status.file).toBe(file);
      if (backend === 'cap') expect(status.drops).toBeNull();
      else expect(status.drops).toBe(0);

      const liveEvents = live.events;
      expect(messageKeys(dataMessages(liveEvents, 'client'))).toEqual(expectedClient);
      expect(messageKeys(dataMessages(liveEvents, 'server'))).toEqual(expectedServer);
      const hs = liveEvents.find((e) => e.type === 'handshake');
      expect(hs).toMatchObject({ status: 101, acceptValid: true, websocket: true });
      if (s.deflate) expect(dataMessages(liveEvents).filter((m) => m.compressed).length).toBeGreaterThan(0);
      expect(liveEvents.filter((e) => e.type === 'finding' && e.severity === 'error')).toEqual([]);

      // the file: every packet captured is in it, and it decodes to the same frames
      expect(tsharkPacketCount(file)).toBe(status.packets);
      expect(summary.packets).toBe(status.packets);
      const offline: EngineEvent[] = [];
      await analyzeFile(file, (e) => offline.push(e));
      expect(frameRows(offline)).toEqual(frameRows(liveEvents));
      const rows = frameRows(liveEvents);
      expect(rows.length).toBeGreaterThanOrEqual(2 * MESSAGES.length + 2); // + the two close frames
      expect(tsharkFrameRows(file, server.port)).toEqual(rows);
    } finally {
      await client?.stop();
      await server.stop();
    }
  });
});
