/**
 * The engine process (engine/service/host.ts) stays under the 300 MB RSS target of issue 10 on
 * Socket.IO traffic (docs/hardening.md, "Decoded packets"): every message's decoded packets
 * (engine/app/socket-io.ts, `MessageEvent.app`) are kept by the session store encoded in
 * arena chunks charged to the session's row budget (engine/store/app-index.ts), not as objects.
 * The capture is the Socket.IO benchmark's (scripts/lib/bench-app.ts generateSocketIo), at
 * 40 MB (about 200,000 messages: events, acks, binary attachments, pings), every one listed.
 * Peak RSS is the host's VmHWM (/proc/PID/status), read after its final progress.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { generateSocketIo } from '../scripts/lib/bench-app';
import { openInHost } from './kit/host-run';

const dir = mkdtempSync(join(tmpdir(), 'wsscope-rss-sio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the engine host reads 40 MB of Socket.IO messages under 300 MB, listing every one with its packets', async () => {
  const file = join(dir, 'socketio.pcap');
  const messages = generateSocketIo(file, 40 << 20, 1);
  const run = await openInHost(file, dir);
  rmSync(file);
  expect(run.hwm).toBeLessThan(300e6);
  expect(run.totals?.messages).toBe(messages);
  expect(run.rows).toBe(messages);
  expect(run.findings).toEqual([]);
  // the rows carried their decoded meaning (rebuilt from the kept packets)
  expect(run.meanings).toBeGreaterThan(messages / 2);
}, 90_000);
