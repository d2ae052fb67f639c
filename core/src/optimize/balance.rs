//! Balancing pools at the dual prices: the step from "every SIM on its cheapest option at the
//! prices" to a good bill.
//!
//! At the best prices many SIMs are indifferent — often whole classes at once, e.g. between a
//! pool's small and large plan when the price per byte equals the large plan's price per extra
//! byte. Their cheapest options leave a pool far over or under its allowance. The LP relaxation
//! resolves such ties fractionally; an integer assignment must pick *which* SIMs move, and a
//! descent in SIM order picks badly (it takes whatever improving move comes first, however dear
//! per byte). Here a pool over its allowance takes the moves that relieve it in order of their
//! reduced cost per byte relieved (ties first), and a pool under its allowance gives its room to
//! the moves that save most per byte used — the greedy that solves a pool's fractional knapsack
//! — each move kept only if it lowers the exact bill.
//!
//! To stay sliceable without sorting every candidate move, a round measures a histogram per pool
//! of the capacity offered per price bucket (log scale, 8 buckets per octave), takes the bucket
//! where the capacity reaches the pool's imbalance as its threshold, then applies the moves below
//! the threshold, then those in it, in SIM order. More capacity only lowers a threshold, so the
//! measure buckets only the moves below each pool's threshold so far (one product and a
//! comparison pass over the rest); where the ties measured so far meet every pool's need, it
//! stops early (the thresholds are the ties' bucket whatever the rest holds), and where every
//! threshold is the ties' bucket, the first of the apply sweeps would find nothing and is
//! skipped. A pooled option's base less its allowance at its pool's price is the same for
//! every SIM of its class, so it is worked out once per option, not per SIM and sweep.

use std::cell::Cell;

use super::bound::{decode_prices, max_prices, SCALE_BITS};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::{Assignment, Model, OptionTerms, NO_POOL};
use super::phase::{sims_quantum_end, Phase};
use super::search::{decode_assignment, encode_assignment};

/// Buckets per pool: bucket 0 holds ties (zero reduced cost), buckets 1.. reduced costs per byte
/// from the pool's limit down to 2^-48 of it, 8 per octave (the last bucket takes the rest).
const BUCKETS: usize = 8 * 48 + 2;

/// Rounds of measure-and-apply.
const ROUNDS: u32 = 2;

/// Which way a pool is out of balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Usage over allowance: it wants moves that lower its excess.
    Over,
    /// Usage under allowance while its price is positive: room that moves saving fixed cost may
    /// use.
    Under,
    /// Nothing to do.
    Even,
}

#[derive(Debug, Clone)]
enum Step {
    /// Measuring each pool's capacity per bucket.
    Measure { hist: Vec<Vec<u64>> },
    /// Applying moves below (`pass` 0) then at (`pass` 1) each pool's threshold.
    Apply { threshold: Vec<u32>, pass: u32 },
}

/// The balancing phase.
#[derive(Debug, Clone)]
pub(crate) struct Balance {
    pub assignment: Assignment,
    prices: Vec<i128>,
    sides: Vec<Side>,
    round: u32,
    next: usize,
    step: Step,
    /// Derived (rebuilt on decode): per option of the model, on a pool, `base·2^32 − price·allowance` — what it
    /// costs at the prices besides its SIM's usage at the price, SMS and change lines.
    pooled: Vec<i128>,
}

/// The sides of every pool in `a` at `prices` (a trailing change price has none).
fn sides(a: &Assignment, prices: &[i128]) -> Vec<Side> {
    (0..a.pool_usage.len())
        .map(|p| {
            let (u, al) = (a.pool_usage[p], a.pool_allowance[p]);
            if u > al {
                Side::Over
            } else if u < al && prices[p] > 0 {
                Side::Under
            } else {
                Side::Even
            }
        })
        .collect()
}

/// The bucket of a move with reduced cost `rc` (scaled micros) per `bytes` against `limit`
/// (scaled micros per byte), or `None` when it is not worth it.
fn bucket(rc: i128, bytes: i128, limit: i128) -> Option<usize> {
    if limit <= 0 {
        return None;
    }
    let rc = rc.max(0);
    if rc < bytes {
        return Some(0); // a key of 0, without dividing
    }
    if !below(rc, limit, bytes) {
        return None; // a key of at least `limit`, without dividing
    }
    let key = match (u64::try_from(rc), u64::try_from(bytes)) {
        (Ok(r), Ok(b)) => i128::from(r / b),
        _ => rc / bytes,
    };
    debug_assert!(0 < key && key < limit);
    // x = ⌊limit·2^16 / key⌋ ≥ 2^16; its log2 in eighths of an octave, smaller key → higher:
    // ⌊log2 x⌋ and x's three bits after its leading one, found by comparing, not dividing.
    let (a, k) = (((limit as u128) << 16), key as u128);
    let s = (k.leading_zeros() - a.leading_zeros()) as usize;
    let lg = if a >= k << s { s } else { s - 1 };
    let d = k << (lg - 3);
    let mut top = 8; // x's leading four bits, 8..=15
    for step in [4, 2, 1] {
        if a >= (top + step) * d {
            top += step;
        }
    }
    let level = (lg - 16) * 8 + (top - 8) as usize;
    Some(BUCKETS - 1 - level.min(BUCKETS - 2))
}

/// The largest key (`rc / bytes`, floored) whose [`bucket`] against `limit` is at most `t`, or
/// -1 where no key's is: a move is in bucket `t` or below exactly when `rc < (key + 1)·bytes`,
/// which a pass asks before it buckets a move.
fn most_key(t: i64, limit: i128) -> i128 {
    if limit <= 0 || t < 0 {
        return -1;
    }
    let t = t as usize;
    if t == 0 {
        return 0;
    }
    if t >= BUCKETS - 1 {
        return limit - 1;
    }
    // Bucket ≤ t ⇔ level ≥ l ⇔ x ≥ (8 + l mod 8)·2^(13 + l/8) ⇔ key ≤ limit·2^16 / that.
    let l = BUCKETS - 1 - t;
    let x = ((8 + l % 8) as i128) << (13 + l / 8);
    ((limit << 16) / x).min(limit - 1)
}

/// Whether a move of `rc` per `bytes` has a key of at most `most` (see [`most_key`]).
fn within(rc: i128, bytes: i128, most: i128) -> bool {
    most >= 0 && below(rc.max(0), most + 1, bytes)
}

/// `a·b`, in one 64 × 64-bit product where both fit.
#[inline]
fn times(a: i128, b: i128) -> i128 {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) => i128::from(a) * i128::from(b),
        _ => a * b,
    }
}

/// Whether `rc < key·bytes` (all three at least 0), in one 64 × 64-bit product where they fit.
#[inline]
fn below(rc: i128, key: i128, bytes: i128) -> bool {
    match (u64::try_from(key), u64::try_from(bytes)) {
        (Ok(k), Ok(b)) => (rc as u128) < u128::from(k) * u128::from(b),
        _ => key.checked_mul(bytes).is_none_or(|bound| rc < bound),
    }
}

/// [`Balance::pooled`] at `prices`.
fn pooled(model: &Model, prices: &[i128]) -> Vec<i128> {
    model
        .options
        .iter()
        .map(|o| match o.pool {
            NO_POOL => 0,
            p => (i128::from(o.base) << SCALE_BITS) - times(prices[p as usize], o.allowance.into()),
        })
        .collect()
}

impl Balance {
    pub fn new(model: &Model, assignment: Assignment, prices: Vec<i128>) -> Self {
        let pools = model.pool_terms.len();
        let sides = sides(&assignment, &prices);
        Balance {
            step: Step::Measure {
                hist: vec![vec![0; BUCKETS]; pools],
            },
            pooled: pooled(model, &prices),
            assignment,
            prices,
            sides,
            round: 0,
            next: 0,
        }
    }

    /// Share done, 0–1.
    pub fn done_fraction(&self, model: &Model) -> f64 {
        let part = match self.step {
            Step::Measure { .. } => 0,
            Step::Apply { pass, .. } => 1 + pass,
        };
        (f64::from(self.round * 3 + part) + self.next as f64 / model.sims.len().max(1) as f64)
            / f64::from(ROUNDS * 3)
    }

    /// Each pool's threshold: the first bucket where the capacity measured reaches its need
    /// (`BUCKETS` where none does).
    fn thresholds(&self, hist: &[Vec<u64>]) -> Vec<u32> {
        hist.iter()
            .enumerate()
            .map(|(p, h)| {
                if self.sides[p] == Side::Even {
                    return 0; // takes no moves at all
                }
                let need = self.need(p);
                let mut sum = 0u64;
                h.iter()
                    .position(|c| {
                        sum = sum.saturating_add(*c);
                        sum >= need
                    })
                    .unwrap_or(BUCKETS) as u32
            })
            .collect()
    }

    /// Whether the ties measured so far already meet every unbalanced pool's need: then each
    /// such pool's threshold is the ties' bucket (the first), whatever the SIMs not yet
    /// measured would add to it or above it.
    fn ties_suffice(&self, hist: &[Vec<u64>]) -> bool {
        (0..hist.len()).all(|p| self.sides[p] == Side::Even || hist[p][0] >= self.need(p))
    }

    /// How far pool `p` is from its allowance (bytes).
    fn need(&self, p: usize) -> u64 {
        let a = &self.assignment;
        a.pool_usage[p].abs_diff(a.pool_allowance[p])
    }

    /// The most a move may cost per byte it brings pool `p` towards balance and be worth it
    /// (scaled micros per byte): up to its price's ceiling for a pool over its allowance, its
    /// price for one under.
    fn limit(&self, model: &Model, p: u32) -> i128 {
        let p = p as usize;
        match self.sides[p] {
            Side::Over => max_prices(model)[p] - self.prices[p],
            Side::Under => self.prices[p],
            Side::Even => 0,
        }
    }

    /// Per pool, the largest key a pass takes (see [`most_key`]): below the threshold in pass
    /// 0, up to it in pass 1.
    fn most_keys(&self, model: &Model, threshold: &[u32], pass: u32) -> Vec<i128> {
        threshold
            .iter()
            .enumerate()
            .map(|(p, t)| {
                most_key(
                    i64::from(*t) - 1 + i64::from(pass),
                    self.limit(model, p as u32),
                )
            })
            .collect()
    }

    /// SIM `i`'s values at the prices (scaled micros): for its option `k`, its fixed cost plus
    /// its pool's price times its excess plus the change price where `k` is not its current
    /// plan — `fixed·2^32 + price·(usage − allowance)`, summed in another order.
    fn values_of<'a>(
        &'a self,
        model: &'a Model,
        i: usize,
    ) -> impl Fn(u32, &OptionTerms) -> i128 + 'a {
        let sim = model.sim(i);
        let first = model.classes[sim.class as usize].first as usize;
        let usage = i128::from(sim.usage);
        let change_price = self
            .prices
            .get(model.pool_terms.len())
            .copied()
            .unwrap_or(0);
        // Where the SIM has no SMS and changes cost nothing, a pooled option's fixed cost is
        // its base alone.
        let base_only = sim.sms == 0 && model.change_cost == 0;
        // The last pool's price times the SIM's usage (a SIM's pooled options are mostly of
        // one pool).
        let at_price = Cell::new((NO_POOL, 0i128));
        move |k, o| {
            let mut v = if o.pool == NO_POOL {
                i128::from(model.fixed(i, o)) << SCALE_BITS
            } else {
                let (p, mut pu) = at_price.get();
                if p != o.pool {
                    pu = times(self.prices[o.pool as usize], usage);
                    at_price.set((o.pool, pu));
                }
                let mut v = self.pooled[first + k as usize] + pu;
                if !base_only {
                    v += i128::from(model.fixed(i, o) - o.base) << SCALE_BITS;
                }
                v
            };
            if k != sim.current {
                v += change_price;
            }
            v
        }
    }

    /// For each other option of SIM `i`, its bucket per pool it helps: calls `f(option, pool,
    /// bucket, bytes)` — only for keys up to `most[pool]` where `most` is given.
    fn moves_of(
        &self,
        model: &Model,
        i: usize,
        most: Option<&[i128]>,
        mut f: impl FnMut(u32, u32, usize, u64),
    ) {
        let a = &self.assignment;
        let options = model.options_of(i);
        let from = a.choice[i];
        let oa = options[from as usize];
        let usage = i128::from(model.sims[i].usage);
        let value = self.values_of(model, i);
        let here = value(from, &oa);
        for (to, ob) in options.iter().enumerate() {
            let to = to as u32;
            if to == from || (oa.pool == NO_POOL && ob.pool == NO_POOL) {
                continue;
            }
            let mut rc = None;
            let pools = if oa.pool == ob.pool {
                [oa.pool, NO_POOL]
            } else {
                [oa.pool, ob.pool]
            };
            for p in pools {
                if p == NO_POOL {
                    continue;
                }
                let side = self.sides[p as usize];
                if side == Side::Even {
                    continue;
                }
                let mut change = 0i128;
                if ob.pool == p {
                    change += usage - i128::from(ob.allowance);
                }
                if oa.pool == p {
                    change -= usage - i128::from(oa.allowance);
                }
                let helps = match side {
                    Side::Over => change < 0,
                    Side::Under => change > 0,
                    Side::Even => false,
                };
                if !helps {
                    continue;
                }
                let rc = *rc.get_or_insert_with(|| value(to, ob) - here);
                let bytes = change.abs();
                if most.is_some_and(|m| !within(rc, bytes, m[p as usize])) {
                    continue;
                }
                if let Some(b) = bucket(rc, bytes, self.limit(model, p)) {
                    f(to, p, b, u64::try_from(bytes).unwrap_or(u64::MAX));
                }
            }
        }
    }
}

impl Phase for Balance {
    fn quantum(&mut self, model: &Model) -> bool {
        let n = model.sims.len();
        let mut end = sims_quantum_end(model, self.next);
        let placeholder = Step::Apply {
            threshold: Vec::new(),
            pass: 0,
        };
        match std::mem::replace(&mut self.step, placeholder) {
            Step::Measure { mut hist } => {
                // More capacity only lowers a threshold, and what the measure has found at
                // or below a pool's threshold so far already meets its need: only moves below
                // it can still count, the rest are passed over unbucketed.
                let most = self.most_keys(model, &self.thresholds(&hist), 0);
                for i in self.next..end {
                    if model.lagrangian().pools_of(model.sim(i).class) > 0 {
                        self.moves_of(model, i, Some(&most), |_, p, b, bytes| {
                            let slot = &mut hist[p as usize][b];
                            *slot = slot.saturating_add(bytes);
                        });
                    }
                }
                if end < n && self.ties_suffice(&hist) {
                    end = n; // every threshold is the ties' bucket, whatever the rest holds
                }
                self.step = Step::Measure { hist };
            }
            Step::Apply { threshold, pass } => {
                let most = self.most_keys(model, &threshold, pass);
                for i in self.next..end {
                    if model.lagrangian().pools_of(model.sim(i).class) == 0 {
                        continue;
                    }
                    let mut best: Option<(usize, i64, u32)> = None;
                    let a = &self.assignment;
                    self.moves_of(model, i, Some(&most), |to, p, b, _| {
                        // `most` let through only the moves of the pass's buckets.
                        debug_assert!(b + 1 - pass as usize <= threshold[p as usize] as usize);
                        if best.is_some_and(|(bb, _, _)| bb < b) {
                            return;
                        }
                        if !a.may_move(model, i, to) {
                            return;
                        }
                        let d = a.delta(model, i, to);
                        if d < 0 && best.is_none_or(|(bb, bd, _)| b < bb || d < bd) {
                            best = Some((b, d, to));
                        }
                    });
                    if let Some((_, _, to)) = best {
                        self.assignment.apply(model, i, to);
                    }
                }
                self.step = Step::Apply { threshold, pass };
            }
        }
        self.next = end;
        if self.next < n {
            return false;
        }
        self.next = 0;
        let step = std::mem::replace(&mut self.step, Step::Measure { hist: Vec::new() });
        self.step = match step {
            Step::Measure { hist } => {
                let threshold = self.thresholds(&hist);
                // Below a threshold of 0 (ties) there is nothing: straight to the ties.
                let pass = u32::from(
                    (0..threshold.len()).all(|p| threshold[p] == 0 || self.sides[p] == Side::Even),
                );
                Step::Apply { threshold, pass }
            }
            Step::Apply { threshold, pass: 0 } => Step::Apply { threshold, pass: 1 },
            Step::Apply { .. } => {
                self.round += 1;
                if self.round >= ROUNDS {
                    return true;
                }
                self.sides = sides(&self.assignment, &self.prices);
                if self.sides.iter().all(|s| *s == Side::Even) {
                    return true;
                }
                Step::Measure {
                    hist: vec![vec![0; BUCKETS]; model.pool_terms.len()],
                }
            }
        };
        false
    }

    fn encode(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        for p in &self.prices {
            w.i128(*p);
        }
        for s in &self.sides {
            w.u64(match s {
                Side::Over => 0,
                Side::Under => 1,
                Side::Even => 2,
            });
        }
        w.u64(u64::from(self.round));
        w.u64(self.next as u64);
        match &self.step {
            Step::Measure { hist } => {
                w.u64(0);
                for c in hist.iter().flatten() {
                    w.u64(*c);
                }
            }
            Step::Apply { threshold, pass } => {
                w.u64(1 + u64::from(*pass));
                for t in threshold {
                    w.u64(u64::from(*t));
                }
            }
        }
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let assignment = decode_assignment(r, model)?;
        let prices = decode_prices(r, model)?;
        let pools = model.pool_terms.len();
        let sides = (0..pools)
            .map(|_| {
                Ok(match r.below(3, "an unknown pool side")? {
                    0 => Side::Over,
                    1 => Side::Under,
                    _ => Side::Even,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        let round = r.below(u64::from(ROUNDS), "a round is out of range")? as u32;
        let next = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize;
        let step = match r.below(3, "an unknown balancing step")? {
            0 => Step::Measure {
                hist: (0..pools)
                    .map(|_| (0..BUCKETS).map(|_| r.u64()).collect())
                    .collect::<Result<_, _>>()?,
            },
            pass => Step::Apply {
                threshold: (0..pools)
                    .map(|_| Ok(r.below(BUCKETS as u64 + 1, "a threshold is out of range")? as u32))
                    .collect::<Result<_, DecodeError>>()?,
                pass: (pass - 1) as u32,
            },
        };
        Ok(Balance {
            pooled: pooled(model, &prices),
            assignment,
            prices,
            sides,
            round,
            next,
            step,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;
    use crate::optimize::job::UnitJob;
    use crate::optimize::tests::synthetic_fleet_of;
    use crate::optimize::{Constraints, Options};
    use proptest::prelude::*;

    #[test]
    fn a_measure_passing_over_moves_and_stopping_early_gives_the_thresholds_of_a_whole_one() {
        let (mut measures, mut stopped, mut above_ties) = (0, 0, 0);
        for (sims, seed, comm, per) in [
            (20_000, 7, 1, 50),
            (20_000, 3, 4, 12),
            (20_000, 1, 5, 10),
            (20_000, 2, 2, 5),
            (6_000, 4, 3, 6),
        ] {
            let fleet = synthetic_fleet_of(sims, seed, comm, per);
            let mut job = UnitJob::new(&fleet, None, Options::default());
            let Some((model, b)) = job.balancing() else {
                continue;
            };
            let mut full = 0;
            let mut from = 0;
            while from < model.sims.len() {
                from = sims_quantum_end(model, from);
                full += 1;
            }
            // Every round's measure against one of every move of every SIM.
            loop {
                let mut whole = vec![vec![0u64; BUCKETS]; model.pool_terms.len()];
                for i in 0..model.sims.len() {
                    b.moves_of(model, i, None, |_, p, bucket, bytes| {
                        whole[p as usize][bucket] += bytes;
                    });
                }
                let expected = b.thresholds(&whole);
                let mut quanta = 0;
                while matches!(b.step, Step::Measure { .. }) {
                    assert!(!b.quantum(model), "a measure goes on to apply");
                    quanta += 1;
                }
                measures += 1;
                stopped += u32::from(quanta < full);
                let Step::Apply { threshold, pass } = &b.step else {
                    unreachable!("measured")
                };
                let unbalanced = |p: &usize| b.sides[*p] != Side::Even;
                for p in (0..threshold.len()).filter(unbalanced) {
                    assert_eq!(
                        threshold[p], expected[p],
                        "pool {p}, round {}, {sims} × {comm} × {per}",
                        b.round
                    );
                    above_ties += u32::from(expected[p] > 0);
                }
                let any_below = (0..threshold.len())
                    .filter(unbalanced)
                    .any(|p| expected[p] > 0);
                assert_eq!(
                    *pass,
                    u32::from(!any_below),
                    "skipped only where it finds nothing"
                );
                let mut done = false;
                while !done && !matches!(b.step, Step::Measure { .. }) {
                    done = b.quantum(model);
                }
                if done {
                    break;
                }
            }
        }
        assert!(
            measures > 5 && stopped > 0 && above_ties > 0,
            "{measures} {stopped}"
        );
    }

    #[test]
    fn option_values_summed_in_another_order_are_the_fixed_cost_plus_the_price_term() {
        let saving = Money::from_micros(40_000);
        let (mut with_sms, mut with_change_cost, mut with_change_price) = (0, 0, 0);
        for (seed, min_saving, max_changes) in [
            (1, Money::ZERO, None),
            (2, saving, None),
            (3, saving, Some(300)),
            (4, Money::ZERO, Some(300)),
        ] {
            let fleet = synthetic_fleet_of(4_000, seed, 3, 8);
            let constraints = Constraints {
                min_saving,
                max_changes,
            };
            let options = Options {
                constraints,
                ..Options::default()
            };
            let mut job = UnitJob::new(&fleet, None, options);
            let Some((model, b)) = job.balancing() else {
                continue;
            };
            let change_price = b.prices.get(model.pool_terms.len()).copied().unwrap_or(0);
            with_change_cost += u32::from(model.change_cost != 0);
            with_change_price += u32::from(change_price != 0);
            for i in 0..model.sims.len() {
                let sim = model.sim(i);
                let value = b.values_of(model, i);
                for (k, o) in model.options_of(i).iter().enumerate() {
                    let mut plain = i128::from(model.fixed(i, o)) << SCALE_BITS;
                    if o.pool != NO_POOL {
                        let excess = i128::from(sim.usage) - i128::from(o.allowance);
                        plain += b.prices[o.pool as usize] * excess;
                        with_sms += u32::from(sim.sms != 0);
                    }
                    if k as u32 != sim.current {
                        plain += change_price;
                    }
                    assert_eq!(
                        value(k as u32, o),
                        plain,
                        "SIM {i}, option {k}, seed {seed}"
                    );
                }
            }
        }
        assert!(with_sms > 0 && with_change_cost > 0 && with_change_price > 0);
    }

    /// [`bucket`] as it was, dividing every time.
    fn bucket_by_division(rc: i128, bytes: i128, limit: i128) -> Option<usize> {
        if limit <= 0 {
            return None;
        }
        let key = rc.max(0) / bytes;
        if key >= limit {
            return None;
        }
        if key == 0 {
            return Some(0);
        }
        let x = ((limit << 16) / key) as u128;
        let lg = 127 - x.leading_zeros() as usize;
        let eighth = ((x >> (lg - 3)) & 7) as usize;
        Some(BUCKETS - 1 - ((lg - 16) * 8 + eighth).min(BUCKETS - 2))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn the_bucket_without_dividing_and_the_most_key_agree_with_dividing(
            limit_bits in 0u32..90,
            limit_frac in any::<u64>(),
            rc_bits in 0u32..100,
            rc_frac in any::<u64>(),
            bytes in 1i128..(1 << 50),
            t in -1i64..(BUCKETS as i64 + 1),
        ) {
            let limit = (i128::from(limit_frac) << 30 >> (94 - limit_bits.min(93))) - 3;
            let rc = (i128::from(rc_frac) << 40 >> (104 - rc_bits.min(103))) - 5;
            let b = bucket_by_division(rc, bytes, limit);
            prop_assert_eq!(bucket(rc, bytes, limit), b);
            let most = most_key(t, limit);
            let within_t = b.is_some_and(|b| b as i64 <= t);
            prop_assert_eq!(within(rc, bytes, most), within_t);
            // Every key at or under the most is within, the next one is not.
            if most >= 0 {
                prop_assert!(bucket_by_division(most, 1, limit).is_some_and(|b| b as i64 <= t));
                let next = bucket_by_division(most + 1, 1, limit);
                prop_assert!(next.is_none_or(|b| b as i64 > t));
            }
        }
    }
}
