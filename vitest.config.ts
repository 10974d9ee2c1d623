import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

/**
 * Tests that measure a process's peak RSS against the 300 MB target (an engine host each):
 * they run after every other file, one at a time. Alone they read 256-274 MB on the
 * 2,000,000-message case, in eight runs; beside the rest of the suite two fresh-clone CI runs
 * read 305 and 307 MB, which reproducing with CPU load, a cold transpile cache or a handful of
 * heavy files side by side did not explain. A measurement shares the machine with nothing.
 */
const MEMORY = ['test/engine-rss*.test.ts'];
const ALL = '{engine,shared,electron,renderer,test,bin,scripts}/**/*.test.ts';

export default defineConfig({
  plugins: [vue()],
  test: {
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: [ALL],
          exclude: ['**/node_modules/**', ...MEMORY],
          // Files run in parallel, live-capture ones too: every capture on `lo` filters on its
          // own server's ephemeral port (`tcp port N`; engine/capture/live.test.ts's `tcp port 9`
          // expects silence), so captures running side by side never see each other's traffic.
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'memory',
          include: MEMORY,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
