import { describe, it, expect } from 'vitest';
import { selfTimes, type CpuProfile } from './bench-profile';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

describe('selfTimes', () => {
  it("adds each sample's following interval to the function it landed in, highest first", () => {
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3] },
        { id: 2, callFrame: frame('scan', 'http://127.0.0.1:1/assets/index-abc.js?v=1', 41) },
        { id: 3, callFrame: frame('', 'http://127.0.0.1:1/assets/index-abc.js', 9) },
      ],
      // samples in scan, scan, the anonymous function, scan; the intervals after them are
      // 2000, 3000 and 1000 µs, the time after the last sample is unknown
      samples: [2, 2, 3, 2],
      timeDeltas: [0, 2000, 3000, 1000],
      startTime: 0,
      endTime: 6000,
    };
    expect(selfTimes(p)).toEqual([
      { fn: 'scan index-abc.js:42', ms: 5, share: 5 / 6 },
      { fn: '(anonymous) index-abc.js:10', ms: 1, share: 1 / 6 },
    ]);
    expect(selfTimes(p, 1)).toHaveLength(1);
  });
});
