/**
 * The engine's entry points for decoding, where its callers have always imported them: the
 * Pipeline (engine/flow/pipeline.ts: records in, events out) and `analyzeFile`
 * (engine/analyze.ts: a capture file through a Pipeline). The parts live in engine/flow/
 * (flow table, roles, reassembly budget, gap expiry, UDP) and engine/stack/ (the protocol
 * layers of a connection).
 */
export { DEFAULT_PIPELINE_OPTIONS, LIVE_GAP_TIMEOUT_S, Pipeline, type PipelineOptions } from './flow/pipeline';
export { analyzeFile, type AnalyzeOptions } from './analyze';
