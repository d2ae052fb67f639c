//! [`OptimizeJob`] (`OptimizeJob` in JavaScript): the optimizer as a job stepped under a budget,
//! for the browser's Web Worker and the Cloudflare Worker.
//!
//! ```js
//! let job = OptimizeJob.start(files, settings, { method: "default" });
//! while (!job.runSlice({ maxQuanta: 50 }).finished) {
//!   // report job.progress; or save job.encode() and continue later:
//!   // job = OptimizeJob.resume(files, settings, checkpoint);
//! }
//! const document = job.toJson(); // identical to `simopt optimize --json`
//! const workbook = job.toXlsx(); // Uint8Array: the Excel report, as `simopt optimize --xlsx`
//! ```
//!
//! `runSlice` does quanta — fixed small pieces of work — until its budget is spent, then returns
//! where the job stands. A run cut into any slices, with `encode()` / `resume()` between them,
//! ends with exactly the result of an uninterrupted run: the core polls the budget only between
//! quanta. `maxQuanta` means the same on every machine; `maxMillis` reads `performance.now()`
//! (or `Date.now()` where there is none), which does not advance during CPU work in a
//! Cloudflare Worker, so the edge counts quanta.
//!
//! The handle keeps the loaded fleet (a checkpoint decodes only against the input it was made
//! from) and the input's warnings (the document lists them).

use serde::Serialize;
use simopt_core::optimize::{Job, Optimized, Progress, Step};
use simopt_core::report::{OptimizationSummary, Outcome, Report};
use simopt_core::{input, Diagnostics, Fleet, Warned};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::args::{checkpoint_bytes, BudgetArg, FilesArg, OptionsArg, SettingsArg};
use crate::error::{argument_error, checkpoint_error, internal_error, to_js_error};
use crate::to_js;
use crate::typescript::{
    CheckpointInput, CostFiles, CostSettings, OptimizeOptions, OptimizeProgressInfo,
    OptimizeResultInfo, OptimizeSliceBudget, OptimizeSliceInfo, OptimizerName,
};

/// An optimization of one fleet in progress (or finished).
#[wasm_bindgen(js_name = OptimizeJob)]
#[derive(Debug)]
pub struct OptimizeJob {
    pub(crate) fleet: Fleet,
    pub(crate) warnings: Diagnostics,
    pub(crate) job: Job,
    account_name: Option<String>,
}

#[wasm_bindgen(js_class = OptimizeJob)]
impl OptimizeJob {
    /// Reads the files with the settings and starts optimizing the fleet; no work is done until
    /// `runSlice`.
    ///
    /// `files` and `settings` are as `new CostRun(files, settings)` takes them; `options` is
    /// `{ method?: "default" | "classic", dualIterations?: number, minSaving?: string,
    /// maxChanges?: number, lockIccids?: string[] }` (default: the default method with at most
    /// 100 subgradient iterations, no constraints, as the command line runs it). Locks come
    /// with the files (the `locked` columns) and, for a what-if, as `lockIccids`: the SIMs to
    /// keep on their current plans.
    ///
    /// # Errors
    /// An `Error` named `InputError` (with `diagnostics`) when the input is invalid, or
    /// `ArgumentError` when an argument has the wrong shape or `lockIccids` names a SIM the
    /// SIMs file does not have.
    pub fn start(
        files: CostFiles,
        settings: CostSettings,
        options: Option<OptimizeOptions>,
    ) -> Result<OptimizeJob, js_sys::Error> {
        let start = OptionsArg::from_js(options.map_or(JsValue::UNDEFINED, Into::into))?;
        let (mut fleet, warnings, account_name) = load(files, settings)?;
        lock(&mut fleet, &start.lock_iccids)?;
        let job = Job::new(&fleet, start.options);
        Ok(OptimizeJob {
            fleet,
            warnings,
            job,
            account_name,
        })
    }

    /// Continues a job from the bytes its `encode()` returned. `files` and `settings` must be
    /// those the job was started with, and `lockIccids` the SIMs it was started to lock (if
    /// any); the method and options come from the checkpoint.
    ///
    /// # Errors
    /// `CheckpointError` (with `code`) when the bytes are damaged, of a newer format, or of
    /// another input; `InputError` or `ArgumentError` as for `start`.
    pub fn resume(
        files: CostFiles,
        settings: CostSettings,
        checkpoint: CheckpointInput,
        lock_iccids: Option<Vec<String>>,
    ) -> Result<OptimizeJob, js_sys::Error> {
        let bytes = checkpoint_bytes(&checkpoint)?;
        let (mut fleet, warnings, account_name) = load(files, settings)?;
        lock(&mut fleet, &lock_iccids.unwrap_or_default())?;
        let job = Job::decode(&fleet, &bytes).map_err(|e| checkpoint_error(&e))?;
        Ok(OptimizeJob {
            fleet,
            warnings,
            job,
            account_name,
        })
    }

    /// Works until the budget `{ maxMillis?, maxQuanta? }` is spent (at least one given) or the
    /// job is done, and returns `{ finished, progress }`: the slice stops after `maxQuanta`
    /// quanta, or when one more quantum as long as the slice's longest so far would take it past
    /// `maxMillis` less a millisecond kept for the answer (so a slice overruns only by what a
    /// quantum exceeds the longest before it; quanta are about 1.5 ms at most).
    /// At least one quantum runs, unless the job was already done.
    ///
    /// # Errors
    /// `ArgumentError` for a budget of the wrong shape; `InternalError` if the answer cannot be
    /// converted (a bug).
    #[wasm_bindgen(js_name = runSlice)]
    pub fn run_slice(
        &mut self,
        budget: OptimizeSliceBudget,
    ) -> Result<OptimizeSliceInfo, js_sys::Error> {
        let budget = BudgetArg::from_js(budget.into())?;
        let clock = Clock::new();
        let started = budget.max_millis.map(|_| clock.now());
        let (mut last, mut longest) = (started.unwrap_or(0.0), 0.0f64);
        let mut quanta: u64 = 0;
        let step = self.job.run_slice(&mut || {
            quanta += 1;
            if budget.max_quanta.is_some_and(|max| quanta >= max) {
                return true;
            }
            let (Some(max), Some(t0)) = (budget.max_millis, started) else {
                return false;
            };
            let now = clock.now();
            longest = longest.max(now - last);
            last = now;
            // (A millisecond is kept for building the answer.)
            now - t0 + longest + ANSWER_MILLIS >= max
        });
        let progress = match step {
            Step::Finished(_) => self.job.progress(),
            Step::Yielded(progress) => progress,
        };
        to_js(&SliceOut {
            finished: self.job.is_finished(),
            progress: ProgressOut::from(&progress),
        })
        .map(JsCast::unchecked_into)
    }

    /// Where the job stands: `{ phase, done, currentCost, bestCost, lowerBound, gap }`.
    ///
    /// # Errors
    /// `InternalError` if the progress cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn progress(&self) -> Result<OptimizeProgressInfo, js_sys::Error> {
        to_js(&ProgressOut::from(&self.job.progress())).map(JsCast::unchecked_into)
    }

    /// Whether the job is done (`runSlice` has answered `finished: true`).
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> bool {
        self.job.is_finished()
    }

    /// The method the job runs: `"default"` or `"classic"` (the document's `optimizer`).
    #[wasm_bindgen(getter)]
    pub fn optimizer(&self) -> OptimizerName {
        JsValue::from_str(self.job.options().method.as_str()).unchecked_into()
    }

    /// The whole state as checkpoint bytes, for `OptimizeJob.resume`.
    pub fn encode(&self) -> Vec<u8> {
        self.job.encode()
    }

    /// The best result so far: `{ optimizedCost, currentCost, savings, lowerBound, gap,
    /// changes, lockedSims, complete }` (`complete` once the job is done).
    ///
    /// # Errors
    /// `InternalError` if the result cannot be converted (a bug).
    pub fn result(&self) -> Result<OptimizeResultInfo, js_sys::Error> {
        let result = self.job.result();
        let summary = self.summary(&result);
        to_js(&ResultOut {
            optimized_cost: summary.optimized_cost.to_decimal_string(),
            current_cost: result.current_cost.to_decimal_string(),
            savings: summary.savings.to_decimal_string(),
            lower_bound: summary.lower_bound.map(|b| b.to_decimal_string()),
            gap: summary.gap,
            changes: summary.changes,
            locked_sims: summary.locked_sims,
            complete: summary.complete,
        })
        .map(JsCast::unchecked_into)
    }

    /// The optimize JSON contract document of the best result so far, identical to the command
    /// line's `simopt optimize --json` (`complete` is true once the job is done).
    ///
    /// # Errors
    /// `InternalError` if the document cannot be written (a bug).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> Result<String, js_sys::Error> {
        let outcome = self.outcome();
        let mut out = Vec::new();
        outcome
            .write_json(&mut out, &self.fleet, &self.warnings)
            .map_err(|e| internal_error(&format!("cannot write the document: {e}")))?;
        String::from_utf8(out).map_err(|e| internal_error(&format!("the document: {e}")))
    }

    /// The Excel report of the best result so far (Summary with the chart, Statistics, Pools,
    /// Assignments, Changes, Diagnostics), as the bytes of an `.xlsx` file: the same bytes as
    /// `simopt optimize --xlsx`, at every size.
    ///
    /// # Errors
    /// `InternalError` if the workbook cannot be written (a bug).
    #[wasm_bindgen(js_name = toXlsx)]
    pub fn to_xlsx(&self) -> Result<Vec<u8>, js_sys::Error> {
        self.with_report(|report| crate::report::xlsx_bytes(report, self.account_name.as_deref()))
    }

    /// The per-SIM CSV export of the best result so far (the columns of `simopt optimize
    /// --csv`: plan now and after, charges, saving, why).
    ///
    /// # Errors
    /// `InternalError` if it cannot be written (a bug).
    #[wasm_bindgen(js_name = toCsv)]
    pub fn to_csv(&self) -> Result<String, js_sys::Error> {
        self.with_report(crate::report::csv_text)
    }
}

impl OptimizeJob {
    /// The report of the best result so far, handed to `write`.
    pub(crate) fn with_report<T>(&self, write: impl FnOnce(&Report<'_>) -> T) -> T {
        let outcome = self.outcome();
        write(&outcome.report(&self.fleet, &self.warnings))
    }

    /// The best result so far with its bills and summary, as every front end reports it.
    fn outcome(&self) -> Outcome {
        Outcome::of(
            &self.fleet,
            self.job.result(),
            &self.job.options(),
            self.job.is_finished(),
        )
    }

    /// What the optimization adds to the document, as every front end fills it.
    fn summary(&self, result: &Optimized) -> OptimizationSummary {
        OptimizationSummary::of(
            &self.fleet,
            result,
            &self.job.options(),
            self.job.is_finished(),
        )
    }
}

/// What `runSlice` keeps of a `maxMillis` budget for converting its answer.
const ANSWER_MILLIS: f64 = 1.0;

/// Milliseconds for slice budgets: `performance.now()` where there is one (browsers, Web
/// Workers, Node: fractions of a millisecond, so "one more quantum as long as the longest" is
/// measured, not rounded to whole milliseconds), else `Date.now()`.
struct Clock {
    performance: Option<js_sys::Function>,
    this: JsValue,
}

impl Clock {
    fn new() -> Clock {
        let global = js_sys::global();
        let this = js_sys::Reflect::get(&global, &JsValue::from_str("performance"))
            .unwrap_or(JsValue::UNDEFINED);
        let performance = js_sys::Reflect::get(&this, &JsValue::from_str("now"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        Clock { performance, this }
    }

    fn now(&self) -> f64 {
        self.performance
            .as_ref()
            .and_then(|f| f.call0(&self.this).ok())
            .and_then(|v| v.as_f64())
            .unwrap_or_else(js_sys::Date::now)
    }
}

/// Locks the SIMs `iccids` names on their current plans.
fn lock(fleet: &mut Fleet, iccids: &[String]) -> Result<(), js_sys::Error> {
    if iccids.is_empty() {
        return Ok(());
    }
    let index: std::collections::HashMap<&str, usize> = fleet
        .sims
        .iter()
        .enumerate()
        .map(|(i, sim)| (sim.iccid.as_str(), i))
        .collect();
    let mut found = Vec::with_capacity(iccids.len());
    for iccid in iccids {
        match index.get(iccid.trim()) {
            Some(&i) => found.push(i),
            None => {
                return Err(argument_error(&format!(
                    "lockIccids: no SIM has ICCID {iccid:?}; give ICCIDs from the SIMs file"
                )))
            }
        }
    }
    for i in found {
        fleet.sims[i].locked = true;
    }
    Ok(())
}

/// Reads and validates the files of a run; the account's name comes along for the report.
fn load(
    files: CostFiles,
    settings: CostSettings,
) -> Result<(Fleet, Diagnostics, Option<String>), js_sys::Error> {
    let files = FilesArg::from_js(files.into())?;
    let settings = SettingsArg::from_js(settings.into())?;
    let Warned {
        output: fleet,
        warnings,
    } = input::load(&files.as_input(), &settings).map_err(|e| to_js_error(&e))?;
    Ok((fleet, warnings, settings.account_name))
}

#[derive(Serialize)]
struct SliceOut {
    finished: bool,
    progress: ProgressOut,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressOut {
    phase: &'static str,
    done: f64,
    current_cost: String,
    best_cost: String,
    lower_bound: Option<String>,
    gap: Option<f64>,
}

impl From<&Progress> for ProgressOut {
    fn from(p: &Progress) -> Self {
        ProgressOut {
            phase: p.phase,
            done: p.done,
            current_cost: p.current_cost.to_decimal_string(),
            best_cost: p.best_cost.to_decimal_string(),
            lower_bound: p.lower_bound.map(|b| b.to_decimal_string()),
            gap: p.gap(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultOut {
    optimized_cost: String,
    current_cost: String,
    savings: String,
    lower_bound: Option<String>,
    gap: Option<f64>,
    changes: u64,
    locked_sims: u64,
    complete: bool,
}
