/**
 * The wss:// case of `npm run bench`: a generated capture of WebSocket connections inside TLS
 * (scripts/gen-capture.ts with a `TlsWrap`), half TLS 1.3 TLS_AES_128_GCM_SHA256 and half
 * TLS 1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, with the NSS key log of every session beside
 * it, decoded by `wsscope read FILE --keylog KEYS` and by `tshark -o tls.keylog_file:KEYS`,
 * timed in the same run. Targets (issue 12): >= 10x tshark's throughput, peak RSS <= 300 MB.
 *
 *   const r = await runTlsBench({ dataDir, sizeMB: 100, seed: 1, runs: 2, keep: false, skipTshark: false });
 *   r.targets  // "- target ..." lines for the bench summary
 *
 * The sessions are made here, deterministic from the seed: random secrets (TLS 1.3: the four
 * traffic secrets; TLS 1.2: the master secret) go into the key log, the record keys are
 * derived from them with the engine's HKDF-Expand-Label / PRF (RFC 8446 section 7.3, RFC 5246
 * section 6.3), and every record is sealed with node:crypto. The handshake is the minimum a
 * decoder needs: ClientHello, ServerHello, (TLS 1.3) EncryptedExtensions with ALPN and
 * Finished under the handshake keys, (TLS 1.2) ChangeCipherSpec and Finished each way. tshark
 * decrypting the same file with the same key log, and its WebSocket frame count matching the
 * generator's truth, is the independent check that the sessions are well formed.
 *
 * Memory: one sealer (keys, sequence number) per connection and direction while generating.
 */
import { createCipheriv } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hkdfExpandLabel, prf12 } from '../../engine/tls/crypto';
import { generateCapture, truthPath, type CaptureTruth, type TlsWrap } from '../gen-capture';
import { benchScale, countsCheck, type ScaleCapture } from './bench-scale';
import { measure, measureAlternating, measureBest, median, roundRatios } from './measure';
import { tsharkOpcodeCount } from './tshark-ws';
import { extraCaCerts, launcherCli, summaryMessages, wsscopeCli } from './wsscope-cli';
import { Prng } from './prng';
import type { DecodeChildResult } from './decode-child';

const MB = 1e6;
const ROOT = join(import.meta.dirname, '..', '..');
/** RFC 8446 section 5.1: at most 2^14 bytes of plaintext per record */
const MAX_PLAINTEXT = 16384;
const TARGET_RATIO = 10;
const TARGET_RSS = 300 * MB;

const be16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const vec = (lenBytes: 1 | 2, b: Buffer): Buffer => Buffer.concat([lenBytes === 1 ? Buffer.from([b.length]) : be16(b.length), b]);
const ext = (type: number, body: Buffer): Buffer => Buffer.concat([be16(type), vec(2, body)]);
const hs = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type]), u24(body.length), body]);
const record = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, 3, 3]), be16(body.length), body]);
const ALPN = ext(16, vec(2, vec(1, Buffer.from('http/1.1'))));

/** AES-GCM record sealing for one direction of one session */
class Sealer {
  private seq = 0n;
  constructor(
    private readonly tls13: boolean,
    private readonly key: Buffer,
    private readonly iv: Buffer,
  ) {}

  /** one record of `type` around `content` */
  seal(type: number, content: Uint8Array): Buffer {
    const seq = this.seq++;
    const s = Buffer.alloc(8);
    s.writeBigUInt64BE(seq);
    const cipher = this.key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
    if (this.tls13) {
      // RFC 8446 section 5.2-5.3: TLSInnerPlaintext (content, type), header as AAD, nonce = iv xor seq
      const nonce = Buffer.from(this.iv);
      for (let i = 0; i < 8; i++) nonce[4 + i] ^= s[i];
      const header = Buffer.from([23, 3, 3, 0, 0]);
      header.writeUInt16BE(content.length + 1 + 16, 3);
      const c = createCipheriv(cipher, this.key, nonce);
      c.setAAD(header);
      const body = Buffer.concat([c.update(content), c.update(Buffer.from([type])), c.final(), c.getAuthTag()]);
      return Buffer.concat([header, body]);
    }
    // RFC 5288 section 3: nonce = 4-byte salt + 8-byte explicit part (the sequence number here);
    // RFC 5246 section 6.2.3.3: AAD = seq + type + version + plaintext length
    const nonce = Buffer.concat([this.iv, s]);
    const aad = Buffer.concat([s, Buffer.from([type, 3, 3]), be16(content.length)]);
    const c = createCipheriv(cipher, this.key, nonce);
    c.setAAD(aad);
    const body = Buffer.concat([s, c.update(content), c.final(), c.getAuthTag()]);
    return record(type, body);
  }

  /** application data, cut into records of at most 2^14 bytes */
  sealAll(plaintext: Uint8Array): Buffer {
    const out: Buffer[] = [];
    for (let at = 0; at < plaintext.length; at += MAX_PLAINTEXT) out.push(this.seal(23, plaintext.subarray(at, at + MAX_PLAINTEXT)));
    return Buffer.concat(out);
  }
}

/** The TLS side of the generated capture: sessions by connection number, and their key log. */
export class BenchTls implements TlsWrap {
  private readonly rng: Prng;
  private readonly sealers = new Map<number, { client: Sealer; server: Sealer }>();
  readonly keylog: string[] = ['# wsscope bench: the secrets of every session in the generated wss capture'];

  constructor(seed: number) {
    this.rng = new Prng(seed ^ 0x7e5);
  }

  private bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    this.rng.fill(b, 0, n);
    return b;
  }

  handshake(conn: number): Array<['client' | 'server', Uint8Array]> {
    const tls13 = conn % 2 === 0;
    const cr = this.bytes(32);
    const sr = this.bytes(32);
    const hex = cr.toString('hex');
    const sni = ext(0, vec(2, Buffer.concat([Buffer.from([0]), vec(2, Buffer.from('bench.wsscope.test'))])));
    const suites = tls13 ? be16(0x1301) : be16(0xc030);
    const chExts = tls13 ? [sni, ALPN, ext(43, vec(1, be16(0x0304))), ext(51, vec(2, Buffer.concat([be16(29), vec(2, this.bytes(32))])))] : [sni, ALPN];
    const clientHello = record(22, hs(1, Buffer.concat([be16(0x0303), cr, vec(1, Buffer.alloc(0)), vec(2, suites), vec(1, Buffer.from([0])), vec(2, Buffer.concat(chExts))])));
    const shExts = tls13 ? [ext(43, be16(0x0304)), ext(51, Buffer.concat([be16(29), vec(2, this.bytes(32))]))] : [ALPN];
    const serverHello = hs(2, Buffer.concat([be16(0x0303), sr, vec(1, Buffer.alloc(0)), suites, Buffer.from([0]), vec(2, Buffer.concat(shExts))]));
    const ccs = record(20, Buffer.from([1]));
    if (tls13) {
      const secret = (label: string): Buffer => {
        const s = this.bytes(32);
        this.keylog.push(`${label} ${hex} ${s.toString('hex')}`);
        return s;
      };
      const sealer = (s: Buffer): Sealer => new Sealer(true, hkdfExpandLabel('sha256', s, 'key', new Uint8Array(0), 16), hkdfExpandLabel('sha256', s, 'iv', new Uint8Array(0), 12));
      const cHs = sealer(secret('CLIENT_HANDSHAKE_TRAFFIC_SECRET'));
      const sHs = sealer(secret('SERVER_HANDSHAKE_TRAFFIC_SECRET'));
      this.sealers.set(conn, { client: sealer(secret('CLIENT_TRAFFIC_SECRET_0')), server: sealer(secret('SERVER_TRAFFIC_SECRET_0')) });
      // RFC 8446 section 4.3.1 / 4.4.4: EncryptedExtensions (ALPN) and Finished under the handshake keys
      const flight = sHs.seal(22, Buffer.concat([hs(8, vec(2, ALPN)), hs(20, this.bytes(32))]));
      return [
        ['client', clientHello],
        ['server', Buffer.concat([record(22, serverHello), ccs, flight])],
        ['client', Buffer.concat([ccs, cHs.seal(22, hs(20, this.bytes(32)))])],
      ];
    }
    const master = this.bytes(48);
    this.keylog.push(`CLIENT_RANDOM ${hex} ${master.toString('hex')}`);
    // RFC 5246 section 6.3: key_block = PRF(master, "key expansion", server_random + client_random); no MAC keys for AEAD
    const kb = prf12('sha384', master, 'key expansion', Buffer.concat([sr, cr]), 2 * (32 + 4));
    const client = new Sealer(false, kb.subarray(0, 32), kb.subarray(64, 68));
    const server = new Sealer(false, kb.subarray(32, 64), kb.subarray(68, 72));
    this.sealers.set(conn, { client, server });
    return [
      ['client', clientHello],
      ['server', record(22, Buffer.concat([serverHello, hs(14, Buffer.alloc(0))]))],
      // ClientKeyExchange (a placeholder ECDHE point), then the client's Finished under its new keys
      ['client', Buffer.concat([record(22, hs(16, vec(1, this.bytes(65)))), ccs, client.seal(22, hs(20, this.bytes(12)))])],
      ['server', Buffer.concat([ccs, server.seal(22, hs(20, this.bytes(12)))])],
    ];
  }

  seal(conn: number, dir: 'client' | 'server', plaintext: Uint8Array): Uint8Array {
    return this.sealers.get(conn)![dir].sealAll(plaintext);
  }
}

export interface TlsBenchOptions {
  dataDir: string;
  sizeMB: number;
  seed: number;
  runs: number;
  keep: boolean;
  skipTshark: boolean;
  /** time the same traffic again at this many times the size (scripts/lib/bench-scale.ts); <= 1 skips it */
  scale?: number;
}

export interface TlsBenchResult {
  ok: boolean;
  /** "- target ..." lines for the summary */
  targets: string[];
}

/** Generate (or reuse) the wss capture and its key log; returns the paths and the truth. */
async function ensureWssCapture(o: TlsBenchOptions): Promise<{ file: string; keys: string; truth: CaptureTruth; generated: boolean }> {
  const bytes = Math.round(o.sizeMB * MB);
  const file = join(o.dataDir, `wss-seed${o.seed}-${bytes}B.pcapng`);
  const keys = `${file}.keys`;
  if (existsSync(file) && existsSync(keys) && existsSync(truthPath(file))) {
    const truth = JSON.parse(readFileSync(truthPath(file), 'utf8')) as CaptureTruth;
    if (truth.bytes === statSync(file).size && truth.seed === o.seed) return { file, keys, truth, generated: false };
  }
  const tls = new BenchTls(o.seed);
  const t0 = performance.now();
  const truth = await generateCapture({ out: file, bytes, connections: 64, seed: o.seed, format: 'pcapng', tls });
  writeFileSync(keys, tls.keylog.join('\n') + '\n', { mode: 0o600 });
  console.log(`generated ${file}: ${(truth.bytes / MB).toFixed(1)} MB, ${truth.connections} connections, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { file, keys, truth, generated: true };
}

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');

export async function runTlsBench(o: TlsBenchOptions): Promise<TlsBenchResult> {
  const { file, keys, truth, generated } = await ensureWssCapture(o);
  const problems: string[] = [];
  const rows: Array<[string, number, number, string]> = [];
  try {
    // the whole command as a user runs it; one untimed run first (page cache, CLI bundle)
    const cli = wsscopeCli('read', file, '--keylog', keys, '--summary', '--json');
    await measure(...cli);
    // the CLI and tshark in alternation (measureAlternating): the ratio is the figure
    const targs = tsharkArgs(file, keys);
    if (!o.skipTshark) await measure('tshark', targs);
    const alt = await measureAlternating(o.runs, [
      { cmd: cli[0], args: cli[1], opts: { captureStdout: true } },
      ...(o.skipTshark ? [] : [{ cmd: 'tshark', args: targs, opts: { captureStdout: true } }]),
    ]);
    const cm = alt.best[0];
    const messages = summaryMessages(cm.stdout);
    if (cm.exitCode !== 0 || messages !== truth.messages) problems.push(`CLI: exit ${cm.exitCode}, ${messages} messages (truth ${truth.messages})`);
    rows.push(['wsscope read --keylog --summary --json (CLI)', cm.wall, cm.peakRss, 'the whole command']);
    if (extraCaCerts() !== undefined) {
      const lm = await measureBest(o.runs, ...launcherCli('read', file, '--keylog', keys, '--summary', '--json'), { captureStdout: true });
      rows.push(['node scripts/wsscope.cjs read --keylog --summary --json', lm.wall, lm.peakRss, 'the launcher alone, NODE_EXTRA_CA_CERTS kept']);
    }

    // correctness, untimed: every payload per connection and direction against the truth
    const v = await measure(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/lib/decode-child.ts'), file, '--keylog', keys, '--verify', truthPath(file)], { captureStdout: true });
    const d = JSON.parse(v.stdout.trim().split('\n').pop() || '{}') as DecodeChildResult;
    if (!d.ok) problems.push(`verify run failed: ${d.error ?? ''}`);
    else {
      if (d.messages !== truth.messages || d.frames !== truth.frames) problems.push(`decoded ${d.messages} messages / ${d.frames} frames, truth ${truth.messages} / ${truth.frames}`);
      if (d.findings > 0) problems.push(`${d.findings} findings: ${JSON.stringify(d.findingIds)}`);
      problems.push(...(d.mismatches ?? []));
      rows.push(['wsscope analyzeFile (decode only, tsx child)', d.decodeSeconds, d.maxRss, 'in-process time of the verify run']);
    }

    let ratio = NaN;
    let perRound = '';
    if (!o.skipTshark) {
      const tm = alt.best[1];
      // tshark decrypted every frame: its opcode count is the generator's frame count
      const frames = tsharkOpcodeCount(tm.stdout);
      if (tm.exitCode !== 0 || frames !== truth.frames) problems.push(`tshark: exit ${tm.exitCode}, ${frames} WebSocket frames decrypted (truth ${truth.frames})`);
      rows.push(['tshark -o tls.keylog_file -Y websocket -T fields', tm.wall, tm.peakRss, `${frames} frames decrypted`]);
      ratio = tm.wall / cm.wall;
      const rr = roundRatios(alt.rounds, 1, 0);
      if (rr.length > 0) perRound = `; round by round ${rr.map((x) => `${f1(x)}x`).join(', ')} (median ${f1(median(rr))}x)`;
    }
    console.log(`\n### wss (TLS 1.3 AES-128-GCM + TLS 1.2 AES-256-GCM): ${(truth.bytes / MB).toFixed(1)} MB, ${truth.connections} connections, ${truth.messages} messages\n`);
    console.log('| run | wall s | MB/s | peak RSS MB | note |\n|---|---:|---:|---:|---|');
    for (const [name, wall, rss, note] of rows) console.log(`| ${name} | ${f2(wall)} | ${f1(truth.bytes / MB / wall)} | ${f1(rss / MB)} | ${note} |`);
    const rss = rows[0][2];
    const targets = [
      `- offline wss at ${f1(truth.bytes / MB)} MB: throughput ${f1(ratio)}x tshark (process vs process, best run of each, timed in alternation${perRound}): target >= ${TARGET_RATIO}x ${ratio >= TARGET_RATIO ? 'holds' : 'MISSED'}`,
      `- offline wss: peak RSS ${f1(rss / MB)} MB: target <= ${TARGET_RSS / MB} MB ${rss <= TARGET_RSS ? 'holds' : 'MISSED'}`,
      `- offline wss: correctness against the truth and tshark: ${problems.length === 0 ? 'OK' : `FAILED: ${problems.slice(0, 5).join('; ')}`}`,
    ];
    if (!o.skipTshark && (o.scale ?? 0) > 1 && Number.isFinite(ratio)) {
      const s = await scaleWss(o, { bytes: truth.bytes, cli, tshark: ['tshark', targs] });
      targets.push(...s.lines);
      if (s.problems.length > 0) problems.push(...s.problems);
    }
    console.log(`\n${targets.join('\n')}`);
    return { ok: problems.length === 0, targets };
  } finally {
    if (generated && !o.keep) removeWss(file, keys);
  }
}

const removeWss = (file: string, keys: string): void => {
  for (const f of [file, keys, truthPath(file)]) rmSync(f, { force: true });
};

/** tshark decrypting `file` with the key log `keys`, one line of opcodes per WebSocket packet */
const tsharkArgs = (file: string, keys: string): string[] => ['-o', `tls.keylog_file:${keys}`, '-d', 'tcp.port==8080,tls', '-r', file, '-Y', 'websocket', '-T', 'fields', '-e', 'websocket.opcode'];

/** the same wss traffic at `o.scale` times the size, CLI and tshark in alternation, with the target line for that size */
async function scaleWss(o: TlsBenchOptions, small: ScaleCapture): Promise<{ lines: string[]; problems: string[] }> {
  const big = await ensureWssCapture({ ...o, sizeMB: o.sizeMB * (o.scale ?? 1) });
  try {
    const s = await benchScale({
      label: 'wss',
      runs: o.runs,
      small,
      large: { bytes: big.truth.bytes, cli: wsscopeCli('read', big.file, '--keylog', big.keys, '--summary', '--json'), tshark: ['tshark', tsharkArgs(big.file, big.keys)] },
      check: countsCheck(big.truth),
    });
    const verdict = `- offline wss: target >= ${TARGET_RATIO}x tshark at ${f1(big.truth.bytes / MB)} MB (whole command): ${s.ratio >= TARGET_RATIO ? 'holds' : 'MISSED'}`;
    return { lines: [...s.lines.map((l) => `- offline ${l.slice(2)}`), verdict], problems: s.problems };
  } finally {
    if (big.generated && !o.keep) removeWss(big.file, big.keys);
  }
}
