/**
 * Fixed TCP ports for live tests that must know their port before anything listens on it (a
 * capture filtered on the port starts first, then the server and its client).
 *
 * They lie below the kernel's ephemeral range (Linux's net.ipv4.ip_local_port_range,
 * 32768-60999 by default), so no outgoing connection of any process on the machine is ever
 * handed one of them: a fixed port inside that range collides, now and then, with the source
 * port of some other test's client (EADDRINUSE on listen, seen in CI). Blocks are spread by
 * process id, so parallel runs of the suite do not meet either.
 */
import { readFileSync } from 'node:fs';

/** the lowest ephemeral port of this machine (32768 where the setting cannot be read) */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * The first of `size` consecutive ports of this process's block at `base`: base + (pid % 200) *
 * size. Throws when the block would reach into the ephemeral range.
 */
export function portBlock(base: number, size: number): number {
  const first = base + (process.pid % 200) * size;
  const low = ephemeralLow();
  if (first + size > low) throw new Error(`ports ${first}-${first + size - 1} reach the ephemeral range (from ${low}): choose a lower base`);
  return first;
}
