/**
 * Renderer entry: creates the Vue app with Pinia and provides the engine API chosen by
 * `createApi` (Electron preload's `window.api`, else the browser-shell WebSocket client).
 */
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { API_KEY, API_KIND_KEY, createApi } from './api/index';
import './styles.css';

const { api, kind } = createApi(window);
const app = createApp(App);
app.provide(API_KEY, api);
app.provide(API_KIND_KEY, kind);
app.use(createPinia());
app.mount('#app');
