//! `eligibility.csv`: which plans each communication plan may use (one row per allowed pair).

use std::collections::HashSet;

use super::plans::{Lookup, PlanTable};
use super::table::{read_rows, Schema};
use super::{Interner, SourceFile};
use crate::diagnostics::{Code, Collector, Location};
use crate::fleet::{CommPlanId, PlanId};

pub(crate) const SCHEMA: Schema = Schema {
    kind: "eligibility",
    required: &["comm_plan", "plan_id"],
    optional: &[],
};

/// The eligibility file, read: allowed plans per communication plan, the row each
/// communication plan was first named on, and the number of data rows read.
pub(crate) struct EligibilityTable {
    pub allowed: Vec<Vec<PlanId>>,
    pub first_row: Vec<u64>,
    pub rows: u64,
}

pub(crate) fn read(
    file: &SourceFile<'_>,
    plans: &PlanTable,
    comm_plans: &mut Interner,
    errors: &mut Collector,
) -> EligibilityTable {
    let mut table = EligibilityTable {
        allowed: Vec::new(),
        first_row: Vec::new(),
        rows: 0,
    };
    let mut seen: HashSet<(u32, PlanId)> = HashSet::new();
    read_rows(file, &SCHEMA, errors, |row, errors| {
        let s = &SCHEMA;
        table.rows += 1;
        if row.ragged {
            return;
        }
        let at = Location::row(file.name, row.number);
        let comm = row.get(s, "comm_plan");
        let code = row.get(s, "plan_id");
        for (column, value) in [("comm_plan", comm), ("plan_id", code)] {
            if value.is_empty() {
                errors.error(
                    Code::MissingValue,
                    &at.column(column),
                    format!("{column} is empty"),
                    "each row names one communication plan and one plan it may use",
                );
            }
        }
        if comm.is_empty() || code.is_empty() {
            return;
        }
        let plan = match plans.lookup(code) {
            Lookup::Found(id) => id,
            Lookup::AlreadyReported => return,
            Lookup::Unknown(hint) => {
                errors.error(
                    Code::UnknownPlan,
                    &at.column("plan_id"),
                    format!("plan {code} is not in the plans file"),
                    hint,
                );
                return;
            }
        };
        let c = CommPlanId(comm_plans.intern(comm));
        let index = c.0 as usize;
        if table.allowed.len() <= index {
            table.allowed.resize(index + 1, Vec::new());
            table.first_row.resize(index + 1, 0);
        }
        if table.first_row[index] == 0 {
            table.first_row[index] = row.number;
        }
        if !seen.insert((c.0, plan)) {
            errors.warning(
                Code::DuplicateEligibility,
                &at,
                format!("{comm} → {code} is listed more than once"),
                "the repeat is ignored; remove it to silence this warning",
            );
            return;
        }
        table.allowed[index].push(plan);
    });
    for plans in &mut table.allowed {
        plans.sort_unstable();
    }
    table
}
