//! A stronger bound for a branch-and-bound component ([`super::branch`]): the pools' own
//! minima, priced per SIM.
//!
//! The pool prices' Lagrangian (the LP relaxation) charges a pool's usage as if any share of a
//! SIM could join it, so a pool of a few dozen SIMs looks filled to the byte; no bill can fill
//! it so, and on fleets of a few hundred SIMs the LP sits 0.3–1.3 % under the optimum. Here the
//! constraint relaxed is "each SIM takes exactly one option", with a price `μ_k` per SIM:
//!
//! `L(μ) = Σ_k μ_k + Σ_k min(0, own_k − μ_k) + Σ_P min_S [Σ_(k,o)∈S (fixed_o − μ_k) + overage_P(S)]`
//!
//! where `own_k` is SIM `k`'s cheapest option outside the priced pools and `S` takes at most one
//! option of pool `P` per SIM, its overage line exact (blocks and all). Each pool's minimum is
//! solved exactly by dynamic programming over the pool's SIMs: a state is a choice so far (its
//! usage less allowance, its cost); a state another beats on both is dropped, and so is one that
//! a Lagrangian bound (at the pool price that makes it highest) shows cannot beat the best
//! choice found. So `L(μ)` is a lower bound on the component's bill for every `μ` — where a
//! pool's search outgrows its limits, that pool's minimum is replaced by its Lagrangian bound,
//! which keeps it one — and its maximum is the LP over each pool's integer hull.
//!
//! A pool's search runs in its first quantum keeping its choices (an arena of them), within
//! [`MAX_STATES`] states and [`PRICING_WORK`] made. Where it outgrows them it goes on in later
//! quanta without its choices, within [`RESUMED_STATES`] and [`RESUMED_WORK`] (its states are in
//! the checkpoint; an arena of their choices would take megabytes): the value of the pool's
//! minimum comes of it, and the first quantum's best choice stands for the pool's choice. On
//! fleets of 200–300 SIMs on 200 plans (4 × 50, seeds 1–10) that took the gaps from at most
//! 0.98 % (the Lagrangian bound standing for such pools) to at most 0.43 %. Measured against an
//! exact MIP solver on 40 fleets of 200–300 SIMs on 48–50 plans, the bound it reached sat a
//! median 0.02 % (at most 0.19 %) under the optimum before its pricings went on past a quantum;
//! on those fleets the bounds have only risen since. With one pool, `μ_k = own_k` gives the
//! optimum itself (where every SIM has an option outside it).
//!
//! `μ` starts at each SIM's Lagrangian value at the component's LP prices (so `L` starts at or
//! above the LP bound) — with one pool, at `own_k` where the SIM has one — and climbs by
//! subgradient steps — Polyak's, towards the incumbent, halved when the bound has not risen for
//! [`STALL`] evaluations. Each evaluation's pool choices, made whole (a SIM chosen by two pools
//! keeps the first, one chosen by none takes its own cheapest option) and improved by single
//! moves, may better the incumbent. Everything is integer (`μ` in micros, the step an integer
//! division), so every platform takes the same steps. A quantum prices one pool, or goes on
//! with one.

use super::bound::{rounding_slack_of, SCALE};
use super::branch::{improve, value, Component, NONE};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::Model;
use super::phase::QUANTUM_WORK;

/// Evaluations of `L` at most.
const MAX_ITERATIONS: u32 = 200;

/// States made by a component's pricings at most (some tenths of a second).
const MAX_WORK: u64 = 1 << 22;

/// Evaluations without a higher bound before the step halves.
const STALL: u32 = 5;

/// Halvings of the step at most.
const MAX_HALVINGS: u32 = 16;

/// States a pool's pricing keeps at most after any SIM in its first quantum.
const MAX_STATES: usize = 1 << 12;

/// States a pool's pricing makes at most in its first quantum, its narrow search aside. That
/// quantum is the longest of any phase: up to 10–27 ms natively on fleets of 300–2,000 SIMs
/// (most take well under a millisecond). Half this limit keeps the bounds but loses the
/// first quantum's exact choices of more pools: bills on 5 × 10 plans up to 0.27 % worse.
const PRICING_WORK: u64 = 4 * QUANTUM_WORK;

/// States a pool's pricing keeps at most after any SIM where it goes on past its first quantum
/// (without its choices: the checkpoint holds them, 16 bytes or fewer each).
const RESUMED_STATES: usize = 1 << 13;

/// States a pool's pricing makes at most in all where it goes on past its first quantum (a
/// few dozen quanta).
const RESUMED_WORK: u64 = 1 << 20;

/// Bisection steps for the pricing's pruning price.
const PRICE_STEPS: u32 = 40;

/// "Not chosen yet" in an evaluation's choice.
const UNSET: u32 = u32::MAX;

/// What pricing reads of a component (derived from it, never stored).
#[derive(Debug, Clone, Default)]
pub(super) struct Pricing {
    /// Per component pool: each SIM that may join it, with its options in the pool.
    pools: Vec<Vec<(u32, Vec<u32>)>>,
    /// Each SIM's cheapest option outside the priced pools (fixed cost, option), if any.
    own: Vec<Option<(i64, u32)>>,
    /// Each SIM's cheapest option by fixed cost (where a SIM chosen by no pool has no own).
    cheapest: Vec<u32>,
    /// What rounding the pool's overage lines can take off a price's bound (micros).
    slack: Vec<i128>,
}

impl Pricing {
    pub fn new(model: &Model, c: &Component) -> Pricing {
        let mut pools: Vec<Vec<(u32, Vec<u32>)>> = vec![Vec::new(); c.pools.len()];
        let mut own = Vec::with_capacity(c.n());
        let mut cheapest = Vec::with_capacity(c.n());
        for k in 0..c.n() {
            let mut best_own: Option<(i64, u32)> = None;
            let mut best: Option<(i64, u32)> = None;
            for x in c.options(k) {
                let o = c.opts[x];
                let entry = (o.fixed, x as u32);
                if best.is_none_or(|b| entry.0 < b.0) {
                    best = Some(entry);
                }
                if o.pool == NONE {
                    if best_own.is_none_or(|b| entry.0 < b.0) {
                        best_own = Some(entry);
                    }
                    continue;
                }
                let list = &mut pools[o.pool as usize];
                match list.last_mut() {
                    Some((sim, xs)) if *sim == k as u32 => xs.push(x as u32),
                    _ => list.push((k as u32, vec![x as u32])),
                }
            }
            own.push(best_own);
            cheapest.push(best.expect("a SIM has an option").1);
        }
        let slack = c
            .pools
            .iter()
            .map(|&p| rounding_slack_of(model, p))
            .collect();
        Pricing {
            pools,
            own,
            cheapest,
            slack,
        }
    }
}

/// The subgradient ascent on `μ`, with the evaluation in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Decompose {
    /// The price of each SIM (micros).
    mu: Vec<i64>,
    /// The highest `L` found (micros; `i64::MIN` before the first).
    pub best: i64,
    iterations: u32,
    halvings: u32,
    stall: u32,
    /// States made by the pricings so far.
    work: u64,
    /// The evaluation in hand: the next pool to price, `L` so far (micros), how many times each
    /// SIM was chosen, and the choice being made whole (an option per SIM, or [`UNSET`]).
    pool: u32,
    value: i128,
    picks: Vec<u32>,
    choice: Vec<u32>,
    /// The pricing of pool `pool` where it goes on past its first quantum.
    resume: Option<Resume>,
}

impl Decompose {
    /// Starts from each SIM's Lagrangian value at the pool prices `prices`.
    pub fn new(model: &Model, c: &Component, prices: &[i128]) -> Decompose {
        let pricing = &c.pricing;
        let mu = (0..c.n())
            .map(|k| {
                if c.pools.len() == 1 {
                    if let Some((own, _)) = pricing.own[k] {
                        return own;
                    }
                }
                let v = c
                    .options(k)
                    .map(|x| value(model, c, k, x, prices))
                    .min()
                    .expect("a SIM has an option");
                v.div_euclid(SCALE)
                    .clamp(i128::from(i64::MIN / 4), i128::from(i64::MAX / 4))
                    as i64
            })
            .collect();
        let mut d = Decompose {
            mu,
            best: i64::MIN,
            iterations: 0,
            halvings: 0,
            stall: 0,
            work: 0,
            pool: 0,
            value: 0,
            picks: Vec::new(),
            choice: Vec::new(),
            resume: None,
        };
        d.begin(c);
        d
    }

    /// Starts an evaluation: the SIMs' own terms.
    fn begin(&mut self, c: &Component) {
        let n = self.mu.len();
        self.pool = 0;
        self.value = 0;
        self.picks = vec![0; n];
        self.choice = vec![UNSET; n];
        for k in 0..n {
            let mu = i128::from(self.mu[k]);
            self.value += mu;
            if let Some((own, _)) = c.pricing.own[k] {
                if i128::from(own) < mu {
                    self.value += i128::from(own) - mu;
                    self.picks[k] += 1;
                }
            }
        }
    }

    /// One quantum: one pool priced, or the evaluation finished (the bound, a candidate, a
    /// step). Returns true when the ascent is over.
    pub fn quantum(
        &mut self,
        model: &Model,
        c: &Component,
        incumbent: &mut Vec<u32>,
        incumbent_cost: &mut i64,
    ) -> bool {
        let pricing = &c.pricing;
        let p = self.pool as usize;
        if let Some(mut resume) = self.resume.take() {
            let before = resume.work;
            let value = go_on(model, c, p, &self.mu, LIMITS, &mut resume);
            self.work += resume.work - before;
            match value {
                Some(v) => {
                    self.value += v;
                    self.pool += 1;
                }
                None => self.resume = Some(resume),
            }
            return false;
        }
        if p < pricing.pools.len() {
            let members = match price(model, c, p, &self.mu, LIMITS) {
                Priced::Done(v, members, work) => {
                    self.value += v;
                    self.work += work;
                    self.pool += 1;
                    members
                }
                Priced::Resumed(members, work, resume) => {
                    self.work += work;
                    self.resume = Some(resume);
                    members
                }
            };
            for (k, x) in members {
                self.picks[k as usize] += 1;
                if self.choice[k as usize] == UNSET {
                    self.choice[k as usize] = x;
                }
            }
            return false;
        }
        let v = self.value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        if v > self.best {
            self.best = v;
            self.stall = 0;
        } else {
            self.stall += 1;
            if self.stall >= STALL {
                self.halvings += 1;
                self.stall = 0;
            }
        }
        // The choices made whole: a candidate.
        let mut choice = std::mem::take(&mut self.choice);
        for (k, x) in choice.iter_mut().enumerate() {
            if *x == UNSET {
                *x = pricing.own[k].map_or(pricing.cheapest[k], |(_, o)| o);
            }
        }
        improve(model, c, &vec![true; c.opts.len()], &mut choice);
        let cost = c.cost(model, &choice);
        if cost < *incumbent_cost {
            *incumbent_cost = cost;
            *incumbent = choice;
        }
        self.iterations += 1;
        let enough = *incumbent_cost - (*incumbent_cost).max(0) / 10_000;
        let g: Vec<i128> = self.picks.iter().map(|&p| 1 - i128::from(p)).collect();
        let gg: i128 = g.iter().map(|x| x * x).sum();
        let mut done = gg == 0
            || self.best >= enough
            || self.iterations >= MAX_ITERATIONS
            || self.halvings >= MAX_HALVINGS
            || self.work >= MAX_WORK;
        if !done {
            // Polyak's step towards the incumbent.
            let gap = i128::from(*incumbent_cost) - i128::from(v);
            let div = gg << self.halvings;
            let mut moved = false;
            for (mu, gk) in self.mu.iter_mut().zip(&g) {
                let d = (gap * gk) / div;
                if d != 0 {
                    *mu = (i128::from(*mu) + d)
                        .clamp(i128::from(i64::MIN / 4), i128::from(i64::MAX / 4))
                        as i64;
                    moved = true;
                }
            }
            done = !moved;
        }
        self.begin(c);
        done
    }

    pub fn encode(&self, w: &mut Writer) {
        self.encode_fields(w);
        w.bool(self.resume.is_some());
        if let Some(resume) = &self.resume {
            resume.encode(w);
        }
    }

    /// The fields of version 11: all but a pricing going on.
    fn encode_fields(&self, w: &mut Writer) {
        w.u64s(self.mu.iter().map(|&m| m as u64));
        w.i64(self.best);
        w.u64(u64::from(self.iterations));
        w.u64(u64::from(self.halvings));
        w.u64(u64::from(self.stall));
        w.u64(self.work);
        w.u64(u64::from(self.pool));
        w.i128(self.value);
        w.u64s(self.picks.iter().map(|&p| u64::from(p)));
        w.u64s(self.choice.iter().map(|&x| u64::from(x)));
    }

    pub fn decode(r: &mut Reader<'_>, c: &Component) -> Result<Decompose, DecodeError> {
        let n = c.n() as u64;
        let mu: Vec<i64> = r.u64s(n)?.into_iter().map(|m| m as i64).collect();
        let best = r.i64()?;
        let iterations = r.below(u64::from(MAX_ITERATIONS) + 1, "too many evaluations")? as u32;
        let halvings = r.below(u64::from(MAX_HALVINGS) + 1, "too many halvings")? as u32;
        let stall = r.below(u64::from(STALL), "a stall out of range")? as u32;
        let work = r.u64()?;
        let pool = r.below(c.pools.len() as u64 + 1, "a pool out of range")? as u32;
        let value = r.i128()?;
        let picks = r.u64s(n)?;
        let choice = r.u64s(n)?;
        if mu.len() as u64 != n || picks.len() as u64 != n || choice.len() as u64 != n {
            return Err(DecodeError::Invalid(
                "a decomposition is not of its component",
            ));
        }
        let picks = picks
            .into_iter()
            .map(|p| {
                u32::try_from(p)
                    .ok()
                    .filter(|&p| p as usize <= c.pools.len() + 1)
            })
            .collect::<Option<Vec<u32>>>()
            .ok_or(DecodeError::Invalid("a SIM picked too often"))?;
        let mut chosen = Vec::with_capacity(choice.len());
        for (k, x) in choice.into_iter().enumerate() {
            if x != u64::from(UNSET) && !c.options(k).contains(&(x as usize)) {
                return Err(DecodeError::Invalid(
                    "a choice names an option out of range",
                ));
            }
            chosen.push(x as u32);
        }
        // Version 12 adds a pool's pricing going on past its first quantum.
        let resume = if r.version() >= 12 && r.bool()? {
            Some(Resume::decode(r, c, pool)?)
        } else {
            None
        };
        Ok(Decompose {
            mu,
            best,
            iterations,
            halvings,
            stall,
            work,
            pool,
            value,
            picks,
            choice: chosen,
            resume,
        })
    }
}

/// A state of a pool's pricing: usage less allowance so far, cost so far, its node in the arena
/// and the option it adds (or [`UNSET`]: carried over unchanged). A search that goes on in
/// later quanta keeps no arena: its states' nodes stay [`UNSET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    excess: i64,
    cost: i64,
    node: u32,
    adds: u32,
}

/// How far a pool's pricing may go.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// States kept and made by the search of the first quantum, which keeps the choices.
    states: usize,
    work: u64,
    /// States kept and made in all by the search that goes on in later quanta, and made per
    /// quantum there (at least one SIM's).
    resumed_states: usize,
    resumed_work: u64,
    quantum_work: u64,
}

/// The limits of the service: the first quantum within [`MAX_STATES`] and [`PRICING_WORK`], the
/// rest within [`RESUMED_STATES`] and [`RESUMED_WORK`], a quantum's worth at a time.
const LIMITS: Limits = Limits {
    states: MAX_STATES,
    work: PRICING_WORK,
    resumed_states: RESUMED_STATES,
    resumed_work: RESUMED_WORK,
    quantum_work: QUANTUM_WORK,
};

/// A pool's pricing that goes on in later quanta: the exact search's states, without their
/// choices (an arena of them would take megabytes of checkpoint), so only the value comes of
/// it; the first quantum's best choice stands for the pool's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Resume {
    /// The next SIM of the search, in its order.
    next: u32,
    /// The states after the SIMs before it.
    front: Vec<State>,
    /// The least value found (micros).
    best: i64,
    /// States made by this pool's pricing so far.
    work: u64,
}

impl Resume {
    /// Whether the search has outgrown its limits.
    fn outgrown(&self, limits: Limits) -> bool {
        self.front.len() > limits.resumed_states || self.work > limits.resumed_work
    }

    pub fn encode(&self, w: &mut Writer) {
        w.u64(u64::from(self.next));
        w.i64(self.best);
        w.u64(self.work);
        w.u64(self.front.len() as u64);
        for s in &self.front {
            w.i64(s.excess);
            w.i64(s.cost);
        }
    }

    pub fn decode(r: &mut Reader<'_>, c: &Component, pool: u32) -> Result<Resume, DecodeError> {
        let sims = c
            .pricing
            .pools
            .get(pool as usize)
            .ok_or(DecodeError::Invalid("a pricing of a pool out of range"))?
            .len();
        let next = r.below(sims as u64 + 1, "a pricing's SIM out of range")? as u32;
        let best = r.i64()?;
        let work = r.u64()?;
        let len = r.below(RESUMED_STATES as u64 + 1, "a pricing's states too many")?;
        let mut front = Vec::with_capacity(len as usize);
        for _ in 0..len {
            front.push(State {
                excess: r.i64()?,
                cost: r.i64()?,
                node: UNSET,
                adds: UNSET,
            });
        }
        Ok(Resume {
            next,
            front,
            best,
            work,
        })
    }
}

/// What pricing a pool gave in one quantum.
enum Priced {
    /// `min_S [Σ (fixed − μ_k) + overage(S)]` (micros; at most zero, the empty choice), or a
    /// lower bound on it where the search outgrew its limits; the best choice found, as
    /// `(SIM, option)`; the states made.
    Done(i128, Vec<(u32, u32)>, u64),
    /// The search outgrew the first quantum: the best choice found so far and the states
    /// made; the value comes of going on from the `Resume`.
    Resumed(Vec<(u32, u32)>, u64, Resume),
}

/// Prices pool `p` of component `c` at the SIM prices `mu` in one quantum: the Lagrangian
/// choice, a narrow search, then the exact one, which keeps its choices while it stays within
/// the first quantum's limits and otherwise goes on without them.
fn price(model: &Model, c: &Component, p: usize, mu: &[i64], limits: Limits) -> Priced {
    let knapsack = Knapsack::new(model, c, p, mu);
    let overage = |excess: i64| overage(model, c, p, excess);
    let (mut best, mut members) = knapsack.lagrangian_choice(&overage);
    // A narrow search first for a good choice to prune by, then the exact one.
    let (_, narrow) = knapsack.run(&overage, Some(BEAM), limits, &mut best, &mut members);
    let (outgrown, work) = knapsack.run(&overage, None, limits, &mut best, &mut members);
    match outgrown {
        None => Priced::Done(i128::from(best), members, narrow + work),
        Some((next, front)) => {
            let resume = Resume {
                next: next as u32,
                front,
                best,
                work: narrow + work,
            };
            if resume.outgrown(limits) {
                Priced::Done(knapsack.lower, members, narrow + work)
            } else {
                Priced::Resumed(members, narrow + work, resume)
            }
        }
    }
}

/// Goes on with a pool's pricing for a quantum: its value once the search ends (or the
/// Lagrangian bound where it outgrows its limits), else `None` with `resume` moved on.
fn go_on(
    model: &Model,
    c: &Component,
    p: usize,
    mu: &[i64],
    limits: Limits,
    resume: &mut Resume,
) -> Option<i128> {
    let knapsack = Knapsack::new(model, c, p, mu);
    let overage = |excess: i64| overage(model, c, p, excess);
    let mut made = 0u64;
    while (resume.next as usize) < knapsack.options.len() {
        if made >= limits.quantum_work {
            return None;
        }
        let j = resume.next as usize;
        let (kept, work) = knapsack.step(j, &resume.front, &overage, &mut resume.best, None);
        made += work;
        resume.work += work;
        resume.front = kept;
        resume.next += 1;
        if resume.outgrown(limits) {
            return Some(knapsack.lower);
        }
    }
    Some(i128::from(resume.best))
}

/// States kept per SIM by the narrow search.
const BEAM: usize = 64;

/// The arena of a search that keeps its choices: (parent node, SIM index, option), and the
/// node of the best choice found.
#[derive(Default)]
struct Arena {
    nodes: Vec<(u32, u32, u32)>,
    best: Option<u32>,
}

/// A pool's pricing as a search over its SIMs in order (derived from the component, the pool
/// and the SIM prices alone, so a search going on in a later quantum derives it again).
struct Knapsack {
    /// Per SIM, in the search's order: (option, cost, excess).
    options: Vec<Vec<(u32, i64, i64)>>,
    /// Per SIM: its index in the component.
    sims: Vec<u32>,
    /// The pool prices of the bounds: the one of the highest Lagrangian bound first.
    prices: [i128; 3],
    /// The Lagrangian bound of the SIMs from here on at each price (scaled).
    suffix: Vec<[i128; 3]>,
    /// The most excess the SIMs from here on can add.
    reach: Vec<i64>,
    /// What rounding overage lines can take off a bound (scaled).
    slack: i128,
    /// The pool's Lagrangian bound (micros, at most zero): what stands for its minimum where
    /// the search outgrows its limits.
    lower: i128,
}

/// A choice's Lagrangian value at a pool price (scaled).
fn lagrangian(cost: i64, excess: i64, price: i128) -> i128 {
    i128::from(cost) * SCALE + price * i128::from(excess)
}

impl Knapsack {
    fn new(model: &Model, c: &Component, p: usize, mu: &[i64]) -> Knapsack {
        let items = &c.pricing.pools[p];
        // Per SIM: (option, cost, excess).
        let mut options: Vec<Vec<(u32, i64, i64)>> = items
            .iter()
            .map(|(k, xs)| {
                let k = *k as usize;
                let usage = c.usage(model, k) as i64;
                xs.iter()
                    .map(|&x| {
                        let o = c.opts[x as usize];
                        (x, o.fixed - mu[k], usage - o.allowance as i64)
                    })
                    .collect()
            })
            .collect();
        let least = |opts: &[(u32, i64, i64)], price: i128| {
            opts.iter()
                .map(|&(_, cost, excess)| lagrangian(cost, excess, price))
                .min()
                .expect("a SIM with options in the pool")
        };
        // The pruning price: the highest Lagrangian bound of the pool's minimum.
        let relaxed = |rho: i128| -> (i128, i128) {
            let (mut value, mut slope) = (0i128, 0i128);
            for opts in &options {
                let best = opts
                    .iter()
                    .map(|&(_, cost, excess)| (lagrangian(cost, excess, rho), i128::from(excess)))
                    .min()
                    .expect("a SIM with options in the pool");
                if best.0 < 0 {
                    value += best.0;
                    slope += best.1;
                }
            }
            (value, slope)
        };
        let max = c.max[p];
        let rho = if relaxed(0).1 <= 0 {
            0
        } else if relaxed(max).1 >= 0 {
            max
        } else {
            let (mut lo, mut hi) = (0, max);
            for _ in 0..PRICE_STEPS {
                if hi - lo <= 1 {
                    break;
                }
                let mid = lo + (hi - lo) / 2;
                if relaxed(mid).1 > 0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            if relaxed(lo).0 >= relaxed(hi).0 {
                lo
            } else {
                hi
            }
        };
        // The SIMs in order of regret at `rho` (how much the second best of staying out and
        // the options costs over the best): the clear choices first, so states that stray
        // from them are pruned while there are few.
        let regret = |opts: &[(u32, i64, i64)]| {
            let mut values: Vec<i128> = opts
                .iter()
                .map(|&(_, cost, excess)| lagrangian(cost, excess, rho))
                .collect();
            values.push(0);
            values.sort_unstable();
            values[1] - values[0]
        };
        let mut order: Vec<usize> = (0..options.len()).collect();
        order.sort_by_key(|&j| (std::cmp::Reverse(regret(&options[j])), j));
        let prices = [rho, 0, max];
        let n = options.len();
        let mut suffix = vec![[0; 3]; n + 1];
        let mut reach = vec![0; n + 1];
        for (j, &o) in order.iter().enumerate().rev() {
            let opts = &options[o];
            for (t, &price) in prices.iter().enumerate() {
                suffix[j][t] = suffix[j + 1][t] + least(opts, price).min(0);
            }
            let most = opts.iter().map(|&(_, _, excess)| excess).max().unwrap_or(0);
            reach[j] = reach[j + 1] + most.max(0);
        }
        let slack = c.pricing.slack[p] * SCALE;
        let lower = (suffix[0][0] - slack).div_euclid(SCALE).min(0);
        let sims = order.iter().map(|&j| items[j].0).collect();
        let ordered = order
            .iter()
            .map(|&j| std::mem::take(&mut options[j]))
            .collect();
        Knapsack {
            options: ordered,
            sims,
            prices,
            suffix,
            reach,
            slack,
            lower,
        }
    }

    /// The choice of every SIM whose best option at the pruning price is worth it, as its
    /// value (micros), or none where that costs more than nothing.
    fn lagrangian_choice(&self, overage: &dyn Fn(i64) -> i64) -> (i64, Vec<(u32, u32)>) {
        let rho = self.prices[0];
        let mut members: Vec<(u32, u32)> = Vec::new();
        let (mut excess, mut cost) = (0i64, 0i64);
        for (opts, &k) in self.options.iter().zip(&self.sims) {
            let &(x, cst, exc) = opts
                .iter()
                .min_by_key(|&&(_, cost, excess)| lagrangian(cost, excess, rho))
                .expect("a SIM with options in the pool");
            if lagrangian(cst, exc, rho) < 0 {
                members.push((k, x));
                excess += exc;
                cost += cst;
            }
        }
        let value = cost + overage(excess);
        if value > 0 {
            return (0, Vec::new());
        }
        (value, members)
    }

    /// The states after SIM `j` from `front`, those before it, with the states made: each
    /// state as it was or with one of the SIM's options added; dominated states dropped, and
    /// those that cannot beat `best`. A state that beats it is recorded in `best` (and in the
    /// arena, where there is one).
    fn step(
        &self,
        j: usize,
        front: &[State],
        overage: &dyn Fn(i64) -> i64,
        best: &mut i64,
        mut arena: Option<&mut Arena>,
    ) -> (Vec<State>, u64) {
        let opts = &self.options[j];
        let mut next = Vec::with_capacity(front.len() * (opts.len() + 1));
        next.extend_from_slice(front);
        for s in front {
            for &(x, cst, exc) in opts {
                next.push(State {
                    excess: s.excess + exc,
                    cost: s.cost + cst,
                    node: s.node,
                    adds: x,
                });
            }
        }
        let made = next.len() as u64;
        next.sort_unstable_by_key(|s| (s.excess, s.cost));
        let mut kept: Vec<State> = Vec::with_capacity(front.len() * 2);
        let mut least = i64::MAX;
        // States so far under the allowance that the SIMs left cannot take over it: only the
        // cheapest matters (they come first).
        let mut under = None::<usize>;
        for mut s in next {
            if s.cost >= least {
                continue; // another has no more excess and costs no more
            }
            least = s.cost;
            let exact = s.cost + overage(s.excess);
            let better = exact < *best;
            let bound = (0..3)
                .map(|t| lagrangian(s.cost, s.excess, self.prices[t]) + self.suffix[j + 1][t])
                .max()
                .expect("three prices")
                - self.slack;
            let hopeful = bound < i128::from(*best) * SCALE;
            if let Some(arena) = arena.as_deref_mut() {
                if (better || hopeful) && s.adds != UNSET {
                    arena.nodes.push((s.node, j as u32, s.adds));
                    s.node = (arena.nodes.len() - 1) as u32;
                }
                if better {
                    arena.best = Some(s.node);
                }
            }
            s.adds = UNSET;
            if better {
                *best = exact;
            }
            if !(hopeful || better) {
                continue;
            }
            if s.excess <= -self.reach[j + 1] {
                if let Some(u) = under {
                    kept[u] = s;
                    continue;
                }
                under = Some(kept.len());
            }
            kept.push(s);
        }
        (kept, made)
    }

    /// Searches for a choice under `best` (then kept in `best` and `found`), keeping its
    /// choices: every state with a narrow `beam`, else exactly. Returns, where an exact search
    /// outgrew the first quantum's limits, the next SIM and the states before it (the choices
    /// found so far in `found`), and the states made.
    fn run(
        &self,
        overage: &dyn Fn(i64) -> i64,
        beam: Option<usize>,
        limits: Limits,
        best: &mut i64,
        found: &mut Vec<(u32, u32)>,
    ) -> (Option<(usize, Vec<State>)>, u64) {
        let mut arena = Arena::default();
        let mut front = vec![State {
            excess: 0,
            cost: 0,
            node: UNSET,
            adds: UNSET,
        }];
        let mut work = 0u64;
        let mut outgrown = None;
        for j in 0..self.options.len() {
            let (mut kept, made) = self.step(j, &front, overage, best, Some(&mut arena));
            work += made;
            if let Some(width) = beam {
                if kept.len() > width {
                    let key = |s: &State| {
                        lagrangian(s.cost, s.excess, self.prices[0]) + self.suffix[j + 1][0]
                    };
                    kept.select_nth_unstable_by_key(width, key);
                    kept.truncate(width);
                }
            } else if kept.len() > limits.states || work > limits.work {
                for s in &mut kept {
                    s.node = UNSET;
                }
                outgrown = Some((j + 1, kept));
                break;
            }
            front = kept;
        }
        if let Some(node) = arena.best {
            *found = walk(&arena.nodes, &self.sims, node);
        }
        (outgrown, work)
    }
}

/// The overage line of component pool `p` at `excess` (usage less allowance; none at or under
/// zero).
fn overage(model: &Model, c: &Component, p: usize, excess: i64) -> i64 {
    model.pool_charge(c.pools[p], excess.max(0) as u64, 0)
}

/// The `(SIM, option)` choices of a node, from the arena.
fn walk(arena: &[(u32, u32, u32)], sims: &[u32], mut node: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    while node != UNSET {
        let (parent, j, x) = arena[node as usize];
        out.push((sims[j as usize], x));
        node = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::branch::components;
    use super::super::tiny::{brute_force, tiny_fleet, tiny_plan, tiny_sims};
    use super::*;

    /// What pool `p`'s pricing minimises, for a choice of `(SIM, option)` at the SIM prices.
    fn value_of(model: &Model, c: &Component, p: usize, mu: &[i64], choice: &[(u32, u32)]) -> i64 {
        let (mut cost, mut excess) = (0i64, 0i64);
        for &(k, x) in choice {
            let o = c.opts[x as usize];
            cost += o.fixed - mu[k as usize];
            excess += c.usage(model, k as usize) as i64 - o.allowance as i64;
        }
        cost + overage(model, c, p, excess)
    }

    /// The pool's minimum by trying every choice: none or one of its options per SIM.
    fn brute_price(model: &Model, c: &Component, p: usize, mu: &[i64]) -> i64 {
        let items = &c.pricing.pools[p];
        let mut pick = vec![0usize; items.len()];
        let mut best = i64::MAX;
        loop {
            let choice: Vec<(u32, u32)> = items
                .iter()
                .zip(&pick)
                .filter(|(_, &n)| n > 0)
                .map(|((k, xs), &n)| (*k, xs[n - 1]))
                .collect();
            best = best.min(value_of(model, c, p, mu, &choice));
            // The next choice.
            let mut j = 0;
            loop {
                if j == items.len() {
                    return best;
                }
                pick[j] += 1;
                if pick[j] <= items[j].1.len() {
                    break;
                }
                pick[j] = 0;
                j += 1;
            }
        }
    }

    /// The ascent on component `c` to its end from the component's current choices, encoded
    /// and decoded between quanta where `reencode`: its bound, the incumbent's bill and whether
    /// a pricing went on past its first quantum.
    fn ascend_with(model: &Model, c: &Component, reencode: bool) -> (i64, i64, bool) {
        let all = vec![true; c.opts.len()];
        let prices: Vec<i128> = c.max.iter().map(|m| m / 2).collect();
        let (_, prices, _) = super::super::branch::solve_dual(model, c, &all, prices);
        let mut d = Decompose::new(model, c, &prices);
        let mut incumbent = c.pricing.cheapest.clone();
        let mut cost = c.cost(model, &incumbent);
        let mut resumed = false;
        while !d.quantum(model, c, &mut incumbent, &mut cost) {
            resumed |= d.resume.is_some();
            if reencode {
                let mut w = Writer::new();
                d.encode(&mut w);
                let bytes = w.finish();
                let mut r = Reader::open(&bytes).expect("opens");
                let decoded = Decompose::decode(&mut r, c).expect("decodes");
                r.finish().expect("read to the end");
                assert_eq!(decoded, d);
                d = decoded;
            }
        }
        assert_eq!(cost, c.cost(model, &incumbent));
        (d.best, cost, resumed)
    }

    fn ascend(model: &Model, c: &Component) -> (i64, i64) {
        let (bound, cost, _) = ascend_with(model, c, true);
        (bound, cost)
    }

    /// Limits that make every pricing go on past its first quantum, a SIM a quantum, with room
    /// to end exactly (or, `tight`, none: the Lagrangian bound stands).
    fn forced(tight: bool) -> Limits {
        Limits {
            states: 0,
            work: 0,
            resumed_states: if tight { 0 } else { 1 << 20 },
            resumed_work: if tight { 0 } else { u64::MAX },
            quantum_work: 1,
        }
    }

    /// A pool's pricing to its end under `limits`, its search state encoded and decoded
    /// between quanta: its value, its choice and whether it went on past its first quantum.
    fn price_whole(
        model: &Model,
        c: &Component,
        p: usize,
        mu: &[i64],
        limits: Limits,
    ) -> (i128, Vec<(u32, u32)>, bool) {
        match price(model, c, p, mu, limits) {
            Priced::Done(value, members, _) => (value, members, false),
            Priced::Resumed(members, _, mut resume) => loop {
                if let Some(value) = go_on(model, c, p, mu, limits, &mut resume) {
                    return (value, members, true);
                }
                let mut w = Writer::new();
                resume.encode(&mut w);
                let bytes = w.finish();
                let mut r = Reader::open(&bytes).expect("opens");
                let decoded = Resume::decode(&mut r, c, p as u32).expect("decodes");
                r.finish().expect("read to the end");
                assert_eq!(decoded, resume);
                resume = decoded;
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn a_pools_pricing_is_its_minimum_and_its_choice_costs_that(
            plans in prop::collection::vec(tiny_plan(), 1..=4),
            sims in tiny_sims(),
            prices in prop::collection::vec(0i64..60_000_000, 8),
        ) {
            let f = tiny_fleet(&plans, &sims);
            let model = Model::new(&f);
            let Some(cs) = components(&model) else { return Ok(()) };
            for c in &cs {
                let mu: Vec<i64> = (0..c.n()).map(|k| prices[k % prices.len()]).collect();
                for p in 0..c.pools.len() {
                    let brute = i128::from(brute_price(&model, c, p, &mu));
                    let (value, members, resumed) = price_whole(&model, c, p, &mu, LIMITS);
                    prop_assert!(!resumed);
                    prop_assert_eq!(value, brute);
                    for &(_, x) in &members {
                        prop_assert_eq!(c.opts[x as usize].pool as usize, p);
                    }
                    prop_assert_eq!(i128::from(value_of(&model, c, p, &mu, &members)), value);
                    // Going on past the first quantum, without the choices: the same value
                    // (the first quantum's choice is a choice, so no lower), or the
                    // Lagrangian bound where it may not go on.
                    let (value, members, resumed) = price_whole(&model, c, p, &mu, forced(false));
                    prop_assert_eq!(value, brute);
                    prop_assert!(resumed);
                    prop_assert!(i128::from(value_of(&model, c, p, &mu, &members)) >= value);
                    let (lower, _, _) = price_whole(&model, c, p, &mu, forced(true));
                    prop_assert!(lower <= brute);
                }
            }
        }

        #[test]
        fn the_decomposition_bound_is_below_the_optimum_and_exact_on_one_pool(
            plans in prop::collection::vec(tiny_plan(), 1..=4),
            sims in tiny_sims(),
        ) {
            let f = tiny_fleet(&plans, &sims);
            let model = Model::new(&f);
            let Some(cs) = components(&model) else { return Ok(()) };
            let optimum = brute_force(&model);
            let (mut bound, mut bill) = (0i64, 0i64);
            for c in &cs {
                if c.pools.is_empty() {
                    // SIMs without a priced pool: each its cheapest option.
                    let cost = c.cost(&model, &c.pricing.cheapest);
                    bound += cost;
                    bill += cost;
                    continue;
                }
                let (b, cost) = ascend(&model, c);
                prop_assert!(b <= cost, "bound {b} over the component's bill {cost}");
                if c.pools.len() == 1 && c.pricing.own.iter().all(Option::is_some) {
                    // With one pool the SIMs' own prices make the bound the optimum.
                    prop_assert_eq!(b, cost);
                }
                bound += b;
                bill += cost;
            }
            prop_assert!(bound <= optimum, "bound {bound} > optimum {optimum}");
            prop_assert!(bill >= optimum);
        }
    }

    #[test]
    fn on_a_few_hundred_sims_the_bound_closes_most_of_the_lp_gap() {
        let f = super::super::tests::synthetic_fleet_of(300, 7, 4, 12);
        let model = Model::new(&f);
        let cs = components(&model).expect("searched");
        let (mut lp, mut bound, mut bill) = (0i64, 0i64, 0i64);
        for c in cs.iter().filter(|c| !c.pools.is_empty()) {
            let all = vec![true; c.opts.len()];
            let prices: Vec<i128> = c.max.iter().map(|m| m / 2).collect();
            let (b, _, _) = super::super::branch::solve_dual(&model, c, &all, prices);
            let (d, cost) = ascend(&model, c);
            lp += b;
            bound += d;
            bill += cost;
        }
        // The pools' prices leave a gap of tenths of a per cent; the decomposition, hundredths.
        assert!(bill - lp > bill / 500, "lp {lp} bill {bill}");
        assert!(bill - bound < bill / 2_000, "bound {bound} bill {bill}");
    }

    #[test]
    fn pricings_going_on_past_a_quantum_resume_from_their_checkpoints_to_the_same_end() {
        // 200 plans: some pools' exact searches outgrow a quantum.
        let f = super::super::tests::synthetic_fleet_of(100, 7, 4, 50);
        let model = Model::new(&f);
        let cs = components(&model).expect("searched");
        let mut resumed = false;
        for c in cs.iter().filter(|c| !c.pools.is_empty()) {
            let (bound, bill, went_on) = ascend_with(&model, c, true);
            resumed |= went_on;
            assert_eq!((bound, bill, went_on), ascend_with(&model, c, false));
            assert!(bound <= bill);
        }
        assert!(resumed);
    }

    #[test]
    fn a_version_11_decomposition_decodes_without_a_pricing_going_on() {
        let f = super::super::tests::synthetic_fleet_of(100, 7, 4, 50);
        let model = Model::new(&f);
        let cs = components(&model).expect("searched");
        let c = cs.iter().find(|c| !c.pools.is_empty()).expect("a pool");
        let all = vec![true; c.opts.len()];
        let prices: Vec<i128> = c.max.iter().map(|m| m / 2).collect();
        let (_, prices, _) = super::super::branch::solve_dual(&model, c, &all, prices);
        let d = Decompose::new(&model, c, &prices);
        // Version 11 wrote the same fields without the flag of a pricing going on.
        let mut w = Writer::new();
        d.encode_fields(&mut w);
        let bytes = w.finish_as(11);
        let mut r = Reader::open(&bytes).expect("opens");
        assert_eq!(r.version(), 11);
        let old = Decompose::decode(&mut r, c).expect("a version-11 state decodes");
        r.finish().expect("read to the end");
        assert_eq!(old, d);
    }
}
