// The browser shell's streamed upload: `wsscope serve` takes a capture POSTed to /upload
// (token, Origin and Host checked like the WebSocket), writes it to a private file as it
// arrives and opens it in its real engine process; the page then sees the session as usual.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { startServe, uploadName, type ServeHandle } from '../engine/serve/server';
import type { Result, SessionInfo } from '../shared/api';
import { publicCapture } from './kit/paths';

const SSH = publicCapture('zeek__wstunnel-ssh.pcap');
const BROKER = publicCapture('zeek__broker-websocket.pcap');

let dir: string;
let srv: ServeHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-upload-'));
  const site = join(dir, 'site');
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>wsscope</title>');
  srv = await startServe({ staticDir: site, host: '127.0.0.1', configDir: join(dir, 'cfg'), log: () => {} });
});

afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Posted {
  status: number;
  body: string;
}

/** POSTs `body` to `path`, in chunks, as a browser's fetch of a File does. */
function post(path: string, body: Uint8Array, headers: Record<string, string | number> = {}): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: srv.port, path, method: 'POST', headers: { host: `127.0.0.1:${srv.port}`, origin: srv.origin, 'content-length': body.length, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    for (let o = 0; o < body.length; o += 16384) req.write(body.subarray(o, o + 16384));
    req.end();
  });
}

/** The uploads this server holds on disk: files in its scratch folder (engine/fs/private.ts makeScratchDir). */
function storedUploads(): string[] {
  const scratch = readdirSync(tmpdir()).filter((d) => d.startsWith(`wsscope-${process.pid}-`)).map((d) => join(tmpdir(), d));
  return scratch.flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f))).filter((p) => statSync(p).isFile());
}

/** The engine's recent files list (recent.json in the config folder), [] while there is none. */
function recent(): string[] {
  const file = join(dir, 'cfg', 'recent.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : [];
}

const uploadPath = (name: string, token = srv.token): string => `/upload?token=${encodeURIComponent(token)}&name=${encodeURIComponent(name)}`;

describe('wsscope serve /upload', () => {
  it('streams a capture to a private file and opens it in the engine', async () => {
    const bytes = readFileSync(SSH);
    const got = await post(uploadPath('tunnel ssh.pcap'), bytes);
    expect(got.status).toBe(200);
    const r = JSON.parse(got.body) as Result<SessionInfo>;
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.kind).toBe('file');
    expect(r.value.totalBytes).toBe(bytes.length);
    // the session shows the user's file name, not the temporary path it is stored under
    expect(r.value.path).toBe('tunnel ssh.pcap');
    // stored under its own safe name, byte for byte, readable by this user only
    const [stored] = storedUploads();
    expect(storedUploads()).toHaveLength(1);
    expect(basename(stored)).toBe('tunnel_ssh.pcap');
    expect(readFileSync(stored).equals(bytes)).toBe(true);
    expect(statSync(stored).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(stored)).mode & 0o777).toBe(0o700);
    // a temporary file is no recent file: it is gone once another capture is opened
    expect(recent()).toEqual([]);

    // the next upload replaces it, and the first one's file is gone
    const second = JSON.parse((await post(uploadPath('broker.pcap'), readFileSync(BROKER))).body) as Result<SessionInfo>;
    expect(second.ok && second.value.id).toBeGreaterThan(r.value.id);
    expect(second.ok && second.value.path).toBe('broker.pcap');
    expect(existsSync(stored)).toBe(false);
    expect(storedUploads().map((p) => basename(p))).toEqual(['broker.pcap']);
    expect(recent()).toEqual([]);
  });

  it('refuses uploads without the token, from another Origin or Host, and passes on the engine refusing a non-capture', async () => {
    const bytes = readFileSync(BROKER);
    expect((await post(uploadPath('a.pcap', 'wrong'), bytes)).status).toBe(403);
    expect((await post(uploadPath('a.pcap'), bytes, { origin: 'http://evil.test' })).status).toBe(403);
    expect((await post(uploadPath('a.pcap'), bytes, { host: 'evil.test' })).status).toBe(403);
    // not a capture: the engine's own answer
    const junk = JSON.parse((await post(uploadPath('notes.txt'), new TextEncoder().encode('hello, not a capture'))).body) as Result<SessionInfo>;
    expect(junk).toMatchObject({ ok: false, error: { code: 'not-a-capture' } });
  });

  it('keeps only a safe base name from the page', () => {
    expect(uploadName('../../etc/passwd')).toBe('passwd');
    expect(uploadName('C:\\Users\\x\\cap.pcapng')).toBe('cap.pcapng');
    expect(uploadName('..')).toBe('_');
    expect(uploadName('')).toBe('upload.pcap');
    expect(uploadName('.hidden.pcap')).toBe('_hidden.pcap');
    expect(uploadName('a b\u202Ec.pcap')).toBe('a_b_c.pcap');
  });
});
