/**
 * `wsscope capture --decode CONN=PROTOCOL`, as `read` has it: the real CLI capturing on lo
 * while a real `ws` peer pair talks JSON-RPC 2.0 (which the decoders recognise by content).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer } from './peers/peer';
import { runWsscope } from './peers/wsscope';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-capture-decode-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CALLS = ['{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1}', '{"jsonrpc":"2.0","method":"ping"}'];

interface Line {
  type: string;
  dir?: string;
  opcode?: number;
  app?: Array<{ protocol: string; type: string; method?: string }>;
}

/** capture one conversation with `args`; the client's data messages as printed */
async function capture(name: string, args: string[]): Promise<Line[]> {
  const server = await startPeer({ impl: 'node-ws', role: 'server', deflate: false });
  try {
    const cli = runWsscope(['capture', '-i', 'lo', '-f', `tcp port ${server.port}`, '-w', join(dir, `${name}.pcapng`), '--json', ...args]);
    await cli.stderrMatch(/Capturing on lo/);
    const client = await startPeer({ impl: 'node-ws', role: 'client', port: server.port, deflate: false, messages: CALLS });
    await client.done;
    const sent = (lines: string[]): Line[] => lines.map((l) => JSON.parse(l) as Line).filter((e) => e.type === 'message' && e.dir === 'client' && e.opcode === 1);
    await cli.linesUntil((lines) => sent(lines).length === CALLS.length, 'the client messages');
    cli.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    return sent(cli.lines);
  } finally {
    await server.stop();
  }
}

describe('wsscope capture --decode', () => {
  it('decodes by content without it, not at all with CONN=none, and refuses an unknown protocol', async () => {
    const auto = await capture('auto', []);
    expect(auto.map((m) => m.app)).toEqual([[{ protocol: 'json-rpc', type: 'request', method: 'sum', id: 1 }], [{ protocol: 'json-rpc', type: 'notification', method: 'ping' }]]);
    const none = await capture('none', ['--decode', '1=none']);
    expect(none.map((m) => m.app)).toEqual([undefined, undefined]);
    const bad = runWsscope(['capture', '-i', 'lo', '--decode', '1=nope']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toContain('nope');
  });
});
