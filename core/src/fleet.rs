//! The domain: rate plans, pools, SIMs, eligibility — a validated [`Fleet`] ready to be billed.
//!
//! Names (plan codes, communication plans, plan types) are interned: SIMs refer to plans by
//! [`PlanId`], an index into [`Fleet::plans`]; ICCIDs and MSISDNs are kept inline (up to 24
//! bytes, no heap allocation), so a SIM takes 104 bytes.

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::Serialize;

use crate::money::{Bytes, Money};
use crate::period::Projection;
use crate::settings::Settings;

/// Index of a plan in [`Fleet::plans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanId(pub u32);

/// Index of a shared pool in [`Fleet::pools`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(pub u32);

/// Index of a SIM's rate plan type in [`Fleet::plan_types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanTypeId(pub u32);

/// Index of a communication plan in [`Fleet::comm_plans`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommPlanId(pub u32);

/// Overage terms: `rate` per started `block` of data beyond the allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overage {
    /// Price of one block.
    pub rate: Money,
    /// Block size in bytes (> 0).
    pub block: Bytes,
}

impl Overage {
    /// The charge for `excess` bytes beyond the allowance: `ceil(excess / block) × rate`.
    pub fn blocks(&self, excess: Bytes) -> u64 {
        excess.0.div_ceil(self.block.0)
    }
}

/// How a plan's SIMs share an allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Each SIM has its own allowance.
    PerSim,
    /// The SIMs of every plan in the pool share one allowance.
    Shared(PoolId),
}

/// A carrier rate plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The carrier's plan code (`plan_id`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Monthly rate charge.
    pub monthly_charge: Money,
    /// Data included per SIM per month.
    pub included: Bytes,
    /// Overage terms; `None` for unlimited or hard-capped plans.
    pub overage: Option<Overage>,
    /// How the allowance is shared.
    pub pooling: Pooling,
    /// Price per SMS.
    pub sms_rate: Money,
    /// Rate plan type (SIMs only move between plans of their type).
    pub plan_type: Option<String>,
    /// The carrier no longer offers the plan: SIMs may stay but not move to it.
    pub retired: bool,
    /// Excluded from optimization: SIMs may stay but not move to it.
    pub excluded: bool,
    /// SIMs on this plan must not leave it (they stay whatever it costs).
    pub locked: bool,
}

/// A shared allowance: the SIMs on any of its plans pool their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// The pool's name: its `pool_id`, or the plan code for a pooled plan without one.
    pub name: String,
    /// The plans that share it.
    pub plans: Vec<PlanId>,
    /// The pool's overage terms (the same on each of its plans).
    pub overage: Option<Overage>,
}

/// A SIM's status at the carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SimStatus {
    /// In service (also the default when the file says nothing).
    Active,
    /// Ready to test / to activate, or in inventory: may still use data.
    Ready,
    /// Deactivated: usage is final.
    Deactivated,
    /// Retired, purged or replaced: usage is final.
    Retired,
}

impl SimStatus {
    /// Reads a carrier status (`ACTIVATED`, `Deactivated`, `retired`, `TEST_READY`...).
    pub fn parse(text: &str) -> Option<SimStatus> {
        let t = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Some(match t.as_str() {
            "" | "active" | "activated" | "live" | "in_service" => SimStatus::Active,
            "test_ready" | "activation_ready" | "inventory" | "ready" | "suspended" => {
                SimStatus::Ready
            }
            "deactivated" | "inactive" | "terminated" => SimStatus::Deactivated,
            "retired" | "purged" | "replaced" => SimStatus::Retired,
            _ => return None,
        })
    }

    /// Whether the SIM can still use data this period.
    pub fn in_service(self) -> bool {
        matches!(self, SimStatus::Active | SimStatus::Ready)
    }
}

/// One SIM, with its usage as billed (projected to the period end when that applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sim {
    /// ICCID, the key.
    pub iccid: CompactString,
    /// Phone number, if known.
    pub msisdn: Option<CompactString>,
    /// Communication plan, if known.
    pub comm_plan: Option<CommPlanId>,
    /// The plan the SIM is on now.
    pub current_plan: PlanId,
    /// Carrier status.
    pub status: SimStatus,
    /// Activation date, if known.
    pub activated_on: Option<NaiveDate>,
    /// Cycle-to-date usage as reported.
    pub usage_reported: Bytes,
    /// Usage as billed: projected to the period end, or as reported.
    pub usage: Bytes,
    /// What happened to the usage on the way.
    pub projection: Projection,
    /// SMS sent this cycle.
    pub sms_count: u32,
    /// Days billed when activated inside the period (proration on); `None` = the whole period.
    pub active_days: Option<u16>,
    /// Rate plan type, if known.
    pub plan_type: Option<PlanTypeId>,
    /// The SIM must stay on its current plan.
    pub locked: bool,
}

/// Which plans each communication plan may use. Without an eligibility file every plan is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Eligibility {
    /// Per communication plan, the allowed plans (sorted); `None` = every plan.
    pub allowed: Option<Vec<Vec<PlanId>>>,
}

/// A validated fleet: everything needed to bill and optimize it.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Rate plans, in the order of the plans file.
    pub plans: Vec<Plan>,
    /// Shared pools, in order of first appearance in the plans file.
    pub pools: Vec<Pool>,
    /// Communication plan names.
    pub comm_plans: Vec<String>,
    /// SIMs, in the order of the SIMs file.
    pub sims: Vec<Sim>,
    /// The SIMs' rate plan types (a SIM's [`Sim::plan_type`] indexes this).
    pub plan_types: Vec<String>,
    /// Which plans each communication plan may use.
    pub eligibility: Eligibility,
    /// The account settings the fleet was read with.
    pub settings: Settings,
}

impl Fleet {
    /// The plan with this id.
    pub fn plan(&self, id: PlanId) -> &Plan {
        &self.plans[id.0 as usize]
    }

    /// Whether a SIM must keep its plan: its own or its current plan's `locked` flag.
    pub fn is_locked(&self, sim: &Sim) -> bool {
        self.locks(&sim.profile())
    }

    /// [`Fleet::is_locked`] of a SIM of this profile.
    pub fn locks(&self, profile: &SimProfile) -> bool {
        profile.locked || self.plan(profile.current_plan).locked
    }

    /// The plans a SIM may move to: allowed for its communication plan, of its rate plan type,
    /// neither retired nor excluded. Its current plan is where it stays when this is empty.
    pub fn eligible_plans(&self, sim: &Sim) -> Vec<PlanId> {
        self.eligible_for(sim.comm_plan, sim.plan_type)
    }

    /// [`Fleet::eligible_plans`] of a SIM of this communication plan and plan type.
    pub fn eligible_for(
        &self,
        comm_plan: Option<CommPlanId>,
        plan_type: Option<PlanTypeId>,
    ) -> Vec<PlanId> {
        eligible_plans(
            &self.plans,
            self.eligibility.allowed.as_deref(),
            &self.plan_types,
            comm_plan,
            plan_type,
        )
    }
}

/// What decides a SIM's options: SIMs of one profile may use the same plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimProfile {
    /// [`Sim::comm_plan`].
    pub comm_plan: Option<CommPlanId>,
    /// [`Sim::plan_type`].
    pub plan_type: Option<PlanTypeId>,
    /// [`Sim::current_plan`].
    pub current_plan: PlanId,
    /// [`Sim::locked`]: the SIM's own flag (its plan's is in [`Plan::locked`]).
    pub locked: bool,
    /// [`Sim::active_days`].
    pub active_days: Option<u16>,
}

impl Sim {
    /// What decides the SIM's options.
    pub fn profile(&self) -> SimProfile {
        SimProfile {
            comm_plan: self.comm_plan,
            plan_type: self.plan_type,
            current_plan: self.current_plan,
            locked: self.locked,
            active_days: self.active_days,
        }
    }
}

/// Of a SIM, only what the optimizer reads: 16 bytes where a [`Sim`] takes about 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlimSim {
    /// [`Sim::usage`], as billed.
    pub usage: Bytes,
    /// [`Sim::sms_count`].
    pub sms_count: u32,
    /// Its profile, an index into [`SlimFleet::profiles`].
    pub profile: u32,
}

/// A fleet as the optimizer reads it, for a service with little memory: every plan, pool,
/// name and setting of the [`Fleet`] (in `frame`, whose `sims` is empty), and of each SIM only
/// its usage, SMS and profile. The optimizer ([`crate::optimize::Job`]) gives the same result
/// on it as on the fleet; `input::Loader::slim` reads one from a SIMs file.
#[derive(Debug, Clone)]
pub struct SlimFleet {
    /// The fleet without its SIMs.
    pub frame: Fleet,
    /// The SIMs' profiles, each once.
    pub profiles: Vec<SimProfile>,
    /// The SIMs, in the order of the SIMs file.
    pub sims: Vec<SlimSim>,
}

impl SlimFleet {
    /// The slim fleet of `fleet` (the same result from the optimizer).
    pub fn of(fleet: &Fleet) -> SlimFleet {
        let mut slim = SlimSims::default();
        slim.reserve(fleet.sims.len());
        for sim in &fleet.sims {
            slim.push(sim.profile(), sim.usage, sim.sms_count);
        }
        slim.finish(fleet.clone_frame())
    }

    /// The slim fleet of these SIMs only (indices into [`SlimFleet::sims`]): [`Fleet::part`].
    pub fn part(&self, sims: &[u32]) -> SlimFleet {
        SlimFleet {
            frame: self.frame.clone(),
            profiles: self.profiles.clone(),
            sims: sims.iter().map(|&i| self.sims[i as usize]).collect(),
        }
    }
}

impl Fleet {
    /// The fleet's plans, pools, names and settings, without its SIMs.
    pub(crate) fn clone_frame(&self) -> Fleet {
        Fleet {
            plans: self.plans.clone(),
            pools: self.pools.clone(),
            comm_plans: self.comm_plans.clone(),
            sims: Vec::new(),
            plan_types: self.plan_types.clone(),
            eligibility: self.eligibility.clone(),
            settings: self.settings,
        }
    }
}

/// A [`SlimFleet`]'s SIMs as they are read, each profile kept once.
#[derive(Debug, Default)]
pub(crate) struct SlimSims {
    profiles: Vec<SimProfile>,
    sims: Vec<SlimSim>,
    index: std::collections::HashMap<SimProfile, u32>,
}

impl SlimSims {
    /// Makes room for this many SIMs.
    pub fn reserve(&mut self, sims: usize) {
        self.sims.reserve_exact(sims);
    }

    /// Adds a SIM.
    pub fn push(&mut self, profile: SimProfile, usage: Bytes, sms_count: u32) {
        let profiles = &mut self.profiles;
        let profile = *self.index.entry(profile).or_insert_with(|| {
            profiles.push(profile);
            (profiles.len() - 1) as u32
        });
        self.sims.push(SlimSim {
            usage,
            sms_count,
            profile,
        });
    }

    /// The slim fleet of these SIMs on `frame`'s plans, names and settings.
    pub fn finish(self, frame: Fleet) -> SlimFleet {
        SlimFleet {
            frame,
            profiles: self.profiles,
            sims: self.sims,
        }
    }
}

/// A fleet as the optimizer reads it: a [`Fleet`], or a [`SlimFleet`] that keeps of each SIM
/// only what the optimizer reads. Implemented by both; the optimizer gives the same result on
/// either.
pub trait FleetTerms {
    /// The plans, pools, names, eligibility and settings (its SIMs are read through
    /// [`FleetTerms::sim`]).
    fn frame(&self) -> &Fleet;
    /// The number of SIMs.
    fn sim_count(&self) -> usize;
    /// SIM `i`'s profile, usage as billed and SMS count.
    fn sim(&self, i: usize) -> (SimProfile, Bytes, u32);
}

impl FleetTerms for Fleet {
    fn frame(&self) -> &Fleet {
        self
    }

    fn sim_count(&self) -> usize {
        self.sims.len()
    }

    fn sim(&self, i: usize) -> (SimProfile, Bytes, u32) {
        let sim = &self.sims[i];
        (sim.profile(), sim.usage, sim.sms_count)
    }
}

impl FleetTerms for SlimFleet {
    fn frame(&self) -> &Fleet {
        &self.frame
    }

    fn sim_count(&self) -> usize {
        self.sims.len()
    }

    fn sim(&self, i: usize) -> (SimProfile, Bytes, u32) {
        let sim = self.sims[i];
        (
            self.profiles[sim.profile as usize],
            sim.usage,
            sim.sms_count,
        )
    }
}

/// [`Fleet::eligible_plans`] from the parts it reads, so a SIMs file being read can be checked
/// before there is a fleet. A communication plan past the end of `allowed` is one the
/// eligibility file does not name: it may use no plan.
pub(crate) fn eligible_plans(
    plans: &[Plan],
    allowed: Option<&[Vec<PlanId>]>,
    plan_types: &[String],
    comm_plan: Option<CommPlanId>,
    plan_type: Option<PlanTypeId>,
) -> Vec<PlanId> {
    let candidates: Vec<PlanId> = match (allowed, comm_plan) {
        (None, _) => (0..plans.len() as u32).map(PlanId).collect(),
        (Some(allowed), Some(c)) => allowed.get(c.0 as usize).cloned().unwrap_or_default(),
        (Some(_), None) => Vec::new(),
    };
    candidates
        .into_iter()
        .filter(|&p| {
            let plan = &plans[p.0 as usize];
            !plan.retired
                && !plan.excluded
                && match (&plan.plan_type, plan_type) {
                    (Some(a), Some(b)) => *a == plan_types[b.0 as usize],
                    _ => true,
                }
        })
        .collect()
}
