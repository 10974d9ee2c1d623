/**
 * Benchmark floor: read a file start to end the way the engine's FileSource does (1 MiB
 * chunks through a FileHandle, two buffers, next read overlapped with "work"), touch nothing,
 * and print one JSON line: { seconds, bytes, maxRss }.
 *
 *   node --import tsx scripts/lib/read-child.ts FILE
 *
 * Memory: two 1 MiB buffers.
 */
import { open } from 'node:fs/promises';

const CHUNK = 1 << 20;

async function main(file: string): Promise<void> {
  const t0 = performance.now();
  const fh = await open(file, 'r');
  const bufs = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let pos = 0;
  let i = 0;
  let pending = fh.read(bufs[0]!, 0, CHUNK, 0);
  for (;;) {
    const r = (await pending).bytesRead;
    if (r === 0) break;
    pos += r;
    i ^= 1;
    pending = fh.read(bufs[i]!, 0, CHUNK, pos);
  }
  await fh.close();
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ seconds, bytes: pos, maxRss: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: read-child FILE\n');
  process.exitCode = 2;
} else {
  void main(file);
}
