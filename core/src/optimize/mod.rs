//! Choosing a plan for every SIM (DESIGN §3), with a certified lower bound on the best bill.
//!
//! * [`model`]: the problem, with exact costs and O(1) move deltas shared with the cost engine;
//! * [`job`]: the time-sliced, resumable [`Job`] (`run_slice` → `Yielded` | `Finished`,
//!   `encode` / `decode` through [`checkpoint`]), which runs the fleet's work units
//!   ([`units`]) one after another, each a unit's job (`job::UnitJob`);
//! * inside: the Lagrangian lower bound (`bound`, evaluated class by class in `envelope`,
//!   climbed by `coordinate` or `bundle` where pools interact), pool balancing at its prices (`balance`),
//!   exact local search (`search`), keeping to the constraints (`cap`), each a resumable
//!   `phase`.
//!
//! * the classic method (the old system's, for comparison; also the default method's start, so
//!   the default is never worse than it).
//!
//! Constraints: locks are part of the fleet (a SIM's or a plan's `locked` flag: the SIM keeps
//! its plan); a minimum saving per change and a limit on changes are [`Constraints`] of a run.

mod balance;
mod bound;
mod branch;
mod bundle;
mod cap;
pub mod checkpoint;
mod classic;
mod components;
#[cfg(test)]
mod constraint_tests;
mod coordinate;
mod decompose;
mod envelope;
pub mod job;
pub mod model;
mod phase;
mod search;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tiny;
pub mod units;

use crate::fleet::{Fleet, PlanId};
use crate::money::Money;

pub use job::{Method, Options, Progress, Step};
pub use model::{Assignment, Constraints, Model};
pub use units::Job;

/// The result of an optimization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Optimized {
    /// The plan of every SIM, in fleet order.
    pub plans: Vec<PlanId>,
    /// The bill of that assignment.
    pub cost: Money,
    /// The bill as the fleet stands.
    pub current_cost: Money,
    /// No assignment can cost less than this (known once the bounding stage has run).
    pub lower_bound: Option<Money>,
}

impl Optimized {
    /// `(cost − lower bound) / cost`, when the bound is known.
    pub fn gap(&self) -> Option<f64> {
        self.lower_bound.map(|b| job::gap(self.cost, b))
    }
}

/// Optimizes a fleet with the default method, uninterrupted.
pub fn optimize(fleet: &Fleet) -> Optimized {
    Job::new(fleet, Options::default()).run()
}
