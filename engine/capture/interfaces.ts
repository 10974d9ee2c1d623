/**
 * Capture interfaces: libpcap's device list (through cap, loaded lazily by live-cap.ts)
 * joined with the kernel's view on Linux (sys-net.ts: flags for up/loopback, operstate/carrier
 * for running), because cap only reports PCAP_IF_LOOPBACK. Without cap the list comes from
 * /sys/class/net and os.networkInterfaces() alone.
 *
 * Returns plain InterfaceInfo objects (shared/api.ts); nothing is cached.
 */
import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { InterfaceInfo } from '../../shared/api';
import { capDeviceList } from './live-cap';
import { kernelState } from './sys-net';

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
