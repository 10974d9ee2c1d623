/**
 * What the Engine.IO long-polling tests against real peers share (socketio-polling.test.ts,
 * socketio-polling-v3.test.ts): a socket.io 4 server whose handlers log what they receive per
 * Engine.IO session (`chat` answered with an ack, `upload` with a binary ack, a `welcome`
 * event on connection), the `polling` events' packets by session, the file's decode checked
 * against the live one, and tshark's rows for the polling bodies of a capture file.
 */
import { execFileSync } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import { expect } from 'vitest';
import { Server as IoServer, type ServerOptions } from 'socket.io';
import { analyzeFile } from '../../engine/pipeline';
import type { AppPacket, EngineEvent, PollingEvent } from '../../shared/events';

export const polls = (evs: EngineEvent[]): PollingEvent[] => evs.filter((e): e is PollingEvent => e.type === 'polling');

/** the packets of session `sid`'s polling bodies in direction `dir` (of one type) */
export const items = (evs: EngineEvent[], sid: string, dir: 'client' | 'server', type?: string): AppPacket[] => polls(evs).flatMap((e) => (e.sid === sid && e.dir === dir ? e.app.filter((p) => !type || p.type === type) : []));

/**
 * socket.io on `http` (not listening yet): per Engine.IO session id (engine.io's Socket#id,
 * private in its typings) what its handlers received, `[event, ...args]` with a binary
 * argument as `{ $binary: length }`
 */
export function loggingIo(http: HttpServer, welcome: unknown[], opts: Partial<ServerOptions> = {}): { server: IoServer; serverLog: Record<string, unknown[][]> } {
  const server = new IoServer(http, opts);
  const serverLog: Record<string, unknown[][]> = {};
  server.on('connection', (socket) => {
    const log: unknown[][] = (serverLog[(socket.conn as unknown as { id: string }).id] = []);
    socket.on('chat', (text: string, ack: (r: unknown) => void) => {
      log.push(['chat', text]);
      ack({ ok: true, length: text.length });
    });
    socket.on('upload', (name: string, data: Buffer, ack: (...r: unknown[]) => void) => {
      log.push(['upload', name, { $binary: data.length }]);
      ack('stored', Buffer.from([9, 8, 7]));
    });
    socket.emit('welcome', ...welcome);
  });
  return { server, serverLog };
}

/**
 * tshark's HTTP rows of the polling bodies in `file`: frame number, then `fields`, for each
 * frame that ends a body, answers to POSTs (`ok`, not a payload) left out
 */
export function tsharkPollingBodies(file: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'http.request.uri contains "transport=polling" or http.response_for.uri contains "transport=polling"', '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.number', '-e', 'http.request.method', '-e', 'http.request_in', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  const rows = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
  const posts = new Set(rows.filter((r) => r[1] === 'POST').map((r) => r[0]));
  return rows.filter((r) => !posts.has(r[2])).map((r) => [r[0], ...r.slice(3)]);
}

/** a polling-only session `sid` sent its close packet (in a POST) and a WebSocket client sent its close frame */
export const bothClosed =
  (sid: () => string) =>
  (evs: EngineEvent[]): boolean =>
    items(evs, sid(), 'client', 'close').length > 0 && evs.some((e) => e.type === 'message' && e.opcode === 8 && e.dir === 'client');

/** the events of the written capture `file`, whose `polling` events must be the live decode's (connection ids aside) */
export async function fileEvents(file: string, live: EngineEvent[]): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  await analyzeFile(file, (e) => events.push(e));
  const strip = (e: PollingEvent): unknown => ({ ...e, conn: 0 });
  expect(polls(events).map(strip)).toEqual(polls(live).map(strip));
  return events;
}
