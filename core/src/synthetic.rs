//! Realistic synthetic fleets for demos, tests and benchmarks, written as the interchange CSV
//! files. Deterministic for a seed and identical on every platform (integer arithmetic only).
//!
//! The shape follows real IoT fleets: most SIMs use almost nothing, a heavy tail uses a lot;
//! each communication plan (device family) may use a ladder of plans of one carrier family,
//! some pooled (one pool shared by the family's pooled plans in even families, a pool per
//! pooled plan in odd ones), some per-SIM, one unlimited; SIMs sit on plans chosen
//! mostly the smallest plan that covers them, often one size off, now and then anything (the
//! overpayment simopt finds); a share was activated inside the period.

use std::io::{self, Write};

use chrono::{Duration, NaiveDateTime};

use crate::money::BYTES_PER_MB;
use crate::random::SplitMix64;

/// What fleet to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSpec {
    /// Number of SIMs.
    pub sims: u64,
    /// Communication plans (device families); each has its own ladder of plans.
    pub comm_plans: u32,
    /// Plans per communication plan (at least 2).
    pub plans_per_comm_plan: u32,
    /// Per mille of SIMs activated inside the period (prorated).
    pub prorated_per_mille: u64,
    /// Seed.
    pub seed: u64,
    /// Local end of the billing period.
    pub period_end: NaiveDateTime,
    /// When usage was read (a little before this, per SIM).
    pub as_of: NaiveDateTime,
}

/// The communication plan names used, in order (more are numbered).
const FAMILIES: &[&str] = &[
    "TELEMETRY",
    "TRACKER",
    "CAMERA",
    "POS",
    "METER",
    "GATEWAY",
    "WEARABLE",
    "VENDING",
];

/// Plan sizes in MB along a ladder; a ladder of n plans takes n of these spread over the range.
const SIZES_MB: &[u64] = &[1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000];

/// Sizes for ladders longer than [`SIZES_MB`] (up to 56 plans).
const MORE_SIZES_MB: &[u64] = &[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 16, 18, 20, 22, 25, 28, 30, 35, 40, 45, 50, 60, 70,
    75, 80, 90, 100, 120, 125, 150, 175, 200, 250, 300, 350, 400, 450, 500, 600, 700, 750, 800,
    900, 1_000, 1_200, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 7_500, 10_000,
];

impl FleetSpec {
    /// Whether the spec describes a fleet this generator makes: at least one communication plan,
    /// 2 to 56 plans each, at most 1,000 per mille prorated. The error says which is wrong, in
    /// the command line's terms.
    pub fn check(&self) -> Result<(), String> {
        let most = MORE_SIZES_MB.len() as u32;
        if self.comm_plans == 0 {
            return Err("--comm-plans must be at least 1".into());
        }
        if !(2..=most).contains(&self.plans_per_comm_plan) {
            return Err(format!(
                "--plans-per-comm-plan must be from 2 to {most} (it is {})",
                self.plans_per_comm_plan
            ));
        }
        if self.prorated_per_mille > 1000 {
            return Err("--prorated-pct must be at most 100".into());
        }
        Ok(())
    }

    /// Plans in all.
    pub fn plan_count(&self) -> u32 {
        self.comm_plans * self.plans_per_comm_plan
    }

    fn family(&self, index: u32) -> String {
        match FAMILIES.get(index as usize) {
            Some(name) => (*name).to_owned(),
            None => format!("FAMILY{:02}", index + 1),
        }
    }

    /// The ladder of plans one communication plan may use, smallest first; the last is unlimited.
    fn ladder(&self, family: u32) -> Vec<LadderPlan> {
        let n = self
            .plans_per_comm_plan
            .clamp(2, MORE_SIZES_MB.len() as u32) as usize;
        let sizes = if n <= SIZES_MB.len() {
            SIZES_MB
        } else {
            MORE_SIZES_MB
        };
        let name = self.family(family);
        let mut plans = Vec::with_capacity(n);
        for step in 0..n {
            let last = step + 1 == n;
            // Spread the n plans over the size list; the last plan of a ladder is unlimited.
            let size = sizes[(step * (sizes.len() - 1)) / (n - 1).max(1)];
            // Price grows slower than size: cents = 150 + 60 × sqrt-ish(size); integer only.
            let cents = 150 + 60 * integer_sqrt(size * 100) / 10 + 25 * u64::from(family);
            // Overage per MB falls as plans grow (cents); a shared pool has one overage rate,
            // that of its smallest plan (step 1).
            let pooled = !last && step % 2 == 1;
            let shared = pooled && family % 2 == 0;
            let rate_size = if shared {
                sizes[(sizes.len() - 1) / (n - 1).max(1)]
            } else {
                size
            };
            let overage = (100 / (1 + integer_sqrt(rate_size))).max(2);
            plans.push(LadderPlan {
                code: format!("{name}-{size}MB{}", if last { "-UNL" } else { "" }),
                name: if last {
                    format!("{name} unlimited")
                } else {
                    format!("{name} {size} MB")
                },
                included_mb: size,
                cents: if last { cents * 3 } else { cents },
                overage_cents: if last { None } else { Some(overage) },
                pooled,
                pool: if shared {
                    format!("POOL-{name}")
                } else {
                    String::new()
                },
            });
        }
        plans
    }

    /// Writes `plans.csv`.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_plans(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "plan_id,name,monthly_charge,included_mb,overage_rate,overage_block_mb,pooled,pool_id,sms_rate,plan_type"
        )?;
        for family in 0..self.comm_plans {
            for p in self.ladder(family) {
                let (rate, block) = match p.overage_cents {
                    Some(c) => (cents(c), "1".to_owned()),
                    None => (String::new(), String::new()),
                };
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},0.05,M2M",
                    p.code,
                    p.name,
                    cents(p.cents),
                    p.included_mb,
                    rate,
                    block,
                    p.pooled,
                    p.pool
                )?;
            }
        }
        Ok(())
    }

    /// Writes `eligibility.csv`: each communication plan may use its own ladder.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_eligibility(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "comm_plan,plan_id")?;
        for family in 0..self.comm_plans {
            let comm = format!("CP-{}", self.family(family));
            for p in self.ladder(family) {
                writeln!(out, "{comm},{}", p.code)?;
            }
        }
        Ok(())
    }

    /// Writes `sims.csv`.
    ///
    /// # Errors
    /// Whatever the writer returns.
    pub fn write_sims(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "iccid,msisdn,comm_plan,current_plan,status,activated_on,usage_mb,usage_as_of,sms_count,plan_type"
        )?;
        let mut rng = SplitMix64::new(self.seed);
        let ladders: Vec<Vec<LadderPlan>> = (0..self.comm_plans).map(|f| self.ladder(f)).collect();
        let period_start = self.period_end - chrono::Months::new(1);
        let period_days = (self.period_end.date() - period_start.date())
            .num_days()
            .max(1) as u64;
        let iccid_base = 8_901_260_000_000_000_000u64 + (self.seed % 1_000) * 10_000_000_000;
        for i in 0..self.sims {
            let family =
                (rng.below(u64::from(self.comm_plans) * 10) % u64::from(self.comm_plans)) as usize;
            let ladder = &ladders[family];
            let usage_bytes = usage_bytes(&mut rng);
            // Current plan: usually the smallest that covers the SIM (what a careful person picks
            // without looking at pools), often one size off either way, now and then anything.
            let fit = ladder
                .iter()
                .position(|p| p.included_mb * BYTES_PER_MB >= usage_bytes)
                .unwrap_or(ladder.len() - 1);
            let last = ladder.len() as i64 - 1;
            let current = match rng.below(100) {
                0..=54 => fit,
                55..=74 => (fit as i64 - 1).clamp(0, last) as usize,
                75..=94 => (fit as i64 + 1).clamp(0, last) as usize,
                _ => rng.below(ladder.len() as u64) as usize,
            };
            let status = match rng.below(100) {
                0..=91 => "active",
                92..=96 => "deactivated",
                _ => "test_ready",
            };
            let activated_on = if rng.chance(self.prorated_per_mille) {
                period_start.date() + Duration::days(rng.between(1, period_days - 1) as i64)
            } else {
                period_start.date() - Duration::days(rng.between(1, 900) as i64)
            };
            let read_at = self.as_of - Duration::minutes(rng.below(48 * 60) as i64);
            let sms = if rng.chance(200) {
                rng.between(1, 60)
            } else {
                0
            };
            writeln!(
                out,
                "{},1{:010},CP-{},{},{},{},{},{},{},M2M",
                iccid_base + i,
                (self.seed.wrapping_mul(7919) + i * 7) % 10_000_000_000,
                self.family(family as u32),
                ladder[current].code,
                status,
                activated_on,
                mb_text(usage_bytes),
                read_at.format("%Y-%m-%dT%H:%M"),
                sms
            )?;
        }
        Ok(())
    }
}

struct LadderPlan {
    code: String,
    name: String,
    included_mb: u64,
    cents: u64,
    overage_cents: Option<u64>,
    pooled: bool,
    pool: String,
}

/// Heavy-tailed usage: a third near zero, a long tail up to tens of GB.
fn usage_bytes(rng: &mut SplitMix64) -> u64 {
    const KB: u64 = 1024;
    let (low, high) = match rng.below(1000) {
        0..=349 => (0, 200 * KB),
        350..=599 => (200 * KB, 5 * BYTES_PER_MB),
        600..=799 => (5 * BYTES_PER_MB, 50 * BYTES_PER_MB),
        800..=929 => (50 * BYTES_PER_MB, 400 * BYTES_PER_MB),
        930..=989 => (400 * BYTES_PER_MB, 2_500 * BYTES_PER_MB),
        _ => (2_500 * BYTES_PER_MB, 20_000 * BYTES_PER_MB),
    };
    rng.between(low, high)
}

/// Bytes as MB text with up to six decimals (rounded), as carrier exports show it.
fn mb_text(bytes: u64) -> String {
    let micro_mb =
        (u128::from(bytes) * 1_000_000 + u128::from(BYTES_PER_MB) / 2) / u128::from(BYTES_PER_MB);
    let whole = micro_mb / 1_000_000;
    let frac = micro_mb % 1_000_000;
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:06}")
            .trim_end_matches('0')
            .to_owned()
    }
}

fn cents(c: u64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

fn integer_sqrt(n: u64) -> u64 {
    let mut x = (n as f64).sqrt() as u64;
    // Correct any floating-point error so the result is exact on every platform.
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mb_text_rounds_to_six_decimals() {
        assert_eq!(mb_text(0), "0");
        assert_eq!(mb_text(BYTES_PER_MB), "1");
        assert_eq!(mb_text(BYTES_PER_MB / 2), "0.5");
        assert_eq!(mb_text(1), "0.000001");
    }

    #[test]
    fn integer_sqrt_is_exact() {
        for n in [
            0u64,
            1,
            2,
            3,
            4,
            15,
            16,
            17,
            999_999,
            1_000_000,
            u32::MAX as u64,
        ] {
            let r = integer_sqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "{n}");
        }
    }
}
