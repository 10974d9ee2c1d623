/** The browser-shell client implements the one contract (see test/contract.test.ts). */
import { describe, it, expect, expectTypeOf } from 'vitest';
import { CALLS, PUSHES, type WsscopeApi } from '../../../shared/api';
import { createWsClient, type SocketLike } from './ws-client';

describe('the browser-shell client', () => {
  it('implements every call and subscription of WsscopeApi', () => {
    expectTypeOf<ReturnType<typeof createWsClient>>().toMatchTypeOf<WsscopeApi>();
    const idle: SocketLike = { readyState: 0, send() {}, close() {}, onopen: null, onclose: null, onerror: null, onmessage: null } as SocketLike;
    const client = createWsClient({ url: 'ws://127.0.0.1:9/api?token=x', connect: () => idle });
    for (const name of CALLS) expect(typeof client[name], name).toBe('function');
    for (const name of PUSHES) expect(typeof client[`on${name[0].toUpperCase()}${name.slice(1)}` as keyof WsscopeApi], name).toBe('function');
    client.close();
  });
});
