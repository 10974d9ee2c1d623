/**
 * The `window.api` object of the desktop app: one method per call of the WsscopeApi
 * contract, each invoking its own channel (never a generic invoke), and one subscription per
 * push that strips the Electron event and returns its unsubscribe. Built from an injected
 * ipcRenderer so tests can check it without Electron.
 */
import { callChannel, pushChannel, type CallName, type PushName, type PushPayloads, type WsscopeApi } from '../../shared/api';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

export function buildApi(ipc: IpcRendererLike): WsscopeApi {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = (name: CallName, ...args: unknown[]): Promise<any> => ipc.invoke(callChannel(name), ...args);
  const subscribe = <K extends PushName>(name: K, cb: (p: PushPayloads[K]) => void): (() => void) => {
    const listener = (_event: unknown, payload: unknown): void => cb(payload as PushPayloads[K]);
    ipc.on(pushChannel(name), listener);
    return () => void ipc.removeListener(pushChannel(name), listener);
  };
  return {
    listInterfaces: () => call('listInterfaces'),
    validateFilter: (filter, iface) => (iface === undefined ? call('validateFilter', filter) : call('validateFilter', filter, iface)),
    openFile: (path) => call('openFile', path),
    openFileDialog: () => call('openFileDialog'),
    openBytes: (name, bytes) => call('openBytes', name, bytes),
    recentFiles: () => call('recentFiles'),
    startCapture: (opts) => call('startCapture', opts),
    stopCapture: () => call('stopCapture'),
    currentSession: () => call('currentSession'),
    replay: () => call('replay'),
    getMessageDetail: (index) => call('getMessageDetail', index),
    getHandshake: (conn) => call('getHandshake', conn),
    getStats: (conn) => call('getStats', conn),
    queryMessages: (q) => call('queryMessages', q),
    exportData: (format, path, opts) => (opts !== undefined ? call('exportData', format, path, opts) : path === undefined ? call('exportData', format) : call('exportData', format, path)),
    cancel: (what) => call('cancel', what),
    getAppFacets: (conn) => call('getAppFacets', conn),
    getHttp2Requests: (conn) => call('getHttp2Requests', conn),
    getEngineIoSession: (conn) => call('getEngineIoSession', conn),
    listDecoders: () => call('listDecoders'),
    setDecoder: (conn, protocol) => call('setDecoder', conn, protocol),
    addKeyLog: (path) => call('addKeyLog', path),
    addKeyLogDialog: () => call('addKeyLogDialog'),
    addKeyLogBytes: (name, bytes) => call('addKeyLogBytes', name, bytes),
    keyLogs: () => call('keyLogs'),
    onBatch: (cb) => subscribe('batch', cb),
    onProgress: (cb) => subscribe('progress', cb),
    onCaptureStatus: (cb) => subscribe('captureStatus', cb),
    onSession: (cb) => subscribe('session', cb),
    onError: (cb) => subscribe('error', cb),
  };
}
