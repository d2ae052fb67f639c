//! # simopt-core
//!
//! The pure library behind simopt: exact bills for IoT/M2M SIM fleets, the same bit for bit
//! natively, in the browser (wasm32) and at the edge (Cloudflare Workers). It knows nothing of
//! files, clocks or platforms: bytes, settings and "now" come in as arguments.
//!
//! The pipeline:
//!
//! 1. **Inputs** ([`input`]): `sims`, `plans` and `eligibility` as CSV or JSON, plus account
//!    [`settings`], are validated into a [`Fleet`]. Every problem comes back with file, row,
//!    column and a hint ([`InputErrors`]); data-quality warnings travel with the result.
//! 2. **Cost** ([`cost`]): the bill of any assignment of plans to SIMs, per DESIGN §2 — pools,
//!    proration, block-rounded overage split by largest remainder, SMS, charge types. Money is
//!    integer millionths ([`Money`]), data integer bytes ([`Bytes`]).
//! 3. **Optimize** ([`optimize`]): the cheapest plans under the user's constraints with a
//!    certified lower bound, as a time-sliced, resumable job.
//! 4. **Report** ([`report`]): the JSON contract shared by every front end.
//!
//! ```
//! use simopt_core::{cost_current, InputFiles, SettingsInput, SourceFile};
//!
//! let plans = "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled\n\
//!              S,5.00,100,1.00,1,false\n";
//! let sims = "iccid,current_plan,usage_mb\n8901000000000000001,S,102.5\n";
//! let files = InputFiles {
//!     sims: SourceFile { name: "sims.csv", bytes: sims.as_bytes() },
//!     plans: SourceFile { name: "plans.csv", bytes: plans.as_bytes() },
//!     eligibility: None,
//! };
//! let settings = SettingsInput {
//!     as_of: Some("2026-11-30T12:00".into()),
//!     period_end: Some("2026-11-22T00:00".into()), // closed period: no projection
//!     ..SettingsInput::default()
//! };
//! let run = cost_current(&files, &settings)?;
//! // $5 + ceil(2.5 MB / 1 MB) × $1 = $8
//! assert_eq!(run.total().to_string(), "8.00");
//! # Ok::<(), simopt_core::InputErrors>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cost;
mod decimal;
pub mod diagnostics;
pub mod fleet;
pub mod input;
pub mod money;
pub mod optimize;
pub mod period;
pub mod random;
pub mod report;
pub mod settings;
pub mod synthetic;
#[cfg(test)]
mod test_fleet;

pub use cost::Bill;
pub use decimal::DecimalError;
pub use diagnostics::{Diagnostic, Diagnostics, InputErrors, Severity, Warned};
pub use fleet::{Fleet, PlanId};
pub use input::{InputFiles, SourceFile};
pub use money::{Bytes, Money};
pub use settings::{ChargeType, Settings, SettingsInput};

/// A fleet billed as it stands (every SIM on its current plan), with the warnings found reading it.
#[derive(Debug, Clone)]
pub struct CostOutcome {
    /// The validated fleet.
    pub fleet: Fleet,
    /// Its current bill.
    pub bill: Bill,
    /// Data-quality warnings.
    pub warnings: Diagnostics,
}

impl CostOutcome {
    /// The amount due.
    pub fn total(&self) -> Money {
        self.bill.total()
    }

    /// The JSON contract document (DESIGN §8), identical on every platform.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Streams the JSON contract document to `out`.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_json(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let report = report::Report::of_cost(&self.fleet, &self.bill, &self.warnings);
        report::json::write(out, &report)
    }
}

/// Reads and validates the files, and bills the fleet as it stands.
///
/// # Errors
/// [`InputErrors`] with every problem found in the settings and the files.
pub fn cost_current(
    files: &InputFiles<'_>,
    settings: &SettingsInput,
) -> Result<CostOutcome, InputErrors> {
    let Warned {
        output: fleet,
        warnings,
    } = input::load(files, settings)?;
    let bill = cost::current(&fleet);
    Ok(CostOutcome {
        fleet,
        bill,
        warnings,
    })
}
