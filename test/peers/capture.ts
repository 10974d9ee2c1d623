/**
 * Capture-side helpers for end-to-end tests: a live capture on `lo` feeding the real
 * Pipeline (events collected, awaited by predicate), tshark's WebSocket decode of a file,
 * and normalised rows to compare the two.
 *
 *   const live = await captureLo({ backend: 'cap', port: server.port, file });
 *   ... run peers ...
 *   await live.until((evs) => dataMessages(evs).length >= 6, 'six messages');
 *   const { status } = await live.stop();
 *   expect(frameRows(live.events)).toEqual(tsharkFrameRows(file, server.port));
 */
import { execFileSync } from 'node:child_process';
import { startLiveCapture, type LiveCapture } from '../../engine/capture/live';
import { Pipeline } from '../../engine/pipeline';
import type { CaptureStatus } from '../../shared/api';
import type { EngineEvent, FrameEvent, MessageEvent, SummaryEvent } from '../../shared/events';
import type { PeerMessage } from './peer';

export interface LiveSession {
  capture: LiveCapture;
  /** every event the pipeline emitted so far, in order */
  events: EngineEvent[];
  /** resolves as soon as `pred(events)` holds (checked on every event); rejects after `timeoutMs` */
  until(pred: (events: EngineEvent[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<{ status: CaptureStatus; summary: SummaryEvent }>;
}

export async function captureLo(o: { backend: 'cap' | 'dumpcap'; port: number; file: string }): Promise<LiveSession> {
  const events: EngineEvent[] = [];
  const waiters: Array<{ pred: (e: EngineEvent[]) => boolean; resolve: () => void }> = [];
  const pipe = new Pipeline((ev) => {
    events.push(ev);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].pred(events)) {
        waiters[i].resolve();
        waiters.splice(i, 1);
      }
    }
  });
  const r = await startLiveCapture(
    { iface: 'lo', filter: `tcp port ${o.port}`, backend: o.backend, file: o.file },
    { packet: (rec) => pipe.packet(rec), problem: (p) => pipe.problem(p) },
  );
  if (!r.ok) throw new Error(`capture did not start: ${r.error.code}: ${r.error.message}`);
  const capture = r.value;
  return {
    capture,
    events,
    until: (pred, what, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        if (pred(events)) return resolve();
        const t = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${dataMessages(events).length} data messages decoded, ${capture.status().packets} packets)`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(t);
          resolve();
        };
        waiters.push({ pred, resolve: done });
      }),
    stop: async () => {
      const status = await capture.stop();
      return { status, summary: pipe.finish() };
    },
  };
}

/** Text (1) and binary (2) messages, optionally of one direction. */
export function dataMessages(events: EngineEvent[], dir?: 'client' | 'server'): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.type === 'message' && (e.opcode === 1 || e.opcode === 2) && (!dir || e.dir === dir));
}

/** Comparable form of messages: opcode and payload hex. */
export function messageKeys(ms: Array<MessageEvent | PeerMessage>): string[] {
  return ms.map((m) => `${m.opcode}:${Buffer.from(m.data).toString('hex')}`);
}

/** One row per WebSocket frame, as both wsscope and tshark can state it. */
export interface FrameRow {
  packet: number;
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  /** payload length on the wire */
  length: number;
  /** text frames: the (inflated) text; binary: hex; close: "code reason"; others: "" */
  payload: string;
}

/**
 * wsscope's frame rows. Only single-frame messages carry a payload (tshark shows
 * continuation frames' payload differently); the test peers send unfragmented messages.
 */
export function frameRows(events: EngineEvent[]): FrameRow[] {
  const frames = new Map<number, FrameEvent>();
  const rows: FrameRow[] = [];
  for (const e of events) {
    if (e.type === 'frame') frames.set(e.index, e);
    if (e.type !== 'message') continue;
    for (const fi of e.frames) {
      const f = frames.get(fi)!;
      let payload = '';
      if (e.frames.length === 1) {
        if (e.opcode === 1) payload = Buffer.from(e.data).toString('utf8');
        else if (e.opcode === 2) payload = Buffer.from(e.data).toString('hex');
        else if (e.opcode === 8) payload = e.code === undefined ? '' : `${e.code} ${e.reason ?? ''}`;
      }
      rows.push({ packet: f.packet, fin: f.fin, rsv1: f.rsv1, opcode: f.opcode, masked: f.masked, length: f.length, payload });
    }
  }
  return rows.sort((a, b) => a.packet - b.packet);
}

const FIELDS = [
  'frame.number',
  'websocket.fin',
  'websocket.rsv',
  'websocket.opcode',
  'websocket.mask',
  'websocket.payload_length',
  'websocket.payload_length_ext_16',
  'websocket.payload_length_ext_64',
  'websocket.payload.text',
  'data.data',
  'websocket.payload.close.status_code',
  'websocket.payload.close.reason',
];

/**
 * tshark's frame rows for `file` (`-d tcp.port==PORT,http` so the upgrade is dissected on a
 * test port; `extra` replaces that, e.g. with TLS and a key log). Several frames in one packet come as comma-joined fields; payload fields exist
 * only for the frames that have one, so they are dealt out by opcode. Test payloads must not
 * contain commas or tabs.
 */
export function tsharkFrameRows(file: string, port: number, extra: string[] = ['-d', `tcp.port==${port},http`]): FrameRow[] {
  const out = execFileSync('tshark', ['-r', file, ...extra, '-Y', 'websocket', '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f]), '-E', 'occurrence=a', '-E', 'aggregator=,'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const rows: FrameRow[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [no, fin, rsv, opcode, mask, len7, len16, len64, text, data, code, reason] = line.split('\t');
    const list = (s: string): string[] => (s === '' ? [] : s.split(','));
    const fins = list(fin);
    const rsvs = list(rsv);
    const ops = list(opcode);
    const masks = list(mask);
    const l7 = list(len7);
    const l16 = list(len16);
    const l64 = list(len64);
    const texts = list(text);
    const datas = list(data);
    const codes = list(code);
    const reasons = list(reason);
    for (let i = 0; i < ops.length; i++) {
      const op = Number(ops[i]);
      const short = Number(l7[i]);
      const length = short === 126 ? Number(l16.shift()) : short === 127 ? Number(l64.shift()) : short;
      let payload = '';
      if (op === 1) payload = length === 0 ? '' : (texts.shift() ?? '');
      else if (op === 2) payload = length === 0 ? '' : (datas.shift() ?? '').replace(/:/g, '');
      else if (op === 8) payload = codes.length ? `${codes.shift()} ${reasons.shift() ?? ''}` : '';
      rows.push({ packet: Number(no), fin: fins[i] === '1' || fins[i] === 'True', rsv1: (Number(rsvs[i]) & 4) !== 0, opcode: op, masked: masks[i] === '1' || masks[i] === 'True', length, payload });
    }
  }
  return rows;
}

/** Packets in a capture file as tshark counts them (0 for an unreadable file). */
export function tsharkPacketCount(file: string): number {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter(Boolean).length;
}
