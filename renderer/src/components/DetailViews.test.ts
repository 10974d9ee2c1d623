// @vitest-environment happy-dom
import { describe, it, expect, afterEach } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import HexDump from './HexDump.vue';
import MessagePane from './MessagePane.vue';
import { createFakeApi, detailFor, makeRow, maskedHelloFrame } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import type { FindingRow, FrameDetail } from '../../../shared/api';

const enc = (s: string) => new TextEncoder().encode(s);

/** happy-dom lays nothing out: give every element a width, as a pane of `px` would. */
function withWidth(px: number): () => void {
  const d = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth');
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => px });
  return () => {
    if (d) Object.defineProperty(HTMLElement.prototype, 'clientWidth', d);
  };
}

/** An unmasked text frame (from the fake API's masked "Hello"), with `over` applied. */
function frame(over: Partial<FrameDetail>): FrameDetail {
  const empty = new Uint8Array(0);
  return { ...maskedHelloFrame(0), masked: false, maskKey: '', length: 0, header: new Uint8Array([0x81, 0]), wirePayload: empty, payload: empty, ...over };
}

describe('Detail pane views', () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it('dumps 8 bytes a line in a 400 px pane so the ASCII column stays in view, 16 when wide', async () => {
    restore = withWidth(400);
    const bytes = enc('{"type":"data-message","topic":"/zeek/event"}');
    const w = mountWith(HexDump, createFakeApi(), { props: { bytes } });
    await flushPromises();
    const lines = w.find('pre').text().split('\n');
    expect(w.find('.hexdump').attributes('data-per-row')).toBe('8');
    expect(lines[0]).toBe('00000000  7b 22 74 79 70 65 22 3a  |{"type":|');
    for (const l of lines) expect(l.length * 7.3).toBeLessThanOrEqual(400);
    w.unmount();
    restore();
    restore = withWidth(1000);
    const wide = mountWith(HexDump, createFakeApi(), { props: { bytes } });
    await flushPromises();
    expect(wide.find('.hexdump').attributes('data-per-row')).toBe('16');
    wide.unmount();
  });

  it('puts masked and unmasked bytes 4 a line side by side in a narrow pane', async () => {
    restore = withWidth(300);
    const plain = enc('Hello, world');
    const wire = plain.map((b, i) => b ^ [0x37, 0xfa, 0x21, 0x3d][i % 4]);
    const w = mountWith(HexDump, createFakeApi(), { props: { bytes: wire, unmasked: plain } });
    await flushPromises();
    const pres = w.findAll('pre').map((p) => p.text());
    expect(pres[1].split('\n')[0]).toBe('000000  7f 9f 4d 51 │ 48 65 6c 6c  Hell');
    w.unmount();
  });

  it('shows a 64-bit length as two lines of four bytes and every field value whole', async () => {
    // chat.pcapng's 70,000-byte message: 127 then 00 00 00 00 00 01 11 70, masked
    const header = new Uint8Array([0x81, 0xff, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 1, 2, 3, 4]);
    const f = frame({ header, masked: true, maskKey: '01020304', length: 70_000 });
    const d = detailFor(makeRow(4, { length: 70_000 }), new Uint8Array(0), [f]);
    const w = mountWith(MessagePane, createFakeApi(), { props: { detail: d } });
    await flushPromises();
    const ext = w.find('[data-field="extendedPayloadLength"]');
    expect(ext.find('.pat').text()).toBe('00 00 00 00\n00 01 11 70');
    expect(ext.find('.val').text()).toBe('70000 (64 bits)');
    expect(w.find('[data-field="rsv1"] .val').text()).toBe('False');
    expect(w.find('[data-field="payloadLength"] .val').text()).toBe('127 (64-bit extended length follows)');
    expect(w.find('[data-field="maskingKey"] .val').text()).toBe('01020304');
    expect(w.text()).toContain('#5 · connection 1');
    w.unmount();
  });

  it("shows a close frame's reason in the Text tab, not its status bytes", async () => {
    const data = new Uint8Array([0x03, 0xe8, ...enc('see you')]);
    const d = detailFor(makeRow(0, { opcode: 8, kind: 'close', code: 1000 }), data, [], { closeCode: 1000, closeReason: 'see you', closeMeaning: 'Normal Closure' });
    const w = mountWith(MessagePane, createFakeApi(), { props: { detail: d } });
    await flushPromises();
    expect(w.find('[data-test="view-text"]').attributes('aria-selected')).toBe('true');
    expect(w.find('[data-test="text"]').text()).toBe('see you');
    expect(w.find('[data-test="close-text-head"]').text()).toContain('status 1000 Normal Closure');
    const none = detailFor(makeRow(1, { opcode: 8, kind: 'close', code: 1001 }), new Uint8Array([0x03, 0xe9]), [], { closeCode: 1001 });
    await w.setProps({ detail: none });
    expect(w.find('[data-test="text"]').text()).toBe('');
    expect(w.find('[data-test="close-text-head"]').text()).toContain('(none given)');
    w.unmount();
  });

  it('says that the bytes of a message cut by a TCP gap are not in the capture', async () => {
    const f = frame({ length: 1_048_576, wirePayload: new Uint8Array(1000), payload: new Uint8Array(1000) });
    const gap = { index: 3, id: 'tcp-gap', severity: 'warning', conn: 1, ts: 0, text: '4,344 bytes lost' } as FindingRow;
    const d = detailFor(makeRow(2, { truncated: true, length: 1_048_576 }), new Uint8Array(1000), [f], { dataTruncated: true, findings: [gap] });
    const w = mountWith(MessagePane, createFakeApi(), { props: { detail: d } });
    await flushPromises();
    expect(w.find('[data-test="cut-note"]').text()).toContain('1,047,576 bytes of this message are not in the capture');
    w.unmount();
  });
});
