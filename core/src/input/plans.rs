//! `plans.csv`: rate plans and the pools they form.

use std::collections::{HashMap, HashSet};

use super::fields::FieldReader;
use super::table::{read_rows, Schema};
use super::SourceFile;
use crate::diagnostics::{Code, Collector, Location};
use crate::fleet::{Overage, Plan, PlanId, Pool, PoolId, Pooling};
use crate::money::{Bytes, Money};

pub(crate) const SCHEMA: Schema = Schema {
    kind: "plans",
    required: &["plan_id", "monthly_charge", "included_mb"],
    optional: &[
        "name",
        "overage_rate",
        "overage_block_mb",
        "pooled",
        "pool_id",
        "sms_rate",
        "plan_type",
        "retired",
        "excluded",
        "locked",
    ],
};

/// The plans file, read.
pub(crate) struct PlanTable {
    pub plans: Vec<Plan>,
    pub pools: Vec<Pool>,
    pub by_code: HashMap<String, PlanId>,
    /// Codes of plans whose rows had errors (already reported): SIMs on them are not reported
    /// again as naming an unknown plan.
    pub broken: HashSet<String>,
    /// The file could not be read at all (already reported): no lookup is reported either.
    pub unusable: bool,
}

/// The answer to a plan code lookup.
pub(crate) enum Lookup {
    /// The plan.
    Found(PlanId),
    /// Not usable, and already reported (a broken row or file): say nothing more.
    AlreadyReported,
    /// Unknown: report it, with this hint.
    Unknown(String),
}

impl PlanTable {
    /// Looks a plan code up; for an unknown one, a hint naming a plan that differs only in case.
    pub fn lookup(&self, code: &str) -> Lookup {
        if let Some(id) = self.by_code.get(code) {
            return Lookup::Found(*id);
        }
        if self.unusable || self.broken.contains(code) {
            return Lookup::AlreadyReported;
        }
        let near = self
            .plans
            .iter()
            .find(|p| p.code.eq_ignore_ascii_case(code))
            .map(|p| format!("did you mean {}? ", p.code))
            .unwrap_or_default();
        Lookup::Unknown(format!(
            "{near}add the plan to the plans file, or correct the plan code"
        ))
    }
}

pub(crate) fn read(file: &SourceFile<'_>, errors: &mut Collector) -> PlanTable {
    let mut table = PlanTable {
        plans: Vec::new(),
        pools: Vec::new(),
        by_code: HashMap::new(),
        broken: HashSet::new(),
        unusable: false,
    };
    let mut first_row: HashMap<String, u64> = HashMap::new();
    // Pool key → (pool, row that set its overage terms).
    let mut pool_index: HashMap<String, (PoolId, u64)> = HashMap::new();
    let readable = read_rows(file, &SCHEMA, errors, |row, errors| {
        let s = &SCHEMA;
        if row.ragged {
            table.broken.insert(row.get(&SCHEMA, "plan_id").to_owned());
            return;
        }
        let mut f = FieldReader {
            at: Location::row(file.name, row.number),
            errors,
        };
        let code = f.required("plan_id", row.get(s, "plan_id"), "a plan_id");
        let charge = f.money("monthly_charge", row.get(s, "monthly_charge"));
        let charge = match charge {
            Ok(None) => {
                f.required("monthly_charge", "", "a monthly_charge (0 if none)");
                Err(())
            }
            other => other,
        };
        let included = f.megabytes("included_mb", row.get(s, "included_mb"));
        let rate = f.money("overage_rate", row.get(s, "overage_rate"));
        let block = f.megabytes("overage_block_mb", row.get(s, "overage_block_mb"));
        let pooled = f.flag("pooled", row.get(s, "pooled"));
        let sms_rate = f.money("sms_rate", row.get(s, "sms_rate"));
        let retired = f.flag("retired", row.get(s, "retired"));
        let excluded = f.flag("excluded", row.get(s, "excluded"));
        let locked = f.flag("locked", row.get(s, "locked"));
        let pool_id = Some(row.get(s, "pool_id")).filter(|t| !t.is_empty());
        let plan_type = Some(row.get(s, "plan_type")).filter(|t| !t.is_empty());
        let name = row.get(s, "name");

        let overage = match (rate, block) {
            (Ok(Some(rate)), Ok(None)) if rate > Money::ZERO => {
                let at = Location::row(file.name, row.number).column("overage_block_mb");
                f.errors.error(
                    Code::BadOverage,
                    &at,
                    "the plan has an overage rate but no overage block size",
                    "set overage_block_mb (1 for a per-MB rate), or leave overage_rate empty for a plan without overage",
                );
                Err(())
            }
            (Ok(_), Ok(Some(Bytes(0)))) => {
                let at = Location::row(file.name, row.number).column("overage_block_mb");
                f.errors.error(
                    Code::BadOverage,
                    &at,
                    "the overage block size is zero",
                    "set overage_block_mb above zero (1 for a per-MB rate)",
                );
                Err(())
            }
            (Ok(Some(rate)), Ok(Some(block))) if rate > Money::ZERO => {
                Ok(Some(Overage { rate, block }))
            }
            (Ok(_), Ok(_)) => Ok(None),
            _ => Err(()),
        };

        let code_text = code.clone();
        let (
            Some(code),
            Ok(Some(monthly_charge)),
            Ok(included),
            Ok(overage),
            Ok(pooled),
            Ok(sms_rate),
            Ok(retired),
            Ok(excluded),
            Ok(locked),
        ) = (
            code, charge, included, overage, pooled, sms_rate, retired, excluded, locked,
        )
        else {
            table.broken.extend(code_text);
            return;
        };
        if let Some(first) = first_row.get(&code) {
            let at = Location::row(file.name, row.number).column("plan_id");
            f.errors.error(
                Code::DuplicatePlan,
                &at,
                format!("plan {code} is listed twice (first on row {first})"),
                "keep one row per plan_id",
            );
            return;
        }
        let id = PlanId(table.plans.len() as u32);
        let pooled = pooled.unwrap_or(false);
        let pooling = if pooled {
            let key = match pool_id {
                Some(p) => format!("pool:{p}"),
                None => format!("plan:{code}"),
            };
            match pool_index.get(&key) {
                Some(&(pool, set_on)) => {
                    let terms = table.pools[pool.0 as usize].overage;
                    if terms != overage {
                        let at = Location::row(file.name, row.number).column("overage_rate");
                        f.errors.error(
                            Code::PoolMismatch,
                            &at,
                            format!(
                                "plan {code} shares pool {} but its overage terms differ from row {set_on}",
                                pool_id.unwrap_or(&code)
                            ),
                            "plans sharing one pool are billed one overage: give them the same overage_rate and overage_block_mb",
                        );
                        table.broken.insert(code);
                        return;
                    }
                    table.pools[pool.0 as usize].plans.push(id);
                    Pooling::Shared(pool)
                }
                None => {
                    let pool = PoolId(table.pools.len() as u32);
                    table.pools.push(Pool {
                        name: pool_id.unwrap_or(&code).to_owned(),
                        plans: vec![id],
                        overage,
                    });
                    pool_index.insert(key, (pool, row.number));
                    Pooling::Shared(pool)
                }
            }
        } else {
            if let Some(p) = pool_id {
                let at = Location::row(file.name, row.number).column("pool_id");
                f.errors.warning(
                    Code::PoolIdIgnored,
                    &at,
                    format!("plan {code} is not pooled, so its pool_id {p} is ignored"),
                    "set pooled to true if the plan shares an allowance",
                );
            }
            Pooling::PerSim
        };
        first_row.insert(code.clone(), row.number);
        table.by_code.insert(code.clone(), id);
        table.plans.push(Plan {
            name: if name.is_empty() {
                code.clone()
            } else {
                name.to_owned()
            },
            code,
            monthly_charge,
            included: included.unwrap_or(Bytes::ZERO),
            overage,
            pooling,
            sms_rate: sms_rate.unwrap_or(Money::ZERO),
            plan_type: plan_type.map(str::to_owned),
            retired: retired.unwrap_or(false),
            excluded: excluded.unwrap_or(false),
            locked: locked.unwrap_or(false),
        });
    });
    table.unusable = !readable;
    table
}
