/**
 * IPC handlers: one `ipcMain.handle('wsscope:<call>')` per call of the WsscopeApi contract,
 * relayed to the engine process; engine pushes go to the window as `wsscope:event:<name>`.
 *
 * Every handler first checks that the message comes from our own page (the sender frame's
 * URL has the app's origin and it is the top frame: a frame showing anything else gets
 * nothing), then the argument count; the engine validates the values. Dialogs are the main
 * process's job: `openFileDialog`, and `exportData` without a path. A path for exportData
 * coming from the page is only used as the dialog's suggestion: the page never decides
 * where files are written.
 */
import { basename } from 'node:path';
import type { IpcMainInvokeEvent, MessageBoxOptions, OpenDialogOptions, SaveDialogOptions } from 'electron';
import { CALLS, callChannel, err, pushChannel, type CallName, type Result } from '../../shared/api';
import { checkArity, checkFormat } from '../../engine/service/validate';
import type { EngineClient } from '../../engine/service/client';

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

export interface DialogLike {
  showOpenDialog(opts: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(opts: SaveDialogOptions): Promise<{ canceled: boolean; filePath?: string }>;
  showMessageBox?(opts: MessageBoxOptions): Promise<{ response: number }>;
}

export interface IpcDeps {
  ipcMain: IpcMainLike;
  engine: Pick<EngineClient, 'callRaw' | 'onPush'>;
  dialog: DialogLike;
  /** origin the page must have: "app://wsscope", or the dev server's origin */
  allowedOrigin: string;
  /** where to send pushes (null while no window) */
  target: () => { send(channel: string, ...args: unknown[]): void; isDestroyed(): boolean } | null;
  /** after a capture was opened (to refresh Open Recent) */
  onOpened?: () => void;
  /** after a capture was started (remembered for the Start capture menu item) */
  onCaptureStarted?: (opts: unknown) => void;
}

/** Sender check: our origin, top frame. */
export function trustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, allowedOrigin: string): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent) return false;
  try {
    // not URL.origin: WHATWG URL gives "null" as the origin of non-special schemes like app:
    const u = new URL(frame.url);
    return `${u.protocol}//${u.host}` === allowedOrigin;
  } catch {
    return false;
  }
}

export const CAPTURE_FILTERS = [
  { name: 'Captures', extensions: ['pcap', 'pcapng', 'cap', 'gz'] },
  { name: 'All files', extensions: ['*'] },
];

export const KEYLOG_FILTERS = [
  { name: 'Key logs', extensions: ['log', 'txt', 'keys', 'keylog'] },
  { name: 'All files', extensions: ['*'] },
];

const EXPORT_FILTERS: Record<string, Array<{ name: string; extensions: string[] }>> = {
  ndjson: [{ name: 'NDJSON events', extensions: ['ndjson', 'jsonl'] }],
  har: [{ name: 'HAR', extensions: ['har'] }],
  pcapng: [{ name: 'pcapng capture', extensions: ['pcapng'] }],
};

/** Opens the file dialog and the chosen capture; ok(null) when cancelled. */
export async function openWithDialog(d: Pick<IpcDeps, 'dialog' | 'engine'>): Promise<Result<unknown>> {
  const r = await d.dialog.showOpenDialog({ title: 'Open capture', properties: ['openFile'], filters: CAPTURE_FILTERS });
  if (r.canceled || r.filePaths.length === 0) return { ok: true, value: null };
  return d.engine.callRaw('openFile', [r.filePaths[0]]);
}

/** Asks where to save and exports there; `cancelled` when the user backs out. */
export async function exportWithDialog(d: Pick<IpcDeps, 'dialog' | 'engine'>, format: string, suggestion?: string, opts?: unknown): Promise<Result<unknown>> {
  const f = checkFormat(format);
  if (!f.ok) return err('bad-request', f.message);
  const cur = await d.engine.callRaw('currentSession', []);
  const path = cur.ok ? String((cur.value as { path?: string }).path ?? '') : '';
  const stem = path ? basename(path).replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '') : 'wsscope';
  const r = await d.dialog.showSaveDialog({
    title: `Export as ${f.value.toUpperCase()}`,
    defaultPath: suggestion ? basename(suggestion) : `${stem}.${f.value}`,
    filters: EXPORT_FILTERS[f.value],
  });
  if (r.canceled || !r.filePath) return err('cancelled', 'Export cancelled.');
  // the options (the timeline's filter for a filtered export, secrets) are checked by the engine's validator
  return d.engine.callRaw('exportData', opts === undefined ? [f.value, r.filePath] : [f.value, r.filePath, opts]);
}

/**
 * The menu's "Save Capture as pcapng…": with key logs loaded, asks first whether their secrets
 * go into the file (they decrypt the traffic); `cancelled` when the user backs out.
 */
export async function savePcapngWithDialog(d: Pick<IpcDeps, 'dialog' | 'engine'>): Promise<Result<unknown>> {
  const k = await d.engine.callRaw('keyLogs', []);
  const sessions = k.ok ? Number((k.value as { sessions?: number }).sessions ?? 0) : 0;
  if (sessions === 0 || !d.dialog.showMessageBox) return exportWithDialog(d, 'pcapng');
  const a = await d.dialog.showMessageBox({
    type: 'warning',
    title: 'Embed TLS secrets?',
    message: `Embed the TLS secrets of ${sessions} session${sessions === 1 ? '' : 's'} in the pcapng?`,
    detail: 'The file then decrypts on its own, in wsscope and in Wireshark, for anyone who has it.',
    buttons: ['Embed secrets', 'Save without secrets', 'Cancel'],
    defaultId: 1,
    cancelId: 2,
  });
  if (a.response === 2) return err('cancelled', 'Export cancelled.');
  return exportWithDialog(d, 'pcapng', undefined, { secrets: a.response === 0 });
}

/** Picks a TLS key log with the open dialog and loads it; ok(null) when cancelled. */
export async function keyLogWithDialog(d: Pick<IpcDeps, 'dialog' | 'engine'>): Promise<Result<unknown>> {
  const r = await d.dialog.showOpenDialog({ title: 'Load a TLS key log (SSLKEYLOGFILE)', properties: ['openFile'], filters: KEYLOG_FILTERS });
  if (r.canceled || r.filePaths.length === 0) return { ok: true, value: null };
  return d.engine.callRaw('addKeyLog', [r.filePaths[0]]);
}

/** Registers every handler; returns a function that removes them and the push relay. */
export function registerIpc(d: IpcDeps): () => void {
  const refuse = err('bad-request', 'wsscope only answers its own window.');
  for (const name of CALLS) {
    d.ipcMain.handle(callChannel(name), async (event, ...raw) => {
      if (!trustedSender(event, d.allowedOrigin)) return refuse;
      const a = checkArity(name, raw);
      if (!a.ok) return err('bad-request', a.message);
      const args = a.value;
      let r: Result<unknown>;
      switch (name as CallName) {
        case 'openFileDialog':
          r = await openWithDialog(d);
          break;
        case 'exportData':
          r = await exportWithDialog(d, args[0] as string, typeof args[1] === 'string' ? args[1] : undefined, args[2]);
          break;
        case 'addKeyLogDialog':
          r = await keyLogWithDialog(d);
          break;
        default:
          r = await d.engine.callRaw(name, args);
      }
      if (r.ok && (name === 'openFile' || name === 'openFileDialog' || name === 'openBytes') && r.value) d.onOpened?.();
      if (r.ok && name === 'startCapture') d.onCaptureStarted?.(args[0]);
      return r;
    });
  }
  const off = d.engine.onPush((name, payload) => {
    const t = d.target();
    if (t && !t.isDestroyed()) t.send(pushChannel(name), payload);
  });
  return () => {
    off();
    for (const name of CALLS) d.ipcMain.removeHandler(callChannel(name));
  };
}
