// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { createFakeApi, makeRow } from '../testing/fake-api';
import { piniaWith } from '../testing/mount';
import { useFiltersStore } from './filters';
import { useMessagesStore } from './messages';
import type { MessageRow } from '../../../shared/api';

function rowsFixture(): MessageRow[] {
  return [
    makeRow(0, { conn: 1, dir: 'client', opcode: 1, preview: '{"op":"subscribe","topic":"prices"}' }),
    makeRow(1, { conn: 1, dir: 'server', opcode: 1, preview: '{"op":"ack"}' }),
    makeRow(2, { conn: 2, dir: 'server', opcode: 2, kind: 'binary', preview: '00 01 02' }),
    makeRow(3, { conn: 2, dir: 'client', opcode: 9, kind: 'ping', preview: '' }),
    makeRow(4, { conn: 2, dir: 'server', opcode: 10, kind: 'pong', preview: '', findings: 1 }),
    makeRow(5, { conn: 1, dir: 'client', opcode: 8, kind: 'close', preview: 'bye', code: 1000 }),
  ];
}

function setup(rows = rowsFixture()) {
  const api = createFakeApi({ rows });
  piniaWith(api);
  const messages = useMessagesStore();
  messages.setRows(rows.slice());
  return { api, messages, filters: useFiltersStore() };
}

const shown = (f: ReturnType<typeof useFiltersStore>): number[] => Array.from(f.positions ?? []);

describe('filters store', () => {
  it('filters by text case-insensitively and by regex, and reports a bad regex without losing the view', async () => {
    const { filters } = setup();
    filters.text = 'SUBSCRIBE';
    await filters.apply();
    expect(shown(filters)).toEqual([0]);
    expect(filters.shown).toBe(1);
    filters.regex = true;
    filters.text = '"op":"(ack|subscribe)"';
    await filters.apply();
    expect(shown(filters)).toEqual([0, 1]);
    filters.text = '(unclosed';
    await filters.apply();
    expect(filters.error).toMatch(/Invalid regular expression/);
    expect(shown(filters)).toEqual([0, 1]);
  });

  it('combines direction, opcodes, connection and findings only', async () => {
    const { filters } = setup();
    filters.dir = 'server';
    await filters.apply();
    expect(shown(filters)).toEqual([1, 2, 4]);
    filters.toggleOpcode(9);
    filters.toggleOpcode(10);
    await filters.apply();
    expect(shown(filters)).toEqual([4]);
    filters.dir = '';
    await filters.apply();
    expect(shown(filters)).toEqual([3, 4]);
    filters.opcodes = [];
    filters.conn = 1;
    await filters.apply();
    expect(shown(filters)).toEqual([0, 1, 5]);
    filters.conn = null;
    filters.findingsOnly = true;
    await filters.apply();
    expect(shown(filters)).toEqual([4]);
    filters.clear();
    await filters.apply();
    expect(filters.positions).toBeNull();
    expect(filters.shown).toBe(6);
  });

  it('matches rows that arrive after the filter was set', async () => {
    const { filters, messages } = setup();
    filters.dir = 'client';
    await filters.apply();
    expect(shown(filters)).toEqual([0, 3, 5]);
    const from = messages.append([makeRow(6, { dir: 'client' }), makeRow(7, { dir: 'server' })]);
    filters.onRowsAppended(from);
    expect(shown(filters)).toEqual([0, 3, 5, 6]);
  });

  it('asks the engine when the session holds more rows than the local limit', async () => {
    const { filters, api } = setup();
    filters.localLimit = 3;
    filters.text = 'op';
    await filters.apply();
    expect(filters.mode).toBe('engine');
    const q = api.calls.find((c) => c.name === 'queryMessages');
    expect(q?.args[0]).toMatchObject({ text: 'op', regex: false });
    expect(shown(filters)).toEqual([0, 1]);
  });

  it('keeps only the newest answer when queries overlap', async () => {
    const { filters, api } = setup();
    filters.localLimit = 0;
    const slow = api.queryMessages;
    let release: () => void = () => {};
    api.queryMessages = (q) =>
      q.text === 'ack' ? new Promise((res) => (release = () => void slow(q).then(res))) : slow(q);
    filters.text = 'ack';
    const first = filters.apply();
    filters.text = 'bye';
    await filters.apply();
    release();
    await first;
    expect(shown(filters)).toEqual([5]);
  });
});

describe('filters store, text search', () => {
  it('asks the engine for text whatever the session size: it searches whole payloads, the page has previews only', async () => {
    const { filters, api } = setup();
    // the word is at offset 300 of message 1's payload: no preview holds it
    api.queryMessages = async (q) => {
      api.calls.push({ name: 'queryMessages', args: [q] });
      return { ok: true, value: { indexes: Uint32Array.from(q.text === 'deep-word' ? [1] : []), total: 6 } };
    };
    filters.text = 'deep-word';
    await filters.apply();
    expect(api.calls.filter((c) => c.name === 'queryMessages')).toHaveLength(1);
    expect(shown(filters)).toEqual([1]);
    // without text a small session is still filtered in the page
    filters.text = '';
    filters.dir = 'server';
    await filters.apply();
    expect(api.calls.filter((c) => c.name === 'queryMessages')).toHaveLength(1);
    expect(shown(filters)).toEqual([1, 2, 4]);
  });
});
