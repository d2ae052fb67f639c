// Runs the simopt core (WebAssembly) off the page's main thread, so a large fleet never freezes
// the page. Receives { id, files, settings }; answers { id, ok: true, result } with plain data,
// or { id, ok: false, error: { name, message, diagnostics? } }. Errors are flattened by hand
// because structured cloning keeps only an Error's name and message. The last run is kept, so
// { id, report: "xlsx" } answers its Excel report as bytes (result: Uint8Array).
import init, { CostRun } from "./pkg/simopt_wasm.js";

const ready = init();
let last = null;

self.addEventListener("message", async (event) => {
  const { id, files, settings, report } = event.data;
  try {
    await ready;
    if (report === "xlsx") {
      if (!last) throw new Error("Compute the bill first.");
      const bytes = last.toXlsx();
      self.postMessage({ id, ok: true, result: bytes }, [bytes.buffer]);
      return;
    }
    last?.free();
    last = null; // so a run that fails leaves no workbook of the one before
    const run = new CostRun(files, settings);
    last = run;
    self.postMessage({
      id,
      ok: true,
      result: {
        total: run.total,
        simCount: run.simCount,
        plans: run.plans,
        totals: run.totals,
        period: run.period,
        warnings: run.warnings,
        warningCount: run.warningCount,
        json: run.toJson(),
      },
    });
  } catch (error) {
    self.postMessage({
      id,
      ok: false,
      error: {
        name: error?.name ?? "Error",
        message: error?.message ?? String(error),
        diagnostics: Array.isArray(error?.diagnostics) ? error.diagnostics : undefined,
        errorCount: error?.errorCount,
      },
    });
  }
});
