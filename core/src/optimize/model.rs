//! The optimizer's view of a fleet, and the exact cost of any assignment with O(1) move deltas.
//!
//! SIMs that may use the same plans and are billed for the same days share a class: its
//! options (plan, prorated base, prorated allowance, pool) are stored once, so a SIM costs a few
//! bytes however many plans it may use. A SIM's *fixed* cost on an option is its base and SMS
//! lines plus, on a non-pooled plan, its own overage line; pooled options add the SIM's usage and
//! allowance to their pool, whose overage line depends on the pool's totals. All lines come from
//! [`LineRules`], so the cost of an assignment here is the cost engine's bill to the micro.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::cost::LineRules;
use crate::fleet::{
    CommPlanId, Fleet, FleetTerms, Overage, PlanId, PlanTypeId, Pooling, SimProfile,
};
use crate::money::{Bytes, Money};

/// What users may ask of an optimization besides eligibility (DESIGN §3). Locks are part of the
/// fleet (a SIM's or its plan's `locked` flag); these are per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Constraints {
    /// Anti-churn: a SIM changes plan only where that saves at least this much. The optimizer
    /// minimises `bill + min_saving × changes`, and undoing any single change of the result
    /// would raise the bill by at least this.
    pub min_saving: Money,
    /// At most this many SIMs change plan.
    pub max_changes: Option<u64>,
}

/// "Not in a shared pool".
pub(crate) const NO_POOL: u32 = u32::MAX;

/// One plan a class of SIMs may be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OptionTerms {
    pub plan: PlanId,
    /// Base line (prorated, rounded), micros.
    pub base: i64,
    /// Allowance (prorated), bytes.
    pub allowance: u64,
    /// Shared pool index, or [`NO_POOL`].
    pub pool: u32,
}

/// SIMs with the same options and billed days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    /// Index of the first option in [`Model::options`].
    pub first: u32,
    /// How many options.
    pub len: u32,
}

/// What the optimizer knows of one SIM ([`Model::sim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SimTerms {
    /// Usage as billed, bytes.
    pub usage: u64,
    /// SMS count.
    pub sms: u32,
    /// Its class.
    pub class: u32,
    /// Its current plan, as an option index within the class.
    pub current: u32,
}

/// One SIM as the model keeps it, in 16 bytes: its class and current option, shared by most
/// SIMs, are one index into [`Model::standings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredSim {
    /// Usage as billed, bytes.
    pub usage: u64,
    /// SMS count.
    pub sms: u32,
    /// Index into [`Model::standings`].
    standing: u32,
}

/// Where SIMs stand: their class and current option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Standing {
    class: u32,
    current: u32,
}

/// A price per unit (an SMS, an overage block), with whether every multiple of it is already a
/// whole minor unit, so lines can skip the rounding division on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnitPrice {
    micros: i64,
    whole: bool,
}

impl UnitPrice {
    fn new(price: Money, rules: &LineRules) -> Self {
        let unit = 10i64.pow(crate::money::MONEY_DECIMALS - rules.decimals);
        UnitPrice {
            micros: price.micros(),
            whole: price.micros() % unit == 0,
        }
    }

    /// `count × price`, rounded to the minor unit exactly as [`LineRules`] rounds a line.
    fn line(self, count: u64, decimals: u32) -> i64 {
        if self.whole {
            self.micros * count as i64
        } else {
            Money::from_micros(self.micros)
                .mul_ratio_round(count as i64, 1, decimals)
                .micros()
        }
    }
}

/// Overage terms ready for the hot path: `None` when no overage is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverageTerms {
    rate: UnitPrice,
    block: u64,
    /// The most bytes over the allowance whose line is still zero (`u64::MAX` at a zero rate):
    /// [`OverageTerms::free_blocks`] blocks, kept so classic's "fits", asked for every option
    /// of every SIM it places, divides nothing.
    free: u64,
}

impl OverageTerms {
    fn new(terms: Option<Overage>, rules: &LineRules) -> Option<Self> {
        let t = terms.filter(|_| rules.bills_overage)?;
        let mut terms = OverageTerms {
            rate: UnitPrice::new(t.rate, rules),
            block: t.block.0,
            free: 0,
        };
        terms.free = if terms.rate.micros == 0 {
            u64::MAX
        } else {
            terms
                .free_blocks(rules.decimals)
                .saturating_mul(terms.block)
        };
        Some(terms)
    }

    /// Whether the line of `usage` against `allowance` is zero (as `charge(..) == 0`).
    #[inline]
    fn is_free(self, usage: u64, allowance: u64) -> bool {
        usage <= allowance.saturating_add(self.free)
    }

    /// How many blocks over the allowance are still charged zero: `count × rate` rounds to zero
    /// (half away from zero) while `2 × count × rate < one minor unit`.
    fn free_blocks(self, decimals: u32) -> u64 {
        let unit = 10i64.pow(crate::money::MONEY_DECIMALS - decimals);
        if self.rate.whole || self.rate.micros <= 0 {
            return 0;
        }
        ((unit - 1) / (2 * self.rate.micros)) as u64
    }

    /// The overage line of `usage` against `allowance`.
    fn charge(self, usage: u64, allowance: u64, decimals: u32) -> i64 {
        if usage <= allowance {
            return 0;
        }
        self.rate
            .line((usage - allowance).div_ceil(self.block), decimals)
    }
}

/// The whole optimization problem.
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) rules: LineRules,
    pub(crate) pool_terms: Vec<Option<Overage>>,
    plan_overage_fast: Vec<Option<OverageTerms>>,
    plan_sms_fast: Vec<UnitPrice>,
    pool_fast: Vec<Option<OverageTerms>>,
    pub(crate) options: Vec<OptionTerms>,
    pub(crate) classes: Vec<Class>,
    /// The most options of any class (derived from `classes`, so not part of the fingerprint).
    pub(crate) most_options: u32,
    pub(crate) sims: Vec<StoredSim>,
    /// The distinct class and current option pairs of [`Model::sims`].
    standings: Vec<Standing>,
    /// What the objective adds for each SIM that leaves its current plan (micros): the
    /// minimum saving per change ([`Constraints`]). Zero: the objective is the bill.
    pub(crate) change_cost: i64,
    /// At most this many SIMs may leave their current plan (`u64::MAX`: no limit).
    pub(crate) max_changes: u64,
    /// Derived for the dual evaluation (not part of the fingerprint: a function of the rest),
    /// on first use: classic, which comes first, does without it, and the two do not take
    /// memory at the same time (at a million SIMs each is tens of megabytes).
    lagrangian: OnceLock<super::bound::Lagrangian>,
}

impl Model {
    /// Builds the model of a fleet without constraints.
    pub fn new(fleet: &Fleet) -> Model {
        Model::constrained(fleet, &Constraints::default())
    }

    /// Builds the model of a fleet: every SIM may stay on its current plan or move to any plan
    /// eligible for it ([`Fleet::eligible_plans`]), unless it is locked — by its own flag or its
    /// current plan's — and each change costs the objective `constraints.min_saving`.
    pub fn constrained(fleet: &Fleet, constraints: &Constraints) -> Model {
        Model::of(fleet, None, constraints)
    }

    /// [`Model::constrained`] of the fleet, or of the fleet of the SIMs in `part` only
    /// (indices into its SIMs): the model of `fleet.part(part)` without copying SIMs.
    pub(crate) fn of(
        fleet: &impl FleetTerms,
        part: Option<&[u32]>,
        constraints: &Constraints,
    ) -> Model {
        match part {
            None => Model::of_sims(
                fleet.frame(),
                (0..fleet.sim_count()).map(|i| fleet.sim(i)),
                constraints,
            ),
            Some(part) => Model::of_sims(
                fleet.frame(),
                part.iter().map(|&i| fleet.sim(i as usize)),
                constraints,
            ),
        }
    }

    fn of_sims(
        fleet: &Fleet,
        fleet_sims: impl ExactSizeIterator<Item = (SimProfile, Bytes, u32)>,
        constraints: &Constraints,
    ) -> Model {
        let rules = LineRules::of(&fleet.settings);
        let mut options = Vec::new();
        let mut classes: Vec<Class> = Vec::new();
        let mut class_of: HashMap<(Vec<PlanId>, Option<u16>), u32> = HashMap::new();
        let mut eligible: HashMap<(Option<CommPlanId>, Option<PlanTypeId>), Vec<PlanId>> =
            HashMap::new();
        // SIMs alike in what decides their options share class and current option: looked up
        // by their profile first (most SIMs), without building their option list.
        let mut known: HashMap<SimProfile, u32> = HashMap::new();
        let mut standings: Vec<Standing> = Vec::new();
        let mut standing_of: HashMap<Standing, u32> = HashMap::new();
        let mut sims = Vec::with_capacity(fleet_sims.len());
        for (profile, usage, sms) in fleet_sims {
            let standing = match known.get(&profile).copied() {
                Some(found) => found,
                None => {
                    let locked = fleet.locks(&profile);
                    let allowed = eligible
                        .entry((profile.comm_plan, profile.plan_type))
                        .or_insert_with(|| {
                            fleet.eligible_for(profile.comm_plan, profile.plan_type)
                        });
                    let mut plans = if locked { Vec::new() } else { allowed.clone() };
                    if let Err(at) = plans.binary_search(&profile.current_plan) {
                        plans.insert(at, profile.current_plan);
                    }
                    let current = plans
                        .binary_search(&profile.current_plan)
                        .unwrap_or_default() as u32;
                    let key = (plans, profile.active_days);
                    let class = match class_of.get(&key) {
                        Some(c) => *c,
                        None => {
                            let c = classes.len() as u32;
                            classes.push(Class {
                                first: options.len() as u32,
                                len: key.0.len() as u32,
                            });
                            for &plan_id in &key.0 {
                                let plan = fleet.plan(plan_id);
                                options.push(OptionTerms {
                                    plan: plan_id,
                                    base: rules.base(plan, profile.active_days).micros(),
                                    allowance: rules.allowance(plan, profile.active_days).0,
                                    pool: match plan.pooling {
                                        Pooling::Shared(p) => p.0,
                                        Pooling::PerSim => NO_POOL,
                                    },
                                });
                            }
                            class_of.insert(key, c);
                            c
                        }
                    };
                    let standing = Standing { class, current };
                    let index = *standing_of.entry(standing).or_insert_with(|| {
                        standings.push(standing);
                        standings.len() as u32 - 1
                    });
                    known.insert(profile, index);
                    index
                }
            };
            sims.push(StoredSim {
                usage: usage.0,
                sms,
                standing,
            });
        }
        Model {
            plan_overage_fast: fleet
                .plans
                .iter()
                .map(|p| OverageTerms::new(p.overage, &rules))
                .collect(),
            plan_sms_fast: fleet
                .plans
                .iter()
                .map(|p| UnitPrice::new(p.sms_rate, &rules))
                .collect(),
            pool_fast: fleet
                .pools
                .iter()
                .map(|p| OverageTerms::new(p.overage, &rules))
                .collect(),
            rules,
            pool_terms: fleet.pools.iter().map(|p| p.overage).collect(),
            options,
            most_options: classes.iter().map(|c| c.len).max().unwrap_or(0),
            classes,
            sims,
            standings,
            change_cost: constraints.min_saving.micros().max(0),
            max_changes: constraints.max_changes.unwrap_or(u64::MAX),
            lagrangian: OnceLock::new(),
        }
    }

    /// What the dual evaluation derives from the model, built on first use.
    #[inline]
    pub(crate) fn lagrangian(&self) -> &super::bound::Lagrangian {
        self.lagrangian
            .get_or_init(|| super::bound::Lagrangian::new(self))
    }

    /// Whether [`Model::lagrangian`] has been built.
    #[cfg(test)]
    pub(crate) fn lagrangian_built(&self) -> bool {
        self.lagrangian.get().is_some()
    }

    /// Whether the number of changes is limited.
    #[inline]
    pub(crate) fn limits_changes(&self) -> bool {
        self.max_changes != u64::MAX
    }

    /// Number of SIMs.
    pub fn sim_count(&self) -> usize {
        self.sims.len()
    }

    /// SIM `i`: its usage, SMS count, class and current option.
    #[inline]
    pub(crate) fn sim(&self, i: usize) -> SimTerms {
        let sim = self.sims[i];
        let Standing { class, current } = self.standings[sim.standing as usize];
        SimTerms {
            usage: sim.usage,
            sms: sim.sms,
            class,
            current,
        }
    }

    /// The options of SIM `i`.
    pub(crate) fn options_of(&self, i: usize) -> &[OptionTerms] {
        let class = &self.classes[self.sim(i).class as usize];
        &self.options[class.first as usize..(class.first + class.len) as usize]
    }

    /// SIM `i`'s fixed cost on option `o` in the objective (micros): [`Model::fixed_bill`]
    /// plus the change cost when `o` is not its current plan.
    #[inline]
    pub(crate) fn fixed(&self, i: usize, o: &OptionTerms) -> i64 {
        let cost = self.fixed_bill(i, o);
        if self.change_cost != 0 && o.plan != self.current_plan(i) {
            cost + self.change_cost
        } else {
            cost
        }
    }

    /// SIM `i`'s fixed cost on option `o` in the bill (micros): base, SMS and, off pools, its
    /// own overage. The same lines as [`LineRules`] computes (the tests compare them with the
    /// bill).
    #[inline]
    pub(crate) fn fixed_bill(&self, i: usize, o: &OptionTerms) -> i64 {
        let sim = &self.sims[i];
        self.fixed_of(sim.usage, sim.sms, o)
    }

    /// SIM `i`'s current plan.
    #[inline]
    pub(crate) fn current_plan(&self, i: usize) -> PlanId {
        let sim = self.sim(i);
        self.options[(self.classes[sim.class as usize].first + sim.current) as usize].plan
    }

    /// [`Model::fixed`] of a SIM with this usage and SMS count.
    #[inline]
    pub(crate) fn fixed_of(&self, usage: u64, sms: u32, o: &OptionTerms) -> i64 {
        let plan = o.plan.0 as usize;
        let decimals = self.rules.decimals;
        let mut cost = o.base;
        cost += self.sms_line(sms, o.plan);
        if o.pool == NO_POOL {
            if let Some(terms) = self.plan_overage_fast[plan] {
                cost += terms.charge(usage, o.allowance, decimals);
            }
        }
        cost
    }

    /// The most a SIM may use on non-pooled option `o` while its own overage line is zero:
    /// the allowance plus the blocks whose charge still rounds to zero (a rate below half a
    /// minor unit), or no limit when the plan bills no overage.
    #[inline]
    pub(crate) fn own_limit(&self, o: &OptionTerms) -> u64 {
        match self.plan_overage_fast[o.plan.0 as usize] {
            Some(t) => o.allowance.saturating_add(t.free),
            None => u64::MAX,
        }
    }

    /// Whether pool `pool`'s overage line is zero at these totals (as `pool_charge(..) == 0`,
    /// without its division).
    #[inline]
    pub(crate) fn pool_is_free(&self, pool: u32, usage: u64, allowance: u64) -> bool {
        self.pool_fast[pool as usize].is_none_or(|t| t.is_free(usage, allowance))
    }

    /// A plan's SMS rate, micros per message.
    pub(crate) fn sms_rate(&self, plan: PlanId) -> i64 {
        self.plan_sms_fast[plan.0 as usize].micros
    }

    /// The SMS line of `sms` messages on `plan` (micros).
    #[inline]
    pub(crate) fn sms_line(&self, sms: u32, plan: PlanId) -> i64 {
        if sms == 0 {
            0
        } else {
            self.plan_sms_fast[plan.0 as usize].line(u64::from(sms), self.rules.decimals)
        }
    }

    /// A pool's overage line (micros) for its usage and allowance totals.
    #[inline]
    pub(crate) fn pool_charge(&self, pool: u32, usage: u64, allowance: u64) -> i64 {
        match self.pool_fast[pool as usize] {
            Some(terms) => terms.charge(usage, allowance, self.rules.decimals),
            None => 0,
        }
    }

    /// A 64-bit FNV-1a digest of everything the optimizer reads: a checkpoint records it, so it
    /// is never resumed against another input.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |v: u64| {
            for b in v.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        let r = &self.rules;
        eat(u64::from(r.decimals));
        eat(u64::from(r.bills_rate) << 1 | u64::from(r.bills_overage));
        eat(r.period_days);
        if self.change_cost != 0 || self.max_changes != u64::MAX {
            // (Absent without constraints: digests of unconstrained runs stay as they were.)
            eat(self.change_cost as u64);
            eat(self.max_changes);
        }
        for t in self.plan_overage_fast.iter().chain(&self.pool_fast) {
            match t {
                Some(t) => {
                    eat(t.rate.micros as u64);
                    eat(t.block);
                }
                None => eat(u64::MAX),
            }
        }
        for rate in &self.plan_sms_fast {
            eat(rate.micros as u64);
        }
        for o in &self.options {
            eat(u64::from(o.plan.0));
            eat(o.base as u64);
            eat(o.allowance);
            eat(u64::from(o.pool));
        }
        for c in &self.classes {
            eat(u64::from(c.first) << 32 | u64::from(c.len));
        }
        for i in 0..self.sims.len() {
            let s = self.sim(i);
            eat(s.usage);
            eat(u64::from(s.sms));
            eat(u64::from(s.class) << 32 | u64::from(s.current));
        }
        h
    }

    /// The bill of an assignment (micros): its objective without the change costs.
    pub fn bill(&self, a: &Assignment) -> i64 {
        a.cost(self) - self.change_cost * a.changes as i64
    }

    /// The assignment that leaves every SIM where it is.
    pub fn current(&self) -> Assignment {
        Assignment::new(
            self,
            (0..self.sims.len()).map(|i| self.sim(i).current).collect(),
        )
    }
}

/// A plan for every SIM (as option indices), with the pool totals kept up to date so the cost of
/// a move is known in O(1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    pub(crate) choice: Vec<u32>,
    pub(crate) pool_usage: Vec<u64>,
    pub(crate) pool_allowance: Vec<u64>,
    pub(crate) fixed_total: i64,
    /// How many SIMs are off their current plan.
    pub(crate) changes: u64,
}

impl Assignment {
    /// An assignment from option indices (one per SIM, within its class).
    pub(crate) fn new(model: &Model, choice: Vec<u32>) -> Assignment {
        let mut tally = Tally::new(model, choice);
        tally.add(model, 0, model.sims.len());
        tally.assignment
    }

    /// How many SIMs leave their current plan.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Whether SIM `i` may take any option: false only at the limit on changes for a SIM still
    /// on its plan.
    #[inline]
    fn may_change(&self, model: &Model, i: usize) -> bool {
        self.changes < model.max_changes || self.choice[i] != model.sim(i).current
    }

    /// Whether moving SIM `i` to option `to` keeps the changes within the model's limit.
    #[inline]
    pub(crate) fn may_move(&self, model: &Model, i: usize, to: u32) -> bool {
        to == model.sim(i).current || self.may_change(model, i)
    }

    /// Whether SIMs `i` and `j` may exchange options within the model's limit on changes.
    #[inline]
    pub(crate) fn may_swap(&self, model: &Model, i: usize, j: usize) -> bool {
        if !model.limits_changes() {
            return true;
        }
        let (ci, cj) = (model.sim(i).current, model.sim(j).current);
        let (oi, oj) = (self.choice[i], self.choice[j]);
        let before = u64::from(oi != ci) + u64::from(oj != cj);
        let after = u64::from(oj != ci) + u64::from(oi != cj);
        self.changes - before + after <= model.max_changes
    }

    /// The objective of this assignment, in micros: the bill, plus the change cost per SIM that
    /// leaves its plan ([`Model::bill`] is the bill alone).
    pub fn cost(&self, model: &Model) -> i64 {
        self.fixed_total
            + (0..model.pool_terms.len())
                .map(|p| model.pool_charge(p as u32, self.pool_usage[p], self.pool_allowance[p]))
                .sum::<i64>()
    }

    /// How the bill changes (micros) if SIM `i` moves to option `to`: the plain definition, the
    /// reference the tests hold [`Assignment::best_move`] and [`Assignment::swap_delta`] to.
    pub(crate) fn delta(&self, model: &Model, i: usize, to: u32) -> i64 {
        let from = self.choice[i];
        if from == to {
            return 0;
        }
        let options = model.options_of(i);
        let (a, b) = (options[from as usize], options[to as usize]);
        let usage = model.sims[i].usage;
        let mut delta = model.fixed(i, &b) - model.fixed(i, &a);
        if a.pool != NO_POOL && a.pool == b.pool {
            let p = a.pool as usize;
            let (u, al) = (self.pool_usage[p], self.pool_allowance[p]);
            delta += model.pool_charge(a.pool, u, al - a.allowance + b.allowance)
                - model.pool_charge(a.pool, u, al);
            return delta;
        }
        if a.pool != NO_POOL {
            let p = a.pool as usize;
            let (u, al) = (self.pool_usage[p], self.pool_allowance[p]);
            delta += model.pool_charge(a.pool, u - usage, al - a.allowance)
                - model.pool_charge(a.pool, u, al);
        }
        if b.pool != NO_POOL {
            let p = b.pool as usize;
            let (u, al) = (self.pool_usage[p], self.pool_allowance[p]);
            delta += model.pool_charge(b.pool, u + usage, al + b.allowance)
                - model.pool_charge(b.pool, u, al);
        }
        delta
    }

    /// SIM `i`'s cheapest move: the option whose [`Assignment::delta`] is lowest (the first such,
    /// strictly below zero), or `None` when no move lowers the bill. The same choice as trying
    /// every option with `delta`, with the SIM's own and its pool's side computed once.
    pub(crate) fn best_move(&self, model: &Model, i: usize) -> Option<(i64, u32)> {
        let from = self.choice[i];
        if !self.may_change(model, i) {
            return None; // every move would be one change too many
        }
        let options = model.options_of(i);
        let a = options[from as usize];
        let usage = model.sims[i].usage;
        // Leaving option a: its fixed cost, and its pool without the SIM.
        let mut leave = -model.fixed(i, &a);
        let (pa_u, pa_al) = if a.pool != NO_POOL {
            let p = a.pool as usize;
            let (u, al) = (self.pool_usage[p], self.pool_allowance[p]);
            let before = model.pool_charge(a.pool, u, al);
            leave += model.pool_charge(a.pool, u - usage, al - a.allowance) - before;
            (u, al)
        } else {
            (0, 0)
        };
        let mut best: Option<(i64, u32)> = None;
        for (to, b) in options.iter().enumerate() {
            let to = to as u32;
            if to == from {
                continue;
            }
            let d = if b.pool != NO_POOL && b.pool == a.pool {
                // Same pool: only the allowance changes.
                model.fixed(i, b) - model.fixed(i, &a)
                    + model.pool_charge(a.pool, pa_u, pa_al - a.allowance + b.allowance)
                    - model.pool_charge(a.pool, pa_u, pa_al)
            } else if b.pool != NO_POOL {
                let p = b.pool as usize;
                let (u, al) = (self.pool_usage[p], self.pool_allowance[p]);
                leave + model.fixed(i, b) + model.pool_charge(b.pool, u + usage, al + b.allowance)
                    - model.pool_charge(b.pool, u, al)
            } else {
                leave + model.fixed(i, b)
            };
            if d < best.map_or(0, |(bd, _)| bd) {
                best = Some((d, to));
            }
        }
        best
    }

    /// How the bill changes if SIMs `i` and `j` — of the same class — exchange options. Their
    /// options are the same (plans, allowances), so each pool keeps its allowance and only the
    /// usage moves: no need to apply anything.
    pub(crate) fn swap_delta(&self, model: &Model, i: usize, j: usize) -> i64 {
        debug_assert_eq!(model.sim(i).class, model.sim(j).class);
        let (oi, oj) = (self.choice[i], self.choice[j]);
        if oi == oj {
            return 0;
        }
        let options = model.options_of(i);
        let (a, b) = (options[oi as usize], options[oj as usize]);
        let mut d =
            model.fixed(i, &b) - model.fixed(i, &a) + model.fixed(j, &a) - model.fixed(j, &b);
        if a.pool == b.pool {
            return d; // one pool: its usage and allowance stay the same
        }
        let (ui, uj) = (model.sims[i].usage, model.sims[j].usage);
        for (pool, gives, takes) in [(a.pool, ui, uj), (b.pool, uj, ui)] {
            if pool != NO_POOL {
                let p = pool as usize;
                let (u, al) = (self.pool_usage[p], self.pool_allowance[p]);
                d +=
                    model.pool_charge(pool, u - gives + takes, al) - model.pool_charge(pool, u, al);
            }
        }
        d
    }

    /// Moves SIM `i` to option `to`.
    pub(crate) fn apply(&mut self, model: &Model, i: usize, to: u32) {
        let from = self.choice[i];
        if from == to {
            return;
        }
        let options = model.options_of(i);
        let (a, b) = (options[from as usize], options[to as usize]);
        let usage = model.sims[i].usage;
        self.fixed_total += model.fixed(i, &b) - model.fixed(i, &a);
        let current = model.sim(i).current;
        self.changes = self.changes + u64::from(to != current) - u64::from(from != current);
        if a.pool != NO_POOL {
            self.pool_usage[a.pool as usize] -= usage;
            self.pool_allowance[a.pool as usize] -= a.allowance;
        }
        if b.pool != NO_POOL {
            self.pool_usage[b.pool as usize] += usage;
            self.pool_allowance[b.pool as usize] += b.allowance;
        }
        self.choice[i] = to;
    }

    /// The plan of every SIM, for [`crate::cost::bill`].
    pub fn plans(&self, model: &Model) -> Vec<PlanId> {
        (0..model.sims.len()).map(|i| self.plan(model, i)).collect()
    }

    /// SIM `i`'s plan.
    #[inline]
    pub(crate) fn plan(&self, model: &Model, i: usize) -> PlanId {
        model.options_of(i)[self.choice[i] as usize].plan
    }
}

/// An [`Assignment`] made from its choices a quantum of SIMs at a time: the pool totals, the
/// fixed total and the changes that [`Assignment::new`] adds up at once — longer, at a million
/// SIMs, than a slice should take.
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    assignment: Assignment,
    next: usize,
}

impl Tally {
    pub(crate) fn new(model: &Model, choice: Vec<u32>) -> Tally {
        Tally {
            assignment: Assignment {
                choice,
                pool_usage: vec![0; model.pool_terms.len()],
                pool_allowance: vec![0; model.pool_terms.len()],
                fixed_total: 0,
                changes: 0,
            },
            next: 0,
        }
    }

    /// Adds SIMs `from..to` to the totals.
    fn add(&mut self, model: &Model, from: usize, to: usize) {
        let a = &mut self.assignment;
        for i in from..to {
            a.changes += u64::from(a.choice[i] != model.sim(i).current);
            let o = model.options_of(i)[a.choice[i] as usize];
            a.fixed_total += model.fixed(i, &o);
            if o.pool != NO_POOL {
                a.pool_usage[o.pool as usize] += model.sims[i].usage;
                a.pool_allowance[o.pool as usize] += o.allowance;
            }
        }
        self.next = to;
    }

    /// The assignment, once every SIM is added.
    pub(crate) fn finish(self) -> Assignment {
        debug_assert_eq!(self.next, self.assignment.choice.len());
        self.assignment
    }
}

impl super::phase::Phase for Tally {
    fn quantum(&mut self, model: &Model) -> bool {
        let end = (self.next + super::phase::QUANTUM_SIMS).min(model.sims.len());
        self.add(model, self.next, end);
        self.next == model.sims.len()
    }

    fn encode(&self, w: &mut super::checkpoint::Writer) {
        super::search::encode_assignment(&self.assignment, w);
        w.u64(self.next as u64);
    }

    fn decode(
        r: &mut super::checkpoint::Reader<'_>,
        model: &Model,
    ) -> Result<Self, super::checkpoint::DecodeError> {
        let choice = super::search::decode_choices(r, model)?;
        let next = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize;
        // The totals so far are a function of the choices: added up again.
        let mut tally = Tally::new(model, choice);
        tally.add(model, 0, next);
        Ok(tally)
    }
}
