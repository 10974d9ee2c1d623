import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeFile } from '../pipeline';
import { Conv } from '../../test/kit/capture';
import { MASK, wsFrame } from '../../test/kit/websocket';
import { Cancels } from './cancel';
import { Exporter } from './exports';
import { BatchPump } from './pump';
import { Sessions } from './sessions';
import { SAMPLE_CHAT } from '../../test/kit/paths';

// 1743 bytes, 15 packets, one connection, 7 messages (test/corpus/clean-baseline.expected.json)
const CLEAN = fileURLToPath(new URL('../../test/corpus/clean-baseline.pcap', import.meta.url));
const GZIP = fileURLToPath(new URL('../../test/corpus/gzip-capture.pcap.gz', import.meta.url));

let dir: string;
let work: string;
let pump: BatchPump;
let sessions: Sessions;
let exporter: Exporter;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-exports-'));
  work = join(dir, 'work');
  pump = new BatchPump({ push: () => {}, intervalMs: 10, source: () => sessions.store });
  sessions = new Sessions({ push: () => {}, pump, analyze: analyzeFile, workDir: work, pipeline: {} });
  exporter = new Exporter({ sessions, workDir: work, version: '9.8.7', cancels: new Cancels() });
});

afterEach(async () => {
  pump.close();
  await sessions.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(path: string): Promise<void> {
  expect((await sessions.openFile(path)).ok).toBe(true);
  await sessions.idle();
}

/** Messages and packets of a capture held in `bytes`, decoded by the engine. */
async function decode(bytes: Uint8Array): Promise<{ messages: number; packets: number }> {
  const f = join(dir, `decode-${Math.random().toString(16).slice(2)}.pcapng`);
  writeFileSync(f, bytes);
  let messages = 0;
  const sum = await analyzeFile(f, (ev) => {
    if (ev.type === 'message') messages++;
  });
  return { messages, packets: sum.packets };
}

describe('Exporter', () => {
  it('answers no-capture when nothing is loaded, whatever the format', async () => {
    for (const f of ['ndjson', 'har', 'pcapng'] as const) expect(await exporter.export(f)).toMatchObject({ ok: false, error: { code: 'no-capture' } });
  });

  it('returns a pcapng download with a name from the capture, and leaves no scratch file', async () => {
    await open(CLEAN);
    const r = await exporter.export('pcapng');
    expect(r.ok && r.value.path).toBe('clean-baseline.pcapng');
    const bytes = r.ok ? r.value.bytes : undefined;
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(bytes as Uint8Array).readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(await decode(bytes as Uint8Array)).toEqual({ messages: 7, packets: 15 });
    expect(readdirSync(work).filter((f) => f.startsWith('export-'))).toEqual([]);
  });

  it('names downloads of a gzip capture without .pcap.gz, and writes HAR with its version', async () => {
    await open(GZIP);
    const har = await exporter.export('har');
    expect(har.ok && har.value.path).toBe('gzip-capture.har');
    const doc = JSON.parse(Buffer.from((har.ok && har.value.bytes) || new Uint8Array()).toString('utf8'));
    expect(doc.log.creator).toMatchObject({ name: 'wsscope', version: '9.8.7' });
    expect(doc.log.entries).toHaveLength(1);
    const nd = await exporter.export('ndjson');
    expect(nd.ok && nd.value.path).toBe('gzip-capture.ndjson');
  });

  it('exports a live session as a copy of the capture file it writes', async () => {
    await sessions.replace('live', CLEAN, 0);
    const out = join(dir, 'live-copy.pcapng');
    expect(await exporter.export('pcapng', out)).toEqual({ ok: true, value: { path: out } });
    expect(readFileSync(out).equals(readFileSync(CLEAN))).toBe(true);
  });

  it('writes to a target path relative to the working directory, and says why it cannot', async () => {
    await open(CLEAN);
    const nd = join(dir, 'out.ndjson');
    expect(await exporter.export('ndjson', relative(process.cwd(), nd))).toEqual({ ok: true, value: { path: nd } });
    expect(readFileSync(nd, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).type)).toContain('summary');

    const missing = join(dir, 'no', 'such', 'dir', 'out.pcapng');
    expect(await exporter.export('pcapng', missing)).toEqual({ ok: false, error: { code: 'not-found', message: `${missing} does not exist.` } });
    const aDir = join(dir, 'a-dir');
    mkdirSync(aDir);
    expect(await exporter.export('har', aDir)).toMatchObject({ ok: false, error: { code: 'io' } });
  });

  it('writes every format to a path as a new 0600 file, replacing a symlink planted there instead of writing through it', async () => {
    await open(CLEAN);
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched', { mode: 0o600 });
    for (const f of ['ndjson', 'har', 'pcapng'] as const) {
      const out = join(dir, `planted.${f}`);
      symlinkSync(victim, out);
      expect(await exporter.export(f, out)).toEqual({ ok: true, value: { path: out } });
      expect(lstatSync(out).isSymbolicLink()).toBe(false);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(statSync(out).size).toBeGreaterThan(100);
    }
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('clamps and flags timestamps no date can hold (if_tsoffset at the int64 ends) instead of failing the HAR export', async () => {
    const doc = async (tsoffset: number): Promise<{ comment?: string; _wsscopeClampedTimes?: number; entries: Array<Record<string, unknown>> }> => {
      const c = new Conv().open().upgrade();
      c.send('c', wsFrame({ opcode: 1, payload: 'hello', mask: MASK }));
      c.send('s', wsFrame({ opcode: 1, payload: 'world' }));
      const f = join(dir, `offset-${tsoffset}.pcapng`);
      writeFileSync(f, c.close().pcapng({ tsoffset }));
      await open(f);
      const r = await exporter.export('har');
      expect(r.ok).toBe(true);
      return JSON.parse(Buffer.from((r.ok && r.value.bytes) || new Uint8Array()).toString('utf8')).log;
    };
    for (const [offset, iso] of [
      [9e18, '+275760-09-13T00:00:00.000Z'],
      [-9e18, '-271821-04-20T00:00:00.000Z'],
    ] as const) {
      const log = await doc(offset);
      expect(log.entries).toHaveLength(1);
      const [e] = log.entries;
      expect(e.startedDateTime).toBe(iso);
      expect(e._wsscopeNote).toMatch(/^startedDateTime clamped: the capture timestamp \(-?\d{19} s since 1970\) is outside the range a date can hold$/);
      expect(e.comment).toBe(e._wsscopeNote);
      expect((e._webSocketMessages as Array<{ data: string }>).map((m) => m.data)).toEqual(['hello', 'world']);
      expect(log._wsscopeClampedTimes).toBe(1);
      expect(log.comment).toMatch(/^1 timestamp\(s\) outside the range a date can hold were clamped/);
    }
    // an ordinary capture carries no such note
    const plain = await doc(0);
    expect(plain.entries[0]).not.toHaveProperty('_wsscopeNote');
    expect(plain).not.toHaveProperty('_wsscopeClampedTimes');
  });

  it('a running text export keeps the session from switching until it is written', async () => {
    await open(CLEAN);
    const out = join(dir, 'first.ndjson');
    const exp = exporter.export('ndjson', out);
    await sessions.replace('none', '', 0);
    // the export had finished (and its file was complete) before the old store closed
    expect(await exp).toEqual({ ok: true, value: { path: out } });
    expect(readFileSync(out, 'utf8').trimEnd().split('\n').filter((l) => JSON.parse(l).type === 'message')).toHaveLength(7);
  });
});

describe('Exporter, filtered', () => {
  it("writes only the filter's messages and their connection's events as NDJSON, named -filtered", async () => {
    await open(SAMPLE_CHAT);
    const r = await exporter.export('ndjson', undefined, { filter: { conn: 2, opcodes: [1] } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.path).toBe('chat-filtered.ndjson');
    const lines = new TextDecoder().decode(r.value.bytes).trim().split('\n').map((l) => JSON.parse(l) as { type: string; conn?: number; id?: number; opcode?: number });
    const msgs = lines.filter((e) => e.type === 'message');
    // connection 2's text messages: the fragmented one, its echo, 70,000 x and its echo
    expect(msgs).toHaveLength(4);
    expect(msgs.every((m) => m.conn === 2 && m.opcode === 1)).toBe(true);
    expect(lines.filter((e) => e.type === 'connection').map((e) => e.id)).toEqual([2]);
    expect(lines.filter((e) => e.type === 'handshake').map((e) => e.conn)).toEqual([2]);
    expect(lines.some((e) => e.type === 'frame' || e.type === 'summary')).toBe(false);
    const all = await exporter.export('ndjson');
    expect(all.ok && all.value.path).toBe('chat.ndjson');
  });

  it('writes only the matching data messages under their connections as HAR', async () => {
    await open(SAMPLE_CHAT);
    const r = await exporter.export('har', undefined, { filter: { text: 'part one' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const har = JSON.parse(new TextDecoder().decode(r.value.bytes)) as { log: { entries: Array<{ _wsscopeConnection: number; _webSocketMessages: Array<{ data: string }> }> } };
    expect(har.log.entries.map((e) => e._wsscopeConnection)).toEqual([2]);
    expect(har.log.entries[0]._webSocketMessages.map((m) => m.data)).toEqual(['part one, part two', 'echo: part one, part two']);
  });

  it('refuses a filter with a bad regular expression, and keeps pcapng whole', async () => {
    await open(SAMPLE_CHAT);
    expect(await exporter.export('ndjson', undefined, { filter: { text: '(', regex: true } })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    const p = await exporter.export('pcapng', undefined, { filter: { conn: 2 } });
    expect(p.ok && p.value.path).toBe('chat.pcapng');
  });
});

describe('Exporter, suggested names', () => {
  it('names a download after the capture with markup and bidi controls made plain', async () => {
    const hostile = join(dir, 'cap-<b>\u202Egpj.pcap');
    writeFileSync(hostile, readFileSync(CLEAN));
    await open(hostile);
    const r = await exporter.export('ndjson');
    expect(r.ok && r.value.path).toBe('cap-_b__gpj.ndjson');
  });
});
