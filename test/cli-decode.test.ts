/**
 * `wsscope read` on subprotocol conversations: the text output shows what each message means
 * after its payload, `--json` carries `app` (docs/events.md), and `--decode CONN=PROTOCOL`
 * overrides the choice per connection. The capture is built here: a Socket.IO connection
 * (picked by its URL), a JSON-RPC one (picked by sniffing its first message) and a plain one.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Conv, pcap, type Rec } from './kit/capture';
import { cf, sf } from './kit/websocket';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let file: string;

function wsscope(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'wsscope.cjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-cli-decode-'));
  const recs: Rec[] = [];
  const sio = new Conv({ clientPort: 40001 }).upgrade({ path: '/socket.io/?EIO=4&transport=websocket' });
  sio.send('s', sf(1, '0{"sid":"Zx1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'));
  sio.send('c', cf(1, '40'));
  sio.send('s', sf(1, '40{"sid":"k9"}'));
  sio.send('c', cf(1, '421["chat","hi"]'));
  sio.send('s', sf(1, '431[{"ok":true}]'));
  sio.close();
  const rpc = new Conv({ clientPort: 40002, t0: sio.t + 1000 }).upgrade();
  rpc.send('c', cf(1, '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":7}'));
  rpc.send('s', sf(1, '{"jsonrpc":"2.0","result":3,"id":7}'));
  rpc.close();
  const plain = new Conv({ clientPort: 40003, t0: rpc.t + 1000 }).upgrade();
  plain.send('c', cf(1, 'hello'));
  plain.close();
  recs.push(...sio.recs, ...rpc.recs, ...plain.recs);
  file = join(dir, 'subprotocols.pcap');
  writeFileSync(file, pcap(recs, { linkType: 1 }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wsscope read on subprotocol conversations', () => {
  it('prints what each message means after its payload', () => {
    const r = wsscope('read', file);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const meaning = r.out.split('\n').flatMap((l) => (l.includes(' => ') ? [l.replace(/^#(\d+) .*? => /, '#$1 ')] : []));
    expect(meaning).toEqual(['#1 open sid=Zx1', '#1 CONNECT', '#1 CONNECT sid=k9', '#1 EVENT chat ["hi"] ack 1', '#1 ACK #1 [{"ok":true}] (0.1 ms)', '#2 request add #7', '#2 response add #7 (0.1 ms)']);
    expect(r.out).toMatch(/#3 +\S+ C->S text +5B "hello"\n/);
  });

  it('carries app in --json, only on connections with a decoder', () => {
    const r = wsscope('read', file, '--json');
    expect(r.code).toBe(0);
    const msgs = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === 'message');
    expect(msgs.map((m) => [m.conn, 'app' in m])).toEqual([...Array(5).fill([1, true]), [2, true], [2, true], [3, false]]);
    expect(msgs.find((m) => m.conn === 2 && m.dir === 'server')?.app).toEqual([{ protocol: 'json-rpc', type: 'response', id: 7, method: 'add', requestTs: expect.any(Number), latencyMs: 0.1 }]);
  });

  it('obeys --decode: none turns a connection off, a protocol forces it, a bad value exits 2', () => {
    const off = wsscope('read', file, '--json', '--decode', '1=none', '--decode', '3=json-rpc');
    expect(off.code).toBe(0);
    const msgs = off.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === 'message');
    expect(msgs.filter((m) => m.conn === 1).every((m) => !('app' in m))).toBe(true);
    expect(msgs.find((m) => m.conn === 3 && m.opcode === 1)?.app).toEqual([{ protocol: 'json-rpc', type: 'invalid', reason: 'the message is not JSON' }]);
    for (const bad of ['x=mqtt', '1=bogus', '0=mqtt']) {
      const r = wsscope('read', file, '--decode', bad);
      expect(r.code, bad).toBe(2);
      expect(r.err).toMatch(/^wsscope read: --decode /);
    }
  });
});
