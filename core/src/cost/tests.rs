//! One table per pricing rule of DESIGN §2, each row with its hand arithmetic.
//!
//! Fleets are written as CSV text, as a user would. Unless a row says otherwise: period
//! 2026-10-01 → 2026-11-01 (31 days, UTC) and the run is after it ends (no projection).

use super::*;
use crate::settings::SettingsInput;
use crate::test_fleet::fleet_from_text;

const PLANS_HEADER: &str =
    "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate\n";
const SIMS_HEADER: &str = "iccid,current_plan,usage_mb,sms_count,activated_on,status,usage_as_of\n";

fn closed_period() -> SettingsInput {
    SettingsInput {
        period_end: Some("2026-11-01T00:00".into()),
        as_of: Some("2026-11-02T00:00".into()),
        ..SettingsInput::default()
    }
}

/// Bills the fleet as it stands. `plans` and `sims` are rows without their header.
fn bill_of(plans: &str, sims: &str, settings: SettingsInput) -> (Fleet, Bill) {
    let fleet = fleet_from_text(
        &format!("{PLANS_HEADER}{plans}"),
        &format!("{SIMS_HEADER}{sims}"),
        None,
        &settings,
    );
    let bill = current(&fleet);
    (fleet, bill)
}

fn cents(bill_amount: Money) -> i64 {
    bill_amount.minor_units(2)
}

/// (plans, sims, expected per-SIM (base, overage, sms) in cents, the arithmetic)
type Case<'a> = (&'a str, &'a str, &'a [(i64, i64, i64)], &'a str);

fn check(cases: &[Case<'_>], settings: impl Fn() -> SettingsInput) {
    for (plans, sims, want, how) in cases {
        let (_, bill) = bill_of(plans, sims, settings());
        let got: Vec<(i64, i64, i64)> = bill
            .sims
            .iter()
            .map(|c| (cents(c.base), cents(c.overage), cents(c.sms)))
            .collect();
        assert_eq!(&got, want, "{how}");
        let total: i64 = want.iter().map(|(b, o, s)| b + o + s).sum();
        assert_eq!(cents(bill.total()), total, "{how}: total");
    }
}

#[test]
fn non_pooled_overage_is_block_rounded() {
    check(
        &[
            (
                "S,5,100,1,1,false,,0\n",
                "1,S,80,0\n",
                &[(500, 0, 0)],
                "80 ≤ 100 MB: $5 base, no overage",
            ),
            (
                "S,5,100,1,1,false,,0\n",
                "1,S,100,0\n",
                &[(500, 0, 0)],
                "exactly the allowance: no overage",
            ),
            (
                "S,5,100,1,1,false,,0\n",
                "1,S,102.5,0\n",
                &[(500, 300, 0)],
                "2.5 MB over, 1 MB blocks: ceil(2.5) = 3 × $1",
            ),
            (
                "S,5,100,1,1,false,,0\n",
                "1,S,100.000001,0\n",
                &[(500, 100, 0)],
                "one byte over still starts a block: 1 × $1",
            ),
            (
                "S,5,100,2,10,false,,0\n",
                "1,S,101,0\n",
                &[(500, 200, 0)],
                "1 MB over, 10 MB blocks: 1 × $2",
            ),
            (
                "S,5,100,2,10,false,,0\n",
                "1,S,120.5,0\n",
                &[(500, 600, 0)],
                "20.5 MB over / 10: ceil = 3 × $2 = $6",
            ),
            (
                "S,5,0.5,0.0025,0.001,false,,0\n",
                "1,S,0.503,0\n",
                &[(500, 1, 0)],
                "3 KB-ish blocks × $0.0025 = $0.0075 → $0.01",
            ),
        ],
        closed_period,
    );
}

#[test]
fn unlimited_plans_have_no_overage() {
    check(
        &[
            (
                "U,45,0,,,false,,0\n",
                "1,U,20480,0\n",
                &[(4500, 0, 0)],
                "no overage rate: 20 GB costs the $45 charge only",
            ),
            (
                "U,45,10,,5,false,,0\n",
                "1,U,999,0\n",
                &[(4500, 0, 0)],
                "a block size without a rate is still unlimited",
            ),
            (
                "U,45,10,0,1,false,,0\n",
                "1,U,999,0\n",
                &[(4500, 0, 0)],
                "a zero rate bills nothing",
            ),
            (
                "U,45,10,,,true,,0\n",
                "1,U,999,0\n2,U,999,0\n",
                &[(4500, 0, 0), (4500, 0, 0)],
                "a pooled unlimited plan",
            ),
        ],
        closed_period,
    );
}

#[test]
fn pooled_plans_share_one_allowance_and_split_overage_by_excess() {
    check(
        &[
            (
                "P,8,100,0.10,1,true,,0\n",
                "1,P,10,0\n2,P,50,0\n3,P,290,0\n",
                &[(800, 0, 0), (800, 0, 0), (800, 500, 0)],
                "350 MB on 3 × 100 MB: 50 blocks × $0.10 = $5, all to SIM 3, the only one over its own 100 MB",
            ),
            (
                "P,8,100,0.10,1,true,,0\n",
                "1,P,10,0\n2,P,150,0\n3,P,150,0\n",
                &[(800, 0, 0), (800, 50, 0), (800, 50, 0)],
                "310 on 300 MB: 10 blocks = $1.00; excess 50 : 50 → $0.50 each",
            ),
            (
                "P,8,100,0.50,1,true,,0\n",
                "1,P,101,0\n2,P,101,0\n3,P,100.5,0\n",
                &[(800, 60, 0), (800, 60, 0), (800, 30, 0)],
                "302.5 on 300 MB: ceil(2.5) = 3 blocks × $0.50 = $1.50; excess 1 : 1 : 0.5 → 60, 60, 30 cents",
            ),
            (
                "P,8,100,0.10,1,true,,0\n",
                "1,P,10,0\n2,P,50,0\n",
                &[(800, 0, 0), (800, 0, 0)],
                "60 MB inside 200 MB: no overage",
            ),
        ],
        closed_period,
    );
}

#[test]
fn largest_remainder_makes_printed_cents_reconcile() {
    check(
        &[
            (
                "P,0,100,0.10,10,true,,0\n",
                "1,P,110,0\n2,P,110,0\n3,P,110,0\n",
                &[(0, 10, 0), (0, 10, 0), (0, 10, 0)],
                "330 on 300 MB: 3 blocks of 10 MB × $0.10 = $0.30, 10 cents each",
            ),
            (
                "P,0,100,1,100,true,,0\n",
                "1,P,110,0\n2,P,110,0\n3,P,110,0\n",
                &[(0, 34, 0), (0, 33, 0), (0, 33, 0)],
                "30 MB over: one 100 MB block = $1.00 in thirds = 33.33 each; the cent left goes to the \
                 first (equal remainders: earlier first) → 34, 33, 33",
            ),
            (
                "P,0,100,1,100,true,,0\n",
                "1,P,101,0\n2,P,102,0\n3,P,127,0\n",
                &[(0, 3, 0), (0, 7, 0), (0, 90, 0)],
                "30 MB over → $1.00 split 1 : 2 : 27 = 3.33, 6.67, 90 → floors 3, 6, 90 and the cent left \
                 to the largest remainder (0.67) → 3, 7, 90",
            ),
        ],
        closed_period,
    );
}

#[test]
fn cross_plan_pools_share_one_allowance() {
    check(
        &[
            (
                "A,8,100,2,10,true,POOL,0\nB,20,500,2,10,true,POOL,0\n",
                "1,A,400,0\n2,B,250,0\n",
                // 650 MB on 100 + 500 = 600 MB: 50 MB over = 5 blocks × $2 = $10; only SIM 1 is
                // over its own allowance (300 MB): all $10 to it.
                &[(800, 1000, 0), (2000, 0, 0)],
                "one pool over two plans",
            ),
            (
                "A,8,100,2,10,true,,0\nB,20,500,2,10,true,,0\n",
                "1,A,400,0\n2,B,250,0\n",
                // No pool id: one pool per plan. A: 400 on 100 → 30 blocks × $2 = $60. B: inside.
                &[(800, 6000, 0), (2000, 0, 0)],
                "pooled plans without a pool id pool only with themselves",
            ),
            (
                "A,8,100,2,10,true,POOL,0\nN,5,50,1,1,false,,0\n",
                "1,A,90,0\n2,N,60,0\n",
                // The non-pooled SIM does not share A's 10 MB headroom: 10 blocks × $1 = $10.
                &[(800, 0, 0), (500, 1000, 0)],
                "a non-pooled plan is a pool per SIM",
            ),
        ],
        closed_period,
    );
}

#[test]
fn proration_scales_charge_and_allowance() {
    check(
        &[
            (
                "S,10,100,1,1,false,,0\n",
                "1,S,20,0,2026-10-25\n",
                // Activated 25 Oct: 25..31 Oct = 7 of 31 days. $10 × 7/31 = $2.258 → $2.26.
                // Allowance 100 × 7/31 = 22.58 MB, so 20 MB is inside it.
                &[(226, 0, 0)],
                "prorated base, usage within the prorated allowance",
            ),
            (
                "S,10,100,1,1,false,,0\n",
                "1,S,25,0,2026-10-25\n",
                // 25 − 22.58 = 2.42 MB over → 3 blocks × $1.
                &[(226, 300, 0)],
                "the prorated allowance is what overage is measured against",
            ),
            (
                "S,10,100,1,1,false,,0\n",
                "1,S,20,0,2026-10-01\n2,S,20,0,2025-06-30\n",
                &[(1000, 0, 0), (1000, 0, 0)],
                "activated on the first day or before the period: the whole month",
            ),
            (
                "S,10,100,1,1,false,,0\n",
                "1,S,0,0,2026-10-31\n",
                // One day: $10 × 1/31 = $0.3226 → $0.32.
                &[(32, 0, 0)],
                "activated on the last day: one day",
            ),
            (
                "P,31,310,1,1,true,,0\n",
                "1,P,0,0,2026-10-22\n2,P,315,0\n",
                // SIM 1: 10 of 31 days → $10.00 and 100 MB. Pool allowance 100 + 310 = 410 ≥ 315.
                &[(1000, 0, 0), (3100, 0, 0)],
                "a prorated SIM brings its prorated allowance to the pool",
            ),
        ],
        closed_period,
    );
    check(
        &[(
            "S,10,100,1,1,false,,0\n",
            "1,S,25,0,2026-10-25\n",
            &[(1000, 0, 0)],
            "proration off: full charge, full allowance",
        )],
        || SettingsInput {
            proration: Some("off".into()),
            ..closed_period()
        },
    );
}

#[test]
fn charge_types_decide_what_is_billed() {
    let plans = "S,5,100,1,1,false,,0.05\n";
    let sims = "1,S,102.5,3\n";
    // Base $5, overage ceil(2.5) × $1 = $3, SMS 3 × $0.05 = $0.15.
    for (charge_type, want) in [
        ("rate-and-overage", (500, 300, 15)),
        ("overage-only", (0, 300, 15)),
        ("rate-only", (500, 0, 15)),
    ] {
        check(&[(plans, sims, &[want], charge_type)], || SettingsInput {
            charge_type: Some(charge_type.into()),
            ..closed_period()
        });
    }
}

#[test]
fn sms_is_priced_per_message_and_rounded_per_sim() {
    check(
        &[
            (
                "S,0,0,,,false,,0.05\n",
                "1,S,0,7\n",
                &[(0, 0, 35)],
                "7 × $0.05 = $0.35",
            ),
            (
                "S,0,0,,,false,,0.0025\n",
                "1,S,0,3\n",
                &[(0, 0, 1)],
                "3 × $0.0025 = $0.0075 → $0.01",
            ),
            (
                "S,0,0,,,false,,0.0025\n",
                "1,S,0,1\n",
                &[(0, 0, 0)],
                "1 × $0.0025 = $0.0025 → $0.00",
            ),
            (
                "S,0,0,,,false,,\n",
                "1,S,0,100\n",
                &[(0, 0, 0)],
                "no SMS rate: free",
            ),
        ],
        closed_period,
    );
}

#[test]
fn currency_without_minor_units_rounds_to_whole_units() {
    let (_, bill) = bill_of(
        "S,1000,100,7.5,1,false,,0\n",
        "1,S,101,0,2026-10-25\n",
        SettingsInput {
            currency_decimals: Some("0".into()),
            ..closed_period()
        },
    );
    // ¥1000 × 7/31 = 225.8 → 226; allowance 22.58 MB, 78.42 over → 79 × 7.5 = 592.5 → 593.
    assert_eq!(bill.sims[0].base, Money::parse("226").unwrap_or_default());
    assert_eq!(
        bill.sims[0].overage,
        Money::parse("593").unwrap_or_default()
    );
}

#[test]
fn usage_is_projected_to_the_period_end() {
    // Period 1 Oct → 1 Nov (31 days = 2,678,400 s), run on 16 Oct 12:00 (15.5 days in).
    let open = || SettingsInput {
        period_end: Some("2026-11-01T00:00".into()),
        as_of: Some("2026-10-16T12:00".into()),
        ..SettingsInput::default()
    };
    let cases: &[(&str, &str, &str)] = &[
        // 100 MB at 15.5 of 31 days → × 2 × 1.01 = 202 MB.
        (
            "1,S,100,0,,active,2026-10-16T12:00\n",
            "202",
            "projected with the 1 % margin",
        ),
        // No usage_as_of: read at the run's time, the same here.
        (
            "1,S,100,0,,active,\n",
            "202",
            "the run's time stands in for a missing read time",
        ),
        // Read at 8 Oct 18:00 = 7.75 days: × 4 × 1.01 = 404 MB.
        (
            "1,S,100,0,,active,2026-10-08T18:00\n",
            "404",
            "scaled by the time elapsed at the read",
        ),
        (
            "1,S,100,0,,deactivated,2026-10-16T12:00\n",
            "100",
            "deactivated: not projected",
        ),
        (
            "1,S,100,0,,retired,2026-10-16T12:00\n",
            "100",
            "retired: not projected",
        ),
        (
            "1,S,100,0,,active,2026-09-20T00:00\n",
            "100",
            "read before the period: not projected",
        ),
    ];
    for (sims, want_mb, how) in cases {
        let (fleet, _) = bill_of("S,5,100,1,1,false,,0\n", sims, open());
        assert_eq!(fleet.sims[0].usage.to_mb_string(), *want_mb, "{how}");
        assert_eq!(fleet.sims[0].usage_reported, Bytes::from_mb(100), "{how}");
    }
    let variants: [(SettingsInput, &str, &str); 3] = [
        (
            SettingsInput {
                margin_pct: Some("0".into()),
                ..open()
            },
            "200",
            "no margin: × 2",
        ),
        (
            SettingsInput {
                projection: Some("off".into()),
                ..open()
            },
            "100",
            "projection off",
        ),
        (closed_period(), "100", "closed period: final usage"),
    ];
    for (settings, want_mb, how) in variants {
        let (fleet, _) = bill_of(
            "S,5,100,1,1,false,,0\n",
            "1,S,100,0,,active,2026-10-16T12:00\n",
            settings,
        );
        assert_eq!(fleet.sims[0].usage.to_mb_string(), want_mb, "{how}");
    }
}

#[test]
fn usage_bytes_take_precedence_over_megabytes() {
    let fleet = fleet_from_text(
        &format!("{PLANS_HEADER}S,5,1,1,1,false,,0\n"),
        "iccid,current_plan,usage_mb,usage_bytes\n1,S,999,1048577\n2,S,2,\n",
        None,
        &closed_period(),
    );
    // 1,048,577 bytes = 1 MB + 1 byte: one block over. The empty usage_bytes falls back to MB.
    assert_eq!(fleet.sims[0].usage, Bytes(1_048_577));
    assert_eq!(fleet.sims[1].usage, Bytes::from_mb(2));
    let bill = current(&fleet);
    assert_eq!(cents(bill.sims[0].overage), 100);
}

/// The bill of a slim fleet is the fleet's, and its totals with each SIM's overage are the
/// bill's without its per-SIM charges — with pools shared by many SIMs.
#[test]
fn a_slim_fleets_bill_and_bare_totals_are_the_fleets() {
    let fleet = crate::optimize::tests::synthetic_fleet_of(3_000, 2, 3, 6);
    let slim = crate::fleet::SlimFleet::of(&fleet);
    let moved = crate::optimize::Job::new(&fleet, Default::default())
        .run()
        .plans;
    // Every SIM that may on its smallest pooled plan: every pool over its allowance.
    let squeezed: Vec<PlanId> = fleet
        .sims
        .iter()
        .map(|sim| {
            let pooled = fleet
                .eligible_plans(sim)
                .into_iter()
                .filter(|&p| matches!(fleet.plan(p).pooling, Pooling::Shared(_)));
            pooled
                .min_by_key(|&p| fleet.plan(p).included)
                .unwrap_or(sim.current_plan)
        })
        .collect();
    for (plans, over) in [(current_plans(&fleet), 1), (moved, 0), (squeezed, 3)] {
        let whole = bill(&fleet, &plans);
        let pools_over = whole
            .pools
            .iter()
            .filter(|p| p.overage > Money::ZERO)
            .count();
        assert!(pools_over >= over, "{pools_over} pools over");
        assert_eq!(bill(&slim, &plans), whole);
        let (totals, overages) = bill_totals(&slim, &plans);
        let overage: Vec<Money> = whole.sims.iter().map(|c| c.overage).collect();
        assert_eq!(overages, overage);
        assert_eq!(
            totals,
            Bill {
                sims: Vec::new(),
                ..whole
            }
        );
    }
}
