// Types of scripts/run-tests.mjs for its test (scripts/run-tests.test.ts).
export interface VitestReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites?: number;
}
export interface Verdict {
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
  problem?: string;
}
export const FLOOR_FILE: string;
export function readFloor(file?: string): number;
export function verdict(report: VitestReport | null, status: number | null, o: { filtered: boolean; floor: number }): Verdict;
