/**
 * One hand-crafted violation per finding id the WebSocket layer emits: the id appears with its
 * severity and the direction of the side at fault, and a clean exchange emits none of them.
 */
import { describe, it, expect } from 'vitest';
import { deflateRawSync, constants } from 'node:zlib';
import type { Direction, Severity } from '../../shared/events';
import { concat as concatAll } from '../../test/kit/bytes';
import { cf, MASK, sf, wsFrame } from '../../test/kit/websocket';
import { run, upgradeRequest, upgradeResponse, type Step } from '../../test/kit/session';
import type { SessionOptions } from './session';

const PMD = 'Sec-WebSocket-Extensions: permessage-deflate';
const open = (req: string[] = [], res: string[] = []): Step[] => [
  ['client', upgradeRequest(req)],
  ['server', upgradeResponse(res)],
];
const openPmd = (): Step[] => open([PMD], [PMD]);
const deflate = (s: string): Uint8Array => {
  const d = deflateRawSync(Buffer.from(s), { finishFlush: constants.Z_SYNC_FLUSH });
  return d.subarray(0, d.length - 4); // RFC 7692 section 7.2.1: the sender drops 00 00 ff ff
};

interface Case {
  id: string;
  severity: Severity;
  dir: Direction | undefined;
  name: string;
  steps: Step[];
  opts?: Partial<SessionOptions>;
}

const cases: Case[] = [
  { id: 'unmasked-client-frame', severity: 'error', dir: 'client', name: 'a client text frame without a mask', steps: [...open(), ['client', sf(1, 'hi')]] },
  { id: 'masked-server-frame', severity: 'error', dir: 'server', name: 'a masked server frame', steps: [...open(), ['server', wsFrame({ opcode: 1, payload: 'hi', mask: MASK })]] },
  { id: 'reserved-opcode', severity: 'error', dir: 'client', name: 'opcode 3', steps: [...open(), ['client', cf(3, 'x')]] },
  { id: 'rsv-without-extension', severity: 'error', dir: 'server', name: 'RSV1 without permessage-deflate', steps: [...open(), ['server', sf(1, 'hi', { rsv1: true })]] },
  { id: 'rsv1-on-continuation', severity: 'error', dir: 'client', name: 'RSV1 on a continuation frame', steps: [...openPmd(), ['client', concatAll([cf(1, deflate('ab'), { fin: false, rsv1: true }), cf(0, '', { rsv1: true })])]] },
  { id: 'rsv1-on-control-frame', severity: 'error', dir: 'server', name: 'RSV1 on a ping', steps: [...openPmd(), ['server', sf(9, 'p', { rsv1: true })]] },
  { id: 'control-frame-too-long', severity: 'error', dir: 'server', name: 'a 126-byte close payload', steps: [...open(), ['server', sf(8, concatAll([new Uint8Array([3, 232]), new Uint8Array(124).fill(0x61)]))]] },
  { id: 'fragmented-control-frame', severity: 'error', dir: 'client', name: 'a ping with FIN clear', steps: [...open(), ['client', cf(9, 'p', { fin: false })]] },
  { id: 'non-minimal-length', severity: 'warning', dir: 'server', name: 'length 5 in the 16-bit form', steps: [...open(), ['server', sf(1, 'hello', { lenForm: 16 })]] },
  { id: 'length-high-bit-set', severity: 'error', dir: 'server', name: 'a 64-bit length with the top bit set', steps: [...open(), ['server', wsFrame({ opcode: 2, declared: 1n << 63n })]] },
  { id: 'frame-after-close', severity: 'error', dir: 'client', name: 'a text frame after the client close', steps: [...open(), ['client', concatAll([cf(8, new Uint8Array([3, 232])), cf(1, 'late')])]] },
  { id: 'zero-mask-key', severity: 'info', dir: 'client', name: 'masking key 00000000', steps: [...open(), ['client', wsFrame({ opcode: 1, payload: 'hi', mask: new Uint8Array(4) })]] },
  { id: 'unexpected-continuation', severity: 'error', dir: 'client', name: 'a continuation with no message', steps: [...open(), ['client', cf(0, 'x')]] },
  { id: 'interleaved-data-message', severity: 'error', dir: 'server', name: 'a text frame inside a fragmented binary', steps: [...open(), ['server', concatAll([sf(2, 'a', { fin: false }), sf(1, 'b')])]] },
  { id: 'invalid-utf8', severity: 'error', dir: 'server', name: 'a text message with a lone 0xff', steps: [...open(), ['server', sf(1, new Uint8Array([0x61, 0xff]))]] },
  { id: 'invalid-close-code', severity: 'error', dir: 'client', name: 'close code 1005 on the wire', steps: [...open(), ['client', cf(8, new Uint8Array([0x03, 0xed]))]] },
  { id: 'close-payload-too-short', severity: 'error', dir: 'server', name: 'a 1-byte close payload', steps: [...open(), ['server', sf(8, new Uint8Array([3]))]] },
  { id: 'pong-mismatch', severity: 'warning', dir: 'server', name: 'a pong that echoes another payload', steps: [...open(), ['client', cf(9, 'abc')], ['server', sf(10, 'xyz')]] },
  { id: 'unsolicited-pong', severity: 'info', dir: 'server', name: 'a pong without a ping', steps: [...open(), ['server', sf(10, 'hb')]] },
  { id: 'data-after-close', severity: 'warning', dir: 'server', name: 'garbage after the server close', steps: [...open(), ['server', concatAll([sf(8, new Uint8Array([3, 232])), new TextEncoder().encode('GARBAGE')])]] },
  { id: 'bad-accept', severity: 'error', dir: 'server', name: 'a wrong Sec-WebSocket-Accept', steps: [['client', upgradeRequest()], ['server', upgradeResponse([], { accept: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' })]] },
  { id: 'missing-key', severity: 'error', dir: 'client', name: 'no Sec-WebSocket-Key', steps: [['client', upgradeRequest([], { key: null })], ['server', upgradeResponse([], { accept: null })]] },
  { id: 'bad-version', severity: 'error', dir: 'client', name: 'Sec-WebSocket-Version 8', steps: [['client', upgradeRequest([], { version: '8' })], ['server', upgradeResponse()]] },
  { id: 'missing-origin', severity: 'info', dir: 'client', name: 'no Origin', steps: [['client', upgradeRequest([], { origin: false })], ['server', upgradeResponse()]] },
  { id: 'extension-not-negotiated', severity: 'error', dir: 'server', name: 'permessage-deflate accepted but not offered', steps: open([], [PMD]) },
  { id: 'protocol-not-negotiated', severity: 'error', dir: 'server', name: 'a subprotocol the client did not ask for', steps: open(['Sec-WebSocket-Protocol: chat'], ['Sec-WebSocket-Protocol: mqtt']) },
  { id: 'handshake-rejected', severity: 'warning', dir: 'server', name: 'a 403 answer', steps: [['client', upgradeRequest()], ['server', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n']] },
  { id: 'bad-upgrade-headers', severity: 'error', dir: 'client', name: 'a request without Connection: Upgrade', steps: [['client', upgradeRequest().replace('Connection: Upgrade\r\n', 'Connection: keep-alive\r\n')], ['server', upgradeResponse()]] },
  { id: 'bad-deflate-params', severity: 'error', dir: 'server', name: 'server_max_window_bits=7 in the response', steps: open([PMD], [`${PMD}; server_max_window_bits=7`]) },
  { id: 'no-handshake', severity: 'info', dir: undefined, name: 'frames on an assumed WebSocket port', steps: [['client', cf(1, 'hi')]], opts: { assumeWebSocket: true } },
  { id: 'decompression-failed', severity: 'error', dir: 'server', name: 'RSV1 data that is not deflate', steps: [...openPmd(), ['server', sf(1, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2]), { rsv1: true })]] },
  { id: 'decompressed-size-limit', severity: 'warning', dir: 'server', name: 'a message inflating past maxInflate', steps: [...openPmd(), ['server', sf(2, deflate('z'.repeat(100000)), { rsv1: true })]], opts: { maxInflate: 1000 } },
  { id: 'tcp-gap', severity: 'warning', dir: 'server', name: 'bytes lost inside a frame payload', steps: [...open(), ['server', sf(2, new Uint8Array(100)).subarray(0, 50)], ['server', new Uint8Array(32), 20]] },
  { id: 'truncated-capture', severity: 'warning', dir: 'client', name: 'a capture ending mid-frame', steps: [...open(), ['client', cf(2, new Uint8Array(100)).subarray(0, 40)]] },
  { id: 'resync', severity: 'info', dir: 'server', name: 'a gap inside a header, then a frame', steps: [...open(), ['server', sf(2, new Uint8Array(300)).subarray(0, 3)], ['server', concatAll([new Uint8Array([0xee, 0xee]), sf(1, 'after')]), 100]] },
  { id: 'limit-reached', severity: 'warning', dir: 'server', name: 'a message over maxMessageBytes', steps: [...open(), ['server', sf(2, new Uint8Array(5000))]], opts: { maxMessageBytes: 1000 } },
];

describe('finding ids', () => {
  for (const c of cases) {
    it(`reports ${c.id} (${c.severity}) for ${c.name}`, () => {
      const r = run(c.steps, c.opts);
      const hits = r.findings.filter((f) => f.id === c.id);
      expect(hits.length, JSON.stringify(r.findings.map((f) => f.id))).toBeGreaterThan(0);
      expect(hits[0].severity).toBe(c.severity);
      expect(hits[0].dir).toBe(c.dir);
      expect(hits[0].conn).toBe(1);
      expect(hits[0].text.length).toBeGreaterThan(10);
    });
  }

  it('reports nothing for a clean compressed exchange with ping, pong and closes', () => {
    const r = run([...openPmd(), ['client', cf(1, deflate('hello'), { rsv1: true })], ['server', sf(1, deflate('world'), { rsv1: true })], ['client', cf(9, 'p')], ['server', sf(10, 'p')], ['client', cf(8, new Uint8Array([3, 232]))], ['server', sf(8, new Uint8Array([3, 232]))]]);
    expect(r.findings).toEqual([]);
    expect(r.messages.map((m) => Buffer.from(m.data).toString('latin1'))).toEqual(['hello', 'world', 'p', 'p', '\u0003\u00e8', '\u0003\u00e8']);
  });

  it('lists each violation at most 20 times per connection, then one summary with the count', () => {
    const garbage: Step[] = [];
    for (let i = 0; i < 1000; i++) garbage.push(['client', sf(1, 'x')]);
    const r = run([...open(), ...garbage]);
    const hits = r.findings.filter((f) => f.id === 'unmasked-client-frame');
    expect(hits).toHaveLength(21);
    expect(hits[20].text).toMatch(/^980 more unmasked-client-frame findings/);
    expect(r.messages).toHaveLength(1000);
  });

  it('puts the frame index on frame findings', () => {
    const r = run([...open(), ['server', sf(1, 'ok')], ['server', sf(3, 'x')]]);
    const f = r.findings.find((x) => x.id === 'reserved-opcode');
    expect(f?.frame).toBe(1);
    expect(r.frames[1].opcode).toBe(3);
  });
});
