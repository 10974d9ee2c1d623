/**
 * TcpReassembler.acknowledge: a hole the peer acknowledged is declared lost at once, so the
 * bytes behind it are delivered in capture order (step tables: segment or ACK in, chunks out).
 */
import { describe, it, expect } from 'vitest';
import { TcpReassembler } from './reassembler';
import { TCP_ACK, TCP_FIN, TCP_SYN } from '../types';
import type { ChunkMeta } from '../types';

type Step = ['seg', number, string, number?] | ['ack', number];

/** runs steps on a stream with ISN 999 (data from seq 1000); returns "skip:text" chunks and the end */
function steps(list: Step[]): { out: string[]; buffered: number; released: number[] } {
  const out: string[] = [];
  const r = new TcpReassembler({
    data: (b, skip) => out.push(`${skip}:${Buffer.from(b).toString()}`),
    end: (reason) => out.push(`end ${reason}`),
  });
  const released: number[] = [];
  let ts = 0;
  const meta = (): ChunkMeta => ({ ts: ++ts, packet: ts });
  r.segment(999, TCP_SYN, new Uint8Array(0), 0, meta());
  for (const s of list) {
    if (s[0] === 'ack') released.push(r.acknowledge(s[1]));
    else r.segment(s[1], TCP_ACK | (s[3] ?? 0), Buffer.from(s[2]), 0, meta());
  }
  return { out, buffered: r.bufferedBytes, released };
}

describe('holes the peer acknowledged', () => {
  it('delivers what waits behind a hole as soon as an ACK covers the hole', () => {
    const r = steps([['seg', 1000, 'aaaa'], ['seg', 1008, 'cccc'], ['seg', 1012, 'dddd'], ['ack', 1016]]);
    expect(r.out).toEqual(['0:aaaa', '4:cccc', '0:dddd']);
    expect([r.buffered, r.released]).toEqual([0, [8]]);
  });

  it('remembers an ACK that came before the bytes behind the hole', () => {
    const r = steps([['seg', 1000, 'aaaa'], ['ack', 1008], ['seg', 1008, 'cccc']]);
    expect(r.out).toEqual(['0:aaaa', '4:cccc']);
  });

  it('skips only the acknowledged part of a hole; its tail may still come', () => {
    const r = steps([['seg', 1000, 'aa'], ['seg', 1010, 'dd'], ['ack', 1004], ['seg', 1004, 'cccccc']]);
    expect(r.out).toEqual(['0:aa', '2:cccccc', '0:dd']);
  });

  it('keeps waiting while the ACK is below the hole (a retransmission will come)', () => {
    const r = steps([['seg', 1000, 'aaaa'], ['seg', 1008, 'cccc'], ['ack', 1004], ['seg', 1004, 'bbbb']]);
    expect(r.out).toEqual(['0:aaaa', '0:bbbb', '0:cccc']);
    expect(r.released).toEqual([0]);
  });

  it('ends the stream when the FIN waited behind the acknowledged hole', () => {
    const r = steps([['seg', 1000, 'aa'], ['seg', 1004, 'cc', TCP_FIN], ['ack', 1007]]);
    expect(r.out).toEqual(['0:aa', '2:cc', 'end fin']);
  });

  it('ignores an old ACK (below what was delivered) and one before the stream started', () => {
    const r = steps([['ack', 900], ['seg', 1000, 'aaaa'], ['seg', 1008, 'cc'], ['ack', 1002]]);
    expect(r.out).toEqual(['0:aaaa']);
    expect(r.buffered).toBe(2);
  });
});
