// @vitest-environment happy-dom
import { describe, it, expect, afterEach, vi } from 'vitest';
import { createFakeApi, makeRow } from '../testing/fake-api';
import { piniaWith } from '../testing/mount';
import { packRows } from '../../../shared/row-block';
import { REVEAL_MS, REVEAL_THROTTLE_ROWS, useMessagesStore } from './messages';

/** Rows [from, from + n) as one row block (Batch.rows). */
const block = (from: number, n: number) => packRows(Array.from({ length: n }, (_, i) => makeRow(from + i)));

afterEach(() => {
  vi.useRealTimers();
});

/** A messages store on fake timers whose table holds REVEAL_THROTTLE_ROWS rows, shown, of a session of `total`. */
function atThreshold(total: number): ReturnType<typeof useMessagesStore> {
  vi.useFakeTimers();
  piniaWith(createFakeApi({ rows: [] }));
  const messages = useMessagesStore();
  messages.appendBlock(block(0, REVEAL_THROTTLE_ROWS), total);
  expect(messages.count).toBe(REVEAL_THROTTLE_ROWS);
  return messages;
}

describe('messages store', () => {
  it(`reveals appended row blocks at once below ${REVEAL_THROTTLE_ROWS} rows, then at most every ${REVEAL_MS} ms, and the block that completes the total at once`, () => {
    vi.useFakeTimers();
    piniaWith(createFakeApi({ rows: [] }));
    const messages = useMessagesStore();
    const step = REVEAL_THROTTLE_ROWS / 2;
    const total = REVEAL_THROTTLE_ROWS + 3 * step;
    messages.appendBlock(block(0, step), total);
    expect(messages.count).toBe(step);
    messages.appendBlock(block(step, step), total);
    // the table just reached the threshold: still shown at once
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS);
    messages.appendBlock(block(2 * step, step), total);
    // within REVEAL_MS of the last reveal: in the table, not yet in the views
    expect(messages.table.length).toBe(REVEAL_THROTTLE_ROWS + step);
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS);
    messages.appendBlock(block(3 * step, step), total);
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS);
    vi.advanceTimersByTime(REVEAL_MS);
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS + 2 * step);
    // the last block completes the announced total: shown at once
    messages.appendBlock(block(4 * step, step), total);
    expect(messages.count).toBe(total);
  });

  it('drops a pending reveal with the session', () => {
    const total = 3 * REVEAL_THROTTLE_ROWS;
    const messages = atThreshold(total);
    messages.appendBlock(block(REVEAL_THROTTLE_ROWS, 10), total);
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS);
    messages.reset();
    // the new session's first rows are not held back, and the old reveal shows nothing
    messages.appendBlock(block(0, 10), 10);
    expect(messages.count).toBe(10);
    vi.advanceTimersByTime(REVEAL_MS);
    expect(messages.count).toBe(10);
  });

  it('renders a due reveal past the threshold in a task of its own, not in the task that appended the rows', () => {
    const total = 3 * REVEAL_THROTTLE_ROWS;
    const messages = atThreshold(total);
    vi.advanceTimersByTime(10 * REVEAL_MS);
    // the last reveal is long past: due, yet the views see the rows only once the timer's task ran
    messages.appendBlock(block(REVEAL_THROTTLE_ROWS, 10), total);
    expect(messages.table.length).toBe(REVEAL_THROTTLE_ROWS + 10);
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS);
    vi.advanceTimersByTime(0);
    expect(messages.count).toBe(REVEAL_THROTTLE_ROWS + 10);
  });
});
