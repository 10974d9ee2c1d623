/**
 * TLS 1.3 0-RTT early data and KeyUpdate, end to end with OpenSSL's own peers on `lo`
 * (test/peers/openssl.ts; Node's TLS does neither). A first s_client connection fetches a
 * session ticket (`-sess_out`); the second resumes it (`-sess_in`) and sends, as 0-RTT early
 * data (`-early_data FILE`), the WebSocket upgrade request. s_server,
 * started with `-early_data`, accepts it; the test answers through its stdin with the 101 and
 * a server message. After the handshake the client sends a 1-RTT message, then `K` (a
 * KeyUpdate that asks the server to update too), a message under the next keys, the server
 * answers under its own next keys, and both close. Captured by dumpcap in the test; the key
 * log is the one s_client wrote (`-keylogfile`, with CLIENT_EARLY_TRAFFIC_SECRET).
 * Every message each side sent comes out byte-exact of `wsscope read --keylog`; tshark with
 * the same key log agrees frame by frame and sees both KeyUpdates.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLo, dataMessages, frameRows, messageKeys, tsharkFrameRows } from './peers/capture';
import { latin1, openssl } from './peers/openssl';
import { selfSigned } from './peers/tls';
import type { PeerMessage } from './peers/peer';
import { cf, closePayload, sf, wsRequest, wsResponse } from './kit/websocket';
import { concat } from './kit/bytes';
import { portBlock } from './kit/ports';
import { analyzeFile } from '../engine/pipeline';
import { KeyLog } from '../engine/tls/keylog';
import type { EngineEvent, TlsEvent } from '../shared/events';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-openssl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (s: string): PeerMessage => ({ opcode: 1, data: new TextEncoder().encode(s) });

async function read(file: string, keylog?: string): Promise<EngineEvent[]> {
  const keyLog = new KeyLog();
  if (keylog !== undefined) expect(keyLog.addText(keylog, 'openssl')).toEqual([]);
  const events: EngineEvent[] = [];
  await analyzeFile(file, (e) => events.push(e), { keyLog });
  return events;
}

describe('OpenSSL peers: TLS 1.3 0-RTT and KeyUpdate', () => {
  it('decrypts a WebSocket whose upgrade request was 0-RTT early data, across a KeyUpdate each way', async () => {
    const cert = selfSigned(dir);
    writeFileSync(join(dir, 'key.pem'), cert.key);
    writeFileSync(join(dir, 'cert.pem'), cert.cert);
    // below the ephemeral range (test/kit/ports.ts)
    const port = portBlock(26000, 4);
    const file = join(dir, 'zero-rtt.pcapng');
    const keys = join(dir, 'client.keys');
    const live = await captureLo({ backend: 'dumpcap', port, file });
    const server = openssl(['s_server', '-accept', `127.0.0.1:${port}`, '-cert', 'cert.pem', '-key', 'key.pem', '-tls1_3', '-early_data', '-naccept', '2'], dir);
    const procs = [server];
    try {
      await server.until('stdout', 'ACCEPT');
      // 1: a full handshake, for the session ticket the second connection resumes
      // (-msg logs each handshake message; the ticket is saved before s_client reads stdin again)
      const first = openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-sess_out', 'session.pem', '-keylogfile', keys, '-msg'], dir);
      procs.push(first);
      await first.until('stdout', ', NewSessionTicket');
      first.write('Q\n');
      expect(await first.exited).toBe(0);

      // 2: resumed, with the upgrade request as 0-RTT data (RFC 6455 section 4.1: the client
      // sends nothing more before the 101, so its messages are 1-RTT)
      const clientSent = [text('first 1-RTT message'), { opcode: 2, data: Uint8Array.from({ length: 300 }, (_, i) => (i * 31) & 0xff) }, text('after the key update')];
      const serverSent = [text('first answer'), text('answer under the next keys')];
      const early = wsRequest({ path: '/zero-rtt' });
      writeFileSync(join(dir, 'early.bin'), early);
      const client = openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-sess_in', 'session.pem', '-early_data', 'early.bin', '-keylogfile', keys], dir);
      procs.push(client);
      // s_server writes early data out as it reads it, before the handshake completes (its
      // "Early data received:" header goes through a buffer, so it is checked at the end)
      await server.until('stdout', latin1(early));
      server.write(concat([wsResponse(), sf(1, serverSent[0].data)]));
      await client.until('stdout', 'first answer');
      expect(client.stdout()).toContain('Early data was accepted');
      const firstMessage = cf(1, clientSent[0].data);
      client.write(firstMessage);
      await server.until('stdout', latin1(firstMessage));
      const binary = cf(2, clientSent[1].data);
      client.write(binary);
      await server.until('stdout', latin1(binary));
      client.write('K\n');
      await client.until('stderr', 'KEYUPDATE');
      const afterUpdate = cf(1, clientSent[2].data);
      client.write(afterUpdate);
      await server.until('stdout', latin1(afterUpdate));
      server.write(sf(1, serverSent[1].data));
      await client.until('stdout', 'answer under the next keys');
      const close = cf(8, closePayload(1000, 'done'));
      client.write(close);
      await server.until('stdout', latin1(close));
      server.write(sf(8, closePayload(1000, 'done')));
      await client.until('stdout', latin1(sf(8, closePayload(1000, 'done'))));
      client.write('Q\n');
      expect(await client.exited).toBe(0);
      await server.exited;
      expect(server.stdout()).toContain('Early data received:');
      await live.until((evs) => evs.filter((e) => e.type === 'connection-end').length === 2, 'both connections end');
      await live.stop();

      const keylog = readFileSync(keys, 'latin1');
      expect(keylog).toMatch(/^CLIENT_EARLY_TRAFFIC_SECRET /m);
      const events = await read(file, keylog);
      const tls = events.filter((e): e is TlsEvent => e.type === 'tls');
      expect(tls.map((t) => [t.version, t.decrypted])).toEqual([
        ['TLS 1.3', true],
        ['TLS 1.3', true],
      ]);
      expect(events.find((e) => e.type === 'handshake')).toMatchObject({ conn: 2, path: '/zero-rtt', status: 101, acceptValid: true, websocket: true });
      expect(messageKeys(dataMessages(events, 'client'))).toEqual(messageKeys(clientSent));
      expect(messageKeys(dataMessages(events, 'server'))).toEqual(messageKeys(serverSent));
      expect(events.filter((e) => e.type === 'finding' && e.severity !== 'info')).toEqual([]);

      // tshark, with the same key log, decrypts the early data and both KeyUpdates the same way
      const tsharkKeys = ['-o', `tls.keylog_file:${keys}`, '-d', `tcp.port==${port},tls`, '-d', `tls.port==${port},http`];
      const tshark = tsharkFrameRows(file, port, tsharkKeys);
      expect(tshark).toHaveLength(clientSent.length + serverSent.length + 2);
      expect(frameRows(events).map(({ packet: _p, ...f }) => f)).toEqual(tshark.map(({ packet: _p, ...f }) => f));
      const updates = execFileSync('tshark', ['-r', file, ...tsharkKeys, '-Y', 'tls.handshake.type == 24', '-T', 'fields', '-e', 'tcp.srcport'], { encoding: 'utf8' });
      // one KeyUpdate from each side (the client's asked the server to update too)
      const from = updates.trim().split('\n').map(Number);
      expect(from).toHaveLength(2);
      expect(from.filter((p) => p === port)).toHaveLength(1);

      // the same capture with the secrets injected decrypts alone
      const injected = join(dir, 'zero-rtt-dsb.pcapng');
      execFileSync('editcap', ['--inject-secrets', `tls,${keys}`, file, injected], { stdio: 'ignore' });
      expect(messageKeys(dataMessages(await read(injected)))).toEqual(messageKeys(dataMessages(events)));
    } finally {
      for (const p of procs) p.kill();
    }
  }, 60_000);
});
