//! The optimizer as a job stepped under a budget (DESIGN §3): `run_slice` does quanta of work
//! until the caller's budget says stop, and answers `Yielded(progress)` or `Finished(result)`.
//! The whole state encodes to checkpoint bytes and decodes to continue exactly where it
//! stopped; a run cut into any slices, with encode/decode between them, gives the identical
//! result to an uninterrupted run. No clock inside: the budget is the caller's.
//!
//! The default method, in stages:
//! 0. run the classic method (so the result is never worse than it; the cheaper of its result
//!    and the current assignment is the best so far);
//! 1. find the best pool prices of the Lagrangian dual (the certified lower bound): bisection of
//!    every price at once, then — only where pools interact — coordinate ascent (an exact line
//!    search per price) or, where SIMs have many options or it runs out of rounds, a proximal
//!    bundle method (`bundle`); subgradient ascent under constraints;
//! 2. from the best prices: every SIM on its cheapest option, then balance each pool
//!    (`balance`: the moves that relieve or use a pool, cheapest per byte first), then exact
//!    local search (`search`); on fleets under about 8,000 SIMs, again from randomly disturbed
//!    prices (kicks);
//! 3. keep the cheapest assignment found, and list its plans for the result (a quantum of SIMs
//!    at a time, like every other stage).
//!
//! With constraints ([`Constraints`]) the objective is `bill + min_saving × changes`, the bound
//! is on that objective over the assignments within the limit on changes, and an assignment
//! with too many changes (classic's, or one recovered from prices) first gives back the changes
//! that save least (`cap`). The reported bound is the objective's minus `min_saving` times the
//! result's changes: no assignment with at most as many changes bills less.

use super::balance::Balance;
use super::bound::{
    decode_prices, max_prices, Argmin, Ascent, Bisect, ChangePrice, CHANGE_PRICE_ROUNDS,
};
use super::branch::Branch;
use super::bundle::Bundle;
use super::cap::{Settle, Trim};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::classic::Classic;
use super::coordinate::Coordinate;
use super::model::{Assignment, Constraints, Model, Tally};
use super::phase::{Phase, QUANTUM_SIMS};
use super::search::{decode_assignment, encode_assignment, Improve};
use super::Optimized;
use crate::fleet::{FleetTerms, PlanId};
use crate::money::Money;
use crate::random::SplitMix64;

/// Which method a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Classic, then the Lagrangian bound and exact local search: near-optimal, with a
    /// certified gap.
    #[default]
    Default,
    /// The old system's method (rate-plan sequences × 4 strategies), for comparison; no bound.
    Classic,
}

impl Method {
    /// The name used on the command line and in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Default => "default",
            Method::Classic => "classic",
        }
    }
}

/// How to optimize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The method.
    pub method: Method,
    /// Where some SIM may use more than one pool, or changes are limited: dual work after
    /// bisection. Under constraints, subgradient iterations at most (each one pass over the
    /// SIMs); without, any value above zero turns coordinate ascent or the bundle method on
    /// (they end by themselves). Zero: bisection only.
    pub dual_iterations: u32,
    /// Minimum saving per change and the limit on changes.
    pub constraints: Constraints,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Default,
            dual_iterations: 100,
            constraints: Constraints::default(),
        }
    }
}

impl Options {
    /// Into a checkpoint's body.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u64(match self.method {
            Method::Default => 0,
            Method::Classic => 1,
        });
        w.u64(u64::from(self.dual_iterations));
        w.i64(self.constraints.min_saving.micros());
        w.u64(self.constraints.max_changes.unwrap_or(u64::MAX));
    }

    /// From a checkpoint's body (before format 3, without constraints).
    pub(crate) fn decode(r: &mut Reader) -> Result<Options, DecodeError> {
        let method = match r.below(2, "an unknown method")? {
            0 => Method::Default,
            _ => Method::Classic,
        };
        let dual_iterations = r.below(
            u64::from(u32::MAX) + 1,
            "an iteration limit is out of range",
        )? as u32;
        let constraints = if r.version() >= 3 {
            let min_saving = r.i64()?;
            if min_saving < 0 {
                return Err(DecodeError::Invalid("a minimum saving is negative"));
            }
            Constraints {
                min_saving: Money::from_micros(min_saving),
                max_changes: Some(r.u64()?).filter(|&k| k != u64::MAX),
            }
        } else {
            Constraints::default()
        };
        Ok(Options {
            method,
            dual_iterations,
            constraints,
        })
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// What the job is doing.
    pub phase: &'static str,
    /// Rough share of the job done, 0–1.
    pub done: f64,
    /// The bill as the fleet stands.
    pub current_cost: Money,
    /// The best bill found so far.
    pub best_cost: Money,
    /// The certified lower bound, once computed.
    pub lower_bound: Option<Money>,
}

impl Progress {
    /// `(best − bound) / best`, once a bound is known.
    pub fn gap(&self) -> Option<f64> {
        self.lower_bound.map(|b| gap(self.best_cost, b))
    }
}

/// `(cost − bound) / cost` (zero for a zero cost).
pub(crate) fn gap(cost: Money, bound: Money) -> f64 {
    if cost.micros() <= 0 {
        0.0
    } else {
        (cost.micros() - bound.micros()).max(0) as f64 / cost.micros() as f64
    }
}

/// What a slice ended with.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// The budget ran out; call `run_slice` again.
    Yielded(Progress),
    /// The job is done.
    Finished(Optimized),
}

#[derive(Debug, Clone)]
enum Stage {
    Classic(Classic),
    Bisect(Bisect),
    ChangePrice(ChangePrice),
    Ascent(Ascent),
    /// Coordinate ascent, where SIMs have at most [`COORDINATE_OPTIONS`] options.
    Coordinate(Coordinate),
    /// The bundle method, where SIMs have more, or after coordinate ascent ran out of rounds.
    Bundle(Bundle),
    /// The bundle method climbing on from coordinate ascent's prices after plans recovered
    /// from them stayed over the target gap.
    BundleOnward(Bundle),
    Recover(Recovery, Argmin),
    Balance(Recovery, Balance),
    ImproveRecovered(Recovery, Improve),
    ImproveStart(Improve),
    /// On small fleets, branch and bound component by component.
    Branch(Branch),
    Trim(Then, Trim),
    /// An assignment's totals added up a quantum at a time (after classic and recovery).
    Tally(Then, Tally),
    Settle(Settle),
    /// The best assignment's plans, listed a quantum of SIMs at a time (at a million SIMs,
    /// longer at once than a slice should take) for the result.
    Output(Vec<PlanId>),
    /// Finished: the best assignment's plans.
    Done(Vec<PlanId>),
}

/// Lists the plans of the next quantum of SIMs of `best` after those in `plans`; true once
/// every SIM's is listed.
fn list_plans(model: &Model, best: &Assignment, plans: &mut Vec<PlanId>) -> bool {
    let end = (plans.len() + QUANTUM_SIMS).min(model.sims.len());
    plans.extend((plans.len()..end).map(|i| best.plan(model, i)));
    end == model.sims.len()
}

/// Where an assignment goes once its totals are added up and it keeps to the limit on changes
/// (trimmed if it did not).
#[derive(Debug, Clone)]
enum Then {
    /// Classic's result: kept if cheaper, then the method goes on as after classic.
    Classic,
    /// Recovered at these prices: balanced next.
    Balance(Recovery, Vec<i128>),
}

impl Then {
    fn encode(&self, w: &mut Writer) {
        match self {
            Then::Classic => w.u64(0),
            Then::Balance(r, prices) => {
                w.u64(1);
                r.encode(w);
                for p in prices {
                    w.i128(*p);
                }
            }
        }
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        Ok(match r.below(2, "an unknown successor")? {
            0 => Then::Classic,
            _ => {
                let recovery = Recovery::decode(r, model)?;
                Then::Balance(recovery, decode_prices(r, model)?)
            }
        })
    }
}

/// The price vectors to recover from, which one is in hand, and where a climb starts
/// afterwards: subgradient ascent where pools interact under bisection (its prices are only a
/// start there), the bundle method after coordinate ascent where the bill stays over the
/// target gap. Then,
/// on small fleets, kicks: recoveries from the last distinct candidate's prices randomly
/// disturbed — iterated local search, for fleets where one recovery leaves most of the gap (a
/// few hundred SIMs on many plans). That candidate is the best bound's prices, or, where those
/// equal the upper bracket ends (kept once, first), the lower ends next to them.
#[derive(Debug, Clone)]
struct Recovery {
    candidates: Vec<Vec<i128>>,
    current: usize,
    ascend_from: Option<Vec<i128>>,
    /// Kicks left.
    kicks: u32,
    /// The state of the generator that disturbs the prices.
    rng: u64,
    /// Whether it follows a climb from an earlier recovery (for the share done).
    climbed: bool,
}

/// Kicks cost about one recovery each (a pass over the SIMs, balancing and local search): a
/// fleet gets `KICK_WORK / SIMs` of them, at most [`MAX_KICKS`], none when that is under
/// three (from about 8,000 SIMs on, where one recovery comes within 0.05 % of the bound and
/// kicks found nothing better on the bench fleets).
const KICK_WORK: u64 = 25_000;
const MAX_KICKS: u64 = 100;
const KICK_SEED: u64 = 0x005E_ED0F_C1C5;

/// The kicks a recovery of `model` makes: none under constraints.
fn kicks(model: &Model) -> u32 {
    match KICK_WORK / (model.sims.len() as u64).max(1) {
        _ if model.limits_changes() => 0,
        k if k < 3 => 0,
        k => k.min(MAX_KICKS) as u32,
    }
}

/// Fleets of at most this many SIMs recover plans from the bundle method's centre too when
/// its settled prices did not come close enough: which of the two recovers better varies from
/// fleet to fleet (on 10,000 SIMs × 4 × 50 plans, 0.045–0.061 % against 0.043–0.045 %), while
/// from 100,000 SIMs on the settled prices alone were as good (0.01–0.04 % on the bench
/// fleets) and a second recovery — a pass over the SIMs, balancing and local search — adds
/// about half to the run's time (100,000 × 4 × 50, seed 7: 2.0–2.5 s became 3.1–3.6 s on a
/// shared 2-core machine, for a bill 0.0006 % lower).
const SECOND_RECOVERY_SIMS: u64 = 50_000;

/// Where pools interact, SIMs with at most this many options climb by coordinate ascent first
/// (and the bundle method only where it runs out of rounds); with more, the bundle method at
/// once. Measured on the bench fleets (seed 7): with up to 15 plans per communication plan,
/// coordinate ascent converges and its prices recover the better plans (100,000 SIMs × 4 × 12
/// in two work units: 0.017 % against the bundle's 0.085 %; 1,000,000 × 5 × 10: 0.039 %
/// against 0.051 %); with 50, it stalls 0.1–0.2 % under the LP optimum (4 × 50: 0.96 % at
/// 10,000 SIMs, 0.82 % at 100,000, on its prices alone) where the bundle method reaches
/// 0.045 % and 0.012 %. Where coordinate ascent's prices leave the bill over the target gap
/// after local search, the bundle method climbs on from them and plans are recovered again.
pub(crate) const COORDINATE_OPTIONS: u32 = 24;

impl Recovery {
    /// The next kick's prices: each of the last candidate's moved by up to its own size, by
    /// a third, two thirds or all of that in turn, within its limits.
    fn kicked(&mut self, model: &Model) -> Vec<i128> {
        let mut rng = SplitMix64::new(self.rng);
        let scale = i128::from(self.kicks % 3 + 1);
        let base = self.candidates.last().expect("a recovery has a candidate");
        let prices = base
            .iter()
            .zip(max_prices(model))
            .map(|(&p, &max)| {
                let r = rng.between(0, 2000) as i128 - 1000;
                (p + p * r * scale / 3000).clamp(0, max)
            })
            .collect();
        self.rng = rng.state();
        prices
    }

    /// Share of the job done, given the share of the recovery in hand: the candidates, then
    /// the kicks (each kick recovers again from the last candidate's place).
    fn done(&self, model: &Model, inner: f64) -> f64 {
        let (candidates, all_kicks) = (self.candidates.len(), kicks(model));
        let kicked = all_kicks.saturating_sub(self.kicks) as usize;
        let before = match kicked {
            0 => self.current,
            k => candidates + k - 1,
        };
        let share = (before as f64 + inner) / (candidates + all_kicks as usize).max(1) as f64;
        // A first recovery from 0.3 to 0.6; a climb from its plans, to 0.65; a recovery after
        // that, to 0.7.
        if self.climbed {
            0.65 + 0.05 * share
        } else {
            0.3 + 0.3 * share
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.u64(self.candidates.len() as u64);
        for p in self.candidates.iter().flatten() {
            w.i128(*p);
        }
        w.u64(self.current as u64);
        w.bool(self.ascend_from.is_some());
        for p in self.ascend_from.iter().flatten() {
            w.i128(*p);
        }
        w.u64(u64::from(self.kicks));
        w.u64(self.rng);
        w.bool(self.climbed);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let n = r.below(128, "too many recovery candidates")? as usize;
        let mut candidates = Vec::with_capacity(n);
        for _ in 0..n {
            candidates.push(decode_prices(r, model)?);
        }
        let current = r.below(n as u64, "a recovery index is out of range")? as usize;
        let ascend_from = if r.bool()? {
            Some(decode_prices(r, model)?)
        } else {
            None
        };
        // Before version 6 there were no kicks.
        let (kicks, rng) = if r.version() >= 6 {
            (r.below(MAX_KICKS + 1, "too many kicks")? as u32, r.u64()?)
        } else {
            (0, KICK_SEED)
        };
        // Before version 13 no recovery recorded a climb before it.
        let climbed = r.version() >= 13 && r.bool()?;
        Ok(Recovery {
            candidates,
            current,
            ascend_from,
            kicks,
            rng,
            climbed,
        })
    }
}

/// The optimization of one work unit (the whole fleet, or a part of it no plan choice couples
/// to the rest: [`super::units`]) in progress.
#[derive(Debug, Clone)]
pub(crate) struct UnitJob {
    model: Model,
    options: Options,
    fingerprint: u64,
    current_cost: i64,
    best: Assignment,
    /// Classic's result (or the current plans, when cheaper), kept until the end: where the
    /// prices do not close the gap — small fleets, whose LP relaxation is loose — it is
    /// improved by local search too.
    start: Option<Assignment>,
    bound: Option<i64>,
    stage: Stage,
}

impl UnitJob {
    /// Starts optimizing `fleet` as one unit (`part`: of those SIMs only, indices into
    /// [`Fleet::sims`]).
    pub fn new(fleet: &impl FleetTerms, part: Option<&[u32]>, options: Options) -> UnitJob {
        UnitJob::of_model(Model::of(fleet, part, &options.constraints), options)
    }

    /// Starts optimizing the unit of `model` (built with `options`' constraints).
    pub(crate) fn of_model(model: Model, options: Options) -> UnitJob {
        let current = model.current();
        let current_cost = current.cost(&model);
        UnitJob {
            fingerprint: model.fingerprint(),
            options,
            current_cost,
            stage: Stage::Classic(Classic::new(&model)),
            best: current,
            start: None,
            bound: None,
            model,
        }
    }

    /// Works until `should_yield` (polled after every quantum, at least one quantum per call)
    /// says stop, or the job is done.
    pub fn run_slice(&mut self, should_yield: &mut dyn FnMut() -> bool) -> Step {
        loop {
            if matches!(self.stage, Stage::Done(_)) {
                return Step::Finished(self.result());
            }
            self.quantum();
            if !matches!(self.stage, Stage::Done(_)) && should_yield() {
                return Step::Yielded(self.progress());
            }
        }
    }

    /// The options the job runs with (after [`UnitJob::decode`], those of the checkpoint).
    pub fn options(&self) -> Options {
        self.options
    }

    /// Whether the job is done (`run_slice` would answer `Finished` at once).
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Done(_))
    }

    /// The best result so far, without finishing (for a time limit).
    pub fn result(&self) -> Optimized {
        let cost = self.model.bill(&self.best);
        Optimized {
            plans: match &self.stage {
                Stage::Done(plans) => plans.clone(),
                _ => self.best.plans(&self.model),
            },
            cost: Money::from_micros(cost),
            current_cost: Money::from_micros(self.current_cost),
            lower_bound: self.bill_bound().map(|b| Money::from_micros(b.min(cost))),
        }
    }

    /// The bound on the objective as computed, before it is capped at the result (tests hold
    /// it to brute force).
    #[cfg(test)]
    pub(crate) fn objective_bound(&self) -> Option<i64> {
        self.bound
    }

    /// Runs quanta until the job balances pools; then its model and balancing phase (`None`
    /// if it ends without).
    #[cfg(test)]
    pub(crate) fn balancing(&mut self) -> Option<(&Model, &mut Balance)> {
        while !matches!(self.stage, Stage::Balance(..) | Stage::Done(_)) {
            self.quantum();
        }
        match &mut self.stage {
            Stage::Balance(_, s) => Some((&self.model, s)),
            _ => None,
        }
    }

    /// The bound as a bill: the objective's bound less the change costs of the best
    /// assignment — no assignment with at most its changes bills less (module docs).
    fn bill_bound(&self) -> Option<i64> {
        self.bound
            .map(|b| b - self.model.change_cost * self.best.changes() as i64)
    }

    /// Where the job stands.
    pub fn progress(&self) -> Progress {
        let m = &self.model;
        let (phase, done) = match &self.stage {
            Stage::Classic(s) => {
                let (done, total) = s.progress();
                let share = done as f64 / total.max(1) as f64;
                match self.options.method {
                    Method::Classic => ("classic: plan sequences", share),
                    Method::Default => ("classic start", 0.1 * share),
                }
            }
            Stage::Bisect(s) if m.limits_changes() => {
                let rounds = f64::from(CHANGE_PRICE_ROUNDS + 1);
                let share = (f64::from(s.round) + s.done_fraction(m).min(1.0)) / rounds;
                ("bounding", 0.1 + 0.2 * share)
            }
            Stage::Bisect(s) if m.lagrangian().by_coordinates() => {
                ("bounding", 0.1 + 0.1 * s.done_fraction(m).min(1.0))
            }
            Stage::Bisect(s) => ("bounding", 0.1 + 0.2 * s.done_fraction(m).min(1.0)),
            Stage::Coordinate(s) => ("bounding", 0.2 + 0.1 * s.done_fraction(m).min(1.0)),
            Stage::Bundle(s) => ("bounding", 0.2 + 0.1 * s.done_fraction(m).min(1.0)),
            Stage::BundleOnward(s) => ("bounding", 0.6 + 0.05 * s.done_fraction(m).min(1.0)),
            Stage::ChangePrice(s) => {
                let rounds = f64::from(CHANGE_PRICE_ROUNDS + 1);
                let share = (f64::from(s.carried.round) + s.done_fraction(m)) / rounds;
                ("pricing changes", 0.1 + 0.2 * share)
            }
            Stage::Ascent(s) => (
                "bounding",
                0.6 + 0.05 * s.done_fraction(m, self.options.dual_iterations),
            ),
            Stage::Recover(r, _) => ("assigning plans at the prices", r.done(m, 0.0)),
            Stage::Balance(r, s) => ("balancing pools", r.done(m, 0.4 * s.done_fraction(m))),
            Stage::ImproveRecovered(r, s) => {
                ("improving plans", r.done(m, 0.4 + 0.6 * s.done_fraction(m)))
            }
            Stage::ImproveStart(s) => ("improving classic's plans", 0.7 + 0.1 * s.done_fraction(m)),
            Stage::Branch(s) => ("branch and bound", 0.8 + 0.15 * s.done_fraction()),
            Stage::Trim(Then::Classic, s) => {
                ("keeping to the limit on changes", 0.1 * s.done_fraction(m))
            }
            // Classic's placements are done: where classic ended.
            Stage::Tally(Then::Classic, _) => match self.options.method {
                Method::Classic => ("classic: plan sequences", 1.0),
                Method::Default => ("classic start", 0.1),
            },
            Stage::Tally(Then::Balance(r, _), _) => {
                ("assigning plans at the prices", r.done(m, 0.0))
            }
            Stage::Trim(Then::Balance(r, _), s) => (
                "keeping to the limit on changes",
                r.done(m, 0.1 * s.done_fraction(m)),
            ),
            Stage::Settle(s) => (
                "undoing changes that save too little",
                0.95 + 0.05 * s.done_fraction(m),
            ),
            Stage::Output(_) => ("finishing", 1.0),
            Stage::Done(_) => ("done", 1.0),
        };
        let best = m.bill(&self.best);
        Progress {
            phase,
            done: done.clamp(0.0, 1.0),
            current_cost: Money::from_micros(self.current_cost),
            best_cost: Money::from_micros(best),
            lower_bound: self.bill_bound().map(|b| Money::from_micros(b.min(best))),
        }
    }

    /// Recovery from each distinct price vector in turn (stopping once the bill is close
    /// enough to the bound), then perhaps a climb from `ascend_from`; `climbed` where it
    /// follows one.
    fn recover(
        &self,
        candidates: Vec<Vec<i128>>,
        ascend_from: Option<Vec<i128>>,
        climbed: bool,
    ) -> Stage {
        let mut distinct: Vec<Vec<i128>> = Vec::with_capacity(candidates.len());
        for c in candidates {
            if !distinct.contains(&c) {
                distinct.push(c);
            }
        }
        let candidates = distinct;
        let first = candidates[0].clone();
        Stage::Recover(
            Recovery {
                candidates,
                current: 0,
                ascend_from,
                kicks: kicks(&self.model),
                rng: KICK_SEED,
                climbed,
            },
            Argmin::new(&self.model, first),
        )
    }

    /// A bill close enough to the bound to stop searching: within 1/10,000 of it (a gap of
    /// 0.01 %, five times better than the product's target).
    fn enough(&self) -> i64 {
        self.bound
            .map_or(i64::MIN, |b| b.saturating_add(b.max(0) / 10_000))
    }

    /// Recovery from the bundle method's prices once it is done; `climbed` where it climbed on
    /// from plans already recovered.
    fn after_bundle(&mut self, s: Bundle, climbed: bool) -> Stage {
        // It starts from the bound before it (bisection's or coordinate ascent's) and never
        // lowers it.
        self.bound = Some(s.best_bound);
        // The settled prices first; on small fleets the centre next, when that is not close
        // enough.
        let mut candidates = vec![s.settled_prices().to_vec()];
        if self.model.sims.len() as u64 <= SECOND_RECOVERY_SIMS {
            candidates.push(s.best_prices);
        }
        self.recover(candidates, None, climbed)
    }

    /// The product's target: a bill within 1/2,000 of the bound (a gap of 0.05 %).
    fn target(&self) -> i64 {
        self.bound
            .map_or(i64::MIN, |b| b.saturating_add(b.max(0) / 2_000))
    }

    /// Recovery from kicked prices while kicks are left, else local search from classic's
    /// result.
    fn kick_or_improve_start(&mut self, mut r: Recovery) -> Stage {
        if r.kicks > 0 {
            let prices = r.kicked(&self.model);
            r.kicks -= 1;
            r.current = r.candidates.len() - 1;
            Stage::Recover(r, Argmin::new(&self.model, prices))
        } else {
            self.improve_start()
        }
    }

    /// Local search from classic's result, unless the bill is already close enough to the
    /// bound.
    fn improve_start(&mut self) -> Stage {
        let best = self.best.cost(&self.model);
        let gap = self.bound.map_or(i64::MAX, |b| best - b);
        match self.start.take() {
            // Not when classic's result is far above the best (more than twice the gap to the
            // bound): local search does not close that distance, and it is slow on big fleets.
            Some(start)
                if best > self.enough()
                    && start.cost(&self.model) - best <= gap.saturating_mul(2) =>
            {
                Stage::ImproveStart(Improve::new(&self.model, start, self.enough()))
            }
            _ => self.branch_or_settle(),
        }
    }

    /// On small fleets without constraints whose bill is not yet close enough to the bound,
    /// branch and bound (`branch`); then [`UnitJob::settle`].
    fn branch_or_settle(&self) -> Stage {
        let worth_it = self.options.method == Method::Default
            && self.bound.is_some()
            && self.best.cost(&self.model) > self.enough();
        match worth_it
            .then(|| Branch::start(&self.model, &self.best))
            .flatten()
        {
            Some(branch) => Stage::Branch(branch),
            None => self.settle(),
        }
    }

    /// The last stage: with a minimum saving per change, undo the changes that save less.
    fn settle(&self) -> Stage {
        if self.model.change_cost > 0 {
            Stage::Settle(Settle::new(self.best.clone()))
        } else {
            self.output()
        }
    }

    /// Listing the best assignment's plans, the first quantum of SIMs at once (so a fleet of
    /// at most that many is done at once).
    fn output(&self) -> Stage {
        let mut plans = Vec::new();
        if list_plans(&self.model, &self.best, &mut plans) {
            Stage::Done(plans)
        } else {
            Stage::Output(plans)
        }
    }

    fn keep_if_better(&mut self, candidate: &Assignment) {
        debug_assert!(candidate.changes() <= self.model.max_changes);
        if candidate.cost(&self.model) < self.best.cost(&self.model) {
            self.best = candidate.clone();
        }
    }

    /// What follows an assignment that keeps to the limit on changes.
    fn then(&mut self, then: Then, assignment: Assignment) -> Stage {
        match then {
            Then::Classic => self.after_classic(Some(assignment)),
            Then::Balance(r, prices) => {
                Stage::Balance(r, Balance::new(&self.model, assignment, prices))
            }
        }
    }

    /// After classic's result (within the limit on changes) is in hand.
    fn after_classic(&mut self, found: Option<Assignment>) -> Stage {
        if let Some(found) = found {
            self.keep_if_better(&found);
        }
        match self.options.method {
            Method::Classic => self.settle(),
            Method::Default => {
                self.start = Some(self.best.clone());
                Stage::Bisect(Bisect::new(&self.model))
            }
        }
    }

    fn quantum(&mut self) {
        let m = &self.model;
        let finished = match &mut self.stage {
            Stage::Classic(s) => s.quantum(m),
            Stage::Bisect(s) => s.quantum(m),
            Stage::ChangePrice(s) => s.quantum(m),
            Stage::Ascent(s) => s.quantum(m),
            Stage::Coordinate(s) => s.quantum(m),
            Stage::Bundle(s) | Stage::BundleOnward(s) => s.quantum(m),
            Stage::Recover(_, s) => s.quantum(m),
            Stage::Balance(_, s) => s.quantum(m),
            Stage::ImproveRecovered(_, s) => s.quantum(m),
            Stage::ImproveStart(s) => s.quantum(m),
            Stage::Branch(s) => s.quantum(m),
            Stage::Trim(_, s) => s.quantum(m),
            Stage::Tally(_, s) => s.quantum(m),
            Stage::Settle(s) => s.quantum(m),
            Stage::Output(plans) => list_plans(m, &self.best, plans),
            Stage::Done(_) => true,
        };
        if !finished {
            return;
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Done(Vec::new()));
        self.stage = match stage {
            Stage::Classic(s) => match s.into_best_choices() {
                Some(choice) => Stage::Tally(Then::Classic, Tally::new(&self.model, choice)),
                None => self.after_classic(None),
            },
            Stage::Tally(then, s) => {
                let assignment = s.finish();
                if assignment.changes() > self.model.max_changes {
                    Stage::Trim(then, Trim::new(assignment))
                } else {
                    self.then(then, assignment)
                }
            }
            Stage::Trim(then, s) => self.then(then, s.assignment),
            // With a limit on changes: bisect, price changes at the best prices, bisect again.
            Stage::Bisect(s) if self.model.limits_changes() && s.round < CHANGE_PRICE_ROUNDS => {
                let carried = s.carried();
                let prices = carried.best_prices.clone();
                Stage::ChangePrice(ChangePrice::new(&self.model, prices, carried))
            }
            Stage::ChangePrice(mut s) => {
                let price = s.price(&self.model);
                Stage::Bisect(Bisect::round(&self.model, price, s.carried))
            }
            Stage::Bisect(s)
                if self.model.lagrangian().by_coordinates() && self.options.dual_iterations > 0 =>
            {
                self.bound = Some(s.best_bound);
                let (target, prices) = (self.best.cost(&self.model), s.best_prices);
                if self.model.most_options > COORDINATE_OPTIONS {
                    Stage::Bundle(Bundle::new(&self.model, target, prices, s.best_bound))
                } else {
                    Stage::Coordinate(Coordinate::new(&self.model, target, prices, s.best_bound))
                }
            }
            Stage::Coordinate(s) => {
                // It starts from bisection's bound and never lowers it.
                self.bound = Some(s.best_bound);
                if s.ran_out() {
                    // Still climbing after all its rounds: prices that must move together (many
                    // plans per communication plan). The bundle method climbs on from there.
                    Stage::Bundle(Bundle::new(
                        &self.model,
                        self.best.cost(&self.model),
                        s.best_prices,
                        s.best_bound,
                    ))
                } else {
                    // Converged: its prices mostly recover plans as well as the bundle method's
                    // or better (measured: 100,000 SIMs × 4 × 12 plans in two work units,
                    // 0.017 % against 0.085 %). Where they leave the bill over the target gap,
                    // the bundle method climbs on from them (see `ImproveRecovered`).
                    self.recover(vec![s.best_prices.clone()], Some(s.best_prices), false)
                }
            }
            Stage::Bundle(s) => self.after_bundle(s, false),
            Stage::BundleOnward(s) => self.after_bundle(s, true),
            Stage::Bisect(s) => {
                self.bound = Some(s.best_bound);
                let ascend = self.model.lagrangian().coupled(&self.model)
                    && self.options.dual_iterations > 0;
                // The upper ends of the brackets first (pools at or under their allowance: the
                // balancing moves then save), the lower ends and the best prices when that is
                // not enough. Where the prices interact, the ascent's prices come next instead
                // (the other ends recovered no better there, at twice the time).
                let candidates = if ascend {
                    vec![s.upper().to_vec()]
                } else {
                    vec![
                        s.upper().to_vec(),
                        s.lower().to_vec(),
                        s.best_prices.clone(),
                    ]
                };
                self.recover(candidates, ascend.then(|| s.best_prices.clone()), false)
            }
            Stage::Ascent(s) => {
                // The ascent's prices are worth a recovery only when they beat bisection's.
                if self.bound.is_some_and(|b| s.best_bound > b) {
                    self.bound = Some(s.best_bound);
                    self.recover(vec![s.best_prices], None, true)
                } else {
                    self.improve_start()
                }
            }
            Stage::Recover(r, s) => {
                let (choice, prices) = s.into_choices();
                Stage::Tally(Then::Balance(r, prices), Tally::new(&self.model, choice))
            }
            Stage::Balance(r, s) => {
                Stage::ImproveRecovered(r, Improve::new(&self.model, s.assignment, self.enough()))
            }
            Stage::ImproveRecovered(mut r, s) => {
                self.keep_if_better(s.assignment());
                r.current += 1;
                let good = self.best.cost(&self.model) <= self.enough();
                if good {
                    self.improve_start()
                } else if let Some(prices) = r.candidates.get(r.current).cloned() {
                    Stage::Recover(r, Argmin::new(&self.model, prices))
                } else if let Some(start) = r.ascend_from.take() {
                    let best = self.best.cost(&self.model);
                    if !self.model.lagrangian().by_coordinates() {
                        // Where pools interact, climb from bisection's prices towards the bill
                        // just found (a close target keeps the subgradient steps sound), and
                        // recover again.
                        Stage::Ascent(Ascent::new(
                            &self.model,
                            best,
                            self.options.dual_iterations,
                            start,
                            self.bound.unwrap_or(i64::MIN),
                        ))
                    } else if best > self.target() {
                        // Coordinate ascent's prices left the bill over the target gap (on
                        // 50,000 SIMs × 4 × 12 plans, seed 2: 0.055 % in the end; with this
                        // climb 0.010 %): the bundle method climbs on from them towards the
                        // bill just found, and plans are recovered from its prices.
                        Stage::BundleOnward(Bundle::new(
                            &self.model,
                            best,
                            start,
                            self.bound.unwrap_or(i64::MIN),
                        ))
                    } else {
                        self.kick_or_improve_start(r)
                    }
                } else {
                    self.kick_or_improve_start(r)
                }
            }
            Stage::ImproveStart(s) => {
                self.keep_if_better(s.assignment());
                self.branch_or_settle()
            }
            Stage::Branch(s) => {
                self.keep_if_better(&s.assignment);
                // Never lowers the bound: both are valid, the higher is kept.
                if let (Some(found), Some(bound)) = (s.bound(), self.bound) {
                    self.bound = Some(bound.max(found));
                }
                self.settle()
            }
            Stage::Settle(s) => {
                self.keep_if_better(&s.assignment);
                self.output()
            }
            Stage::Output(plans) => Stage::Done(plans),
            done @ Stage::Done(_) => done,
        };
    }

    /// The whole state, into a checkpoint's body.
    pub fn encode(&self, w: &mut Writer) {
        w.u64(self.fingerprint);
        self.options.encode(w);
        w.i64(self.current_cost);
        w.bool(self.bound.is_some());
        w.i64(self.bound.unwrap_or(0));
        encode_assignment(&self.best, w);
        w.bool(self.start.is_some());
        if let Some(start) = &self.start {
            encode_assignment(start, w);
        }
        match &self.stage {
            Stage::Classic(s) => {
                w.u64(5);
                s.encode(w);
            }
            Stage::Bisect(s) => {
                w.u64(0);
                s.encode(w);
            }
            Stage::ChangePrice(s) => {
                w.u64(9);
                s.encode(w);
            }
            Stage::Ascent(s) => {
                w.u64(1);
                s.encode(w);
            }
            Stage::Coordinate(s) => {
                w.u64(11);
                s.encode(w);
            }
            Stage::Bundle(s) => {
                w.u64(15);
                s.encode(w);
            }
            Stage::BundleOnward(s) => {
                w.u64(17);
                s.encode(w);
            }
            Stage::Balance(r, s) => {
                w.u64(6);
                r.encode(w);
                s.encode(w);
            }
            Stage::Recover(r, s) => {
                w.u64(2);
                r.encode(w);
                s.encode(w);
            }
            Stage::ImproveRecovered(r, s) => {
                w.u64(3);
                r.encode(w);
                s.encode(w);
            }
            Stage::ImproveStart(s) => {
                w.u64(7);
                s.encode(w);
            }
            Stage::Branch(s) => {
                w.u64(16);
                s.encode(w);
            }
            Stage::Settle(s) => {
                w.u64(10);
                s.encode(w);
            }
            Stage::Trim(then, s) => {
                w.u64(8);
                then.encode(w);
                s.encode(w);
            }
            Stage::Tally(then, s) => {
                w.u64(12);
                then.encode(w);
                s.encode(w);
            }
            Stage::Output(plans) => {
                w.u64(13);
                w.u64(plans.len() as u64);
            }
            Stage::Done(_) => w.u64(4),
        }
    }

    /// Continues a unit's job from its state in a checkpoint's body. `fleet` and `part` must be
    /// the unit's input.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] for a state that does not parse or is not of this input.
    pub fn decode(
        fleet: &impl FleetTerms,
        part: Option<&[u32]>,
        r: &mut Reader,
    ) -> Result<UnitJob, DecodeError> {
        UnitJob::decode_with(|constraints| Model::of(fleet, part, constraints), r)
    }

    /// [`UnitJob::decode`] with the unit's model made by `model` from the checkpoint's
    /// constraints.
    pub(crate) fn decode_with(
        model: impl FnOnce(&Constraints) -> Model,
        r: &mut Reader,
    ) -> Result<UnitJob, DecodeError> {
        let fingerprint = r.u64()?;
        let options = Options::decode(r)?;
        let model = model(&options.constraints);
        if fingerprint != model.fingerprint() {
            return Err(DecodeError::Invalid(
                "the checkpoint belongs to another input",
            ));
        }
        let current_cost = r.i64()?;
        let has_bound = r.bool()?;
        let bound = r.i64()?;
        let best = decode_assignment(r, &model)?;
        let start = if r.bool()? {
            Some(decode_assignment(r, &model)?)
        } else {
            None
        };
        let stage = match r.below(18, "an unknown stage")? {
            17 if r.version() >= 13 => Stage::BundleOnward(Bundle::decode(r, &model)?),
            17 => return Err(DecodeError::Invalid("an unknown stage")),
            15 if r.version() >= 10 => Stage::Bundle(Bundle::decode(r, &model)?),
            15 => return Err(DecodeError::Invalid("an unknown stage")),
            14 => Stage::Branch(Branch::decode(r, &model, false)?),
            16 if r.version() >= 11 => Stage::Branch(Branch::decode(r, &model, true)?),
            16 => return Err(DecodeError::Invalid("an unknown stage")),
            10 => Stage::Settle(Settle::decode(r, &model)?),
            9 => Stage::ChangePrice(ChangePrice::decode(r, &model)?),
            8 => {
                let then = Then::decode(r, &model)?;
                Stage::Trim(then, Trim::decode(r, &model)?)
            }
            12 => {
                let then = Then::decode(r, &model)?;
                Stage::Tally(then, Tally::decode(r, &model)?)
            }
            7 => Stage::ImproveStart(Improve::decode(r, &model)?),
            5 => Stage::Classic(Classic::decode(r, &model)?),
            0 => Stage::Bisect(Bisect::decode(r, &model)?),
            1 => Stage::Ascent(Ascent::decode(r, &model)?),
            11 => Stage::Coordinate(Coordinate::decode(r, &model)?),
            6 => Stage::Balance(Recovery::decode(r, &model)?, Balance::decode(r, &model)?),
            2 => Stage::Recover(Recovery::decode(r, &model)?, Argmin::decode(r, &model)?),
            3 => Stage::ImproveRecovered(Recovery::decode(r, &model)?, Improve::decode(r, &model)?),
            // The plans listed so far, and when done all of them, are the best assignment's.
            13 => {
                let n = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")?;
                Stage::Output((0..n as usize).map(|i| best.plan(&model, i)).collect())
            }
            _ => Stage::Done(best.plans(&model)),
        };
        if [Some(&best), start.as_ref()]
            .into_iter()
            .flatten()
            .any(|a| a.changes() > model.max_changes)
        {
            return Err(DecodeError::Invalid(
                "an assignment makes more changes than allowed",
            ));
        }
        if current_cost != model.current().cost(&model) {
            return Err(DecodeError::Invalid(
                "the checkpoint's current bill is not this input's",
            ));
        }
        Ok(UnitJob {
            model,
            options,
            fingerprint,
            current_cost,
            best,
            start,
            bound: has_bound.then_some(bound),
            stage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::model::StoredSim;
    use crate::optimize::tests::synthetic_fleet_of;

    #[test]
    fn classic_runs_without_the_dual_view_on_sixteen_bytes_a_sim() {
        // What a unit holds per SIM while classic runs is its peak (a million SIMs in one
        // Worker isolate): the SIM itself, and not yet the dual view's orders and sums.
        assert_eq!(size_of::<StoredSim>(), 16);
        let fleet = synthetic_fleet_of(3_000, 5, 2, 8);
        let mut job = UnitJob::new(&fleet, None, Options::default());
        let mut quanta = 0;
        while matches!(job.stage, Stage::Classic(_)) {
            assert!(!job.model.lagrangian_built(), "classic built the dual view");
            job.quantum();
            quanta += 1;
        }
        assert!(quanta > 1, "classic took {quanta} quanta");
        let result = job.run_slice(&mut || false);
        assert!(
            job.model.lagrangian_built(),
            "the bound was computed without it"
        );
        let Step::Finished(result) = result else {
            panic!("not finished: {result:?}")
        };
        assert!(result.lower_bound.is_some());
    }
}
