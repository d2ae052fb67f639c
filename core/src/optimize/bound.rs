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
//! A limit of `K` changes adds one more price `μ ≥ 0` (per change, last in the price vector):
//! every option but a SIM's current one costs `μ` more and `L` takes `μ·K` off, which bounds
//! every assignment with at most `K` changes. A minimum saving per change is a fixed change cost
//! in the objective ([`Model::fixed`]), so the bound is on `bill + min_saving × changes`.
//!
//! Prices are fixed-point integers (micros per byte × 2^32) and `L` is computed in `i128` and
//! rounded down, so the bound is exact, valid, and the same on every platform. `L` is concave in
//! the prices; [`Bisect`] bisects every pool's price at once on the sign of its subgradient
//! (exact for a pool no SIM shares with another), and where pools interact coordinate ascent
//! ([`super::coordinate`], where SIMs have few options), a proximal bundle method
//! ([`super::bundle`], where they have many or coordinate ascent runs out of rounds) or, under
//! constraints, [`Ascent`] with Polyak subgradient steps climbs on. A pass ([`Sweep`]) goes class by class without constraints
//! ([`super::envelope`]), else a quantum of SIMs at a time, each SIM costing O(its pools)
//! through the precomputed [`Lagrangian`].

use super::checkpoint::{DecodeError, Reader, Writer};
use super::envelope::{self, Envelope, Sums};
use super::model::{Model, NO_POOL};
use super::phase::{Phase, QUANTUM_SIMS};

/// Fractional bits of a price.
pub(crate) const SCALE_BITS: u32 = 32;
pub(crate) const SCALE: i128 = 1 << SCALE_BITS;

/// The largest useful price of each pool: its overage rate per byte (zero when the pool bills no
/// overage); with a limit on changes, then the largest useful price of a change.
pub(crate) fn max_prices(model: &Model) -> &[i128] {
    &model.lagrangian().max_prices
}

/// Σ_P ε_P in micros: what rounding pool overage lines to the minor unit can take off.
fn rounding_slack(model: &Model) -> i128 {
    (0..model.pool_terms.len() as u32)
        .map(|p| rounding_slack_of(model, p))
        .sum()
}

/// ε_P of one pool in micros: half a minor unit where its rate is not a whole number of them.
pub(crate) fn rounding_slack_of(model: &Model, pool: u32) -> i128 {
    let unit = 10i64.pow(crate::money::MONEY_DECIMALS - model.rules.decimals);
    match model.pool_terms[pool as usize] {
        Some(t) if model.rules.bills_overage && t.rate.micros() % unit != 0 => i128::from(unit / 2),
        _ => 0,
    }
}

/// What the dual evaluation — and, through the usage order, swaps and ejections — precompute
/// from the model (derived, never stored): a SIM's value on its own (non-pooled) options does
/// not depend on the prices, so its cheapest is found once; on a pool's options it is
/// `base − λ·allowance` (the same for the whole class) `+ λ·usage`.
#[derive(Debug, Clone)]
pub(crate) struct Lagrangian {
    /// Each SIM's cheapest non-pooled fixed cost (micros; `i64::MAX` when it has none) and which
    /// option that is; empty when sweeps go class by class ([`own_of`] computes it then).
    own: Vec<(i64, u32)>,
    /// For each class, its pooled options grouped by pool.
    class_pools: Vec<Vec<PoolGroup>>,
    /// Per class: whether every option has the same SMS rate (then a SIM's SMS line does not
    /// change its choice and the class's pooled options can be ranked once per sweep).
    uniform_sms: Vec<bool>,
    /// Each price's upper limit ([`max_prices`]).
    max_prices: Vec<i128>,
    /// SIMs by class, by usage within a class.
    pub by_usage: Vec<u32>,
    /// Where each class's SIMs start in `by_usage` (and, last, the SIM count).
    class_start: Vec<u32>,
    /// Pools some SIM may use together with another pool (whose prices interact), with a
    /// positive highest price.
    pub coupled_pools: Vec<u32>,
    /// For each pool, the classes that may use it.
    pub classes_of_pool: Vec<Vec<u32>>,
    /// The class-wise evaluation, without constraints.
    pub envelope: Option<Envelope>,
}

#[derive(Debug, Clone)]
struct PoolGroup {
    pool: u32,
    /// Option indices within the class.
    options: Vec<u32>,
}

impl Lagrangian {
    pub fn new(model: &Model) -> Self {
        let mut class_pools = Vec::with_capacity(model.classes.len());
        let mut uniform_sms = Vec::with_capacity(model.classes.len());
        for c in &model.classes {
            let options = &model.options[c.first as usize..(c.first + c.len) as usize];
            let mut groups: Vec<PoolGroup> = Vec::new();
            for (k, o) in options.iter().enumerate() {
                if o.pool == NO_POOL {
                    continue;
                }
                match groups.iter_mut().find(|g| g.pool == o.pool) {
                    Some(g) => g.options.push(k as u32),
                    None => groups.push(PoolGroup {
                        pool: o.pool,
                        options: vec![k as u32],
                    }),
                }
            }
            class_pools.push(groups);
            uniform_sms.push(
                options
                    .iter()
                    .all(|o| model.sms_rate(o.plan) == model.sms_rate(options[0].plan)),
            );
        }
        let by_usage = envelope::by_usage(model);
        let mut max = pool_max_prices(model);
        let mut classes_of_pool = vec![Vec::new(); model.pool_terms.len()];
        for (class, groups) in class_pools.iter().enumerate() {
            for g in groups {
                classes_of_pool[g.pool as usize].push(class as u32);
            }
        }
        let mut coupled_pools: Vec<u32> = class_pools
            .iter()
            .filter(|groups| groups.len() > 1)
            .flatten()
            .map(|g| g.pool)
            .filter(|&p| max[p as usize] > 0)
            .collect();
        coupled_pools.sort_unstable();
        coupled_pools.dedup();
        let envelope = (model.change_cost == 0 && !model.limits_changes())
            .then(|| Envelope::new(model, &by_usage, &uniform_sms, &max));
        // With the envelope, sweeps go class by class; the few SIM-by-SIM evaluations compute
        // a SIM's cheapest non-pooled option again.
        let own = if envelope.is_some() {
            Vec::new()
        } else {
            (0..model.sims.len()).map(|i| own_of(model, i)).collect()
        };
        let mut class_start = vec![0u32; model.classes.len() + 1];
        for i in 0..model.sims.len() {
            class_start[model.sim(i).class as usize + 1] += 1;
        }
        for c in 0..model.classes.len() {
            class_start[c + 1] += class_start[c];
        }
        if model.limits_changes() {
            max.push(change_price_max(model, &max));
        }
        Lagrangian {
            own,
            class_pools,
            uniform_sms,
            max_prices: max,
            by_usage,
            class_start,
            coupled_pools,
            classes_of_pool,
            envelope,
        }
    }

    /// The positions of `class`'s SIMs in `by_usage`.
    pub fn class_range(&self, class: usize) -> (u32, u32) {
        (self.class_start[class], self.class_start[class + 1])
    }

    /// The usage of the SIM at position `k` of `by_usage` (from the envelope's prefix sums
    /// when there is one: memory read in order, not SIM by SIM).
    #[inline]
    pub fn usage_at(&self, model: &Model, k: usize) -> u64 {
        match &self.envelope {
            Some(e) => e.prefix_usage[k + 1] - e.prefix_usage[k],
            None => model.sims[self.by_usage[k] as usize].usage,
        }
    }

    /// How many pools SIMs of `class` may use.
    pub fn pools_of(&self, class: u32) -> usize {
        self.class_pools[class as usize].len()
    }

    /// The pools SIMs of `class` may use.
    pub fn pool_ids(&self, class: u32) -> impl Iterator<Item = u32> + '_ {
        self.class_pools[class as usize].iter().map(|g| g.pool)
    }

    /// Whether the interacting prices are found class by class, without constraints (by
    /// coordinate ascent or the bundle method) rather than by subgradient ascent.
    pub fn by_coordinates(&self) -> bool {
        self.envelope.is_some() && !self.coupled_pools.is_empty()
    }

    /// Whether some SIM may use more than one pool, or changes are limited: then the prices
    /// interact and bisecting each price on its own is not enough.
    pub fn coupled(&self, model: &Model) -> bool {
        model.limits_changes() || self.class_pools.iter().any(|g| g.len() > 1)
    }
}

/// A change price at which no SIM gains by changing, whatever the pool prices: above the most
/// any SIM's current option can exceed another option's value (prices at their limits).
fn change_price_max(model: &Model, pool_max: &[i128]) -> i128 {
    let price = |o: &super::model::OptionTerms| {
        if o.pool == NO_POOL {
            0
        } else {
            pool_max[o.pool as usize]
        }
    };
    let mut max = SCALE;
    for i in 0..model.sims.len() {
        let sim = model.sim(i);
        let options = model.options_of(i);
        let current = &options[sim.current as usize];
        let high = i128::from(model.fixed_bill(i, current)) * SCALE
            + price(current) * i128::from(sim.usage);
        let low = options
            .iter()
            .map(|o| {
                i128::from(model.fixed_bill(i, o)) * SCALE - price(o) * i128::from(o.allowance)
            })
            .min()
            .unwrap_or(high);
        max = max.max(high - low + SCALE);
    }
    max
}

/// Each pool's overage rate per byte (zero when the pool bills no overage).
fn pool_max_prices(model: &Model) -> Vec<i128> {
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

/// The value of an option at fixed prices, scaled: `fixed·2^32 + λ·(usage − allowance)`, with
/// its pool's `usage − allowance`. Ties go to the smaller `usage − allowance` (the choice just
/// above the prices), then to the lower option index, so the subgradient is the right derivative
/// and bisection on its sign is exact for a lone pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Valued {
    pub value: i128,
    pub excess: i128,
    pub option: u32,
}

/// One class's pooled candidate at fixed prices: `(pool, base·2^32 − λ·allowance, allowance,
/// option)` of the pool's cheapest option for the class (a SIM adds `λ·usage`).
pub(crate) type PoolMinimum = (u32, i128, u64, u32);

/// For one sweep's prices: each class's cheapest option of each pool.
fn pooled_minima(model: &Model, prices: &[i128]) -> Vec<Vec<PoolMinimum>> {
    (0..model.classes.len())
        .map(|c| class_minima(model, prices, c))
        .collect()
}

/// [`pooled_minima`] of `classes` only (the others' lists left empty).
fn pooled_minima_of(model: &Model, prices: &[i128], classes: &[u32]) -> Vec<Vec<PoolMinimum>> {
    let mut minima = vec![Vec::new(); model.classes.len()];
    for &c in classes {
        minima[c as usize] = class_minima(model, prices, c as usize);
    }
    minima
}

/// Class `class`'s cheapest option of each pool at `prices`.
fn class_minima(model: &Model, prices: &[i128], class: usize) -> Vec<PoolMinimum> {
    let c = &model.classes[class];
    let options = &model.options[c.first as usize..(c.first + c.len) as usize];
    model.lagrangian().class_pools[class]
        .iter()
        .map(|g| {
            let price = prices[g.pool as usize];
            let mut best: Option<(i128, u64, u32)> = None;
            for &k in &g.options {
                let o = options[k as usize];
                let v = i128::from(o.base) * SCALE - price * i128::from(o.allowance);
                // Ties: the larger allowance (smaller excess), then the lower index.
                let better = match best {
                    None => true,
                    Some((bv, ba, _)) => v < bv || (v == bv && o.allowance > ba),
                };
                if better {
                    best = Some((v, o.allowance, k));
                }
            }
            let (v, a, k) = best.unwrap_or((i128::MAX, 0, 0));
            (g.pool, v, a, k)
        })
        .collect()
}

/// SIM `i`'s cheapest non-pooled fixed cost (micros; `i64::MAX` when it has none) and which
/// option that is.
pub(crate) fn own_of(model: &Model, i: usize) -> (i64, u32) {
    let mut best = (i64::MAX, 0u32);
    for (k, o) in model.options_of(i).iter().enumerate() {
        if o.pool == NO_POOL {
            let v = model.fixed_bill(i, o);
            if v < best.0 {
                best = (v, k as u32);
            }
        }
    }
    best
}

/// SIM `i`'s cheapest option at `prices`.
#[inline]
pub(crate) fn cheapest(
    model: &Model,
    prices: &[i128],
    minima: &[Vec<PoolMinimum>],
    i: usize,
) -> Valued {
    let sim = model.sim(i);
    let lag = model.lagrangian();
    let usage = i128::from(sim.usage);
    let class = sim.class as usize;
    let (own, own_option) = match lag.own.get(i) {
        Some(own) => *own,
        None => own_of(model, i),
    };
    let mut best = Valued {
        value: if own == i64::MAX {
            i128::MAX
        } else {
            i128::from(own) * SCALE
        },
        excess: 0,
        option: own_option,
    };
    if sim.sms == 0 || lag.uniform_sms[class] {
        let options = model.options_of(i);
        let sms = if sim.sms == 0 || minima[class].is_empty() {
            0
        } else {
            model.sms_line(sim.sms, options[minima[class][0].3 as usize].plan)
        };
        for &(pool, base, allowance, option) in &minima[class] {
            let excess = usage - i128::from(allowance);
            let v = Valued {
                value: base + i128::from(sms) * SCALE + prices[pool as usize] * usage,
                excess,
                option,
            };
            best = best.min(v);
        }
    } else {
        for (k, o) in model.options_of(i).iter().enumerate() {
            if o.pool == NO_POOL {
                continue;
            }
            let excess = usage - i128::from(o.allowance);
            let v = Valued {
                value: i128::from(model.fixed_bill(i, o)) * SCALE
                    + prices[o.pool as usize] * excess,
                excess,
                option: k as u32,
            };
            best = best.min(v);
        }
    }
    if best.option != sim.current {
        let change = i128::from(model.change_cost) * SCALE
            + if model.limits_changes() {
                prices[model.pool_terms.len()]
            } else {
                0
            };
        if change != 0 {
            // Every other option costs `change` more: staying put wins unless still dearer.
            let stay = stay(model, prices, i);
            best.value += change;
            if stay.value <= best.value {
                best = stay;
            }
        }
    }
    best
}

/// SIM `i`'s value on its current option at `prices`.
fn stay(model: &Model, prices: &[i128], i: usize) -> Valued {
    let sim = model.sim(i);
    let o = &model.options_of(i)[sim.current as usize];
    let mut stay = Valued {
        value: i128::from(model.fixed_bill(i, o)) * SCALE,
        excess: 0,
        option: sim.current,
    };
    if o.pool != NO_POOL {
        stay.excess = i128::from(sim.usage) - i128::from(o.allowance);
        stay.value += prices[o.pool as usize] * stay.excess;
    }
    stay
}

/// With a limit of `K` changes, the best change price at fixed pool prices. At those prices
/// each SIM has a saving `s_i` from changing (its current option's value less its best other
/// option's, change cost included), and `L(μ) = Σ_i stay_i − Σ_i max(0, s_i − μ) − μ·K`, whose
/// maximum is at the `K+1`-th largest saving (zero when at most `K` SIMs gain): one pass and a
/// selection, no bisection. [`Bisect`] and this alternate, each exact for its own prices.
#[derive(Debug, Clone)]
pub(crate) struct ChangePrice {
    /// The pool prices (the change price slot at zero).
    prices: Vec<i128>,
    next: usize,
    /// The positive savings so far (derived from the prices: rebuilt on decode, so that a
    /// checkpoint stays small when most SIMs would gain).
    savings: Vec<i128>,
    /// Derived from the prices (rebuilt on decode).
    minima: Vec<Vec<PoolMinimum>>,
    /// Carried from bisection to bisection: the best bound, its prices, and the round.
    pub carried: Carried,
}

/// What one bisection round hands the next (with a limit on changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Carried {
    /// The best bound so far, micros.
    pub best_bound: i64,
    /// The prices that gave it.
    pub best_prices: Vec<i128>,
    /// Bisection rounds done.
    pub round: u32,
}

impl Carried {
    fn encode(&self, w: &mut Writer) {
        w.i64(self.best_bound);
        for p in &self.best_prices {
            w.i128(*p);
        }
        w.u64(u64::from(self.round));
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        Ok(Carried {
            best_bound: r.i64()?,
            best_prices: decode_prices(r, model)?,
            round: r.below(
                u64::from(CHANGE_PRICE_ROUNDS) + 1,
                "a round is out of range",
            )? as u32,
        })
    }
}

/// Bisection rounds with a limit on changes: bisect the pool prices, set the change price,
/// bisect again… (each round's bisection starts afresh at the new change price).
pub(crate) const CHANGE_PRICE_ROUNDS: u32 = 3;

impl ChangePrice {
    pub fn new(model: &Model, mut prices: Vec<i128>, carried: Carried) -> Self {
        let last = model.pool_terms.len();
        prices[last] = 0;
        ChangePrice {
            minima: pooled_minima(model, &prices),
            prices,
            next: 0,
            savings: Vec::new(),
            carried,
        }
    }

    /// The change price (once finished): the `K+1`-th largest saving, or zero.
    pub fn price(&mut self, model: &Model) -> i128 {
        let k = usize::try_from(model.max_changes).unwrap_or(usize::MAX);
        if self.savings.len() <= k {
            return 0;
        }
        let (_, at, _) = self.savings.select_nth_unstable_by(k, |a, b| b.cmp(a));
        *at
    }

    /// Share done, 0–1.
    pub fn done_fraction(&self, model: &Model) -> f64 {
        self.next as f64 / model.sims.len().max(1) as f64
    }

    /// Adds the positive savings of SIMs `from..to`.
    fn add_savings(&mut self, model: &Model, from: usize, to: usize) {
        for i in from..to {
            let best = cheapest(model, &self.prices, &self.minima, i);
            if best.option != model.sim(i).current {
                let saving = stay(model, &self.prices, i).value - best.value;
                if saving > 0 {
                    self.savings.push(saving);
                }
            }
        }
    }
}

impl Phase for ChangePrice {
    fn quantum(&mut self, model: &Model) -> bool {
        let end = (self.next + QUANTUM_SIMS).min(model.sims.len());
        self.add_savings(model, self.next, end);
        self.next = end;
        self.next == model.sims.len()
    }

    fn encode(&self, w: &mut Writer) {
        for p in &self.prices {
            w.i128(*p);
        }
        w.u64(self.next as u64);
        self.carried.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let prices = decode_prices(r, model)?;
        let next = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize;
        // Before version 5 the savings were stored; they are a function of the prices, so the
        // stored ones are skipped and all are computed again.
        if r.version() < 5 {
            let n = r.below(next as u64 + 1, "too many savings")?;
            for _ in 0..n {
                r.i128()?;
            }
        }
        let mut phase = ChangePrice {
            minima: pooled_minima(model, &prices),
            prices,
            next,
            savings: Vec::new(),
            carried: Carried::decode(r, model)?,
        };
        phase.add_savings(model, 0, next);
        Ok(phase)
    }
}

/// One pass over the SIMs at fixed prices, a quantum at a time: the partial sum of `L` and of
/// its subgradient, and (when asked) each SIM's cheapest option. Without constraints the pass
/// goes class by class ([`Envelope`]), and may cover only the classes that can use one pool
/// (what a line search along that pool's price needs).
#[derive(Debug, Clone)]
pub(crate) struct Sweep {
    /// SIMs done, or pieces of the class-wise evaluation done.
    next: usize,
    total: i128,
    subgradient: Vec<i128>,
    choice: Option<Vec<u32>>,
    /// Derived from the prices (rebuilt on decode).
    minima: Vec<Vec<PoolMinimum>>,
    /// Class by class: the pieces to evaluate, as ranges, and where `next` is among them
    /// (derived).
    ranges: Vec<(u32, u32)>,
    cursor: (usize, u32),
}

impl Sweep {
    pub fn new(model: &Model, prices: &[i128], record_choice: bool) -> Self {
        let mut total = -rounding_slack(model) * SCALE;
        let mut subgradient = vec![0; prices.len()];
        if model.limits_changes() {
            // L(λ, μ) takes μ·K off; the change price's subgradient is changes − K.
            let k = i128::from(model.max_changes);
            total -= prices[model.pool_terms.len()] * k;
            subgradient[model.pool_terms.len()] = -k;
        }
        let mut ranges = Vec::new();
        if let (Some(envelope), false) = (&model.lagrangian().envelope, record_choice) {
            total += envelope.constant;
            ranges.push((0, envelope.pieces.len() as u32));
        }
        Sweep {
            next: 0,
            total,
            subgradient,
            choice: record_choice.then(|| Vec::with_capacity(model.sims.len())),
            minima: pooled_minima(model, prices),
            ranges,
            cursor: (0, 0),
        }
    }

    /// A class-wise pass over the classes that may use `pool` only: its total is their part of
    /// `L` (no constant terms), its subgradient theirs. Needs the class-wise evaluation.
    pub fn of_pool(model: &Model, prices: &[i128], pool: u32) -> Self {
        let lag = model.lagrangian();
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        debug_assert!(lag.envelope.is_some(), "a pool's pass goes class by class");
        if let Some(envelope) = &lag.envelope {
            for &class in &lag.classes_of_pool[pool as usize] {
                let (from, to) = envelope.class_pieces(class as usize);
                match ranges.last_mut() {
                    Some(last) if last.1 == from => last.1 = to,
                    _ => ranges.push((from, to)),
                }
            }
        }
        Sweep {
            next: 0,
            total: 0,
            subgradient: vec![0; prices.len()],
            choice: None,
            minima: pooled_minima_of(model, prices, &lag.classes_of_pool[pool as usize]),
            ranges,
            cursor: (0, 0),
        }
    }

    /// The class-wise evaluation, when this sweep uses it.
    fn envelope<'m>(&self, model: &'m Model) -> Option<&'m Envelope> {
        model
            .lagrangian()
            .envelope
            .as_ref()
            .filter(|_| self.choice.is_none())
    }

    /// How much work the pass has: SIMs, or pieces.
    fn size(&self, model: &Model) -> usize {
        if self.envelope(model).is_some() {
            self.ranges.iter().map(|(a, b)| (b - a) as usize).sum()
        } else {
            model.sims.len()
        }
    }

    /// Share of the pass done, 0–1.
    pub fn done_fraction(&self, model: &Model) -> f64 {
        self.next as f64 / self.size(model).max(1) as f64
    }

    /// Evaluates the next quantum of SIMs (or of pieces); true when the pass is complete.
    pub fn quantum(&mut self, model: &Model, prices: &[i128]) -> bool {
        if let Some(envelope) = self.envelope(model) {
            let mut sums = Sums {
                total: &mut self.total,
                subgradient: &mut self.subgradient,
            };
            let mut work = 0;
            while work < QUANTUM_SIMS && skip_done_ranges(&self.ranges, &mut self.cursor) {
                let piece = self.ranges[self.cursor.0].0 + self.cursor.1;
                work += envelope.add_piece(model, prices, &self.minima, piece as usize, &mut sums);
                self.cursor.1 += 1;
                self.next += 1;
            }
            return !skip_done_ranges(&self.ranges, &mut self.cursor);
        }
        let end = (self.next + QUANTUM_SIMS).min(model.sims.len());
        for i in self.next..end {
            let best = cheapest(model, prices, &self.minima, i);
            self.total += best.value;
            let o = model.options_of(i)[best.option as usize];
            if o.pool != NO_POOL {
                self.subgradient[o.pool as usize] += best.excess;
            }
            if best.option != model.sim(i).current && model.limits_changes() {
                self.subgradient[model.pool_terms.len()] += 1;
            }
            if let Some(choice) = &mut self.choice {
                choice.push(best.option);
            }
        }
        self.next = end;
        self.next == model.sims.len()
    }

    /// `L` at the sweep's prices, micros, rounded down (once complete).
    pub fn bound(&self) -> i64 {
        self.total.div_euclid(SCALE) as i64
    }

    /// `L` at the sweep's prices, scaled, before rounding (once complete).
    pub fn total(&self) -> i128 {
        self.total
    }

    /// The subgradient's component of `pool` (once complete).
    pub fn slope(&self, pool: u32) -> i128 {
        self.subgradient[pool as usize]
    }

    pub fn encode(&self, w: &mut Writer) {
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

    /// Reads a sweep written by [`Sweep::encode`]; `pool` says it was made by
    /// [`Sweep::of_pool`].
    pub fn decode(
        r: &mut Reader<'_>,
        model: &Model,
        prices: &[i128],
        pool: Option<u32>,
    ) -> Result<Self, DecodeError> {
        let next = r.u64()?;
        let total = r.i128()?;
        let subgradient = (0..prices.len())
            .map(|_| r.i128())
            .collect::<Result<Vec<_>, _>>()?;
        let record_choice = r.bool()?;
        let mut sweep = match pool {
            Some(pool) => Sweep::of_pool(model, prices, pool),
            None => Sweep::new(model, prices, record_choice),
        };
        let fast = sweep.envelope(model).is_some();
        if r.version() < 4 && fast {
            // Checkpoints before version 4 counted SIMs here; the pass is a function of the
            // prices, so it starts again and ends the same.
            return Ok(sweep);
        }
        if next > sweep.size(model) as u64 {
            return Err(DecodeError::Invalid(if fast {
                "a piece cursor is out of range"
            } else {
                "a SIM cursor is out of range"
            }));
        }
        sweep.next = next as usize;
        sweep.total = total;
        sweep.subgradient = subgradient;
        if record_choice {
            let c = r.u64s(next)?;
            if c.len() != sweep.next {
                return Err(DecodeError::Invalid(
                    "a partial choice does not match its cursor",
                ));
            }
            sweep.choice = Some(c.into_iter().map(|v| v as u32).collect());
        }
        // Where `next` pieces end among the ranges.
        let mut left = sweep.next as u32;
        sweep.cursor = (0, 0);
        for (k, (from, to)) in sweep.ranges.iter().enumerate() {
            sweep.cursor = (k, left);
            if left < to - from {
                break;
            }
            left -= to - from;
        }
        Ok(sweep)
    }
}

/// Moves a class-wise cursor (range, piece within it) past finished ranges; false when none is
/// left.
fn skip_done_ranges(ranges: &[(u32, u32)], cursor: &mut (usize, u32)) -> bool {
    while let Some(&(from, to)) = ranges.get(cursor.0) {
        if from + cursor.1 < to {
            return true;
        }
        *cursor = (cursor.0 + 1, 0);
    }
    false
}

/// `L` (scaled, before rounding) and its subgradient at `prices`, SIM by SIM (`record_choice`)
/// or class by class.
#[cfg(test)]
pub(crate) fn sweep_sums(model: &Model, prices: &[i128], record_choice: bool) -> (i128, Vec<i128>) {
    let mut sweep = Sweep::new(model, prices, record_choice);
    while !sweep.quantum(model, prices) {}
    (sweep.total, sweep.subgradient)
}

/// The subgradient's component of `pool` at `prices`, from the classes that may use it only.
#[cfg(test)]
pub(crate) fn pool_slope(model: &Model, prices: &[i128], pool: u32) -> i128 {
    let mut sweep = Sweep::of_pool(model, prices, pool);
    while !sweep.quantum(model, prices) {}
    sweep.slope(pool)
}

/// Reads a price vector of `model`, each within its pool's range.
pub(crate) fn decode_prices(r: &mut Reader<'_>, model: &Model) -> Result<Vec<i128>, DecodeError> {
    let max = max_prices(model);
    max.iter()
        .map(|m| {
            let p = r.i128()?;
            if p < 0 || p > *m {
                return Err(DecodeError::Invalid("a price is out of range"));
            }
            Ok(p)
        })
        .collect()
}

/// Bisection of every pool's price on the sign of its subgradient, all pools at once: one sweep
/// halves every bracket. For a pool no SIM shares with another pool this finds the best price to
/// the last fixed-point unit in about 40 sweeps; where pools interact, coordinate ascent
/// ([`super::coordinate`]), the bundle method ([`super::bundle`]) or, under constraints,
/// [`Ascent`] continues from the best prices found.
#[derive(Debug, Clone)]
pub(crate) struct Bisect {
    low: Vec<i128>,
    high: Vec<i128>,
    mid: Vec<i128>,
    sweep: Sweep,
    sweeps: u32,
    /// The best bound so far, micros.
    pub best_bound: i64,
    /// The prices that gave it.
    pub best_prices: Vec<i128>,
    /// With a limit on changes: which round this is (the change price stays as given).
    pub round: u32,
}

/// Bisection sweeps at most (prices have about 40 significant bits).
const MAX_BISECTIONS: u32 = 64;

impl Bisect {
    pub fn new(model: &Model) -> Self {
        Bisect::round(
            model,
            0,
            Carried {
                best_bound: i64::MIN,
                best_prices: Vec::new(),
                round: 0,
            },
        )
    }

    /// A bisection of the pool prices with the change price held at `change_price` (with a
    /// limit on changes), carrying the best bound and prices so far.
    pub fn round(model: &Model, change_price: i128, carried: Carried) -> Self {
        let mut high = max_prices(model).to_vec();
        let mut low = vec![0; high.len()];
        if model.limits_changes() {
            let last = model.pool_terms.len();
            (low[last], high[last]) = (change_price, change_price);
        }
        let mid: Vec<i128> = low
            .iter()
            .zip(&high)
            .map(|(l, h)| l + (h - l) / 2)
            .collect();
        Bisect {
            sweep: Sweep::new(model, &mid, false),
            best_prices: if carried.best_prices.is_empty() {
                mid.clone()
            } else {
                carried.best_prices
            },
            low,
            high,
            mid,
            sweeps: 0,
            best_bound: carried.best_bound,
            round: carried.round,
        }
    }

    /// What the next round starts from.
    pub fn carried(&self) -> Carried {
        Carried {
            best_bound: self.best_bound,
            best_prices: self.best_prices.clone(),
            round: self.round + 1,
        }
    }

    /// The upper ends of the brackets: prices at or just above the best, where each pool's
    /// cheapest choices leave it at or under its allowance — the side recovery starts from.
    pub fn upper(&self) -> &[i128] {
        &self.high
    }

    /// The lower ends of the brackets: prices at or just below the best, where each pool's
    /// cheapest choices leave it at or over its allowance.
    pub fn lower(&self) -> &[i128] {
        &self.low
    }

    /// Share done, 0–1 (rough).
    pub fn done_fraction(&self, model: &Model) -> f64 {
        (f64::from(self.sweeps) + self.sweep.done_fraction(model)) / 42.0
    }
}

impl Phase for Bisect {
    fn quantum(&mut self, model: &Model) -> bool {
        if !self.sweep.quantum(model, &self.mid) {
            return false;
        }
        self.sweeps += 1;
        let bound = self.sweep.bound();
        if bound > self.best_bound {
            self.best_bound = bound;
            self.best_prices.clone_from(&self.mid);
        }
        for p in 0..self.mid.len() {
            if self.sweep.subgradient[p] > 0 {
                self.low[p] = self.mid[p];
            } else {
                self.high[p] = self.mid[p];
            }
        }
        let open = self.low.iter().zip(&self.high).any(|(l, h)| h - l > 1);
        if !open || self.sweeps >= MAX_BISECTIONS {
            return true;
        }
        for p in 0..self.mid.len() {
            self.mid[p] = self.low[p] + (self.high[p] - self.low[p]) / 2;
        }
        self.sweep = Sweep::new(model, &self.mid, false);
        false
    }

    fn encode(&self, w: &mut Writer) {
        for p in self.low.iter().chain(&self.high).chain(&self.best_prices) {
            w.i128(*p);
        }
        w.u64(u64::from(self.sweeps));
        w.i64(self.best_bound);
        w.u64(u64::from(self.round));
        self.sweep.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let low = decode_prices(r, model)?;
        let high = decode_prices(r, model)?;
        let best_prices = decode_prices(r, model)?;
        if low.iter().zip(&high).any(|(l, h)| l > h) {
            return Err(DecodeError::Invalid("a price bracket is empty"));
        }
        let mid: Vec<i128> = low
            .iter()
            .zip(&high)
            .map(|(l, h)| l + (h - l) / 2)
            .collect();
        let sweeps = r.below(
            u64::from(MAX_BISECTIONS) + 1,
            "a sweep count is out of range",
        )? as u32;
        let best_bound = r.i64()?;
        let round = if r.version() >= 3 {
            r.below(
                u64::from(CHANGE_PRICE_ROUNDS) + 1,
                "a round is out of range",
            )? as u32
        } else {
            0
        };
        let sweep = Sweep::decode(r, model, &mid, None)?;
        Ok(Bisect {
            low,
            high,
            mid,
            sweep,
            sweeps,
            best_bound,
            best_prices,
            round,
        })
    }
}

/// Polyak subgradient ascent of `L` from given prices towards `target` (a known bill: the bound
/// cannot pass it), halving the step length after three steps that do not improve. Used where
/// pools interact under constraints, after [`Bisect`] and a first recovery.
#[derive(Debug, Clone)]
pub(crate) struct Ascent {
    target: i64,
    iterations_left: u32,
    prices: Vec<i128>,
    theta_halvings: u32,
    stalled: u32,
    sweep: Sweep,
    /// The best bound so far, micros.
    pub best_bound: i64,
    /// The prices that gave it.
    pub best_prices: Vec<i128>,
}

/// Step length factor halvings after which the ascent stops (2^-20 ≈ 1e-6).
const MAX_HALVINGS: u32 = 20;

impl Ascent {
    pub fn new(model: &Model, target: i64, iterations: u32, start: Vec<i128>, bound: i64) -> Self {
        Ascent {
            target,
            iterations_left: iterations,
            best_prices: start.clone(),
            sweep: Sweep::new(model, &start, false),
            prices: start,
            theta_halvings: 0,
            stalled: 0,
            best_bound: bound,
        }
    }

    /// Share done, 0–1 (rough: the ascent often stops early).
    pub fn done_fraction(&self, model: &Model, iterations: u32) -> f64 {
        let done = iterations.saturating_sub(self.iterations_left);
        (f64::from(done) + self.sweep.done_fraction(model)) / f64::from(iterations.max(1))
    }
}

impl Phase for Ascent {
    fn quantum(&mut self, model: &Model) -> bool {
        if !self.sweep.quantum(model, &self.prices) {
            return false;
        }
        let bound = self.sweep.bound();
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
        if self.iterations_left == 0
            || self.best_bound >= self.target
            || self.theta_halvings > MAX_HALVINGS
        {
            return true;
        }
        self.iterations_left -= 1;
        let max = max_prices(model);
        let g: Vec<f64> = self
            .sweep
            .subgradient
            .iter()
            .zip(&self.prices)
            .zip(max)
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
        for ((p, gi), m) in self.prices.iter_mut().zip(&g).zip(max) {
            let moved = *p as f64 + step * gi;
            *p = (moved.max(0.0) as i128).min(*m);
        }
        self.sweep = Sweep::new(model, &self.prices, false);
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
        self.sweep.encode(w);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let target = r.i64()?;
        let iterations_left =
            r.below(u64::from(u32::MAX), "an iteration count is out of range")? as u32;
        let prices = decode_prices(r, model)?;
        let best_prices = decode_prices(r, model)?;
        let theta_halvings =
            r.below(u64::from(MAX_HALVINGS) + 2, "a step length is out of range")? as u32;
        let stalled = r.below(3, "a stall count is out of range")? as u32;
        let best_bound = r.i64()?;
        let sweep = Sweep::decode(r, model, &prices, None)?;
        Ok(Ascent {
            target,
            iterations_left,
            prices,
            best_prices,
            theta_halvings,
            stalled,
            best_bound,
            sweep,
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
            sweep: Sweep::new(model, &prices, true),
            prices,
        }
    }

    /// Each SIM's choice and the prices, once the phase is finished (the assignment's totals
    /// are for a [`super::model::Tally`] to add up).
    pub fn into_choices(self) -> (Vec<u32>, Vec<i128>) {
        (self.sweep.choice.unwrap_or_default(), self.prices)
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
        let prices = decode_prices(r, model)?;
        let sweep = Sweep::decode(r, model, &prices, None)?;
        if sweep.choice.is_none() {
            return Err(DecodeError::Invalid("a recovery pass lost its choices"));
        }
        Ok(Argmin { prices, sweep })
    }
}
