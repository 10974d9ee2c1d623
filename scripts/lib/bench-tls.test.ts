import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCapture } from '../gen-capture';
import { BenchTls } from './bench-tls';
import { analyzeFile } from '../../engine/pipeline';
import { KeyLog } from '../../engine/tls/keylog';
import type { TlsEvent } from '../../shared/events';

const dir = mkdtempSync(join(tmpdir(), 'wsscope-bench-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the generated wss bench capture', () => {
  it('decrypts whole, TLS 1.3 and TLS 1.2 alike, in wsscope and in tshark with its key log', async () => {
    const file = join(dir, 'wss.pcapng');
    const keys = join(dir, 'wss.keys');
    const tls = new BenchTls(7);
    const truth = await generateCapture({ out: file, bytes: 600_000, connections: 4, seed: 7, format: 'pcapng', tls });
    writeFileSync(keys, tls.keylog.join('\n'));
    const keyLog = new KeyLog();
    expect(keyLog.addText(tls.keylog.join('\n'), 'bench')).toEqual([]);
    const events: Array<{ type: string }> = [];
    let messages = 0;
    await analyzeFile(file, (e) => (e.type === 'message' ? messages++ : events.push(e)), { keyLog });
    expect(events.filter((e): e is TlsEvent => e.type === 'tls').map((t) => [t.version, t.cipherSuite, t.alpn, t.decrypted])).toEqual([
      ['TLS 1.3', 'TLS_AES_128_GCM_SHA256', 'http/1.1', true],
      ['TLS 1.2', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'http/1.1', true],
      ['TLS 1.3', 'TLS_AES_128_GCM_SHA256', 'http/1.1', true],
      ['TLS 1.2', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'http/1.1', true],
    ]);
    expect(messages).toBe(truth.messages);
    expect(events.filter((e) => e.type === 'finding')).toEqual([]);
    const out = execFileSync('tshark', ['-o', `tls.keylog_file:${keys}`, '-d', 'tcp.port==8080,tls', '-r', file, '-Y', 'websocket', '-T', 'fields', '-e', 'websocket.opcode'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(out.split(/[\n,]/).filter((x) => x !== '')).toHaveLength(truth.frames);
  });
});
