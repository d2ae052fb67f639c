//! Choosing a plan for every SIM (DESIGN §3), with a certified lower bound on the best bill.
//!
//! Work in progress (issue 3): the model with exact O(1) move costs ([`model`]), the Lagrangian
//! lower bound ([`bound`]) and exact local search ([`search`]) are here; the time-sliced,
//! resumable job, the classic method and the command line come next.

mod bound;
pub mod checkpoint;
pub mod model;
#[allow(dead_code)] // used by the job and the methods, landing next
mod phase;
mod search;
#[cfg(test)]
mod tests;

use crate::fleet::{Fleet, PlanId};
use crate::money::Money;

pub use model::{Assignment, Model};

/// The result of an optimization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Optimized {
    /// The plan of every SIM, in fleet order.
    pub plans: Vec<PlanId>,
    /// The bill of that assignment.
    pub cost: Money,
    /// The bill as the fleet stands.
    pub current_cost: Money,
    /// No assignment can cost less than this.
    pub lower_bound: Money,
}

/// Dual iterations of [`optimize`]: enough for a tight bound on the fleets seen so far.
const DUAL_ITERATIONS: u32 = 200;

/// Optimizes a fleet: local search from the current assignment and from the Lagrangian prices'
/// choices, the cheaper wins; never worse than the current bill.
pub fn optimize(fleet: &Fleet) -> Optimized {
    let model = Model::new(fleet);
    let current = model.current();
    let current_cost = current.cost(&model);
    let mut best = current;
    improve(&model, &mut best);
    let dual = bound::ascend(&model, best.cost(&model), DUAL_ITERATIONS);
    let mut from_prices = Assignment::new(&model, dual.best.choice.clone());
    improve(&model, &mut from_prices);
    if from_prices.cost(&model) < best.cost(&model) {
        best = from_prices;
    }
    let cost = best.cost(&model);
    Optimized {
        plans: best.plans(&model),
        cost: Money::from_micros(cost),
        current_cost: Money::from_micros(current_cost),
        lower_bound: Money::from_micros(dual.best.bound.min(cost)),
    }
}

fn improve(model: &Model, a: &mut Assignment) {
    loop {
        let moved = search::single_moves(model, a, 20);
        let swapped = search::swaps(model, a, 8);
        if moved == 0 && swapped == 0 {
            break;
        }
    }
}
