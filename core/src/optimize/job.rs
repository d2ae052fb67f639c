//! The optimizer as a job stepped under a budget (DESIGN §3): `run_slice` does quanta of work
//! until the caller's budget says stop, and answers `Yielded(progress)` or `Finished(result)`.
//! The whole state encodes to checkpoint bytes and decodes to continue exactly where it
//! stopped; a run cut into any slices, with encode/decode between them, gives the identical
//! result to an uninterrupted run. No clock inside: the budget is the caller's.
//!
//! The default method, in stages:
//! 0. run the classic method (so the result is never worse than it), and start from the cheaper
//!    of its result and the current assignment;
//! 1. improve that by exact local search (an upper bound);
//! 2. climb the Lagrangian dual towards it (the certified lower bound);
//! 3. for the best prices, the prices met on the way (sweeps 2, 4, 8, …) and a few random
//!    perturbations of the best ("price kicks"), take every SIM's cheapest option and improve
//!    that by local search;
//! 4. keep the cheapest assignment found.

use super::bound::{Argmin, Ascent};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::classic::Classic;
use super::model::{Assignment, Model};
use super::phase::Phase;
use super::search::{decode_assignment, encode_assignment, Improve};
use super::Optimized;
use crate::fleet::Fleet;
use crate::money::Money;

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
    /// Dual ascent iterations at most (each is one pass over the SIMs).
    pub dual_iterations: u32,
    /// Extra recovery starts at randomly perturbed best prices ("price kicks").
    pub kicks: u32,
    /// Seed of the kicks.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Default,
            dual_iterations: 200,
            kicks: 8,
            seed: 1,
        }
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
    ImproveStart(Improve),
    Bound(Ascent),
    Recover(Recovery, Argmin),
    ImproveRecovered(Recovery, Improve),
    Done,
}

/// The price vectors to recover from, and which one is in hand.
#[derive(Debug, Clone)]
struct Recovery {
    candidates: Vec<Vec<i128>>,
    current: usize,
}

impl Recovery {
    /// Share of the job done, given the share of the candidate in hand.
    fn done(&self, inner: f64) -> f64 {
        0.7 + 0.3 * (self.current as f64 + inner) / self.candidates.len().max(1) as f64
    }

    fn encode(&self, w: &mut Writer) {
        w.u64(self.candidates.len() as u64);
        for p in self.candidates.iter().flatten() {
            w.i128(*p);
        }
        w.u64(self.current as u64);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let n = r.below(128, "too many recovery candidates")? as usize;
        let pools = model.pool_terms.len();
        let mut candidates = Vec::with_capacity(n);
        for _ in 0..n {
            candidates.push(
                (0..pools)
                    .map(|_| r.i128())
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let current = r.below(n as u64, "a recovery index is out of range")? as usize;
        Ok(Recovery {
            candidates,
            current,
        })
    }
}

/// An optimization in progress.
#[derive(Debug, Clone)]
pub struct Job {
    model: Model,
    options: Options,
    fingerprint: u64,
    current_cost: i64,
    best: Assignment,
    bound: Option<i64>,
    stage: Stage,
}

impl Job {
    /// Starts optimizing `fleet`.
    pub fn new(fleet: &Fleet, options: Options) -> Job {
        let model = Model::new(fleet);
        let current = model.current();
        let current_cost = current.cost(&model);
        Job {
            fingerprint: model.fingerprint(),
            options,
            current_cost,
            stage: Stage::Classic(Classic::new(&model)),
            best: current,
            bound: None,
            model,
        }
    }

    /// Works until `should_yield` (polled after every quantum, at least one quantum per call)
    /// says stop, or the job is done.
    pub fn run_slice(&mut self, should_yield: &mut dyn FnMut() -> bool) -> Step {
        loop {
            if matches!(self.stage, Stage::Done) {
                return Step::Finished(self.result());
            }
            self.quantum();
            if !matches!(self.stage, Stage::Done) && should_yield() {
                return Step::Yielded(self.progress());
            }
        }
    }

    /// The options the job runs with (after [`Job::decode`], those of the checkpoint).
    pub fn options(&self) -> Options {
        self.options
    }

    /// Whether the job is done (`run_slice` would answer `Finished` at once).
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// Runs to the end.
    pub fn run(mut self) -> Optimized {
        match self.run_slice(&mut || false) {
            Step::Finished(result) => result,
            Step::Yielded(_) => self.result(),
        }
    }

    /// The best result so far, without finishing (for a time limit).
    pub fn result(&self) -> Optimized {
        let cost = self.best.cost(&self.model);
        Optimized {
            plans: self.best.plans(&self.model),
            cost: Money::from_micros(cost),
            current_cost: Money::from_micros(self.current_cost),
            lower_bound: self.bound.map(|b| Money::from_micros(b.min(cost))),
        }
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
            Stage::ImproveStart(s) => ("improving plans", 0.1 + 0.1 * s.done_fraction(m)),
            Stage::Bound(s) => (
                "bounding",
                0.2 + 0.5 * s.done_fraction(m, self.options.dual_iterations),
            ),
            Stage::Recover(r, _) => ("recovering plans from prices", r.done(0.0)),
            Stage::ImproveRecovered(r, s) => {
                ("recovering plans from prices", r.done(s.done_fraction(m)))
            }
            Stage::Done => ("done", 1.0),
        };
        let best = self.best.cost(m);
        Progress {
            phase,
            done: done.clamp(0.0, 1.0),
            current_cost: Money::from_micros(self.current_cost),
            best_cost: Money::from_micros(best),
            lower_bound: self.bound.map(|b| Money::from_micros(b.min(best))),
        }
    }

    fn keep_if_better(&mut self, candidate: &Assignment) {
        if candidate.cost(&self.model) < self.best.cost(&self.model) {
            self.best = candidate.clone();
        }
    }

    fn quantum(&mut self) {
        let m = &self.model;
        let finished = match &mut self.stage {
            Stage::Classic(s) => s.quantum(m),
            Stage::ImproveStart(s) => s.quantum(m),
            Stage::Bound(s) => s.quantum(m),
            Stage::Recover(_, s) => s.quantum(m),
            Stage::ImproveRecovered(_, s) => s.quantum(m),
            Stage::Done => true,
        };
        if !finished {
            return;
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        self.stage = match stage {
            Stage::Classic(s) => {
                if let Some(found) = s.into_best(&self.model) {
                    self.keep_if_better(&found);
                }
                match self.options.method {
                    Method::Classic => Stage::Done,
                    Method::Default => {
                        Stage::ImproveStart(Improve::new(&self.model, self.best.clone()))
                    }
                }
            }
            Stage::ImproveStart(s) => {
                self.keep_if_better(s.assignment());
                let target = self.best.cost(&self.model);
                Stage::Bound(Ascent::new(
                    &self.model,
                    target,
                    self.options.dual_iterations,
                ))
            }
            Stage::Bound(s) => {
                self.bound = Some(s.best_bound);
                let recovery = Recovery {
                    candidates: s.candidates(&self.model, self.options.kicks, self.options.seed),
                    current: 0,
                };
                let argmin = Argmin::new(&self.model, recovery.candidates[0].clone());
                Stage::Recover(recovery, argmin)
            }
            Stage::Recover(r, s) => Stage::ImproveRecovered(
                r,
                Improve::new(&self.model, s.into_assignment(&self.model)),
            ),
            Stage::ImproveRecovered(mut r, s) => {
                self.keep_if_better(s.assignment());
                r.current += 1;
                match r.candidates.get(r.current).cloned() {
                    Some(prices) => Stage::Recover(r, Argmin::new(&self.model, prices)),
                    None => Stage::Done,
                }
            }
            Stage::Done => Stage::Done,
        };
    }

    /// The whole state as checkpoint bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u64(self.fingerprint);
        w.u64(match self.options.method {
            Method::Default => 0,
            Method::Classic => 1,
        });
        w.u64(u64::from(self.options.dual_iterations));
        w.u64(u64::from(self.options.kicks));
        w.u64(self.options.seed);
        w.i64(self.current_cost);
        w.bool(self.bound.is_some());
        w.i64(self.bound.unwrap_or(0));
        encode_assignment(&self.best, &mut w);
        match &self.stage {
            Stage::Classic(s) => {
                w.u64(5);
                s.encode(&mut w);
            }
            Stage::ImproveStart(s) => {
                w.u64(0);
                s.encode(&mut w);
            }
            Stage::Bound(s) => {
                w.u64(1);
                s.encode(&mut w);
            }
            Stage::Recover(r, s) => {
                w.u64(2);
                r.encode(&mut w);
                s.encode(&mut w);
            }
            Stage::ImproveRecovered(r, s) => {
                w.u64(3);
                r.encode(&mut w);
                s.encode(&mut w);
            }
            Stage::Done => w.u64(4),
        }
        w.finish()
    }

    /// Continues a job from its checkpoint. `fleet` must be the input the job was started with.
    ///
    /// # Errors
    /// [`DecodeError`] for damaged, foreign or newer bytes, or a checkpoint of another input.
    pub fn decode(fleet: &Fleet, bytes: &[u8]) -> Result<Job, DecodeError> {
        let mut r = Reader::open(bytes)?;
        let model = Model::new(fleet);
        let fingerprint = r.u64()?;
        if fingerprint != model.fingerprint() {
            return Err(DecodeError::Invalid(
                "the checkpoint belongs to another input",
            ));
        }
        let method = match r.below(2, "an unknown method")? {
            0 => Method::Default,
            _ => Method::Classic,
        };
        let options = Options {
            method,
            dual_iterations: r.below(
                u64::from(u32::MAX) + 1,
                "an iteration limit is out of range",
            )? as u32,
            kicks: r.below(64, "too many kicks")? as u32,
            seed: r.u64()?,
        };
        let current_cost = r.i64()?;
        let has_bound = r.bool()?;
        let bound = r.i64()?;
        let best = decode_assignment(&mut r, &model)?;
        let stage = match r.below(6, "an unknown stage")? {
            5 => Stage::Classic(Classic::decode(&mut r, &model)?),
            0 => Stage::ImproveStart(Improve::decode(&mut r, &model)?),
            1 => Stage::Bound(Ascent::decode(&mut r, &model)?),
            2 => Stage::Recover(
                Recovery::decode(&mut r, &model)?,
                Argmin::decode(&mut r, &model)?,
            ),
            3 => Stage::ImproveRecovered(
                Recovery::decode(&mut r, &model)?,
                Improve::decode(&mut r, &model)?,
            ),
            _ => Stage::Done,
        };
        r.finish()?;
        if current_cost != model.current().cost(&model) {
            return Err(DecodeError::Invalid(
                "the checkpoint's current bill is not this input's",
            ));
        }
        Ok(Job {
            model,
            options,
            fingerprint,
            current_cost,
            best,
            bound: has_bound.then_some(bound),
            stage,
        })
    }
}
