/**
 * The kernel's view of a network device on Linux, read from /sys/class/net/IF (sysfs-class-net
 * ABI): flags for up/loopback, operstate and carrier for running, the MTU.
 *
 * Contract: every call reads /sys afresh (nothing is cached) and returns null when /sys does
 * not know the device (not Linux, a pseudo-device such as libpcap's `any`, a name that tries
 * to leave /sys/class/net). It imports nothing from the capture backends, so both the
 * interface list (interfaces.ts) and the `cap` helper (live-cap.ts) can use it without
 * depending on each other.
 */
import { readFileSync } from 'node:fs';

/** Linux netdevice flags (include/uapi/linux/if.h). */
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;

function readSys(iface: string, file: string): string | null {
  // names come from libpcap / the kernel, but never let one climb out of /sys/class/net
  if (iface.includes('/') || iface.startsWith('.')) return null;
  try {
    return readFileSync(`/sys/class/net/${iface}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Kernel state of a network device, or null when /sys does not know it (not Linux, pseudo-device). */
export function kernelState(iface: string): { up: boolean; running: boolean; loopback: boolean } | null {
  const flagsText = readSys(iface, 'flags');
  if (flagsText === null) return null;
  const flags = Number.parseInt(flagsText, 16);
  const up = (flags & IFF_UP) !== 0;
  const oper = readSys(iface, 'operstate');
  // /sys flags omit IFF_RUNNING (it is computed from the carrier): lo reports operstate
  // "unknown" with carrier 1, a physical link "up"
  const running = up && ((flags & IFF_RUNNING) !== 0 || oper === 'up' || (oper === 'unknown' && readSys(iface, 'carrier') === '1'));
  return { up, running, loopback: (flags & IFF_LOOPBACK) !== 0 };
}

/** The interface's MTU from /sys (Linux), or null. */
export function interfaceMtu(iface: string): number | null {
  const t = readSys(iface, 'mtu');
  const n = t === null ? NaN : Number(t);
  return Number.isFinite(n) ? n : null;
}
