/**
 * UDP flows: a `connection` event for the first datagram of a 4-tuple (its sender taken as
 * the client), then one `datagram` event per datagram. Nothing is decoded above UDP yet.
 *
 * Memory: one small entry per flow, at most `maxFlows` of them: over the cap the least
 * recently active flow is forgotten (counted in `evicted`; a later datagram of it starts a new
 * flow). Least recently active as in tcp-flows.ts: a datagram stores its time on the flow,
 * the queue is in (re)queueing order and a head seen since it was queued gets a second chance.
 */
import type { Direction, EngineEvent } from '../../shared/events';
import type { DecodedPacket, PacketRecord } from '../types';
import { endpointString, FlowMap, type Endpoint } from './flow-map';

interface UdpFlow {
  id: number;
  /** the client (the first datagram's sender) */
  a: Endpoint;
  /** the server */
  b: Endpoint;
  lastTs: number;
  queuedTs: number;
  /** the flow map's (flow-map.ts) */
  mapKey: number;
}

export class UdpFlows {
  private readonly map = new FlowMap<UdpFlow>();
  /** flows in (re)queueing order from `head` on; compacted once half of it is spent */
  private readonly queue: UdpFlow[] = [];
  private head = 0;
  /** flows forgotten over the cap */
  evicted = 0;

  constructor(
    private readonly emit: (ev: EngineEvent) => void,
    private readonly nextId: () => number,
    private readonly maxFlows = Infinity,
  ) {}

  /** over the cap: forget the least recently active flow */
  private evictOne(): void {
    const q = this.queue;
    while (this.head < q.length) {
      const f = q[this.head++];
      if (f.lastTs > f.queuedTs) {
        f.queuedTs = f.lastTs;
        q.push(f);
        continue;
      }
      this.map.delete(f);
      this.evicted++;
      break;
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      q.splice(0, this.head);
      this.head = 0;
    }
  }

  packet(d: DecodedPacket, rec: PacketRecord): void {
    let flow = this.map.get(d.src, d.dst, d.srcPort, d.dstPort);
    if (!flow) {
      if (this.queue.length - this.head >= this.maxFlows) this.evictOne();
      const v6 = d.ipVersion === 6;
      const client: Endpoint = { addr: d.src, port: d.srcPort, v6 };
      const server: Endpoint = { addr: d.dst, port: d.dstPort, v6 };
      flow = { id: this.nextId(), a: client, b: server, lastTs: rec.ts, queuedTs: rec.ts, mapKey: 0 };
      this.queue.push(flow);
      this.map.add(flow);
      this.emit({
        type: 'connection',
        id: flow.id,
        transport: 'udp',
        client: endpointString(client),
        server: endpointString(server),
        ts: rec.ts,
        packet: rec.no,
        roleBy: 'port',
      });
    }
    flow.lastTs = rec.ts;
    const dir: Direction = flow.a.port === d.srcPort && flow.a.addr === d.src ? 'client' : 'server';
    this.emit({ type: 'datagram', conn: flow.id, dir, ts: rec.ts, length: d.payload.length + d.missing, packet: rec.no });
  }
}
