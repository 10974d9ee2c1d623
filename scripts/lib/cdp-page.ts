/**
 * One Chromium page driven over a bare Chrome DevTools Protocol pipe, for the UI benchmark's
 * load and filter parts (scripts/bench-ui.ts): the same Debian Chromium and flags as
 * test/peers/chromium.ts, but no Playwright.
 *
 * Why not Playwright there: Playwright enables the DevTools Network domain on every page it
 * drives, and with it enabled Chromium copies every WebSocket frame the page receives, as
 * base64 in a `Network.webSocketFrameReceived` event, through the browser process to the
 * driver. Loading 1,000,000 messages is ~95 MB of binary frames: the copies cost the page's
 * process, the browser process and the driver (the bench process, which also relays the
 * engine's pushes) more CPU than the page's own work, on the 2-core machine the bench runs on
 * (measured: fully loaded in ~2.0 s under Playwright, ~0.8 s over this pipe, same build, same
 * machine). A user's browser has no DevTools client attached; this page has one that only
 * enables the Page domain (load events) and evaluates expressions.
 *
 * Protocol: Chromium's `--remote-debugging-pipe` reads commands from fd 3 and writes replies
 * and events to fd 4, each a JSON message ended by a NUL byte. We attach to the page target
 * with `flatten` (one sessionId on every message of the page's session), once Chromium's own
 * start-up pages have loaded (`settle`).
 *
 * Memory: the pending replies (one per command in flight) and a read buffer of at most one
 * partial message; `close()` kills the browser and removes its profile directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../test/peers/chromium';

export interface BarePage {
  /** A DevTools command on the page's session (Profiler.*, Runtime.*, ...); rejects with the protocol's error. */
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Navigates and resolves at the page's load event (as Playwright's `page.goto`). */
  goto(url: string, timeoutMs?: number): Promise<void>;
  /** The value of a JavaScript expression in the page (awaited if it is a promise); rejects if it throws. */
  evaluate(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

/** Largest DevTools message we buffer (a CPU profile of a few seconds is a few MB). */
const MAX_MESSAGE = 256 * 1024 * 1024;

interface Message {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

type Command = (method: string, params?: Record<string, unknown>, sessionId?: string) => Promise<Message>;

/**
 * Waits until the pages Chromium opens for its own UI at start-up (`browser_ui` targets: the
 * omnibox popup's WebUI, chrome://omnibox-popup.top-chrome/, preloaded for every new window)
 * have loaded, then detaches from them. They take a renderer about 1.5 s of CPU: without the
 * wait, a page opened at once shares the 2 cores with them (seen in a trace of the load).
 */
async function settle(command: Command): Promise<void> {
  const r = (await command('Target.getTargets')).result as { targetInfos: Array<{ targetId: string; type: string }> };
  for (const t of r.targetInfos.filter((x) => x.type === 'browser_ui')) {
    const sessionId = ((await command('Target.attachToTarget', { targetId: t.targetId, flatten: true })).result as { sessionId: string }).sessionId;
    const expression = `document.readyState === 'complete' || new Promise((r) => addEventListener('load', () => r(true)))`;
    await command('Runtime.evaluate', { expression, awaitPromise: true }, sessionId);
    await command('Target.detachFromTarget', { sessionId });
  }
}

/**
 * Launches Chromium with one page of `width` x `height` CSS pixels; `initScript` runs in every
 * document the page loads, before its own scripts (Page.addScriptToEvaluateOnNewDocument).
 */
export async function launchBarePage(opts: { width: number; height: number; initScript?: string; timeoutMs?: number; args?: string[] }): Promise<BarePage> {
  const profile = mkdtempSync(join(tmpdir(), 'wsscope-cdp-'));
  const proc: ChildProcess = spawn(CHROMIUM, [...CHROMIUM_FLAGS, ...(opts.args ?? []), '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    // its own process group, so that close() can stop the renderer, GPU and zygote children too
    detached: true,
  });
  const toBrowser = proc.stdio[3] as Writable;
  const fromBrowser = proc.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  const waiters: Array<{ method: string; sessionId?: string; resolve: () => void }> = [];
  let exited: Error | null = null;
  let buf: Buffer = Buffer.alloc(0);

  const failAll = (e: Error): void => {
    exited = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  proc.on('exit', (code, signal) => failAll(new Error(`chromium exited (${code ?? signal})`)));
  proc.on('error', (e) => failAll(e));
  fromBrowser.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (let end = buf.indexOf(0); end >= 0; end = buf.indexOf(0)) {
      const m = JSON.parse(buf.subarray(0, end).toString('utf8')) as Message;
      buf = buf.subarray(end + 1);
      if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (p && m.error) p.reject(new Error(m.error.message));
        else p?.resolve(m);
      } else if (m.method) {
        for (const w of waiters.slice()) {
          if (w.method === m.method && w.sessionId === m.sessionId) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      }
    }
    if (buf.length > MAX_MESSAGE) {
      proc.kill();
      failAll(new Error('a DevTools message larger than MAX_MESSAGE'));
    }
  });

  const command: Command = (method, params = {}, sessionId) => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<Message>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  };
  const event = (method: string, sessionId: string | undefined, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const w = { method, sessionId, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(w);
    });

  const close = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      // Browser.close shuts Chromium down the way a user does (children stopped, profile
      // flushed); a browser that does not exit within 5 s is killed
      command('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    // whatever is left of its process group (a child still writing into the profile made
    // rmdir fail with ENOTEMPTY even at load 0)
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };

  try {
    // the about:blank page the browser opened with
    let targetId = '';
    for (let i = 0; !targetId; i++) {
      const r = (await command('Target.getTargets')).result as { targetInfos: Array<{ targetId: string; type: string }> };
      targetId = r.targetInfos.find((t) => t.type === 'page')?.targetId ?? '';
      if (!targetId && i > 100) throw new Error('chromium opened no page');
      if (!targetId) await new Promise((r) => setTimeout(r, 20));
    }
    await settle(command);
    const sessionId = ((await command('Target.attachToTarget', { targetId, flatten: true })).result as { sessionId: string }).sessionId;
    const send = async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => (await command(method, params, sessionId)).result as T;
    await send('Page.enable');
    await send('Emulation.setDeviceMetricsOverride', { width: opts.width, height: opts.height, deviceScaleFactor: 1, mobile: false });
    if (opts.initScript) await send('Page.addScriptToEvaluateOnNewDocument', { source: opts.initScript });
    return {
      send,
      async goto(url, timeoutMs = opts.timeoutMs ?? 60_000) {
        const loaded = event('Page.loadEventFired', sessionId, timeoutMs);
        const r = await send<{ errorText?: string }>('Page.navigate', { url });
        if (r.errorText) throw new Error(`navigation to ${url} failed: ${r.errorText}`);
        await loaded;
      },
      async evaluate(expression) {
        const r = await send<{ result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', {
          expression,
          awaitPromise: true,
          returnByValue: true,
        });
        if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
        return r.result.value;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
