/**
 * The session and the capture: what is loaded (file or live), load progress, interfaces,
 * the BPF filter being typed (validated by the engine, debounced), live capture status, and
 * the last errors to show. Also the session-level actions: open (dialog, path or bytes),
 * start/stop, export.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type {
  ApiError,
  CaptureStatus,
  ExportFormat,
  ExportOptions,
  InterfaceInfo,
  ProgressInfo,
  Result,
  SessionInfo,
} from '../../../shared/api';
import { useApi, useApiKind } from '../api/index';

const FILTER_DEBOUNCE_MS = 300;
const MAX_ERRORS = 5;

export interface ShownError extends ApiError {
  id: number;
}

export const useCaptureStore = defineStore('capture', () => {
  const api = useApi();
  const kind = useApiKind();

  const session = ref<SessionInfo>({ id: 0, kind: 'none', path: '', totalBytes: 0 });
  const progress = ref<ProgressInfo | null>(null);
  const status = ref<CaptureStatus>({ state: 'idle', iface: '', backend: '', packets: 0, bytes: 0, drops: null, file: '' });
  const interfaces = shallowRef<InterfaceInfo[]>([]);
  const interfacesError = ref('');
  const iface = ref('');
  const bpf = ref('');
  const bpfState = ref<'empty' | 'checking' | 'valid' | 'invalid'>('empty');
  const bpfError = ref('');
  const errors = ref<ShownError[]>([]);
  const busy = ref(false);
  const lastExport = ref('');
  const recent = ref<string[]>([]);
  /** a file the user chose that is being read or uploaded before its session exists */
  const opening = ref<{ name: string; size: number } | null>(null);

  const running = computed(() => ['starting', 'running', 'stopping'].includes(status.value.state));
  /**
   * A file is being opened or read: from the moment it is chosen until the engine says it has
   * read all of it (a file session without its final progress is still being read, even
   * before the first progress push).
   */
  const loading = computed(
    () => !!opening.value || (session.value.kind === 'file' ? !progress.value?.done : !!progress.value && !progress.value.done),
  );
  const hasSession = computed(() => session.value.kind !== 'none');

  let errorId = 0;
  let bpfTimer: ReturnType<typeof setTimeout> | null = null;
  let bpfSeq = 0;

  function pushError(e: ApiError): void {
    errors.value = [...errors.value.slice(-(MAX_ERRORS - 1)), { ...e, id: ++errorId }];
  }
  function dismissError(id: number): void {
    errors.value = errors.value.filter((e) => e.id !== id);
  }
  function check<T>(r: Result<T>): T | undefined {
    if (r.ok) return r.value;
    if (r.error.code !== 'cancelled') pushError(r.error);
    return undefined;
  }

  async function loadInterfaces(): Promise<void> {
    const r = await api.listInterfaces();
    if (!r.ok) {
      interfacesError.value = r.error.message;
      return;
    }
    interfacesError.value = '';
    interfaces.value = r.value;
    if (!iface.value || !r.value.some((i) => i.name === iface.value)) {
      // loopback first: the only traffic this tool is meant to watch by default
      const pick = r.value.find((i) => i.loopback && i.up) ?? r.value.find((i) => i.up) ?? r.value[0];
      iface.value = pick?.name ?? '';
    }
  }

  /** Validates the BPF filter after the user stops typing for a moment. */
  function bpfChanged(): void {
    if (bpfTimer) clearTimeout(bpfTimer);
    const f = bpf.value.trim();
    if (!f) {
      bpfSeq++;
      bpfState.value = 'empty';
      bpfError.value = '';
      return;
    }
    bpfState.value = 'checking';
    bpfTimer = setTimeout(() => {
      bpfTimer = null;
      void validateBpf();
    }, FILTER_DEBOUNCE_MS);
  }
  async function validateBpf(): Promise<void> {
    const f = bpf.value.trim();
    const seq = ++bpfSeq;
    if (!f) {
      bpfState.value = 'empty';
      return;
    }
    const r = await api.validateFilter(f, iface.value || undefined);
    if (seq !== bpfSeq) return;
    bpfState.value = r.ok ? 'valid' : 'invalid';
    bpfError.value = r.ok ? '' : r.error.message;
  }

  async function start(): Promise<void> {
    if (!iface.value || bpfState.value === 'invalid') return;
    busy.value = true;
    const r = await api.startCapture({ iface: iface.value, filter: bpf.value.trim() || undefined });
    busy.value = false;
    const s = check(r);
    if (s) session.value = s;
  }
  async function stop(): Promise<void> {
    busy.value = true;
    const r = await api.stopCapture();
    busy.value = false;
    const s = check(r);
    if (s) status.value = s;
  }

  async function openDialog(): Promise<void> {
    const r = await api.openFileDialog();
    check(r);
  }
  /**
   * Opens a file the page holds (the browser shell's picker or a drop): shown as being opened
   * at once; streamed to the engine when the API can upload (ws-client's `uploadFile`), else
   * read into memory and sent as bytes.
   */
  async function openLocalFile(f: File): Promise<void> {
    opening.value = { name: f.name, size: f.size };
    busy.value = true;
    try {
      const r = api.uploadFile ? await api.uploadFile(f) : await api.openBytes(f.name, new Uint8Array(await f.arrayBuffer()));
      check(r);
    } catch (e) {
      pushError({ code: 'io', message: `Reading ${f.name} failed: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      busy.value = false;
      opening.value = null;
    }
  }
  async function openBytes(name: string, bytes: Uint8Array): Promise<void> {
    busy.value = true;
    const r = await api.openBytes(name, bytes);
    busy.value = false;
    check(r);
  }
  async function openPath(path: string): Promise<void> {
    opening.value = { name: path, size: 0 };
    try {
      check(await api.openFile(path));
    } finally {
      opening.value = null;
    }
  }
  async function loadRecent(): Promise<void> {
    const r = await api.recentFiles();
    if (r.ok) recent.value = r.value;
  }

  /**
   * Electron: the main process asks for a path and writes the file. Browser: the engine returns
   * the bytes, handed to `download` (a Blob URL; never a URL built from capture content).
   */
  async function exportAs(format: ExportFormat, download: (name: string, bytes: Uint8Array) => void, opts?: ExportOptions): Promise<void> {
    busy.value = true;
    const r = await (opts ? api.exportData(format, undefined, opts) : api.exportData(format));
    busy.value = false;
    const v = check(r);
    if (!v) return;
    // the engine names a download after the capture (`capture.ndjson`, `capture-filtered.har`)
    if (v.bytes) download(v.path || exportName(format), v.bytes);
    lastExport.value = v.path || exportName(format);
  }

  function setSession(s: SessionInfo): boolean {
    const changed = s.id !== session.value.id;
    session.value = s;
    if (changed) progress.value = null;
    return changed;
  }

  return {
    kind,
    session,
    progress,
    status,
    interfaces,
    interfacesError,
    iface,
    bpf,
    bpfState,
    bpfError,
    errors,
    busy,
    lastExport,
    recent,
    opening,
    running,
    loading,
    hasSession,
    pushError,
    dismissError,
    loadInterfaces,
    bpfChanged,
    validateBpf,
    start,
    stop,
    openDialog,
    openLocalFile,
    openBytes,
    openPath,
    loadRecent,
    exportAs,
    setSession,
  };
});

function exportName(format: ExportFormat): string {
  const ext = format === 'har' ? 'har' : format === 'pcapng' ? 'pcapng' : 'ndjson';
  return `wsscope-export.${ext}`;
}
