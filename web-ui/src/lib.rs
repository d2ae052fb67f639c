//! # simopt-wasm
//!
//! The browser's door to [`simopt_core`]: a thin wasm-bindgen layer, nothing more. One handle
//! type per concept:
//!
//! * [`CostRun`] (`CostRun` in JavaScript) reads the SIMs, plans and eligibility files with the
//!   account settings and bills the fleet as it stands; its getters hand the bill back as plain
//!   JavaScript objects, and `toJson()` returns the same JSON contract document the command line
//!   and the Worker write, byte for byte.
//! * [`OptimizeJob`] (`OptimizeJob` in JavaScript, module [`optimize`]) runs the optimizer as a
//!   job stepped under a budget (`runSlice`), encodes it to checkpoint bytes and resumes it, and
//!   writes the same optimize document as `simopt optimize --json`.
//! * For the page's results, `OptimizeJob` also hands out the per-SIM result as compact
//!   columns (`simTable()`), each plan's bill before and after (`planLines()`) and the plan
//!   catalogue with each communication plan's eligible plans (`catalogue()`), module
//!   [`results`].
//! * Both write the Excel report (`toXlsx()`, the bytes of the `.xlsx` file) and the per-SIM
//!   CSV export (`toCsv()`) through the core's `report` module, as the command line does.
//!
//! * Arguments come in through `serde-wasm-bindgen` ([`args`]); results go out through
//!   `to_js`.
//! * Failures are `Error` objects with a stable `name` ([`error`]): `InputError` when the files
//!   or settings are invalid (with the core's diagnostics attached), `CheckpointError` when
//!   checkpoint bytes cannot be resumed, `ArgumentError` when the arguments themselves have the
//!   wrong shape.
//! * The TypeScript declarations of the API live in the private `typescript` module.
//!
//! Money is always exact decimal text (`"1234.50"`): JavaScript formats it, never does arithmetic
//! on it.
#![forbid(unsafe_code)]

pub mod args;
pub mod error;
pub mod optimize;
mod report;
pub mod results;
pub mod spreadsheet;
mod typescript;

use serde::Serialize;
use simopt_core::cost::pool_of;
use simopt_core::report::Report;
use simopt_core::{cost_current, CostOutcome, Diagnostics, PlanId, Severity};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::args::{FilesArg, SettingsArg};
use crate::error::{internal_error, to_js_error};
pub use crate::optimize::OptimizeJob;
pub use crate::typescript::{
    CheckpointInput, CostFiles, CostSettings, DiagnosticList, OptimizeOptions,
    OptimizeProgressInfo, OptimizeResultInfo, OptimizeSliceBudget, OptimizeSliceInfo,
    OptimizerName, PeriodInfo, PlanCatalogueInfo, PlanComparisonList, PlanLineList, SimTableInfo,
    TotalsInfo,
};

/// A fleet read from its files and billed as it stands (every SIM on its current plan).
#[wasm_bindgen(js_name = CostRun)]
#[derive(Debug)]
pub struct CostRun {
    outcome: CostOutcome,
    account_name: Option<String>,
}

#[wasm_bindgen(js_class = CostRun)]
impl CostRun {
    /// Reads the files with the settings and computes the current bill.
    ///
    /// `files` is `{ sims, plans, eligibility? }`, each `{ name, text }` or `{ name, bytes }`
    /// (`bytes` a `Uint8Array` or `ArrayBuffer`); `settings` holds the account settings, the
    /// keys of `account.toml` (snake_case or camelCase). `asOf`, the time of the run, is required:
    /// pass the current time.
    ///
    /// # Errors
    /// An `Error` named `InputError` (with `diagnostics`) when the input is invalid, or
    /// `ArgumentError` when an argument has the wrong shape.
    #[wasm_bindgen(constructor)]
    pub fn new(files: CostFiles, settings: CostSettings) -> Result<CostRun, js_sys::Error> {
        let files = FilesArg::from_js(files.into())?;
        let settings = SettingsArg::from_js(settings.into())?;
        let outcome = cost_current(&files.as_input(), &settings).map_err(|e| to_js_error(&e))?;
        Ok(CostRun {
            outcome,
            account_name: settings.account_name,
        })
    }

    /// The amount due, as exact decimal text (`"123.45"`).
    #[wasm_bindgen(getter)]
    pub fn total(&self) -> String {
        self.outcome.total().to_decimal_string()
    }

    /// How many SIMs were billed.
    #[wasm_bindgen(getter, js_name = simCount)]
    pub fn sim_count(&self) -> usize {
        self.outcome.fleet.sims.len()
    }

    /// One line per rate plan, in the plans file's order (plans without SIMs included).
    ///
    /// # Errors
    /// `InternalError` if the lines cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn plans(&self) -> Result<PlanLineList, js_sys::Error> {
        let fleet = &self.outcome.fleet;
        let lines: Vec<PlanLine<'_>> = fleet
            .plans
            .iter()
            .zip(&self.outcome.bill.plans)
            .enumerate()
            .map(|(index, (plan, t))| PlanLine {
                plan: &plan.code,
                name: &plan.name,
                pool: pool_of(fleet, PlanId(index as u32))
                    .map(|p| fleet.pools[p.0 as usize].name.as_str()),
                sim_count: t.sims,
                usage_mb: t.usage.to_mb_string(),
                allowance_mb: t.allowance.to_mb_string(),
                base: t.base.to_decimal_string(),
                overage: t.overage.to_decimal_string(),
                sms: t.sms.to_decimal_string(),
                total: t.total().to_decimal_string(),
            })
            .collect();
        to_js(&lines).map(JsCast::unchecked_into)
    }

    /// The bill's totals: the sums of the plan lines.
    ///
    /// # Errors
    /// `InternalError` if the totals cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn totals(&self) -> Result<TotalsInfo, js_sys::Error> {
        let bill = &self.outcome.bill;
        let usage = bill
            .plans
            .iter()
            .fold(simopt_core::Bytes::ZERO, |sum, p| sum + p.usage);
        to_js(&Totals {
            sim_count: self.outcome.fleet.sims.len(),
            usage_mb: usage.to_mb_string(),
            base: bill.base.to_decimal_string(),
            overage: bill.overage.to_decimal_string(),
            sms: bill.sms.to_decimal_string(),
            total: bill.total().to_decimal_string(),
        })
        .map(JsCast::unchecked_into)
    }

    /// The billing period the bill covers, as the JSON document states it.
    ///
    /// # Errors
    /// `InternalError` if the period cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn period(&self) -> Result<PeriodInfo, js_sys::Error> {
        to_js(&Period::of(&self.outcome.fleet.settings)).map(JsCast::unchecked_into)
    }

    /// The data-quality warnings kept (the first of each kind), in file and row order.
    ///
    /// # Errors
    /// `InternalError` if the warnings cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Result<DiagnosticList, js_sys::Error> {
        diagnostics_to_js(&self.outcome.warnings).map(JsCast::unchecked_into)
    }

    /// How many warnings were found, including those not kept in `warnings`.
    #[wasm_bindgen(getter, js_name = warningCount)]
    pub fn warning_count(&self) -> f64 {
        self.outcome.warnings.count(Severity::Warning) as f64
    }

    /// The JSON contract document, identical to the command line's `--json` output.
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.outcome.to_json()
    }

    /// The Excel report of the bill (Summary, Statistics, Pools, Assignments, Diagnostics), as
    /// the bytes of an `.xlsx` file: the same bytes as `simopt cost --xlsx`, at every size.
    ///
    /// # Errors
    /// `InternalError` if the workbook cannot be written (a bug).
    #[wasm_bindgen(js_name = toXlsx)]
    pub fn to_xlsx(&self) -> Result<Vec<u8>, js_sys::Error> {
        let o = &self.outcome;
        report::xlsx_bytes(
            &Report::of_cost(&o.fleet, &o.bill, &o.warnings),
            self.account_name.as_deref(),
        )
    }

    /// The per-SIM CSV export (the columns of `simopt cost --csv`).
    ///
    /// # Errors
    /// `InternalError` if it cannot be written (a bug).
    #[wasm_bindgen(js_name = toCsv)]
    pub fn to_csv(&self) -> Result<String, js_sys::Error> {
        let o = &self.outcome;
        report::csv_text(&Report::of_cost(&o.fleet, &o.bill, &o.warnings))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanLine<'a> {
    plan: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    sim_count: u64,
    usage_mb: String,
    allowance_mb: String,
    base: String,
    overage: String,
    sms: String,
    total: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Totals {
    sim_count: usize,
    usage_mb: String,
    base: String,
    overage: String,
    sms: String,
    total: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Period {
    start: String,
    end: String,
    time_zone: &'static str,
    days: u32,
    as_of: String,
    closed: bool,
}

impl Period {
    /// The period of `settings`, as the JSON document states it.
    fn of(s: &simopt_core::Settings) -> Period {
        Period {
            start: s.period.format_instant(s.period.start),
            end: s.period.format_instant(s.period.end),
            time_zone: s.period.zone.name(),
            days: s.period.days(),
            as_of: s.period.format_instant(s.as_of),
            closed: s.period_closed(),
        }
    }
}

/// Converts a result value to plain JavaScript objects (objects, not `Map`s).
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, js_sys::Error> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| internal_error(&e.to_string()))
}

/// The kept diagnostics as an array of `Diagnostic` objects.
fn diagnostics_to_js(diagnostics: &Diagnostics) -> Result<JsValue, js_sys::Error> {
    to_js(&diagnostics.items)
}
