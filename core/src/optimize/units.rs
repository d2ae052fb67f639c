//! Work units: a fleet cut into parts that no choice of plans couples, so each part can be
//! optimized on its own — one after another, or in parallel on separate machines — and the
//! results merged into the fleet's.
//!
//! SIMs are coupled only through the shared pools of the plans they may be on (their current
//! plan and, unless locked, every plan eligible for them): a SIM's pool total and SIM count
//! are all another SIM's cost depends on. The connected components of "may be in the same
//! pool" are independent: the bill is the sum of the components' bills, the best bill the sum
//! of their best bills, and a lower bound of each adds up to a lower bound of the whole. A
//! limit on the number of changes couples every SIM, so with one the fleet is one unit.
//!
//! Components are packed, in the order of their first SIM, into units of at least
//! [`UNIT_SIMS`] SIMs (one component larger than that is a unit of its own), so a fleet below
//! that size is always one unit and small components never make a crowd of tiny units.

use crate::fleet::{Fleet, Pooling};
use crate::money::Money;

use super::components::Components;
use super::{Optimized, Options};

/// The least number of SIMs a unit is filled to before the next one starts.
pub const UNIT_SIMS: usize = 65_536;

/// The SIMs (indices into [`Fleet::sims`], ascending) of each work unit of `fleet`, for a run
/// with `options`. Always at least one unit (an empty fleet is one empty unit); every SIM is
/// in exactly one.
pub fn split(fleet: &Fleet, options: &Options) -> Vec<Vec<u32>> {
    split_at(fleet, options, UNIT_SIMS)
}

fn split_at(fleet: &Fleet, options: &Options, unit_sims: usize) -> Vec<Vec<u32>> {
    let everything = || vec![(0..fleet.sims.len() as u32).collect::<Vec<u32>>()];
    if options.constraints.max_changes.is_some() || fleet.sims.len() <= unit_sims {
        return everything();
    }
    let pools_of = |plans: &[crate::fleet::PlanId]| -> Vec<u32> {
        let mut pools: Vec<u32> = plans
            .iter()
            .filter_map(|&p| match fleet.plan(p).pooling {
                Pooling::Shared(pool) => Some(pool.0),
                Pooling::PerSim => None,
            })
            .collect();
        pools.sort_unstable();
        pools.dedup();
        pools
    };
    // SIMs alike in what decides their options touch the same pools: computed once per profile.
    let mut touched: std::collections::HashMap<_, Vec<u32>> = std::collections::HashMap::new();
    // A SIM whose options touch no pool is a component of its own.
    let mut joined = Components::new(fleet.pools.len());
    for sim in &fleet.sims {
        let locked = fleet.is_locked(sim);
        let key = (sim.comm_plan, sim.plan_type, sim.current_plan, locked);
        let pools = touched.entry(key).or_insert_with(|| {
            let mut plans = if locked {
                Vec::new()
            } else {
                fleet.eligible_plans(sim)
            };
            plans.push(sim.current_plan);
            pools_of(&plans)
        });
        joined.add(pools.iter().copied());
    }
    let component = joined.finish();
    // Components in the order of their first SIM, packed into units.
    let mut unit_of_component: Vec<Option<u32>> = vec![None; component.count];
    let mut units: Vec<Vec<u32>> = Vec::new();
    let mut open: Option<u32> = None;
    let mut sizes: Vec<usize> = Vec::new();
    // Component sizes decide when a unit is full, so count them first.
    let mut component_size = vec![0usize; component.count];
    for &c in &component.of_item {
        component_size[c as usize] += 1;
    }
    let mut assign = |size: usize, units: &mut Vec<Vec<u32>>, sizes: &mut Vec<usize>| -> u32 {
        let unit = match open {
            Some(u) => u,
            None => {
                units.push(Vec::new());
                sizes.push(0);
                (units.len() - 1) as u32
            }
        };
        sizes[unit as usize] += size;
        open = (sizes[unit as usize] < unit_sims).then_some(unit);
        unit
    };
    for (i, &c) in component.of_item.iter().enumerate() {
        let c = c as usize;
        let unit = match unit_of_component[c] {
            Some(u) => u,
            None => {
                let u = assign(component_size[c], &mut units, &mut sizes);
                unit_of_component[c] = Some(u);
                u
            }
        };
        units[unit as usize].push(i as u32);
    }
    units
}

impl Fleet {
    /// The fleet of these SIMs only (indices into [`Fleet::sims`]), with every plan, pool and
    /// setting of this one: a work unit to optimize on its own.
    pub fn part(&self, sims: &[u32]) -> Fleet {
        Fleet {
            plans: self.plans.clone(),
            pools: self.pools.clone(),
            comm_plans: self.comm_plans.clone(),
            sims: sims
                .iter()
                .map(|&i| self.sims[i as usize].clone())
                .collect(),
            plan_types: self.plan_types.clone(),
            eligibility: self.eligibility.clone(),
            settings: self.settings,
        }
    }
}

/// The fleet's result from its units' results (`units` as [`split`] made them, `results` in
/// the same order): each SIM's plan where its unit put it; costs and bounds added up (a bound
/// only when every unit has one).
///
/// # Panics
/// When `units` and `results` do not match in number or sizes — a caller's bug.
pub fn merge(sims: usize, units: &[Vec<u32>], results: &[Optimized]) -> Optimized {
    assert_eq!(units.len(), results.len(), "one result per unit");
    let mut plans = vec![crate::fleet::PlanId(0); sims];
    let (mut cost, mut current_cost) = (Money::ZERO, Money::ZERO);
    let mut lower_bound = Some(Money::ZERO);
    for (unit, result) in units.iter().zip(results) {
        assert_eq!(
            unit.len(),
            result.plans.len(),
            "a result per SIM of its unit"
        );
        for (&i, &plan) in unit.iter().zip(&result.plans) {
            plans[i as usize] = plan;
        }
        cost += result.cost;
        current_cost += result.current_cost;
        lower_bound = lower_bound.zip(result.lower_bound).map(|(a, b)| a + b);
    }
    Optimized {
        plans,
        cost,
        current_cost,
        lower_bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost;
    use crate::optimize::tests::synthetic_fleet_of;
    use crate::optimize::{Constraints, Job};

    #[test]
    fn units_are_independent_and_their_results_add_up_to_the_fleets() {
        // 4 communication plans, each with its own pooled and per-SIM plans: 4 components of
        // about 500 SIMs; with units of at least 700 SIMs, 2,000 SIMs make 2 units of 2.
        let fleet = synthetic_fleet_of(2_000, 5, 4, 6);
        let options = Options::default();
        let units = split_at(&fleet, &options, 700);
        assert_eq!(units.len(), 2, "{} units", units.len());
        let mut seen = vec![false; fleet.sims.len()];
        for unit in &units {
            assert!(unit.windows(2).all(|w| w[0] < w[1]), "ascending");
            for &i in unit {
                assert!(
                    !std::mem::replace(&mut seen[i as usize], true),
                    "SIM {i} twice"
                );
            }
        }
        assert!(seen.iter().all(|&s| s), "every SIM in a unit");
        // No pool is open to SIMs of two units.
        let mut unit_of_pool = vec![None; fleet.pools.len()];
        for (u, unit) in units.iter().enumerate() {
            for &i in unit {
                let sim = &fleet.sims[i as usize];
                let mut plans = fleet.eligible_plans(sim);
                plans.push(sim.current_plan);
                for p in plans {
                    if let Pooling::Shared(pool) = fleet.plan(p).pooling {
                        let owner = unit_of_pool[pool.0 as usize].get_or_insert(u);
                        assert_eq!(*owner, u, "pool {} in two units", pool.0);
                    }
                }
            }
        }
        let results: Vec<Optimized> = units
            .iter()
            .map(|unit| Job::new(&fleet.part(unit), options).run())
            .collect();
        let merged = merge(fleet.sims.len(), &units, &results);
        assert_eq!(cost::bill(&fleet, &merged.plans).total(), merged.cost);
        let current: Vec<_> = fleet.sims.iter().map(|s| s.current_plan).collect();
        assert_eq!(cost::bill(&fleet, &current).total(), merged.current_cost);
        let whole = Job::new(&fleet, options).run();
        let bound = merged.lower_bound.expect("a bound");
        assert!(
            bound <= whole.cost,
            "the units' bound holds for the whole fleet"
        );
        assert!(whole.lower_bound.expect("a bound") <= merged.cost);
    }

    #[test]
    fn small_fleets_and_a_change_limit_are_one_unit() {
        let fleet = synthetic_fleet_of(2_000, 5, 4, 6);
        assert_eq!(split(&fleet, &Options::default()).len(), 1);
        let limited = Options {
            constraints: Constraints {
                max_changes: Some(10),
                ..Constraints::default()
            },
            ..Options::default()
        };
        assert_eq!(split_at(&fleet, &limited, 700).len(), 1);
    }
}
