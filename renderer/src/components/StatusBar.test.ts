// @vitest-environment happy-dom
import { describe, it, expect } from 'vitest';
import StatusBar from './StatusBar.vue';
import { createFakeApi } from '../testing/fake-api';
import { mountWith } from '../testing/mount';
import { useCaptureStore } from '../stores/capture';

describe('StatusBar', () => {
  it('says what a finished session lacks (a full disk), beside the error the engine pushed', async () => {
    const w = mountWith(StatusBar, createFakeApi());
    const capture = useCaptureStore();
    capture.progress = { bytesRead: 100, totalBytes: 100, packets: 9, done: true };
    await w.vm.$nextTick();
    expect(w.find('[data-test="incomplete"]').exists()).toBe(false);
    const why = 'the payloads of 3 frames and messages were not kept whole: writing them to the scratch folder failed (ENOSPC)';
    capture.progress = { ...capture.progress, incomplete: why };
    capture.pushError({ code: 'disk-full', message: 'Writing decoded payloads to /tmp/x failed: the disk is full (ENOSPC).' });
    await w.vm.$nextTick();
    expect(w.find('[data-test="incomplete"]').text()).toBe(`incomplete: ${why}`);
    expect(w.find('[data-test="error"]').text()).toContain('disk-full');
  });
});
