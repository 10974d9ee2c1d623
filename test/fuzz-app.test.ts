/**
 * The fuzzer's subprotocol shape (scripts/lib/fuzz-app.ts): well-framed WebSocket messages
 * with mutated Socket.IO, MQTT, STOMP, GraphQL, JSON-RPC, SignalR, Phoenix, WAMP and Action
 * Cable content. 600 inputs through the engine: no internal error anywhere (a decoder that
 * throws is caught by the stack's boundary and counted here), every input decoded to its
 * summary, and the inputs do reach the decoders (packets decoded, malformed ones reported).
 */
import { describe, it, expect } from 'vitest';
import { CaptureParser } from '../engine/capture/pcap-parser';
import { Pipeline } from '../engine/pipeline';
import { toWire } from '../engine/cli/json';
import type { EngineEvent } from '../shared/events';
import { appInput } from '../scripts/lib/fuzz-app';

describe('the fuzzer\'s subprotocol shape', () => {
  it('gives findings at most, never an internal error, over 600 mutated conversations of every decoder', () => {
    const internal: string[] = [];
    let packets = 0;
    let malformed = 0;
    const protocols = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const { bytes, desc } = appInput(0x5eed + i);
      const events: EngineEvent[] = [];
      const pipe = new Pipeline(
        (ev) => {
          events.push(ev);
          JSON.stringify(toWire(ev));
        },
        { onInternalError: (e) => internal.push(`${desc}: ${String(e)}`) },
      );
      const parser = new CaptureParser({ packet: (r) => pipe.packet(r), problem: (p) => pipe.problem(p) });
      parser.push(bytes);
      parser.end();
      pipe.finish();
      expect(events.at(-1)?.type, desc).toBe('summary');
      for (const e of events) {
        if (e.type !== 'message') continue;
        for (const p of e.app ?? []) {
          packets++;
          protocols.add(p.protocol);
        }
      }
      for (const e of events) {
        if (e.type !== 'finding') continue;
        if (e.id === 'subprotocol-malformed') malformed++;
        expect(e.id, desc).not.toBe('decoder-error');
      }
    }
    expect(internal).toEqual([]);
    expect(packets).toBeGreaterThan(600);
    expect(malformed).toBeGreaterThan(100);
    expect([...protocols].sort()).toEqual(['actioncable', 'graphql-ws', 'json-rpc', 'mqtt', 'phoenix', 'signalr', 'socket.io', 'stomp', 'wamp']);
  });
});
