// The messages between the page and the optimizer's Web Worker (optimizer.worker.ts).

import type {
  CostFilesInput, CostSettingsInput, Diagnostic, OptimizeOptionsInput, OptimizeProgress, OptimizeResult,
  PlanCatalogue, PlanComparison, SimTable, BillingPeriodInfo,
} from "../../pkg/simopt_wasm.js";
import type { ViewQuery } from "./view.js";

export type {
  CostFilesInput, CostSettingsInput, Diagnostic, OptimizeOptionsInput, OptimizeProgress, OptimizeResult,
  PlanCatalogue, PlanComparison, SimTable, BillingPeriodInfo,
};

export type Request =
  | { kind: "run"; id: number; files: CostFilesInput; settings: CostSettingsInput; options: OptimizeOptionsInput; sliceMs: number }
  | { kind: "cancel"; id: number }
  | { kind: "xlsx"; id: number }
  | { kind: "changes"; id: number }
  | { kind: "view"; id: number; query: ViewQuery }
  /** The first sheet of an .xlsx workbook as CSV text (`xlsxToCsv`). */
  | { kind: "sheet"; id: number; name: string; bytes: Uint8Array }
  /** A separate run to completion, for its figures only: the last run's job stays as it is. */
  | { kind: "summary"; id: number; files: CostFilesInput; settings: CostSettingsInput; sliceMs: number };

/** A failure, flattened (structured cloning keeps only an Error's name and message). */
export interface FailureInfo {
  name: string;
  message: string;
  diagnostics?: Diagnostic[];
  errorCount?: number;
}

/** Everything the page shows of a finished run. */
export interface RunResult {
  result: OptimizeResult;
  planLines: PlanComparison[];
  catalogue: PlanCatalogue;
  table: SimTable;
  period: BillingPeriodInfo;
  warnings: Diagnostic[];
  warningCount: number;
  optimizer: string;
  /** Milliseconds: reading the files, optimizing, preparing the results. */
  timings: { loadMs: number; optimizeMs: number; resultsMs: number; slices: number; longestSliceMs: number };
}

export type Reply =
  | { kind: "progress"; id: number; progress: OptimizeProgress; slices: number; elapsedMs: number }
  | { kind: "done"; id: number; run: RunResult }
  | { kind: "cancelled"; id: number }
  | { kind: "failed"; id: number; error: FailureInfo }
  | { kind: "file"; id: number; bytes?: Uint8Array; text?: string }
  | { kind: "view"; id: number; rows: Uint32Array }
  | { kind: "summary"; id: number; result: OptimizeResult; period: BillingPeriodInfo };
