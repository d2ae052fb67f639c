//! What a run produces for people and programs: the JSON contract of DESIGN §8 ([`json`]), the
//! Excel report of DESIGN §6 ([`xlsx`]) and the per-SIM CSV export ([`csv`]).
//!
//! The JSON document takes its parts as arguments; the Excel report and the CSV export take a
//! [`Report`]: the fleet, its bill as it stands and, after an optimization, the new plans with
//! their bill. Their per-SIM lines come from one place ([`SimLine`]), so the two agree. Any of
//! them can be had a part at a time ([`part`]), for a store that takes large files in parts.

pub mod csv;
pub mod json;
mod lines;
mod outcome;
pub mod part;
pub mod xlsx;

use crate::cost::Bill;
use crate::diagnostics::Diagnostics;
use crate::fleet::{Fleet, PlanId};

pub use json::OptimizationSummary;
pub use lines::{SimLine, Why};
pub use outcome::Outcome;

/// Everything a report shows: a fleet, its bill as it stands and, for an optimization, its bill
/// under the new plans.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    /// Its bill with every SIM on its current plan.
    pub current: &'a Bill,
    /// The optimization, if the report is of one (without, it is a report of the current bill).
    pub optimization: Option<Optimization<'a>>,
    /// The data-quality warnings found reading the input.
    pub warnings: &'a Diagnostics,
}

/// The result of an optimization, as a report shows it.
#[derive(Debug, Clone, Copy)]
pub struct Optimization<'a> {
    /// The new plan of every SIM, in fleet order.
    pub plans: &'a [PlanId],
    /// The fleet's bill under them.
    pub bill: &'a Bill,
    /// The figures of the run (bound, gap, changes, constraints).
    pub summary: &'a OptimizationSummary,
}

impl<'a> Report<'a> {
    /// A report of the fleet's current bill.
    pub fn of_cost(fleet: &'a Fleet, current: &'a Bill, warnings: &'a Diagnostics) -> Self {
        Report {
            fleet,
            current,
            optimization: None,
            warnings,
        }
    }

    /// A report of an optimization: `current` is the fleet's bill as it stands, `plans` the new
    /// plans and `bill` their bill.
    pub fn of_optimization(
        fleet: &'a Fleet,
        current: &'a Bill,
        plans: &'a [PlanId],
        bill: &'a Bill,
        summary: &'a OptimizationSummary,
        warnings: &'a Diagnostics,
    ) -> Self {
        Report {
            fleet,
            current,
            optimization: Some(Optimization {
                plans,
                bill,
                summary,
            }),
            warnings,
        }
    }

    /// The bill the report is about: after the optimization, or the current one.
    pub fn bill(&self) -> &'a Bill {
        self.optimization.map_or(self.current, |o| o.bill)
    }

    /// The plan SIM `index` ends on: its new plan, or its current one.
    pub fn plan_of(&self, index: usize) -> PlanId {
        self.optimization
            .map_or(self.fleet.sims[index].current_plan, |o| o.plans[index])
    }

    /// The line of SIM `index` (fleet order).
    pub fn line(&self, index: usize) -> SimLine<'a> {
        SimLine::of(self, index)
    }

    /// The per-SIM lines, in fleet order.
    pub fn lines(&self) -> impl Iterator<Item = SimLine<'a>> + '_ {
        let report = *self;
        (0..self.fleet.sims.len()).map(move |index| SimLine::of(&report, index))
    }
}
