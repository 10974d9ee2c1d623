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
    // live-capture tests share the loopback interface; their files are serialised by name
    fileParallelism: true,
  },
});
