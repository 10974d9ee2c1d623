/**
 * The golden form of a decode: a normalised, diff-friendly subset of the engine's events
 * (connections, handshakes, the first frames, every message as opcode/length/sha256, every
 * finding as id/severity/conn/dir/packet, the summary). Long lists are capped so a million
 * frames still give a small file; the counts stay exact.
 *
 * Memory: `GoldenCollector` keeps only strings (bounded by the caps) and hashes payloads as
 * they arrive; it never keeps event buffers.
 */
import { createHash } from 'node:crypto';
import type { EngineEvent, SummaryEvent } from '../../shared/events';

export const MAX_FRAMES_LISTED = 40;
export const MAX_MESSAGES_LISTED = 400;
export const MAX_FINDINGS_LISTED = 200;

export interface Golden {
  /** CaptureFileError code when the reader refused the file */
  error?: string;
  connections: string[];
  handshakes: string[];
  framesListed: string[];
  messages: string[];
  findings: string[];
  /** per finding id: how many */
  findingCounts: Record<string, number>;
  summary?: Omit<SummaryEvent, 'type'>;
}

export class GoldenCollector {
  readonly g: Golden = { connections: [], handshakes: [], framesListed: [], messages: [], findings: [], findingCounts: {} };

  readonly sink = (ev: EngineEvent): void => {
    const g = this.g;
    switch (ev.type) {
      case 'connection':
        g.connections.push(`${ev.id} ${ev.transport} ${ev.client} > ${ev.server} by ${ev.roleBy} p${ev.packet}`);
        break;
      case 'handshake':
        g.handshakes.push(`${ev.conn} ${ev.method} ${ev.path} ${ev.status} accept${ev.acceptValid ? 'ok' : 'bad'} ws${ev.websocket ? 1 : 0} ext[${ev.extensions}] proto[${ev.protocol}] p${ev.packet}`);
        break;
      case 'frame':
        if (g.framesListed.length < MAX_FRAMES_LISTED) {
          const rsv = (ev.rsv1 ? 4 : 0) | (ev.rsv2 ? 2 : 0) | (ev.rsv3 ? 1 : 0);
          g.framesListed.push(`${ev.conn} ${ev.dir} #${ev.index} fin${ev.fin ? 1 : 0} rsv${rsv} op${ev.opcode} m${ev.masked ? ev.maskKey : '-'} len${ev.length} hl${ev.headerLength} p${ev.firstPacket}-${ev.packet}`);
        }
        break;
      case 'message':
        if (g.messages.length < MAX_MESSAGES_LISTED) {
          const sha = createHash('sha256').update(ev.data).digest('hex').slice(0, 16);
          let s = `${ev.conn} ${ev.dir} #${ev.index} op${ev.opcode} len${ev.length} wire${ev.wireLength} z${ev.compressed ? 1 : 0}${ev.truncated ? ' trunc' : ''} u${ev.utf8Valid ? 1 : 0} kept${ev.data.length} sha${sha} frames${ev.frames.length} p${ev.packet}`;
          if (ev.code !== undefined) s += ` code${ev.code} reason${JSON.stringify(ev.reason ?? '')}`;
          g.messages.push(s);
        }
        break;
      case 'finding':
        g.findingCounts[ev.id] = (g.findingCounts[ev.id] ?? 0) + 1;
        if (g.findings.length < MAX_FINDINGS_LISTED) g.findings.push(`${ev.id} ${ev.severity} c${ev.conn} ${ev.dir ?? '-'} p${ev.packet}${ev.frame !== undefined ? ` f${ev.frame}` : ''}`);
        break;
      case 'summary': {
        const { type: _t, ...rest } = ev;
        void _t;
        g.summary = rest;
        break;
      }
      default:
        break;
    }
  };
}

/** Finding ids present in a golden decode. */
export function findingIds(g: Golden): Set<string> {
  return new Set(Object.keys(g.findingCounts));
}
