//! What the browser page shows of an optimization besides the document: the per-SIM result as
//! compact columns (`simTable()`), each plan's bill before and after (`planLines()`), and the
//! plan catalogue with the plans each communication plan may use (`catalogue()`).
//!
//! The per-SIM table is columnar — typed arrays and one string of ICCIDs — so a million SIMs
//! cross from the Web Worker to the page in one transfer, without a million JavaScript objects.
//! Money in it is integer micros (millionths of the currency unit) held in `Float64Array`s:
//! exact, since every amount the core accepts is far below 2^53 micros.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;
use simopt_core::cost::{self, pool_of, Bill, PlanTotals};
use simopt_core::money::MONEY_DECIMALS;
use simopt_core::report::Report;
use simopt_core::{Fleet, PlanId, Severity};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::internal_error;
use crate::optimize::OptimizeJob;
use crate::typescript::{
    DiagnosticList, PeriodInfo, PlanCatalogueInfo, PlanComparisonList, SimTableInfo,
};
use crate::{diagnostics_to_js, to_js, Period};

/// `commPlan` of a SIM without a communication plan in the per-SIM table.
pub const NO_COMM_PLAN: u32 = u32::MAX;

#[wasm_bindgen(js_class = OptimizeJob)]
impl OptimizeJob {
    /// The best result so far, one entry per SIM in the SIMs file's order, as columns:
    /// `{ count, plans, commPlans, reasons, moneyScale, iccids, commPlan, usageBytes,
    /// currentPlan, plan, currentCost, cost, reason, locked }` (see `SimTable` in the
    /// TypeScript declarations). Plans and communication plans are indices into `plans` and
    /// `commPlans`; `reason` indexes `reasons`, the distinct explanations (`""` for a SIM that
    /// simply stays).
    ///
    /// # Errors
    /// `InternalError` if the table cannot be converted (a bug).
    #[wasm_bindgen(js_name = simTable)]
    pub fn sim_table(&self) -> Result<SimTableInfo, js_sys::Error> {
        self.with_report(sim_table).map(JsCast::unchecked_into)
    }

    /// Each plan's bill as the fleet stands and after the best result so far, in the plans
    /// file's order: `[{ plan, name, pool?, before: PlanLine fields, after: … }]`.
    ///
    /// # Errors
    /// `InternalError` if the lines cannot be converted (a bug).
    #[wasm_bindgen(js_name = planLines)]
    pub fn plan_lines(&self) -> Result<PlanComparisonList, js_sys::Error> {
        let result = self.job.result();
        let before = cost::current(&self.fleet);
        let after = cost::bill(&self.fleet, &result.plans);
        to_js(&plan_comparison(&self.fleet, &before, &after)).map(JsCast::unchecked_into)
    }

    /// The rate plans as read (their terms) and, per communication plan, the plans its SIMs
    /// may move to: `{ plans: [...], commPlans: [{ name, sims, plans: [index] }] }`.
    ///
    /// # Errors
    /// `InternalError` if the catalogue cannot be converted (a bug).
    pub fn catalogue(&self) -> Result<PlanCatalogueInfo, js_sys::Error> {
        to_js(&catalogue(&self.fleet)).map(JsCast::unchecked_into)
    }

    /// The billing period the run covers, as `CostRun`'s `period`.
    ///
    /// # Errors
    /// `InternalError` if the period cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn period(&self) -> Result<PeriodInfo, js_sys::Error> {
        to_js(&Period::of(&self.fleet.settings)).map(JsCast::unchecked_into)
    }

    /// The data-quality warnings kept (the first of each kind), in file and row order.
    ///
    /// # Errors
    /// `InternalError` if the warnings cannot be converted (a bug).
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Result<DiagnosticList, js_sys::Error> {
        diagnostics_to_js(&self.warnings).map(JsCast::unchecked_into)
    }

    /// How many warnings were found, including those not kept in `warnings`.
    #[wasm_bindgen(getter, js_name = warningCount)]
    pub fn warning_count(&self) -> f64 {
        self.warnings.count(Severity::Warning) as f64
    }
}

/// The columns of the per-SIM table.
fn sim_table(report: &Report<'_>) -> Result<JsValue, js_sys::Error> {
    let fleet = report.fleet;
    let n = report.sim_count();
    let mut iccids = String::with_capacity(n * 21);
    let mut comm_plan = Vec::with_capacity(n);
    let mut usage = Vec::with_capacity(n);
    let mut current_plan = Vec::with_capacity(n);
    let mut plan = Vec::with_capacity(n);
    let mut current_cost = Vec::with_capacity(n);
    let mut new_cost = Vec::with_capacity(n);
    let mut reason = Vec::with_capacity(n);
    let mut locked = Vec::with_capacity(n);
    let mut reasons: Vec<String> = vec![String::new()];
    let mut reason_index: HashMap<String, u32> = HashMap::from([(String::new(), 0)]);
    let mut why = String::new();
    let mut first = true;
    let walked = report.each_sim_line(&mut |line| {
        if !first {
            iccids.push('\n');
        }
        first = false;
        iccids.push_str(&line.sim.iccid);
        comm_plan.push(line.sim.comm_plan.map_or(NO_COMM_PLAN, |c| c.0));
        usage.push(line.sim.usage.0 as f64);
        current_plan.push(line.current_plan.0);
        plan.push(line.plan.0);
        current_cost.push(line.current_cost().micros() as f64);
        new_cost.push(line.cost().micros() as f64);
        locked.push(u8::from(line.locked));
        why.clear();
        let _ = write!(why, "{}", line.why(fleet));
        let index = match reason_index.get(why.as_str()) {
            Some(&index) => index,
            None => {
                let index = reasons.len() as u32;
                reasons.push(why.clone());
                reason_index.insert(why.clone(), index);
                index
            }
        };
        reason.push(index);
        Ok(())
    });
    walked.map_err(|e| js_sys::Error::new(&e.to_string()))?;
    let strings = |items: &mut dyn Iterator<Item = &str>| -> js_sys::Array {
        items.map(JsValue::from_str).collect()
    };
    let table = js_sys::Object::new();
    let set = |key: &str, value: &JsValue| -> Result<(), js_sys::Error> {
        js_sys::Reflect::set(&table, &JsValue::from_str(key), value)
            .map(|_| ())
            .map_err(|_| internal_error("cannot build the per-SIM table"))
    };
    set("count", &JsValue::from_f64(n as f64))?;
    set(
        "plans",
        &strings(&mut fleet.plans.iter().map(|p| p.code.as_str())).into(),
    )?;
    set(
        "commPlans",
        &strings(&mut fleet.comm_plans.iter().map(String::as_str)).into(),
    )?;
    set(
        "reasons",
        &strings(&mut reasons.iter().map(String::as_str)).into(),
    )?;
    set(
        "moneyScale",
        &JsValue::from_f64(10f64.powi(MONEY_DECIMALS as i32)),
    )?;
    set(
        "currencyDecimals",
        &JsValue::from_f64(f64::from(fleet.settings.currency_decimals)),
    )?;
    set("iccids", &JsValue::from_str(&iccids))?;
    set(
        "commPlan",
        &js_sys::Uint32Array::from(&comm_plan[..]).into(),
    )?;
    set("usageBytes", &js_sys::Float64Array::from(&usage[..]).into())?;
    set(
        "currentPlan",
        &js_sys::Uint32Array::from(&current_plan[..]).into(),
    )?;
    set("plan", &js_sys::Uint32Array::from(&plan[..]).into())?;
    set(
        "currentCost",
        &js_sys::Float64Array::from(&current_cost[..]).into(),
    )?;
    set("cost", &js_sys::Float64Array::from(&new_cost[..]).into())?;
    set("reason", &js_sys::Uint32Array::from(&reason[..]).into())?;
    set("locked", &js_sys::Uint8Array::from(&locked[..]).into())?;
    Ok(table.into())
}

/// One plan's bill, as `PlanLine` has it (without the plan's names).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Side {
    sim_count: u64,
    usage_mb: String,
    allowance_mb: String,
    base: String,
    overage: String,
    sms: String,
    total: String,
}

impl From<&PlanTotals> for Side {
    fn from(t: &PlanTotals) -> Self {
        Side {
            sim_count: t.sims,
            usage_mb: t.usage.to_mb_string(),
            allowance_mb: t.allowance.to_mb_string(),
            base: t.base.to_decimal_string(),
            overage: t.overage.to_decimal_string(),
            sms: t.sms.to_decimal_string(),
            total: t.total().to_decimal_string(),
        }
    }
}

/// A plan's bill before and after.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Comparison<'a> {
    plan: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    before: Side,
    after: Side,
}

fn plan_comparison<'a>(fleet: &'a Fleet, before: &Bill, after: &Bill) -> Vec<Comparison<'a>> {
    fleet
        .plans
        .iter()
        .enumerate()
        .map(|(index, plan)| Comparison {
            plan: &plan.code,
            name: &plan.name,
            pool: pool_of(fleet, PlanId(index as u32))
                .map(|p| fleet.pools[p.0 as usize].name.as_str()),
            before: Side::from(&before.plans[index]),
            after: Side::from(&after.plans[index]),
        })
        .collect()
}

/// A plan's terms as the plans file gave them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanTerms<'a> {
    plan: &'a str,
    name: &'a str,
    monthly_charge: String,
    included_mb: String,
    /// `None`: no overage (unlimited or hard-capped).
    overage_rate: Option<String>,
    overage_block_mb: Option<String>,
    pooled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    sms_rate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_type: Option<&'a str>,
    retired: bool,
    excluded: bool,
    locked: bool,
}

/// A communication plan: its SIMs and the plans they may move to.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CommPlanOut<'a> {
    name: &'a str,
    sims: u64,
    plans: Vec<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Catalogue<'a> {
    plans: Vec<PlanTerms<'a>>,
    comm_plans: Vec<CommPlanOut<'a>>,
}

fn catalogue(fleet: &Fleet) -> Catalogue<'_> {
    let plans = fleet
        .plans
        .iter()
        .enumerate()
        .map(|(index, p)| PlanTerms {
            plan: &p.code,
            name: &p.name,
            monthly_charge: p.monthly_charge.to_decimal_string(),
            included_mb: p.included.to_mb_string(),
            overage_rate: p.overage.map(|o| o.rate.to_decimal_string()),
            overage_block_mb: p.overage.map(|o| o.block.to_mb_string()),
            pooled: pool_of(fleet, PlanId(index as u32)).is_some(),
            pool: pool_of(fleet, PlanId(index as u32))
                .map(|pool| fleet.pools[pool.0 as usize].name.as_str()),
            sms_rate: p.sms_rate.to_decimal_string(),
            plan_type: p.plan_type.as_deref(),
            retired: p.retired,
            excluded: p.excluded,
            locked: p.locked,
        })
        .collect();
    let mut sims = vec![0u64; fleet.comm_plans.len()];
    for sim in &fleet.sims {
        if let Some(c) = sim.comm_plan {
            sims[c.0 as usize] += 1;
        }
    }
    let open = |id: &PlanId| {
        let p = fleet.plan(*id);
        !p.retired && !p.excluded
    };
    let comm_plans = fleet
        .comm_plans
        .iter()
        .enumerate()
        .map(|(c, name)| CommPlanOut {
            name,
            sims: sims[c],
            plans: match &fleet.eligibility.allowed {
                None => (0..fleet.plans.len() as u32)
                    .map(PlanId)
                    .filter(open)
                    .map(|p| p.0)
                    .collect(),
                Some(allowed) => allowed[c].iter().filter(|p| open(p)).map(|p| p.0).collect(),
            },
        })
        .collect();
    Catalogue { plans, comm_plans }
}
