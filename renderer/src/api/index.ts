/**
 * Picks the engine API for this page: the Electron preload's `window.api` when present,
 * otherwise the browser-shell WebSocket client talking to the page's own origin.
 * The chosen object is provided app-wide under `API_KEY`; components and stores read it
 * with `useApi()` and never look at `window.api` themselves.
 */
import { inject } from 'vue';
import type { InjectionKey } from 'vue';
import type { Result, SessionInfo, WsscopeApi } from '../../../shared/api';
import { apiUrlFromLocation, createWsClient } from './ws-client';

declare global {
  interface Window {
    api?: WsscopeApi;
  }
}

/**
 * The API as the page sees it: the contract, plus what only some shells can do. The browser
 * shell streams a chosen file to the server (`uploadFile`, ws-client.ts) instead of reading
 * it into the page.
 */
export interface PageApi extends WsscopeApi {
  uploadFile?(file: Blob & { name: string }): Promise<Result<SessionInfo>>;
}

export type ApiKind = 'electron' | 'browser';
export const API_KEY: InjectionKey<PageApi> = Symbol('wsscope-api');
export const API_KIND_KEY: InjectionKey<ApiKind> = Symbol('wsscope-api-kind');

export function createApi(w: Window): { api: PageApi; kind: ApiKind } {
  if (w.api) return { api: w.api, kind: 'electron' };
  return { api: createWsClient({ url: apiUrlFromLocation(w.location) }), kind: 'browser' };
}

export function useApi(): PageApi {
  const api = inject(API_KEY);
  if (!api) throw new Error('WsscopeApi was not provided (app.provide(API_KEY, api))');
  return api;
}

export function useApiKind(): ApiKind {
  return inject(API_KIND_KEY, 'browser');
}
