//! The `classic` method: the old system's rate-plan sequences × 4 strategies, kept for comparison
//! and parity (DESIGN §3; `shared/seeds/continuous-optimization-algorithm.md`, phases 1.4, 1.5,
//! 2.4 and 4.2). The default optimizer must never do worse than this.
//!
//! The method, as rebuilt on the [`Model`]:
//!
//! 1. **Groups and components.** A *group* is the SIMs whose options are the same plans (the
//!    model classes with the same plan list, whatever their billed days; one option index means
//!    the same plan across them). It stands for the old system's communication group
//!    (communication plans sharing one set of rate plans). Groups whose options share a pool form
//!    a *component*; components share nothing, so each is optimized on its own and keeps its own
//!    winner — as the old system kept the winning assignment per communication group (phase 4.2),
//!    but exact where pools span groups.
//! 2. **Baseline.** Each SIM on its cheapest option, by [`Model::fixed_bill`] cost, among those that
//!    *cover* it alone (usage within the option's allowance, or an option that never bills
//!    overage: unlimited, zero rate, or a charge type without overage); when none covers it, the
//!    option of lowest fixed cost. Ties: larger allowance, then lower option index.
//! 3. **Rate-plan sequences** (phase 1.5): per group, up to [`SEQUENCES_PER_GROUP`] orderings of
//!    its options, from the terms of its first class: allowance ascending, allowance descending,
//!    monthly charge ascending, charge per MB ascending (no allowance last), pooled options first,
//!    per-SIM options first (the last two each by allowance ascending), then the rotations of
//!    allowance-ascending (starting at its 2nd, 3rd… plan); duplicates dropped. A *sequence set*
//!    `s` gives group `g` its sequence `s mod (count of g's sequences)`; a component tries as many
//!    sets as its longest list.
//! 4. **Strategies** (phase 2.4): {no grouping, grouped by communication plan} × {largest to
//!    smallest usage, smallest to largest}. *No grouping* visits the component's SIMs by usage,
//!    largest first (ties: lower SIM index first); *grouped* visits group after group, by their
//!    total usage, largest first (ties: lower group index), and each group's SIMs as before. The
//!    smallest-to-largest strategies visit the exact reverse. In a component of one group both
//!    groupings visit the same order, so only the two no-grouping strategies run there.
//! 5. **A run** (sequence set × strategy) starts from an empty placement and visits the SIMs: each
//!    goes on the first option of its group's sequence that it *fits* — on a per-SIM option, no
//!    overage of its own; on a pooled option, no overage for the pool once the SIM and its
//!    allowance are added (usage ≤ allowance wherever overage is billed) — or, when none fits, on
//!    the option of least exact marginal cost given the SIMs placed so far (ties: earlier in the
//!    sequence).
//! 6. **Winner:** per component, the cheapest (exact cost) of the baseline and every run; ties keep
//!    the earlier. The result is the union of the component winners.
//!
//! [`Classic`] is a resumable [`Phase`]: a quantum places at most [`QUANTUM_SIMS`] SIMs, and the
//! encoded state holds only what cannot be derived from the model (position, the best choices
//! found, the current run's placements), so encoding and decoding between any two quanta gives the
//! identical result. Two buffers per component hold the best and the current run; a better run
//! takes the best's place by flipping a flag, so finishing a run costs O(pools), not O(SIMs).
//! Once every component is done, the winners' choices are gathered into SIM order, a quantum of
//! SIMs at a time too (at a million SIMs, scattered writes that take milliseconds at once).

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

use super::checkpoint::{DecodeError, Reader, Writer};
use super::components::Components;
use super::model::{Model, OptionTerms, NO_POOL};
use super::phase::{Phase, QUANTUM_SIMS};
use crate::fleet::PlanId;

/// At most this many rate-plan sequences per group (the old system capped plans per group at 15
/// and sequences by a limit; there is no plan cap here).
pub(crate) const SEQUENCES_PER_GROUP: usize = 12;

/// What the method derives from the model alone: recomputed by [`Classic::new`] and on decode,
/// never stored.
#[derive(Debug, Clone)]
struct Layout {
    /// The group of each model class.
    group_of_class: Vec<u32>,
    /// Per group, its rate-plan sequences (option indices).
    sequences: Vec<Vec<Vec<u32>>>,
    /// Every SIM, component after component, each component's SIMs by usage, largest first.
    members: Vec<u32>,
    /// The usage, SMS count and class of each SIM of `members`, in that order (read in visit
    /// order, so kept together rather than looked up).
    terms: Vec<(u64, u32, u32)>,
    /// Where each component starts in `members`, plus the end.
    start: Vec<usize>,
    /// Per component, its visit order grouped by group (positions within the component).
    grouped: Vec<u32>,
    /// Per component, the pools its options use.
    pools: Vec<Vec<u32>>,
    /// Per component, how many strategies run (4, or 2 when it is one group).
    strategies: Vec<u32>,
    /// Per component, how many runs (sequence sets × strategies).
    runs: Vec<u32>,
}

impl Layout {
    fn new(model: &Model) -> Layout {
        let (group_of_class, first_class) = groups(model);
        let sequences: Vec<Vec<Vec<u32>>> = first_class
            .iter()
            .map(|&c| sequences(class_options(model, c)))
            .collect();
        let (component_of_group, pools) = components(model, &first_class);
        let components = pools.len();
        let mut group_count = vec![0u32; components];
        let mut sets = vec![0u32; components];
        for (g, &c) in component_of_group.iter().enumerate() {
            group_count[c as usize] += 1;
            sets[c as usize] = sets[c as usize].max(sequences[g].len() as u32);
        }
        let strategies: Vec<u32> = group_count
            .iter()
            .map(|&n| if n > 1 { 4 } else { 2 })
            .collect();
        let runs = (0..components).map(|c| sets[c] * strategies[c]).collect();

        // Members: by component, then usage (largest first), then index.
        let group_of_sim = |i: usize| group_of_class[model.sim(i).class as usize] as usize;
        let component_of_sim = |i: usize| component_of_group[group_of_sim(i)] as usize;
        // The keys themselves are sorted (component, usage complemented for largest first,
        // SIM; packed in 128 bits), not SIM indices compared through the model.
        let mut keys: Vec<u128> = (0..model.sims.len())
            .map(|i| {
                (component_of_sim(i) as u128) << 96
                    | u128::from(!model.sims[i].usage) << 32
                    | i as u128
            })
            .collect();
        keys.sort_unstable();
        let members: Vec<u32> = keys.into_iter().map(|k| k as u32).collect();
        let mut start = vec![0usize; components + 1];
        for i in 0..model.sims.len() {
            start[component_of_sim(i) + 1] += 1;
        }
        for c in 0..components {
            start[c + 1] += start[c];
        }

        // Grouped: within each component, group after group by total usage (largest first).
        let mut group_usage = vec![0u128; first_class.len()];
        for (i, sim) in model.sims.iter().enumerate() {
            group_usage[group_of_sim(i)] += u128::from(sim.usage);
        }
        // Group by group in that order, positions ascending within a group: a counting sort.
        let mut groups_by_usage: Vec<usize> = (0..first_class.len()).collect();
        groups_by_usage.sort_unstable_by_key(|&g| (Reverse(group_usage[g]), g));
        let mut rank = vec![0usize; first_class.len()];
        for (r, &g) in groups_by_usage.iter().enumerate() {
            rank[g] = r;
        }
        let mut grouped: Vec<u32> = vec![0; members.len()];
        let mut next = vec![0usize; first_class.len() + 1];
        for c in 0..components {
            let span = &members[start[c]..start[c + 1]];
            next.fill(0);
            for &i in span {
                next[rank[group_of_sim(i as usize)] + 1] += 1;
            }
            for r in 0..first_class.len() {
                next[r + 1] += next[r];
            }
            for (k, &i) in span.iter().enumerate() {
                let slot = &mut next[rank[group_of_sim(i as usize)]];
                grouped[start[c] + *slot] = k as u32;
                *slot += 1;
            }
        }
        let terms = members
            .iter()
            .map(|&i| {
                let s = model.sim(i as usize);
                (s.usage, s.sms, s.class)
            })
            .collect();
        Layout {
            group_of_class,
            sequences,
            members,
            terms,
            start,
            grouped,
            pools,
            strategies,
            runs,
        }
    }

    fn components(&self) -> usize {
        self.start.len() - 1
    }

    fn len(&self, c: usize) -> usize {
        self.start[c + 1] - self.start[c]
    }

    /// The position within component `c` visited `p`-th by `run`.
    fn visit(&self, c: usize, run: u32, p: usize) -> usize {
        let strategy = run % self.strategies[c];
        let len = self.len(c);
        let p = if strategy % 2 == 0 { p } else { len - 1 - p };
        if strategy < 2 {
            p
        } else {
            self.grouped[self.start[c] + p] as usize
        }
    }

    /// The rate-plan sequence in `run` of component `c` of a SIM of class `class`.
    fn sequence(&self, c: usize, run: u32, class: u32) -> &[u32] {
        let set = (run / self.strategies[c]) as usize;
        let list = &self.sequences[self.group_of_class[class as usize] as usize];
        &list[set % list.len()]
    }
}

/// The options of model class `c`.
fn class_options(model: &Model, c: usize) -> &[OptionTerms] {
    let class = &model.classes[c];
    &model.options[class.first as usize..(class.first + class.len) as usize]
}

/// Groups classes with the same plans, numbered in class order: the group of each class, and
/// the first class of each group.
fn groups(model: &Model) -> (Vec<u32>, Vec<usize>) {
    let mut group_of_plans: HashMap<Vec<PlanId>, u32> = HashMap::new();
    let mut group_of_class = Vec::with_capacity(model.classes.len());
    let mut first_class: Vec<usize> = Vec::new();
    for c in 0..model.classes.len() {
        let plans: Vec<PlanId> = class_options(model, c).iter().map(|o| o.plan).collect();
        let next = first_class.len() as u32;
        let g = *group_of_plans.entry(plans).or_insert(next);
        if g == next {
            first_class.push(c);
        }
        group_of_class.push(g);
    }
    (group_of_class, first_class)
}

/// Joins groups that share a pool into components, numbered by their first group: the
/// component of each group, and the pools of each component.
fn components(model: &Model, first_class: &[usize]) -> (Vec<u32>, Vec<Vec<u32>>) {
    let mut joined = Components::new(model.pool_terms.len());
    for &c in first_class {
        joined.add(
            class_options(model, c)
                .iter()
                .map(|o| o.pool)
                .filter(|&p| p != NO_POOL),
        );
    }
    let labels = joined.finish();
    let mut pools: Vec<Vec<u32>> = vec![Vec::new(); labels.count];
    for (p, c) in labels.of_pool.iter().enumerate() {
        if let Some(c) = c {
            pools[*c as usize].push(p as u32);
        }
    }
    (labels.of_item, pools)
}

/// The rate-plan sequences of a group with these option terms (module docs, step 3).
fn sequences(terms: &[OptionTerms]) -> Vec<Vec<u32>> {
    let order = |cmp: &dyn Fn(&OptionTerms, &OptionTerms) -> Ordering| {
        let mut v: Vec<u32> = (0..terms.len() as u32).collect();
        v.sort_by(|&a, &b| cmp(&terms[a as usize], &terms[b as usize]).then(a.cmp(&b)));
        v
    };
    let small_first = order(&|a, b| (a.allowance, a.base).cmp(&(b.allowance, b.base)));
    let per_mb = |a: &OptionTerms, b: &OptionTerms| match (a.allowance, b.allowance) {
        (0, 0) => Ordering::Equal,
        (0, _) => Ordering::Greater,
        (_, 0) => Ordering::Less,
        (x, y) => (i128::from(a.base) * i128::from(y)).cmp(&(i128::from(b.base) * i128::from(x))),
    };
    let mut candidates = vec![
        small_first.clone(),
        order(&|a, b| (Reverse(a.allowance), a.base).cmp(&(Reverse(b.allowance), b.base))),
        order(&|a, b| (a.base, Reverse(a.allowance)).cmp(&(b.base, Reverse(b.allowance)))),
        order(&|a, b| per_mb(a, b).then(b.allowance.cmp(&a.allowance))),
        order(&|a, b| {
            (a.pool == NO_POOL, a.allowance, a.base).cmp(&(b.pool == NO_POOL, b.allowance, b.base))
        }),
        order(&|a, b| {
            (a.pool != NO_POOL, a.allowance, a.base).cmp(&(b.pool != NO_POOL, b.allowance, b.base))
        }),
    ];
    for k in 1..small_first.len() {
        let mut rotated = small_first.clone();
        rotated.rotate_left(k);
        candidates.push(rotated);
    }
    let mut out: Vec<Vec<u32>> = Vec::new();
    for c in candidates {
        if out.len() == SEQUENCES_PER_GROUP {
            break;
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Whether a SIM using `usage` fits option `o` given its pool's totals before it (module docs,
/// step 5); the baseline's "covers" is the same test with an empty pool.
fn fits(model: &Model, usage: u64, o: &OptionTerms, pool_usage: u64, pool_allowance: u64) -> bool {
    if o.pool == NO_POOL {
        usage <= model.own_limit(o)
    } else {
        model.pool_is_free(o.pool, pool_usage + usage, pool_allowance + o.allowance)
    }
}

/// SIM `i`'s baseline option (module docs, step 2).
fn baseline_option(model: &Model, i: usize) -> u32 {
    let mut best: Option<(bool, i64, Reverse<u64>, u32)> = None;
    for (k, o) in model.options_of(i).iter().enumerate() {
        let key = (
            !fits(model, model.sims[i].usage, o, 0, 0),
            model.fixed_bill(i, o),
            Reverse(o.allowance),
            k as u32,
        );
        if best.is_none_or(|b| key < b) {
            best = Some(key);
        }
    }
    best.map_or(0, |b| b.3)
}

/// Where the current component stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Placing the baseline; `pos` SIMs placed.
    Baseline { pos: usize },
    /// Run `run`; `pos` SIMs placed, in its visit order.
    Run { run: u32, pos: usize },
}

/// The classic method as a resumable phase (module docs).
#[derive(Debug, Clone)]
pub(crate) struct Classic {
    layout: Layout,
    /// The component being worked on (= the count of components when finished).
    component: usize,
    stage: Stage,
    /// Two choice buffers laid out as `Layout::members`; per component one holds its best
    /// complete assignment, the other the run in progress.
    buffers: [Vec<u32>; 2],
    /// Per component, which buffer holds its best.
    best_in: Vec<u8>,
    /// The current component's best cost (meaningful once its baseline is done).
    best_cost: i64,
    /// Sum of the finished components' best costs.
    finished_cost: i64,
    /// Once every component is done: each SIM's choice in the winners, gathered in layout
    /// order up to `gathered` (empty before).
    choice: Vec<u32>,
    gathered: usize,
    /// Sum of the baseline costs of the components whose baseline is done.
    baseline_cost: i64,
    /// The run that gave the current component's best (`None`: the baseline).
    best_run: Option<u32>,
    /// How many finished components' winners came from a run rather than the baseline.
    won_by_runs: u64,
    /// The placement in progress: fixed costs and pool totals of the SIMs placed so far.
    fixed_total: i64,
    pool_usage: Vec<u64>,
    pool_allowance: Vec<u64>,
}

impl Classic {
    /// The method's start state for a model: sorts and sequences are computed here (O(N log N)).
    pub(crate) fn new(model: &Model) -> Classic {
        let layout = Layout::new(model);
        let n = model.sims.len();
        let components = layout.components();
        Classic {
            layout,
            component: 0,
            stage: Stage::Baseline { pos: 0 },
            buffers: [vec![0; n], vec![0; n]],
            best_in: vec![0; components],
            best_cost: 0,
            finished_cost: 0,
            choice: Vec::new(),
            gathered: 0,
            baseline_cost: 0,
            best_run: None,
            won_by_runs: 0,
            fixed_total: 0,
            pool_usage: vec![0; model.pool_terms.len()],
            pool_allowance: vec![0; model.pool_terms.len()],
        }
    }

    /// Whether every component is done.
    pub(crate) fn finished(&self) -> bool {
        self.component == self.layout.components()
    }

    /// Whether every component is done and the winners' choices gathered.
    fn gathered_all(&self) -> bool {
        self.finished() && self.gathered == self.layout.members.len()
    }

    /// Gathers the winners' choices of up to `budget` more SIMs (every component done).
    fn gather(&mut self, budget: usize) {
        let l = &self.layout;
        if self.choice.is_empty() {
            self.choice = vec![0; l.members.len()];
        }
        let end = l.members.len().min(self.gathered + budget);
        // The component of each position: the last one starting at or before it.
        let mut c = l
            .start
            .partition_point(|&s| s <= self.gathered)
            .saturating_sub(1);
        for at in self.gathered..end {
            while l.start[c + 1] <= at {
                c += 1;
            }
            self.choice[l.members[at] as usize] = self.buffers[self.best_in[c] as usize][at];
        }
        self.gathered = end;
    }

    /// The cost of the result (micros), once finished.
    #[cfg(test)]
    pub(crate) fn best_cost(&self) -> Option<i64> {
        self.finished().then_some(self.finished_cost)
    }

    /// The cost of the baseline alone (micros), once finished.
    #[cfg(test)]
    pub(crate) fn baseline_cost(&self) -> Option<i64> {
        self.finished().then_some(self.baseline_cost)
    }

    /// In how many components a sequence run beat the baseline.
    #[cfg(test)]
    pub(crate) fn won_by_runs(&self) -> u64 {
        self.won_by_runs
    }

    /// Work done and total work, in SIM placements.
    pub(crate) fn progress(&self) -> (u64, u64) {
        let l = &self.layout;
        let work = |c: usize| l.len(c) as u64 * (1 + u64::from(l.runs[c]));
        let total = (0..l.components()).map(work).sum();
        let mut done: u64 = (0..self.component).map(work).sum();
        if !self.finished() {
            let len = l.len(self.component) as u64;
            done += match self.stage {
                Stage::Baseline { pos } => pos as u64,
                Stage::Run { run, pos } => len * (1 + u64::from(run)) + pos as u64,
            };
        }
        (done, total)
    }

    /// The best assignment, once finished (O(N)).
    #[cfg(test)]
    pub(crate) fn into_best(self, model: &Model) -> Option<super::model::Assignment> {
        self.into_best_choices()
            .map(|choice| super::model::Assignment::new(model, choice))
    }

    /// Each SIM's choice in the best assignment, once finished and gathered (the assignment's
    /// totals are for a [`super::model::Tally`] to add up).
    pub(crate) fn into_best_choices(self) -> Option<Vec<u32>> {
        self.gathered_all().then_some(self.choice)
    }

    /// The buffer the current run writes into.
    fn scratch(&self) -> usize {
        1 - self.best_in[self.component] as usize
    }

    /// Empties the placement (the current component's pools).
    fn reset(&mut self) {
        self.fixed_total = 0;
        if let Some(pools) = self.layout.pools.get(self.component) {
            for &p in pools {
                self.pool_usage[p as usize] = 0;
                self.pool_allowance[p as usize] = 0;
            }
        }
    }

    /// Records the SIM at `at` in the layout on option `k` of its class.
    fn place(&mut self, model: &Model, at: usize, k: u32) {
        let (usage, sms, class) = self.layout.terms[at];
        let o = class_options(model, class as usize)[k as usize];
        self.fixed_total += model.fixed_of(usage, sms, &o);
        if o.pool != NO_POOL {
            self.pool_usage[o.pool as usize] += usage;
            self.pool_allowance[o.pool as usize] += o.allowance;
        }
        let b = self.scratch();
        self.buffers[b][at] = k;
    }

    /// The cost of the current component's placement.
    fn placed_cost(&self, model: &Model) -> i64 {
        self.fixed_total
            + self.layout.pools[self.component]
                .iter()
                .map(|&p| {
                    model.pool_charge(
                        p,
                        self.pool_usage[p as usize],
                        self.pool_allowance[p as usize],
                    )
                })
                .sum::<i64>()
    }

    /// The option in `run` of the SIM at `at` in the layout: the first that fits in its
    /// sequence, else the one of least marginal cost (the first such).
    fn choose(&self, model: &Model, run: u32, at: usize) -> u32 {
        let c = self.component;
        let (usage, sms, class) = self.layout.terms[at];
        let options = class_options(model, class as usize);
        let sequence = self.layout.sequence(c, run, class);
        for &k in sequence {
            let o = &options[k as usize];
            let (u, a) = if o.pool == NO_POOL {
                (0, 0)
            } else {
                (
                    self.pool_usage[o.pool as usize],
                    self.pool_allowance[o.pool as usize],
                )
            };
            if fits(model, usage, o, u, a) {
                return k;
            }
        }
        let mut fallback: Option<(i64, u32)> = None;
        for &k in sequence {
            let o = &options[k as usize];
            let mut marginal = model.fixed_of(usage, sms, o);
            if o.pool != NO_POOL {
                let (u, a) = (
                    self.pool_usage[o.pool as usize],
                    self.pool_allowance[o.pool as usize],
                );
                marginal += model.pool_charge(o.pool, u + usage, a + o.allowance)
                    - model.pool_charge(o.pool, u, a);
            }
            if fallback.is_none_or(|(m, _)| marginal < m) {
                fallback = Some((marginal, k));
            }
        }
        fallback.map_or(0, |f| f.1)
    }

    /// Closes the placement just completed in the current component and moves on.
    fn close(&mut self, model: &Model) {
        let c = self.component;
        let cost = self.placed_cost(model);
        let next = match self.stage {
            Stage::Baseline { .. } => {
                self.baseline_cost = self.baseline_cost.saturating_add(cost);
                self.best_cost = cost;
                self.best_run = None;
                self.best_in[c] = 1 - self.best_in[c];
                0
            }
            Stage::Run { run, .. } => {
                if cost < self.best_cost {
                    self.best_cost = cost;
                    self.best_run = Some(run);
                    self.best_in[c] = 1 - self.best_in[c];
                }
                run + 1
            }
        };
        if next < self.layout.runs[c] {
            self.stage = Stage::Run { run: next, pos: 0 };
        } else {
            self.finished_cost += self.best_cost;
            self.won_by_runs += u64::from(self.best_run.is_some());
            self.best_run = None;
            self.best_cost = 0;
            self.component += 1;
            self.stage = Stage::Baseline { pos: 0 };
        }
        self.reset();
    }
}

/// The cost of component `c` with the choices in `buffer` (laid out as `Layout::members`); uses
/// and leaves zeroed the pool totals given.
fn component_cost(
    model: &Model,
    layout: &Layout,
    c: usize,
    buffer: &[u32],
    pool_usage: &mut [u64],
    pool_allowance: &mut [u64],
) -> i64 {
    let mut cost = 0;
    let span = layout.start[c]..layout.start[c + 1];
    for (&i, &k) in layout.members[span.clone()].iter().zip(&buffer[span]) {
        let i = i as usize;
        let o = model.options_of(i)[k as usize];
        cost += model.fixed_bill(i, &o);
        if o.pool != NO_POOL {
            pool_usage[o.pool as usize] += model.sims[i].usage;
            pool_allowance[o.pool as usize] += o.allowance;
        }
    }
    for &p in &layout.pools[c] {
        let p = p as usize;
        cost += model.pool_charge(p as u32, pool_usage[p], pool_allowance[p]);
        pool_usage[p] = 0;
        pool_allowance[p] = 0;
    }
    cost
}

/// Reads an option index of SIM `i`.
fn read_option(r: &mut Reader<'_>, model: &Model, i: usize) -> Result<u32, DecodeError> {
    let options = model.options_of(i).len() as u64;
    Ok(r.below(options, "an option index is out of range")? as u32)
}

const OTHER_FLEET: DecodeError = DecodeError::Invalid("the checkpoint is of another fleet");

impl Phase for Classic {
    fn quantum(&mut self, model: &Model) -> bool {
        let mut budget = QUANTUM_SIMS;
        while !self.finished() {
            let c = self.component;
            let (start, len) = (self.layout.start[c], self.layout.len(c));
            let (pos, end) = match self.stage {
                Stage::Baseline { pos } => {
                    let end = len.min(pos + budget);
                    for p in pos..end {
                        let i = self.layout.members[start + p] as usize;
                        let k = baseline_option(model, i);
                        self.place(model, start + p, k);
                    }
                    self.stage = Stage::Baseline { pos: end };
                    (pos, end)
                }
                Stage::Run { run, pos } => {
                    let end = len.min(pos + budget);
                    for p in pos..end {
                        let at = start + self.layout.visit(c, run, p);
                        let k = self.choose(model, run, at);
                        self.place(model, at, k);
                    }
                    self.stage = Stage::Run { run, pos: end };
                    (pos, end)
                }
            };
            budget -= end - pos;
            if end < len {
                return false;
            }
            self.close(model);
        }
        if budget > 0 {
            self.gather(budget);
        }
        self.gathered_all()
    }

    fn encode(&self, w: &mut Writer) {
        let l = &self.layout;
        w.u64(l.members.len() as u64);
        w.u64(l.group_of_class.len() as u64);
        w.u64(l.sequences.len() as u64);
        w.u64(self.pool_usage.len() as u64);
        w.u64(l.components() as u64);
        w.u64(self.component as u64);
        w.i64(self.baseline_cost);
        w.u64(self.won_by_runs);
        for c in 0..self.component {
            let best = &self.buffers[self.best_in[c] as usize];
            for &k in &best[l.start[c]..l.start[c + 1]] {
                w.u64(u64::from(k));
            }
        }
        if self.finished() {
            w.u64(self.gathered as u64);
            return;
        }
        let c = self.component;
        let start = l.start[c];
        let scratch = &self.buffers[self.scratch()];
        match self.stage {
            Stage::Baseline { pos } => {
                w.u64(0);
                w.u64(pos as u64);
                for &k in &scratch[start..start + pos] {
                    w.u64(u64::from(k));
                }
            }
            Stage::Run { run, pos } => {
                w.u64(1);
                w.u64(u64::from(run));
                w.u64(pos as u64);
                w.u64(self.best_run.map_or(0, |r| u64::from(r) + 1));
                let best = &self.buffers[self.best_in[c] as usize];
                for &k in &best[start..l.start[c + 1]] {
                    w.u64(u64::from(k));
                }
                for p in 0..pos {
                    w.u64(u64::from(scratch[start + l.visit(c, run, p)]));
                }
            }
        }
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let mut s = Classic::new(model);
        let components = s.layout.components();
        let shape = [
            model.sims.len(),
            model.classes.len(),
            s.layout.sequences.len(),
            model.pool_terms.len(),
            components,
        ];
        for expected in shape {
            if r.u64()? != expected as u64 {
                return Err(OTHER_FLEET);
            }
        }
        s.component = r.below(components as u64 + 1, "a component index is out of range")? as usize;
        s.baseline_cost = r.i64()?;
        s.won_by_runs = r.below(s.component as u64 + 1, "more winners than components")?;
        let layout = &s.layout;
        for c in 0..s.component {
            for at in layout.start[c]..layout.start[c + 1] {
                s.buffers[0][at] = read_option(r, model, layout.members[at] as usize)?;
            }
            s.finished_cost += component_cost(
                model,
                layout,
                c,
                &s.buffers[0],
                &mut s.pool_usage,
                &mut s.pool_allowance,
            );
        }
        if s.component == components {
            // Before version 7 a finished classic was never encoded (its choices were gathered
            // in the quantum that finished it).
            if r.version() >= 7 {
                let n = s.layout.members.len() as u64;
                let gathered = r.below(n + 1, "a gathering cursor is out of range")? as usize;
                s.gather(gathered);
            }
            return Ok(s);
        }
        let c = s.component;
        let (start, len) = (layout.start[c], layout.len(c));
        let limit = len as u64 + 1;
        let (run, pos) = if r.bool()? {
            let run = r.below(u64::from(layout.runs[c]), "a run index is out of range")? as u32;
            let pos = r.below(limit, "a position is out of range")? as usize;
            s.best_run = r
                .below(u64::from(run) + 1, "the best run is not yet run")?
                .checked_sub(1)
                .map(|b| b as u32);
            for at in start..layout.start[c + 1] {
                s.buffers[0][at] = read_option(r, model, layout.members[at] as usize)?;
            }
            s.best_cost = component_cost(
                model,
                layout,
                c,
                &s.buffers[0],
                &mut s.pool_usage,
                &mut s.pool_allowance,
            );
            s.stage = Stage::Run { run, pos };
            (Some(run), pos)
        } else {
            let pos = r.below(limit, "a position is out of range")? as usize;
            s.stage = Stage::Baseline { pos };
            (None, pos)
        };
        for p in 0..pos {
            let at = start + run.map_or(p, |run| s.layout.visit(c, run, p));
            let i = s.layout.members[at] as usize;
            let k = read_option(r, model, i)?;
            s.place(model, at, k);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::cost;
    use crate::fleet::Fleet;
    use crate::money::Money;
    use crate::optimize::optimize;
    use crate::optimize::tiny::{brute_force, fleet, tiny_fleet, tiny_plan, tiny_sims};
    use crate::random::SplitMix64;

    /// A fleet of `n` SIMs over plans with a pool shared by two plans and three communication
    /// plans, so several groups share one component; two more components stand apart.
    fn mixed_fleet(n: usize, seed: u64) -> Fleet {
        let plans = "S1,1.50,1,0.50,1,false,,0.05\n\
                     P10,3.00,10,0.20,1,true,SHARED,0.05\n\
                     P50,6.00,50,0.20,1,true,SHARED,0.05\n\
                     M200,12.00,200,0.05,1,false,,0.05\n\
                     U,30.00,100000,,,false,,0\n\
                     Q100,8.00,100,0.10,1,true,,0.02\n\
                     R20,2.00,20,1.00,5,true,,0\n";
        let eligibility = "C0,S1\nC0,P10\nC0,P50\nC0,M200\nC0,U\nC0,Q100\n\
                           C1,S1\nC1,P10\nC1,M200\n\
                           C2,P10\nC2,P50\nC2,Q100\n\
                           C3,S1\nC3,M200\nC3,U\n\
                           C4,S1\nC4,R20\n";
        let codes = ["S1", "P10", "P50", "M200", "U", "Q100", "R20"];
        let mut rng = SplitMix64::new(seed);
        let mut sims = String::new();
        for k in 0..n {
            let comm = rng.below(5);
            let plan = codes[rng.below(codes.len() as u64) as usize];
            let micro_mb = match rng.below(10) {
                0..=5 => rng.below(5_000_000),
                6..=8 => rng.between(5_000_000, 80_000_000),
                _ => rng.between(80_000_000, 2_000_000_000),
            };
            let activated = if rng.chance(200) { "2026-10-20" } else { "" };
            let sms = rng.below(20);
            sims.push_str(&format!(
                "{k},C{comm},{plan},{}.{:06},{sms},{activated}\n",
                micro_mb / 1_000_000,
                micro_mb % 1_000_000
            ));
        }
        fleet(plans, &sims, Some(eligibility))
    }

    fn encoded(state: &Classic) -> Vec<u8> {
        let mut w = Writer::new();
        state.encode(&mut w);
        w.finish()
    }

    fn decoded(bytes: &[u8], model: &Model) -> Result<Classic, DecodeError> {
        let mut r = Reader::open(bytes)?;
        let state = Classic::decode(&mut r, model)?;
        r.finish()?;
        Ok(state)
    }

    /// Runs to the end, encoding and decoding after each quantum for which `cut` says so;
    /// returns the final state and how many quanta it took.
    fn run(model: &Model, mut cut: impl FnMut() -> bool) -> (Classic, u64) {
        let mut state = Classic::new(model);
        let mut quanta = 0;
        loop {
            quanta += 1;
            let done = state.quantum(model);
            if cut() {
                let bytes = encoded(&state);
                state = decoded(&bytes, model).expect("a checkpoint of this model decodes");
                assert_eq!(
                    encoded(&state),
                    bytes,
                    "decoding then encoding changes nothing"
                );
            }
            if done {
                return (state, quanta);
            }
        }
    }

    /// The values of a checkpoint body (every field is a varint).
    fn values(bytes: &[u8]) -> Vec<u64> {
        let mut r = Reader::open(bytes).expect("opens");
        let mut out = Vec::new();
        while let Ok(v) = r.u64() {
            out.push(v);
        }
        out
    }

    fn checkpoint(values: &[u64]) -> Vec<u8> {
        let mut w = Writer::new();
        for &v in values {
            w.u64(v);
        }
        w.finish()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn result_is_exact_valid_and_between_the_optimum_and_the_baseline(
            plans in prop::collection::vec(tiny_plan(), 1..=4),
            sims in tiny_sims(),
        ) {
            let f = tiny_fleet(&plans, &sims);
            let model = Model::new(&f);
            let (state, _) = run(&model, || false);
            let baseline = state.baseline_cost().expect("finished");
            let cost = state.best_cost().expect("finished");
            let best = state.into_best(&model).expect("finished");
            prop_assert_eq!(best.cost(&model), cost);
            prop_assert_eq!(cost::bill(&f, &best.plans(&model)).total().micros(), cost);
            prop_assert!(cost >= brute_force(&model));
            prop_assert!(cost <= baseline);
            for (i, plan) in best.plans(&model).iter().enumerate() {
                let sim = &f.sims[i];
                prop_assert!(*plan == sim.current_plan || f.eligible_plans(sim).contains(plan));
            }
        }
    }

    #[test]
    fn sliced_and_resumed_runs_equal_the_uninterrupted_run() {
        for seed in [1, 2, 3] {
            let f = mixed_fleet(2_500, seed);
            let model = Model::new(&f);
            let (straight, quanta) = run(&model, || false);
            assert!(quanta > 10, "the fleet takes many quanta ({quanta})");
            let (every, every_quanta) = run(&model, || true);
            let mut rng = SplitMix64::new(seed);
            let (random, _) = run(&model, || rng.chance(300));
            assert_eq!(every_quanta, quanta);
            let reference = encoded(&straight);
            assert_eq!(encoded(&every), reference);
            assert_eq!(encoded(&random), reference);
            assert_eq!(straight.progress().0, straight.progress().1);
            let cost = straight.best_cost();
            let best = straight.into_best(&model).expect("finished");
            assert_eq!(Some(best.cost(&model)), cost);
            assert_eq!(every.into_best(&model), Some(best.clone()));
            assert_eq!(random.into_best(&model), Some(best));
        }
    }

    #[test]
    fn the_layout_has_shared_components_and_all_four_strategies() {
        let f = mixed_fleet(500, 7);
        let model = Model::new(&f);
        let layout = Layout::new(&model);
        assert!(
            layout.components() >= 2,
            "{} components",
            layout.components()
        );
        assert!(layout.strategies.contains(&4) && layout.strategies.contains(&2));
        assert!(layout
            .sequences
            .iter()
            .all(|s| (1..=SEQUENCES_PER_GROUP).contains(&s.len())));
        // Every SIM is visited once by every run.
        for c in 0..layout.components() {
            for run in 0..layout.runs[c] {
                let mut seen: Vec<usize> = (0..layout.len(c))
                    .map(|p| layout.visit(c, run, p))
                    .collect();
                seen.sort_unstable();
                assert!(seen.iter().enumerate().all(|(k, &p)| k == p));
            }
        }
    }

    #[test]
    fn progress_counts_every_placement() {
        let f = mixed_fleet(300, 4);
        let model = Model::new(&f);
        let mut state = Classic::new(&model);
        let total = state.progress().1;
        let mut last = 0;
        while !state.quantum(&model) {
            let (done, t) = state.progress();
            assert_eq!(t, total);
            assert_eq!(done, last + QUANTUM_SIMS as u64);
            last = done;
        }
        assert_eq!(state.progress(), (total, total));
    }

    #[test]
    fn garbage_and_other_fleets_checkpoints_are_refused_without_panicking() {
        let f = mixed_fleet(300, 5);
        let model = Model::new(&f);
        let mut state = Classic::new(&model);
        for _ in 0..3 {
            assert!(!state.quantum(&model));
        }
        let good = encoded(&state);
        let body = values(&good);
        assert_eq!(values(&checkpoint(&body)), body);

        // Every truncation fails.
        for k in 0..body.len() {
            assert!(
                decoded(&checkpoint(&body[..k]), &model).is_err(),
                "prefix {k}"
            );
        }
        // Trailing values fail.
        let mut longer = body.clone();
        longer.push(0);
        assert!(decoded(&checkpoint(&longer), &model).is_err());

        // Changed values fail or give a state that runs to a consistent end.
        let mut rng = SplitMix64::new(9);
        for k in 0..body.len() {
            for v in [body[k] ^ 1, body[k].wrapping_add(1000), u64::MAX] {
                let mut changed = body.clone();
                changed[k] = v;
                if let Ok(mut s) = decoded(&checkpoint(&changed), &model) {
                    while !s.quantum(&model) {}
                    let cost = s.best_cost();
                    let best = s.into_best(&model).expect("finished");
                    assert_eq!(Some(best.cost(&model)), cost);
                }
            }
        }

        // Random bodies fail.
        for _ in 0..500 {
            let len = rng.below(40) as usize;
            let junk: Vec<u64> = (0..len)
                .map(|_| match rng.below(3) {
                    0 => rng.below(4),
                    1 => rng.below(1 << 20),
                    _ => rng.next_u64(),
                })
                .collect();
            assert!(decoded(&checkpoint(&junk), &model).is_err());
        }
        assert_eq!(
            decoded(b"not a checkpoint", &model).err(),
            Some(DecodeError::BadMagic)
        );

        // Another fleet's checkpoint fails, at every stage of a run.
        let other = Model::new(&mixed_fleet(301, 5));
        let same_size = Model::new(&mixed_fleet(300, 6));
        assert_eq!(decoded(&good, &other).err(), Some(OTHER_FLEET));
        let mut state = Classic::new(&model);
        loop {
            let bytes = encoded(&state);
            assert!(decoded(&bytes, &other).is_err());
            // The same shape may pass the fingerprint; it must still never panic.
            let _ = decoded(&bytes, &same_size);
            if state.quantum(&model) {
                break;
            }
        }
        let tiny = fleet("A,1,1,1,1,false,,0\n", "1,,A,0,0\n", None);
        assert!(decoded(&good, &Model::new(&tiny)).is_err());
    }

    #[test]
    fn contiguous_usage_ranges_example() {
        // Usages 0, 50, 200 MB; A: $10 with 100 MB, B: $6 with 50 MB, both pooled per plan,
        // $1/MB. The optimum puts {0, 200} on A and {50} on B: $26. The baseline puts everyone
        // on B (it covers 0 and 50; 200 fits nothing and B is cheapest): $18 + $100 overage.
        // The sequence [A, B] visited largest first finds the optimum: 200 fits nothing and
        // costs least on A, 50 overflows A's pool and fits B, 0 fits A's pool.
        let f = fleet(
            "A,10,100,1,1,true,,0\nB,6,50,1,1,true,,0\n",
            "1,,B,0,0\n2,,B,50,0\n3,,B,200,0\n",
            None,
        );
        let model = Model::new(&f);
        let (state, _) = run(&model, || false);
        assert_eq!(state.baseline_cost(), Some(118_000_000));
        assert_eq!(state.best_cost(), Some(26_000_000));
        assert_eq!(state.won_by_runs(), 1);
        let best = state.into_best(&model).expect("finished");
        assert_eq!(best.cost(&model), brute_force(&model));
        assert!(optimize(&f).cost.micros() <= best.cost(&model));
    }

    #[test]
    fn a_pool_of_the_lightest_and_the_heaviest_is_out_of_reach() {
        // Usages 0, 80, 180 MB; S: $2 with 100 MB per SIM, P: $6 with 90 MB pooled; $1/MB.
        // The optimum, $14, pools 0 and 180 MB (180 MB for 180 MB) and leaves 80 MB on S. Runs
        // visit SIMs by usage, so whatever fits the pool is a run of neighbours: the best run
        // puts all three in it, smallest first ($18). Local search from the prices finds $14.
        let f = fleet(
            "S,2,100,1,1,false,,0\nP,6,90,1,1,true,,0\n",
            "1,,S,0,0\n2,,S,80,0\n3,,S,180,0\n",
            None,
        );
        let model = Model::new(&f);
        let (state, _) = run(&model, || false);
        // Baseline: 0 and 80 MB on S ($2 each, covered); 180 MB is covered by nothing and P has
        // the lower fixed cost: $6 + $90 pool overage.
        assert_eq!(state.baseline_cost(), Some(100_000_000));
        let cost = state.best_cost().map(Money::from_micros);
        assert_eq!(cost, Some(Money::parse("18").unwrap_or_default()));
        let optimum = Money::parse("14").unwrap_or_default();
        assert_eq!(brute_force(&model), optimum.micros());
        assert_eq!(optimize(&f).cost, optimum);
    }
}
