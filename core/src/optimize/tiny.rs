//! Test support: tiny fleets (pooled, cross-pooled, unlimited, prorated plans; three
//! communication plans with different eligible plans) and the brute-force optimum over them.

use proptest::prelude::*;

use super::model::{Assignment, Model};
use crate::fleet::Fleet;
use crate::settings::SettingsInput;
use crate::test_fleet::fleet_from_text;

/// A fleet from plan and SIM rows (without headers), in a closed period (no projection).
/// Plans: `plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate`;
/// SIMs: `iccid,comm_plan,current_plan,usage_mb,sms_count,activated_on`.
pub(crate) fn fleet(plans: &str, sims: &str, eligibility: Option<&str>) -> Fleet {
    let plans = format!(
        "plan_id,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate\n{plans}"
    );
    let sims = format!("iccid,comm_plan,current_plan,usage_mb,sms_count,activated_on\n{sims}");
    let eligibility = eligibility.map(|e| format!("comm_plan,plan_id\n{e}"));
    let settings = SettingsInput {
        period_end: Some("2026-11-01T00:00".into()),
        as_of: Some("2026-11-02T00:00".into()),
        ..SettingsInput::default()
    };
    fleet_from_text(&plans, &sims, eligibility.as_deref(), &settings)
}

/// The cheapest bill over every assignment (each SIM on one of its options).
pub(crate) fn brute_force(model: &Model) -> i64 {
    brute_force_where(model, |_| true)
}

/// The lowest objective over every assignment that `keep` accepts.
pub(crate) fn brute_force_where(model: &Model, keep: impl Fn(&Assignment) -> bool) -> i64 {
    let n = model.sims.len();
    let sizes: Vec<u32> = (0..n).map(|i| model.options_of(i).len() as u32).collect();
    let mut choice = vec![0u32; n];
    let mut best = i64::MAX;
    loop {
        let a = Assignment::new(model, choice.clone());
        if keep(&a) {
            best = best.min(a.cost(model));
        }
        let mut k = 0;
        loop {
            if k == n {
                return best;
            }
            choice[k] += 1;
            if choice[k] < sizes[k] {
                break;
            }
            choice[k] = 0;
            k += 1;
        }
    }
}

/// A random plan of a tiny fleet: charge, MB, overage (rate in cents, block MB), and pooling
/// (0 = per SIM, 1 = pooled alone, 2.. = a shared pool id).
#[derive(Debug, Clone)]
pub(crate) struct TinyPlan {
    pub charge: u32,
    pub mb: u32,
    pub rate: Option<(u32, u32)>,
    pub pool: u8,
}

pub(crate) fn tiny_plan() -> impl Strategy<Value = TinyPlan> {
    (
        0u32..40,
        0u32..300,
        prop::option::of((1u32..300, 1u32..50)),
        0u8..4,
    )
        .prop_map(|(charge, mb, rate, pool)| TinyPlan {
            charge,
            mb,
            rate,
            pool,
        })
}

/// Random SIMs of a tiny fleet: (usage MB, current plan, prorated, communication plan 0–2).
pub(crate) fn tiny_sims() -> impl Strategy<Value = Vec<(u32, usize, bool, u8)>> {
    prop::collection::vec((0u32..600, 0usize..4, any::<bool>(), 0u8..3), 1..=8)
}

/// The fleet of `plans` and `sims`: communication plan C0 may use every plan, C1 the first two,
/// C2 only the first; plans sharing a pool id share the first one's overage terms.
pub(crate) fn tiny_fleet(plans: &[TinyPlan], sims: &[(u32, usize, bool, u8)]) -> Fleet {
    let mut p = String::new();
    for (k, plan) in plans.iter().enumerate() {
        let rate = if plan.pool >= 2 {
            plans
                .iter()
                .find(|q| q.pool == plan.pool)
                .and_then(|q| q.rate)
        } else {
            plan.rate
        };
        let (r, b) = rate.map_or((String::new(), String::new()), |(r, b)| {
            (format!("{}.{:02}", r / 100, r % 100), b.to_string())
        });
        let pool_id = if plan.pool >= 2 {
            format!("X{}", plan.pool)
        } else {
            String::new()
        };
        p.push_str(&format!(
            "P{k},{},{},{r},{b},{},{pool_id},0\n",
            plan.charge,
            plan.mb,
            plan.pool > 0
        ));
    }
    let mut s = String::new();
    let mut e = String::new();
    for (k, (usage, plan, prorated, comm)) in sims.iter().enumerate() {
        let activated = if *prorated { "2026-10-20" } else { "" };
        s.push_str(&format!(
            "{k},C{comm},P{},{usage},0,{activated}\n",
            plan % plans.len()
        ));
    }
    for (k, _) in plans.iter().enumerate() {
        e.push_str(&format!("C0,P{k}\n"));
        if k < 2 {
            e.push_str(&format!("C1,P{k}\n"));
        }
        if k < 1 {
            e.push_str(&format!("C2,P{k}\n"));
        }
    }
    fleet(&p, &s, Some(&e))
}
