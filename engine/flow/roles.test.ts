import { describe, it, expect } from 'vitest';
import { ascii } from '../../test/kit/bytes';
import { cf, sf } from '../../test/kit/websocket';
import { decideRoles } from './roles';

describe('client/server roles without a SYN', () => {
  const cases: Array<[string, Uint8Array, number, number, { senderIsClient: boolean; by: string }]> = [
    ['a request line', ascii('GET /chat HTTP/1.1\r\n'), 8080, 50000, { senderIsClient: true, by: 'http' }],
    ['a method outside the common nine', ascii('PROPFIND /d HTTP/1.1\r\n'), 80, 50000, { senderIsClient: true, by: 'http' }],
    ['a status line', ascii('HTTP/1.1 101 Switching Protocols\r\n'), 50000, 8080, { senderIsClient: false, by: 'http' }],
    ['a masked frame (RFC 6455 5.1: clients mask)', cf(1, 'hello'), 8080, 50000, { senderIsClient: true, by: 'mask' }],
    ['an unmasked frame', sf(1, 'hello'), 50000, 8080, { senderIsClient: false, by: 'mask' }],
    ['bytes that say nothing, from the higher port', ascii('SSH-2.0-OpenSSH_9.2\r\n'), 50000, 22, { senderIsClient: true, by: 'port' }],
    ['bytes that say nothing, from the lower port', ascii('SSH-2.0-OpenSSH_9.2\r\n'), 22, 50000, { senderIsClient: false, by: 'port' }],
    ['no bytes at all, equal ports: the sender', new Uint8Array(0), 4000, 4000, { senderIsClient: true, by: 'port' }],
  ];
  for (const [name, bytes, sender, other, want] of cases) {
    it(`decides from ${name}`, () => {
      expect(decideRoles(bytes, sender, other)).toEqual(want);
    });
  }
});
