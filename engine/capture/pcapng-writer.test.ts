import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter } from './pcapng-writer';
import { CaptureParser } from './pcap-parser';
import type { CaptureInterfaceInfo, PacketRecord } from '../types';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/capture/arkime.pcapng');
const REPO = join(import.meta.dirname, '../..');

interface Rec {
  ts: number;
  linkType: number;
  data: Uint8Array;
  origLen: number;
}

function parse(bytes: Uint8Array, chunk = bytes.length): { recs: Rec[]; ifaces: CaptureInterfaceInfo[]; problems: string[] } {
  const recs: Rec[] = [];
  const ifaces: CaptureInterfaceInfo[] = [];
  const problems: string[] = [];
  const p = new CaptureParser({
    packet: (r: PacketRecord) => recs.push({ ts: r.ts, linkType: r.linkType, data: r.data.slice(), origLen: r.origLen }),
    iface: (i) => ifaces.push(i),
    problem: (x) => problems.push(`${x.kind}: ${x.text}`),
  });
  for (let o = 0; o < bytes.length; o += chunk) p.push(bytes.subarray(o, o + chunk));
  p.end();
  return { recs, ifaces, problems };
}

/** tshark's view of a file: one line per packet. */
function tshark(file: string, fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.protocols', 'tcp.seq_raw', 'tcp.len']): string[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsscope-writer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PcapngWriter', () => {
  it('re-writes a real capture so that tshark and the parser read the same packets, times and bytes', () => {
    const original = parse(readFileSync(FIXTURE));
    expect(original.recs.length).toBe(19);
    const file = join(dir, 'copy.pcapng');
    const w = PcapngWriter.create(file);
    const id = w.addInterface({ linkType: original.ifaces[0].linkType, snaplen: original.ifaces[0].snaplen, name: 'eth0', tsResolution: 6 });
    for (const r of original.recs) w.appendPacket(id, r.ts, r.data, r.origLen);
    w.close();
    expect(w.packetsWritten).toBe(19);
    expect(statSync(file).size).toBe(w.bytesWritten);

    expect(tshark(file)).toEqual(tshark(FIXTURE));
    const copy = parse(readFileSync(file));
    expect(copy.problems).toEqual([]);
    expect(copy.ifaces[0]).toMatchObject({ linkType: 1, name: 'eth0', tsResolution: 1e-6 });
    expect(copy.recs.map((r) => [r.ts, r.origLen, Buffer.from(r.data).toString('hex')])).toEqual(
      original.recs.map((r) => [r.ts, r.origLen, Buffer.from(r.data).toString('hex')]),
    );
  });

  it('writes if_name and nanosecond if_tsresol that tshark reports', () => {
    const file = join(dir, 'ns.pcapng');
    const w = PcapngWriter.create(file);
    const id = w.addInterface({ linkType: 1, snaplen: 65535, name: 'lo', description: 'Loopback', tsResolution: 9 });
    const frame = readFixtureFrame();
    w.appendPacketUnits(id, 1700000000123456789, frame, frame.length); // not exact in a double: see next line
    w.appendPacket(id, 1700000000.25, frame, frame.length + 100);
    w.close();
    const lines = tshark(file, ['frame.interface_name', 'frame.interface_description', 'frame.time_epoch', 'frame.len', 'frame.cap_len']);
    expect(lines).toHaveLength(2);
    expect(lines[0].split('\t').slice(0, 2)).toEqual(['lo', 'Loopback']);
    // 1700000000123456789 rounds to 1700000000123456768 as a double: the nine digits show it is kept as ns
    expect(lines[0].split('\t')[2]).toBe('1700000000.123456768');
    expect(lines[1].split('\t').slice(2)).toEqual(['1700000000.250000000', String(frame.length + 100), String(frame.length)]);
  });

  it('keeps packets in memory until flush, then writes whole blocks in one go', () => {
    const file = join(dir, 'flush.pcapng');
    const w = PcapngWriter.create(file);
    const id = w.addInterface({ linkType: 1, snaplen: 65535 });
    const frame = readFixtureFrame();
    const flushed: Array<[number, number]> = [];
    w.onFlush = (bytes, offset) => flushed.push([offset, bytes.length]);
    w.flush();
    const headerBytes = statSync(file).size;
    for (let i = 0; i < 3; i++) w.appendPacket(id, 1700000000 + i, frame, frame.length);
    expect(statSync(file).size).toBe(headerBytes);
    expect(w.packetsWritten).toBe(0);
    w.flush();
    expect(w.packetsWritten).toBe(3);
    expect(statSync(file).size).toBe(headerBytes + 3 * (32 + ((frame.length + 3) & ~3)));
    expect(flushed).toEqual([
      [0, headerBytes],
      [headerBytes, statSync(file).size - headerBytes],
    ]);
    expect(tshark(file)).toHaveLength(3);
    w.close();
  });

  it('hands each flushed batch over intact: later packets do not overwrite it', () => {
    const w = PcapngWriter.create(join(dir, 'handover.pcapng'));
    const id = w.addInterface({ linkType: 1, snaplen: 65535 });
    const batches: Uint8Array[] = [];
    w.onFlush = (b) => batches.push(b);
    const frame = readFixtureFrame();
    w.appendPacket(id, 1, frame, frame.length);
    w.flush();
    const first = Buffer.from(batches[0]).toString('hex');
    w.appendPacket(id, 2, new Uint8Array(frame.length).fill(0xee), frame.length);
    w.flush();
    expect(Buffer.from(batches[0]).toString('hex')).toBe(first);
    w.close();
  });

  it('leaves a file of exactly the flushed packets when the writing process is killed with SIGKILL', async () => {
    const file = join(dir, 'killed.pcapng');
    const script = join(dir, 'kill-writer.mts');
    writeFileSync(
      script,
      `import { PcapngWriter } from ${JSON.stringify(join(import.meta.dirname, 'pcapng-writer.ts'))};
const w = PcapngWriter.create(${JSON.stringify(file)});
const id = w.addInterface({ linkType: 1, snaplen: 65535, name: 'lo' });
const frame = new Uint8Array(${JSON.stringify(Array.from(readFixtureFrame()))});
for (let i = 0; i < 500; i++) w.appendPacket(id, 1700000000 + i / 1000, frame, frame.length);
w.flush();
for (let i = 0; i < 7; i++) w.appendPacket(id, 1700000001 + i / 1000, frame, frame.length);
process.stdout.write(String(w.packetsWritten) + '\\n');
setInterval(() => {}, 1000);
`,
    );
    // node itself (not the tsx wrapper), so the pid we kill is the writer's
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const gone = new Promise((r) => child.once('close', r));
    const written = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('close', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    process.kill(child.pid!, 'SIGKILL');
    await gone;
    expect(written).toBe(500);
    expect(tshark(file)).toHaveLength(500);
    const back = parse(readFileSync(file));
    expect(back.problems).toEqual([]);
    expect(back.recs).toHaveLength(500);
  });
});

let frameCache: Uint8Array | undefined;
/** One real Ethernet/IPv4/TCP frame from the fixture. */
function readFixtureFrame(): Uint8Array {
  frameCache ??= parse(readFileSync(FIXTURE)).recs[3].data;
  return frameCache;
}

describe('PcapngWriter on a disk that refuses writes', () => {
  it('throws the write error once, then drops and counts what it is given, and close() only closes', () => {
    // /dev/full: every write(2) fails with ENOSPC, as on a full disk
    const w = new PcapngWriter(openSync('/dev/full', 'w'), true);
    w.addInterface({ linkType: 1, snaplen: 65535 });
    w.appendPacket(0, 1, new Uint8Array(60), 60);
    expect(() => w.flush()).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(w.failure?.code).toBe('ENOSPC');
    expect(w.packetsLost).toBe(1);
    w.appendPacket(0, 2, new Uint8Array(60), 60);
    w.appendRaw(new Uint8Array(32));
    expect(w.pending).toBe(0);
    expect(w.flush()).toBe(0);
    expect(w.packetsLost).toBe(2);
    expect(w.bytesWritten).toBe(0);
    expect(() => w.close()).not.toThrow();
  });
});
