//! The optimizer against brute force on tiny fleets, and known hard cases.

use proptest::prelude::*;

use super::tiny::{brute_force, fleet, tiny_fleet, tiny_plan, tiny_sims};
use super::*;
use crate::cost;
use crate::fleet::FleetTerms;
use crate::settings::SettingsInput;
use crate::test_fleet::fleet_from_text;

/// The classic method's result.
fn classic(f: &Fleet) -> Optimized {
    Job::new(
        f,
        Options {
            method: Method::Classic,
            ..Options::default()
        },
    )
    .run()
}

#[test]
fn contiguous_usage_ranges_are_not_enough() {
    // Usages 0, 50, 200 MB; A: $10 with 100 MB, B: $6 with 50 MB, both pooled per plan, $1/MB.
    // {0, 200} on A and {50} on B: $20 + $6 = $26, no overage. Every split that gives each plan a
    // contiguous range of the usage-sorted SIMs costs at least $30 (all three on A).
    let f = fleet(
        "A,10,100,1,1,true,,0\nB,6,50,1,1,true,,0\n",
        "1,,B,0,0\n2,,B,50,0\n3,,B,200,0\n",
        None,
    );
    let result = optimize(&f);
    assert_eq!(result.cost, Money::parse("26").unwrap_or_default());
    assert_eq!(brute_force(&Model::new(&f)), result.cost.micros());
    assert!(result.lower_bound.expect("bound") <= result.cost);
    assert_eq!(cost::bill(&f, &result.plans).total(), result.cost);
}

#[test]
fn the_default_method_is_never_worse_than_classic() {
    // Two SIMs on P0 (160 and 20 MB): only moving both to P1 together pays ($8 instead of
    // $48); each single move costs more, and swaps do not apply (both on one plan). Classic
    // finds it; the default starts from classic's result.
    let f = fleet(
        "P0,4,70,1,1,true,,0\nP1,4,100,1,1,true,,0\nP2,5,70,1,1,false,,0\n",
        "1,,P0,160,0\n2,,P0,20,0\n",
        None,
    );
    let classic = classic(&f);
    assert_eq!(classic.cost, Money::parse("8").unwrap_or_default());
    assert_eq!(classic.lower_bound, None, "classic computes no bound");
    let default = optimize(&f);
    assert_eq!(default.cost, classic.cost);
    assert!(default.lower_bound.is_some());
}

#[test]
fn separable_fleets_are_solved_exactly_with_a_tight_bound() {
    // No pools: each SIM takes its cheapest plan; the bound equals the optimum.
    let f = fleet(
        "S,2,5,0.5,1,false,,0\nM,6,50,0.1,1,false,,0\nL,20,500,0.05,1,false,,0\n",
        "1,,L,1,0\n2,,S,40,0\n3,,S,600,0\n4,,M,0,0\n",
        None,
    );
    let result = optimize(&f);
    // 1 → S $2; 40 MB: S = 2 + 35 × 0.5 = $19.50, M = $6 → M; 600: L = 20 + 5 = $25; 0 → S $2.
    assert_eq!(result.cost, Money::parse("35").unwrap_or_default());
    assert_eq!(result.lower_bound, Some(result.cost));
    assert_eq!(result.current_cost, cost::current(&f).total());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn bound_below_optimum_and_result_at_least_as_good_as_current(
        plans in prop::collection::vec(tiny_plan(), 1..=4),
        sims in tiny_sims(),
    ) {
        let f = tiny_fleet(&plans, &sims);
        let model = Model::new(&f);
        let optimum = brute_force(&model);
        let mut job = Job::new(&f, Options::default());
        let Step::Finished(result) = job.run_slice(&mut || false) else {
            unreachable!("an unlimited slice finishes")
        };
        // The bound as computed, not only as reported (capped at the result's bill).
        let bound = job.objective_bound().expect("a finished run has a bound");
        prop_assert!(bound <= optimum, "bound {bound} > optimum {optimum}");
        prop_assert!(result.cost.micros() >= optimum);
        prop_assert!(result.cost <= result.current_cost);
        let classic = classic(&f);
        prop_assert!(result.cost <= classic.cost, "default {} is worse than classic {}", result.cost, classic.cost);
        prop_assert_eq!(cost::bill(&f, &result.plans).total(), result.cost, "the engine's bill of the result");
        for (i, plan) in result.plans.iter().enumerate() {
            let sim = &f.sims[i];
            prop_assert!(*plan == sim.current_plan || f.eligible_plans(sim).contains(plan), "SIM {i} moved to an ineligible plan");
        }
    }

    #[test]
    fn model_costs_and_deltas_match_the_cost_engine(
        plans in prop::collection::vec(tiny_plan(), 1..=4),
        sims in prop::collection::vec((0u32..600, 0usize..4, any::<bool>(), prop::collection::vec(0u32..4, 3)), 1..=12),
    ) {
        let mut p = String::new();
        for (k, plan) in plans.iter().enumerate() {
            let rate = if plan.pool >= 2 { plans.iter().find(|q| q.pool == plan.pool).and_then(|q| q.rate) } else { plan.rate };
            let (r, b) = rate.map_or((String::new(), String::new()), |(r, b)| (format!("0.{r:04}"), b.to_string()));
            let pool_id = if plan.pool >= 2 { format!("X{}", plan.pool) } else { String::new() };
            p.push_str(&format!("P{k},{}.99,{},{r},{b},{},{pool_id},0.013\n", plan.charge, plan.mb, plan.pool > 0));
        }
        let mut s = String::new();
        for (k, (usage, plan, prorated, _)) in sims.iter().enumerate() {
            let activated = if *prorated { "2026-10-11" } else { "" };
            s.push_str(&format!("{k},,P{},{usage}.5,{},{activated}\n", plan % plans.len(), k % 5));
        }
        let f = fleet(&p, &s, None);
        let model = Model::new(&f);
        let mut a = model.current();
        prop_assert_eq!(a.cost(&model), cost::current(&f).total().micros());
        // A walk of random moves: each delta is exactly the change of the engine's bill.
        for (i, (_, _, _, moves)) in sims.iter().enumerate() {
            for m in moves {
                let to = *m % model.options_of(i).len() as u32;
                let before = cost::bill(&f, &a.plans(&model)).total().micros();
                let d = a.delta(&model, i, to);
                // best_move agrees with trying every option with delta.
                let mut by_delta: Option<(i64, u32)> = None;
                for o in 0..model.options_of(i).len() as u32 {
                    let od = a.delta(&model, i, o);
                    if od < by_delta.map_or(0, |(bd, _)| bd) {
                        by_delta = Some((od, o));
                    }
                }
                prop_assert_eq!(a.best_move(&model, i), by_delta);
                // swap_delta agrees with applying the swap, for every same-class partner.
                for j in 0..model.sims.len() {
                    if j != i && model.sim(j).class == model.sim(i).class {
                        let mut swapped = a.clone();
                        let (oi, oj) = (a.choice[i], a.choice[j]);
                        swapped.apply(&model, i, oj);
                        swapped.apply(&model, j, oi);
                        prop_assert_eq!(a.swap_delta(&model, i, j), swapped.cost(&model) - a.cost(&model));
                    }
                }
                a.apply(&model, i, to);
                let after = cost::bill(&f, &a.plans(&model)).total().micros();
                prop_assert_eq!(after - before, d);
                prop_assert_eq!(a.cost(&model), after);
            }
        }
    }
}

/// A realistic fleet from the synthetic generator, large enough for many quanta.
pub(super) fn synthetic_fleet(sims: u64, seed: u64) -> Fleet {
    synthetic_fleet_of(sims, seed, 3, 5)
}

/// [`synthetic_fleet`] with `comm_plans` communication plans of `per_comm_plan` plans each.
pub(crate) fn synthetic_fleet_of(
    sims: u64,
    seed: u64,
    comm_plans: u32,
    per_comm_plan: u32,
) -> Fleet {
    let spec = crate::synthetic::FleetSpec {
        sims,
        comm_plans,
        plans_per_comm_plan: per_comm_plan,
        prorated_per_mille: 80,
        seed,
        period_end: crate::period::parse_local("2026-11-22T00:00").expect("date"),
        as_of: crate::period::parse_local("2026-11-20T12:00").expect("date"),
    };
    let (mut p, mut s, mut e) = (Vec::new(), Vec::new(), Vec::new());
    spec.write_plans(&mut p).expect("plans");
    spec.write_sims(&mut s).expect("sims");
    spec.write_eligibility(&mut e).expect("eligibility");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("utf-8");
    let settings = SettingsInput {
        period_end: Some("2026-11-22T00:00".into()),
        time_zone: Some("America/New_York".into()),
        as_of: Some("2026-11-20T12:00".into()),
        ..SettingsInput::default()
    };
    fleet_from_text(&text(p), &text(s), Some(&text(e)), &settings)
}

/// Runs a job in random slices of 1 to `max_quanta` quanta (generator `seed`), encoding and
/// decoding it between slices: re-encoding gives the same bytes, the options survive and the
/// best bill never exceeds the current one. The result and how many slices it took.
pub(super) fn run_sliced(
    f: &Fleet,
    options: Options,
    seed: u64,
    max_quanta: u64,
) -> (Optimized, usize) {
    run_sliced_job(f, Job::new(f, options), seed, max_quanta)
}

/// [`run_sliced`] from `job` (of `f`).
pub(super) fn run_sliced_job(
    f: &impl FleetTerms,
    job: Job,
    seed: u64,
    max_quanta: u64,
) -> (Optimized, usize) {
    run_sliced_watching(f, job, seed, max_quanta, |_| {})
}

/// [`run_sliced_job`], with `watch` shown the progress at every slice's end.
pub(super) fn run_sliced_watching(
    f: &impl FleetTerms,
    mut job: Job,
    seed: u64,
    max_quanta: u64,
    mut watch: impl FnMut(&Progress),
) -> (Optimized, usize) {
    let options = job.options();
    let mut rng = crate::random::SplitMix64::new(seed);
    let mut slices = 0;
    loop {
        let mut quanta_left = rng.between(1, max_quanta);
        match job.run_slice(&mut || {
            quanta_left -= 1;
            quanta_left == 0
        }) {
            Step::Finished(result) => return (result, slices),
            Step::Yielded(progress) => {
                slices += 1;
                watch(&progress);
                assert!(progress.best_cost <= progress.current_cost);
                let bytes = job.encode();
                job = Job::decode(f, &bytes).expect("decodes");
                assert_eq!(job.options(), options);
                assert_eq!(job.encode(), bytes, "encode ∘ decode is the identity");
            }
        }
    }
}

#[test]
fn sliced_and_resumed_runs_equal_an_uninterrupted_run() {
    let f = synthetic_fleet(3_000, 11);
    let options = Options {
        dual_iterations: 40,
        ..Options::default()
    };
    let straight = Job::new(&f, options).run();
    for seed in [1u64, 2, 3] {
        let (result, slices) = run_sliced(&f, options, seed, 4);
        assert!(slices > 20, "the run was cut into {slices} slices");
        assert_eq!(result, straight, "slicing seed {seed}");
    }
    assert!(straight.cost <= straight.current_cost);
    assert_eq!(cost::bill(&f, &straight.plans).total(), straight.cost);
}

#[test]
fn sliced_runs_through_the_bundle_method_equal_an_uninterrupted_run() {
    // 4 × 50 plans: many pools interact, so the bound comes from the bundle method, whose
    // stage is encoded and decoded between slices too.
    let f = synthetic_fleet_of(2_000, 5, 4, 50);
    assert!(Model::new(&f).lagrangian().by_coordinates());
    let straight = Job::new(&f, Options::default()).run();
    let (result, slices) = run_sliced(&f, Options::default(), 9, 6);
    assert!(slices > 50, "the run was cut into {slices} slices");
    assert_eq!(result, straight);
}

#[test]
fn the_bundle_method_climbs_on_where_coordinate_ascent_leaves_the_bill_over_the_target() {
    // 2,000 SIMs × 4 × 12 plans, seed 3: coordinate ascent converges, but the plans recovered
    // from its prices stay over 0.05 % (0.18 % in the end without the climb); the bundle method
    // climbs on from them and the plans recovered from its prices end at 0.12 %. Sliced with
    // checkpoints between slices it ends the same, and the share done never falls.
    let f = synthetic_fleet_of(2_000, 3, 4, 12);
    let model = Model::new(&f);
    assert!(model.lagrangian().by_coordinates());
    assert!(model.most_options <= job::COORDINATE_OPTIONS);
    let straight = Job::new(&f, Options::default()).run();
    assert!(
        straight.gap().is_some_and(|g| g < 0.0013),
        "{:?}",
        straight.gap()
    );
    let (mut done, mut climbed_on, mut after) = (0.0, false, false);
    let job = Job::new(&f, Options::default());
    let (result, _) = run_sliced_watching(&f, job, 5, 5, |progress| {
        assert!(progress.done >= done, "{} after {done}", progress.done);
        done = progress.done;
        // Only the climb on reports bounding after the first recovery here.
        climbed_on |= progress.phase == "bounding" && done >= 0.6;
        after |= climbed_on && progress.phase == "assigning plans at the prices";
    });
    assert!(
        climbed_on && after,
        "the bundle method climbed on, and plans were recovered"
    );
    assert_eq!(result, straight);
}

#[test]
fn kicks_and_branch_and_bound_bring_a_few_hundred_sims_on_many_plans_near_the_bound_and_resume_exactly(
) {
    // 300 and 500 SIMs on 4 communication plans × 12 plans (`simopt bench --sims 300,500
    // --plans-per-comm-plan 12 --seed S`). Kicks alone ended 0.27–0.96 % above the bound; branch
    // and bound (a better bill and a higher bound) 0.19–0.49 %, except seed 7 at 300 SIMs: its
    // optimum is 0.59 % above the LP bound (an exact solver's figure), so the bound must rise and
    // the node budget takes it to 0.63 %.
    for (sims, seed, most) in [
        (300, 1, 0.005),
        (300, 2, 0.005),
        (300, 3, 0.005),
        (300, 7, 0.0065),
        (500, 1, 0.005),
        (500, 7, 0.005),
    ] {
        let f = synthetic_fleet_of(sims, seed, 4, 12);
        let straight = Job::new(&f, Options::default()).run();
        let gap = straight.gap().expect("a bound");
        assert!(
            gap <= most,
            "{sims} SIMs, seed {seed}: gap {:.3} %",
            gap * 100.0
        );
        assert_eq!(cost::bill(&f, &straight.plans).total(), straight.cost);
        if (sims, seed) == (300, 7) {
            let (result, slices) = run_sliced(&f, Options::default(), 4, 6);
            assert!(slices > 300, "the run was cut into {slices} slices");
            assert_eq!(result, straight, "{sims} SIMs, seed {seed}");
        }
    }
}

#[test]
fn damaged_foreign_and_future_checkpoints_are_refused() {
    use super::checkpoint::DecodeError;
    let f = synthetic_fleet(300, 5);
    let mut job = Job::new(&f, Options::default());
    let mut quanta = 0;
    let _ = job.run_slice(&mut || {
        quanta += 1;
        quanta == 3
    });
    let bytes = job.encode();
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x10;
    assert_eq!(Job::decode(&f, &damaged).err(), Some(DecodeError::Corrupt));
    let mut future = bytes.clone();
    future[8] = 99;
    assert!(matches!(
        Job::decode(&f, &future),
        Err(DecodeError::FutureVersion { found: 99, .. })
    ));
    assert_eq!(
        Job::decode(&f, &bytes[..bytes.len() - 3]).err(),
        Some(DecodeError::Truncated)
    );
    assert_eq!(
        Job::decode(&f, b"not a checkpoint").err(),
        Some(DecodeError::BadMagic)
    );
    let other = synthetic_fleet(300, 6);
    assert_eq!(
        Job::decode(&other, &bytes).err(),
        Some(DecodeError::Invalid(
            "the checkpoint belongs to another input"
        ))
    );
    assert!(Job::decode(&f, &bytes).is_ok());
}

#[test]
fn a_realistic_fleet_is_solved_within_the_quality_target() {
    // 10,000 SIMs, three families (one with a pool per pooled plan: two interacting pools),
    // five plans each: the certified gap must be within the product's 0.05 % (it was 0.7 %
    // before pool balancing), and the bill the cost engine's.
    let f = synthetic_fleet(10_000, 3);
    let result = optimize(&f);
    let gap = result.gap().expect("a finished run has a bound");
    assert!(gap <= 0.0005, "gap {:.4} %", gap * 100.0);
    assert_eq!(cost::bill(&f, &result.plans).total(), result.cost);
    assert!(result.cost <= classic(&f).cost);
}

#[test]
fn own_limit_is_where_a_sims_own_overage_line_becomes_nonzero() {
    // Rates below half a cent per block round to zero for a few blocks: classic's "fits" must
    // agree with the charge, whatever the rate.
    for rate in ["0.004", "0.0049", "0.005", "0.001", "0.01", "0.25", "0"] {
        let f = fleet(&format!("P,2,1,{rate},1,false,,0\n"), "1,,P,1,0\n", None);
        let model = Model::new(&f);
        let o = model.options_of(0)[0];
        let limit = model.own_limit(&o);
        let mb = crate::money::BYTES_PER_MB;
        for usage in [
            0,
            mb,
            mb + 1,
            2 * mb,
            2 * mb + 1,
            3 * mb,
            5 * mb + 1,
            200 * mb + 1,
        ] {
            let own = model.fixed_of(usage, 0, &o) - o.base;
            assert_eq!(usage <= limit, own == 0, "rate {rate}, usage {usage} bytes");
        }
    }
}

#[test]
fn a_pool_is_free_exactly_where_its_overage_line_is_zero() {
    // The same rounding for a pool: classic's "fits" on a pooled option asks `pool_is_free`,
    // which must agree with the pool's charge at every total.
    for rate in ["0.004", "0.0049", "0.005", "0.001", "0.01", "0.25", "0"] {
        let f = fleet(&format!("P,2,1,{rate},1,true,,0\n"), "1,,P,1,0\n", None);
        let model = Model::new(&f);
        let mb = crate::money::BYTES_PER_MB;
        for allowance in [0, mb, 3 * mb] {
            for over in [
                0,
                1,
                mb,
                mb + 1,
                2 * mb,
                2 * mb + 1,
                5 * mb + 1,
                200 * mb + 1,
            ] {
                let usage = allowance + over;
                assert_eq!(
                    model.pool_is_free(0, usage, allowance),
                    model.pool_charge(0, usage, allowance) == 0,
                    "rate {rate}, {usage} bytes against {allowance}"
                );
            }
        }
    }
}

/// The result's plans are listed a quantum of SIMs at a time: a job decoded while listing them
/// ends with the uninterrupted run's result.
#[test]
fn a_job_decoded_while_listing_its_plans_ends_the_same() {
    let f = synthetic_fleet(5_000, 4);
    let straight = Job::new(&f, Options::default()).run();
    let mut job = Job::new(&f, Options::default());
    let (mut decoded_while_listing, mut quanta) = (0, 0);
    let result = loop {
        quanta += 1;
        assert!(quanta < 100_000, "a decoded job lost its progress");
        match job.run_slice(&mut || true) {
            Step::Finished(result) => break result,
            Step::Yielded(progress) => {
                if progress.phase == "finishing" {
                    decoded_while_listing += 1;
                    job = Job::decode(&f, &job.encode()).expect("decodes");
                }
            }
        }
    };
    assert!(decoded_while_listing >= 2, "{decoded_while_listing}");
    assert_eq!(result, straight);
}
