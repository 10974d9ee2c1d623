/**
 * Stable finding ids (never rename; add new ones at the end of their group) with their
 * severity and a one-line title. The sentence attached to each finding event says what
 * exactly was seen; the title says what the rule is.
 */
import type { Severity } from './events';

export interface FindingInfo {
  severity: Severity;
  title: string;
  /** where the rule comes from */
  ref: string;
}

export const FINDINGS = {
  // framing (RFC 6455 section 5)
  'unmasked-client-frame': { severity: 'error', title: 'Client frame not masked', ref: 'RFC 6455 5.1' },
  'masked-server-frame': { severity: 'error', title: 'Server frame masked', ref: 'RFC 6455 5.1' },
  'reserved-opcode': { severity: 'error', title: 'Reserved opcode', ref: 'RFC 6455 5.2' },
  'rsv-without-extension': { severity: 'error', title: 'RSV bit set without a negotiated extension', ref: 'RFC 6455 5.2' },
  'control-frame-too-long': { severity: 'error', title: 'Control frame payload over 125 bytes', ref: 'RFC 6455 5.5' },
  'fragmented-control-frame': { severity: 'error', title: 'Fragmented control frame', ref: 'RFC 6455 5.5' },
  'unexpected-continuation': { severity: 'error', title: 'Continuation frame without a message to continue', ref: 'RFC 6455 5.4' },
  'interleaved-data-message': { severity: 'error', title: 'New data message before the previous one finished', ref: 'RFC 6455 5.4' },
  'invalid-utf8': { severity: 'error', title: 'Text is not valid UTF-8', ref: 'RFC 6455 5.6, 8.1' },
  'invalid-close-code': { severity: 'error', title: 'Close code not allowed on the wire', ref: 'RFC 6455 7.4' },
  'close-payload-too-short': { severity: 'error', title: 'Close payload of 1 byte', ref: 'RFC 6455 5.5.1' },
  'non-minimal-length': { severity: 'warning', title: 'Payload length not in its minimal encoding', ref: 'RFC 6455 5.2' },
  'length-high-bit-set': { severity: 'error', title: '64-bit length with the most significant bit set', ref: 'RFC 6455 5.2' },
  'frame-after-close': { severity: 'error', title: 'Frame sent after a close frame', ref: 'RFC 6455 5.5.1' },
  'pong-mismatch': { severity: 'warning', title: 'Pong payload does not match the ping it answers', ref: 'RFC 6455 5.5.3' },
  'unsolicited-pong': { severity: 'info', title: 'Pong without a ping (allowed as a heartbeat)', ref: 'RFC 6455 5.5.3' },
  'data-after-close': { severity: 'warning', title: 'TCP data after the closing handshake', ref: 'RFC 6455 7.1.1' },
  'rsv1-on-continuation': { severity: 'error', title: 'RSV1 set on a continuation frame', ref: 'RFC 7692 6.1' },
  'rsv1-on-control-frame': { severity: 'error', title: 'RSV1 set on a control frame', ref: 'RFC 7692 6.1' },
  'zero-mask-key': { severity: 'info', title: 'Masking key is all zero', ref: 'RFC 6455 5.3' },
  // handshake (RFC 6455 section 4)
  'bad-accept': { severity: 'error', title: 'Sec-WebSocket-Accept does not match the key', ref: 'RFC 6455 4.2.2' },
  'missing-key': { severity: 'error', title: 'Sec-WebSocket-Key missing or not 16 bytes of base64', ref: 'RFC 6455 4.1' },
  'bad-version': { severity: 'error', title: 'Sec-WebSocket-Version is not 13', ref: 'RFC 6455 4.1' },
  'missing-origin': { severity: 'info', title: 'No Origin header (non-browser client)', ref: 'RFC 6455 4.1, 10.2' },
  'extension-not-negotiated': { severity: 'error', title: 'Server accepted an extension the client did not offer', ref: 'RFC 6455 9.1' },
  'protocol-not-negotiated': { severity: 'error', title: 'Server chose a subprotocol the client did not offer', ref: 'RFC 6455 4.1' },
  'handshake-rejected': { severity: 'warning', title: 'Upgrade answered with a status other than 101', ref: 'RFC 6455 4.2.2' },
  'bad-upgrade-headers': { severity: 'error', title: 'Upgrade/Connection headers missing or wrong', ref: 'RFC 6455 4.1, 4.2.2' },
  'no-handshake': { severity: 'info', title: 'WebSocket traffic without a captured handshake', ref: 'RFC 6455 4' },
  'bad-deflate-params': { severity: 'error', title: 'Invalid permessage-deflate parameters', ref: 'RFC 7692 7.1' },
  // permessage-deflate (RFC 7692)
  'decompression-failed': { severity: 'error', title: 'Compressed message does not inflate', ref: 'RFC 7692 7.2.2' },
  'decompressed-size-limit': { severity: 'warning', title: 'Inflated size over the configured limit', ref: 'wsscope --max-inflate, --max-inflate-total' },
  // HTTP/2 (RFC 9113) and WebSocket over HTTP/2 (RFC 8441)
  'h2-connect-without-setting': { severity: 'error', title: 'Extended CONNECT before the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1', ref: 'RFC 8441 3, 4' },
  'h2-forbidden-header': { severity: 'error', title: 'Header field not allowed in HTTP/2 (Sec-WebSocket-Key, Upgrade, Connection...)', ref: 'RFC 9113 8.2.2, RFC 8441 5' },
  'h2-protocol-without-connect': { severity: 'error', title: ':protocol on a request whose method is not CONNECT', ref: 'RFC 8441 4' },
  'h2-hpack-failed': { severity: 'error', title: 'HPACK decoding failed: the header state of that direction is lost', ref: 'RFC 7541, RFC 9113 4.3' },
  'h2-data-after-reset': { severity: 'error', title: 'DATA on a stream its sender had reset (RST_STREAM)', ref: 'RFC 9113 5.1, 6.4' },
  'h2-connect-rejected': { severity: 'warning', title: 'Extended CONNECT answered with a status other than 200', ref: 'RFC 8441 5' },
  'h2-frame-error': { severity: 'error', title: 'Malformed HTTP/2 framing (preface, padding, CONTINUATION, frame size)', ref: 'RFC 9113 3.4, 4, 6' },
  // transport and capture
  'incomplete-frame': { severity: 'warning', title: 'The TCP stream ended (FIN or RST) in the middle of a frame: an abnormal closure (1006)', ref: 'RFC 6455 7.1.5' },
  'tcp-gap': { severity: 'warning', title: 'Bytes missing from the TCP stream', ref: 'capture' },
  'tcp-overlap-conflict': { severity: 'warning', title: 'Retransmitted bytes differ from the first copy', ref: 'RFC 9293' },
  'truncated-capture': { severity: 'warning', title: 'Capture file ends in the middle of a record, or packets were cut by the snap length', ref: 'capture' },
  'ip-fragments-incomplete': { severity: 'warning', title: 'IP fragments that never completed a datagram', ref: 'RFC 791' },
  'resync': { severity: 'info', title: 'Frame decoder resynchronised after lost bytes', ref: 'wsscope' },
  'limit-reached': { severity: 'warning', title: 'A configured limit cut the data kept', ref: 'wsscope' },
  'corrupt-capture': { severity: 'error', title: 'Capture file damaged: a block or record header makes no sense; decoding resumed at the next plausible record', ref: 'pcap / pcapng' },
  'unsupported-link-type': { severity: 'warning', title: 'Packets of a link type wsscope does not decode', ref: 'pcap LINKTYPE_*' },
  'malformed-packet': { severity: 'warning', title: 'Packet with a malformed IP, TCP or UDP header (skipped)', ref: 'RFC 791, RFC 8200, RFC 9293, RFC 768' },
  'decoder-error': { severity: 'error', title: 'wsscope failed on this connection (a bug: please report it with the capture)', ref: 'wsscope' },
  'evicted-flows': { severity: 'warning', title: 'TCP flows evicted before they ended (idle too long, or over the cap on flows tracked at once); their decoding ended there', ref: 'RFC 5382 REQ-5' },
  // TLS (engine/tls)
  'tls-no-key': { severity: 'info', title: 'TLS connection without a key in the key log (not decrypted)', ref: 'NSS key log format' },
  'tls-decrypt-failed': { severity: 'error', title: 'TLS record does not authenticate (wrong key or damaged capture)', ref: 'RFC 8446 5.2, RFC 5246 6.2.3' },
  'tls-unsupported-cipher': { severity: 'warning', title: 'TLS cipher suite or version wsscope does not decrypt', ref: 'RFC 8446 B.4, RFC 5246 A.5' },
  'tls-alert': { severity: 'warning', title: 'TLS alert', ref: 'RFC 8446 6, RFC 5246 7.2' },
  'tls-keylog-line': { severity: 'warning', title: 'Key log line not used (malformed)', ref: 'NSS key log format' },
  // subprotocols carried in WebSocket messages (engine/app/)
  'subprotocol-malformed': { severity: 'warning', title: 'Message is not a well-formed packet of its subprotocol', ref: 'the subprotocol specification' },
  'subprotocol-unknown-reply': { severity: 'warning', title: 'Reply to a request id that no request used', ref: 'the subprotocol specification' },
  'subprotocol-duplicate-id': { severity: 'warning', title: 'Request id reused while a request with that id is pending', ref: 'the subprotocol specification' },
  'subprotocol-unanswered': { severity: 'info', title: 'Request never answered before the connection ended', ref: 'the subprotocol specification' },
  'subprotocol-incomplete': { severity: 'warning', title: 'Packet that never completed (bytes or attachments missing at the end)', ref: 'the subprotocol specification' },
  // the session store of the UI engine (engine/store): payload bytes it keeps for the views and exports
  'payload-limit': { severity: 'warning', title: 'Payload bytes kept for this session reached their limit: later payloads are cut', ref: 'wsscope WSSCOPE_MAX_KEPT_PAYLOAD' },
  'payload-spill-failed': { severity: 'error', title: 'Writing payloads to the scratch folder failed (disk full?): later payloads are not kept', ref: 'wsscope' },
  'findings-not-listed': { severity: 'warning', title: 'Findings past the 50,000 a session keeps were counted, not listed', ref: 'wsscope' },
  'connections-not-listed': { severity: 'warning', title: 'Connections that carried nothing were counted, not listed (past the first 10,000 of the session)', ref: 'wsscope' },
  'messages-not-listed': { severity: 'warning', title: "Messages past the session's row bound were counted, not kept", ref: 'wsscope' },
} as const satisfies Record<string, FindingInfo>;

export type FindingId = keyof typeof FINDINGS;

export function findingInfo(id: string): FindingInfo | undefined {
  return (FINDINGS as Record<string, FindingInfo>)[id];
}
