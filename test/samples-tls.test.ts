/**
 * The bundled wss:// and HTTP/2 samples (resources/samples/README.md) decode as the README
 * shows: every message, no finding, through the real CLI.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './kit/paths';

const SAMPLES = join(REPO_ROOT, 'resources', 'samples');

function read(...args: string[]): Array<Record<string, unknown>> {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'wsscope.cjs'), 'read', ...args, '--json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const texts = (out: Array<Record<string, unknown>>): unknown[] => out.filter((l) => l.type === 'message' && l.opcode === 1).map((l) => `${String(l.conn)} ${String(l.dir)} ${String(l.text)}`);

describe('bundled TLS and HTTP/2 samples', () => {
  it('wss.pcapng decrypts with its key log: the whole conversation, no finding; without it, tls-no-key', () => {
    const out = read(join(SAMPLES, 'wss.pcapng'), '--keylog', join(SAMPLES, 'wss.keys'));
    expect(out.find((l) => l.type === 'tls')).toMatchObject({ version: 'TLS 1.3', sni: 'localhost', decrypted: true });
    expect(out.find((l) => l.type === 'handshake')).toMatchObject({ path: '/live?feed=prices', status: 101, acceptValid: true });
    expect(texts(out)).toEqual([
      '1 client {"op":"subscribe","symbols":["BTC-USD","ETH-USD"]}',
      '1 server echo: {"op":"subscribe","symbols":["BTC-USD","ETH-USD"]}',
      '1 client Hello over TLS 1.3!',
      '1 server echo: Hello over TLS 1.3!',
      '1 client bye',
    ]);
    expect(out.filter((l) => l.type === 'finding')).toEqual([]);
    const without = read(join(SAMPLES, 'wss.pcapng'));
    expect(without.filter((l) => l.type === 'finding').map((l) => l.id)).toEqual(['tls-no-key']);
    expect(without.some((l) => l.type === 'message')).toBe(false);
  });

  it('h2.pcapng decrypts alone (secrets block) and lists both WebSockets on their streams and the plain GET', () => {
    const out = read(join(SAMPLES, 'h2.pcapng'));
    expect(out.find((l) => l.type === 'tls')).toMatchObject({ alpn: 'h2', decrypted: true });
    expect(out.filter((l) => l.type === 'connection').map((l) => [l.id, l.h2Stream ?? null])).toEqual([
      [1, null],
      [2, 1],
      [3, 3],
    ]);
    expect(out.filter((l) => l.type === 'handshake').map((l) => [l.conn, l.path, l.status, l.protocol])).toEqual([
      [2, '/chat', 200, 'chat.v1'],
      [3, '/feed', 200, ''],
    ]);
    expect(texts(out)).toEqual(['2 client Hello over HTTP/2!', '2 server welcome to /chat', '3 server {"tick":1,"price":64210.5}', '3 server {"tick":2,"price":64211}']);
    expect(out.filter((l) => l.type === 'http2-request')).toMatchObject([{ conn: 1, method: 'GET', path: '/status', status: 200 }]);
    expect(out.filter((l) => l.type === 'finding')).toEqual([]);
  });
});
