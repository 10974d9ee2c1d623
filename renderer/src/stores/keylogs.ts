/**
 * TLS key logs as the page knows them: names and counts only (shared/api.ts KeyLogInfo); the
 * secrets stay in the engine. Adds a key log picked with the dialog (Electron), a file input
 * or a drop (bytes the user handed this page), and tells a dropped key log from a capture by
 * its first bytes (a capture's magic number) so one drop target serves both.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { KeyLogInfo, Result } from '../../../shared/api';
import { useApi } from '../api/index';
import { useCaptureStore } from './capture';

const EMPTY: KeyLogInfo = { files: [], sessions: 0, decrypted: 0, tlsConnections: 0 };

/** pcap (both byte orders, both resolutions), pcapng, gzip */
export function isCaptureHead(b: Uint8Array): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  if (b.length < 4) return false;
  const be = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const le = ((b[3] << 24) | (b[2] << 16) | (b[1] << 8) | b[0]) >>> 0;
  return be === 0x0a0d0d0a || [0xa1b2c3d4, 0xa1b23c4d].includes(be) || [0xa1b2c3d4, 0xa1b23c4d].includes(le);
}

export const useKeyLogsStore = defineStore('keylogs', () => {
  const api = useApi();
  const capture = useCaptureStore();
  const info = ref<KeyLogInfo>(EMPTY);
  const busy = ref(false);
  /** the short help text is open */
  const help = ref(false);

  async function refresh(): Promise<void> {
    const r = await api.keyLogs();
    if (r.ok) info.value = r.value;
  }

  async function settle(p: Promise<Result<KeyLogInfo | null>>): Promise<void> {
    busy.value = true;
    const r = await p;
    busy.value = false;
    if (!r.ok) {
      if (r.error.code !== 'cancelled') capture.pushError(r.error);
      return;
    }
    if (r.value) info.value = r.value;
  }

  /** "Key log file…": the dialog in Electron; in the browser the caller opens a file input and calls `addBytes`. */
  function pick(): Promise<void> {
    return settle(api.addKeyLogDialog());
  }

  function addBytes(name: string, bytes: Uint8Array): Promise<void> {
    return settle(api.addKeyLogBytes(name, bytes));
  }

  /** A file dropped on the window: a key log is loaded here (true); a capture is left to the caller (false). */
  async function dropped(f: File): Promise<boolean> {
    const head = new Uint8Array(await f.slice(0, 4).arrayBuffer());
    if (isCaptureHead(head)) return false;
    await addBytes(f.name, new Uint8Array(await f.arrayBuffer()));
    return true;
  }

  return { info, busy, help, refresh, pick, addBytes, dropped };
});
