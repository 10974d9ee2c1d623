/**
 * createApp: the desktop app's wiring, with every Electron module passed in (so tests hand
 * in small fakes and nothing here imports electron at runtime).
 *
 *  - before ready: app:// registered as a privileged scheme;
 *  - on ready: app:// serves the built renderer, the engine starts in a utilityProcess
 *    (engine/service/host.ts, built as out/main/host.js), IPC handlers are registered,
 *    the menu is set and the window opens;
 *  - when the last window closes the engine is shut down and the app quits.
 */
import type { MenuItemConstructorOptions, ForkOptions } from 'electron';
import { HOST_V8_FLAGS, hostEnv, spawnEngine, type EngineClient, type EngineProcess, type ForkFn } from '../../engine/service/client';
import type { ToHost } from '../../engine/service/protocol';
import { APP_ORIGIN, APP_SCHEME, APP_SCHEME_PRIVILEGES, APP_URL, appProtocolHandler, createMainWindow, type BrowserWindowCtor, type WindowLike } from './window';
import { exportWithDialog, keyLogWithDialog, openWithDialog, registerIpc, savePcapngWithDialog, type DialogLike, type IpcMainLike } from './ipc';
import { buildMenuTemplate } from './menu';

export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(m: unknown): void;
  on(event: 'message', cb: (m: unknown) => void): unknown;
  on(event: 'exit', cb: (code: number) => void): unknown;
  kill(): boolean;
}

export interface AppDeps<W extends WindowLike = WindowLike> {
  app: {
    whenReady(): Promise<unknown>;
    on(event: 'window-all-closed' | 'activate' | 'before-quit', cb: () => void): unknown;
    quit(): void;
    getPath(name: 'userData'): string;
  };
  BrowserWindow: BrowserWindowCtor<W> & { getAllWindows(): unknown[] };
  ipcMain: IpcMainLike;
  Menu: { buildFromTemplate(t: MenuItemConstructorOptions[]): unknown; setApplicationMenu(m: never): void };
  dialog: DialogLike;
  protocol: {
    registerSchemesAsPrivileged(s: typeof APP_SCHEME_PRIVILEGES): void;
    handle(scheme: string, handler: (req: Request) => Response | Promise<Response>): void;
  };
  utilityProcess: { fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcessLike };
  paths: { preload: string; host: string; renderer: string };
  /** the dev server's URL (electron-vite dev), else undefined */
  devUrl?: string;
  platform?: string;
}

export interface AppHandle<W extends WindowLike> {
  ready: Promise<void>;
  engine: () => EngineClient | null;
  window: () => W | null;
}

/** ForkFn over Electron's utilityProcess. */
export function utilityFork(up: AppDeps['utilityProcess'], modulePath: string, args: string[]): ForkFn {
  return (): EngineProcess => {
    const child = up.fork(modulePath, args, { serviceName: 'wsscope engine', stdio: 'inherit', execArgv: [...HOST_V8_FLAGS], env: hostEnv() });
    let exited = false;
    let exitCode: number | null = null;
    const exitCbs: Array<(code: number | null, signal: string | null) => void> = [];
    child.on('exit', (code) => {
      exited = true;
      exitCode = code;
      for (const cb of exitCbs.splice(0)) cb(code, null);
    });
    return {
      get pid() {
        return exited ? undefined : child.pid;
      },
      postMessage: (m: ToHost) => child.postMessage(m),
      onMessage: (cb) => void child.on('message', cb),
      onExit: (cb) => {
        if (exited) cb(exitCode, null);
        else exitCbs.push(cb);
      },
      kill: () => void child.kill(),
    };
  };
}

export function createApp<W extends WindowLike>(d: AppDeps<W>): AppHandle<W> {
  const isDev = !!d.devUrl;
  const allowedOrigin = d.devUrl ? new URL(d.devUrl).origin : APP_ORIGIN;
  // must happen before 'ready' (Electron: protocol.registerSchemesAsPrivileged)
  d.protocol.registerSchemesAsPrivileged(APP_SCHEME_PRIVILEGES);

  let engine: EngineClient | null = null;
  let win: W | null = null;
  let lastCapture: unknown = { iface: 'lo' };

  const openWindow = (): W => {
    win = createMainWindow({ BrowserWindow: d.BrowserWindow, preload: d.paths.preload, url: d.devUrl ?? APP_URL, isDev });
    win.on('closed', () => (win = null));
    return win;
  };

  const refreshMenu = async (): Promise<void> => {
    const eng = engine;
    const r = eng ? await eng.callRaw('recentFiles', []) : null;
    const recent = r && r.ok ? (r.value as string[]) : [];
    const report = (p: Promise<{ ok: boolean; error?: { code: string; message: string } }>): void => {
      // menu actions have no caller to answer: failures become error pushes in the window
      void p.then((r) => {
        if (!r.ok && r.error && r.error.code !== 'cancelled') win?.webContents.send('wsscope:event:error', r.error);
        if (r.ok) void refreshMenu();
      });
    };
    const template = buildMenuTemplate({
      isDev,
      isMac: (d.platform ?? process.platform) === 'darwin',
      recent,
      actions: {
        open: () => eng && report(openWithDialog({ dialog: d.dialog, engine: eng })),
        openRecent: (p) => eng && report(eng.callRaw('openFile', [p])),
        savePcapng: () => eng && report(savePcapngWithDialog({ dialog: d.dialog, engine: eng })),
        keyLog: () => eng && report(keyLogWithDialog({ dialog: d.dialog, engine: eng })),
        exportAs: (f) => eng && report(exportWithDialog({ dialog: d.dialog, engine: eng }, f)),
        startCapture: () => eng && report(eng.callRaw('startCapture', [lastCapture])),
        stopCapture: () => eng && report(eng.callRaw('stopCapture', [])),
      },
    });
    d.Menu.setApplicationMenu(d.Menu.buildFromTemplate(template) as never);
  };

  const ready = d.app.whenReady().then(() => {
    d.protocol.handle(APP_SCHEME, appProtocolHandler(d.paths.renderer));
    engine = spawnEngine({ fork: utilityFork(d.utilityProcess, d.paths.host, [`--config-dir=${d.app.getPath('userData')}`]) });
    registerIpc({
      ipcMain: d.ipcMain,
      engine,
      dialog: d.dialog,
      allowedOrigin,
      target: () => (win && !win.isDestroyed() ? win.webContents : null),
      onOpened: () => void refreshMenu(),
      onCaptureStarted: (o) => (lastCapture = o),
    });
    void refreshMenu();
    openWindow();
  });

  d.app.on('activate', () => {
    if (d.BrowserWindow.getAllWindows().length === 0) void ready.then(openWindow);
  });
  d.app.on('window-all-closed', () => {
    const e = engine;
    engine = null;
    void (e ? e.close() : Promise.resolve()).then(() => d.app.quit());
  });

  return { ready, engine: () => engine, window: () => win };
}
