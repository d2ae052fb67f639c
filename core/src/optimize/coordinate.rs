//! Coordinate ascent of the interacting pools' prices where SIMs have at most 24 options (with
//! more it stalls — 0.1–0.2 % under the LP optimum on 4 × 50 plans — and the bundle method,
//! [`super::bundle`], climbs instead; it also takes over when this runs out of rounds): one
//! pool price at a time, an exact line search — bisection on the sign of that price's
//! subgradient, over the classes that may use the pool only — then the next pool;
//! a full pass for the bound after each round. It stops when a round adds less than a
//! millionth of the bound, the bound reaches the best bill, or after [`MAX_ROUNDS`].
//!
//! Each line search is exact and `L` is concave, so the bound never falls; the class-wise
//! evaluation ([`super::envelope`]) makes a step cost a few thousand evaluations at any fleet
//! size, so tens of rounds take a fraction of a second. Used without constraints (the
//! class-wise evaluation needs that); with constraints [`super::bound::Ascent`] climbs instead.

use super::bound::{decode_prices, max_prices, Sweep};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::Model;
use super::phase::Phase;

/// Rounds at most.
pub(crate) const MAX_ROUNDS: u32 = 40;

/// A round that adds less than the bound over this stops the ascent.
const STALL: i64 = 1_000_000;

/// An exact line search along one interacting pool's price, the others held: bisection on the
/// sign of its slope, each probe a pass over the classes that may use the pool only. Coordinate
/// ascent searches each price in turn; the bundle method ([`super::bundle`]) settles its prices
/// so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineSearch {
    /// The bracket: the price's best is in `low..=high`.
    low: i128,
    high: i128,
}

impl LineSearch {
    /// Starts the search of `pool`'s price over its whole range: its first probe, set in
    /// `prices`, and the probe's pass.
    pub fn start(model: &Model, prices: &mut [i128], pool: u32) -> (LineSearch, Sweep) {
        let line = LineSearch {
            low: 0,
            high: max_prices(model)[pool as usize],
        };
        let sweep = line.probe(model, prices, pool);
        (line, sweep)
    }

    /// Sets the middle of the bracket in `prices`; its pass.
    fn probe(&self, model: &Model, prices: &mut [i128], pool: u32) -> Sweep {
        prices[pool as usize] = self.low + (self.high - self.low) / 2;
        Sweep::of_pool(model, prices, pool)
    }

    /// Takes in the finished `sweep` at the probe: halves the bracket and probes again (the
    /// new probe's pass), or, once the best is within one unit, sets the price at the upper
    /// end (`None`): that end leaves the pool at or under its allowance, the side recovery
    /// starts from.
    pub fn next(
        &mut self,
        model: &Model,
        prices: &mut [i128],
        pool: u32,
        sweep: &Sweep,
    ) -> Option<Sweep> {
        let p = pool as usize;
        if sweep.slope(pool) > 0 {
            self.low = prices[p];
        } else {
            self.high = prices[p];
        }
        if self.high - self.low > 1 {
            Some(self.probe(model, prices, pool))
        } else {
            prices[p] = self.high;
            None
        }
    }

    pub fn encode(&self, w: &mut Writer) {
        w.i128(self.low);
        w.i128(self.high);
    }

    /// Reads a bracket written by [`LineSearch::encode`], within `pool`'s range when it is in
    /// search.
    pub fn decode(
        r: &mut Reader<'_>,
        model: &Model,
        pool: Option<u32>,
    ) -> Result<LineSearch, DecodeError> {
        let (low, high) = (r.i128()?, r.i128()?);
        if let Some(pool) = pool {
            let max = max_prices(model)[pool as usize];
            if !(0 <= low && low <= high && high <= max) {
                return Err(DecodeError::Invalid("a price bracket is out of range"));
            }
        }
        Ok(LineSearch { low, high })
    }
}

/// Coordinate ascent of the pool prices.
#[derive(Debug, Clone)]
pub(crate) struct Coordinate {
    /// A bill: the bound cannot pass it.
    target: i64,
    /// The prices, the price in search at its probe.
    prices: Vec<i128>,
    round: u32,
    /// Which of the interacting pools is in search (their count: the round's full pass).
    at: usize,
    /// The search of that pool's price (the last one's during the full pass).
    line: LineSearch,
    sweep: Sweep,
    /// The best bound so far, micros.
    pub best_bound: i64,
    /// The prices that gave it.
    pub best_prices: Vec<i128>,
    /// The bound when the round began.
    round_start: i64,
}

impl Coordinate {
    /// Whether it stopped at its round limit, still climbing (prices that must move together
    /// stall it: the bundle method takes over).
    pub fn ran_out(&self) -> bool {
        self.round >= MAX_ROUNDS && self.best_bound < self.target
    }

    /// Starts from `start` (whose bound is `bound`). Where pools interact the job climbs with
    /// it first; when it runs out of rounds still climbing, the bundle method
    /// ([`super::bundle`]) goes on from its best prices.
    pub fn new(model: &Model, target: i64, start: Vec<i128>, bound: i64) -> Self {
        let mut c = Coordinate {
            target,
            best_prices: start.clone(),
            sweep: Sweep::new(model, &start, false),
            prices: start,
            round: 0,
            at: 0,
            line: LineSearch { low: 0, high: 0 },
            best_bound: bound,
            round_start: bound,
        };
        c.search(model, 0);
        c
    }

    /// Starts the line search of the `at`-th interacting pool (or the round's full pass).
    fn search(&mut self, model: &Model, at: usize) {
        self.at = at;
        match model.lagrangian().coupled_pools.get(at) {
            Some(&pool) => {
                (self.line, self.sweep) = LineSearch::start(model, &mut self.prices, pool)
            }
            None => self.sweep = Sweep::new(model, &self.prices, false),
        }
    }

    /// Share done, 0–1 (rough: the ascent often stops early).
    pub fn done_fraction(&self, model: &Model) -> f64 {
        let pools = model.lagrangian().coupled_pools.len() + 1;
        (f64::from(self.round) + self.at as f64 / pools as f64) / f64::from(MAX_ROUNDS)
    }
}

impl Phase for Coordinate {
    fn quantum(&mut self, model: &Model) -> bool {
        if !self.sweep.quantum(model, &self.prices) {
            return false;
        }
        if let Some(&pool) = model.lagrangian().coupled_pools.get(self.at) {
            match self.line.next(model, &mut self.prices, pool, &self.sweep) {
                Some(probe) => self.sweep = probe,
                None => self.search(model, self.at + 1),
            }
            return false;
        }
        let bound = self.sweep.bound();
        if bound > self.best_bound {
            self.best_bound = bound;
            self.best_prices.clone_from(&self.prices);
        }
        self.round += 1;
        let gain = self.best_bound - self.round_start;
        if self.round >= MAX_ROUNDS
            || self.best_bound >= self.target
            || gain <= self.best_bound.max(0) / STALL
        {
            return true;
        }
        self.round_start = self.best_bound;
        self.search(model, 0);
        false
    }

    fn encode(&self, w: &mut Writer) {
        w.i64(self.target);
        for p in self.prices.iter().chain(&self.best_prices) {
            w.i128(*p);
        }
        w.u64(u64::from(self.round));
        w.u64(self.at as u64);
        self.line.encode(w);
        w.i64(self.best_bound);
        w.i64(self.round_start);
        self.sweep.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let target = r.i64()?;
        let prices = decode_prices(r, model)?;
        let best_prices = decode_prices(r, model)?;
        let round = r.below(u64::from(MAX_ROUNDS), "a round is out of range")? as u32;
        let pools = &model.lagrangian().coupled_pools;
        let at = r.below(pools.len() as u64 + 1, "a pool is out of range")? as usize;
        let line = LineSearch::decode(r, model, pools.get(at).copied())?;
        let best_bound = r.i64()?;
        let round_start = r.i64()?;
        let sweep = Sweep::decode(r, model, &prices, pools.get(at).copied())?;
        Ok(Coordinate {
            target,
            prices,
            round,
            at,
            line,
            sweep,
            best_bound,
            best_prices,
            round_start,
        })
    }
}
