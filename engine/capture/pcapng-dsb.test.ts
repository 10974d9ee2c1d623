/**
 * PcapngWriter.appendSecrets: Decryption Secrets Blocks (pcapng section 4.7) as wsscope
 * capture --keylog embeds them, read back by our parser and by Wireshark's own tools (tshark
 * reads the file; `editcap --discard-all-secrets` finds the blocks and drops them). That tshark
 * decrypts with them is checked end to end in test/tls-peers.test.ts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter, SECRETS_TLS_KEY_LOG } from './pcapng-writer';
import { CaptureParser } from './pcap-parser';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-dsb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyLines = (n: number): string => `CLIENT_RANDOM ${'ab'.repeat(32)} ${'0'.repeat(n)}\n`;

describe('pcapng Decryption Secrets Blocks', () => {
  it('writes key log text of any length as DSBs between packets, which the parser and Wireshark read back', () => {
    const file = join(dir, 'dsb.pcapng');
    const w = new PcapngWriter(openSync(file, 'wx', 0o600), true);
    const iface = w.addInterface({ linkType: 1, snaplen: 65535 });
    // 97 and 98 hex digits: secrets lengths that need 3 and 2 bytes of padding
    const texts = [keyLines(96), keyLines(97).trimEnd(), keyLines(98)];
    w.appendSecrets(SECRETS_TLS_KEY_LOG, new TextEncoder().encode(texts[0]));
    w.appendPacket(iface, 1.5, new Uint8Array(60), 60);
    w.appendSecrets(SECRETS_TLS_KEY_LOG, new TextEncoder().encode(texts[1]));
    w.appendSecrets(SECRETS_TLS_KEY_LOG, new TextEncoder().encode(texts[2]));
    w.close();
    const bytes = readFileSync(file);
    const got: Array<[number, string]> = [];
    let packets = 0;
    const problems: string[] = [];
    const p = new CaptureParser({ packet: () => packets++, secrets: (type, data) => got.push([type, Buffer.from(data).toString('latin1')]), problem: (x) => problems.push(x.text) });
    p.push(bytes);
    p.end();
    expect(problems).toEqual([]);
    expect(packets).toBe(1);
    expect(got).toEqual(texts.map((t) => [SECRETS_TLS_KEY_LOG, t]));
    // Wireshark's reader: the file is valid, one packet; editcap sees the secrets and drops them
    expect(execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' })).toBe('1\n');
    const stripped = join(dir, 'stripped.pcapng');
    execFileSync('editcap', ['--discard-all-secrets', file, stripped]);
    expect(readFileSync(stripped).length).toBe(bytes.length - texts.reduce((n, t) => n + 20 + ((t.length + 3) & ~3), 0));
  });
});
