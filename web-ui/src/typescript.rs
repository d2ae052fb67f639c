//! TypeScript declarations of the API's plain objects, appended to the generated `.d.ts`, and
//! the typed `JsValue` wrappers that let wasm-bindgen name them in signatures.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** One input file: its name (used in messages; `.json` selects JSON) and its contents. */
export type SourceFileInput =
  | { name: string; text: string; bytes?: undefined }
  | { name: string; bytes: Uint8Array | ArrayBuffer; text?: undefined };

/** The files of a run. Without `eligibility`, every plan is allowed for every SIM. */
export interface CostFilesInput {
  sims: SourceFileInput;
  plans: SourceFileInput;
  eligibility?: SourceFileInput | null;
}

/** Account settings, the keys of `account.toml` in camelCase (snake_case is accepted too). */
export interface CostSettingsInput {
  /** Time of the run, `YYYY-MM-DDTHH:MM` in the zone or RFC 3339. Required. */
  asOf: string;
  /** Local end of the billing period, `YYYY-MM-DDTHH:MM`. Default: end of `asOf`'s month. */
  periodEnd?: string | null;
  /** The day of the month periods end on, 1–31 (clamped to short months); a period then starts
   *  where the one before ended. Default: none (a period starts one month before its end). */
  periodEndDay?: string | number | null;
  /** IANA time zone. Default `UTC`. */
  timeZone?: string | null;
  /** `on`/`off`. Default on. */
  proration?: string | boolean | null;
  /** `rate-and-overage` (default), `overage-only` or `rate-only`. */
  chargeType?: string | null;
  /** `on`/`off`. Default on. */
  projection?: string | boolean | null;
  /** Projection margin in percent. Default 1. */
  marginPct?: string | number | null;
  /** Decimals of the currency's minor unit, 0–6. Default 2. */
  currencyDecimals?: string | number | null;
  /** The account's name, for the Excel report's title. No effect on the bill. */
  accountName?: string | null;
}

/** Money is exact decimal text with 2 to 6 decimals (`"1234.50"`); data sizes are exact MB text. */
export type DecimalString = string;

/** The bill of one rate plan. */
export interface PlanLine {
  plan: string;
  name: string;
  /** The shared pool the plan belongs to, if pooled. */
  pool?: string;
  simCount: number;
  usageMb: DecimalString;
  allowanceMb: DecimalString;
  base: DecimalString;
  overage: DecimalString;
  sms: DecimalString;
  total: DecimalString;
}

/** The sums of the plan lines. */
export interface BillTotals {
  simCount: number;
  usageMb: DecimalString;
  base: DecimalString;
  overage: DecimalString;
  sms: DecimalString;
  total: DecimalString;
}

/** The billing period, in its time zone. */
export interface BillingPeriodInfo {
  start: string;
  end: string;
  timeZone: string;
  days: number;
  asOf: string;
  /** Whether the run is at or after the period's end (usage is final, nothing projected). */
  closed: boolean;
}

/** A problem found in the input. `row` counts like a spreadsheet (header = 1). */
export interface Diagnostic {
  severity: "error" | "warning";
  /** Stable identifier, e.g. `negative-amount`, `unknown-plan`. */
  code: string;
  /** The file's name, or `settings`. */
  file: string;
  row?: number;
  column?: string;
  message: string;
  hint: string;
}

/** Thrown by `new CostRun(...)`, `OptimizeJob.start` and `OptimizeJob.resume` when the files
 * or settings are invalid. */
export interface InputError extends Error {
  name: "InputError";
  code: "invalid-input";
  /** Every kept diagnostic, errors first. */
  diagnostics: Diagnostic[];
  errorCount: number;
}

/** How `OptimizeJob.start` optimizes. */
export interface OptimizeOptionsInput {
  /** `default` (near-optimal, with a certified lower bound) or `classic` (the old system's
   * method, no bound). Default `default`. */
  method?: "default" | "classic" | null;
  /** Dual ascent iterations at most, 0 to 1,000,000 (each is one pass over the SIMs).
   * Default 100, as the command line. */
  dualIterations?: number | null;
  /** Anti-churn: change a SIM's plan only where that saves at least this much, a decimal
   * amount of money such as "0.50" (as `--min-saving`). Default none. */
  minSaving?: string | null;
  /** Change the plans of at most this many SIMs (as `--max-changes`). Default no limit. */
  maxChanges?: number | null;
  /** What-if locks: ICCIDs of SIMs that must keep their current plans (on top of the files'
   * `locked` columns). An ICCID the SIMs file lacks is an `ArgumentError`. */
  lockIccids?: string[] | null;
}

/** How much work one `runSlice` call may do; at least one limit. The slice stops after
 * `maxQuanta` quanta, or when one more quantum as long as its longest so far would pass
 * `maxMillis`; at least one quantum always runs. */
export interface OptimizeSliceBudgetInput {
  /** Wall-clock milliseconds (`Date.now()`, which does not advance during CPU work in a
   * Cloudflare Worker: use `maxQuanta` there). */
  maxMillis?: number;
  /** Quanta: fixed small pieces of work (a few thousand SIM evaluations at most), a positive
   * integer. The same on every machine. */
  maxQuanta?: number;
}

/** Where an optimization stands. */
export interface OptimizeProgress {
  /** What the job is doing (`classic start`, `improving plans`, `bounding`, …, `finishing` —
   * listing the result's plans; `finished` is still false — and `done`). */
  phase: string;
  /** Rough share of the job done, 0–1. */
  done: number;
  /** The bill as the fleet stands. */
  currentCost: DecimalString;
  /** The best bill found so far. */
  bestCost: DecimalString;
  /** The certified lower bound, once computed (the default method only). */
  lowerBound: DecimalString | null;
  /** `(bestCost − lowerBound) / bestCost`, a fraction, once the bound is known. */
  gap: number | null;
}

/** What a `runSlice` call ended with. */
export interface OptimizeSlice {
  /** The job is done: `toJson()` is the final document. */
  finished: boolean;
  progress: OptimizeProgress;
}

/** The best result so far, as the optimize document summarises it. */
export interface OptimizeResult {
  optimizedCost: DecimalString;
  currentCost: DecimalString;
  /** `currentCost − optimizedCost`. */
  savings: DecimalString;
  lowerBound: DecimalString | null;
  gap: number | null;
  /** SIMs whose plan changes. */
  changes: number;
  /** SIMs that had to keep their plan (their own or their plan's `locked` flag). */
  lockedSims: number;
  /** Whether the job is done (false: the best found before it was stopped). */
  complete: boolean;
}

/** The per-SIM result of `OptimizeJob.simTable()`, as columns: entry `i` of every array is the
 * `i`-th SIM of the SIMs file. */
export interface SimTable {
  count: number;
  /** Plan codes; `currentPlan` and `plan` index them. */
  plans: string[];
  /** Communication plan names; `commPlan` indexes them (4294967295: none). */
  commPlans: string[];
  /** The distinct explanations of the moves; `reason` indexes them (`""`: the SIM stays). */
  reasons: string[];
  /** Money columns are integer units of 1/moneyScale of the currency (1,000,000: micros). */
  moneyScale: number;
  /** Decimals of the currency's minor unit (2: cents). */
  currencyDecimals: number;
  /** The ICCIDs, joined by "\n". */
  iccids: string;
  commPlan: Uint32Array;
  /** Usage as billed (after projection), in bytes (1 MB = 1,048,576 bytes). */
  usageBytes: Float64Array;
  currentPlan: Uint32Array;
  plan: Uint32Array;
  /** What the SIM costs on its current plan, in micros. */
  currentCost: Float64Array;
  /** What it costs on its new plan, in micros. */
  cost: Float64Array;
  reason: Uint32Array;
  /** 1: the SIM must keep its plan (its own, its plan's or a what-if lock). */
  locked: Uint8Array;
}

/** One side of a plan's comparison: `PlanLine` without the names. */
export type PlanSide = Omit<PlanLine, "plan" | "name" | "pool">;

/** A plan's bill as the fleet stands and after the optimization. */
export interface PlanComparison {
  plan: string;
  name: string;
  pool?: string;
  before: PlanSide;
  after: PlanSide;
}

/** A rate plan's terms as read from the plans file. */
export interface PlanTerms {
  plan: string;
  name: string;
  monthlyCharge: DecimalString;
  includedMb: DecimalString;
  /** null: no overage (unlimited or hard-capped). */
  overageRate: DecimalString | null;
  overageBlockMb: DecimalString | null;
  pooled: boolean;
  pool?: string;
  smsRate: DecimalString;
  planType?: string;
  retired: boolean;
  excluded: boolean;
  locked: boolean;
}

/** The plans and, per communication plan, its SIMs and the plans they may move to. */
export interface PlanCatalogue {
  plans: PlanTerms[];
  commPlans: { name: string; sims: number; plans: number[] }[];
}

/** Thrown by `OptimizeJob.resume` when the checkpoint bytes cannot be resumed. */
export interface CheckpointError extends Error {
  name: "CheckpointError";
  code:
    | "checkpoint-bad-magic"
    | "checkpoint-future-version"
    | "checkpoint-old-version"
    | "checkpoint-truncated"
    | "checkpoint-corrupt"
    | "checkpoint-invalid";
}

/** Thrown when an argument has the wrong shape (`name` is `ArgumentError`). */
export interface ArgumentError extends Error {
  name: "ArgumentError";
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `CostFilesInput` in TypeScript.
    #[wasm_bindgen(typescript_type = "CostFilesInput")]
    pub type CostFiles;

    /// `CostSettingsInput` in TypeScript.
    #[wasm_bindgen(typescript_type = "CostSettingsInput")]
    pub type CostSettings;

    /// `PlanLine[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "PlanLine[]")]
    pub type PlanLineList;

    /// `BillTotals` in TypeScript.
    #[wasm_bindgen(typescript_type = "BillTotals")]
    pub type TotalsInfo;

    /// `BillingPeriodInfo` in TypeScript.
    #[wasm_bindgen(typescript_type = "BillingPeriodInfo")]
    pub type PeriodInfo;

    /// `Diagnostic[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "Diagnostic[]")]
    pub type DiagnosticList;

    /// `OptimizeOptionsInput` in TypeScript.
    #[wasm_bindgen(typescript_type = "OptimizeOptionsInput")]
    pub type OptimizeOptions;

    /// `OptimizeSliceBudgetInput` in TypeScript.
    #[wasm_bindgen(typescript_type = "OptimizeSliceBudgetInput")]
    pub type OptimizeSliceBudget;

    /// `Uint8Array | ArrayBuffer` in TypeScript: checkpoint bytes.
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer")]
    pub type CheckpointInput;

    /// `"default" | "classic"` in TypeScript: an optimizer method's name.
    #[wasm_bindgen(typescript_type = "\"default\" | \"classic\"")]
    pub type OptimizerName;

    /// `OptimizeProgress` in TypeScript.
    #[wasm_bindgen(typescript_type = "OptimizeProgress")]
    pub type OptimizeProgressInfo;

    /// `OptimizeSlice` in TypeScript.
    #[wasm_bindgen(typescript_type = "OptimizeSlice")]
    pub type OptimizeSliceInfo;

    /// `OptimizeResult` in TypeScript.
    #[wasm_bindgen(typescript_type = "OptimizeResult")]
    pub type OptimizeResultInfo;

    /// `SimTable` in TypeScript.
    #[wasm_bindgen(typescript_type = "SimTable")]
    pub type SimTableInfo;

    /// `PlanComparison[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "PlanComparison[]")]
    pub type PlanComparisonList;

    /// `PlanCatalogue` in TypeScript.
    #[wasm_bindgen(typescript_type = "PlanCatalogue")]
    pub type PlanCatalogueInfo;
}
