/**
 * Preload (sandboxed, context-isolated): exposes exactly one object, `window.api`, built
 * by ./api.ts. Bundled into one CommonJS file (sandboxed preloads cannot load modules).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { buildApi } from './api';

contextBridge.exposeInMainWorld('api', buildApi(ipcRenderer));
