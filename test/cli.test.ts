/**
 * The `wsscope read` command as a user runs it: `npm run --silent wsscope -- read FILE`
 * (tsx, no build step), on the bundled sample and on bad inputs.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = join(ROOT, 'resources', 'samples', 'chat.pcapng');

function wsscope(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'wsscope.cjs'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('wsscope read --json on the bundled sample', () => {
  let lines: Array<Record<string, unknown>>;
  beforeAll(() => {
    const r = wsscope('read', SAMPLE, '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  });

  it('prints the event stream with exactly the fields of the design', () => {
    const keys: Record<string, string[]> = {
      connection: ['type', 'id', 'transport', 'client', 'server', 'ts'],
      handshake: ['type', 'conn', 'ts', 'path', 'host', 'status', 'key', 'accept', 'acceptValid', 'origin', 'protocol', 'extensions', 'websocket'],
      frame: ['type', 'conn', 'dir', 'ts', 'fin', 'rsv1', 'rsv2', 'rsv3', 'opcode', 'masked', 'maskKey', 'length', 'packet'],
      summary: ['type', 'packets', 'connections', 'messages', 'findings', 'bytes', 'seconds'],
    };
    for (const l of lines) {
      if (keys[l.type as string]) expect(Object.keys(l).sort(), String(l.type)).toEqual([...keys[l.type as string]].sort());
      expect(typeof l.type).toBe('string');
      if ('ts' in l) expect(typeof l.ts).toBe('number');
    }
    expect(lines[lines.length - 1].type).toBe('summary');
  });

  it('shows both conversations the sample recorded, decompressed and reassembled', () => {
    const conns = lines.filter((l) => l.type === 'connection');
    expect(conns).toHaveLength(2);
    const hs = lines.filter((l) => l.type === 'handshake');
    expect(hs).toHaveLength(2);
    expect(hs.every((h) => h.status === 101 && h.acceptValid === true && h.websocket === true)).toBe(true);
    expect(hs[0].path).toBe('/chat?room=lobby');
    expect(String(hs[0].extensions)).toContain('permessage-deflate');
    expect(hs[1].protocol).toBe('chat.v1');
    expect(hs[1].origin).toBe('http://localhost:5173');

    const texts = lines.filter((l) => l.type === 'message' && l.opcode === 1).map((l) => l.text);
    expect(texts).toContain('Hello, wsscope!');
    expect(texts).toContain('echo: Hello, wsscope!');
    expect(texts).toContain('part one, part two');
    expect(texts).toContain('x'.repeat(70000));
    const joins = texts.filter((t) => typeof t === 'string' && t.startsWith('{"type":"join"'));
    expect(joins).toHaveLength(2);
    const compressed = lines.filter((l) => l.type === 'message' && l.compressed === true);
    expect(compressed.length).toBeGreaterThanOrEqual(8);
    const bin = lines.find((l) => l.type === 'message' && l.opcode === 2 && l.dir === 'client');
    expect(bin?.base64).toBe(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]).toString('base64'));
    const closes = lines.filter((l) => l.type === 'message' && l.opcode === 8);
    expect(closes.map((c) => [c.code, c.reason])).toEqual(
      expect.arrayContaining([
        [1000, 'see you'],
        [4001, 'custom application code'],
      ]),
    );
    const ping = lines.find((l) => l.type === 'message' && l.opcode === 9);
    expect(Buffer.from(String(ping?.base64), 'base64').toString()).toBe('are you there?');
    const errors = lines.filter((l) => l.type === 'finding' && l.severity !== 'info');
    expect(errors).toEqual([]);
  });
});

describe('wsscope read, text output and errors', () => {
  it('prints one readable line per message with the close meaning', () => {
    const r = wsscope('read', SAMPLE);
    expect(r.code).toBe(0);
    expect(r.out).toContain('"Hello, wsscope!"');
    expect(r.out).toMatch(/ping +14B "are you there\?"/);
    expect(r.out).toContain('4001 Private use');
    expect(r.out).toMatch(/packets, 2 connections/);
    expect(r.out).not.toContain('\x1b[');
  });

  it('exits 2 with a one-line error for a missing file', () => {
    const r = wsscope('read', '/nonexistent/file.pcap');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/nonexistent/);
  });

  it('exits 2 at once with a one-line error for a FIFO, a device or a directory (nothing read from them)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsscope-cli-'));
    const fifo = join(dir, 'live.pcap');
    spawnSync('mkfifo', [fifo]);
    for (const [path, what] of [
      [fifo, 'a named pipe (FIFO)'],
      ['/dev/zero', 'a character device'],
      [dir, 'a directory'],
    ]) {
      const r = wsscope('read', path);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`wsscope read: ${path} is ${what}, not a capture file: wsscope opens regular files only.\n`);
    }
  });

  it('exits 2 with a one-line error for a file that is not a capture', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsscope-cli-'));
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'hello, this is not a capture file\n'.repeat(10));
    const r = wsscope('read', f);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('decodes what it can of a truncated capture, reports truncated-capture and exits 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsscope-cli-'));
    const f = join(dir, 'cut.pcapng');
    const whole = readFileSync(SAMPLE);
    writeFileSync(f, whole.subarray(0, Math.floor(whole.length * 0.6) + 3));
    const r = wsscope('read', f, '--json');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.type === 'finding' && l.id === 'truncated-capture')).toBe(true);
    expect(lines.some((l) => l.type === 'message' && l.text === 'Hello, wsscope!')).toBe(true);
    expect(lines[lines.length - 1].type).toBe('summary');
  });

  it('documents its options in --help', () => {
    const r = wsscope('read', '--help');
    expect(r.code).toBe(0);
    for (const opt of ['--json', '--ws-port', '--max-inflate']) expect(r.out).toContain(opt);
    const top = wsscope('--help');
    expect(top.out).toContain('wsscope capture');
    expect(top.out).toContain('wsscope serve');
  });

  it('names every option read and capture accept in their --help (the parser\'s own list, read from its source)', () => {
    for (const cmd of ['read', 'capture']) {
      const src = readFileSync(join(ROOT, 'engine', 'cli', `${cmd}.ts`), 'utf8');
      const block = new RegExp(`parseCommand\\('${cmd}'[\\s\\S]*?options: \\{([\\s\\S]*?)\\n    \\},`).exec(src)?.[1] ?? '';
      const names = [...block.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type/gm)].map((m) => m[1]);
      // a parser with no options found would make this test pass for nothing
      expect(names.length, cmd).toBeGreaterThan(10);
      const help = wsscope(cmd, '--help').out;
      for (const n of names) expect(help, `${cmd} --${n}`).toContain(`--${n}`);
    }
  });
});

describe('wsscope option errors', () => {
  it('rejects a --ws-port that is not a port, in read and in capture, with exit 2', () => {
    for (const args of [['read', SAMPLE, '--ws-port', '70000'], ['capture', '-i', 'lo', '--ws-port', 'x']]) {
      const r = wsscope(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/--ws-port (70000|x): not a port number/);
    }
  });

  it('rejects a byte count that is not one, for both limits of read, with exit 2', () => {
    for (const [flag, v] of [['--max-inflate', '-1'], ['--max-reassembly', '1.5'], ['--max-inflate', 'lots']]) {
      const r = wsscope('read', SAMPLE, `${flag}=${v}`);
      expect(r.code, `${flag} ${v}`).toBe(2);
      expect(r.err).toBe(`wsscope read: ${flag} ${v}: not a byte count\n`);
    }
  });

  it('every command answers an unknown option with one line on stderr and exit 2, and --help with exit 0', () => {
    for (const cmd of ['read', 'capture', 'interfaces', 'serve']) {
      const bad = wsscope(cmd, '--no-such-option');
      expect(bad.code, cmd).toBe(2);
      expect(bad.err.trim().split('\n'), cmd).toHaveLength(1);
      expect(bad.err, cmd).toMatch(new RegExp(`^wsscope ${cmd}: Unknown option '--no-such-option'`));
      const help = wsscope(cmd, '--help');
      expect(help.code, cmd).toBe(0);
      expect(help.out, cmd).toMatch(new RegExp(`^Usage: wsscope ${cmd}`));
    }
  });

  it('serve refuses a port out of range and a second file', () => {
    const port = wsscope('serve', '--port', '70000');
    expect(port.code).toBe(2);
    expect(port.err).toBe('wsscope serve: --port wants a number from 0 to 65535, got "70000"\n');
    const two = wsscope('serve', 'a.pcap', 'b.pcap');
    expect(two.code).toBe(2);
    expect(two.err).toBe('wsscope serve: one FILE at most\n');
  });
});
