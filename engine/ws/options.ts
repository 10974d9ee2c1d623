/** Options and shared counters of a TcpSession (re-exported by session.ts). */
import type { KeyLog } from '../tls/keylog';
import type { AppOptions } from '../app/decoder';

export interface SessionOptions {
  /** max inflated bytes per message; enforced during inflate */
  maxInflate: number;
  /** max inflated bytes per connection, both directions together; enforced during inflate */
  maxInflatePerConnection: number;
  /**
   * max inflated bytes per file or live session (every connection together, through
   * `Counters.inflated`); enforced during inflate. Bounds the time and output of a capture
   * full of decompression bombs, whatever its number of connections.
   */
  maxInflateTotal: number;
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
   * during the emit callback (a consumer that keeps it must copy), and so are a
   * `FrameEvent.wirePayload` (with keepWirePayload: unmasked and large masked frames are
   * views of the message's buffer, engine/ws/assembler.ts) and `FrameEvent.header` (a view
   * of one process-wide buffer). What lies whole in the chunk being decoded is not copied at
   * all: the wire bytes of such a frame and the data of such an unmasked, uncompressed
   * single-frame message are views of the decoder's input. For consumers that print and
   * forget (the CLI) or copy what they keep (the engine host's store); saves one allocation,
   * one copy and the garbage of every message.
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
  // twice what the 100 MB permessage-deflate benchmark capture inflates to (docs/hardening.md)
  maxInflateTotal: 512 * 1024 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxFragments: 100_000,
  keepWirePayload: false,
  assumeWebSocket: false,
  heuristic: false,
  ephemeralPayloads: false,
};

/** capture-wide indexes and totals, shared by all sessions of one file or live capture */
export interface Counters {
  frames: number;
  messages: number;
  /** inflated bytes so far, all connections (bounded by SessionOptions.maxInflateTotal); absent = 0 */
  inflated?: number;
}
