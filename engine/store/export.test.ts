/**
 * Exports of a message that is not whole: the NDJSON line and the HAR item say so, on a
 * real capture whose snap length cut a message (test/corpus/pcap-caplen-lt-len.pcap: a
 * 300-byte server message of which 242 bytes were captured).
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { SessionStore } from './session-store';
import { MemorySink, writeHar, writeNdjson } from './export';
import { analyzeFile } from '../pipeline';
import { CORPUS } from '../../test/kit/paths';

const CUT = join(CORPUS, 'pcap-caplen-lt-len.pcap');

async function load(): Promise<SessionStore> {
  const s = new SessionStore(1);
  await analyzeFile(CUT, (ev) => s.ingest(ev));
  return s;
}

describe('exports of a truncated message', () => {
  it('NDJSON: truncated and wireLength on the cut message only', async () => {
    const s = await load();
    const out = new MemorySink();
    await writeNdjson(s, out);
    const messages = Buffer.from(out.bytes())
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.type === 'message');
    const cut = messages.filter((m) => m.truncated === true);
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatchObject({ dir: 'server', opcode: 2, length: 242, truncated: true, wireLength: 300 });
    expect(Buffer.from(cut[0].base64 as string, 'base64').length).toBe(242);
    // whole messages carry neither field
    for (const m of messages.filter((x) => x !== cut[0])) {
      expect(m).not.toHaveProperty('truncated');
      expect(m).not.toHaveProperty('wireLength');
    }
    s.close();
  });

  it('HAR: _wsscopeTruncated, _wsscopeLength and _wsscopeWireLength on the cut message only', async () => {
    const s = await load();
    const out = new MemorySink();
    await writeHar(s, out);
    const har = JSON.parse(Buffer.from(out.bytes()).toString('utf8')) as { log: { entries: Array<{ _webSocketMessages: Array<Record<string, unknown>> }> } };
    const items = har.log.entries.flatMap((e) => e._webSocketMessages);
    const cut = items.filter((m) => m._wsscopeTruncated === true);
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatchObject({ type: 'receive', opcode: 2, _wsscopeTruncated: true, _wsscopeLength: 242, _wsscopeWireLength: 300 });
    expect(Buffer.from(cut[0].data as string, 'base64').length).toBe(242);
    expect(items.filter((m) => '_wsscopeLength' in m || '_wsscopeWireLength' in m)).toHaveLength(1);
    s.close();
  });
});
