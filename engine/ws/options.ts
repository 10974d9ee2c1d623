/** Options and shared counters of a TcpSession (re-exported by session.ts). */
import type { KeyLog } from '../tls/keylog';
import type { AppOptions } from '../app/decoder';

export interface SessionOptions {
  /** max inflated bytes per message; enforced during inflate */
  maxInflate: number;
  /** max inflated bytes per connection, both directions together; enforced during inflate */
  maxInflatePerConnection: number;
  /** max payload bytes kept per message in `data`; beyond: cut, truncated=true, finding limit-reached */
  maxMessageBytes: number;
  /** max fragments listed per message */
  maxFragments: number;
  /** attach FrameEvent.wirePayload (masked bytes) */
  keepWirePayload: boolean;
  /** --ws-port matched: decode frames from the first byte even without a handshake */
  assumeWebSocket: boolean;
  /** without handshake: detect plausible WebSocket frames (conservative) and decode */
  heuristic: boolean;
  /**
   * Reuse one payload buffer per direction for data messages, and hand out inflated
   * messages as views into the inflater's memory: `MessageEvent.data` is then only valid
   * during the emit callback (a consumer that keeps it must copy). For consumers that print
   * and forget (the CLI); saves one allocation, one copy and the garbage of every message.
   */
  ephemeralPayloads: boolean;
  /** TLS secrets the `tls` layer decrypts with (engine/tls/keylog.ts); absent: nothing is decrypted */
  keyLog?: KeyLog;
  /** bytes of encrypted records a TLS connection holds while its keys are missing (default 256 KiB, engine/tls/tls-layer.ts) */
  maxTlsHeld?: number;
  /** subprotocol decoding (engine/app/): overrides per connection, the protocols, limits */
  app?: AppOptions;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  maxInflate: 64 * 1024 * 1024,
  maxInflatePerConnection: 1024 * 1024 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxFragments: 100_000,
  keepWirePayload: false,
  assumeWebSocket: false,
  heuristic: false,
  ephemeralPayloads: false,
};

/** capture-wide indexes, shared by all sessions */
export interface Counters {
  frames: number;
  messages: number;
}
