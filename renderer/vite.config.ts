// Standalone build of the renderer for the browser shell and for checks
// (`npx vite build -c renderer/vite.config.ts`); Electron builds it through electron.vite.config.ts.
// No node: imports here (renderer/** stays Node-free by lint): paths come from import.meta.url.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root,
  base: './',
  plugins: [vue()],
  build: {
    outDir: decodeURIComponent(new URL('../out/renderer', import.meta.url).pathname),
    emptyOutDir: true,
    // no inline scripts or data: modules: the CSP is script-src 'self'
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
