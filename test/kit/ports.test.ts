import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ephemeralLow, portBlock } from './ports';

describe('test ports', () => {
  it('reads the ephemeral range of this machine and keeps port blocks below it', () => {
    const low = ephemeralLow();
    expect(low).toBe(Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]));
    const first = portBlock(20000, 24);
    expect(first).toBe(20000 + (process.pid % 200) * 24);
    expect(first + 24).toBeLessThanOrEqual(low);
    expect(() => portBlock(low - 1, 24)).toThrow(/ephemeral range/);
  });
});
