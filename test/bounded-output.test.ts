/**
 * `wsscope read` on hostile captures (scripts/gen-bombs.ts), as a user runs it: the child's
 * peak RSS (GNU time, scripts/lib/measure.ts) stays within the 300 MB target in --json and
 * text modes, every line of --json parses, messages that are not whole say so (`truncated`,
 * `wireLength`), and the file's inflate budget stops a capture of many bombs early.
 * Sizes are scaled down from docs/hardening.md's figures where the memory profile does not
 * depend on them (messages are kept up to 64 MiB whatever they claim).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBomb } from '../scripts/gen-bombs';
import { measure } from '../scripts/lib/measure';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'scripts', 'wsscope.cjs');
const RSS_TARGET = 300e6;
type Ev = Record<string, unknown>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-bombs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bomb(kind: string, scale = 1): string {
  const file = join(dir, `${kind}-${scale}.pcap`);
  writeBomb(kind, file, scale);
  return file;
}

/** `wsscope read FILE ARGS` with stdout to a file; its peak RSS, wall time and output path. */
async function read(file: string, args: string[]): Promise<{ rss: number; wall: number; out: string }> {
  const out = `${file}.${args.join('').replace(/\W/g, '')}.out`;
  const m = await measure('sh', ['-c', 'out=$1; shift; exec "$@" > "$out"', 'sh', out, process.execPath, CLI, 'read', file, ...args], { cwd: ROOT });
  expect(m.stderr).toBe('');
  expect(m.exitCode).toBe(0);
  expect(m.rssSource).not.toBe('none');
  return { rss: m.peakRss, wall: m.wall, out };
}

/** Every line of an NDJSON file parsed (a line that is not JSON throws); `keep` picks what to return. */
async function events(path: string, keep: (e: Ev) => boolean): Promise<{ kept: Ev[]; lines: number; types: Record<string, number> }> {
  const kept: Ev[] = [];
  const types: Record<string, number> = {};
  let lines = 0;
  for await (const l of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    const e = JSON.parse(l) as Ev;
    lines++;
    types[e.type as string] = (types[e.type as string] ?? 0) + 1;
    if (keep(e)) kept.push(e);
  }
  return { kept, lines, types };
}

const payloadOf = (m: Ev): number => (typeof m.text === 'string' ? Buffer.byteLength(m.text) : Buffer.from(m.base64 as string, 'base64').length);

describe('read on hostile captures: bounded memory, valid lines, truncation marked', () => {
  it('a message inflating to 1 GiB of U+0000 text: one line of escaped text, written in slices', async () => {
    const file = bomb('inflate-1gib-text');
    // 16 MiB kept (--max-inflate): a 96 MB line, which the main branch built whole (404 MB RSS)
    const j = await read(file, ['--json', '--max-inflate', String(16 << 20)]);
    expect(j.rss).toBeLessThan(RSS_TARGET);
    const { kept } = await events(j.out, (e) => e.type === 'message' || e.type === 'finding');
    const [bombMsg, alive] = kept.filter((e) => e.type === 'message');
    // the prefix kept at the limit is what zlib inflates of the input's first limit/1100 bytes (engine/ws/inflate.ts)
    expect(bombMsg).toMatchObject({ opcode: 1, compressed: true, truncated: true });
    expect(bombMsg.length).toBeGreaterThan(15e6);
    expect(bombMsg.length).toBeLessThanOrEqual(16 << 20);
    // wireLength: the compressed bytes its frame announced, about 1 MiB of the file
    expect(bombMsg.wireLength).toBeGreaterThan(1e6);
    expect(bombMsg.wireLength).toBeLessThan(statSync(file).size);
    expect((bombMsg.text as string).length).toBe(bombMsg.length);
    expect(/^\0+$/.test(bombMsg.text as string)).toBe(true);
    expect(alive).toMatchObject({ text: 'still alive' });
    expect(alive).not.toHaveProperty('truncated');
    expect(kept.some((e) => e.id === 'decompressed-size-limit')).toBe(true);
    // text mode at the default limit (64 MiB)
    expect((await read(file, ['--no-color'])).rss).toBeLessThan(RSS_TARGET);
  });

  it('a 70 MB text message: cut at the 64 MiB kept, marked, written in slices', async () => {
    const file = bomb('text-200mb', 0.35);
    const j = await read(file, ['--json']);
    expect(j.rss).toBeLessThan(RSS_TARGET);
    const { kept } = await events(j.out, (e) => e.type === 'message');
    expect(kept).toHaveLength(2);
    expect(kept[0]).toMatchObject({ opcode: 1, length: 70e6, truncated: true, wireLength: 70e6 });
    expect(payloadOf(kept[0])).toBe(64 << 20);
    expect(kept[1]).toMatchObject({ text: 'still alive' });
    expect((await read(file, ['--no-color'])).rss).toBeLessThan(RSS_TARGET);
  });

  it('a frame claiming 2^62 bytes: the message marked with the length its frame announced', async () => {
    const file = bomb('frame-2p62', 0.35);
    const j = await read(file, ['--json']);
    expect(j.rss).toBeLessThan(RSS_TARGET);
    const { kept } = await events(j.out, (e) => e.type === 'message' || e.type === 'frame');
    const frame = kept.find((e) => e.type === 'frame');
    expect(frame?.length).toBe(2 ** 62);
    const msg = kept.find((e) => e.type === 'message');
    expect(msg).toMatchObject({ opcode: 2, truncated: true, wireLength: 2 ** 62 });
    expect(payloadOf(msg as Ev)).toBe(64 << 20);
    // --max-payload-out: the same message, 1000 bytes of it
    const cut = await read(file, ['--json', '--max-payload-out', '1000']);
    const small = (await events(cut.out, (e) => e.type === 'message')).kept[0];
    expect(small).toMatchObject({ truncated: true, wireLength: 2 ** 62, length: msg?.length });
    expect(payloadOf(small)).toBe(1000);
    expect((await read(file, ['--no-color'])).rss).toBeLessThan(RSS_TARGET);
  });

  it('150,000 retransmissions with other bytes: every finding line is valid JSON, memory flat', async () => {
    const file = bomb('many-findings', 0.5);
    const j = await read(file, ['--json']);
    expect(j.rss).toBeLessThan(RSS_TARGET);
    const { kept, types } = await events(j.out, (e) => e.type === 'summary');
    expect(types.finding).toBe(kept[0].findings);
    expect(types.finding).toBeGreaterThan(0);
    expect(types.message).toBe(150_000);
    expect((await read(file, ['--no-color'])).rss).toBeLessThan(RSS_TARGET);
  });

  it('8 connections inflating 1 GiB each: the file budget stops inflation at 512 MiB in all, with a finding', async () => {
    const file = bomb('inflate-8conn');
    expect(statSync(file).size).toBeLessThan(10e6);
    // payloads left out of the output (--max-payload-out 0): lengths and markers only
    const j = await read(file, ['--json', '--max-payload-out', '0']);
    expect(j.rss).toBeLessThan(RSS_TARGET);
    expect(j.wall).toBeLessThan(15); // the main branch inflated 8 GiB in 33 s (40 s in text mode)
    const { kept } = await events(j.out, (e) => e.type === 'message' || e.type === 'finding');
    const msgs = kept.filter((e) => e.type === 'message');
    expect(msgs).toHaveLength(128);
    expect(msgs.reduce((n, m) => n + (m.length as number), 0)).toBe(512 << 20);
    for (const m of msgs) {
      expect(payloadOf(m)).toBe(0);
      expect(m).toMatchObject({ truncated: true, wireLength: expect.any(Number) });
    }
    const budget = kept.filter((e) => e.type === 'finding' && /maxInflateTotal 536870912/.test(e.text as string));
    expect(budget.length).toBeGreaterThan(0);
    // a smaller budget, in text mode
    const t = await read(file, ['--no-color', '--max-inflate-total', String(64 << 20)]);
    expect(t.rss).toBeLessThan(RSS_TARGET);
  });
});
