/**
 * The calls of the contract about decoded meaning, TLS and HTTP/2 (shared/api.ts):
 * decoded-field facets, the plain HTTP/2 requests of a connection, the Engine.IO long-polling
 * session a WebSocket upgraded, the decoder list and the
 * per-connection decoder choice (which reads the file again), and the key logs (added by
 * path or as bytes; the current file is read again with them, a running live capture takes
 * them at once). Only names and counts answer: key material stays in ./keylogs.ts.
 */
import { err, ok, type AppFacets, type EngineIoSession, type Http2RequestRow, type KeyLogInfo, type Result, type SessionInfo } from '../../shared/api';
import { basename } from 'node:path';
import { defaultAppRegistry } from '../app/registry';
import { fsError, nothingLoaded } from './errors';
import { looksLikeKeyLog, type KeyLogs } from './keylogs';
import type { Sessions } from './sessions';

export class AppCalls {
  constructor(
    private readonly sessions: Sessions,
    readonly keyLogs: KeyLogs,
    /** true while a live capture runs (its KeyLog takes new files itself) */
    private readonly liveRunning: () => boolean,
  ) {}

  facets(conn: number | null): Result<AppFacets> {
    const store = this.sessions.store;
    return store ? ok(store.appFacets(conn)) : nothingLoaded();
  }

  http2Requests(conn: number): Result<Http2RequestRow[]> {
    const store = this.sessions.store;
    if (!store) return nothingLoaded();
    if (!store.hasConnection(conn)) return err('not-found', `There is no connection ${conn} in this session.`);
    return ok(store.http2Requests(conn));
  }

  engineIoSession(conn: number): Result<EngineIoSession | null> {
    const store = this.sessions.store;
    if (!store) return nothingLoaded();
    if (!store.hasConnection(conn)) return err('not-found', `There is no connection ${conn} in this session.`);
    return ok(store.engineIoSession(conn));
  }

  decoders(): Result<string[]> {
    return ok(defaultAppRegistry.list().map((p) => p.id));
  }

  async setDecoder(conn: number, protocol: string): Promise<Result<SessionInfo>> {
    if (protocol !== '' && protocol !== 'none' && !defaultAppRegistry.get(protocol)) {
      return err('bad-request', `There is no decoder "${protocol}"; the decoders are ${defaultAppRegistry.list().map((p) => p.id).join(', ')}, and none.`);
    }
    const store = this.sessions.store;
    if (!store) return nothingLoaded();
    if (!store.hasConnection(conn)) return err('not-found', `There is no connection ${conn} in this session.`);
    return this.sessions.reanalyse({ conn, protocol });
  }

  async addFile(path: string): Promise<Result<KeyLogInfo>> {
    let added: { name: string } | null;
    try {
      added = this.keyLogs.addFile(path);
    } catch (e) {
      return { ok: false, error: fsError(path, e) };
    }
    return added ? this.applied() : noSecrets(basename(path));
  }

  async addBytes(name: string, bytes: Uint8Array): Promise<Result<KeyLogInfo>> {
    if (!looksLikeKeyLog(bytes)) return err('unsupported', `${name} is neither a capture nor a TLS key log (lines like "CLIENT_RANDOM <hex> <hex>").`);
    return this.keyLogs.addBytes(name, bytes) ? this.applied() : noSecrets(name);
  }

  info(): Result<KeyLogInfo> {
    return ok(this.keyLogs.info(this.sessions.store?.tlsCounts() ?? [0, 0]));
  }

  /** A key log was added: the open file is read again with it (a live capture has it already). */
  private async applied(): Promise<Result<KeyLogInfo>> {
    if (!this.liveRunning() && this.sessions.info.kind === 'file') {
      const r = await this.sessions.reanalyse();
      if (!r.ok) return r;
      await this.sessions.idle();
    }
    return this.info();
  }
}

const noSecrets = (name: string): Result<never> => err('unsupported', `${name} holds no TLS secrets (no line like "CLIENT_RANDOM <hex> <hex>").`);
