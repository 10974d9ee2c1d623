/**
 * Decode a capture file: the file source (engine/capture/file-source.ts, streamed) into a
 * Pipeline (engine/flow/pipeline.ts), every event to `emit`; resolves with the summary.
 * Progress and cancellation are the file source's.
 */
import type { EventSink, SummaryEvent } from '../shared/events';
import { readCaptureFile } from './capture/file-source';
import { Pipeline, type PipelineOptions } from './flow/pipeline';

export interface AnalyzeOptions extends Partial<PipelineOptions> {
  onProgress?: (bytesRead: number, totalBytes: number, packets: number) => void;
  signal?: AbortSignal;
}

/** Decode a capture file, streaming, emitting every event; resolves with the summary. */
export async function analyzeFile(path: string, emit: EventSink, opts: AnalyzeOptions = {}): Promise<SummaryEvent> {
  const { onProgress, signal, ...popts } = opts;
  const pipe = new Pipeline(emit, popts);
  // The pipeline is the capture sink itself: the parser calls Pipeline.packet with no
  // function in between (one level less for V8 to inline and compile, docs/benchmarks.md).
  await readCaptureFile(path, pipe, {
    signal,
    onProgress: onProgress ? (read, total) => onProgress(read, total, pipe.packetCount) : undefined,
  });
  return pipe.finish();
}
