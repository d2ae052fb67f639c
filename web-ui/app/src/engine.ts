// The page's side of the optimizer's Web Worker: requests with ids, answers as promises, progress
// as a callback. If the worker itself fails (the WebAssembly module cannot load), every pending
// request fails with a LoadError.

import type {
  BillingPeriodInfo, CostFilesInput, CostSettingsInput, FailureInfo, OptimizeOptionsInput, OptimizeProgress, OptimizeResult, Reply,
  Request, RunResult,
} from "./protocol.js";
import type { ViewQuery } from "./view.js";

export type Outcome =
  | { kind: "done"; run: RunResult }
  | { kind: "cancelled" }
  | { kind: "failed"; error: FailureInfo };

/** A request's failure, as thrown by the download and view calls. */
export class EngineError extends Error {
  constructor(readonly info: FailureInfo) {
    super(info.message);
    this.name = info.name;
  }
}

interface Pending {
  settle: (reply: Reply) => void;
  progress?: (progress: OptimizeProgress, slices: number, elapsedMs: number) => void;
}

export class Engine {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(new URL("./optimizer.worker.ts", import.meta.url), { type: "module" });
    this.worker.addEventListener("message", (event: MessageEvent<Reply>) => {
      const reply = event.data;
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      if (reply.kind === "progress") {
        pending.progress?.(reply.progress, reply.slices, reply.elapsedMs);
        return;
      }
      this.pending.delete(reply.id);
      pending.settle(reply);
    });
    this.worker.addEventListener("error", (event) => {
      event.preventDefault();
      const error = { name: "LoadError", message: "The optimizer could not be loaded in this browser." };
      for (const [id, pending] of this.pending) {
        this.pending.delete(id);
        pending.settle({ kind: "failed", id, error });
      }
    });
  }

  private send(request: Request, pending: Pending, transfer: Transferable[] = []): void {
    this.pending.set(request.id, pending);
    this.worker.postMessage(request, transfer);
  }

  /** Starts a run; `cancel()` stops it within one slice. */
  run(
    files: CostFilesInput,
    settings: CostSettingsInput,
    options: OptimizeOptionsInput,
    onProgress: Pending["progress"],
    sliceMs = 40,
  ): { promise: Promise<Outcome>; cancel: () => void } {
    const id = this.nextId++;
    const promise = new Promise<Outcome>((resolve) => {
      this.send({ kind: "run", id, files, settings, options, sliceMs }, {
        progress: onProgress,
        settle: (reply) => {
          if (reply.kind === "done") resolve({ kind: "done", run: reply.run });
          else if (reply.kind === "cancelled") resolve({ kind: "cancelled" });
          else if (reply.kind === "failed") resolve({ kind: "failed", error: reply.error });
        },
      });
    });
    return { promise, cancel: () => this.worker.postMessage({ kind: "cancel", id } satisfies Request) };
  }

  private ask(make: (id: number) => Request): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(make(id), {
        settle: (reply) => (reply.kind === "failed" ? reject(new EngineError(reply.error)) : resolve(reply)),
      });
    });
  }

  /** The Excel report of the last finished run. */
  async xlsx(): Promise<Uint8Array> {
    const reply = await this.ask((id) => ({ kind: "xlsx", id }));
    if (reply.kind !== "file" || !reply.bytes) throw new Error("no workbook");
    return reply.bytes;
  }

  /** The CSV export's rows of the SIMs that change plan, in the last finished run. */
  async changes(): Promise<string> {
    const reply = await this.ask((id) => ({ kind: "changes", id }));
    if (reply.kind !== "file" || reply.text === undefined) throw new Error("no CSV");
    return reply.text;
  }

  /** The per-SIM table's rows for a search, filter and order. */
  async view(query: ViewQuery): Promise<Uint32Array> {
    const reply = await this.ask((id) => ({ kind: "view", id, query }));
    if (reply.kind !== "view") throw new Error("no view");
    return reply.rows;
  }

  /** The first sheet of an .xlsx workbook as CSV text; an `InputError` names its bad cells. */
  async sheetToCsv(name: string, bytes: Uint8Array): Promise<string> {
    const reply = await this.ask((id) => ({ kind: "sheet", id, name, bytes }));
    if (reply.kind !== "file" || reply.text === undefined) throw new Error("no CSV");
    return reply.text;
  }

  /** The figures of a separate run (the downloads and the table keep the last run's). */
  async summary(files: CostFilesInput, settings: CostSettingsInput): Promise<{ result: OptimizeResult; period: BillingPeriodInfo }> {
    const reply = await this.ask((id) => ({ kind: "summary", id, files, settings, sliceMs: 40 }));
    if (reply.kind !== "summary") throw new Error("no summary");
    return { result: reply.result, period: reply.period };
  }
}
