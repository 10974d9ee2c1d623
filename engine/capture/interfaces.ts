/**
 * Capture interfaces: libpcap's device list (through cap, loaded lazily by live-cap.ts)
 * joined with the kernel's view on Linux (/sys/class/net/IF: flags for up/loopback,
 * operstate/carrier for running), because cap only reports PCAP_IF_LOOPBACK. Without cap
 * the list comes from /sys/class/net and os.networkInterfaces() alone.
 *
 * Returns plain InterfaceInfo objects (shared/api.ts); nothing is cached.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { InterfaceInfo } from '../../shared/api';
import { capDeviceList } from './live-cap';

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

export function listInterfaces(): InterfaceInfo[] {
  const os = networkInterfaces();
  const out: InterfaceInfo[] = [];
  const seen = new Set<string>();
  const devices = capDeviceList();
  if (devices) {
    for (const d of devices) {
      const k = kernelState(d.name);
      const loopback = d.flags?.includes('PCAP_IF_LOOPBACK') === true || k?.loopback === true;
      out.push({
        name: d.name,
        description: d.description ?? '',
        addresses: d.addresses.map((a) => a.addr).filter(Boolean),
        loopback,
        // pseudo-devices (any, nflog, dbus-...) have no kernel state; libpcap lists them
        // because they can be opened, so count them as up
        up: k ? k.up : true,
        running: k ? k.running : true,
      });
      seen.add(d.name);
    }
  }
  let sysNames: string[] = [];
  try {
    sysNames = readdirSync('/sys/class/net');
  } catch {
    // not Linux
  }
  for (const name of new Set([...sysNames, ...Object.keys(os)])) {
    if (seen.has(name)) continue;
    const k = kernelState(name);
    const addrs = os[name] ?? [];
    out.push({
      name,
      description: '',
      addresses: addrs.map((a) => a.address),
      loopback: k ? k.loopback : addrs.some((a) => a.internal),
      up: k ? k.up : true,
      running: k ? k.running : true,
    });
  }
  return out;
}
