/**
 * The main window and the `app://` protocol that serves the built renderer to it.
 *
 * Security settings (Electron's security checklist, https://www.electronjs.org/docs/latest/tutorial/security):
 * context isolation, sandbox, no Node in the renderer, web security on, no <webview>, no
 * navigation away from the app, no new windows, every permission request denied, and a
 * strict CSP on every app:// response. Captured payloads are hostile; the renderer shows
 * them, so it gets no power beyond the preload's `window.api`.
 *
 * Only `import type` from electron here: the wiring takes its dependencies as arguments so
 * tests pass small fakes.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, normalize, resolve, sep } from 'node:path';
import type { BrowserWindowConstructorOptions, Event as ElectronEvent, HandlerDetails, Session, WindowOpenHandlerResponse } from 'electron';
import { CONTENT_TYPES } from '../../shared/content-types';

export const APP_SCHEME = 'app';
export const APP_HOST = 'wsscope';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** The renderer's CSP in the desktop app: IPC only, so no network at all. */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Privileges of app:// (register with protocol.registerSchemesAsPrivileged before ready). */
export const APP_SCHEME_PRIVILEGES = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false, stream: true } },
];



function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff' } });
}

/**
 * The app:// handler: files of `root` only (no traversal, no listing, other hosts 404),
 * with the CSP and nosniff headers.
 */
export function appProtocolHandler(root: string): (req: { url: string; method?: string }) => Response {
  let realRoot = '';
  return (req) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return notFound();
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return notFound();
    if (req.method && req.method !== 'GET' && req.method !== 'HEAD') return notFound();
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return notFound();
    }
    if (pathname.includes('\0') || pathname.includes('\\')) return notFound();
    if (pathname === '/') pathname = '/index.html';
    try {
      realRoot ||= realpathSync(root);
      const file = realpathSync(resolve(realRoot, '.' + normalize(pathname)));
      if (!file.startsWith(realRoot + sep) || !statSync(file).isFile()) return notFound();
      return new Response(readFileSync(file), {
        status: 200,
        headers: {
          'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'Content-Security-Policy': APP_CSP,
          'X-Content-Type-Options': 'nosniff',
          'Cross-Origin-Opener-Policy': 'same-origin',
        },
      });
    } catch {
      return notFound();
    }
  };
}

/** The parts of BrowserWindow the app uses. */
export interface WindowLike {
  webContents: {
    on(event: 'will-navigate', cb: (e: ElectronEvent, url: string) => void): unknown;
    on(event: 'will-attach-webview', cb: (e: ElectronEvent) => void): unknown;
    setWindowOpenHandler(h: (d: HandlerDetails) => WindowOpenHandlerResponse): void;
    session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & { webRequest: Pick<Session['webRequest'], 'onBeforeRequest'> };
    send(channel: string, ...args: unknown[]): void;
    isDestroyed(): boolean;
    reload(): void;
  };
  once(event: 'ready-to-show', cb: () => void): unknown;
  on(event: 'closed', cb: () => void): unknown;
  show(): void;
  loadURL(url: string): Promise<void>;
  isDestroyed(): boolean;
}

export type BrowserWindowCtor<W extends WindowLike = WindowLike> = new (opts: BrowserWindowConstructorOptions) => W;

export interface MainWindowOptions<W extends WindowLike> {
  BrowserWindow: BrowserWindowCtor<W>;
  preload: string;
  /** page to load: APP_URL, or the dev server's URL in development */
  url: string;
  isDev: boolean;
}

/**
 * Whether the window may load `url` at all: our own app:// origin, or in development the dev
 * server's origin (http and its HMR WebSocket); DevTools' own pages; inline data/blob URLs.
 * Everything else (any remote http(s)/ws(s), file://, other schemes) is cancelled before it
 * leaves, whatever asked for it: no remote content, even if the CSP were bypassed.
 */
export function clipboardWrite(permission: string, requester: string | undefined): boolean {
  if (permission !== 'clipboard-sanitized-write' || !requester) return false;
  try {
    const u = new URL(requester);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

export function allowedRequest(url: string, devOrigin?: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === `${APP_SCHEME}:`) return u.host === APP_HOST;
  if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
  if (devOrigin) {
    const dev = new URL(devOrigin);
    if (u.protocol === 'devtools:') return true;
    if ((u.protocol === dev.protocol || u.protocol === dev.protocol.replace(/^http/, 'ws')) && u.host === dev.host) return true;
  }
  return false;
}

/**
 * Creates the window. The options are written out literally at the `new BrowserWindow(...)`
 * call on purpose: Electronegativity (scripts/security-check.mjs) only inspects options it
 * can see at a `new BrowserWindow` expression, so building them elsewhere would hide every
 * setting from the scan (it did, before: see docs/security.md).
 */
export function createMainWindow<W extends WindowLike>(o: MainWindowOptions<W>): W {
  const { BrowserWindow } = o;
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 500,
    show: false,
    title: 'wsscope',
    webPreferences: {
      // reviewed (Electronegativity PRELOAD_JS_CHECK, docs/security.md): exposes one object, one channel per call
      preload: o.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      // middle-click on a link would ask for a new window (denied below anyway)
      disableBlinkFeatures: 'Auxclick',
      spellcheck: false,
      devTools: o.isDev,
    },
  });
  const wc = win.webContents;
  // the page never leaves the app: links and dropped files must not navigate it
  wc.on('will-navigate', (e) => e.preventDefault());
  wc.on('will-attach-webview', (e) => e.preventDefault());
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  // Every permission is denied except writing plain text to the clipboard ("copy payload as
  // text/hex/base64"), and that only for our own page.
  wc.session.setPermissionRequestHandler((_wc, permission, cb, details) => cb(clipboardWrite(permission, details?.requestingUrl)));
  wc.session.setPermissionCheckHandler((_wc, permission, requestingOrigin) => clipboardWrite(permission, requestingOrigin));
  const devOrigin = o.isDev ? new URL(o.url).origin : undefined;
  wc.session.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, cb) => cb({ cancel: !allowedRequest(details.url, devOrigin) }));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(o.url);
  return win;
}
