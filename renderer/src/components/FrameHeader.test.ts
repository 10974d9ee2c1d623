// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import { flushPromises } from '@vue/test-utils';
import MessagePane from './MessagePane.vue';
import { createFakeApi, detailFor, makeRow, maskedHelloFrame } from '../testing/fake-api';
import { mountWith } from '../testing/mount';

describe('Detail pane of a masked frame', () => {
  function mountHello() {
    const api = createFakeApi();
    const frame = maskedHelloFrame(7);
    const detail = detailFor(makeRow(0, { masked: true, preview: 'Hello' }), frame.payload, [frame]);
    return mountWith(MessagePane, api, { props: { detail } });
  }

  it('shows the 16 first header bits under fin, rsv1-3, opcode, masked and payloadLength', async () => {
    const w = mountHello();
    await flushPromises();
    const heads = w.findAll('.fh-grid th').map((t) => [t.text(), t.attributes('colspan')]);
    expect(heads).toEqual([
      ['fin', '1'],
      ['rsv1', '1'],
      ['rsv2', '1'],
      ['rsv3', '1'],
      ['opcode', '4'],
      ['masked', '1'],
      ['payloadLength', '7'],
    ]);
    const bits = w.findAll('.fh-grid tr.bits td').map((t) => t.text());
    expect(bits.join('')).toBe('1000000110000101');
    const line = (name: string) =>
      w
        .find(`[data-field="${name}"]`)
        .findAll('td')
        .map((td) => td.text())
        .join(' ');
    expect(line('fin')).toBe('1... .... = fin: True');
    expect(line('opcode')).toBe('.... 0001 = opcode: text (1)');
    expect(line('masked')).toBe('1... .... = masked: True');
    expect(line('payloadLength')).toBe('.000 0101 = payloadLength: 5');
    expect(line('maskingKey')).toContain('maskingKey: 37fa213d');
  });

  it('puts the masked wire bytes and the unmasked payload side by side in hex', async () => {
    const w = mountHello();
    await flushPromises();
    const dump = w.find('.frame .hexdump');
    expect(dump.text()).toContain('masking key 37fa213d');
    const lines = dump.findAll('pre').map((p) => p.text());
    expect(lines[0]).toMatch(/^offset\s+masked \(on the wire\)\s+│ unmasked\s+text$/);
    // "Hello" xor 37 fa 21 3d (RFC 6455 section 5.7) = 7f 9f 4d 51 58, on the same line
    expect(lines[1]).toMatch(/^000000  7f 9f 4d 51 58\s+│ 48 65 6c 6c 6f\s+Hello$/);
    expect(w.find('.frame-title').text()).toContain('packets 4');
  });

  it('shows the payload as text, hex and base64', async () => {
    const w = mountHello();
    await flushPromises();
    expect(w.find('[data-test="payload"]').text()).toBe('Hello');
    await w.find('[data-test="view-hex"]').trigger('click');
    expect(w.find('[data-test="payload"]').text()).toContain('48 65 6c 6c 6f');
    await w.find('[data-test="view-base64"]').trigger('click');
    expect(w.find('[data-test="payload"]').text()).toBe('SGVsbG8=');
  });

  it('shows a close code with its meaning and the inflated size of a compressed message', async () => {
    const api = createFakeApi();
    const row = makeRow(1, { opcode: 8, kind: 'close', compressed: false, code: 1009 });
    const close = mountWith(MessagePane, api, {
      props: { detail: detailFor(row, new Uint8Array([0x03, 0xf1]), [], { closeCode: 1009, closeReason: 'too big' }) },
    });
    expect(close.find('[data-test="close"]').text()).toContain('1009 Message Too Big');
    expect(close.find('[data-test="close"]').text()).toContain('too big');

    const z = makeRow(2, { compressed: true, rsv: 4, length: 4000, wireLength: 1000 });
    const comp = mountWith(MessagePane, api, { props: { detail: detailFor(z, new Uint8Array(4000)) } });
    expect(comp.find('[data-test="inflated"]').text()).toContain('ratio 4.00×');
  });
});
