// @vitest-environment happy-dom
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import TimeAxis from './TimeAxis.vue';
import { createFakeApi, makeRow } from '../testing/fake-api';
import { mountWith, piniaWith } from '../testing/mount';
import { useMessagesStore } from '../stores/messages';
import type { MessageRow } from '../../../shared/api';

interface Bins {
  lanes: number;
  w: number;
  rows: number;
  bins: Uint32Array;
}
interface AxisVm {
  work(): { binned: number; rebins: number };
  bins(): Bins;
  fullBins(): Bins;
}

const T0 = 1_700_000_000;
/** `count` rows from `index` on, on connection `conn`, at the times `ts(i)` gives. */
function rows(index: number, count: number, conn: number, ts: (i: number) => number): MessageRow[] {
  return Array.from({ length: count }, (_, i) => makeRow(index + i, { conn, ts: T0 + ts(i) }));
}

describe('TimeAxis binning', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const pinia = piniaWith(createFakeApi());
    const messages = useMessagesStore();
    const w = mountWith(TimeAxis, createFakeApi(), { pinia });
    return { w, vm: w.vm as unknown as AxisVm, messages };
  }

  it('bins only the new rows of a batch inside the binned range, and equals a full rebin', async () => {
    const { w, vm, messages } = setup();
    // one second of traffic on three connections, the first the busiest
    messages.append([...rows(0, 600, 1, (i) => i / 600), ...rows(600, 300, 2, (i) => i / 300), ...rows(900, 100, 3, (i) => (i + 1) / 100)]);
    await vi.advanceTimersByTimeAsync(2000);
    const first = vm.work();
    expect(vm.bins().rows).toBe(1000);
    expect(vm.bins()).toEqual(vm.fullBins());

    // a burst inside the range, ending at its last time (messages of one packet share its time)
    messages.append(rows(1000, 500, 1, () => 1));
    await vi.advanceTimersByTimeAsync(300);
    expect(vm.work()).toEqual({ binned: first.binned + 500, rebins: first.rebins });
    expect(vm.bins().rows).toBe(1500);
    expect(vm.bins()).toEqual(vm.fullBins());
    w.unmount();
  });

  it('rebins when the time range grows, at most once a second while rows stream in', async () => {
    const { w, vm, messages } = setup();
    messages.append(rows(0, 100, 1, (i) => i / 100));
    await vi.advanceTimersByTimeAsync(2000);
    const start = vm.work();
    // ten batches, each a later tenth of a second, a quarter of a second apart
    for (let b = 1; b <= 10; b++) {
      messages.append(rows(100 * b, 100, 1, (i) => b + i / 100));
      await vi.advanceTimersByTimeAsync(250);
    }
    // 2.5 s of streaming: at most three full rebins, never one per batch
    const during = vm.work().rebins - start.rebins;
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThanOrEqual(3);
    // once the rows stop, the last picture is a full rebin of every row
    await vi.advanceTimersByTimeAsync(1500);
    expect(vm.bins().rows).toBe(1100);
    expect(vm.bins()).toEqual(vm.fullBins());
    w.unmount();
  });

  it('rebins when the busiest-first lanes change', async () => {
    const { w, vm, messages } = setup();
    messages.append([...rows(0, 50, 1, (i) => i / 50), ...rows(50, 10, 2, (i) => (i + 1) / 10)]);
    await vi.advanceTimersByTimeAsync(2000);
    const before = vm.fullBins();
    // connection 2 becomes the busiest, inside the same range: its lane moves to the top
    messages.append(rows(60, 100, 2, () => 1));
    await vi.advanceTimersByTimeAsync(2000);
    const after = vm.bins();
    expect(after).toEqual(vm.fullBins());
    expect(after.bins).not.toEqual(before.bins);
    // lane 0 holds connection 2's 110 messages
    expect(after.bins.subarray(0, after.w).reduce((a, b) => a + b, 0)).toBe(110);
    w.unmount();
  });
});
