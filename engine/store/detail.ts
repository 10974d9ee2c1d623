/**
 * The detail pane's view of one message (MessageDetail of shared/api.ts): its timeline row,
 * its payload, up to DETAIL_MAX_FRAMES frames with their header bytes, bits, wire payload and
 * unmasked payload, the findings about its frames, and the close code, reason and meaning of a
 * close message. Payloads are cut to DETAIL_BYTE_LIMIT.
 *
 * Memory: every byte array in the answer is a fresh copy (re-read from the payload store,
 * which may read its spill file), owned by the caller.
 */
import type { EngineIoSession, FrameDetail, MessageDetail, PollingBodyRow } from '../../shared/api';
import { DETAIL_BYTE_LIMIT, ENGINE_IO_BODIES_LISTED, ENGINE_IO_PACKETS_LISTED } from '../../shared/api';
import { describeAppPacket } from '../../shared/app';
import { closeCodeMeaning, closeReason } from '../../shared/close';
import { binaryTrees } from '../app/binary-tree';
import { unmask } from '../ws/unmask';
import { frameFields, timelineRow } from './rows';
import { FRAME, type SessionData } from './session-data';

/** Maximum frames listed in one MessageDetail. */
export const DETAIL_MAX_FRAMES = 1000;

/** Everything about message `index` for the detail pane, or null. */
export function messageDetail(d: SessionData, index: number): MessageDetail | null {
  const r = d.messageRow(index);
  if (r < 0) return null;
  const row = timelineRow(d, r);
  const fullLen = d.messageKept(r);
  const cut = Math.min(fullLen, DETAIL_BYTE_LIMIT);
  const data = d.payloads.read(d.messageOffset(r), cut);
  const frames: FrameDetail[] = [];
  const list = d.messageFrames(r);
  const total = list.length;
  const count = Math.min(total, DETAIL_MAX_FRAMES);
  const findingIdx: number[] = [];
  for (let k = 0; k < total; k++) {
    const fi = list[k];
    const about = d.findingsByFrame.get(fi);
    if (about) findingIdx.push(...about);
    if (k >= count) continue;
    const fr = d.frameRow(fi);
    if (fr >= 0) frames.push(frameDetail(d, fr));
  }
  const detail: MessageDetail = {
    row,
    frames,
    data,
    dataTruncated: row.truncated || cut < fullLen,
    findings: findingIdx.sort((a, b) => a - b).map((i) => d.findings[i]),
  };
  appDetail(d, r, detail);
  binaryDetail(detail);
  if (row.code !== undefined) {
    detail.closeCode = row.code;
    detail.closeReason = closeReason(data);
    detail.closeMeaning = closeCodeMeaning(row.code);
  }
  return detail;
}

/** Replies listed in one MessageDetail at most. */
export const DETAIL_MAX_REPLIES = 64;

/** The decoded packets of message row `r`, and the links between a reply and its request. */
function appDetail(d: SessionData, r: number, detail: MessageDetail): void {
  const app = d.app.packets(r);
  if (app === undefined) return;
  detail.app = app;
  const req = d.app.requestOf(r);
  if (req !== undefined) detail.request = d.messageIndex(req);
  const replies = d.app.repliesOf(r);
  if (replies) detail.replies = replies.slice(0, DETAIL_MAX_REPLIES).map((x) => d.messageIndex(x));
}

/** A whole binary payload as MessagePack, CBOR or protobuf trees, when it parses as one (engine/app/binary-tree.ts). */
function binaryDetail(detail: MessageDetail): void {
  if (detail.row.kind !== 'binary' || detail.dataTruncated) return;
  const trees = binaryTrees(detail.data);
  if (trees.length > 0) detail.trees = trees;
}

/** Frame row `fr` for the detail pane: header bits and bytes, wire and unmasked payload (both cut to DETAIL_BYTE_LIMIT). */
export function frameDetail(d: SessionData, fr: number): FrameDetail {
  const f = d.frames.cols;
  const fields = frameFields(d, fr);
  let wirePayload: Uint8Array = new Uint8Array(0);
  if (f.flags.get(fr) & FRAME.HAS_WIRE) wirePayload = d.payloads.read(d.frameOffset(fr), Math.min(d.frameKept(fr), DETAIL_BYTE_LIMIT));
  // the stored bytes are the wire's: unmasked into a new buffer, both are shown; the key is
  // the header's last 4 bytes (RFC 6455 section 5.2)
  const h = fields.header;
  const payload = fields.maskKey ? unmask(wirePayload, h.subarray(h.length - 4)) : wirePayload;
  const first = d.frameFirstPacket(fr);
  const last = f.packet.get(fr);
  return { ...fields, wirePayload, payload, packets: first && first !== last ? [first, last] : [last] };
}

/**
 * The Engine.IO session WebSocket connection `conn` upgraded (its handshake's `sid`), with the
 * long-polling bodies of that sid (engine/http/polling.ts): null when the connection's
 * handshake names no sid. Bounded: ENGINE_IO_BODIES_LISTED bodies, ENGINE_IO_PACKETS_LISTED
 * packet descriptions per body; the counts cover all.
 */
export function engineIoSession(d: SessionData, conn: number): EngineIoSession | null {
  const hs = d.conns.get(conn)?.handshake;
  if (!hs?.sid) return null;
  const all = d.app.pollingOf(hs.sid);
  const conns: number[] = [];
  for (const e of all) if (!conns.includes(e.conn)) conns.push(e.conn);
  const eio = /[?&]EIO=(\d)(&|$)/.exec(hs.path);
  const bodies = all.slice(0, ENGINE_IO_BODIES_LISTED).map(
    (e): PollingBodyRow => ({
      conn: e.conn,
      dir: e.dir,
      ts: e.ts,
      packet: e.packet,
      method: e.method,
      length: e.length,
      truncated: e.truncated,
      packets: e.app.slice(0, ENGINE_IO_PACKETS_LISTED).map(describeAppPacket),
      packetCount: e.app.length,
    }),
  );
  return {
    sid: hs.sid,
    eio: eio ? Number(eio[1]) : 0,
    conn,
    upgradeTs: hs.ts,
    total: all.length,
    beforeUpgrade: all.filter((e) => e.ts < hs.ts).length,
    first: all.length ? all[0].ts : 0,
    last: all.length ? all[all.length - 1].ts : 0,
    conns,
    bodies,
  };
}
