// Desktop app build (electron-vite): main process + engine host process, sandboxed preload,
// renderer. The renderer's config lives in engine/serve/renderer-build.ts so `wsscope serve`
// builds the very same thing.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './engine/serve/renderer-build';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rolldownOptions: {
        // the engine runs in its own utilityProcess: host.js is a second entry of this build
        input: {
          index: resolve(root, 'electron/main/index.ts'),
          host: resolve(root, 'engine/service/host.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      rolldownOptions: {
        input: { index: resolve(root, 'electron/preload/index.ts') },
        // sandboxed preloads are plain scripts with a limited require(): one CommonJS file
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: rendererConfig(resolve(root, 'out/renderer')),
});
