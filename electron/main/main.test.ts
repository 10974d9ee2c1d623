import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserWindowConstructorOptions, IpcMainInvokeEvent, MenuItemConstructorOptions } from 'electron';
import { APP_CSP, APP_URL, allowedRequest, appProtocolHandler, createMainWindow, type WindowLike } from './window';
import { keyLogWithDialog, registerIpc, savePcapngWithDialog, trustedSender, type DialogLike } from './ipc';
import { buildMenuTemplate } from './menu';
import { createApp, type UtilityProcessLike } from './app';
import { buildApi } from '../preload/api';
import { CALLS, callChannel, pushChannel, type Result } from '../../shared/api';

// ---------------------------------------------------------------- fakes

type Listener = (...args: never[]) => unknown;

class FakeWindow implements WindowLike {
  static created: FakeWindow[] = [];
  static getAllWindows(): FakeWindow[] {
    return FakeWindow.created;
  }
  readonly events = new Map<string, Listener>();
  readonly wcEvents = new Map<string, Listener>();
  openHandler: ((d: never) => { action: string }) | null = null;
  permissionRequest: ((...a: never[]) => void) | null = null;
  permissionCheck: ((...a: never[]) => boolean) | null = null;
  requestFilter: { urls: string[] } | null = null;
  requestListener: ((details: { url: string }, cb: (r: { cancel?: boolean }) => void) => void) | null = null;
  loaded = '';
  sent: Array<[string, unknown]> = [];
  shown = false;
  webContents: WindowLike['webContents'];

  constructor(readonly options: BrowserWindowConstructorOptions) {
    FakeWindow.created.push(this);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.webContents = {
      on: (ev: string, cb: Listener) => self.wcEvents.set(ev, cb),
      setWindowOpenHandler: (h) => (self.openHandler = h as never),
      session: {
        setPermissionRequestHandler: (h) => (self.permissionRequest = h as never),
        setPermissionCheckHandler: (h) => (self.permissionCheck = h as never),
        webRequest: {
          onBeforeRequest: ((filter: unknown, listener: unknown) => {
            self.requestFilter = filter as { urls: string[] };
            self.requestListener = listener as never;
          }) as never,
        },
      },
      send: (channel: string, payload: unknown) => void self.sent.push([channel, payload]),
      isDestroyed: () => false,
      reload: () => {},
    } as WindowLike['webContents'];
  }
  once(ev: string, cb: Listener): this {
    this.events.set(ev, cb);
    return this;
  }
  on(ev: string, cb: Listener): this {
    this.events.set(ev, cb);
    return this;
  }
  show(): void {
    this.shown = true;
  }
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return false;
  }
}

class FakeIpcMain {
  handlers = new Map<string, (e: IpcMainInvokeEvent, ...a: unknown[]) => unknown>();
  handle(channel: string, fn: (e: IpcMainInvokeEvent, ...a: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, fn);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: IpcMainInvokeEvent, ...args: unknown[]): Promise<Result<unknown>> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return Promise.resolve(h(event, ...args)) as Promise<Result<unknown>>;
  }
}

const frameEvent = (url: string, parent: unknown = null): IpcMainInvokeEvent => ({ senderFrame: { url, parent } }) as unknown as IpcMainInvokeEvent;
const OURS = frameEvent('app://wsscope/index.html');

function fakeEngine() {
  const calls: Array<[string, unknown[]]> = [];
  const listeners = new Set<(name: never, payload: never) => void>();
  return {
    calls,
    callRaw: async (name: string, args: unknown[]): Promise<Result<unknown>> => {
      calls.push([name, args]);
      if (name === 'currentSession') return { ok: true, value: { id: 1, kind: 'file', path: '/caps/a.pcap', totalBytes: 1 } };
      return { ok: true, value: `${name}-done` };
    },
    onPush: (cb: (name: never, payload: never) => void) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    push: (name: string, payload: unknown) => {
      for (const l of listeners) l(name as never, payload as never);
    },
  };
}

function fakeDialog(open: string[] | null, save: string | null) {
  const asked: unknown[] = [];
  const d: DialogLike = {
    showOpenDialog: async (o) => {
      asked.push(o);
      return open ? { canceled: false, filePaths: open } : { canceled: true, filePaths: [] };
    },
    showSaveDialog: async (o) => {
      asked.push(o);
      return save ? { canceled: false, filePath: save } : { canceled: true };
    },
  };
  return { d, asked };
}

// ---------------------------------------------------------------- window

describe('main window', () => {
  it('turns on every renderer isolation setting', () => {
    const opts = (isDev: boolean) => createMainWindow({ BrowserWindow: FakeWindow, preload: '/p/preload.cjs', url: APP_URL, isDev }).options.webPreferences;
    expect(opts(false)).toMatchObject({
      preload: '/p/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
      devTools: false,
    });
    expect(opts(true)?.devTools).toBe(true);
  });

  it('cancels every request that is not for the app itself (or the dev server in development)', () => {
    const decide = (win: FakeWindow, url: string): boolean | undefined => {
      let cancel: boolean | undefined;
      win.requestListener?.({ url }, (r) => (cancel = r.cancel));
      return cancel;
    };
    const prod = createMainWindow({ BrowserWindow: FakeWindow, preload: '/p.cjs', url: APP_URL, isDev: false });
    expect(prod.requestFilter).toEqual({ urls: ['<all_urls>'] });
    expect(decide(prod, 'app://wsscope/assets/index.js')).toBe(false);
    expect(decide(prod, 'data:image/png;base64,AAAA')).toBe(false);
    for (const u of ['https://evil.example/x.js', 'http://127.0.0.1:8080/', 'ws://127.0.0.1:9/', 'file:///etc/passwd', 'app://other/index.html', 'devtools://devtools/bundled/x', 'http://localhost:5173/', 'not a url']) {
      expect(decide(prod, u), u).toBe(true);
    }
    const dev = createMainWindow({ BrowserWindow: FakeWindow, preload: '/p.cjs', url: 'http://localhost:5173/', isDev: true });
    expect(decide(dev, 'http://localhost:5173/src/main.ts')).toBe(false);
    expect(decide(dev, 'ws://localhost:5173/')).toBe(false);
    expect(decide(dev, 'http://localhost:5174/')).toBe(true);
    expect(decide(dev, 'https://evil.example/')).toBe(true);
    expect(allowedRequest('app://wsscope/index.html')).toBe(true);
  });

  it('denies navigation, new windows, webviews and every permission', () => {
    const win = createMainWindow({ BrowserWindow: FakeWindow, preload: '/p.cjs', url: APP_URL, isDev: false });
    expect(win.loaded).toBe('app://wsscope/index.html');
    let prevented = 0;
    const ev = { preventDefault: () => prevented++ };
    (win.wcEvents.get('will-navigate') as (e: unknown, u: string) => void)(ev, 'https://evil.example/');
    (win.wcEvents.get('will-attach-webview') as (e: unknown) => void)(ev);
    expect(prevented).toBe(2);
    expect(win.openHandler?.({ url: 'https://evil.example' } as never)).toEqual({ action: 'deny' });
    let granted: boolean | undefined;
    win.permissionRequest?.(...([null, 'media', (g: boolean) => (granted = g)] as never[]));
    expect(granted).toBe(false);
    expect(win.permissionCheck?.()).toBe(false);
    // the one exception: our own page may write plain text to the clipboard
    const ask = (permission: string, url: string): boolean | undefined => {
      let g: boolean | undefined;
      win.permissionRequest?.(...([null, permission, (x: boolean) => (g = x), { requestingUrl: url }] as never[]));
      return g;
    };
    expect(ask('clipboard-sanitized-write', 'app://wsscope/index.html')).toBe(true);
    expect(ask('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    expect(ask('clipboard-read', 'app://wsscope/index.html')).toBe(false);
    expect(win.permissionCheck?.(...([null, 'clipboard-sanitized-write', 'app://wsscope'] as never[]))).toBe(true);
    expect(win.permissionCheck?.(...([null, 'geolocation', 'app://wsscope'] as never[]))).toBe(false);
    (win.events.get('ready-to-show') as () => void)();
    expect(win.shown).toBe(true);
  });

  it('serves the renderer over app:// with the CSP and refuses traversal and other hosts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsscope-app-'));
    try {
      mkdirSync(join(dir, 'r', 'assets'), { recursive: true });
      writeFileSync(join(dir, 'r', 'index.html'), '<!doctype html>');
      writeFileSync(join(dir, 'r', 'assets', 'a.js'), 'x');
      writeFileSync(join(dir, 'secret'), 'secret');
      const h = appProtocolHandler(join(dir, 'r'));
      const idx = h({ url: 'app://wsscope/' });
      expect(idx.status).toBe(200);
      expect(idx.headers.get('content-security-policy')).toBe(APP_CSP);
      expect(idx.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await idx.text()).toBe('<!doctype html>');
      expect(h({ url: 'app://wsscope/assets/a.js' }).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      for (const u of ['app://wsscope/../secret', 'app://wsscope/%2e%2e/secret', 'app://wsscope/assets/..%2f..%2fsecret', 'app://wsscope/assets', 'app://other/index.html', 'file:///etc/passwd']) {
        expect(h({ url: u }).status, u).toBe(404);
      }
      expect(APP_CSP).toContain("script-src 'self';");
      expect(APP_CSP).toContain("connect-src 'self';");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- ipc

describe('IPC handlers', () => {
  it('accept only the top frame of our own origin', () => {
    expect(trustedSender(OURS, 'app://wsscope')).toBe(true);
    expect(trustedSender(frameEvent('https://evil.example/'), 'app://wsscope')).toBe(false);
    expect(trustedSender(frameEvent('app://wsscope/index.html', {}), 'app://wsscope')).toBe(false);
    expect(trustedSender(frameEvent('app://wsscope.evil/index.html'), 'app://wsscope')).toBe(false);
    expect(trustedSender({ senderFrame: null } as IpcMainInvokeEvent, 'app://wsscope')).toBe(false);
  });

  it('register one handler per call, refuse foreign senders and bad arity before the engine sees them', async () => {
    const ipc = new FakeIpcMain();
    const engine = fakeEngine();
    const { d } = fakeDialog(null, null);
    registerIpc({ ipcMain: ipc, engine, dialog: d, allowedOrigin: 'app://wsscope', target: () => null });
    expect([...ipc.handlers.keys()].sort()).toEqual(CALLS.map(callChannel).sort());
    expect(await ipc.invoke('wsscope:openFile', frameEvent('https://evil.example/'), '/etc/passwd')).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await ipc.invoke('wsscope:getStats', OURS, 1, 2)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(engine.calls).toEqual([]);
    expect(await ipc.invoke('wsscope:getStats', OURS, 1)).toEqual({ ok: true, value: 'getStats-done' });
    expect(engine.calls).toEqual([['getStats', [1]]]);
  });

  it('open the file dialog in the main process and never let the page pick where exports are written', async () => {
    const ipc = new FakeIpcMain();
    const engine = fakeEngine();
    let opened = 0;
    const { d, asked } = fakeDialog(['/caps/b.pcapng'], '/home/u/out.har');
    registerIpc({ ipcMain: ipc, engine, dialog: d, allowedOrigin: 'app://wsscope', target: () => null, onOpened: () => opened++ });
    expect(await ipc.invoke('wsscope:openFileDialog', OURS)).toEqual({ ok: true, value: 'openFile-done' });
    expect(engine.calls.at(-1)).toEqual(['openFile', ['/caps/b.pcapng']]);
    expect(opened).toBe(1);
    const r = await ipc.invoke('wsscope:exportData', OURS, 'har', '/home/u/.bashrc');
    expect(r).toEqual({ ok: true, value: 'exportData-done' });
    expect(engine.calls.at(-1)).toEqual(['exportData', ['har', '/home/u/out.har']]);
    expect(asked.at(-1)).toMatchObject({ defaultPath: '.bashrc' });

    const cancelled = fakeDialog(null, null);
    const ipc2 = new FakeIpcMain();
    registerIpc({ ipcMain: ipc2, engine, dialog: cancelled.d, allowedOrigin: 'app://wsscope', target: () => null });
    expect(await ipc2.invoke('wsscope:openFileDialog', OURS)).toEqual({ ok: true, value: null });
    expect(await ipc2.invoke('wsscope:exportData', OURS, 'ndjson')).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(cancelled.asked.at(-1)).toMatchObject({ defaultPath: 'a.ndjson' });
  });

  it('forward engine pushes to the window on their own channels', () => {
    const engine = fakeEngine();
    const win = new FakeWindow({});
    const off = registerIpc({ ipcMain: new FakeIpcMain(), engine, dialog: fakeDialog(null, null).d, allowedOrigin: 'app://wsscope', target: () => win.webContents });
    engine.push('progress', { done: true });
    expect(win.sent).toEqual([[pushChannel('progress'), { done: true }]]);
    off();
    engine.push('progress', { done: false });
    expect(win.sent).toHaveLength(1);
  });
});

// ---------------------------------------------------------------- menu

describe('application menu', () => {
  const noop = { open() {}, openRecent() {}, savePcapng() {}, keyLog() {}, exportAs() {}, startCapture() {}, stopCapture() {} };
  const flat = (t: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
    t.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);

  it('offers reload and devtools in development only', () => {
    const dev = flat(buildMenuTemplate({ isDev: true, isMac: false, recent: [], actions: noop }));
    const prod = flat(buildMenuTemplate({ isDev: false, isMac: false, recent: [], actions: noop }));
    expect(dev.some((i) => i.role === 'toggleDevTools')).toBe(true);
    expect(dev.some((i) => i.role === 'reload')).toBe(true);
    expect(prod.some((i) => i.role === 'toggleDevTools' || i.role === 'reload' || i.role === 'forceReload')).toBe(false);
    expect(prod.some((i) => i.role === 'zoomIn')).toBe(true);
  });

  it('lists recent files and runs the actions', () => {
    const seen: string[] = [];
    const actions = {
      open: () => seen.push('open'),
      openRecent: (p: string) => seen.push(`recent:${p}`),
      savePcapng: () => seen.push('pcapng'),
      keyLog: () => seen.push('keylog'),
      exportAs: (f: string) => seen.push(`export:${f}`),
      startCapture: () => seen.push('start'),
      stopCapture: () => seen.push('stop'),
    };
    const items = flat(buildMenuTemplate({ isDev: false, isMac: false, recent: ['/a.pcap', '/b.pcapng'], actions }));
    const click = (label: string): void => (items.find((i) => i.label === label)?.click as () => void)();
    for (const l of ['Open…', '/b.pcapng', 'Key Log File…', 'Save Capture as pcapng…', 'Events as NDJSON…', 'HAR (with WebSocket messages)…', 'Start Capture', 'Stop Capture']) click(l);
    expect(seen).toEqual(['open', 'recent:/b.pcapng', 'keylog', 'pcapng', 'export:ndjson', 'export:har', 'start', 'stop']);
  });
});

describe('key logs and secrets in the main process', () => {
  function engineWithKeys(sessions: number) {
    const e = fakeEngine();
    const base = e.callRaw;
    e.callRaw = async (name, args) => (name === 'keyLogs' ? { ok: true, value: { files: [], sessions, decrypted: 0, tlsConnections: 0 } } : base(name, args));
    return e;
  }
  it('"Key Log File…" loads the file the dialog picked, by path; cancelling loads nothing', async () => {
    const e = fakeEngine();
    const { d } = fakeDialog(['/keys/sslkeys.log'], null);
    expect(await keyLogWithDialog({ dialog: d, engine: e })).toEqual({ ok: true, value: 'addKeyLog-done' });
    expect(e.calls).toEqual([['addKeyLog', ['/keys/sslkeys.log']]]);
    const none = fakeEngine();
    expect(await keyLogWithDialog({ dialog: fakeDialog(null, null).d, engine: none })).toEqual({ ok: true, value: null });
    expect(none.calls).toEqual([]);
  });
  it('"Save as pcapng" asks before embedding secrets, and embeds them only when the user says so', async () => {
    for (const [response, want] of [
      [0, [['pcapng', '/out/a.pcapng', { secrets: true }]]],
      [1, [['pcapng', '/out/a.pcapng', { secrets: false }]]],
      [2, []],
    ] as const) {
      const e = engineWithKeys(3);
      const { d } = fakeDialog(null, '/out/a.pcapng');
      const boxes: string[] = [];
      d.showMessageBox = async (o) => (boxes.push(o.message), { response });
      await savePcapngWithDialog({ dialog: d, engine: e });
      expect(boxes).toEqual(['Embed the TLS secrets of 3 sessions in the pcapng?']);
      expect(e.calls.filter(([n]) => n === 'exportData').map(([, a]) => a)).toEqual(want);
    }
    // no key log: nothing to ask
    const e = engineWithKeys(0);
    const { d } = fakeDialog(null, '/out/a.pcapng');
    d.showMessageBox = async () => {
      throw new Error('asked without secrets');
    };
    await savePcapngWithDialog({ dialog: d, engine: e });
    expect(e.calls.filter(([n]) => n === 'exportData').map(([, a]) => a)).toEqual([['pcapng', '/out/a.pcapng']]);
  });
});

// ---------------------------------------------------------------- createApp

class FakeUtility extends EventEmitter implements UtilityProcessLike {
  pid = 4242;
  received: unknown[] = [];
  postMessage(m: unknown): void {
    this.received.push(m);
    const msg = m as { t: string; id: number; name: string };
    if (msg.t === 'call') queueMicrotask(() => this.emit('message', { t: 'result', id: msg.id, result: { ok: true, value: msg.name === 'recentFiles' ? ['/r.pcap'] : null } }));
    if (msg.t === 'shutdown') queueMicrotask(() => this.emit('exit', 0));
  }
  kill(): boolean {
    this.emit('exit', 9);
    return true;
  }
}

describe('createApp', () => {
  it('registers app:// before ready, then wires protocol, engine process, IPC, menu and a secure window', async () => {
    const order: string[] = [];
    let ready: () => void = () => {};
    const appEvents = new Map<string, () => void>();
    const forks: Array<[string, string[] | undefined, string[] | undefined, string | undefined]> = [];
    const util = new FakeUtility();
    const ipc = new FakeIpcMain();
    let menus = 0;
    let quit = false;
    FakeWindow.created = [];
    const handle = createApp({
      app: {
        whenReady: () => new Promise<void>((r) => (ready = r)),
        on: (ev: string, cb: () => void) => appEvents.set(ev, cb),
        quit: () => (quit = true),
        getPath: () => '/cfg',
      },
      BrowserWindow: FakeWindow,
      ipcMain: ipc,
      Menu: { buildFromTemplate: (t) => t, setApplicationMenu: () => void menus++ },
      dialog: fakeDialog(null, null).d,
      protocol: {
        registerSchemesAsPrivileged: (s) => order.push(`privileged:${s[0].scheme}:${s[0].privileges.standard}:${s[0].privileges.secure}`),
        handle: (scheme) => order.push(`handle:${scheme}`),
      },
      utilityProcess: {
        fork: (p, args, options) => {
          forks.push([p, args, options?.execArgv, (options?.env as Record<string, string | undefined> | undefined)?.MALLOC_MMAP_THRESHOLD_]);
          return util;
        },
      },
      paths: { preload: '/out/preload/index.cjs', host: '/out/main/host.js', renderer: '/out/renderer' },
      platform: 'linux',
    });
    expect(order).toEqual(['privileged:app:true:true']);
    expect(FakeWindow.created).toHaveLength(0);
    ready();
    await handle.ready;
    expect(order).toEqual(['privileged:app:true:true', 'handle:app']);
    // the engine runs with the same V8 flags and malloc threshold as under nodeFork (the memory bound depends on them)
    expect(forks).toEqual([['/out/main/host.js', ['--config-dir=/cfg'], ['--max-semi-space-size=4', '--heap-growing-percent=100'], process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072']]);
    expect(ipc.handlers.size).toBe(CALLS.length);
    const [win] = FakeWindow.created;
    expect(win.loaded).toBe(APP_URL);
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, preload: '/out/preload/index.cjs' });
    // a call from the page reaches the engine process
    expect(await ipc.invoke('wsscope:currentSession', OURS)).toEqual({ ok: true, value: null });
    expect(util.received).toContainEqual(expect.objectContaining({ t: 'call', name: 'currentSession', args: [] }));
    await Promise.resolve();
    expect(menus).toBeGreaterThan(0);
    // closing the last window shuts the engine down, then quits
    appEvents.get('window-all-closed')?.();
    await new Promise((r) => setImmediate(r));
    expect(util.received).toContainEqual({ t: 'shutdown' });
    expect(quit).toBe(true);
  });
});

describe('createApp when the engine process dies', () => {
  it('tells the window which file to reopen, answers pending calls, and forks a fresh engine on the next call', async () => {
    const utils: FakeUtility[] = [];
    const ipc = new FakeIpcMain();
    FakeWindow.created = [];
    const handle = createApp({
      app: { whenReady: () => Promise.resolve(), on: () => undefined, quit: () => {}, getPath: () => '/cfg' },
      BrowserWindow: FakeWindow,
      ipcMain: ipc,
      Menu: { buildFromTemplate: (t) => t, setApplicationMenu: () => {} },
      dialog: fakeDialog(null, null).d,
      protocol: { registerSchemesAsPrivileged: () => {}, handle: () => {} },
      utilityProcess: {
        fork: () => {
          const u = new FakeUtility();
          utils.push(u);
          return u;
        },
      },
      paths: { preload: '/p.cjs', host: '/host.js', renderer: '/r' },
      platform: 'linux',
    });
    await handle.ready;
    const [win] = FakeWindow.created;
    // the engine reports a file being shown, then dies
    utils[0].emit('message', { t: 'push', name: 'session', payload: { id: 3, kind: 'file', path: '/caps/big.pcapng', totalBytes: 9 } });
    utils[0].emit('exit', 9);
    const errors = win.sent.filter(([ch]) => ch === 'wsscope:event:error').map(([, p]) => p);
    expect(errors).toEqual([{ code: 'engine-crashed', message: 'The wsscope engine exited with code 9 while showing /caps/big.pcapng. The file is unchanged: open it again to continue.' }]);
    expect(win.sent.filter(([ch]) => ch === 'wsscope:event:session').map(([, p]) => p)).toEqual([
      { id: 3, kind: 'file', path: '/caps/big.pcapng', totalBytes: 9 },
      { id: 0, kind: 'none', path: '', totalBytes: 0 },
    ]);
    // the page reopens the file: a new engine process is forked for it
    expect(await ipc.invoke('wsscope:openFile', OURS, '/caps/big.pcapng')).toEqual({ ok: true, value: null });
    expect(utils).toHaveLength(2);
    expect(utils[1].received).toContainEqual(expect.objectContaining({ t: 'call', name: 'openFile', args: ['/caps/big.pcapng'] }));
  });
});

// ---------------------------------------------------------------- preload

describe('preload api', () => {
  it('has one method per call and per push, each on its own channel', async () => {
    const invoked: Array<[string, unknown[]]> = [];
    const on = new Map<string, (e: unknown, p: unknown) => void>();
    const api = buildApi({
      invoke: async (ch, ...args) => {
        invoked.push([ch, args]);
        return { ok: true, value: ch };
      },
      on: (ch, l) => on.set(ch, l),
      removeListener: (ch, l) => {
        if (on.get(ch) === l) on.delete(ch);
      },
    });
    expect(Object.keys(api).sort()).toEqual([...CALLS, 'onBatch', 'onProgress', 'onCaptureStatus', 'onSession', 'onError'].sort());
    expect(await api.getMessageDetail(7)).toEqual({ ok: true, value: 'wsscope:getMessageDetail' });
    await api.exportData('har');
    await api.validateFilter('tcp port 80', 'lo');
    expect(invoked).toEqual([
      ['wsscope:getMessageDetail', [7]],
      ['wsscope:exportData', ['har']],
      ['wsscope:validateFilter', ['tcp port 80', 'lo']],
    ]);
    const got: unknown[] = [];
    const off = api.onProgress((p) => got.push(p));
    // the Electron event is stripped: the callback sees the payload only
    on.get('wsscope:event:progress')?.({ sender: 'electron-internals' }, { done: true });
    expect(got).toEqual([{ done: true }]);
    off();
    expect(on.has('wsscope:event:progress')).toBe(false);
  });
});
