/**
 * Electron main entry: hands the real Electron modules to createApp (./app.ts). Built by
 * electron-vite to out/main/index.js, next to out/main/host.js (the engine process entry),
 * out/preload/index.cjs and out/renderer/.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, utilityProcess } from 'electron';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createApp } from './app';

const here = dirname(fileURLToPath(import.meta.url));

createApp({
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  dialog,
  protocol,
  utilityProcess,
  paths: {
    preload: join(here, '../preload/index.cjs'),
    host: join(here, 'host.js'),
    renderer: join(here, '../renderer'),
  },
  devUrl: !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined,
});
