/**
 * Sec-WebSocket-Extensions parsing (RFC 6455 section 9.1 grammar) and permessage-deflate
 * negotiation checks (RFC 7692 section 7.1). Pure functions over header strings.
 */
import type { DeflateParams } from '../../shared/events';

export interface Extension {
  name: string;
  /** parameters in order; value null when absent */
  params: Array<[string, string | null]>;
}

/** Split "a; x=1, b" into extensions; quoted values lose their quotes. */
export function parseExtensions(value: string | undefined): Extension[] {
  if (!value) return [];
  const out: Extension[] = [];
  for (const part of splitOutsideQuotes(value, ',')) {
    const items = splitOutsideQuotes(part, ';').map((s) => s.trim());
    const name = (items[0] ?? '').toLowerCase();
    if (name === '') continue;
    const params: Array<[string, string | null]> = [];
    for (const item of items.slice(1)) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq < 0) params.push([item.toLowerCase(), null]);
      else params.push([item.slice(0, eq).trim().toLowerCase(), unquote(item.slice(eq + 1).trim())]);
    }
    out.push({ name, params });
  }
  return out;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

function unquote(v: string): string {
  return v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"' ? v.slice(1, -1) : v;
}

export interface DeflateCheck {
  params: DeflateParams;
  /** what is wrong, empty when valid */
  problems: string[];
}

const WINDOW_RE = /^(?:[89]|1[0-5])$/;

/**
 * Validate one permessage-deflate element. `offer` = from the client's request (where
 * client_max_window_bits may come without a value, RFC 7692 section 7.1.2.2); otherwise the
 * server's response, where `offeredClientBits` says whether the client offered
 * client_max_window_bits (the server may only send it then).
 */
export function checkDeflate(ext: Extension, offer: boolean, offeredClientBits = false): DeflateCheck {
  const params: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of ext.params) {
    if (seen.has(name)) {
      problems.push(`parameter ${name} appears twice`); // RFC 7692 section 7.1
      continue;
    }
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== null) problems.push(`${name} must not have a value`);
        if (name === 'server_no_context_takeover') params.serverNoContextTakeover = true;
        else params.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        if (value === null || !WINDOW_RE.test(value)) problems.push(`server_max_window_bits=${value ?? ''} is not 8..15`);
        else params.serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        if (value === null) {
          if (!offer) problems.push('client_max_window_bits without a value in the response');
        } else if (!WINDOW_RE.test(value)) {
          problems.push(`client_max_window_bits=${value} is not 8..15`);
        } else {
          params.clientMaxWindowBits = Number(value);
        }
        if (!offer && !offeredClientBits) problems.push('client_max_window_bits in the response although the client did not offer it');
        break;
      default:
        problems.push(`unknown parameter ${name}`);
    }
  }
  return { params, problems };
}
