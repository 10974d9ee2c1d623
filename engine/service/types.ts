/**
 * Types shared by the parts of EngineService (./engine-service.ts): the push outlet, the
 * file analyzer, and what the service needs from the live capture module
 * (engine/capture/live.ts, loaded lazily). No runtime code.
 */
import type { CaptureOptions, CaptureStatus, InterfaceInfo, PushName, PushPayloads, Result } from '../../shared/api';
import type { EventSink, SummaryEvent } from '../../shared/events';
import type { CaptureSink } from '../types';
import type { AnalyzeOptions } from '../pipeline';

/** Sends one pushed event to every page (IPC, the browser shell's WebSocket, a test). */
export type PushFn = <K extends PushName>(name: K, payload: PushPayloads[K]) => void;

/** Decodes a capture file into `emit` (engine/pipeline.ts `analyzeFile`, or a test's stand-in). */
export type Analyzer = (path: string, emit: EventSink, opts: AnalyzeOptions) => Promise<SummaryEvent>;

/** A running live capture, as engine/capture/live.ts hands it out. */
export interface LiveCaptureHandle {
  file: string;
  readonly done: Promise<CaptureStatus>;
  stop(): Promise<CaptureStatus>;
}

/** What the service needs from engine/capture/live.ts (loaded lazily; may be missing). */
export interface LiveModule {
  startLiveCapture(opts: CaptureOptions & { file?: string }, sink: CaptureSink, onStatus: (s: CaptureStatus) => void): Promise<Result<LiveCaptureHandle>>;
  validateFilter(filter: string, iface: string): Result<true>;
  listInterfaces(): InterfaceInfo[];
}

/**
 * Loads the live capture module: resolves null when this build has none, rejects with the
 * reason when loading it failed (that reason reaches the user).
 */
export type LiveLoader = () => Promise<LiveModule | null>;
