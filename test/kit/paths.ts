/**
 * Where the tests' inputs live, in one place: every test, script and fixture generator that
 * reads a public capture, a corpus case or a fixture takes its path from here. All of them are
 * inside the repository (a clone runs `npm test` on its own); nothing here falls back to a
 * path outside it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root directory. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** Public WebSocket captures with their `.tshark.json` sidecars (provenance and licences: its README.md). */
export const PUBLIC_CAPTURES = join(REPO_ROOT, 'test', 'captures', 'public');

/** The hand-made corpus of broken and edge-case captures (written by scripts/make-corpus.ts). */
export const CORPUS = join(REPO_ROOT, 'test', 'corpus');

/** Small capture fixtures made by test/fixtures/capture/make-fixtures.ts. */
export const CAPTURE_FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'capture');

/** The bundled sample capture (resources/samples/README.md). */
export const SAMPLE_CHAT = join(REPO_ROOT, 'resources', 'samples', 'chat.pcapng');

/** Absolute path of one public capture. */
export function publicCapture(name: string): string {
  return join(PUBLIC_CAPTURES, name);
}

/** File names of the public captures (sidecars and README left out), sorted. */
export function publicCaptureNames(): string[] {
  return readdirSync(PUBLIC_CAPTURES)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort();
}
