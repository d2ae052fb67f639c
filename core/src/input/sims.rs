//! `sims.csv`: the fleet, with usage projected to the period end and proration applied.

use std::collections::HashMap;

use super::fields::FieldReader;
use super::iccids::{report_repeat, IccidRows};
use super::plans::{Lookup, PlanTable};
use super::table::{Row, Schema};
use super::Interner;
use crate::diagnostics::{Code, Collector, Location};
use compact_str::CompactString;

use crate::fleet::{eligible_plans, CommPlanId, PlanId, PlanTypeId, Sim, SimStatus, SlimSims};
use crate::money::Bytes;
use crate::period::{project_usage, Projection};
use crate::settings::Settings;

pub(crate) const SCHEMA: Schema = Schema {
    kind: "sims",
    required: &["iccid", "current_plan", "usage_mb"],
    optional: &[
        "usage_bytes",
        "msisdn",
        "comm_plan",
        "status",
        "activated_on",
        "usage_as_of",
        "sms_count",
        "plan_type",
        "locked",
    ],
};

/// What the SIMs are read with: their file's name and what was read before them.
pub(crate) struct Context<'a> {
    /// The SIMs file's name.
    pub file: &'a str,
    pub plans: &'a PlanTable,
    /// Per communication plan, the plans it may use, when there is an eligibility file.
    pub allowed: Option<&'a [Vec<PlanId>]>,
    pub settings: Option<&'a Settings>,
}

/// The SIMs file, read: SIMs and the row each came from, and what the checks that need every
/// SIM found.
#[derive(Default)]
pub(crate) struct SimTable {
    /// The SIMs kept; none when only checking.
    pub sims: Vec<Sim>,
    pub rows: Vec<u64>,
    /// The SIMs kept, counted (when only checking too).
    pub kept: u64,
    /// The SIMs' plan types, interned.
    pub plan_types: Vec<String>,
    /// The SIMs kept, slim, when reading a slim fleet (then `sims` is empty).
    pub slim: Option<SlimSims>,
    /// Per communication plan id, whether a SIM kept uses it.
    pub comm_plans_used: Vec<bool>,
    /// A warning for each SIM kept that no plan is eligible for, in file order: reported once
    /// the file is known to load, after the eligibility file's warnings.
    pub without_eligible_plan: Collector,
}

/// Reads the SIMs file's rows, one at a time as they arrive, into a [`SimTable`].
#[derive(Default)]
pub(crate) struct SimReader {
    table: SimTable,
    /// Set when only checking: the ICCIDs and rows of the SIMs kept, not the SIMs.
    iccids: Option<IccidRows>,
    /// Set when reading a slim fleet: of each SIM kept, what the optimizer reads.
    slim: Option<SlimSims>,
    /// Set when the SIMs kept are taken as they are read ([`SimReader::take`]).
    streamed: bool,
    plan_types: Interner,
    /// Whether SIMs of this communication plan and plan type have an eligible plan: SIMs of one
    /// profile share the answer.
    has_eligible_plan: HashMap<(Option<CommPlanId>, Option<PlanTypeId>), bool>,
    /// The SIMs read so far, kept or not.
    read: u32,
    /// Only the SIMs at these positions (ascending) are kept, when set; the next to keep is at
    /// the cursor.
    keep: Option<(Vec<u32>, usize)>,
}

impl SimReader {
    /// Reads one row of the SIMs file.
    pub fn read(
        &mut self,
        context: &Context<'_>,
        row: &Row<'_>,
        comm_plans: &mut Interner,
        errors: &mut Collector,
    ) {
        let Context {
            file,
            plans,
            allowed,
            settings,
        } = *context;
        let s = &SCHEMA;
        let zone = settings.map_or(chrono_tz::Tz::UTC, |s| s.period.zone);
        if row.ragged {
            return;
        }
        let mut f = FieldReader {
            at: Location::row(file, row.number),
            errors,
        };
        let iccid = f.required("iccid", row.get(s, "iccid"), "the SIM's ICCID");
        let plan_code = f.required(
            "current_plan",
            row.get(s, "current_plan"),
            "the plan the SIM is on now (current_plan)",
        );
        let plan = plan_code
            .as_deref()
            .and_then(|code| match plans.lookup(code) {
                Lookup::Found(id) => Some(id),
                Lookup::AlreadyReported => None,
                Lookup::Unknown(hint) => {
                    let at = Location::row(file, row.number).column("current_plan");
                    f.errors.error(
                        Code::UnknownPlan,
                        &at,
                        format!("plan {code} is not in the plans file"),
                        hint,
                    );
                    None
                }
            });
        let usage = if row.has_column(s, "usage_bytes") && !row.get(s, "usage_bytes").is_empty() {
            f.bytes("usage_bytes", row.get(s, "usage_bytes"))
        } else {
            f.megabytes("usage_mb", row.get(s, "usage_mb"))
        };
        let sms_count = f.count("sms_count", row.get(s, "sms_count"));
        let locked = f.flag("locked", row.get(s, "locked"));
        let activated_on = f.date("activated_on", row.get(s, "activated_on"));
        let usage_as_of = f.instant("usage_as_of", row.get(s, "usage_as_of"), zone);
        let status_text = row.get(s, "status");
        let status = SimStatus::parse(status_text).unwrap_or_else(|| {
            let at = Location::row(file, row.number).column("status");
            f.errors.warning(
                Code::UnknownStatus,
                &at,
                format!(
                    "status {status_text:?} is not one simopt knows; the SIM is treated as active"
                ),
                "use active, deactivated, retired, test_ready or inventory",
            );
            SimStatus::Active
        });
        let (
            Some(iccid),
            Some(plan),
            Ok(usage),
            Ok(sms_count),
            Ok(activated_on),
            Ok(usage_as_of),
            Ok(locked),
        ) = (
            iccid,
            plan,
            usage,
            sms_count,
            activated_on,
            usage_as_of,
            locked,
        )
        else {
            return;
        };
        let usage_reported = usage.unwrap_or_else(|| {
            let at = Location::row(file, row.number).column("usage_mb");
            f.errors.warning(
                Code::MissingUsage,
                &at,
                "the SIM has no usage; it is billed as zero",
                "fill in usage_mb (or usage_bytes) if the SIM used data",
            );
            Bytes::ZERO
        });
        let (usage, projection, active_days) = match settings {
            None => (usage_reported, Projection::Off, None),
            Some(settings) => {
                let (usage, projection) = projected(usage_reported, usage_as_of, status, settings);
                if projection == Projection::OutsidePeriod {
                    let at = Location::row(file, row.number).column("usage_as_of");
                    f.errors.warning(
                        Code::UsageOutsidePeriod,
                        &at,
                        "the usage was read outside the billing period; it is not projected",
                        "check the period end and the time the usage was read",
                    );
                }
                let active_days = activated_on.filter(|_| settings.proration).and_then(|day| {
                        if day >= settings.period.end_date {
                            let at = Location::row(file, row.number).column("activated_on");
                            f.errors.warning(
                                Code::ActivatedAfterPeriod,
                                &at,
                                format!("the SIM was activated on {day}, at or after the period's last day; it is billed for one day"),
                                "check the activation date and the period end",
                            );
                        }
                        settings.period.active_days(day).map(|d| d as u16)
                    });
                (usage, projection, active_days)
            }
        };
        let sim = Sim {
            iccid: CompactString::from(iccid),
            msisdn: Some(row.get(s, "msisdn"))
                .filter(|t| !t.is_empty())
                .map(CompactString::from),
            comm_plan: Some(row.get(s, "comm_plan"))
                .filter(|t| !t.is_empty())
                .map(|name| CommPlanId(comm_plans.intern(name))),
            current_plan: plan,
            status,
            activated_on,
            usage_reported,
            usage,
            projection,
            sms_count: sms_count.unwrap_or(0),
            active_days,
            plan_type: Some(row.get(s, "plan_type"))
                .filter(|t| !t.is_empty())
                .map(|name| PlanTypeId(self.plan_types.intern(name))),
            locked: locked.unwrap_or(false),
        };
        // Read and interned even when not kept, so ids are the whole file's.
        let position = self.read;
        self.read += 1;
        if let Some((keep, next)) = &mut self.keep {
            if keep.get(*next) != Some(&position) {
                return;
            }
            *next += 1;
        }
        let table = &mut self.table;
        table.kept += 1;
        if let Some(c) = sim.comm_plan {
            let index = c.0 as usize;
            if table.comm_plans_used.len() <= index {
                table.comm_plans_used.resize(index + 1, false);
            }
            table.comm_plans_used[index] = true;
        }
        let has_plan = *self
            .has_eligible_plan
            .entry((sim.comm_plan, sim.plan_type))
            .or_insert_with(|| {
                let names = &self.plan_types.names;
                !eligible_plans(&plans.plans, allowed, names, sim.comm_plan, sim.plan_type)
                    .is_empty()
            });
        if !has_plan {
            let comm = sim
                .comm_plan
                .map_or("(none)", |c| comm_plans.names[c.0 as usize].as_str());
            table.without_eligible_plan.warning(
                Code::NoEligiblePlan,
                &Location::row(file, row.number).column("comm_plan"),
                format!(
                    "no plan is eligible for communication plan {comm}; the SIM stays on {}",
                    plans.plans[sim.current_plan.0 as usize].code
                ),
                "list the plans it may use in the eligibility file",
            );
        }
        match (&mut self.iccids, &mut self.slim) {
            (Some(iccids), _) => iccids.push(&sim.iccid, row.number),
            (None, Some(slim)) => slim.push(sim.profile(), sim.usage, sim.sms_count),
            (None, None) => {
                table.rows.push(row.number);
                table.sims.push(sim);
            }
        }
    }

    /// Keeps, of each SIM kept, only what the optimizer reads ([`crate::fleet::SlimSim`]), and
    /// no ICCID: ICCIDs listed twice are not looked for. Call it before the first row.
    pub fn slim(&mut self) {
        debug_assert!(self.read == 0 && self.iccids.is_none());
        self.slim = Some(SlimSims::default());
    }

    /// Keeps only the SIMs at these positions among all the file's SIMs (ascending).
    pub fn keep_only(&mut self, positions: Vec<u32>) {
        self.keep = Some((positions, 0));
    }

    /// Keeps, of each SIM kept, only what the checks that need every SIM read (its ICCID and
    /// row), and of those read so far the same.
    pub fn check_only(&mut self) {
        if self.iccids.is_some() {
            return;
        }
        let mut iccids = IccidRows::default();
        iccids.reserve(self.table.sims.capacity());
        for (sim, row) in self.table.sims.iter().zip(&self.table.rows) {
            iccids.push(&sim.iccid, *row);
        }
        (self.table.sims, self.table.rows) = (Vec::new(), Vec::new());
        self.iccids = Some(iccids);
    }

    /// Whether only checking (see [`SimReader::check_only`]).
    pub fn checks_only(&self) -> bool {
        self.iccids.is_some()
    }

    /// Lets the SIMs kept be taken as they are read ([`SimReader::take`]); ICCIDs listed twice
    /// are not looked for. Call it before the first row.
    pub fn stream(&mut self) {
        self.streamed = true;
    }

    /// The SIMs kept since the last call, in file order (after [`SimReader::stream`]).
    pub fn take(&mut self) -> Vec<Sim> {
        debug_assert!(self.streamed);
        self.table.rows.clear();
        std::mem::take(&mut self.table.sims)
    }

    /// Whether reading a slim fleet (see [`SimReader::slim`]).
    pub fn is_slim(&self) -> bool {
        self.slim.is_some()
    }

    /// Makes room for this many SIMs.
    pub fn reserve(&mut self, sims: usize) {
        match (&mut self.iccids, &mut self.slim) {
            (Some(iccids), _) => iccids.reserve(sims),
            (None, Some(slim)) => slim.reserve(sims),
            (None, None) => {
                self.table.sims.reserve_exact(sims);
                self.table.rows.reserve_exact(sims);
            }
        }
    }

    /// The SIMs read from the file `file`; reports ICCIDs listed twice.
    pub fn finish(self, file: &str, errors: &mut Collector) -> SimTable {
        let mut table = self.table;
        match (self.iccids, self.slim) {
            (Some(iccids), _) => iccids.report_repeats(file, errors),
            (None, Some(slim)) => table.slim = Some(slim),
            (None, None) if self.streamed => {}
            (None, None) => report_duplicate_iccids(file, &table, errors),
        }
        table.plan_types = self.plan_types.names;
        table
    }
}

/// Usage as billed, per DESIGN §2: projected to the period end unless projection is off, the
/// period is closed, the SIM is out of service, or the usage was read outside the period.
fn projected(
    usage: Bytes,
    read_at: Option<i64>,
    status: SimStatus,
    settings: &Settings,
) -> (Bytes, Projection) {
    if !settings.projection {
        (usage, Projection::Off)
    } else if settings.period_closed() {
        (usage, Projection::PeriodClosed)
    } else if !status.in_service() {
        (usage, Projection::Inactive)
    } else {
        project_usage(
            usage,
            read_at.unwrap_or(settings.as_of),
            &settings.period,
            settings.margin_ppm,
        )
    }
}

/// Reports each ICCID that appears more than once, naming the rows. Sorting indices keeps memory
/// at four bytes a SIM.
fn report_duplicate_iccids(file: &str, table: &SimTable, errors: &mut Collector) {
    let mut order: Vec<u32> = (0..table.sims.len() as u32).collect();
    order.sort_unstable_by(|a, b| {
        table.sims[*a as usize]
            .iccid
            .cmp(&table.sims[*b as usize].iccid)
            .then(a.cmp(b))
    });
    for pair in order.windows(2) {
        let (first, second) = (pair[0] as usize, pair[1] as usize);
        if table.sims[first].iccid == table.sims[second].iccid {
            report_repeat(
                file,
                &table.sims[second].iccid,
                table.rows[second],
                table.rows[first],
                errors,
            );
        }
    }
}
