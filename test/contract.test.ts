/**
 * Type tests pinning the one contract between engine and UI (shared/api.ts): the call and
 * push name lists match the interface, every call resolves to a Result (nothing throws
 * across the boundary), the key signatures stay as the renderer, the preload and the browser
 * shell rely on, and the Electron preload implements it. Checked by `tsc` (npm run typecheck)
 * and run by vitest.
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import {
  CALLS,
  PUSHES,
  callChannel,
  pushChannel,
  type Batch,
  type CallName,
  type CaptureOptions,
  type CaptureStatus,
  type ConnStats,
  type ExportFormat,
  type ExportOptions,
  type InterfaceInfo,
  type KeyLogInfo,
  type MessageDetail,
  type MessageQuery,
  type PushName,
  type PushPayloads,
  type Result,
  type SessionInfo,
  type WsscopeApi,
} from '../shared/api';
import type { HandshakeEvent } from '../shared/events';
import type { buildApi } from '../electron/preload/api';

type Methods = keyof WsscopeApi;
type Subscriptions = Extract<Methods, `on${string}`>;
type Calls = Exclude<Methods, Subscriptions>;

describe('the API contract', () => {
  it('lists exactly the calls of WsscopeApi, each with its own channel', () => {
    expectTypeOf<CallName>().toEqualTypeOf<Calls>();
    expect(new Set(CALLS).size).toBe(CALLS.length);
    expect(new Set(CALLS.map(callChannel)).size).toBe(CALLS.length);
    expect(CALLS.map(callChannel).every((c) => c.startsWith('wsscope:'))).toBe(true);
  });

  it('has one subscription per pushed event, named after it', () => {
    expectTypeOf<PushName>().toEqualTypeOf<keyof PushPayloads>();
    expectTypeOf<Subscriptions>().toEqualTypeOf<`on${Capitalize<PushName>}`>();
    expectTypeOf<Parameters<WsscopeApi['onBatch']>[0]>().toEqualTypeOf<(b: Batch) => void>();
    expectTypeOf<Parameters<WsscopeApi['onCaptureStatus']>[0]>().toEqualTypeOf<(s: CaptureStatus) => void>();
    expectTypeOf<ReturnType<WsscopeApi['onBatch']>>().toEqualTypeOf<() => void>();
    expect(new Set(PUSHES.map(pushChannel)).size).toBe(PUSHES.length);
  });

  it('resolves every call to a Result instead of throwing', () => {
    type Returns = { [K in Calls]: Awaited<ReturnType<WsscopeApi[K]>> };
    expectTypeOf<Returns[Calls]>().toMatchTypeOf<Result<unknown>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['openFile']>>>().toEqualTypeOf<Result<SessionInfo>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['listInterfaces']>>>().toEqualTypeOf<Result<InterfaceInfo[]>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['getMessageDetail']>>>().toEqualTypeOf<Result<MessageDetail>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['getHandshake']>>>().toEqualTypeOf<Result<HandshakeEvent | null>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['getStats']>>>().toEqualTypeOf<Result<ConnStats>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['stopCapture']>>>().toEqualTypeOf<Result<CaptureStatus>>();
    expectTypeOf<Awaited<ReturnType<WsscopeApi['queryMessages']>>>().toEqualTypeOf<Result<{ indexes: Uint32Array; total: number }>>();
  });

  it('takes the arguments the engine validates', () => {
    expectTypeOf<WsscopeApi['openFile']>().parameters.toEqualTypeOf<[path: string, name?: string]>();
    expectTypeOf<WsscopeApi['openBytes']>().parameters.toEqualTypeOf<[name: string, bytes: Uint8Array]>();
    expectTypeOf<WsscopeApi['startCapture']>().parameters.toEqualTypeOf<[opts: CaptureOptions]>();
    expectTypeOf<WsscopeApi['queryMessages']>().parameters.toEqualTypeOf<[q: MessageQuery]>();
    expectTypeOf<WsscopeApi['exportData']>().parameters.toEqualTypeOf<[format: ExportFormat, path?: string, opts?: ExportOptions]>();
    expectTypeOf<WsscopeApi['setDecoder']>().parameters.toEqualTypeOf<[conn: number, protocol: string]>();
    expectTypeOf<WsscopeApi['addKeyLogBytes']>().parameters.toEqualTypeOf<[name: string, bytes: Uint8Array]>();
    // key logs answer names and counts only
    expectTypeOf<Awaited<ReturnType<WsscopeApi['keyLogs']>>>().toEqualTypeOf<Result<KeyLogInfo>>();
    expectTypeOf<WsscopeApi['getMessageDetail']>().parameters.toEqualTypeOf<[index: number]>();
  });

  it('is implemented by the Electron preload (the browser-shell client: renderer/src/api/contract.test.ts)', () => {
    expectTypeOf<ReturnType<typeof buildApi>>().toEqualTypeOf<WsscopeApi>();
  });
});
