/**
 * The registry of subprotocol decoders (decoder.ts `AppProtocol`), in the shape of the stream
 * stack's module registry (engine/stack/registry.ts): order is the order in which sniffers are
 * asked; registering an id that is already there replaces that protocol in place. A new
 * protocol is one module registered here.
 *
 * Memory: a handful of protocol objects; `list()` hands out the registry's own array.
 */
import type { AppProtocol, AppProtocols } from './decoder';
import { actionCableProtocol } from './actioncable';
import { graphqlWsProtocol } from './graphql-ws';
import { jsonRpcProtocol } from './json-rpc';
import { mqttProtocol } from './mqtt';
import { phoenixProtocol } from './phoenix';
import { socketIoProtocol } from './socket-io';
import { signalRProtocol } from './signalr';
import { stompProtocol } from './stomp';
import { wampProtocol } from './wamp';

export class AppRegistry implements AppProtocols {
  private readonly protos: AppProtocol[] = [];

  constructor(protocols: readonly AppProtocol[] = []) {
    for (const p of protocols) this.register(p);
  }

  register(p: AppProtocol): this {
    const at = this.protos.findIndex((x) => x.id === p.id);
    if (at >= 0) this.protos[at] = p;
    else this.protos.push(p);
    return this;
  }

  get(id: string): AppProtocol | undefined {
    return this.protos.find((p) => p.id === id);
  }

  list(): readonly AppProtocol[] {
    return this.protos;
  }
}

/** A fresh registry with the built-in decoders. */
export function builtinAppRegistry(): AppRegistry {
  return new AppRegistry([socketIoProtocol, mqttProtocol, stompProtocol, graphqlWsProtocol, signalRProtocol, phoenixProtocol, wampProtocol, actionCableProtocol, jsonRpcProtocol]);
}

/** The registry connections use unless `SessionOptions.app.protocols` names another. */
export const defaultAppRegistry: AppRegistry = builtinAppRegistry();
