/**
 * The application menu as a template (Electron's MenuItemConstructorOptions), built from
 * plain actions so tests can walk it without Electron.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  open(): void;
  openRecent(path: string): void;
  savePcapng(): void;
  keyLog(): void;
  exportAs(format: 'ndjson' | 'har'): void;
  startCapture(): void;
  stopCapture(): void;
}

export interface MenuOptions {
  isDev: boolean;
  isMac: boolean;
  recent: string[];
  actions: MenuActions;
}

export function buildMenuTemplate(o: MenuOptions): MenuItemConstructorOptions[] {
  const a = o.actions;
  const recent: MenuItemConstructorOptions[] = o.recent.length
    ? o.recent.map((p) => ({ label: p, click: () => a.openRecent(p) }))
    : [{ label: 'No recent captures', enabled: false }];
  const view: MenuItemConstructorOptions[] = [];
  if (o.isDev) view.push({ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' });
  view.push({ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' });
  const template: MenuItemConstructorOptions[] = [];
  if (o.isMac) template.push({ role: 'appMenu' });
  template.push(
    {
      label: 'File',
      submenu: [
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => a.open() },
        { label: 'Open Recent', submenu: recent },
        { label: 'Key Log File…', click: () => a.keyLog() },
        { type: 'separator' },
        { label: 'Save Capture as pcapng…', accelerator: 'CmdOrCtrl+S', click: () => a.savePcapng() },
        {
          label: 'Export',
          submenu: [
            { label: 'Events as NDJSON…', click: () => a.exportAs('ndjson') },
            { label: 'HAR (with WebSocket messages)…', click: () => a.exportAs('har') },
          ],
        },
        { type: 'separator' },
        o.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Capture',
      submenu: [
        { label: 'Start Capture', accelerator: 'CmdOrCtrl+E', click: () => a.startCapture() },
        { label: 'Stop Capture', accelerator: 'CmdOrCtrl+Shift+E', click: () => a.stopCapture() },
      ],
    },
    { label: 'Edit', submenu: [{ role: 'copy' }, { role: 'selectAll' }] },
    { label: 'View', submenu: view },
  );
  return template;
}
