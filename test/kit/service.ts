/**
 * An EngineService as the service tests use it: in-process, its config, work and capture
 * folders under one test folder, batches every 10 ms, no live capture module, every push
 * collected in order. Test-only (production code never imports test/kit).
 */
import { join } from 'node:path';
import type { PushName, PushPayloads } from '../../shared/api';
import { EngineService, type EngineServiceOptions } from '../../engine/service/engine-service';

/** One push as it was sent: its name and payload, typed together. */
export type Push = { [K in PushName]: [K, PushPayloads[K]] }[PushName];

/** A service whose pushes go to `pushes`; `extra` overrides any option (workDir, analyze...). */
export function testService(dir: string, pushes: Push[], extra: Partial<EngineServiceOptions> = {}): EngineService {
  return new EngineService({
    push: (name, payload) => pushes.push([name, payload] as Push),
    configDir: join(dir, 'config'),
    workDir: join(dir, 'work'),
    captureDir: join(dir, 'captures'),
    batchMs: 10,
    loadLive: async () => null,
    ...extra,
  });
}
