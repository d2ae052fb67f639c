//! The cost model of DESIGN §2: the bill of a fleet under an assignment of plans to SIMs.
//!
//! For a pool (the SIMs sharing one allowance) with members S:
//! * base = Σ monthly_charge × f(s), f(s) = days billed / days in period (proration), per SIM
//!   rounded to the minor unit;
//! * allowance = Σ included × f(s), per SIM rounded to the byte;
//! * overage = ceil(max(0, Σ usage − allowance) / block) × rate, rounded to the minor unit, and
//!   split over the members in proportion to each one's usage beyond its own allowance
//!   (largest remainder, so the shares add up to the pool's overage exactly);
//! * SMS = sms_count × sms_rate per SIM, rounded to the minor unit.
//!
//! A non-pooled plan is a pool per SIM. The charge type decides whether the rate charge and the
//! overage are billed. Every total is a sum of per-SIM lines, so everything reconciles.

mod lines;
mod split;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::fleet::{Fleet, FleetTerms, PlanId, PoolId, Pooling, Sim};
use crate::money::{Bytes, Money};

pub use lines::LineRules;

/// What one SIM is billed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SimCharge {
    /// Its (prorated) monthly rate charge.
    pub base: Money,
    /// Its overage, or its share of its pool's overage.
    pub overage: Money,
    /// Its SMS charge.
    pub sms: Money,
    /// Its allowance (prorated).
    #[serde(skip)]
    pub allowance: Bytes,
}

impl SimCharge {
    /// base + overage + SMS.
    pub fn total(&self) -> Money {
        self.base + self.overage + self.sms
    }
}

/// Totals over the SIMs on one plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanTotals {
    /// SIMs on the plan.
    pub sims: u64,
    /// Their usage as billed.
    pub usage: Bytes,
    /// Their allowance (prorated).
    pub allowance: Bytes,
    /// Rate charges.
    pub base: Money,
    /// Overage (shares, for pooled plans).
    pub overage: Money,
    /// SMS charges.
    pub sms: Money,
}

impl PlanTotals {
    /// base + overage + SMS.
    pub fn total(&self) -> Money {
        self.base + self.overage + self.sms
    }

    /// Counts one SIM's line in.
    pub fn add_line(&mut self, sim: &Sim, charge: &SimCharge) {
        self.add_charge(sim.usage, charge);
    }

    /// Counts in a SIM of this usage billed `charge`.
    pub fn add_charge(&mut self, usage: Bytes, charge: &SimCharge) {
        self.sims += 1;
        self.usage += usage;
        self.allowance += charge.allowance;
        self.base += charge.base;
        self.overage += charge.overage;
        self.sms += charge.sms;
    }

    /// Counts another set of lines in.
    pub fn add(&mut self, other: &PlanTotals) {
        self.sims += other.sims;
        self.usage += other.usage;
        self.allowance += other.allowance;
        self.base += other.base;
        self.overage += other.overage;
        self.sms += other.sms;
    }
}

/// One shared pool's account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolTotals {
    /// Member SIMs.
    pub sims: u64,
    /// Their usage as billed.
    pub usage: Bytes,
    /// The pooled allowance.
    pub allowance: Bytes,
    /// Usage beyond the allowance.
    pub excess: Bytes,
    /// Overage blocks started.
    pub blocks: u64,
    /// The overage charge (zero when the charge type bills no overage).
    pub overage: Money,
}

/// The bill of a fleet under one assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    /// Per SIM, in fleet order.
    pub sims: Vec<SimCharge>,
    /// Per plan, in plan order.
    pub plans: Vec<PlanTotals>,
    /// Per shared pool, in pool order.
    pub pools: Vec<PoolTotals>,
    /// Σ rate charges.
    pub base: Money,
    /// Σ overage.
    pub overage: Money,
    /// Σ SMS.
    pub sms: Money,
}

impl Bill {
    /// The amount due.
    pub fn total(&self) -> Money {
        self.base + self.overage + self.sms
    }
}

/// Bills `fleet` with SIM `i` on plan `assignment[i]` (a [`Fleet`], or its
/// [`crate::fleet::SlimFleet`]: the same bill).
///
/// # Panics
/// If `assignment` does not have one plan per SIM, or names a plan the fleet lacks (both are
/// programming errors: assignments come from the fleet).
pub fn bill(terms: &impl FleetTerms, assignment: &[PlanId]) -> Bill {
    let mut sims = Vec::with_capacity(assignment.len());
    let bill = billed(terms, assignment, &mut sims);
    Bill { sims, ..bill }
}

/// [`bill`]'s totals (its `sims` left empty) and each SIM's overage — a pooled SIM's share of
/// its pool's — for a caller that keeps each SIM's other lines to itself: 8 bytes a SIM where
/// the bill's per-SIM charges take 32.
///
/// # Panics
/// As [`bill`].
pub fn bill_totals(terms: &impl FleetTerms, assignment: &[PlanId]) -> (Bill, Vec<Money>) {
    let mut overages = Vec::with_capacity(assignment.len());
    let bill = billed(terms, assignment, &mut overages);
    (bill, overages)
}

/// Where a bill's per-SIM figures go, in fleet order: every charge ([`bill`]), or only the
/// overage ([`bill_totals`]).
trait PerSim {
    /// The next SIM's charge (a pooled SIM's overage not set yet).
    fn push(&mut self, charge: SimCharge);
    /// SIM `i`'s overage: its share of its pool's.
    fn set_overage(&mut self, i: usize, share: Money);
}

impl PerSim for Vec<SimCharge> {
    fn push(&mut self, charge: SimCharge) {
        Vec::push(self, charge);
    }

    fn set_overage(&mut self, i: usize, share: Money) {
        self[i].overage = share;
    }
}

impl PerSim for Vec<Money> {
    fn push(&mut self, charge: SimCharge) {
        Vec::push(self, charge.overage);
    }

    fn set_overage(&mut self, i: usize, share: Money) {
        self[i] = share;
    }
}

/// The bill's totals (`sims` empty), each SIM's figures handed to `per_sim`.
fn billed(terms: &impl FleetTerms, assignment: &[PlanId], per_sim: &mut impl PerSim) -> Bill {
    let fleet = terms.frame();
    assert_eq!(assignment.len(), terms.sim_count(), "one plan per SIM");
    let rules = LineRules::of(&fleet.settings);
    let decimals = rules.decimals;

    let mut plans = vec![PlanTotals::default(); fleet.plans.len()];
    let mut pools = vec![PoolTotals::default(); fleet.pools.len()];
    // Each pool's members and their weights: usage over their own allowance.
    let mut members: Vec<Vec<(u32, u64)>> = vec![Vec::new(); fleet.pools.len()];
    for (index, &plan_id) in assignment.iter().enumerate() {
        let (profile, usage, sms_count) = terms.sim(index);
        let plan = fleet.plan(plan_id);
        let charge = rules.charge(plan, usage, profile.active_days, sms_count);
        if let Pooling::Shared(pool) = plan.pooling {
            let p = &mut pools[pool.0 as usize];
            p.sims += 1;
            p.usage += usage;
            p.allowance += charge.allowance;
            let weight = usage.0.saturating_sub(charge.allowance.0);
            members[pool.0 as usize].push((index as u32, weight));
        }
        plans[plan_id.0 as usize].add_charge(usage, &charge);
        per_sim.push(charge);
    }

    for (pool_index, totals) in pools.iter_mut().enumerate() {
        let Some(terms) = fleet.pools[pool_index].overage else {
            continue;
        };
        totals.excess = Bytes(totals.usage.0.saturating_sub(totals.allowance.0));
        totals.blocks = terms.blocks(totals.excess);
        totals.overage = rules.overage(Some(terms), totals.usage, totals.allowance);
        if totals.overage == Money::ZERO {
            continue;
        }
        let member_ids = &members[pool_index];
        let weights: Vec<u64> = member_ids.iter().map(|&(_, weight)| weight).collect();
        let shares = split::largest_remainder(totals.overage.minor_units(decimals), &weights);
        for (&(i, _), share) in member_ids.iter().zip(shares) {
            let share = Money::from_minor(share, decimals);
            per_sim.set_overage(i as usize, share);
            plans[assignment[i as usize].0 as usize].overage += share;
        }
    }

    Bill {
        base: plans.iter().map(|p| p.base).sum(),
        overage: plans.iter().map(|p| p.overage).sum(),
        sms: plans.iter().map(|p| p.sms).sum(),
        sims: Vec::new(),
        plans,
        pools,
    }
}

/// The bill of the fleet as it stands: every SIM on its current plan.
pub fn current(terms: &impl FleetTerms) -> Bill {
    bill(terms, &current_plans(terms))
}

/// Every SIM's current plan, in fleet order.
pub fn current_plans(terms: &impl FleetTerms) -> Vec<PlanId> {
    (0..terms.sim_count())
        .map(|i| terms.sim(i).0.current_plan)
        .collect()
}

/// The pool a plan belongs to, if it shares one.
pub fn pool_of(fleet: &Fleet, plan: PlanId) -> Option<PoolId> {
    match fleet.plan(plan).pooling {
        Pooling::Shared(p) => Some(p),
        Pooling::PerSim => None,
    }
}
