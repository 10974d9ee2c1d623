/**
 * The renderer's Vite configuration, in one place: electron.vite.config.ts uses it for the
 * desktop app's renderer, and `wsscope serve` builds with it when out/renderer is missing.
 * The output is static files only (no inline scripts: the CSP is script-src 'self').
 *
 * Loaded lazily by the server (it pulls in Vite and the Vue plugin).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import vue from '@vitejs/plugin-vue';
import type { UserConfig } from 'vite';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RENDERER_ROOT = join(REPO_ROOT, 'renderer');
export const RENDERER_OUT = join(REPO_ROOT, 'out', 'renderer');

/** Renderer config shared by electron-vite and the serve build. */
export function rendererConfig(outDir = RENDERER_OUT): UserConfig {
  return {
    root: RENDERER_ROOT,
    // relative asset URLs: the same build is served from app://wsscope/ and http://127.0.0.1:PORT/
    base: './',
    plugins: [vue()],
    build: {
      outDir,
      emptyOutDir: true,
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      rolldownOptions: { input: join(RENDERER_ROOT, 'index.html') },
    },
  };
}

/** Builds the renderer into `outDir` with Vite's build() API; resolves to `outDir`. */
export async function buildRenderer(outDir = RENDERER_OUT): Promise<string> {
  const { build } = await import('vite');
  await build({ ...rendererConfig(outDir), configFile: false, logLevel: 'warn' });
  if (!existsSync(join(outDir, 'index.html'))) throw new Error(`the renderer build wrote no index.html to ${outDir}`);
  return outDir;
}
