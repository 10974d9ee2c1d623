/**
 * The WebSocket opening handshake (RFC 6455 section 4): decides whether an HTTP request is an
 * upgrade attempt, checks the request (section 4.1) and the answer (section 4.2.2), and builds
 * the HandshakeEvent. Pure functions over parsed heads; the caller emits the results.
 */
import { keepMeta, type ChunkMeta } from '../types';
import type { DeflateParams, Direction, HandshakeEvent } from '../../shared/events';
import type { FindingId } from '../../shared/findings';
import { computeAccept, isValidKey } from './accept';
import { checkDeflate, parseExtensions } from './extensions';
import { headerTokens, headerValue, parseRequestLine, parseStatusLine, type HttpHead } from './head';

export interface HandshakeFinding {
  id: FindingId;
  dir: Direction;
  text: string;
  meta: ChunkMeta;
}

export interface UpgradeRequest {
  head: HttpHead;
  method: string;
  target: string;
  version: string;
  meta: ChunkMeta;
}

export interface UpgradeResponse {
  head: HttpHead;
  status: number;
  statusText: string;
  version: string;
  meta: ChunkMeta;
}

export function toRequest(head: HttpHead, meta: ChunkMeta): UpgradeRequest {
  const l = parseRequestLine(head.startLine);
  return { head, method: l?.method ?? '', target: l?.target ?? '', version: l?.version ?? '', meta: keepMeta(meta) };
}

export function toResponse(head: HttpHead, meta: ChunkMeta): UpgradeResponse | null {
  const l = parseStatusLine(head.startLine);
  if (!l) return null;
  return { head, status: l.status, statusText: l.text, version: l.version, meta: keepMeta(meta) };
}

/** An attempt to open a WebSocket: Upgrade names websocket, or the request carries a key. */
export function isWebSocketUpgrade(head: HttpHead): boolean {
  return headerTokens(head.headers, 'upgrade').includes('websocket') || headerValue(head.headers, 'sec-websocket-key') !== undefined;
}

/** RFC 6455 section 4.1 checks on the client's request. */
export function checkRequest(req: UpgradeRequest): HandshakeFinding[] {
  const out: HandshakeFinding[] = [];
  const h = req.head.headers;
  const add = (id: FindingId, text: string): void => {
    out.push({ id, dir: 'client', text, meta: req.meta });
  };
  const problems: string[] = [];
  if (req.method !== 'GET') problems.push(`method is ${req.method || '(unparsable)'}, not GET`);
  if (req.version !== '' && req.version < 'HTTP/1.1') problems.push(`version is ${req.version}, not HTTP/1.1 or later`);
  if (!headerTokens(h, 'upgrade').includes('websocket')) problems.push(`Upgrade is ${JSON.stringify(headerValue(h, 'upgrade') ?? '')}, not websocket`);
  if (!headerTokens(h, 'connection').includes('upgrade')) problems.push(`Connection is ${JSON.stringify(headerValue(h, 'connection') ?? '')}, without the upgrade token`);
  if (problems.length) add('bad-upgrade-headers', `Upgrade request: ${problems.join('; ')}.`);
  const key = headerValue(h, 'sec-websocket-key');
  if (key === undefined) add('missing-key', 'The upgrade request has no Sec-WebSocket-Key.');
  else if (!isValidKey(key)) add('missing-key', `Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 bytes of base64.`);
  const version = headerValue(h, 'sec-websocket-version');
  if (version !== '13') add('bad-version', version === undefined ? 'The upgrade request has no Sec-WebSocket-Version.' : `Sec-WebSocket-Version is ${JSON.stringify(version)}, not 13.`);
  if (headerValue(h, 'origin') === undefined && headerValue(h, 'sec-websocket-origin') === undefined) {
    add('missing-origin', 'The upgrade request has no Origin header (typical of non-browser clients).');
  }
  for (const ext of parseExtensions(headerValue(h, 'sec-websocket-extensions'))) {
    if (ext.name !== 'permessage-deflate') continue;
    const c = checkDeflate(ext, true);
    if (c.problems.length) add('bad-deflate-params', `permessage-deflate offer: ${c.problems.join('; ')}.`);
  }
  return out;
}

/**
 * What an accepted handshake negotiated, checked against what was offered: extensions
 * (RFC 6455 section 9.1, RFC 7692 section 7.1) and the subprotocol (section 4.1). Shared by
 * the HTTP/1.1 upgrade and HTTP/2's extended CONNECT (RFC 8441 section 5, same header
 * fields). `haveRequest`: the request was captured (else nothing was offered to compare).
 * Returns the permessage-deflate parameters accepted, null when none.
 */
export function checkNegotiation(rq: Array<[string, string]>, rs: Array<[string, string]>, haveRequest: boolean, add: (id: FindingId, text: string) => void): DeflateParams | null {
  let deflate: DeflateParams | null = null;
  const offered = parseExtensions(headerValue(rq, 'sec-websocket-extensions'));
  const accepted = parseExtensions(headerValue(rs, 'sec-websocket-extensions'));
  for (const ext of accepted) {
    const offers = offered.filter((o) => o.name === ext.name);
    if (haveRequest && offers.length === 0) add('extension-not-negotiated', `The server accepted ${ext.name}, which the client did not offer.`);
    if (ext.name === 'permessage-deflate') {
      const offeredClientBits = offers.length === 0 || offers.some((o) => o.params.some(([n]) => n === 'client_max_window_bits'));
      const c = checkDeflate(ext, false, offeredClientBits);
      if (c.problems.length) add('bad-deflate-params', `permessage-deflate response: ${c.problems.join('; ')}.`);
      if (deflate === null) deflate = c.params;
    }
  }
  const chosen = headerValue(rs, 'sec-websocket-protocol');
  if (chosen !== undefined && haveRequest) {
    const requested = headerTokens(rq, 'sec-websocket-protocol');
    if (!requested.includes(chosen.trim().toLowerCase())) {
      add('protocol-not-negotiated', requested.length ? `The server chose subprotocol ${JSON.stringify(chosen)}, not among ${requested.join(', ')}.` : `The server chose subprotocol ${JSON.stringify(chosen)} although the client requested none.`);
    }
  }
  return deflate;
}

export interface HandshakeOutcome {
  event: HandshakeEvent;
  findings: HandshakeFinding[];
  /** negotiated permessage-deflate (response), null when not negotiated */
  deflate: DeflateParams | null;
}

/**
 * Pair a request with its answer (either may be missing: a response-only capture, or no answer
 * at all, status 0) and check the answer (RFC 6455 section 4.2.2, RFC 7692 section 7.1).
 */
export function buildHandshake(conn: number, req: UpgradeRequest | null, res: UpgradeResponse | null): HandshakeOutcome {
  const rq = req?.head.headers ?? [];
  const rs = res?.head.headers ?? [];
  const key = headerValue(rq, 'sec-websocket-key') ?? '';
  const accept = headerValue(rs, 'sec-websocket-accept') ?? '';
  const expectedAccept = key ? computeAccept(key) : '';
  const findings: HandshakeFinding[] = [];
  const status = res?.status ?? 0;
  // A 101 to a WebSocket upgrade request switches protocols even when the answer's headers are
  // wrong (reported as bad-upgrade-headers): an inspector decodes what the peers then send.
  const upgraded = status === 101 && (headerTokens(rs, 'upgrade').includes('websocket') || (req !== null && isWebSocketUpgrade(req.head)));
  let deflate: DeflateParams | null = null;
  const meta = res?.meta ?? req?.meta ?? { ts: 0, packet: 0 };

  if (res) {
    const add = (id: FindingId, text: string): void => {
      findings.push({ id, dir: 'server', text, meta: res.meta });
    };
    if (status !== 101) {
      add('handshake-rejected', `The server answered the upgrade with ${status} ${res.statusText}`.trimEnd() + '.');
    } else {
      const problems: string[] = [];
      if (!headerTokens(rs, 'upgrade').includes('websocket')) problems.push(`Upgrade is ${JSON.stringify(headerValue(rs, 'upgrade') ?? '')}, not websocket`);
      if (!headerTokens(rs, 'connection').includes('upgrade')) problems.push(`Connection is ${JSON.stringify(headerValue(rs, 'connection') ?? '')}, without the upgrade token`);
      if (problems.length) add('bad-upgrade-headers', `101 response: ${problems.join('; ')}.`);
      if (req && key !== '' && accept !== expectedAccept) {
        add('bad-accept', accept === '' ? `The 101 response has no Sec-WebSocket-Accept (expected ${expectedAccept}).` : `Sec-WebSocket-Accept is ${accept}, expected ${expectedAccept}.`);
      }
      deflate = checkNegotiation(rq, rs, req !== null, add);
    }
  }

  const event: HandshakeEvent = {
    type: 'handshake',
    conn,
    ts: meta.ts,
    packet: meta.packet,
    method: req?.method ?? '',
    path: req?.target ?? '',
    host: headerValue(rq, 'host') ?? '',
    status,
    statusText: res?.statusText ?? '',
    key,
    accept,
    expectedAccept,
    acceptValid: key !== '' && accept === expectedAccept,
    version: headerValue(rq, 'sec-websocket-version') ?? '',
    origin: headerValue(rq, 'origin') ?? headerValue(rq, 'sec-websocket-origin') ?? '',
    protocol: headerValue(rs, 'sec-websocket-protocol') ?? '',
    requestedProtocols: headerValue(rq, 'sec-websocket-protocol') ?? '',
    extensions: headerValue(rs, 'sec-websocket-extensions') ?? '',
    requestedExtensions: headerValue(rq, 'sec-websocket-extensions') ?? '',
    websocket: upgraded,
    requestHeaders: rq.map(([n, v]) => [n, v] as [string, string]),
    responseHeaders: rs.map(([n, v]) => [n, v] as [string, string]),
    requestLine: req?.head.startLine ?? '',
    statusLine: res?.head.startLine ?? '',
    requestBytes: req?.head.bytes ?? 0,
    responseBytes: res?.head.bytes ?? 0,
  };
  if (upgraded && deflate) event.deflate = deflate;
  return { event, findings, deflate: upgraded ? deflate : null };
}
