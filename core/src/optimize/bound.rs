//! A certified lower bound on the best possible bill: the Lagrangian dual with one price per byte
//! per pool.
//!
//! A pool's overage line is `g(x) = round(rate × ceil(max(0, x) / block))` for its excess `x`.
//! For any price `0 ≤ λ ≤ rate / block`, `g(x) ≥ λ·x − ε`, where `ε` is half a minor unit when
//! the rate is not a whole number of minor units (rounding can take that much off) and zero
//! otherwise. Replacing each pool's line by `λ_P·(Σ usage − Σ allowance) − ε_P` makes the bill
//! separable per SIM, so for every choice of prices
//!
//! `L(λ) = Σ_i min_o [fixed_io + λ_P(o)·(u_i − a_o)] − Σ_P ε_P ≤ the optimum`.
//!
//! Prices are fixed-point integers (micros per byte × 2^32) and `L` is computed in `i128` and
//! rounded down, so the bound is exact, valid, and the same on every platform. `L` is concave in
//! the prices; [`Ascent`] climbs it with Polyak subgradient steps, a quantum of SIMs at a time.

use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::{Assignment, Model, NO_POOL};
use super::phase::{Phase, QUANTUM_SIMS};

/// Fractional bits of a price.
pub(crate) const SCALE_BITS: u32 = 32;
const SCALE: i128 = 1 << SCALE_BITS;

/// The largest useful price of each pool: its overage rate per byte (zero when the pool bills no
/// overage).
pub(crate) fn max_prices(model: &Model) -> Vec<i128> {
    model
        .pool_terms
        .iter()
        .map(|terms| match terms {
            Some(t) if model.rules.bills_overage => {
                i128::from(t.rate.micros()) * SCALE / i128::from(t.block.0)
            }
            _ => 0,
        })
        .collect()
}

/// Σ_P ε_P in micros: what rounding pool overage lines to the minor unit can take off.
fn rounding_slack(model: &Model) -> i128 {
    let unit = 10i64.pow(crate::money::MONEY_DECIMALS - model.rules.decimals);
    model
        .pool_terms
        .iter()
        .filter(
            |t| matches!(t, Some(t) if model.rules.bills_overage && t.rate.micros() % unit != 0),
        )
        .map(|_| i128::from(unit / 2))
        .sum()
}

/// One pass over the SIMs at fixed prices, a quantum at a time: the partial sum of `L` and of
/// its subgradient, and (when asked) each SIM's cheapest option.
#[derive(Debug, Clone)]
pub(crate) struct Sweep {
    next: usize,
    total: i128,
    subgradient: Vec<i128>,
    choice: Option<Vec<u32>>,
}

impl Sweep {
    fn new(model: &Model, record_choice: bool) -> Self {
        Sweep {
            next: 0,
            total: -rounding_slack(model) * SCALE,
            subgradient: vec![0; model.pool_terms.len()],
            choice: record_choice.then(|| Vec::with_capacity(model.sims.len())),
        }
    }

    /// Evaluates the next quantum of SIMs; true when the pass is complete.
    fn quantum(&mut self, model: &Model, prices: &[i128]) -> bool {
        let end = (self.next + QUANTUM_SIMS).min(model.sims.len());
        for i in self.next..end {
            let sim = &model.sims[i];
            let options = model.options_of(i);
            let mut best = (i128::MAX, 0u32);
            for (index, o) in options.iter().enumerate() {
                let mut value = i128::from(model.fixed(i, o)) * SCALE;
                if o.pool != NO_POOL {
                    value +=
                        prices[o.pool as usize] * (i128::from(sim.usage) - i128::from(o.allowance));
                }
                let index = index as u32;
                if value < best.0 || (value == best.0 && index == sim.current) {
                    best = (value, index);
                }
            }
            self.total += best.0;
            let o = options[best.1 as usize];
            if o.pool != NO_POOL {
                self.subgradient[o.pool as usize] +=
                    i128::from(sim.usage) - i128::from(o.allowance);
            }
            if let Some(choice) = &mut self.choice {
                choice.push(best.1);
            }
        }
        self.next = end;
        self.next == model.sims.len()
    }

    /// `L` at the sweep's prices, micros, rounded down (once complete).
    fn bound(&self) -> i64 {
        self.total.div_euclid(SCALE) as i64
    }

    fn encode(&self, w: &mut Writer) {
        w.u64(self.next as u64);
        w.i128(self.total);
        for g in &self.subgradient {
            w.i128(*g);
        }
        w.bool(self.choice.is_some());
        if let Some(choice) = &self.choice {
            w.u64s(choice.iter().map(|c| u64::from(*c)));
        }
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let next = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize;
        let total = r.i128()?;
        let subgradient = (0..model.pool_terms.len())
            .map(|_| r.i128())
            .collect::<Result<Vec<_>, _>>()?;
        let choice = if r.bool()? {
            let c = r.u64s(next as u64)?;
            if c.len() != next {
                return Err(DecodeError::Invalid(
                    "a partial choice does not match its cursor",
                ));
            }
            Some(c.into_iter().map(|v| v as u32).collect())
        } else {
            None
        };
        Ok(Sweep {
            next,
            total,
            subgradient,
            choice,
        })
    }
}

/// Polyak subgradient ascent of `L` from zero prices towards `target` (a known bill: the bound
/// cannot pass it), halving the step length after three steps that do not improve.
#[derive(Debug, Clone)]
pub(crate) struct Ascent {
    target: i64,
    iterations_left: u32,
    prices: Vec<i128>,
    theta_halvings: u32,
    stalled: u32,
    sweep: Sweep,
    sweeps: u32,
    /// The best bound so far, micros.
    pub best_bound: i64,
    /// The prices that gave it.
    pub best_prices: Vec<i128>,
    /// The prices of sweeps 1, 2, 4, 8, …: the assignments they suggest differ, and near the
    /// optimum, where many SIMs are indifferent, the best prices' choice is often not the best
    /// start for the search; recovery tries them all.
    pub snapshots: Vec<Vec<i128>>,
}

/// Step length factor halvings after which the ascent stops (2^-20 ≈ 1e-6).
const MAX_HALVINGS: u32 = 20;

impl Ascent {
    pub fn new(model: &Model, target: i64, iterations: u32) -> Self {
        let prices = vec![0; model.pool_terms.len()];
        Ascent {
            target,
            iterations_left: iterations,
            best_prices: prices.clone(),
            prices,
            theta_halvings: 0,
            stalled: 0,
            sweep: Sweep::new(model, false),
            sweeps: 0,
            best_bound: i64::MIN,
            snapshots: Vec::new(),
        }
    }

    /// The price vectors recovery should start from, each once: the best, the snapshots, and
    /// `kicks` copies of the best with every pool's price moved by up to ±10 % (seeded, so the
    /// same on every run and platform).
    pub fn candidates(&self, model: &Model, kicks: u32, seed: u64) -> Vec<Vec<i128>> {
        let mut out = vec![self.best_prices.clone()];
        let max = max_prices(model);
        let mut rng = crate::random::SplitMix64::new(seed);
        let kicked = (0..kicks).map(|_| {
            self.best_prices
                .iter()
                .zip(&max)
                .map(|(p, m)| {
                    let per_mille = rng.below(201) as i128 - 100; // −100 … +100 ‰
                    (p + p * per_mille / 1000).clamp(0, *m)
                })
                .collect::<Vec<i128>>()
        });
        for s in self.snapshots.iter().cloned().chain(kicked) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// Share done, 0–1 (rough: the ascent often stops early).
    pub fn done_fraction(&self, model: &Model, iterations: u32) -> f64 {
        let done = iterations.saturating_sub(self.iterations_left);
        (f64::from(done) + self.sweep.next as f64 / model.sims.len().max(1) as f64)
            / f64::from(iterations.max(1))
    }
}

impl Phase for Ascent {
    fn quantum(&mut self, model: &Model) -> bool {
        if !self.sweep.quantum(model, &self.prices) {
            return false;
        }
        let bound = self.sweep.bound();
        let first = self.best_bound == i64::MIN;
        self.sweeps += 1;
        if self.sweeps.is_power_of_two() && self.sweeps > 1 {
            self.snapshots.push(self.prices.clone());
        }
        if bound > self.best_bound {
            self.best_bound = bound;
            self.best_prices.clone_from(&self.prices);
            self.stalled = 0;
        } else {
            self.stalled += 1;
            if self.stalled >= 3 {
                self.theta_halvings += 1;
                self.stalled = 0;
            }
        }
        let max = max_prices(model);
        if (first && max.iter().all(|m| *m == 0))
            || self.iterations_left == 0
            || self.best_bound >= self.target
            || self.theta_halvings > MAX_HALVINGS
        {
            return true; // no pool bills overage (the bound is exact), or done
        }
        self.iterations_left -= 1;
        let g: Vec<f64> = self
            .sweep
            .subgradient
            .iter()
            .zip(&self.prices)
            .zip(&max)
            .map(|((g, p), m)| {
                // Projected: a price at a limit cannot move outwards.
                if (*p == 0 && *g < 0) || (*p == *m && *g > 0) {
                    0.0
                } else {
                    *g as f64
                }
            })
            .collect();
        let norm2: f64 = g.iter().map(|x| x * x).sum();
        if norm2 == 0.0 {
            return true; // a zero subgradient: these prices are optimal
        }
        let theta = 1.0 / f64::from(1u32 << self.theta_halvings.min(31));
        let gap = (self.target - bound).max(1) as f64;
        let step = theta * gap / norm2 * SCALE as f64;
        for ((p, gi), m) in self.prices.iter_mut().zip(&g).zip(&max) {
            let moved = *p as f64 + step * gi;
            *p = (moved.max(0.0) as i128).min(*m);
        }
        self.sweep = Sweep::new(model, false);
        false
    }

    fn encode(&self, w: &mut Writer) {
        w.i64(self.target);
        w.u64(u64::from(self.iterations_left));
        for p in self.prices.iter().chain(&self.best_prices) {
            w.i128(*p);
        }
        w.u64(u64::from(self.theta_halvings));
        w.u64(u64::from(self.stalled));
        w.i64(self.best_bound);
        w.u64(u64::from(self.sweeps));
        w.u64(self.snapshots.len() as u64);
        for p in self.snapshots.iter().flatten() {
            w.i128(*p);
        }
        self.sweep.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let pools = model.pool_terms.len();
        let target = r.i64()?;
        let iterations_left =
            r.below(u64::from(u32::MAX), "an iteration count is out of range")? as u32;
        let mut prices = (0..2 * pools)
            .map(|_| r.i128())
            .collect::<Result<Vec<_>, _>>()?;
        let best_prices = prices.split_off(pools);
        let max = max_prices(model);
        if prices
            .iter()
            .chain(&best_prices)
            .zip(max.iter().chain(&max))
            .any(|(p, m)| *p < 0 || p > m)
        {
            return Err(DecodeError::Invalid("a price is out of range"));
        }
        Ok(Ascent {
            target,
            iterations_left,
            prices,
            best_prices,
            theta_halvings: r.below(u64::from(MAX_HALVINGS) + 2, "a step length is out of range")?
                as u32,
            stalled: r.below(3, "a stall count is out of range")? as u32,
            best_bound: r.i64()?,
            sweeps: r.below(u64::from(u32::MAX), "a sweep count is out of range")? as u32,
            snapshots: {
                let n = r.below(33, "too many price snapshots")?;
                let mut v = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    v.push(
                        (0..pools)
                            .map(|_| r.i128())
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                }
                v
            },
            sweep: Sweep::decode(r, model)?,
        })
    }
}

/// Each SIM's cheapest option at fixed prices: the assignment the prices suggest.
#[derive(Debug, Clone)]
pub(crate) struct Argmin {
    prices: Vec<i128>,
    sweep: Sweep,
}

impl Argmin {
    pub fn new(model: &Model, prices: Vec<i128>) -> Self {
        Argmin {
            prices,
            sweep: Sweep::new(model, true),
        }
    }

    /// The choices, once the phase is finished.
    pub fn into_assignment(self, model: &Model) -> Assignment {
        Assignment::new(model, self.sweep.choice.unwrap_or_default())
    }
}

impl Phase for Argmin {
    fn quantum(&mut self, model: &Model) -> bool {
        self.sweep.quantum(model, &self.prices)
    }

    fn encode(&self, w: &mut Writer) {
        for p in &self.prices {
            w.i128(*p);
        }
        self.sweep.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let prices = (0..model.pool_terms.len())
            .map(|_| r.i128())
            .collect::<Result<Vec<_>, _>>()?;
        let sweep = Sweep::decode(r, model)?;
        if sweep.choice.is_none() {
            return Err(DecodeError::Invalid("a recovery pass lost its choices"));
        }
        Ok(Argmin { prices, sweep })
    }
}
