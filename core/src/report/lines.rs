//! One SIM's line in a report: its usage, its plan now and after, what it costs on each, and why
//! it moves. The Excel report's Assignments sheet and the CSV export both print these.

use std::fmt;

use crate::cost::{LineRules, SimCharge};
use crate::fleet::{Fleet, Plan, PlanId, Pooling, Sim};
use crate::money::{Money, BYTES_PER_MB};

use super::Report;

/// One SIM as a report prints it.
#[derive(Debug, Clone, Copy)]
pub struct SimLine<'a> {
    /// The SIM.
    pub sim: &'a Sim,
    /// Its communication plan's name (empty when unknown).
    pub comm_plan: &'a str,
    /// The plan it is on now.
    pub current_plan: PlanId,
    /// The plan it ends on (the current one in a report of the current bill).
    pub plan: PlanId,
    /// What it is billed on that plan.
    pub charge: SimCharge,
    /// What it is billed now.
    pub current: SimCharge,
    /// It must keep its plan (its own or its plan's `locked` flag).
    pub locked: bool,
}

impl<'a> SimLine<'a> {
    /// The line of SIM `index` in `report`, from the fleet and the bills in memory.
    pub(crate) fn of(report: &Report<'a>, index: usize) -> Self {
        SimLine::new(
            report.fleet,
            &report.fleet.sims[index],
            report.plan_of(index),
            report.bill().sims[index],
            report.current.sims[index],
        )
    }

    /// The line of `sim`, of `fleet` (its plans, names and locks), ending on `plan`: billed
    /// `charge` there and `current` on its current plan.
    pub fn new(
        fleet: &'a Fleet,
        sim: &'a Sim,
        plan: PlanId,
        charge: SimCharge,
        current: SimCharge,
    ) -> Self {
        SimLine {
            sim,
            comm_plan: sim
                .comm_plan
                .and_then(|c| fleet.comm_plans.get(c.0 as usize))
                .map_or("", String::as_str),
            current_plan: sim.current_plan,
            plan,
            charge,
            current,
            locked: fleet.is_locked(sim),
        }
    }

    /// Its bill on the plan it ends on.
    pub fn cost(&self) -> Money {
        self.charge.total()
    }

    /// Its bill now.
    pub fn current_cost(&self) -> Money {
        self.current.total()
    }

    /// What the move saves: cost now − cost after (negative when the SIM costs more, for the
    /// good of its pool).
    pub fn saving(&self) -> Money {
        self.current_cost() - self.cost()
    }

    /// Whether the SIM changes plan.
    pub fn changed(&self) -> bool {
        self.plan != self.current_plan
    }

    /// Why the SIM moves (or stays), in words a fleet manager can check.
    pub fn why(&self, fleet: &'a Fleet) -> Why<'a> {
        let old = fleet.plan(self.current_plan);
        let new = fleet.plan(self.plan);
        let pool_name = |p: &Plan| match p.pooling {
            Pooling::Shared(pool) => Some(fleet.pools[pool.0 as usize].name.as_str()),
            Pooling::PerSim => None,
        };
        if !self.changed() {
            return match pool_name(old) {
                _ if self.locked => Why::Locked,
                Some(pool) if self.saving() != Money::ZERO => Why::PoolShare {
                    pool,
                    falls: self.saving() > Money::ZERO,
                },
                _ => Why::Stays,
            };
        }
        match (pool_name(old), pool_name(new)) {
            (Some(a), Some(b)) if a == b => Why::WithinPool {
                pool: b,
                plan: &new.code,
                more_mb: (new.included.0 as f64 - old.included.0 as f64) / BYTES_PER_MB as f64,
            },
            (_, Some(pool)) => Why::JoinsPool { pool },
            (Some(pool), None) => Why::LeavesPool {
                pool,
                plan: &new.code,
            },
            (None, None) => {
                let rules = LineRules::of(&fleet.settings);
                let usage = self.sim.usage.0 as f64;
                let old_curve = Curve::of(&rules, old, self.sim);
                let new_curve = Curve::of(&rules, new, self.sim);
                break_even(&old_curve, &new_curve, usage, &new.code)
            }
        }
    }
}

/// Why a SIM moves to its new plan, or stays. `Display` gives the report's text (empty for a
/// SIM that simply stays).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Why<'a> {
    /// It keeps its plan.
    Stays,
    /// It must keep its plan.
    Locked,
    /// The new plan costs less up to `mb` MB of usage (the break-even), and the SIM uses less.
    CheaperBelow {
        /// The new plan's code.
        plan: &'a str,
        /// The break-even usage in MB.
        mb: f64,
    },
    /// The new plan costs less from `mb` MB of usage on (the break-even), and the SIM uses more.
    CheaperAbove {
        /// The new plan's code.
        plan: &'a str,
        /// The break-even usage in MB.
        mb: f64,
    },
    /// The new plan costs less at any usage.
    CheaperAtAnyUsage {
        /// The new plan's code.
        plan: &'a str,
    },
    /// The new plan costs less at exactly this usage (overage is billed in whole blocks).
    CheaperAtThisUsage {
        /// The new plan's code.
        plan: &'a str,
    },
    /// The SIM moves into a shared pool, whose allowance covers it more cheaply.
    JoinsPool {
        /// The pool's name.
        pool: &'a str,
    },
    /// The SIM moves between plans of one pool, changing the pool's allowance.
    WithinPool {
        /// The pool's name.
        pool: &'a str,
        /// The new plan's code.
        plan: &'a str,
        /// How much more the new plan includes (MB; negative: less, at a lower charge).
        more_mb: f64,
    },
    /// The SIM keeps its plan, and its share of its pool's overage changes with the moves of
    /// others.
    PoolShare {
        /// The pool's name.
        pool: &'a str,
        /// The share falls (it rises otherwise).
        falls: bool,
    },
    /// The SIM leaves a shared pool for a plan of its own.
    LeavesPool {
        /// The pool's name.
        pool: &'a str,
        /// The new plan's code.
        plan: &'a str,
    },
}

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Stays => Ok(()),
            Why::Locked => f.write_str("locked: keeps its plan"),
            Why::CheaperBelow { plan, mb } => {
                write!(f, "break-even {mb:.1} MB: {plan} is cheaper below it")
            }
            Why::CheaperAbove { plan, mb } => {
                write!(f, "break-even {mb:.1} MB: {plan} is cheaper above it")
            }
            Why::CheaperAtAnyUsage { plan } => write!(f, "{plan} is cheaper at any usage"),
            Why::CheaperAtThisUsage { plan } => {
                write!(f, "{plan} is cheaper at this usage (whole overage blocks)")
            }
            Why::JoinsPool { pool } => write!(f, "shares the allowance of pool {pool}"),
            Why::WithinPool {
                pool,
                plan,
                more_mb,
            } => {
                if *more_mb >= 0.0 {
                    write!(
                        f,
                        "{plan} adds {more_mb:.0} MB to the allowance of pool {pool}"
                    )
                } else {
                    let less = -more_mb;
                    write!(
                        f,
                        "{plan} is cheaper: pool {pool} can spare {less:.0} MB of allowance"
                    )
                }
            }
            Why::PoolShare { pool, falls } => write!(
                f,
                "its share of pool {pool}'s overage {}",
                if *falls { "falls" } else { "rises" }
            ),
            Why::LeavesPool { pool, plan } => {
                write!(f, "leaves pool {pool}: {plan}'s own allowance costs less")
            }
        }
    }
}

/// A SIM's bill on one plan as a function of its usage `u` in bytes, with overage as if billed
/// per byte: `fixed + slope × max(0, u − allowance)`. Good enough to say where two plans cross;
/// the report's amounts come from the bill, never from this.
#[derive(Debug, Clone, Copy)]
struct Curve {
    fixed: f64,
    allowance: f64,
    slope: f64,
}

impl Curve {
    fn of(rules: &LineRules, plan: &Plan, sim: &Sim) -> Self {
        let fixed = rules.base(plan, sim.active_days) + rules.sms(plan, u64::from(sim.sms_count));
        let slope = match plan.overage {
            Some(terms) if rules.bills_overage => terms.rate.to_f64() / terms.block.0 as f64,
            _ => 0.0,
        };
        Curve {
            fixed: fixed.to_f64(),
            allowance: rules.allowance(plan, sim.active_days).0 as f64,
            slope,
        }
    }

    fn at(&self, usage: f64) -> f64 {
        self.fixed + self.slope * (usage - self.allowance).max(0.0)
    }

    fn slope_from(&self, usage: f64) -> f64 {
        if usage >= self.allowance {
            self.slope
        } else {
            0.0
        }
    }
}

/// Where the new plan's curve crosses the old one's nearest to `usage`.
fn break_even<'a>(old: &Curve, new: &Curve, usage: f64, plan: &'a str) -> Why<'a> {
    let diff = |u: f64| new.at(u) - old.at(u);
    if diff(usage) >= 0.0 {
        return Why::CheaperAtThisUsage { plan };
    }
    let mut points = [0.0, old.allowance, new.allowance];
    points.sort_by(f64::total_cmp);
    let mut nearest: Option<f64> = None;
    for (i, &lo) in points.iter().enumerate() {
        let hi = points.get(i + 1).copied().unwrap_or(f64::INFINITY);
        let slope = new.slope_from(lo) - old.slope_from(lo);
        if slope == 0.0 || hi <= lo {
            continue;
        }
        let root = lo - diff(lo) / slope;
        if root >= lo
            && root <= hi
            && nearest.is_none_or(|n| (root - usage).abs() < (n - usage).abs())
        {
            nearest = Some(root);
        }
    }
    match nearest {
        None => Why::CheaperAtAnyUsage { plan },
        Some(root) => {
            let mb = root / BYTES_PER_MB as f64;
            if root > usage {
                Why::CheaperBelow { plan, mb }
            } else {
                Why::CheaperAbove { plan, mb }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = BYTES_PER_MB as f64;

    fn curve(fixed: f64, allowance_mb: f64, per_mb: f64) -> Curve {
        Curve {
            fixed,
            allowance: allowance_mb * MB,
            slope: per_mb / MB,
        }
    }

    #[test]
    fn break_even_between_a_small_and_a_large_plan() {
        // S5: 2.50 with 5 MB, then 0.50/MB; M50: 6.00 with 50 MB, then 0.10/MB.
        let small = curve(2.5, 5.0, 0.5);
        let large = curve(6.0, 50.0, 0.1);
        // 12.25 MB on S5 costs 2.50 + 3.625; M50 is cheaper above 2.50 + 0.5 (u − 5) = 6 → 12 MB.
        match break_even(&small, &large, 12.25 * MB, "M50") {
            Why::CheaperAbove { plan, mb } => {
                assert_eq!(plan, "M50");
                assert!((mb - 12.0).abs() < 1e-9, "{mb}");
            }
            other => panic!("{other:?}"),
        }
        // 3.5 MB on M50: S5 is cheaper below 12 MB.
        let why = break_even(&large, &small, 3.5 * MB, "S5");
        assert_eq!(
            why.to_string(),
            "break-even 12.0 MB: S5 is cheaper below it"
        );
    }

    #[test]
    fn no_crossing_and_block_rounding() {
        let cheap = curve(1.0, 10.0, 0.0);
        let dear = curve(2.0, 5.0, 0.5);
        assert_eq!(
            break_even(&dear, &cheap, 3.0 * MB, "C").to_string(),
            "C is cheaper at any usage"
        );
        // Equal by the per-byte model: the bill's whole blocks made the difference.
        assert_eq!(
            break_even(&cheap, &cheap, 3.0 * MB, "C"),
            Why::CheaperAtThisUsage { plan: "C" }
        );
    }
}
