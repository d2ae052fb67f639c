//! Where pools interact (some SIM may use more than one of them) and SIMs have many options
//! (more than the job's `COORDINATE_OPTIONS`), or where coordinate ascent runs out of rounds
//! still climbing, the dual's best prices by a proximal bundle method over the interacting
//! pools' prices, all at once.
//!
//! `L` is concave and piecewise linear; every evaluation (a class-wise pass, [`Sweep`]) gives
//! its value and a subgradient, that is a *cut*: a plane on or above `L` everywhere. From the
//! best prices so far (the *centre*) the next prices to try maximise the cuts' minimum less a
//! proximal term, `min_j cut_j(λ) − |λ − centre|² / 2t`, within each price's range. If `L`
//! there rises by at least a tenth of what the cuts promised, they become the centre (a
//! *serious* step; `t` doubles when the promise was mostly kept); else the new cut refines the
//! model (a *null* step; `t` shrinks when `L` fell). It stops when the cuts promise less than
//! a ten-millionth of the bound, the bound reaches the best bill, or after [`MAX_EVALUATIONS`].
//! Then each interacting price in turn is *settled*: an exact line search ([`LineSearch`]:
//! bisection on the sign of its slope, the other prices held, as in coordinate ascent) puts it
//! at the upper end of its best, where the pool's cheapest choices leave it at or under its
//! allowance — the side recovery starts from; a last pass there can only raise the bound.
//! (From the centre itself, a hair off the kinks, the cheapest choices may leave a pool far
//! over its allowance, and balancing then ends well above the bound.)
//!
//! Coordinate ascent ([`super::coordinate`]), one price at a time, stalls on such a function:
//! at a kink where no single price can rise, however far the best is (on 4 × 50 plans it
//! stopped 0.1–0.2 % below the LP optimum, and the plans recovered from its prices were
//! 0.9–1.5 % above it). The method here follows the kinks. (With few options per SIM
//! coordinate ascent converges, and its prices recover plans as well or better: the job
//! climbs with it there.)
//!
//! The master problem is solved through its dual: weights `α` on the cuts (a point of the
//! simplex), for which the best prices are `clamp(centre + t·Σ α_j g_j)`; the weights move a
//! pair at a time (from the cut the trial prices rate highest among those in use to the one
//! rated lowest, with an exact line search), a few hundred steps at most. Prices are
//! scaled to `0..=1` of their range and values are in micros, in `f64` with IEEE arithmetic
//! only (`+ − × ÷`, no fused or library functions), so every platform computes the same
//! prices; the state (cuts, weights, `t`) is stored bit for bit. The bound itself is always an
//! exact evaluation at integer prices: the master only chooses where to look.

use super::bound::{decode_prices, max_prices, Sweep, SCALE};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::coordinate::LineSearch;
use super::model::Model;
use super::phase::Phase;

/// Evaluations of `L` at most (each a class-wise pass).
pub(crate) const MAX_EVALUATIONS: u32 = 200;

/// Cuts kept at most; when full, unused ones go, then all but the newest fold into one.
const MAX_CUTS: usize = 40;

/// Stop when the cuts promise less than the bound over this.
const STALL: f64 = 1e-7;

/// A serious step needs this share of the promised rise.
const SERIOUS: f64 = 0.1;

/// Pair steps of the master at most, per cut.
const MASTER_STEPS_PER_CUT: usize = 25;

/// Work of one master solve at most, in products (a pair step costs about `(cuts + line
/// search steps) × pools`): the solve is part of one quantum, so it must stay near a millisecond
/// however many pools interact. The master need not be solved exactly: the trial prices are
/// judged by what the cuts promise there, whatever weights gave them.
const MASTER_WORK: usize = 1 << 20;

/// Bisection steps of a pair step's line search.
const LINE_SEARCH_STEPS: usize = 40;

/// A plane over `L` in scaled prices: `value + slope · λ̂` (micros).
#[derive(Debug, Clone, PartialEq)]
struct Cut {
    value: f64,
    slope: Vec<f64>,
}

/// The bundle method's state.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    /// A bill: the bound cannot pass it.
    target: i64,
    /// The centre: the best prices of the climb (every pool's), and `L` there (scaled).
    pub best_prices: Vec<i128>,
    center_total: i128,
    /// The best bound so far, micros: the centre's, or at the end the settled prices' when
    /// higher.
    pub best_bound: i64,
    cuts: Vec<Cut>,
    /// The master's weights on the cuts (its next solve starts from them).
    alpha: Vec<f64>,
    /// The proximal parameter (scaled prices per micro).
    t: f64,
    /// What the cuts promised at the prices in evaluation, over the centre's `L` (micros).
    promised: f64,
    evaluations: u32,
    /// The prices in evaluation.
    prices: Vec<i128>,
    sweep: Sweep,
    step: Step,
}

/// Where the method stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Climbing with the cuts.
    Climb,
    /// Settling the `at`-th interacting pool's price by an exact line search (the others held).
    Settle { at: usize, line: LineSearch },
    /// The pass at the settled prices.
    Last,
}

fn write_f64(w: &mut Writer, v: f64) {
    w.u64(v.to_bits());
}

fn read_f64(r: &mut Reader<'_>) -> Result<f64, DecodeError> {
    let v = f64::from_bits(r.u64()?);
    if v.is_finite() {
        Ok(v)
    } else {
        Err(DecodeError::Invalid("a number of the bundle is not finite"))
    }
}

impl Bundle {
    /// Starts from `start` (whose bound is `bound`): its cut is the first evaluation.
    pub fn new(model: &Model, target: i64, start: Vec<i128>, bound: i64) -> Self {
        Bundle {
            target,
            sweep: Sweep::new(model, &start, false),
            prices: start.clone(),
            best_prices: start,
            center_total: i128::MIN,
            best_bound: bound,
            cuts: Vec::new(),
            alpha: Vec::new(),
            t: 0.0,
            promised: 0.0,
            evaluations: 0,
            step: Step::Climb,
        }
    }

    /// The prices to recover plans from (once finished): the centre with every interacting
    /// pool's price settled at the upper end of its best (given the others), where the pool's
    /// cheapest choices leave it at or under its allowance — the side balancing starts from.
    pub fn settled_prices(&self) -> &[i128] {
        &self.prices
    }

    /// Starts settling the `at`-th interacting pool's price, or the last pass.
    fn settle(&mut self, model: &Model, at: usize) {
        match model.lagrangian().coupled_pools.get(at) {
            Some(&pool) => {
                let (line, sweep) = LineSearch::start(model, &mut self.prices, pool);
                self.step = Step::Settle { at, line };
                self.sweep = sweep;
            }
            None => {
                self.step = Step::Last;
                self.sweep = Sweep::new(model, &self.prices, false);
            }
        }
    }

    /// Share done, 0–1 (rough: it often stops early).
    pub fn done_fraction(&self, model: &Model) -> f64 {
        (f64::from(self.evaluations) + self.sweep.done_fraction(model)) / f64::from(MAX_EVALUATIONS)
    }

    /// The pools whose prices move, and their ranges as `f64`.
    fn ranges(model: &Model) -> impl Iterator<Item = (usize, f64)> + '_ {
        let max = max_prices(model);
        model
            .lagrangian()
            .coupled_pools
            .iter()
            .map(move |&p| (p as usize, max[p as usize] as f64))
    }

    /// The cut of the finished sweep at `self.prices`.
    fn cut(&self, model: &Model) -> Cut {
        let scale = SCALE as f64;
        let mut value = self.sweep.total() as f64 / scale;
        let mut slope = Vec::new();
        let at = Bundle::scaled(model, &self.prices);
        for ((p, max), at) in Bundle::ranges(model).zip(at) {
            // d L / d λ̂ = g · max / 2^32 micros; the plane through (λ̂_k, L_k).
            let g = self.sweep.slope(p as u32) as f64 * max / scale;
            value -= g * at;
            slope.push(g);
        }
        Cut { value, slope }
    }

    /// The interacting pools' `prices` scaled to `0..=1` of their ranges.
    fn scaled(model: &Model, prices: &[i128]) -> Vec<f64> {
        Bundle::ranges(model)
            .map(|(p, max)| {
                if max > 0.0 {
                    prices[p] as f64 / max
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Adds a cut, making room first: unused cuts go (oldest first); if none is unused, all
    /// fold into their weighted sum (a plane over `L` too), which the new one joins.
    fn add_cut(&mut self, cut: Cut) {
        if self.cuts.len() >= MAX_CUTS {
            let mut k = 0;
            while k < self.cuts.len() && self.cuts.len() >= MAX_CUTS {
                if self.alpha[k] == 0.0 {
                    self.cuts.remove(k);
                    self.alpha.remove(k);
                } else {
                    k += 1;
                }
            }
        }
        if self.cuts.len() >= MAX_CUTS {
            let n = cut.slope.len();
            let mut folded = Cut {
                value: 0.0,
                slope: vec![0.0; n],
            };
            let sum: f64 = self.alpha.iter().sum();
            for (c, a) in self.cuts.iter().zip(&self.alpha) {
                let a = a / sum;
                folded.value += a * c.value;
                for (f, s) in folded.slope.iter_mut().zip(&c.slope) {
                    *f += a * s;
                }
            }
            self.cuts = vec![folded];
            self.alpha = vec![1.0];
        }
        self.cuts.push(cut);
        self.alpha.push(0.0);
    }

    /// Solves the master from the current weights; sets the prices to evaluate next and what
    /// the cuts promise there. False when they promise too little to go on.
    fn master(&mut self, model: &Model) -> bool {
        let center = Bundle::scaled(model, &self.best_prices);
        let base = self.center_total as f64 / SCALE as f64;
        // Each cut's value at the centre, over L there (≥ 0 but for rounding).
        let at_center: Vec<f64> = self
            .cuts
            .iter()
            .map(|c| c.value + dot(&c.slope, &center) - base)
            .collect();
        let n = center.len();
        let mut g = vec![0.0; n];
        for (c, a) in self.cuts.iter().zip(&self.alpha) {
            for (gi, s) in g.iter_mut().zip(&c.slope) {
                *gi += a * s;
            }
        }
        let t = self.t;
        let lambda = |g: &[f64], out: &mut Vec<f64>| {
            out.clear();
            out.extend(center.iter().zip(g).map(|(c, gi)| clamp01(c + t * gi)));
        };
        let mut at = Vec::with_capacity(n);
        lambda(&g, &mut at);
        // Each cut's value at the master's prices, over L at the centre.
        let rate = |k: usize, at: &[f64]| -> f64 {
            let s = &self.cuts[k].slope;
            let mut v = at_center[k];
            for i in 0..n {
                v += s[i] * (at[i] - center[i]);
            }
            v
        };
        let tolerance = 1e-9 * base.abs().max(1.0);
        let mut rates: Vec<f64> = (0..self.cuts.len()).map(|k| rate(k, &at)).collect();
        let m = self.cuts.len();
        let steps = MASTER_WORK / ((m + LINE_SEARCH_STEPS) * n + 1);
        for _ in 0..steps.clamp(1, MASTER_STEPS_PER_CUT * m) {
            // The pair: the highest-rated cut in use, the lowest-rated.
            let mut high = usize::MAX;
            let mut low = 0;
            for k in 0..rates.len() {
                if self.alpha[k] > 0.0 && (high == usize::MAX || rates[k] > rates[high]) {
                    high = k;
                }
                if rates[k] < rates[low] {
                    low = k;
                }
            }
            if high == usize::MAX || rates[high] - rates[low] <= tolerance {
                break;
            }
            // Moving weight δ from `high` to `low`: the slope of the master's dual along it is
            // rate_low − rate_high at the prices it gives, increasing in δ.
            let d: Vec<f64> = self.cuts[low]
                .slope
                .iter()
                .zip(&self.cuts[high].slope)
                .map(|(a, b)| a - b)
                .collect();
            let gap0 = at_center[low] - at_center[high];
            let slope_at = |delta: f64| -> f64 {
                let mut v = gap0;
                for i in 0..n {
                    let moved = clamp01(center[i] + t * (g[i] + delta * d[i]));
                    v += d[i] * (moved - center[i]);
                }
                v
            };
            let most = self.alpha[high];
            let delta = if slope_at(most) <= 0.0 {
                most
            } else {
                let (mut lo, mut hi) = (0.0, most);
                for _ in 0..LINE_SEARCH_STEPS {
                    let mid = lo + (hi - lo) / 2.0;
                    if slope_at(mid) <= 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                lo
            };
            if delta <= 0.0 {
                break;
            }
            self.alpha[high] -= delta;
            self.alpha[low] += delta;
            if self.alpha[high] < 1e-15 {
                self.alpha[low] += self.alpha[high];
                self.alpha[high] = 0.0;
            }
            for (gi, di) in g.iter_mut().zip(&d) {
                *gi += delta * di;
            }
            lambda(&g, &mut at);
            for (k, r) in rates.iter_mut().enumerate() {
                *r = rate(k, &at);
            }
        }
        // What the cuts promise at the master's prices.
        self.promised = rates.iter().copied().fold(f64::INFINITY, f64::min);
        if self.promised <= STALL * base.abs().max(1.0) {
            return false;
        }
        self.prices.clone_from(&self.best_prices);
        for ((p, max), a) in Bundle::ranges(model).zip(&at) {
            let price = (a * max + 0.5) as i128;
            self.prices[p] = price.clamp(0, max_prices(model)[p]);
        }
        if self.prices == self.best_prices {
            return false;
        }
        self.sweep = Sweep::new(model, &self.prices, false);
        true
    }

    /// Takes in the evaluation just finished and solves the master for the next; true when
    /// the climb is over.
    fn climb(&mut self, model: &Model) -> bool {
        self.evaluations += 1;
        let total = self.sweep.total();
        let cut = self.cut(model);
        if self.cuts.is_empty() {
            // The start: the first centre.
            self.center_total = total;
            let steepest = cut.slope.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            if steepest == 0.0 {
                return true; // a zero subgradient: these prices are the best
            }
            // A first step of a tenth of the steepest price's range.
            self.t = 0.1 / steepest;
            self.add_cut(cut);
            self.alpha[0] = 1.0;
        } else {
            let rise = (total - self.center_total) as f64 / SCALE as f64;
            let ratio = rise / self.promised;
            self.add_cut(cut);
            if rise >= SERIOUS * self.promised {
                self.center_total = total;
                self.best_prices.clone_from(&self.prices);
                self.best_bound = self.sweep.bound();
                if ratio >= 0.5 {
                    self.t *= 2.0;
                }
            } else if rise < 0.0 {
                self.t *= 0.5;
            }
        }
        if self.evaluations >= MAX_EVALUATIONS || self.best_bound >= self.target {
            return true;
        }
        !self.master(model)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn clamp01(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

impl Phase for Bundle {
    fn quantum(&mut self, model: &Model) -> bool {
        if !self.sweep.quantum(model, &self.prices) {
            return false;
        }
        match self.step {
            Step::Climb => {
                if self.climb(model) {
                    self.prices.clone_from(&self.best_prices);
                    self.settle(model, 0);
                }
                false
            }
            Step::Settle { at, mut line } => {
                let pool = model.lagrangian().coupled_pools[at];
                match line.next(model, &mut self.prices, pool, &self.sweep) {
                    Some(probe) => {
                        self.sweep = probe;
                        self.step = Step::Settle { at, line };
                    }
                    None => self.settle(model, at + 1),
                }
                false
            }
            Step::Last => {
                // Each settling search is exact, so this is rarely below the centre; the
                // higher of the two is the bound.
                self.best_bound = self.best_bound.max(self.sweep.bound());
                true
            }
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.i64(self.target);
        for p in self.best_prices.iter().chain(&self.prices) {
            w.i128(*p);
        }
        w.i128(self.center_total);
        w.i64(self.best_bound);
        w.u64(self.cuts.len() as u64);
        for (c, a) in self.cuts.iter().zip(&self.alpha) {
            write_f64(w, c.value);
            for s in &c.slope {
                write_f64(w, *s);
            }
            write_f64(w, *a);
        }
        write_f64(w, self.t);
        write_f64(w, self.promised);
        w.u64(u64::from(self.evaluations));
        match self.step {
            Step::Climb => w.u64(0),
            Step::Settle { at, line } => {
                w.u64(1);
                w.u64(at as u64);
                line.encode(w);
            }
            Step::Last => w.u64(2),
        }
        self.sweep.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let target = r.i64()?;
        let best_prices = decode_prices(r, model)?;
        let prices = decode_prices(r, model)?;
        let center_total = r.i128()?;
        let best_bound = r.i64()?;
        let n = r.below(MAX_CUTS as u64 + 1, "too many cuts")? as usize;
        let dimension = model.lagrangian().coupled_pools.len();
        let mut cuts = Vec::with_capacity(n);
        let mut alpha = Vec::with_capacity(n);
        for _ in 0..n {
            let value = read_f64(r)?;
            let slope = (0..dimension)
                .map(|_| read_f64(r))
                .collect::<Result<Vec<_>, _>>()?;
            cuts.push(Cut { value, slope });
            let a = read_f64(r)?;
            if !(0.0..=1.0 + 1e-9).contains(&a) {
                return Err(DecodeError::Invalid("a cut's weight is out of range"));
            }
            alpha.push(a);
        }
        let t = read_f64(r)?;
        let promised = read_f64(r)?;
        let evaluations = r.below(
            u64::from(MAX_EVALUATIONS) + 1,
            "an evaluation count is out of range",
        )? as u32;
        let pools = &model.lagrangian().coupled_pools;
        let step = match r.below(3, "an unknown bundle step")? {
            0 => Step::Climb,
            1 => {
                let at = r.below(pools.len() as u64, "a pool is out of range")? as usize;
                let line = LineSearch::decode(r, model, Some(pools[at]))?;
                Step::Settle { at, line }
            }
            _ => Step::Last,
        };
        let pool = match step {
            Step::Settle { at, .. } => Some(pools[at]),
            _ => None,
        };
        let sweep = Sweep::decode(r, model, &prices, pool)?;
        Ok(Bundle {
            step,
            target,
            best_prices,
            center_total,
            best_bound,
            cuts,
            alpha,
            t,
            promised,
            evaluations,
            prices,
            sweep,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::bound::Bisect;
    use super::super::checkpoint::{Reader, Writer};
    use super::super::coordinate::Coordinate;
    use super::super::model::Model;
    use super::super::phase::Phase;
    use super::super::tests::synthetic_fleet_of;
    use super::super::tiny::{brute_force, tiny_fleet, tiny_plan, tiny_sims};
    use super::Bundle;

    fn run<P: Phase>(phase: &mut P, model: &Model) {
        while !phase.quantum(model) {}
    }

    /// A climb (`Bundle::new`, `Coordinate::new`) from bisection's best prices, with no bill
    /// to stop at.
    fn from<P>(bisect: &Bisect, model: &Model, new: fn(&Model, i64, Vec<i128>, i64) -> P) -> P {
        new(
            model,
            i64::MAX,
            bisect.best_prices.clone(),
            bisect.best_bound,
        )
    }

    /// Bisection, then the bundle method from its best prices.
    fn bundle(model: &Model) -> (Bisect, Bundle) {
        let mut bisect = Bisect::new(model);
        run(&mut bisect, model);
        let mut bundle = from(&bisect, model, Bundle::new);
        run(&mut bundle, model);
        (bisect, bundle)
    }

    #[test]
    fn the_bundle_bound_passes_coordinate_ascents_where_many_pools_interact() {
        // 4 communication plans × 50 plans: here (3,000 SIMs) the bundle method's bound was
        // 0.25 % (seed 1) and 0.19 % (seed 7) above coordinate ascent's; at 10,000 SIMs an LP
        // solver put coordinate ascent 0.1–0.2 % under the LP optimum and the bundle method
        // within 0.001 % of it.
        for seed in [1, 7] {
            let model = Model::new(&synthetic_fleet_of(3_000, seed, 4, 50));
            assert!(model.lagrangian().by_coordinates(), "pools interact");
            let (bisect, bundle) = bundle(&model);
            let mut coordinate = from(&bisect, &model, Coordinate::new);
            run(&mut coordinate, &model);
            let (b, c) = (bundle.best_bound, coordinate.best_bound);
            assert!(
                (b - c) as f64 >= 5e-4 * c as f64,
                "seed {seed}: bundle {b}, coordinate ascent {c}"
            );
        }
    }

    #[test]
    fn a_bundle_cut_anywhere_and_resumed_ends_the_same() {
        let model = Model::new(&synthetic_fleet_of(2_000, 3, 4, 50));
        let (bisect, straight) = bundle(&model);
        let mut phase = from(&bisect, &model, Bundle::new);
        let mut quanta = 0;
        loop {
            let done = phase.quantum(&model);
            quanta += 1;
            let mut w = Writer::new();
            phase.encode(&mut w);
            let bytes = w.finish();
            let mut r = Reader::open(&bytes).expect("opens");
            phase = Bundle::decode(&mut r, &model).expect("decodes");
            r.finish().expect("reads it all");
            let mut again = Writer::new();
            phase.encode(&mut again);
            assert_eq!(again.finish(), bytes, "encode ∘ decode is the identity");
            if done {
                break;
            }
        }
        assert!(quanta > 50, "{quanta} quanta");
        assert_eq!(phase.best_bound, straight.best_bound);
        assert_eq!(phase.best_prices, straight.best_prices);
        assert_eq!(phase.settled_prices(), straight.settled_prices());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// On tiny fleets (shared pools, pools of one plan, SIMs that may use several): the
        /// bound never falls below bisection's and never passes the optimum.
        #[test]
        fn the_bundle_bound_is_valid_and_never_below_bisections(
            plans in prop::collection::vec(tiny_plan(), 2..=4),
            sims in tiny_sims(),
        ) {
            let model = Model::new(&tiny_fleet(&plans, &sims));
            prop_assume!(model.lagrangian().by_coordinates());
            let (bisect, bundle) = bundle(&model);
            let optimum = brute_force(&model);
            prop_assert!(bundle.best_bound >= bisect.best_bound);
            prop_assert!(bundle.best_bound <= optimum, "bound {} > optimum {optimum}", bundle.best_bound);
        }
    }
}
