/**
 * UDP flows: a `connection` event for the first datagram of a 4-tuple (its sender taken as
 * the client), then one `datagram` event per datagram. Nothing is decoded above UDP yet.
 *
 * Memory: one small entry per flow, for the capture's lifetime (flows are cheap and few in
 * the captures this inspector is for).
 */
import type { Direction, EngineEvent } from '../../shared/events';
import type { DecodedPacket, PacketRecord } from '../types';
import { endpointString, FlowMap, type Endpoint } from './flow-map';

interface UdpFlow {
  id: number;
  client: Endpoint;
}

export class UdpFlows {
  private readonly map = new FlowMap<UdpFlow>();

  constructor(
    private readonly emit: (ev: EngineEvent) => void,
    private readonly nextId: () => number,
  ) {}

  packet(d: DecodedPacket, rec: PacketRecord): void {
    let flow = this.map.get(d.src, d.dst, d.srcPort, d.dstPort);
    if (!flow) {
      const v6 = d.ipVersion === 6;
      const client: Endpoint = { addr: d.src, port: d.srcPort, v6 };
      flow = { id: this.nextId(), client };
      this.map.set(d.src, d.dst, d.srcPort, d.dstPort, flow);
      this.map.set(d.dst, d.src, d.dstPort, d.srcPort, flow);
      this.emit({
        type: 'connection',
        id: flow.id,
        transport: 'udp',
        client: endpointString(client),
        server: endpointString({ addr: d.dst, port: d.dstPort, v6 }),
        ts: rec.ts,
        packet: rec.no,
        roleBy: 'port',
      });
    }
    const dir: Direction = flow.client.port === d.srcPort && flow.client.addr === d.src ? 'client' : 'server';
    this.emit({ type: 'datagram', conn: flow.id, dir, ts: rec.ts, length: d.payload.length + d.missing, packet: rec.no });
  }
}
