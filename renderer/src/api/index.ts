/**
 * Picks the engine API for this page: the Electron preload's `window.api` when present,
 * otherwise the browser-shell WebSocket client talking to the page's own origin.
 * The chosen object is provided app-wide under `API_KEY`; components and stores read it
 * with `useApi()` and never look at `window.api` themselves.
 */
import { inject } from 'vue';
import type { InjectionKey } from 'vue';
import type { WsscopeApi } from '../../../shared/api';
import { apiUrlFromLocation, createWsClient } from './ws-client';

declare global {
  interface Window {
    api?: WsscopeApi;
  }
}

export type ApiKind = 'electron' | 'browser';
export const API_KEY: InjectionKey<WsscopeApi> = Symbol('wsscope-api');
export const API_KIND_KEY: InjectionKey<ApiKind> = Symbol('wsscope-api-kind');

export function createApi(w: Window): { api: WsscopeApi; kind: ApiKind } {
  if (w.api) return { api: w.api, kind: 'electron' };
  return { api: createWsClient({ url: apiUrlFromLocation(w.location) }), kind: 'browser' };
}

export function useApi(): WsscopeApi {
  const api = inject(API_KEY);
  if (!api) throw new Error('WsscopeApi was not provided (app.provide(API_KEY, api))');
  return api;
}

export function useApiKind(): ApiKind {
  return inject(API_KIND_KEY, 'browser');
}
