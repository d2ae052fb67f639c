//! The Lagrangian evaluated class by class instead of SIM by SIM.
//!
//! At fixed prices a SIM's value on a pool's cheapest option is a line in its usage,
//! `base − λ·allowance + λ·u`, and its value on its cheapest non-pooled option a constant
//! (that option's fixed cost less the SMS line every option shares). Of two such candidates,
//! which is cheaper — ties broken as [`super::bound`] breaks them — changes at most once as the
//! usage grows, so the candidate a SIM picks is the same for every SIM between two SIMs that
//! pick it. Over a class's SIMs sorted by usage, split into *pieces* where the non-pooled
//! constant is the same, the picks therefore form a few runs; they are found by bisection and
//! summed with prefix sums of usage and SMS lines: a few evaluations per run instead of one per
//! SIM. The result — `L` and its subgradient — is the SIM-by-SIM evaluation's to the last unit
//! (the tests compare them).
//!
//! Non-pooled options matter only where they can win: a SIM whose cheapest non-pooled cost is
//! above what some pooled option costs it at the highest prices (its overage rate on its own
//! excess) never picks it, so it joins its neighbours' piece. A class with no pooled option adds
//! a constant. SIMs whose SMS line differs between options (SMS rates that are not the same on
//! every plan of the class) are evaluated one by one.
//!
//! Used without constraints only: a change cost or a limit on changes makes each SIM's current
//! plan special, and those sweeps go SIM by SIM.

use super::bound::{cheapest, own_of, PoolMinimum, Valued, SCALE};
use super::model::{Model, NO_POOL};

/// A run of SIMs (positions in the model's usage order, `Lagrangian::by_usage`) evaluated
/// together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    /// First position; the piece ends where the next begins.
    pub start: u32,
    /// The class.
    pub class: u32,
    /// The SIMs' cheapest non-pooled fixed cost without the SMS line (micros), or `i64::MAX`
    /// when no SIM of the piece can pick a non-pooled option.
    pub own: i64,
    /// That option (within the class).
    pub own_option: u32,
    /// A single SIM evaluated on its own.
    pub loose: bool,
}

/// What the class-wise evaluation precomputes (derived from the model, never stored).
#[derive(Debug, Clone, Default)]
pub(crate) struct Envelope {
    /// `Σ` usage of the SIMs at positions before `k` of `by_usage`.
    pub prefix_usage: Vec<u64>,
    /// Pieces of the classes that have pooled options, in position order.
    pub pieces: Vec<Piece>,
    /// Where each class's pieces start (and, last, how many there are).
    class_piece_start: Vec<u32>,
    /// What adds to `L` whatever the prices (micros, scaled): the classes without pooled
    /// options, and the SMS lines of SIMs whose SMS rate is the same on every option.
    pub constant: i128,
}

/// SIMs grouped by class, by increasing usage within a class (ties by index).
pub(crate) fn by_usage(model: &Model) -> Vec<u32> {
    // Sorting the keys themselves (class, usage, SIM packed in 128 bits) rather than SIM
    // indices compared through the model: twice as fast at a million SIMs.
    let mut keys: Vec<u128> = (0..model.sims.len())
        .map(|i| {
            let s = model.sim(i);
            u128::from(s.class) << 96 | u128::from(s.usage) << 32 | i as u128
        })
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|k| k as u32).collect()
}

impl Envelope {
    /// Builds the pieces. `uniform_sms` is per class whether every option has the same SMS rate, `max_prices` each
    /// pool's highest price.
    pub fn new(model: &Model, by_usage: &[u32], uniform_sms: &[bool], max_prices: &[i128]) -> Self {
        let n = by_usage.len();
        let mut prefix_usage = Vec::with_capacity(n + 1);
        let mut sum = 0u64;
        prefix_usage.push(0);
        let mut pieces: Vec<Piece> = Vec::new();
        let mut constant = 0i128;
        for (k, &i) in by_usage.iter().enumerate() {
            let i = i as usize;
            let sim = model.sim(i);
            let class = sim.class as usize;
            let options = model.options_of(i);
            sum += sim.usage;
            prefix_usage.push(sum);
            let sms = model.sms_line(sim.sms, options[0].plan);
            let pooled = options.iter().any(|o| o.pool != NO_POOL);
            // Its cheapest non-pooled fixed cost and option.
            let (mut value, mut option) = own_of(model, i);
            if !pooled {
                constant += i128::from(value) * SCALE;
                continue;
            }
            let loose = sim.sms != 0 && !uniform_sms[class];
            if !loose {
                // The same on every option: it adds to L whatever the prices.
                constant += i128::from(sms) * SCALE;
            }
            if !loose && value != i64::MAX {
                value -= sms;
                // What some pooled option costs this SIM at the highest prices: no prices
                // make it dearer, so a non-pooled cost above it never wins.
                let usage = i128::from(sim.usage);
                let ceiling = options
                    .iter()
                    .filter(|o| o.pool != NO_POOL)
                    .map(|o| {
                        i128::from(o.base) * SCALE
                            + (max_prices[o.pool as usize] * (usage - i128::from(o.allowance)))
                                .max(0)
                    })
                    .min()
                    .unwrap_or(i128::MAX);
                if i128::from(value) * SCALE > ceiling {
                    value = i64::MAX;
                }
            }
            if value == i64::MAX {
                option = 0;
            }
            let joins = !loose
                && matches!(pieces.last(), Some(p) if !p.loose
                    && p.class == sim.class
                    && p.own == value
                    && p.own_option == option);
            if !joins {
                pieces.push(Piece {
                    start: k as u32,
                    class: sim.class,
                    own: value,
                    own_option: option,
                    loose,
                });
            }
        }
        let mut class_piece_start = vec![0u32; model.classes.len() + 1];
        for piece in &pieces {
            class_piece_start[piece.class as usize + 1] += 1;
        }
        for c in 0..model.classes.len() {
            class_piece_start[c + 1] += class_piece_start[c];
        }
        Envelope {
            prefix_usage,
            pieces,
            class_piece_start,
            constant,
        }
    }

    /// Where piece `p` ends (exclusive), in positions: the next piece's start, or the end of
    /// its class.
    fn end(&self, model: &Model, p: usize) -> u32 {
        let class = self.pieces[p].class;
        match self.pieces.get(p + 1) {
            Some(next) if next.class == class => next.start,
            _ => model.lagrangian().class_range(class as usize).1,
        }
    }

    /// The pieces of `class`, as a range of indices.
    pub fn class_pieces(&self, class: usize) -> (u32, u32) {
        (
            self.class_piece_start[class],
            self.class_piece_start[class + 1],
        )
    }

    /// `Σ` usage over positions `from..to`.
    #[inline]
    pub fn usage(&self, from: u32, to: u32) -> u64 {
        self.prefix_usage[to as usize] - self.prefix_usage[from as usize]
    }
}

/// What a sweep adds up: `L`'s scaled total and its subgradient.
pub(crate) struct Sums<'a> {
    pub total: &'a mut i128,
    pub subgradient: &'a mut [i128],
}

/// What the runs of one piece are evaluated against.
struct Run<'a> {
    piece: &'a Piece,
    minima: &'a [PoolMinimum],
    prices: &'a [i128],
}

/// The candidate a SIM of usage `usage` in `piece` picks: its value without the SMS line, and
/// which of `minima` it is (`usize::MAX` for the non-pooled option).
#[inline]
fn pick(piece: &Piece, usage: u64, minima: &[PoolMinimum], prices: &[i128]) -> (Valued, usize) {
    let mut best = Valued {
        value: if piece.own == i64::MAX {
            i128::MAX
        } else {
            i128::from(piece.own) * SCALE
        },
        excess: 0,
        option: piece.own_option,
    };
    let mut which = usize::MAX;
    let usage = i128::from(usage);
    for (j, &(pool, base, allowance, option)) in minima.iter().enumerate() {
        let v = Valued {
            value: base + prices[pool as usize] * usage,
            excess: usage - i128::from(allowance),
            option,
        };
        if v < best {
            best = v;
            which = j;
        }
    }
    (best, which)
}

impl Envelope {
    /// Adds piece `p` at `prices` to `sums`; returns how many SIM evaluations that took.
    pub fn add_piece(
        &self,
        model: &Model,
        prices: &[i128],
        minima: &[Vec<PoolMinimum>],
        p: usize,
        sums: &mut Sums<'_>,
    ) -> usize {
        let piece = &self.pieces[p];
        let (from, to) = (piece.start, self.end(model, p));
        if piece.loose {
            let i = model.lagrangian().by_usage[from as usize] as usize;
            let best = cheapest(model, prices, minima, i);
            *sums.total += best.value;
            let o = model.options_of(i)[best.option as usize];
            if o.pool != NO_POOL {
                sums.subgradient[o.pool as usize] += best.excess;
            }
            return 1;
        }
        let run = Run {
            piece,
            minima: &minima[piece.class as usize],
            prices,
        };
        let last = to - 1;
        let (at_first, at_last) = (self.pick(&run, from), self.pick(&run, last));
        2 + self.runs(&run, from, last, at_first, at_last, sums)
    }

    /// Which candidate the SIM at position `k` picks.
    #[inline]
    fn pick(&self, run: &Run<'_>, k: u32) -> usize {
        pick(run.piece, self.usage(k, k + 1), run.minima, run.prices).1
    }

    /// Adds positions `lo..=hi`, given the picks at both ends: one run when they are the same
    /// (the SIMs between pick it too), else the two halves. Returns the evaluations made.
    fn runs(
        &self,
        run: &Run<'_>,
        lo: u32,
        hi: u32,
        at_lo: usize,
        at_hi: usize,
        sums: &mut Sums<'_>,
    ) -> usize {
        if at_lo == at_hi {
            self.add_run(run, lo, hi + 1, at_lo, sums);
            return 0;
        }
        if hi - lo <= 1 {
            self.add_run(run, lo, lo + 1, at_lo, sums);
            self.add_run(run, hi, hi + 1, at_hi, sums);
            return 0;
        }
        let mid = lo + (hi - lo) / 2;
        let (at_mid, at_next) = (self.pick(run, mid), self.pick(run, mid + 1));
        2 + self.runs(run, lo, mid, at_lo, at_mid, sums)
            + self.runs(run, mid + 1, hi, at_next, at_hi, sums)
    }

    /// Adds the SIMs at positions `from..to`, which all pick `which`.
    fn add_run(&self, run: &Run<'_>, from: u32, to: u32, which: usize, sums: &mut Sums<'_>) {
        let count = i128::from(to - from);
        if which == usize::MAX {
            *sums.total += count * i128::from(run.piece.own) * SCALE;
            return;
        }
        let (pool, base, allowance, _) = run.minima[which];
        let usage = i128::from(self.usage(from, to));
        *sums.total += count * base + run.prices[pool as usize] * usage;
        sums.subgradient[pool as usize] += usage - count * i128::from(allowance);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::bound::{max_prices, pool_slope, sweep_sums};
    use super::super::model::Model;
    use super::super::tests::synthetic_fleet;
    use super::super::tiny::fleet;
    use crate::random::SplitMix64;

    /// Prices to try: zero, the highest, halfway, and random ones in between.
    fn prices_to_try(model: &Model, seed: u64) -> Vec<Vec<i128>> {
        let max = max_prices(model);
        let mut rng = SplitMix64::new(seed);
        let mut tries = vec![
            vec![0; max.len()],
            max.to_vec(),
            max.iter().map(|m| m / 2).collect(),
        ];
        for _ in 0..20 {
            tries.push(
                max.iter()
                    .map(|&m| {
                        let m = u64::try_from(m).unwrap_or(0);
                        i128::from(if m == 0 { 0 } else { rng.below(m + 1) })
                    })
                    .collect(),
            );
        }
        tries
    }

    /// The class-wise sums equal the SIM-by-SIM ones at every price tried.
    fn same_sums(model: &Model, seed: u64) -> Result<(), TestCaseError> {
        prop_assert!(model.lagrangian().envelope.is_some());
        for prices in prices_to_try(model, seed) {
            let fast = sweep_sums(model, &prices, false);
            let slow = sweep_sums(model, &prices, true);
            prop_assert_eq!(&fast, &slow, "at prices {:?}", prices);
            for pool in 0..model.pool_terms.len() {
                let slope = pool_slope(model, &prices, pool as u32);
                prop_assert_eq!(slope, fast.1[pool], "pool {} at prices {:?}", pool, prices);
            }
        }
        Ok(())
    }

    #[test]
    fn synthetic_fleets_sum_the_same_class_by_class() {
        for (sims, seed) in [(3_000, 1), (5_000, 2)] {
            let model = Model::new(&synthetic_fleet(sims, seed));
            let envelope = model.lagrangian().envelope.as_ref().expect("unconstrained");
            assert!(
                envelope.pieces.len() * 4 < model.sims.len(),
                "{} pieces for {} SIMs",
                envelope.pieces.len(),
                model.sims.len()
            );
            same_sums(&model, seed).expect("same sums");
        }
    }

    #[test]
    fn a_non_pooled_plan_tied_at_the_highest_prices_still_counts() {
        // 5 MB: A costs $10 on its own; B, pooled alone, $5 + 5 MB × $1 at the highest price,
        // also $10 — a tie A wins (no excess), so A must not be left out as never cheaper.
        let model = Model::new(&fleet(
            "A,10,100,,,false,,0\nB,5,0,1,1,true,,0\n",
            "1,,B,5,0\n2,,A,5,0\n3,,A,50,0\n",
            None,
        ));
        same_sums(&model, 1).expect("same sums");
    }

    /// A random plan row: charge, MB, overage rate and block (or none), pooling (0 per SIM,
    /// 1 pooled alone, 2.. a shared pool), SMS rate in cents.
    fn plan_row() -> impl Strategy<Value = (u32, u32, Option<(u32, u32)>, u8, u32)> {
        (
            0u32..40,
            0u32..300,
            prop::option::of((1u32..300, 1u32..50)),
            0u8..4,
            0u32..3,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random fleets with SMS (the same rate on every plan or not), shared and lone pools,
        /// per-SIM plans and prorated SIMs.
        #[test]
        fn random_fleets_sum_the_same_class_by_class(
            plans in prop::collection::vec(plan_row(), 1..6),
            sims in prop::collection::vec((0u32..600, 0usize..6, 0u32..4, any::<bool>(), 0u8..2), 1..40),
            uniform_sms in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let mut p = String::new();
            for (k, (charge, mb, rate, pool, sms)) in plans.iter().enumerate() {
                let shared = plans.iter().find(|q| q.3 == *pool && *pool >= 2);
                let rate = shared.map_or(*rate, |q| q.2);
                let (r, b) = rate.map_or((String::new(), String::new()), |(r, b)| {
                    (format!("{}.{:02}", r / 100, r % 100), b.to_string())
                });
                let pool_id = if *pool >= 2 { format!("X{pool}") } else { String::new() };
                let sms = if uniform_sms { 1 } else { *sms };
                p.push_str(&format!("P{k},{charge},{mb},{r},{b},{},{pool_id},0.0{sms}\n", *pool > 0));
            }
            let mut s = String::new();
            for (k, (usage, plan, sms, prorated, comm)) in sims.iter().enumerate() {
                let activated = if *prorated { "2026-10-20" } else { "" };
                s.push_str(&format!("{k},C{comm},P{},{usage},{sms},{activated}\n", plan % plans.len()));
            }
            let mut e = String::new();
            for k in 0..plans.len() {
                e.push_str(&format!("C0,P{k}\n"));
                if k % 2 == 1 {
                    e.push_str(&format!("C1,P{k}\n"));
                }
            }
            let model = Model::new(&fleet(&p, &s, Some(&e)));
            same_sums(&model, seed)?;
        }
    }
}
