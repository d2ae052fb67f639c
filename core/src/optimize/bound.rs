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
//! the prices; [`ascend`] climbs it with Polyak subgradient steps.

use super::model::{Model, NO_POOL};

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

/// `L(λ)` at some prices, its subgradient, and each SIM's cheapest option at those prices.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// The bound, micros, rounded down.
    pub bound: i64,
    /// Per pool: Σ (usage − allowance) over the SIMs whose cheapest option is in it, bytes.
    pub subgradient: Vec<i128>,
    /// Per SIM, its cheapest option (ties: its current plan, then the first).
    pub choice: Vec<u32>,
}

/// Evaluates `L` at `prices`.
pub(crate) fn evaluate(model: &Model, prices: &[i128]) -> Evaluation {
    let mut total: i128 = -rounding_slack(model) * SCALE;
    let mut subgradient = vec![0i128; prices.len()];
    let mut choice = Vec::with_capacity(model.sims.len());
    for (i, sim) in model.sims.iter().enumerate() {
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
        total += best.0;
        let o = options[best.1 as usize];
        if o.pool != NO_POOL {
            subgradient[o.pool as usize] += i128::from(sim.usage) - i128::from(o.allowance);
        }
        choice.push(best.1);
    }
    Evaluation {
        bound: total.div_euclid(SCALE) as i64,
        subgradient,
        choice,
    }
}

/// The best prices' evaluation.
#[derive(Debug, Clone)]
pub(crate) struct Dual {
    pub best: Evaluation,
}

/// Climbs `L` from zero prices for `iterations` Polyak steps towards `target` (a known bill, the
/// bound cannot pass it), halving the step length after steps that do not improve.
pub(crate) fn ascend(model: &Model, target: i64, iterations: u32) -> Dual {
    let max = max_prices(model);
    let mut prices = vec![0i128; max.len()];
    let mut best = Dual {
        best: evaluate(model, &prices),
    };
    if max.iter().all(|m| *m == 0) {
        return best; // no pool bills overage: the bound is already exact
    }
    let mut current = best.best.clone();
    let mut theta = 1.0f64;
    let mut stalled = 0;
    for _ in 0..iterations {
        let g: Vec<f64> = current
            .subgradient
            .iter()
            .zip(&prices)
            .zip(&max)
            .map(|((g, p), m)| {
                // Project: a price at a bound cannot move outwards.
                if (*p == 0 && *g < 0) || (*p == *m && *g > 0) {
                    0.0
                } else {
                    *g as f64
                }
            })
            .collect();
        let norm2: f64 = g.iter().map(|x| x * x).sum();
        let gap = (target - current.bound).max(1) as f64;
        if norm2 == 0.0 {
            break; // a zero subgradient: these prices are optimal
        }
        let step = theta * gap / norm2 * SCALE as f64;
        for ((p, gi), m) in prices.iter_mut().zip(&g).zip(&max) {
            let moved = *p as f64 + step * gi;
            *p = (moved.max(0.0) as i128).min(*m);
        }
        current = evaluate(model, &prices);
        if current.bound > best.best.bound {
            best = Dual {
                best: current.clone(),
            };
            stalled = 0;
        } else {
            stalled += 1;
            if stalled >= 3 {
                theta *= 0.5;
                stalled = 0;
            }
        }
        if best.best.bound >= target || theta < 1e-6 {
            break;
        }
    }
    best
}
