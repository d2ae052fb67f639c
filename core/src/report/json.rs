//! The JSON contract (DESIGN §8): written the same way by the CLI (`--json`), the browser and the
//! Worker, so the three give byte-identical documents for the same input.
//!
//! Money is decimal text with two to six decimals; data is given in MB as an exact decimal
//! number (`usage_mb`) and in bytes (`usage_bytes`). SIMs are streamed, so a million-SIM
//! document needs no more memory than the bill.

use std::io;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

use super::Report;
use crate::diagnostics::Diagnostics;
use crate::fleet::{FleetTerms, PlanId};
use crate::money::{Bytes, Money};

/// Version of the document's shape; bumped when a field changes meaning or disappears.
pub const FORMAT_VERSION: u32 = 1;

/// An exact MB amount written as a JSON number.
struct Mb(Bytes);

impl Serialize for Mb {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The decimal text of bytes/2^20 is exact; written verbatim, it is a JSON number.
        serde_json::value::RawValue::from_string(self.0.to_mb_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

#[derive(Serialize)]
struct Period {
    start: String,
    end: String,
    time_zone: &'static str,
    days: u32,
    as_of: String,
    closed: bool,
}

#[derive(Serialize)]
struct SettingsOut {
    proration: bool,
    charge_type: &'static str,
    projection: bool,
    margin_pct: String,
    currency_decimals: u32,
}

#[derive(Serialize)]
struct Totals {
    base: Money,
    overage: Money,
    sms: Money,
    total: Money,
}

#[derive(Serialize)]
struct PlanLine<'a> {
    plan: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    sim_count: u64,
    usage_mb: Mb,
    allowance_mb: Mb,
    base: Money,
    overage: Money,
    sms: Money,
    total: Money,
}

#[derive(Serialize)]
struct PoolLine<'a> {
    pool: &'a str,
    plans: Vec<&'a str>,
    sim_count: u64,
    usage_mb: Mb,
    allowance_mb: Mb,
    overage_mb: Mb,
    overage_blocks: u64,
    overage: Money,
}

#[derive(Serialize)]
struct SimLine<'a> {
    iccid: &'a str,
    current_plan: &'a str,
    plan: &'a str,
    usage_mb: Mb,
    usage_bytes: u64,
    base: Money,
    overage: Money,
    sms: Money,
    cost: Money,
}

/// The SIM lines, streamed.
struct SimLines<'a>(Report<'a>);

impl Serialize for SimLines<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let report = &self.0;
        let fleet = report.fleet;
        let mut seq = serializer.serialize_seq(Some(report.sim_count()))?;
        let mut refused = None;
        let walked = report.each_sim_line(&mut |line| {
            let charge = &line.charge;
            seq.serialize_element(&SimLine {
                iccid: &line.sim.iccid,
                current_plan: &fleet.plan(line.current_plan).code,
                plan: &fleet.plan(line.plan).code,
                usage_mb: Mb(line.sim.usage),
                usage_bytes: line.sim.usage.0,
                base: charge.base,
                overage: charge.overage,
                sms: charge.sms,
                cost: charge.total(),
            })
            .map_err(|e| {
                refused = Some(e);
                io::Error::other("the document was refused")
            })
        });
        if let Some(e) = refused {
            return Err(e);
        }
        walked.map_err(serde::ser::Error::custom)?;
        seq.end()
    }
}

/// What an optimization adds to the document.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizationSummary {
    /// The method used (`default`, `classic`).
    pub optimizer: &'static str,
    /// The bill of the returned assignment.
    pub optimized_cost: Money,
    /// No assignment (with at most `changes` changes, under constraints) costs less; null when
    /// a time limit stopped the run before bounding.
    pub lower_bound: Option<Money>,
    /// `(optimized − bound) / optimized`, a fraction (null without a bound).
    pub gap: Option<f64>,
    /// `current − optimized`.
    pub savings: Money,
    /// SIMs whose plan changes.
    pub changes: u64,
    /// SIMs that had to keep their plan (their own or their plan's `locked` flag).
    pub locked_sims: u64,
    /// The minimum saving per change asked for (zero: none).
    pub min_saving: Money,
    /// The limit on changes asked for, if any.
    pub max_changes: Option<u64>,
    /// Whether the run finished (false when a time limit stopped it).
    pub complete: bool,
}

impl OptimizationSummary {
    /// The summary of `result`, an optimization of `fleet` with `options`; `complete` says
    /// whether the run finished. One definition for every front end, so their documents agree.
    pub fn of(
        fleet: &impl FleetTerms,
        result: &crate::optimize::Optimized,
        options: &crate::optimize::Options,
        complete: bool,
    ) -> Self {
        let frame = fleet.frame();
        let (mut changes, mut locked_sims) = (0, 0);
        for (i, plan) in result.plans.iter().enumerate() {
            let (sim, ..) = fleet.sim(i);
            changes += u64::from(sim.current_plan != *plan);
            locked_sims += u64::from(frame.locks(&sim));
        }
        OptimizationSummary {
            optimizer: options.method.as_str(),
            optimized_cost: result.cost,
            lower_bound: result.lower_bound,
            gap: result.gap(),
            savings: result.current_cost - result.cost,
            changes,
            locked_sims,
            min_saving: options.constraints.min_saving,
            max_changes: options.constraints.max_changes,
            complete,
        }
    }
}

#[derive(Serialize)]
struct CostDocument<'a> {
    simopt: &'static str,
    format_version: u32,
    period: Period,
    settings: SettingsOut,
    sim_count: usize,
    current_cost: Money,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    optimization: Option<&'a OptimizationSummary>,
    totals: Totals,
    plans: Vec<PlanLine<'a>>,
    pools: Vec<PoolLine<'a>>,
    warnings: &'a Diagnostics,
    sims: SimLines<'a>,
}

fn document<'a>(report: &Report<'a>) -> CostDocument<'a> {
    let (fleet, bill) = (report.fleet, report.bill());
    let optimization = report.optimization.map(|o| o.summary);
    let s = &fleet.settings;
    let plans = fleet
        .plans
        .iter()
        .zip(&bill.plans)
        .enumerate()
        .map(|(index, (plan, t))| PlanLine {
            plan: &plan.code,
            name: &plan.name,
            pool: crate::cost::pool_of(fleet, PlanId(index as u32))
                .map(|p| fleet.pools[p.0 as usize].name.as_str()),
            sim_count: t.sims,
            usage_mb: Mb(t.usage),
            allowance_mb: Mb(t.allowance),
            base: t.base,
            overage: t.overage,
            sms: t.sms,
            total: t.total(),
        })
        .collect();
    let pools = fleet
        .pools
        .iter()
        .zip(&bill.pools)
        .map(|(pool, t)| PoolLine {
            pool: &pool.name,
            plans: pool
                .plans
                .iter()
                .map(|p| fleet.plan(*p).code.as_str())
                .collect(),
            sim_count: t.sims,
            usage_mb: Mb(t.usage),
            allowance_mb: Mb(t.allowance),
            overage_mb: Mb(t.excess),
            overage_blocks: t.blocks,
            overage: t.overage,
        })
        .collect();
    CostDocument {
        simopt: if optimization.is_some() {
            "optimize"
        } else {
            "cost"
        },
        format_version: FORMAT_VERSION,
        period: Period {
            start: s.period.format_instant(s.period.start),
            end: s.period.format_instant(s.period.end),
            time_zone: s.period.zone.name(),
            days: s.period.days(),
            as_of: s.period.format_instant(s.as_of),
            closed: s.period_closed(),
        },
        settings: SettingsOut {
            proration: s.proration,
            charge_type: s.charge_type.as_str(),
            projection: s.projection,
            margin_pct: s.margin_pct_text(),
            currency_decimals: s.currency_decimals,
        },
        sim_count: report.sim_count(),
        current_cost: optimization.map_or(bill.total(), |o| o.optimized_cost + o.savings),
        optimization,
        totals: Totals {
            base: bill.base,
            overage: bill.overage,
            sms: bill.sms,
            total: bill.total(),
        },
        plans,
        pools,
        warnings: report.warnings,
        sims: SimLines(*report),
    }
}

/// Writes the document of `report` as pretty JSON: a cost document, or for an optimization an
/// optimize document (DESIGN §8) whose totals, plans, pools and SIM lines are those of the
/// optimized assignment.
///
/// # Errors
/// Whatever the writer returns, or the report's [`super::LineSource`].
pub fn write(out: impl io::Write, report: &Report<'_>) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, &document(report))?;
    io::Write::write_all(&mut out, b"\n")?;
    io::Write::flush(&mut out)
}
