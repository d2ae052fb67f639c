//! Branch and bound on small fleets: where the Lagrangian bound leaves a gap that is mostly
//! integrality (a few hundred SIMs on many plans: the LP relaxation splits a SIM or two per
//! pool, and no price closes that), search the assignments themselves.
//!
//! Without constraints the fleet falls apart into *components*: SIMs joined by the pools (with
//! an overage price) they may use. Each component is optimized on its own — its bill is its
//! SIMs' fixed lines and its pools' overage lines — and the fleet's bound is the sum of the
//! components' bounds. Per component, best-first branch and bound:
//!
//! * a node fixes some SIMs to an option and forbids others; its bound is the Lagrangian dual
//!   over the options left, `max_λ Σ_i min_o (fixed_io + λ_P(o)·(u_i − a_o)) − ε`, maximised
//!   pool by pool with an exact cutting-plane line search (the dual is concave and piecewise
//!   linear in each price), starting from the parent's prices — any prices give a valid bound;
//! * at each node the Lagrangian choices at the ends of each price's last bracket (one side
//!   over the pool's allowance, the other under), improved by single moves within the node's
//!   options, may give a better incumbent;
//! * it branches on the SIM whose best option at the node's prices is nearest a tie with its
//!   second best (the SIM the relaxation splits): one child fixes it to that option, the other
//!   forbids it;
//! * the open node of lowest bound is expanded next, one node per quantum, until none is left
//!   below the incumbent, the component is within 1/10,000 of its bound, or its node budget is
//!   spent. The component's bound is then the least of the incumbent and the open nodes' bounds.
//!
//! The stage is deterministic and its state (component in hand, open nodes, incumbent, the
//! bounds of the components done) is plain data in the checkpoint; the components are derived
//! from the model again on decoding.

use super::bound::{max_prices, rounding_slack_of, SCALE};
use super::checkpoint::{DecodeError, Reader, Writer};
use super::components::Components;
use super::decompose::{Decompose, Pricing};
use super::model::{Assignment, Model, NO_POOL};
use super::phase::QUANTUM_WORK;
use super::search::{decode_assignment, encode_assignment};

/// "No pool" within a component.
pub(super) const NONE: u32 = u32::MAX;

/// Line-search steps per price per pass at most.
const LINE_STEPS: u32 = 6;
/// Passes over a component's prices per node at most (one where a component has one pool).
const PRICE_PASSES: u32 = 1;
/// Rounds of single moves per primal candidate at most.
const MOVE_ROUNDS: u32 = 8;

/// How much work a node may take: options evaluated (each option of each SIM once per dual
/// evaluation or round of moves). A node's evaluations at most `2 + pools × passes × steps`, so
/// a component is searched only where that stays near a quantum's work.
const NODE_WORK: u64 = 2 * QUANTUM_WORK;

/// The fleets searched at all: options of all SIMs at most this many (a few hundred SIMs on
/// 50 plans, a couple of thousand on a dozen), so finding the components takes well under a
/// quantum's time.
const MAX_OPTIONS: u64 = 32_768;

/// Nodes a component may expand: about a few hundred milliseconds over a fleet of a few hundred
/// SIMs (a node of a hundred SIMs on a dozen plans takes some tens of microseconds).
const MAX_NODES: u64 = 300;

/// One option of a component's SIM.
#[derive(Debug, Clone, Copy)]
pub(super) struct Opt {
    /// Fixed cost (micros), as [`Model::fixed`].
    pub fixed: i64,
    /// The pool within the component, or [`NONE`].
    pub pool: u32,
    /// Allowance brought to the pool (bytes).
    pub allowance: u64,
    /// Index within the SIM's class.
    option: u32,
}

/// SIMs joined by the priced pools they may use.
#[derive(Debug, Clone)]
pub(super) struct Component {
    /// The model's SIM indices.
    sims: Vec<u32>,
    /// Where each SIM's options start in `opts` (and, last, their count).
    start: Vec<u32>,
    pub opts: Vec<Opt>,
    /// The model's pool of each component pool.
    pub pools: Vec<u32>,
    /// The highest useful price of each component pool.
    pub max: Vec<i128>,
    /// What rounding overage lines can take off the bound (micros).
    slack: i128,
    /// What its pool decomposition reads (derived from the rest).
    pub pricing: Pricing,
}

impl Component {
    pub fn n(&self) -> usize {
        self.sims.len()
    }

    pub fn options(&self, k: usize) -> std::ops::Range<usize> {
        self.start[k] as usize..self.start[k + 1] as usize
    }

    pub fn usage(&self, model: &Model, k: usize) -> u64 {
        model.sims[self.sims[k] as usize].usage
    }

    /// Evaluations of the dual per node at most.
    fn evaluations(&self) -> u64 {
        2 + self.pools.len() as u64 * u64::from(PRICE_PASSES * LINE_STEPS)
    }

    /// The bill of choices (one option index into `opts` per SIM), micros.
    pub fn cost(&self, model: &Model, choice: &[u32]) -> i64 {
        let mut usage = vec![0u64; self.pools.len()];
        let mut allowance = vec![0u64; self.pools.len()];
        let mut total = 0;
        for (k, &c) in choice.iter().enumerate() {
            let o = self.opts[c as usize];
            total += o.fixed;
            if o.pool != NONE {
                usage[o.pool as usize] += self.usage(model, k);
                allowance[o.pool as usize] += o.allowance;
            }
        }
        total
            + (0..self.pools.len())
                .map(|p| model.pool_charge(self.pools[p], usage[p], allowance[p]))
                .sum::<i64>()
    }
}

/// The fleet's components, in order of their first SIM; `None` when the fleet is not one the
/// stage searches (constraints, too many options).
pub(super) fn components(model: &Model) -> Option<Vec<Component>> {
    if model.change_cost != 0 || model.limits_changes() {
        return None;
    }
    let mut total = 0;
    for i in 0..model.sims.len() {
        total += model.options_of(i).len() as u64;
        if total > MAX_OPTIONS {
            return None;
        }
    }
    let max = max_prices(model);
    // Pools that may bill overage (an option of another pool costs its fixed lines only).
    let priced = |pool: u32| {
        pool != NO_POOL && model.rules.bills_overage && model.pool_terms[pool as usize].is_some()
    };
    let n = model.sims.len();
    let mut joined = Components::new(model.pool_terms.len());
    for i in 0..n {
        joined.add(
            model
                .options_of(i)
                .iter()
                .map(|o| o.pool)
                .filter(|&p| priced(p)),
        );
    }
    let labels = joined.finish();
    // SIMs without a priced option are joined by nothing: one component takes them all.
    let free = labels.count;
    let mut index_of_label: Vec<u32> = vec![NONE; free + 1];
    let mut out: Vec<Component> = Vec::new();
    let mut local_pool: Vec<u32> = vec![NONE; model.pool_terms.len()];
    for i in 0..n {
        let r = if model.options_of(i).iter().any(|o| priced(o.pool)) {
            labels.of_item[i] as usize
        } else {
            free
        };
        let c = if index_of_label[r] == NONE {
            index_of_label[r] = out.len() as u32;
            out.push(Component {
                sims: Vec::new(),
                start: vec![0],
                opts: Vec::new(),
                pools: Vec::new(),
                max: Vec::new(),
                slack: 0,
                pricing: Pricing::default(),
            });
            out.len() - 1
        } else {
            index_of_label[r] as usize
        };
        let comp = &mut out[c];
        comp.sims.push(i as u32);
        for (k, o) in model.options_of(i).iter().enumerate() {
            let pool = if priced(o.pool) {
                let p = o.pool as usize;
                if local_pool[p] == NONE {
                    local_pool[p] = comp.pools.len() as u32;
                    comp.pools.push(o.pool);
                    comp.max.push(max[p]);
                    comp.slack += rounding_slack_of(model, o.pool);
                }
                local_pool[p]
            } else {
                NONE
            };
            comp.opts.push(Opt {
                fixed: model.fixed(i, o),
                pool,
                allowance: if pool == NONE { 0 } else { o.allowance },
                option: k as u32,
            });
        }
        comp.start.push(comp.opts.len() as u32);
    }
    for c in &mut out {
        c.pricing = Pricing::new(model, c);
    }
    Some(out)
}

/// Whether the stage searches a fleet of these components: some pool billing overage.
fn searched(cs: &[Component]) -> bool {
    cs.iter().any(|c| !c.pools.is_empty())
}

/// Whether a component's nodes are searched (after its decomposition): a node within
/// [`NODE_WORK`].
fn branches(c: &Component) -> bool {
    c.opts.len() as u64 * c.evaluations() <= NODE_WORK
}

/// A node: fixings from the root, and a lower bound on every assignment below it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    /// Its parent's bound (before it is evaluated), micros.
    bound: i64,
    /// Order of creation (ties of bounds go to the older node).
    id: u64,
    /// Prices to start the dual from (its parent's).
    prices: Vec<i128>,
    /// `(SIM, option, take)`: SIM (component index) takes the option (index into `opts`), or
    /// may not.
    fixings: Vec<(u32, u32, bool)>,
}

/// The dual at fixed prices: its value (scaled, before the slack) and, per pool, its
/// subgradient `Σ (usage − allowance)` over the SIMs whose cheapest option is in the pool (each
/// SIM's cheapest option goes to [`evaluate`]'s `choice`).
struct Dual {
    value: i128,
    slopes: Vec<i128>,
}

/// The branch-and-bound stage.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    components: Vec<Component>,
    /// The component in hand.
    current: usize,
    /// Its open nodes.
    open: Vec<Node>,
    /// Its incumbent: an option (index into `opts`) per SIM, and its bill.
    incumbent: Vec<u32>,
    incumbent_cost: i64,
    /// Nodes created in this component.
    created: u64,
    /// Nodes expanded in this component.
    expanded: u64,
    /// The bounds of the components done, added up (micros).
    bound_done: i64,
    /// The best assignment, improved component by component.
    pub assignment: Assignment,
    /// The component in hand's pool decomposition, while it climbs (before its nodes).
    decompose: Option<Decompose>,
    /// The bound it reached (micros; `i64::MIN` when none).
    decomposed: i64,
}

impl Branch {
    /// Starts from the best assignment so far, where the stage searches this fleet: no
    /// constraints, few options in all, some pool billing overage, and every component's node
    /// within [`NODE_WORK`]; `None` elsewhere.
    pub fn start(model: &Model, best: &Assignment) -> Option<Branch> {
        let components = components(model).filter(|cs| searched(cs))?;
        Some(Branch::of(model, components, best.clone()))
    }

    /// Starts on `components` (the model's) from `assignment`.
    fn of(model: &Model, components: Vec<Component>, assignment: Assignment) -> Branch {
        let mut b = Branch {
            components,
            current: 0,
            open: Vec::new(),
            incumbent: Vec::new(),
            incumbent_cost: 0,
            created: 0,
            expanded: 0,
            bound_done: 0,
            assignment,
            decompose: None,
            decomposed: i64::MIN,
        };
        b.start_component(model);
        b
    }

    /// The bound on the whole fleet, once every component is done.
    pub fn bound(&self) -> Option<i64> {
        (self.current >= self.components.len()).then_some(self.bound_done)
    }

    pub fn done_fraction(&self) -> f64 {
        self.current as f64 / self.components.len().max(1) as f64
    }

    fn start_component(&mut self, model: &Model) {
        self.open.clear();
        self.created = 0;
        self.expanded = 0;
        let Some(c) = self.components.get(self.current) else {
            return;
        };
        self.incumbent = (0..c.n())
            .map(|k| {
                let i = c.sims[k] as usize;
                c.start[k] + self.assignment.choice[i]
            })
            .collect();
        self.incumbent_cost = c.cost(model, &self.incumbent);
        if branches(c) {
            self.open.push(Node {
                bound: i64::MIN,
                id: 0,
                prices: c.max.iter().map(|m| m / 2).collect(),
                fixings: Vec::new(),
            });
            self.created = 1;
        }
        self.decomposed = i64::MIN;
        self.decompose = (!c.pools.is_empty()).then(|| {
            let all = vec![true; c.opts.len()];
            let (_, prices, _) = solve_dual(model, c, &all, c.max.iter().map(|m| m / 2).collect());
            Decompose::new(model, c, &prices)
        });
    }

    /// Ends the component in hand: its incumbent into the assignment, its bound added.
    fn finish_component(&mut self, model: &Model) {
        let c = &self.components[self.current];
        let searched = if branches(c) {
            let open_min = self.open.iter().map(|n| n.bound).min().unwrap_or(i64::MAX);
            open_min.min(self.incumbent_cost)
        } else {
            i64::MIN // no node was searched
        };
        // Both are valid bounds: the higher is kept.
        self.bound_done += searched.max(self.decomposed);
        for (k, &o) in self.incumbent.iter().enumerate() {
            let i = c.sims[k] as usize;
            self.assignment.apply(model, i, c.opts[o as usize].option);
        }
        self.current += 1;
        self.start_component(model);
    }

    /// Whether the component in hand is done: no node left that could improve enough.
    fn component_done(&self) -> bool {
        let open_min = self.open.iter().map(|n| n.bound).min().unwrap_or(i64::MAX);
        let enough = self.incumbent_cost - self.incumbent_cost.max(0) / 10_000;
        self.open.is_empty()
            || open_min >= enough
            || self.decomposed >= enough
            || self.expanded >= MAX_NODES
    }

    /// One node: the open one of lowest bound evaluated, and branched on unless pruned.
    pub fn quantum(&mut self, model: &Model) -> bool {
        if self.current >= self.components.len() {
            return true;
        }
        if let Some(d) = &mut self.decompose {
            let c = &self.components[self.current];
            if d.quantum(model, c, &mut self.incumbent, &mut self.incumbent_cost) {
                self.decomposed = d.best;
                self.decompose = None;
            }
            return false;
        }
        if self.component_done() {
            self.finish_component(model);
            return self.current >= self.components.len();
        }
        let at = (0..self.open.len())
            .min_by_key(|&k| (self.open[k].bound, self.open[k].id))
            .expect("an open node");
        let node = self.open.swap_remove(at);
        self.expanded += 1;
        let c = &self.components[self.current];
        let Some(allowed) = allowed(c, &node.fixings) else {
            return false; // no option left for some SIM
        };
        let (bound, prices, candidates) = solve_dual(model, c, &allowed, node.prices);
        let bound = bound.max(node.bound);
        for mut choice in candidates {
            improve(model, c, &allowed, &mut choice);
            let cost = c.cost(model, &choice);
            if cost < self.incumbent_cost {
                self.incumbent_cost = cost;
                self.incumbent = choice;
            }
        }
        if bound >= self.incumbent_cost {
            return false;
        }
        let Some((k, o)) = branching(model, c, &allowed, &prices) else {
            return false; // every SIM fixed: its one assignment is a candidate above
        };
        for take in [true, false] {
            let mut fixings = node.fixings.clone();
            fixings.push((k, o, take));
            self.open.push(Node {
                bound,
                id: self.created,
                prices: prices.clone(),
                fixings,
            });
            self.created += 1;
        }
        false
    }

    pub fn encode(&self, w: &mut Writer) {
        self.encode_search(w);
        w.i64(self.decomposed);
        w.bool(self.decompose.is_some());
        if let Some(d) = &self.decompose {
            d.encode(w);
        }
    }

    /// What version 10 wrote: all but the pool decomposition.
    fn encode_search(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        w.u64(self.current as u64);
        w.i64(self.bound_done);
        w.u64(self.created);
        w.u64(self.expanded);
        w.u64s(self.incumbent.iter().map(|&o| u64::from(o)));
        w.u64(self.open.len() as u64);
        for n in &self.open {
            w.i64(n.bound);
            w.u64(n.id);
            for p in &n.prices {
                w.i128(*p);
            }
            w.u64(n.fixings.len() as u64);
            for &(k, o, take) in &n.fixings {
                w.u64(u64::from(k));
                w.u64(u64::from(o));
                w.bool(take);
            }
        }
    }

    /// Reads a state written by [`Branch::encode`]; `decomposing`: one of checkpoint version
    /// 11 or later (before, the stage had no pool decomposition: the component in hand goes on
    /// without one, the next ones have theirs).
    pub fn decode(
        r: &mut Reader<'_>,
        model: &Model,
        decomposing: bool,
    ) -> Result<Self, DecodeError> {
        let assignment = decode_assignment(r, model)?;
        let components =
            components(model).ok_or(DecodeError::Invalid("branch and bound on this input"))?;
        let current = r.below(components.len() as u64 + 1, "a component is out of range")? as usize;
        let bound_done = r.i64()?;
        let created = r.u64()?;
        let expanded = r.u64()?;
        let (n, opts) = components
            .get(current)
            .map_or((0, 0), |c| (c.n(), c.opts.len()));
        let incumbent = r.u64s(n as u64)?;
        if incumbent.len() != n {
            return Err(DecodeError::Invalid("an incumbent is not of its component"));
        }
        let mut choice = Vec::with_capacity(n);
        for (k, o) in incumbent.into_iter().enumerate() {
            let c = &components[current];
            if !c.options(k).contains(&(o as usize)) {
                return Err(DecodeError::Invalid(
                    "an incumbent names an option out of range",
                ));
            }
            choice.push(o as u32);
        }
        let count = r.below(2 * MAX_NODES + 2, "too many open nodes")?;
        let mut open = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let bound = r.i64()?;
            let id = r.u64()?;
            let pools = components.get(current).map_or(0, |c| c.pools.len());
            let mut prices = Vec::with_capacity(pools);
            for _ in 0..pools {
                prices.push(r.i128()?);
            }
            let depth = r.below(opts as u64 + 1, "a node is too deep")?;
            let mut fixings = Vec::with_capacity(depth as usize);
            for _ in 0..depth {
                let k = r.below(n as u64, "a fixing names a SIM out of range")? as u32;
                let o = r.below(opts as u64, "a fixing names an option out of range")? as u32;
                fixings.push((k, o, r.bool()?));
            }
            open.push(Node {
                bound,
                id,
                prices,
                fixings,
            });
        }
        let incumbent_cost = components
            .get(current)
            .map_or(0, |c| c.cost(model, &choice));
        let (mut decomposed, mut decompose) = (i64::MIN, None);
        if decomposing {
            decomposed = r.i64()?;
            if r.bool()? {
                let c = components
                    .get(current)
                    .filter(|c| !c.pools.is_empty())
                    .ok_or(DecodeError::Invalid("a decomposition without pools"))?;
                decompose = Some(Decompose::decode(r, c)?);
            }
        }
        Ok(Branch {
            components,
            current,
            open,
            incumbent: choice,
            incumbent_cost,
            created,
            expanded,
            bound_done,
            assignment,
            decompose,
            decomposed,
        })
    }
}

/// The options a node leaves each SIM (a flag per entry of `opts`), or `None` when it leaves
/// some SIM none.
fn allowed(c: &Component, fixings: &[(u32, u32, bool)]) -> Option<Vec<bool>> {
    let mut allowed = vec![true; c.opts.len()];
    for &(k, o, take) in fixings {
        if take {
            for x in c.options(k as usize) {
                allowed[x] = x == o as usize && allowed[x];
            }
        } else {
            allowed[o as usize] = false;
        }
    }
    (0..c.n())
        .all(|k| c.options(k).any(|x| allowed[x]))
        .then_some(allowed)
}

/// The scaled value of option `x` of SIM `k` at `prices`.
#[inline]
pub(super) fn value(model: &Model, c: &Component, k: usize, x: usize, prices: &[i128]) -> i128 {
    let o = c.opts[x];
    let v = i128::from(o.fixed) * SCALE;
    if o.pool == NONE {
        v
    } else {
        v + prices[o.pool as usize] * (i128::from(c.usage(model, k)) - i128::from(o.allowance))
    }
}

/// The dual at `prices`, and each SIM's cheapest option (ties to the smaller excess, then the
/// first).
fn evaluate(
    model: &Model,
    c: &Component,
    allowed: &[bool],
    prices: &[i128],
    choice: &mut Vec<u32>,
) -> Dual {
    let mut value_sum = 0i128;
    let mut slopes = vec![0i128; c.pools.len()];
    choice.clear();
    for k in 0..c.n() {
        let usage = i128::from(c.usage(model, k));
        let mut best: Option<(i128, i128, usize)> = None;
        for x in c.options(k) {
            if !allowed[x] {
                continue;
            }
            let o = c.opts[x];
            let excess = if o.pool == NONE {
                0
            } else {
                usage - i128::from(o.allowance)
            };
            let v = value(model, c, k, x, prices);
            if best.is_none_or(|(bv, be, _)| (v, excess) < (bv, be)) {
                best = Some((v, excess, x));
            }
        }
        let (v, excess, x) = best.expect("a node leaves every SIM an option");
        value_sum += v;
        let pool = c.opts[x].pool;
        if pool != NONE {
            slopes[pool as usize] += excess;
        }
        choice.push(x as u32);
    }
    Dual {
        value: value_sum,
        slopes,
    }
}

/// The bound in micros of a scaled dual value (rounded down, less the slack).
fn bound_of(c: &Component, value: i128) -> i64 {
    (value.div_euclid(SCALE) - c.slack).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Maximises the node's dual pool by pool from `prices`: a cutting-plane line search per price
/// (the dual is concave and piecewise linear in it: the tangents at the ends of a bracket meet
/// above the maximum). Returns the best bound, its prices, and the primal candidates: the
/// Lagrangian choices at the best prices and at the last bracket's ends.
pub(super) fn solve_dual(
    model: &Model,
    c: &Component,
    allowed: &[bool],
    mut prices: Vec<i128>,
) -> (i64, Vec<i128>, Vec<Vec<u32>>) {
    let mut choice = Vec::with_capacity(c.n());
    let mut best = evaluate(model, c, allowed, &prices, &mut choice);
    let mut best_choice = choice.clone();
    let mut others: Vec<Vec<u32>> = Vec::new();
    let passes = if c.pools.len() == 1 { 1 } else { PRICE_PASSES };
    for _ in 0..passes {
        let before = best.value;
        for p in 0..c.pools.len() {
            let max = c.max[p];
            // Bracket ends: (price, value, slope).
            let at = |price: i128, choice: &mut Vec<u32>, prices: &mut Vec<i128>| {
                prices[p] = price;
                let d = evaluate(model, c, allowed, prices, choice);
                (price, d.value, d.slopes[p])
            };
            let mut scratch = prices.clone();
            let (lo_choice, hi_choice);
            let mut lo = at(0, &mut choice, &mut scratch);
            let mut lo_c = choice.clone();
            if lo.2 <= 0 {
                // The price is best at zero.
                if lo.1 > best.value {
                    best.value = lo.1;
                    prices[p] = 0;
                    best_choice = lo_c;
                }
                continue;
            }
            let mut hi = at(max, &mut choice, &mut scratch);
            let mut hi_c = choice.clone();
            if hi.2 >= 0 {
                if hi.1 > best.value {
                    best.value = hi.1;
                    prices[p] = max;
                    best_choice = hi_c;
                }
                continue;
            }
            for _ in 0..LINE_STEPS {
                // Where the tangents at the ends meet.
                let (l, h) = (lo, hi);
                if h.0 - l.0 <= 1 {
                    break;
                }
                let num = h.1 - l.1 + l.2 * l.0 - h.2 * h.0;
                let den = l.2 - h.2;
                let mid = num.div_euclid(den).clamp(l.0 + 1, h.0 - 1);
                let top = l.1 + l.2 * (mid - l.0);
                let m = at(mid, &mut choice, &mut scratch);
                if m.2 > 0 {
                    lo = m;
                    lo_c = choice.clone();
                } else {
                    hi = m;
                    hi_c = choice.clone();
                }
                // The tangents' meeting point is at most one step above what was found.
                if top - m.1 <= SCALE {
                    break;
                }
            }
            (lo_choice, hi_choice) = (lo_c, hi_c);
            let (price, value, choice_at) = if lo.1 >= hi.1 {
                (lo.0, lo.1, &lo_choice)
            } else {
                (hi.0, hi.1, &hi_choice)
            };
            if value > best.value {
                best.value = value;
                prices[p] = price;
                best_choice = choice_at.clone();
            }
            others.push(lo_choice);
            others.push(hi_choice);
        }
        if best.value - before <= SCALE {
            break;
        }
    }
    // The last pool's bracket ends, the best prices' choices.
    let keep = others.len().saturating_sub(2);
    let mut candidates = others.split_off(keep);
    candidates.push(best_choice);
    (bound_of(c, best.value), prices, candidates)
}

/// Single moves within the node's options while one lowers the bill (exact pool lines).
pub(super) fn improve(model: &Model, c: &Component, allowed: &[bool], choice: &mut [u32]) {
    let pools = c.pools.len();
    let (mut usage, mut allowance) = (vec![0u64; pools], vec![0u64; pools]);
    for (k, &x) in choice.iter().enumerate() {
        let o = c.opts[x as usize];
        if o.pool != NONE {
            usage[o.pool as usize] += c.usage(model, k);
            allowance[o.pool as usize] += o.allowance;
        }
    }
    let charge = |p: u32, u: u64, a: u64| model.pool_charge(c.pools[p as usize], u, a);
    for _ in 0..MOVE_ROUNDS {
        let mut moved = false;
        for (k, slot) in choice.iter_mut().enumerate() {
            let u = c.usage(model, k);
            let a = c.opts[*slot as usize];
            let mut best = (0i64, *slot as usize);
            for x in c.options(k) {
                if !allowed[x] || x == *slot as usize {
                    continue;
                }
                let b = c.opts[x];
                let mut d = b.fixed - a.fixed;
                if a.pool != NONE && a.pool == b.pool {
                    let p = a.pool as usize;
                    d += charge(a.pool, usage[p], allowance[p] - a.allowance + b.allowance)
                        - charge(a.pool, usage[p], allowance[p]);
                } else {
                    if a.pool != NONE {
                        let p = a.pool as usize;
                        d += charge(a.pool, usage[p] - u, allowance[p] - a.allowance)
                            - charge(a.pool, usage[p], allowance[p]);
                    }
                    if b.pool != NONE {
                        let p = b.pool as usize;
                        d += charge(b.pool, usage[p] + u, allowance[p] + b.allowance)
                            - charge(b.pool, usage[p], allowance[p]);
                    }
                }
                if d < best.0 {
                    best = (d, x);
                }
            }
            if best.1 != *slot as usize {
                let b = c.opts[best.1];
                if a.pool != NONE {
                    usage[a.pool as usize] -= u;
                    allowance[a.pool as usize] -= a.allowance;
                }
                if b.pool != NONE {
                    usage[b.pool as usize] += u;
                    allowance[b.pool as usize] += b.allowance;
                }
                *slot = best.1 as u32;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

/// The SIM to branch on and its option: among SIMs with more than one option left whose
/// cheapest or second cheapest option at `prices` is pooled, the one whose two are nearest a
/// tie (then the heavier, then the first).
fn branching(
    model: &Model,
    c: &Component,
    allowed: &[bool],
    prices: &[i128],
) -> Option<(u32, u32)> {
    // (regret, heavier first, SIM) and the option.
    type Key = (i128, std::cmp::Reverse<u64>, usize);
    let mut pick: Option<(Key, u32)> = None;
    for k in 0..c.n() {
        let mut first: Option<(i128, usize)> = None;
        let mut second: Option<(i128, usize)> = None;
        let mut pooled = false;
        for x in c.options(k) {
            if !allowed[x] {
                continue;
            }
            pooled |= c.opts[x].pool != NONE;
            let v = value(model, c, k, x, prices);
            if first.is_none_or(|(f, _)| v < f) {
                second = first;
                first = Some((v, x));
            } else if second.is_none_or(|(s, _)| v < s) {
                second = Some((v, x));
            }
        }
        let (Some((v1, x1)), Some((v2, _))) = (first, second) else {
            continue;
        };
        if !pooled {
            continue;
        }
        let key = (v2 - v1, std::cmp::Reverse(c.usage(model, k)), k);
        if pick.is_none_or(|(best, _)| key < best) {
            pick = Some((key, x1 as u32));
        }
    }
    pick.map(|((_, _, k), x)| (k as u32, x))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::tiny::{brute_force, tiny_fleet, tiny_plan, tiny_sims};
    use super::*;

    /// Runs the stage to its end from `start`, encoding and decoding it between quanta.
    fn search(model: &Model, start: Assignment) -> Branch {
        let mut b = Branch::of(model, components(model).expect("searchable"), start);
        while !b.quantum(model) {
            let mut w = Writer::new();
            b.encode(&mut w);
            let bytes = w.finish();
            let mut r = Reader::open(&bytes).expect("opens");
            b = Branch::decode(&mut r, model, true).expect("decodes");
            r.finish().expect("read to the end");
        }
        b
    }

    #[test]
    fn a_version_10_state_goes_on_without_the_decomposition_of_its_component() {
        let f = super::super::tests::synthetic_fleet_of(200, 7, 4, 12);
        let model = Model::new(&f);
        let b = Branch::start(&model, &model.current()).expect("searched");
        assert!(b.decompose.is_some());
        let mut w = Writer::new();
        b.encode_search(&mut w);
        let bytes = w.finish();
        let mut r = Reader::open(&bytes).expect("opens");
        let mut old = Branch::decode(&mut r, &model, false).expect("decodes");
        r.finish().expect("read to the end");
        assert!(old.decompose.is_none());
        assert_eq!(old.decomposed, i64::MIN);
        // It searches its component's nodes, then decomposes the next.
        while old.current == 0 {
            old.quantum(&model);
        }
        assert!(old.decompose.is_some());
        while !old.quantum(&model) {}
        assert!(old.bound().is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn bound_below_optimum_and_incumbent_never_worse(
            plans in prop::collection::vec(tiny_plan(), 1..=4),
            sims in tiny_sims(),
        ) {
            let f = tiny_fleet(&plans, &sims);
            let model = Model::new(&f);
            prop_assume!(components(&model).is_some());
            let optimum = brute_force(&model);
            let start = model.current();
            let b = search(&model, start.clone());
            let bound = b.bound().expect("a finished search has a bound");
            let cost = b.assignment.cost(&model);
            prop_assert!(bound <= optimum, "bound {bound} > optimum {optimum}");
            prop_assert!(cost >= optimum);
            prop_assert!(cost <= start.cost(&model));
            prop_assert_eq!(Assignment::new(&model, b.assignment.choice.clone()), b.assignment.clone());
            // Tiny fleets are searched to the end within the node budget: solved exactly.
            prop_assert_eq!(cost, optimum);
        }
    }
}
