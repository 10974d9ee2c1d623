/**
 * The fuzzer's TLS shape: wss:// captures generated for the run (scripts/gen-capture.ts with
 * the bench's TLS sessions, scripts/lib/bench-tls.ts: TLS 1.3 AES-128-GCM and TLS 1.2
 * AES-256-GCM), so mutations reach the record layer, the key schedules and decryption, and
 * the WebSocket inside, not only "no key for this session". Two files:
 *  - `wss-keys.pcapng` with its key log beside it as `wss-keys.pcapng.keys`, which the fuzz
 *    worker hands to every decode of that source (so record-level mutations, which rewrite
 *    the packets only, still decrypt);
 *  - `wss-dsb.pcapng`, the same capture with the key log embedded as a pcapng Decryption
 *    Secrets Block after the interface block (byte-level mutations damage the secrets too).
 * Deterministic (fixed seeds); the caller owns `dir` and deletes it.
 */
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcapngWriter, SECRETS_TLS_KEY_LOG } from '../../engine/capture/pcapng-writer';
import { generateCapture, truthPath } from '../gen-capture';
import { BenchTls } from './bench-tls';

/** the sidecar key log path of a source */
export function sidecarKeys(source: string): string {
  return `${source}.keys`;
}

/** the key log text the worker gives every decode of `source`, when it has one */
export function readSidecarKeys(source: string): string | undefined {
  const p = sidecarKeys(source);
  return existsSync(p) ? readFileSync(p, 'latin1') : undefined;
}

export async function tlsShapeSources(dir: string): Promise<string[]> {
  const file = join(dir, 'wss-keys.pcapng');
  const tls = new BenchTls(11);
  await generateCapture({ out: file, bytes: 120_000, connections: 4, seed: 11, format: 'pcapng', tls });
  rmSync(truthPath(file), { force: true });
  const keys = `${tls.keylog.join('\n')}\n`;
  writeFileSync(sidecarKeys(file), keys);
  // the Decryption Secrets Block alone (a writer with no section header of its own)
  const dsbFile = join(dir, 'dsb.block');
  const w = new PcapngWriter(openSync(dsbFile, 'w'), true, null);
  w.appendSecrets(SECRETS_TLS_KEY_LOG, Buffer.from(keys, 'latin1'));
  w.close();
  // gen-capture's pcapng opens with a 28-byte SHB and a 32-byte IDB (scripts/lib/capture-writer.ts)
  const cap = readFileSync(file);
  const embedded = join(dir, 'wss-dsb.pcapng');
  writeFileSync(embedded, Buffer.concat([cap.subarray(0, 60), readFileSync(dsbFile), cap.subarray(60)]));
  rmSync(dsbFile);
  return [file, embedded];
}
