//! An optimization's outcome as every front end reports it: the new plans, both bills and the
//! summary, computed once, from which the JSON document, the Excel report and the CSV export
//! are written. The command line, the browser and the Worker all go through it, so their
//! documents agree byte for byte.

use super::{json, OptimizationSummary, Report};
use crate::cost::{self, Bill};
use crate::diagnostics::Diagnostics;
use crate::fleet::Fleet;
use crate::optimize::{Optimized, Options};

/// An optimization of a fleet, with its bills.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The optimizer's result (new plans, costs, bound).
    pub result: Optimized,
    /// The fleet's bill as it stands.
    pub current: Bill,
    /// Its bill on the new plans.
    pub bill: Bill,
    /// The figures the documents show.
    pub summary: OptimizationSummary,
}

impl Outcome {
    /// The outcome of `result`, an optimization of `fleet` with `options`; `complete` says
    /// whether the run finished.
    pub fn of(fleet: &Fleet, result: Optimized, options: &Options, complete: bool) -> Outcome {
        let summary = OptimizationSummary::of(fleet, &result, options, complete);
        Outcome {
            current: cost::current(fleet),
            bill: cost::bill(fleet, &result.plans),
            result,
            summary,
        }
    }

    /// The report of the outcome (for the Excel report and the CSV export).
    pub fn report<'a>(&'a self, fleet: &'a Fleet, warnings: &'a Diagnostics) -> Report<'a> {
        Report::of_optimization(
            fleet,
            &self.current,
            &self.result.plans,
            &self.bill,
            &self.summary,
            warnings,
        )
    }

    /// Streams the JSON contract document (DESIGN §8) to `out`.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_json(
        &self,
        out: impl std::io::Write,
        fleet: &Fleet,
        warnings: &Diagnostics,
    ) -> std::io::Result<()> {
        json::write(out, &self.report(fleet, warnings))
    }

    /// The JSON contract document as text.
    pub fn to_json(&self, fleet: &Fleet, warnings: &Diagnostics) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_json(&mut out, fleet, warnings);
        String::from_utf8(out).unwrap_or_default()
    }
}
