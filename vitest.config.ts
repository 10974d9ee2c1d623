import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['{engine,shared,electron,renderer,test,bin,scripts}/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files run in parallel, live-capture ones too: every capture on `lo` filters on its own
    // server's ephemeral port (`tcp port N`; engine/capture/live.test.ts's `tcp port 9` expects
    // silence), so captures running side by side never see each other's traffic.
    fileParallelism: true,
  },
});
