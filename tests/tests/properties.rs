//! Property tests over random fleets and random bytes.
//!
//! * Every printed total reconciles: per-SIM lines add up exactly to each plan's, each pool's and
//!   the bill's totals, under any assignment, charge type, proration and currency.
//! * The readers never panic: random bytes, and random damage to a valid file, give either a
//!   fleet or errors that name the file.

use proptest::prelude::*;
use simopt_core::cost::{self, Bill};
use simopt_core::fleet::{Fleet, PlanId, Pooling};
use simopt_core::input::load;
use simopt_core::{InputFiles, Money, SettingsInput, SourceFile};

#[derive(Debug, Clone)]
struct PlanSpec {
    charge_cents: u32,
    included_mb: u32,
    overage: Option<(u32, u32)>, // (rate in 1/10,000 of a unit, block MB)
    pool: u8,                    // 0 = not pooled, 1 = pooled alone, 2.. = shared pool id
    sms_rate: u32,               // 1/10,000 of a unit
}

#[derive(Debug, Clone)]
struct SimSpec {
    plan: usize,
    usage_kb: u32,
    sms: u16,
    activated_day: Option<u8>,
    assigned: usize,
}

fn plan_spec() -> impl Strategy<Value = PlanSpec> {
    (
        0u32..10_000,
        0u32..2_000,
        prop::option::of((1u32..50_000, 1u32..20)),
        0u8..5,
        0u32..1_000,
    )
        .prop_map(
            |(charge_cents, included_mb, overage, pool, sms_rate)| PlanSpec {
                charge_cents,
                included_mb,
                overage,
                pool,
                sms_rate,
            },
        )
}

fn sim_spec() -> impl Strategy<Value = SimSpec> {
    (
        0usize..64,
        0u32..4_000_000,
        0u16..300,
        prop::option::of(0u8..40),
        0usize..64,
    )
        .prop_map(|(plan, usage_kb, sms, activated_day, assigned)| SimSpec {
            plan,
            usage_kb,
            sms,
            activated_day,
            assigned,
        })
}

fn fleet_of(plans: &[PlanSpec], sims: &[SimSpec], settings: &SettingsInput) -> Fleet {
    let mut p = String::from(
        "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate\n",
    );
    for (i, plan) in plans.iter().enumerate() {
        // Plans sharing a pool id share its overage terms (the file would be refused otherwise).
        let overage = if plan.pool >= 2 {
            plans
                .iter()
                .find(|q| q.pool == plan.pool)
                .and_then(|q| q.overage)
        } else {
            plan.overage
        };
        let (rate, block) = overage.map_or((String::new(), String::new()), |(r, b)| {
            (format!("{}.{:04}", r / 10_000, r % 10_000), b.to_string())
        });
        p.push_str(&format!(
            "P{i},{}.{:02},{},{rate},{block},{},{},0.{:04}\n",
            plan.charge_cents / 100,
            plan.charge_cents % 100,
            plan.included_mb,
            plan.pool > 0,
            if plan.pool >= 2 {
                format!("POOL{}", plan.pool)
            } else {
                String::new()
            },
            plan.sms_rate
        ));
    }
    let mut s = String::from("iccid,current_plan,usage_mb,sms_count,activated_on\n");
    for (i, sim) in sims.iter().enumerate() {
        let activated = sim
            .activated_day
            .map(|d| format!("2026-10-{:02}", 1 + u32::from(d) % 31))
            .unwrap_or_default();
        s.push_str(&format!(
            "{i},P{},{}.{:03},{},{activated}\n",
            sim.plan % plans.len(),
            sim.usage_kb / 1000,
            sim.usage_kb % 1000,
            sim.sms
        ));
    }
    let files = InputFiles {
        sims: SourceFile {
            name: "sims.csv",
            bytes: s.as_bytes(),
        },
        plans: SourceFile {
            name: "plans.csv",
            bytes: p.as_bytes(),
        },
        eligibility: None,
    };
    match load(&files, settings) {
        Ok(w) => w.output,
        Err(e) => panic!("generated fleet does not load: {e}\n{p}\n{s}"),
    }
}

fn assert_reconciles(fleet: &Fleet, assignment: &[PlanId], bill: &Bill) {
    let decimals = fleet.settings.currency_decimals;
    let unit = 10i64.pow(6 - decimals);
    let lines: Money = bill.sims.iter().map(|c| c.total()).sum();
    assert_eq!(lines, bill.total(), "per-SIM lines add up to the bill");
    assert_eq!(bill.sims.iter().map(|c| c.base).sum::<Money>(), bill.base);
    assert_eq!(
        bill.sims.iter().map(|c| c.overage).sum::<Money>(),
        bill.overage
    );
    assert_eq!(bill.sims.iter().map(|c| c.sms).sum::<Money>(), bill.sms);
    for c in &bill.sims {
        for amount in [c.base, c.overage, c.sms] {
            assert_eq!(
                amount.micros() % unit,
                0,
                "every line is in whole minor units"
            );
            assert!(amount >= Money::ZERO);
        }
    }
    for (plan_index, totals) in bill.plans.iter().enumerate() {
        let on_plan = || {
            bill.sims
                .iter()
                .zip(assignment)
                .filter(move |(_, p)| p.0 as usize == plan_index)
                .map(|(c, _)| c)
        };
        assert_eq!(on_plan().count() as u64, totals.sims);
        assert_eq!(on_plan().map(|c| c.total()).sum::<Money>(), totals.total());
        assert_eq!(on_plan().map(|c| c.overage).sum::<Money>(), totals.overage);
    }
    for (pool_index, totals) in bill.pools.iter().enumerate() {
        let members: Vec<usize> = assignment
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                fleet.plan(**p).pooling
                    == Pooling::Shared(simopt_core::fleet::PoolId(pool_index as u32))
            })
            .map(|(i, _)| i)
            .collect();
        let shares: Money = members.iter().map(|&i| bill.sims[i].overage).sum();
        assert_eq!(
            shares, totals.overage,
            "pool shares add up to the pool's overage"
        );
        for &i in &members {
            if fleet.sims[i].usage.0 <= bill.sims[i].allowance.0 {
                assert_eq!(bill.sims[i].overage, Money::ZERO, "no share without excess");
            }
        }
        if let Some(terms) = fleet.pools[pool_index].overage {
            let expected = terms
                .rate
                .mul_ratio_round(totals.blocks as i64, 1, decimals);
            if fleet.settings.charge_type.bills_overage() {
                assert_eq!(totals.overage, expected);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn per_sim_lines_always_sum_to_the_totals(
        plans in prop::collection::vec(plan_spec(), 1..8),
        sims in prop::collection::vec(sim_spec(), 1..60),
        charge_type in prop::sample::select(vec!["rate-and-overage", "overage-only", "rate-only"]),
        proration in any::<bool>(),
        decimals in 0u32..=4,
    ) {
        let settings = SettingsInput {
            period_end: Some("2026-11-01T00:00".into()),
            as_of: Some("2026-11-05T00:00".into()),
            charge_type: Some(charge_type.into()),
            proration: Some(proration.to_string()),
            currency_decimals: Some(decimals.to_string()),
            ..SettingsInput::default()
        };
        let fleet = fleet_of(&plans, &sims, &settings);
        let current: Vec<PlanId> = fleet.sims.iter().map(|s| s.current_plan).collect();
        assert_reconciles(&fleet, &current, &cost::bill(&fleet, &current));
        let moved: Vec<PlanId> = sims.iter().map(|s| PlanId((s.assigned % plans.len()) as u32)).collect();
        assert_reconciles(&fleet, &moved, &cost::bill(&fleet, &moved));
    }
}

const VALID_SIMS: &str = "iccid,current_plan,usage_mb,usage_as_of,activated_on,status,sms_count\n\
1,S5,3.5,2026-11-20T10:00,2025-01-10,active,4\n\
2,P100,\"12.25\",2026-11-20T10:00,2026-11-12,deactivated,0\n";
const VALID_PLANS: &str =
    "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id\n\
S5,2.50,5,0.50,1,false,\nP100,8.00,100,2.00,10,true,A\n";

/// The files of the load tests: `eligibility`, when given, as a JSON file.
fn files<'a>(sims: &'a [u8], plans: &'a [u8], eligibility: Option<&'a [u8]>) -> InputFiles<'a> {
    InputFiles {
        sims: SourceFile {
            name: "sims.csv",
            bytes: sims,
        },
        plans: SourceFile {
            name: "plans.csv",
            bytes: plans,
        },
        eligibility: eligibility.map(|bytes| SourceFile {
            name: "eligibility.json",
            bytes,
        }),
    }
}

fn load_settings() -> SettingsInput {
    SettingsInput {
        period_end: Some("2026-11-22T00:00".into()),
        as_of: Some("2026-11-20T12:00".into()),
        ..SettingsInput::default()
    }
}

/// Loads the files: either a fleet, or errors that each name a file and say what to do.
fn try_load(sims: &[u8], plans: &[u8], eligibility: Option<&[u8]>) {
    let files = files(sims, plans, eligibility);
    let settings = load_settings();
    if let Err(errors) = load(&files, &settings) {
        assert!(
            errors.errors().next().is_some(),
            "an Err carries at least one error"
        );
        for d in &errors.diagnostics.items {
            assert!(
                ["sims.csv", "plans.csv", "eligibility.json", "settings"]
                    .contains(&d.file.as_str()),
                "diagnostic names a file: {d}"
            );
            assert!(!d.message.is_empty() && !d.hint.is_empty(), "{d}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(sims in prop::collection::vec(any::<u8>(), 0..600), plans in prop::collection::vec(any::<u8>(), 0..300)) {
        try_load(&sims, &plans, Some(&sims));
    }

    #[test]
    fn damaged_files_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..12),
        damage_plans in any::<bool>(),
    ) {
        let mut bytes = if damage_plans { VALID_PLANS.as_bytes().to_vec() } else { VALID_SIMS.as_bytes().to_vec() };
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len().max(1));
            match kind {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        // Without an eligibility file, so that a surviving input loads into a fleet.
        if damage_plans {
            try_load(VALID_SIMS.as_bytes(), &bytes, None);
        } else {
            try_load(&bytes, VALID_PLANS.as_bytes(), None);
        }
    }
}

#[test]
fn the_valid_fixture_of_the_damage_test_loads() {
    let files = files(VALID_SIMS.as_bytes(), VALID_PLANS.as_bytes(), None);
    assert!(load(&files, &load_settings()).is_ok());
}
