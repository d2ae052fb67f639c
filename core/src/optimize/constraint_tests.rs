//! Constraints (locks, minimum saving per change, a limit on changes) against brute force on
//! tiny fleets, and on realistic ones: every result keeps to them and the bound stays valid.

use proptest::prelude::*;

use super::tests::{run_sliced, synthetic_fleet};
use super::tiny::{brute_force_where, tiny_fleet, tiny_plan, tiny_sims};
use super::*;
use crate::cost;
use crate::fleet::PlanId;
use crate::money::Money;

/// The lowest objective (`bill + min_saving × changes`) over every assignment of `model`
/// within its limit on changes (locks are in the model's options).
fn brute_force_constrained(model: &Model) -> i64 {
    brute_force_where(model, |a| a.changes() <= model.max_changes)
}

/// A run of `f` to the end under `constraints`.
fn run_with(f: &Fleet, constraints: Constraints) -> Optimized {
    Job::new(
        f,
        Options {
            constraints,
            ..Options::default()
        },
    )
    .run()
}

fn changes(f: &Fleet, plans: &[PlanId]) -> u64 {
    f.sims
        .iter()
        .zip(plans)
        .filter(|(s, p)| s.current_plan != **p)
        .count() as u64
}

/// A run's result keeps to the fleet's locks and eligibility and to `constraints`.
fn assert_keeps_to(f: &Fleet, result: &Optimized, constraints: &Constraints) {
    assert_eq!(cost::bill(f, &result.plans).total(), result.cost);
    let moved = changes(f, &result.plans);
    assert!(constraints.max_changes.is_none_or(|k| moved <= k));
    for (i, plan) in result.plans.iter().enumerate() {
        let sim = &f.sims[i];
        if f.is_locked(sim) {
            assert_eq!(*plan, sim.current_plan, "locked SIM {i} moved");
        } else {
            assert!(*plan == sim.current_plan || f.eligible_plans(sim).contains(plan));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn constrained_results_keep_to_the_constraints_and_the_bound_stays_valid(
        plans in prop::collection::vec(tiny_plan(), 1..=4),
        sims in tiny_sims(),
        locked in prop::collection::vec(prop::bool::weighted(0.2), 8),
        locked_plan in prop::option::weighted(0.2, 0usize..4),
        min_saving_cents in prop::option::of(1i64..2_000),
        max_changes in prop::option::of(0u64..6),
    ) {
        let mut f = tiny_fleet(&plans, &sims);
        for (sim, lock) in f.sims.iter_mut().zip(&locked) {
            sim.locked = *lock;
        }
        if let Some(p) = locked_plan {
            let p = p % f.plans.len();
            f.plans[p].locked = true;
        }
        let constraints = Constraints {
            min_saving: Money::from_micros(min_saving_cents.unwrap_or(0) * 10_000),
            max_changes,
        };
        let model = Model::constrained(&f, &constraints);
        let optimum = brute_force_constrained(&model);
        let options = Options { constraints, ..Options::default() };
        let mut job = Job::new(&f, options);
        let Step::Finished(result) = job.run_slice(&mut || false) else {
            unreachable!("an unlimited slice finishes")
        };
        assert_keeps_to(&f, &result, &constraints);
        let raw = job.objective_bound().expect("a finished run has a bound");
        prop_assert!(raw <= optimum, "bound as computed {raw} > optimum {optimum}");
        let moved = changes(&f, &result.plans) as i64;
        let x = constraints.min_saving.micros();
        let objective = result.cost.micros() + x * moved;
        prop_assert!(objective >= optimum);
        prop_assert!(result.cost <= result.current_cost);
        // The reported bound is the objective's less the result's change costs.
        let bound = result.lower_bound.expect("a finished run has a bound").micros() + x * moved;
        prop_assert!(bound <= optimum, "bound {bound} > optimum {optimum}");
    }
}

#[test]
fn a_limit_on_changes_keeps_the_most_valuable_ones_within_the_quality_target() {
    let f = synthetic_fleet(10_000, 5);
    let free = optimize(&f);
    let free_changes = changes(&f, &free.plans);
    for k in [free_changes / 2, free_changes / 10, 0] {
        let constraints = Constraints {
            max_changes: Some(k),
            ..Constraints::default()
        };
        let result = run_with(&f, constraints);
        assert_keeps_to(&f, &result, &constraints);
        let gap = result.gap().expect("a finished run has a bound");
        assert!(gap <= 0.002, "{k} changes: gap {:.4} %", gap * 100.0);
        let bound = result.lower_bound.expect("bound");
        // A limit can only raise the bill and the bound.
        assert!(result.cost >= free.cost);
        assert!(bound >= free.lower_bound.expect("bound"));
    }
}

#[test]
fn a_minimum_saving_per_change_trades_savings_for_fewer_changes() {
    let f = synthetic_fleet(10_000, 5);
    let free = optimize(&f);
    let mut last_changes = changes(&f, &free.plans);
    for cents in [50, 200] {
        let constraints = Constraints {
            min_saving: Money::from_micros(cents * 10_000),
            ..Constraints::default()
        };
        let result = run_with(&f, constraints);
        assert_keeps_to(&f, &result, &constraints);
        let moved = changes(&f, &result.plans);
        assert!(moved < last_changes, "{moved} changes at {cents} cents");
        last_changes = moved;
        let gap = result.gap().expect("a finished run has a bound");
        assert!(gap <= 0.002, "{cents} cents: gap {:.4} %", gap * 100.0);
        // Undoing any single change would raise the bill by at least the minimum saving: the
        // objective cannot fall by undoing one.
        let model = Model::constrained(&f, &constraints);
        let index: std::collections::HashMap<_, _> = f
            .plans
            .iter()
            .enumerate()
            .map(|(k, p)| (p.code.clone(), k))
            .collect();
        let choice: Vec<u32> = (0..f.sims.len())
            .map(|i| {
                let code = &f.plan(result.plans[i]).code;
                model
                    .options_of(i)
                    .iter()
                    .position(|o| o.plan.0 as usize == index[code])
                    .expect("an option") as u32
            })
            .collect();
        let a = Assignment::new(&model, choice);
        for i in 0..f.sims.len() {
            let current = model.sim(i).current;
            if a.choice[i] != current {
                assert!(
                    a.delta(&model, i, current) >= 0,
                    "undoing SIM {i}'s change pays"
                );
            }
        }
    }
}

#[test]
fn constrained_runs_sliced_and_resumed_equal_an_uninterrupted_run() {
    // More SIMs than a quantum, so that checkpoints fall inside the change price's pass too.
    let mut f = synthetic_fleet(5_000, 13);
    for k in (0..f.sims.len()).step_by(17) {
        f.sims[k].locked = true;
    }
    let options = Options {
        dual_iterations: 30,
        constraints: Constraints {
            min_saving: Money::from_micros(250_000),
            max_changes: Some(300),
        },
        ..Options::default()
    };
    let straight = Job::new(&f, options).run();
    assert_keeps_to(&f, &straight, &options.constraints);
    let (result, slices) = run_sliced(&f, options, 5, 3);
    assert!(slices > 20, "the run was cut into {slices} slices");
    assert_eq!(result, straight);
    // A checkpoint of a constrained run does not resume another constraint set.
    let bytes = Job::new(&f, options).encode();
    let mut unlocked = f.clone();
    unlocked.sims[0].locked = false;
    assert!(Job::decode(&unlocked, &bytes).is_err());
}
