/**
 * The readable form of engine events for `wsscope read` / `wsscope capture` (one line per
 * message, tshark-like). Payload text is escaped: control and bidi characters never reach
 * the terminal raw (a capture could otherwise rewrite the user's screen).
 */
import type { EngineEvent, MessageEvent } from '../../shared/events';
import { closeCodeMeaning, opcodeName } from '../../shared/labels';
import { describeAppPacket } from '../../shared/app';

export interface FormatOptions {
  color: boolean;
  /** also print one line per frame */
  frames: boolean;
  /** characters of payload preview */
  preview: number;
}

const C = { reset: '\x1b[0m', dim: '\x1b[2m', red: '\x1b[31m', yellow: '\x1b[33m', cyan: '\x1b[36m', green: '\x1b[32m', magenta: '\x1b[35m', bold: '\x1b[1m' };

/** Escape a string for a terminal: C0/C1 controls, DEL, bidi and zero-width controls as \u escapes. */
export function escapeForTerminal(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function hex(b: Uint8Array, max: number): string {
  let s = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return b.length > max ? `${s}...` : s;
}

export class TextFormatter {
  private t0 = -1;
  /** connections whose TLS decrypted (their handshakes read wss://); dropped at connection-end */
  private readonly secure = new Set<number>();
  constructor(private readonly o: FormatOptions) {}

  private c(code: keyof typeof C, s: string): string {
    return this.o.color ? C[code] + s + C.reset : s;
  }

  private time(ts: number): string {
    if (this.t0 < 0) this.t0 = ts;
    return (ts - this.t0).toFixed(6).padStart(12);
  }

  private arrow(dir: 'client' | 'server'): string {
    return dir === 'client' ? this.c('cyan', 'C->S') : this.c('magenta', 'S->C');
  }

  private preview(m: MessageEvent): string {
    const max = this.o.preview;
    if (m.opcode === 8) {
      if (m.code === undefined) return '(no status)';
      return `${m.code} ${closeCodeMeaning(m.code)}${m.reason ? ` "${escapeForTerminal(m.reason.slice(0, max))}"` : ''}`;
    }
    if (m.opcode === 1 && m.utf8Valid) {
      const text = Buffer.from(m.data.buffer, m.data.byteOffset, Math.min(m.data.byteLength, max * 4)).toString('utf8');
      const cut = text.length > max || m.data.byteLength > max * 4;
      return `"${escapeForTerminal(text.slice(0, max))}${cut ? '...' : ''}"`;
    }
    // ping/pong payloads are often short ASCII ("heartbeat", a timestamp): show them as text
    if ((m.opcode === 9 || m.opcode === 10) && m.data.length > 0 && m.data.every((b) => b >= 0x20 && b < 0x7f)) {
      return `"${escapeForTerminal(Buffer.from(m.data.buffer, m.data.byteOffset, Math.min(m.data.length, max)).toString('latin1'))}${m.data.length > max ? '...' : ''}"`;
    }
    return m.data.length ? `hex ${hex(m.data, Math.max(8, max >> 2))}` : '(empty)';
  }

  format(ev: EngineEvent): string | null {
    switch (ev.type) {
      case 'connection':
        // a WebSocket on an HTTP/2 stream of a decrypted TLS connection is wss:// too
        if (ev.parent !== undefined && this.secure.has(ev.parent)) this.secure.add(ev.id);
        return this.c('bold', `#${ev.id} ${ev.transport} ${ev.client} -> ${ev.server}`) + (ev.http2 ? ` http2 stream ${ev.h2Stream} of #${ev.parent}` : '') + this.c('dim', ` (packet ${ev.packet})`);
      case 'handshake': {
        const ok = ev.websocket ? this.c('green', `${ev.status} ${ev.statusText}`) : this.c('yellow', ev.status ? `${ev.status} ${ev.statusText}` : 'no answer captured');
        const acc = ev.status === 101 ? (ev.acceptValid ? 'accept ok' : this.c('red', 'accept WRONG')) : '';
        const extra = [ev.protocol && `protocol=${ev.protocol}`, ev.extensions && `extensions=${ev.extensions}`, ev.sid && `sid=${escapeForTerminal(ev.sid)}`].filter(Boolean).join(' ');
        return `#${ev.conn} ${this.time(ev.ts)} ${ev.method} ${this.secure.has(ev.conn) ? 'wss' : 'ws'}://${escapeForTerminal(ev.host)}${escapeForTerminal(ev.path)} -> ${ok} ${acc} ${extra}`.trimEnd();
      }
      case 'frame':
        if (!this.o.frames) return null;
        return this.c('dim', `#${ev.conn} ${this.time(ev.ts)} ${ev.dir === 'client' ? 'C->S' : 'S->C'}   frame fin=${+ev.fin} rsv=${+ev.rsv1}${+ev.rsv2}${+ev.rsv3} op=${ev.opcode} mask=${ev.masked ? ev.maskKey : '-'} len=${ev.length} pkt=${ev.packet}`);
      case 'message': {
        const flags = `${ev.compressed ? ' deflate' : ''}${ev.frames.length > 1 ? ` ${ev.frames.length} frames` : ''}${ev.truncated ? ' truncated' : ''}`;
        const line = `#${ev.conn} ${this.time(ev.ts)} ${this.arrow(ev.dir)} ${opcodeName(ev.opcode).padEnd(6)} ${String(ev.length).padStart(7)}B${flags} ${this.preview(ev)}`;
        // what the message means in its subprotocol (engine/app/), after the payload
        return ev.app !== undefined && ev.app.length > 0 ? `${line} ${this.c('green', `=> ${escapeForTerminal(ev.app.map(describeAppPacket).join('; '))}`)}` : line;
      }
      case 'finding': {
        const col = ev.severity === 'error' ? 'red' : ev.severity === 'warning' ? 'yellow' : 'dim';
        const where = ev.conn ? `#${ev.conn}` : '--';
        return this.c(col, `${where} ${this.time(ev.ts)} ${ev.dir ? (ev.dir === 'client' ? 'C->S' : 'S->C') : '    '} !! ${ev.severity} ${ev.id} (packet ${ev.packet}): ${escapeForTerminal(ev.text)}`);
      }
      case 'datagram':
        return null;
      case 'tls': {
        if (ev.decrypted) this.secure.add(ev.conn);
        const what = [ev.version || 'TLS', ev.cipherSuite, ev.sni && `sni=${escapeForTerminal(ev.sni)}`, ev.alpn && `alpn=${escapeForTerminal(ev.alpn)}`].filter(Boolean).join(' ');
        const state = ev.decrypted ? this.c('green', 'decrypted') : this.c('yellow', `not decrypted: ${ev.reason ?? ''} (${ev.records.client}+${ev.records.server} records)`);
        return `#${ev.conn} ${this.time(ev.ts)} ${what} ${state}`;
      }
      case 'http2-request':
        return this.c('dim', `#${ev.conn} ${this.time(ev.ts)} http2 stream ${ev.stream} ${escapeForTerminal(ev.method)} ${escapeForTerminal(ev.path)} -> ${ev.status || 'no answer'}${ev.reset ? ' reset' : ''}${ev.pushed ? ' pushed' : ''} (${ev.requestBytes}B up, ${ev.responseBytes}B down)`);
      case 'polling': {
        // an Engine.IO long-polling body (engine/http/polling.ts), with what its packets mean
        const head = `#${ev.conn} ${this.time(ev.ts)} ${this.arrow(ev.dir)} ${'poll'.padEnd(6)} ${String(ev.length).padStart(7)}B${ev.truncated ? ' truncated' : ''} ${escapeForTerminal(ev.method)} sid=${escapeForTerminal(ev.sid || '-')}`;
        return ev.app.length > 0 ? `${head} ${this.c('green', `=> ${escapeForTerminal(ev.app.map(describeAppPacket).join('; '))}`)}` : head;
      }
      case 'connection-end':
        this.secure.delete(ev.conn);
        return null;
      case 'summary':
        return this.c('bold', `${ev.packets} packets, ${ev.connections} connections, ${ev.frames} frames, ${ev.messages} messages, ${ev.findings} findings, ${ev.bytes} bytes over ${ev.seconds.toFixed(3)} s`);
    }
  }
}
