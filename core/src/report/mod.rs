//! What a run produces for people and programs: the JSON contract of DESIGN §8 ([`json`]), the
//! Excel report of DESIGN §6 ([`xlsx`]) and the per-SIM CSV export ([`csv`]).
//!
//! Each takes a [`Report`]: the fleet, its bill as it stands and, after an optimization, the new
//! plans with their bill. Their per-SIM lines come from one place ([`SimLine`]), so they agree:
//! from the fleet and the bills in memory, or from a [`LineSource`] that hands them over a run
//! at a time (a service that keeps a large fleet's lines in storage), with the same bytes. Any
//! of them can be had a part at a time ([`part`]), for a store that takes large files in parts.

pub mod csv;
pub mod json;
mod lines;
mod outcome;
pub mod part;
#[cfg(test)]
mod source_tests;
pub mod xlsx;

use std::fmt;
use std::io;
use std::ops::Range;

use crate::cost::Bill;
use crate::diagnostics::Diagnostics;
use crate::fleet::{Fleet, PlanId};

pub use json::OptimizationSummary;
pub use lines::{SimLine, Why};
pub use outcome::Outcome;

/// Everything a report shows: a fleet, its bill as it stands and, for an optimization, its bill
/// under the new plans. Its per-SIM lines come from the fleet and the bills in memory, or, for
/// a service that keeps a large fleet's SIMs in storage, from a [`LineSource`]
/// ([`Report::with_lines`]); every writer reads them through [`Report::each_line`].
#[derive(Clone, Copy)]
pub struct Report<'a> {
    /// The fleet (with a [`LineSource`], its plans, names and settings: its SIMs are not read).
    pub fleet: &'a Fleet,
    /// Its bill with every SIM on its current plan (with a [`LineSource`], its totals: its
    /// per-SIM charges are not read).
    pub current: &'a Bill,
    /// The optimization, if the report is of one (without, it is a report of the current bill).
    pub optimization: Option<Optimization<'a>>,
    /// The data-quality warnings found reading the input.
    pub warnings: &'a Diagnostics,
    /// Where the per-SIM lines come from when not from the fleet and the bills.
    source: Option<&'a dyn LineSource>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("fleet", &self.fleet)
            .field("current", &self.current)
            .field("optimization", &self.optimization)
            .field("warnings", &self.warnings)
            .field("source", &self.source.map(|s| s.sim_count()))
            .finish()
    }
}

/// A report's per-SIM lines, handed over a run at a time: for a service that keeps a large
/// fleet's SIMs (and their charges) in storage rather than in memory. The lines must be those
/// the report would make from the whole fleet and its bills; its totals are the bills'.
pub trait LineSource {
    /// The number of SIMs.
    fn sim_count(&self) -> usize;

    /// Calls `each` with the line of every SIM in `range` (fleet order), in order, stopping at
    /// the first error. `fleet` is the report's.
    ///
    /// # Errors
    /// `each`'s, or the storage's.
    fn lines(
        &self,
        fleet: &Fleet,
        range: Range<usize>,
        each: &mut dyn FnMut(&SimLine<'_>) -> io::Result<()>,
    ) -> io::Result<()>;
}

/// The result of an optimization, as a report shows it.
#[derive(Debug, Clone, Copy)]
pub struct Optimization<'a> {
    /// The new plan of every SIM, in fleet order (with a [`LineSource`], not read).
    pub plans: &'a [PlanId],
    /// The fleet's bill under them (with a [`LineSource`], its totals).
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
            source: None,
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
            source: None,
        }
    }

    /// The same report with its per-SIM lines from `source`: its fleet's SIMs and its bills'
    /// per-SIM charges are then not read (they may be empty).
    pub fn with_lines(self, source: &'a dyn LineSource) -> Self {
        Report {
            source: Some(source),
            ..self
        }
    }

    /// The bill the report is about: after the optimization, or the current one.
    pub fn bill(&self) -> &'a Bill {
        self.optimization.map_or(self.current, |o| o.bill)
    }

    /// The number of SIMs.
    pub fn sim_count(&self) -> usize {
        self.source.map_or(self.fleet.sims.len(), |s| s.sim_count())
    }

    /// Calls `each` with the line of every SIM in `range` (fleet order), in order, stopping at
    /// the first error.
    ///
    /// # Errors
    /// `each`'s, or the [`LineSource`]'s.
    pub fn each_line(
        &self,
        range: Range<usize>,
        each: &mut dyn FnMut(&SimLine<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        match self.source {
            Some(source) => source.lines(self.fleet, range, each),
            None => range
                .into_iter()
                .try_for_each(|i| each(&SimLine::of(self, i))),
        }
    }

    /// [`Report::each_line`] of every SIM.
    ///
    /// # Errors
    /// As [`Report::each_line`].
    pub fn each_sim_line(
        &self,
        each: &mut dyn FnMut(&SimLine<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.each_line(0..self.sim_count(), each)
    }

    /// The plan SIM `index` ends on: its new plan, or its current one (from memory).
    fn plan_of(&self, index: usize) -> PlanId {
        self.optimization
            .map_or(self.fleet.sims[index].current_plan, |o| o.plans[index])
    }
}
