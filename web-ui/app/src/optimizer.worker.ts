// The optimizer's Web Worker: the simopt core (WebAssembly) runs here, off the page's thread, so
// the page never freezes. A run is an `OptimizeJob` stepped in slices of a few tens of
// milliseconds; between slices the worker reports progress and reads its messages, so Cancel
// stops a run within one slice. The finished job is kept for the downloads and the per-SIM
// table's columns for the table's views (search and sort).

import init, { OptimizeJob, xlsxToCsv } from "../../pkg/simopt_wasm.js";
import { filterCsv } from "./csv.js";
import type { FailureInfo, Reply, Request, RunResult } from "./protocol.js";
import { computeView, type ViewColumns } from "./view.js";

const ready = init();
const scope = self as unknown as DedicatedWorkerGlobalScope;

let job: OptimizeJob | null = null;
let columns: ViewColumns | null = null;
let running = 0;
const cancelled = new Set<number>();

function post(reply: Reply, transfer: Transferable[] = []): void {
  scope.postMessage(reply, transfer);
}

function failure(error: unknown): FailureInfo {
  const e = error as { name?: string; message?: string; diagnostics?: unknown; errorCount?: number };
  return {
    name: e?.name ?? "Error",
    message: e?.message ?? String(error),
    diagnostics: Array.isArray(e?.diagnostics) ? (e.diagnostics as FailureInfo["diagnostics"]) : undefined,
    errorCount: e?.errorCount,
  };
}

/** Lets queued messages (a Cancel) in between slices. */
const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function run(request: Extract<Request, { kind: "run" }>): Promise<void> {
  const { id } = request;
  await ready;
  running = id;
  job?.free();
  job = null;
  columns = null;
  const t0 = performance.now();
  let next: OptimizeJob;
  try {
    next = OptimizeJob.start(request.files, request.settings, request.options);
  } catch (error) {
    post({ kind: "failed", id, error: failure(error) });
    return;
  }
  const t1 = performance.now();
  let slices = 0;
  let longest = 0;
  let lastReport = 0;
  try {
    for (;;) {
      const s0 = performance.now();
      const slice = next.runSlice({ maxMillis: request.sliceMs });
      const now = performance.now();
      slices++;
      longest = Math.max(longest, now - s0);
      if (slice.finished) break;
      if (now - lastReport > 60) {
        post({ kind: "progress", id, progress: slice.progress, slices, elapsedMs: now - t0 });
        lastReport = now;
      }
      await breathe();
      if (cancelled.has(id)) {
        next.free();
        post({ kind: "cancelled", id });
        return;
      }
    }
    const t2 = performance.now();
    const table = next.simTable();
    const result: RunResult = {
      result: next.result(),
      planLines: next.planLines(),
      catalogue: next.catalogue(),
      table,
      period: next.period,
      warnings: next.warnings,
      warningCount: next.warningCount,
      optimizer: next.optimizer,
      timings: { loadMs: t1 - t0, optimizeMs: t2 - t1, resultsMs: 0, slices, longestSliceMs: longest },
    };
    columns = {
      count: table.count,
      iccidList: table.iccids === "" ? [] : table.iccids.split("\n"),
      plans: table.plans,
      reasons: table.reasons,
      // Copies: the originals are transferred to the page.
      usageBytes: table.usageBytes.slice(),
      currentPlan: table.currentPlan.slice(),
      plan: table.plan.slice(),
      currentCost: table.currentCost.slice(),
      cost: table.cost.slice(),
      reason: table.reason.slice(),
    };
    job = next;
    result.timings.resultsMs = performance.now() - t2;
    const transfer = [
      table.commPlan, table.usageBytes, table.currentPlan, table.plan, table.currentCost, table.cost, table.reason, table.locked,
    ].map((a) => a.buffer);
    post({ kind: "done", id, run: result }, transfer);
  } catch (error) {
    next.free();
    post({ kind: "failed", id, error: failure(error) });
  } finally {
    cancelled.delete(id);
    if (running === id) running = 0;
  }
}

/** A run to completion for its figures alone (the hand-off's comparison at the service's moment). */
async function summary(request: Extract<Request, { kind: "summary" }>): Promise<void> {
  await ready;
  const other = OptimizeJob.start(request.files, request.settings, {});
  try {
    for (;;) {
      if (other.runSlice({ maxMillis: request.sliceMs }).finished) break;
      await breathe();
    }
    post({ kind: "summary", id: request.id, result: other.result(), period: other.period });
  } finally {
    other.free();
  }
}

scope.addEventListener("message", async (event: MessageEvent<Request>) => {
  const request = event.data;
  try {
    switch (request.kind) {
      case "run":
        await run(request);
        break;
      case "cancel":
        if (running === request.id) cancelled.add(request.id);
        break;
      case "xlsx": {
        if (!job) throw new Error("Optimize first: there is no result to report.");
        const bytes = job.toXlsx();
        post({ kind: "file", id: request.id, bytes }, [bytes.buffer]);
        break;
      }
      case "changes": {
        if (!job) throw new Error("Optimize first: there is no result to export.");
        post({ kind: "file", id: request.id, text: filterCsv(job.toCsv(), "changed", "true") });
        break;
      }
      case "sheet": {
        await ready;
        post({ kind: "file", id: request.id, text: xlsxToCsv(request.bytes, request.name) });
        break;
      }
      case "summary":
        await summary(request);
        break;
      case "view": {
        if (!columns) throw new Error("Optimize first: there is no table.");
        const rows = computeView(columns, request.query);
        post({ kind: "view", id: request.id, rows }, [rows.buffer]);
        break;
      }
    }
  } catch (error) {
    post({ kind: "failed", id: request.id, error: failure(error) });
  }
});
