/**
 * The registry of protocol modules a connection's stack detects and builds (Wireshark's
 * dissector table, in small). Order is detection order: register a module before another
 * to let it judge first. Registering an id that is already there replaces that module in
 * place (its detection slot is kept), which is how a plugin or a test overrides a layer.
 *
 * The built-in registry (`builtinRegistry()`) holds TLS (engine/tls/tls-layer.ts), HTTP/2
 * (engine/h2/h2-layer.ts: its preface is unmistakable, and "PRI * HTTP/2.0" would otherwise
 * read as an HTTP/1.1 request), HTTP/1.1 (engine/http/http1-layer.ts), then WebSocket
 * (engine/ws/ws-layer.ts): a direction that starts with a ClientHello is TLS (its plaintext
 * is detected again in a nested stack), one that starts like HTTP is HTTP, else frames may be
 * WebSocket (Decode As, or the heuristic).
 *
 * Memory: a handful of module objects; `list()` hands out the registry's own array (read-only
 * by contract) so the stack does not copy it per connection.
 */
import { http2Module } from '../h2/h2-layer';
import { http1Module } from '../http/http1-layer';
import { webSocketModule } from '../ws/ws-layer';
import { tlsModule } from '../tls/tls-layer';
import type { ProtocolModule } from './layer';

export class ModuleRegistry {
  private readonly mods: ProtocolModule[] = [];

  constructor(modules: readonly ProtocolModule[] = []) {
    for (const m of modules) this.register(m);
  }

  /** Add a module at the end of the detection order, or replace the module with its id. */
  register(m: ProtocolModule): this {
    const at = this.mods.findIndex((x) => x.id === m.id);
    if (at >= 0) this.mods[at] = m;
    else this.mods.push(m);
    return this;
  }

  /** Add a module to be tried before every registered one. */
  registerFirst(m: ProtocolModule): this {
    const at = this.mods.findIndex((x) => x.id === m.id);
    if (at >= 0) this.mods.splice(at, 1);
    this.mods.unshift(m);
    return this;
  }

  get(id: string): ProtocolModule | undefined {
    return this.mods.find((m) => m.id === id);
  }

  /** modules in detection order */
  list(): readonly ProtocolModule[] {
    return this.mods;
  }
}

/** A fresh registry with the built-in modules (TLS, HTTP/2, HTTP/1.1, then WebSocket). */
export function builtinRegistry(): ModuleRegistry {
  return new ModuleRegistry([tlsModule, http2Module, http1Module, webSocketModule]);
}

/**
 * The registry pipelines use unless their options name another. Process-wide, like
 * Wireshark's dissector tables: a module registered here (at start-up, before decoding)
 * is detected on every connection decoded afterwards.
 */
export const defaultRegistry: ModuleRegistry = builtinRegistry();
