/** Mounting helper for component tests: a fresh Pinia and the fake API provided app-wide. */
import { mount } from '@vue/test-utils';
import type { ComponentMountingOptions } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { createApp } from 'vue';
import type { Component } from 'vue';
import { API_KEY, API_KIND_KEY } from '../api/index';
import type { ApiKind } from '../api/index';
import type { FakeApi } from './fake-api';

export function mountWith<C extends Component>(
  comp: C,
  api: FakeApi,
  opts: { props?: Record<string, unknown>; kind?: ApiKind; pinia?: Pinia; attachTo?: Element } = {},
) {
  const pinia = opts.pinia ?? createPinia();
  setActivePinia(pinia);
  return mount(comp, {
    props: opts.props,
    attachTo: opts.attachTo,
    global: { plugins: [pinia], provide: { [API_KEY as symbol]: api, [API_KIND_KEY as symbol]: opts.kind ?? 'browser' } },
  } as ComponentMountingOptions<C>);
}

/** A Pinia installed in an (unmounted) app that provides `api`, for store-level tests. */
export function piniaWith(api: FakeApi, kind: ApiKind = 'browser'): Pinia {
  const pinia = createPinia();
  const app = createApp({ render: () => null });
  app.provide(API_KEY, api);
  app.provide(API_KIND_KEY, kind);
  app.use(pinia);
  setActivePinia(pinia);
  return pinia;
}
