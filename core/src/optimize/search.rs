//! Exact local search as resumable phases: single moves, swaps and ejections that lower the
//! objective (the bill plus any change costs), costed with the model's O(1) deltas.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::{Assignment, Model, NO_POOL};
use super::phase::{sims_quantum_end, Phase, QUANTUM_SIMS, QUANTUM_WORK};

/// Writes an assignment: one option index per SIM (the pool totals are derived on decode).
pub(crate) fn encode_assignment(a: &Assignment, w: &mut Writer) {
    w.u64s(a.choice.iter().map(|c| u64::from(*c)));
}

/// Reads an assignment of `model` written by [`encode_assignment`].
pub(crate) fn decode_assignment(
    r: &mut Reader<'_>,
    model: &Model,
) -> Result<Assignment, DecodeError> {
    Ok(Assignment::new(model, decode_choices(r, model)?))
}

/// Reads the choices of an assignment of `model` written by [`encode_assignment`] (checked
/// against the SIMs' options), without adding up its totals.
pub(crate) fn decode_choices(r: &mut Reader<'_>, model: &Model) -> Result<Vec<u32>, DecodeError> {
    let n = model.sims.len();
    let choice = r.u64s(n as u64)?;
    if choice.len() != n {
        return Err(DecodeError::Invalid(
            "the assignment is not one of this fleet",
        ));
    }
    let mut out = Vec::with_capacity(n);
    for (i, c) in choice.into_iter().enumerate() {
        if c >= model.options_of(i).len() as u64 {
            return Err(DecodeError::Invalid(
                "an assignment names an option the SIM lacks",
            ));
        }
        out.push(c as u32);
    }
    Ok(out)
}

/// Single moves: each SIM to its best option while that lowers the bill, pass after pass, until
/// a pass changes nothing or `max_passes` passes ran.
///
/// A SIM is re-examined only when a pool among its options changed since it was last examined:
/// otherwise it still has no improving move (it had none, or it just made its best one, after
/// which none is left). Skipping it changes nothing, so this bookkeeping is not part of the
/// checkpoint: a decoded descent examines every SIM once more and reaches the same result.
#[derive(Debug, Clone)]
pub(crate) struct Descent {
    pub assignment: Assignment,
    max_passes: u32,
    pass: u32,
    next: usize,
    moved_this_pass: bool,
    skip: Staleness,
}

/// When each SIM was last examined and each pool last changed, on one clock; with a limit on
/// changes, also when a SIM last went back to its plan (a SIM held at its plan by the limit
/// may move again after that).
#[derive(Debug, Clone)]
struct Staleness {
    clock: u32,
    examined_at: Vec<u32>,
    pool_changed_at: Vec<u32>,
    change_freed_at: u32,
}

impl Staleness {
    fn new(model: &Model) -> Self {
        Staleness {
            clock: 1,
            examined_at: vec![0; model.sims.len()],
            pool_changed_at: vec![0; model.pool_terms.len()],
            change_freed_at: 0,
        }
    }

    /// Whether SIM `i` may have an improving move.
    fn may_move(&self, model: &Model, i: usize) -> bool {
        let seen = self.examined_at[i];
        seen == 0
            || self.change_freed_at > seen
            || model
                .lagrangian()
                .pool_ids(model.sim(i).class)
                .any(|p| self.pool_changed_at[p as usize] > seen)
    }

    /// Records that SIM `i` moved between options `from` and `to`, then that it was examined.
    fn record(&mut self, model: &Model, i: usize, moved: Option<(u32, u32)>) {
        if let Some((from, to)) = moved {
            self.clock += 1;
            let options = model.options_of(i);
            for o in [from, to] {
                let pool = options[o as usize].pool;
                if pool != NO_POOL {
                    self.pool_changed_at[pool as usize] = self.clock;
                }
            }
            if model.limits_changes() && to == model.sim(i).current {
                self.change_freed_at = self.clock;
            }
        }
        self.examined_at[i] = self.clock;
    }
}

impl Descent {
    pub fn new(model: &Model, assignment: Assignment, max_passes: u32) -> Self {
        Descent {
            assignment,
            max_passes,
            pass: 0,
            next: 0,
            moved_this_pass: false,
            skip: Staleness::new(model),
        }
    }

    /// Share of the phase done, 0–1.
    pub fn done_fraction(&self, model: &Model) -> f64 {
        (f64::from(self.pass) + self.next as f64 / model.sims.len().max(1) as f64)
            / f64::from(self.max_passes.max(1))
    }
}

impl Phase for Descent {
    fn quantum(&mut self, model: &Model) -> bool {
        let n = model.sims.len();
        let a = &mut self.assignment;
        let end = sims_quantum_end(model, self.next);
        for i in self.next..end {
            if !self.skip.may_move(model, i) {
                continue;
            }
            let from = a.choice[i];
            let moved = a.best_move(model, i).map(|(_, to)| {
                a.apply(model, i, to);
                self.moved_this_pass = true;
                (from, to)
            });
            self.skip.record(model, i, moved);
        }
        self.next = end;
        if self.next < n {
            return false;
        }
        self.pass += 1;
        self.next = 0;
        let again = self.moved_this_pass && self.pass < self.max_passes;
        self.moved_this_pass = false;
        !again
    }

    fn encode(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        w.u64(u64::from(self.max_passes));
        w.u64(u64::from(self.pass));
        w.u64(self.next as u64);
        w.bool(self.moved_this_pass);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        Ok(Descent {
            assignment: decode_assignment(r, model)?,
            max_passes: r.below(u64::from(u32::MAX), "a pass limit is out of range")? as u32,
            pass: r.below(u64::from(u32::MAX), "a pass number is out of range")? as u32,
            next: r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize,
            moved_this_pass: r.bool()?,
            skip: Staleness::new(model),
        })
    }
}

/// Swaps: two SIMs of one class on options in different pools exchange options when that
/// lowers the bill (a heavy SIM into a pool with room, a light one out). Each SIM is tried
/// against the `window` SIMs after it in its class's usage order (the model's `by_usage`).
#[derive(Debug, Clone)]
pub(crate) struct Swaps {
    pub assignment: Assignment,
    window: u32,
    next: usize,
    /// Swaps made in total.
    pub swaps: u64,
}

impl Swaps {
    pub fn new(assignment: Assignment, window: u32) -> Self {
        Swaps {
            assignment,
            window,
            next: 0,
            swaps: 0,
        }
    }
}

impl Phase for Swaps {
    fn quantum(&mut self, model: &Model) -> bool {
        let order = &model.lagrangian().by_usage;
        let n = order.len();
        let end = (self.next + QUANTUM_SIMS).min(n);
        let a = &mut self.assignment;
        for x in self.next..end {
            let i = order[x] as usize;
            let class = model.sim(i).class;
            for &j in &order[x + 1..n.min(x + 1 + self.window as usize)] {
                let j = j as usize;
                if model.sim(j).class != class {
                    break;
                }
                let (oi, oj) = (a.choice[i], a.choice[j]);
                if oi == oj {
                    continue;
                }
                let options = model.options_of(i);
                if options[oi as usize].pool == NO_POOL && options[oj as usize].pool == NO_POOL {
                    continue; // separable: single moves already handle these
                }
                if a.may_swap(model, i, j) && a.swap_delta(model, i, j) < 0 {
                    a.apply(model, i, oj);
                    a.apply(model, j, oi);
                    self.swaps += 1;
                }
            }
        }
        self.next = end;
        self.next == n
    }

    fn encode(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        w.u64(u64::from(self.window));
        w.u64(self.next as u64);
        w.u64(self.swaps);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let assignment = decode_assignment(r, model)?;
        let window = r.below(u64::from(u32::MAX), "a window is out of range")? as u32;
        let next = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize;
        let swaps = r.u64()?;
        Ok(Swaps {
            assignment,
            window,
            next,
            swaps,
        })
    }
}

/// For each pool, the SIMs that may use it, by usage: where ejections look for a partner. Derived
/// from the model alone (not from the assignment), so it is rebuilt rather than stored; built a
/// quantum at a time by merging the runs of the pool's classes in the model's usage order.
#[derive(Debug, Clone)]
struct Candidates {
    lists: Vec<Vec<u32>>,
    /// The pool being merged, and its classes' next SIMs as (usage, SIM, position, end).
    pool: usize,
    heads: BinaryHeap<Reverse<(u64, u32, u32, u32)>>,
}

impl Candidates {
    fn new(model: &Model) -> Self {
        let mut c = Candidates {
            lists: Vec::with_capacity(model.pool_terms.len()),
            pool: 0,
            heads: BinaryHeap::new(),
        };
        c.start_pool(model);
        c
    }

    /// All of them at once.
    fn built(model: &Model) -> Self {
        let mut c = Candidates::new(model);
        while !c.build(model) {}
        c
    }

    /// Starts merging pool `self.pool` (if any is left).
    fn start_pool(&mut self, model: &Model) {
        self.heads.clear();
        let lag = model.lagrangian();
        let Some(pool) = u32::try_from(self.pool)
            .ok()
            .filter(|p| (*p as usize) < model.pool_terms.len())
        else {
            return;
        };
        for &class in &lag.classes_of_pool[pool as usize] {
            let (from, to) = lag.class_range(class as usize);
            if from < to {
                let i = lag.by_usage[from as usize];
                self.heads
                    .push(Reverse((lag.usage_at(model, from as usize), i, from, to)));
            }
        }
    }

    /// Adds up to a quantum of SIMs; true once every pool's list is complete.
    fn build(&mut self, model: &Model) -> bool {
        let pools = model.pool_terms.len();
        let mut budget = QUANTUM_SIMS;
        while self.pool < pools {
            if self.lists.len() == self.pool {
                self.lists.push(Vec::new());
            }
            while let Some(Reverse((_, i, at, end))) = self.heads.pop() {
                self.lists[self.pool].push(i);
                if at + 1 < end {
                    let lag = model.lagrangian();
                    let j = lag.by_usage[at as usize + 1];
                    self.heads.push(Reverse((
                        lag.usage_at(model, at as usize + 1),
                        j,
                        at + 1,
                        end,
                    )));
                }
                budget -= 1;
                if budget == 0 {
                    return false;
                }
            }
            self.pool += 1;
            self.start_pool(model);
        }
        true
    }

    fn done(&self, model: &Model) -> bool {
        self.pool >= model.pool_terms.len()
    }
}

/// Ejections: SIM `i` moves into a pool although that alone costs more (the pool goes over its
/// allowance), and one member `j` of that pool with a usage near `i`'s takes its best move out;
/// the pair is kept when it lowers the bill. This couples SIMs of different classes through a
/// pool's capacity, which single moves and same-class swaps cannot.
#[derive(Debug, Clone)]
pub(crate) struct Ejections {
    pub assignment: Assignment,
    next: usize,
    candidates: Candidates,
    /// Per pool, where the last search of its list ended: where the next starts (a hint for
    /// speed, not encoded; the search's answer does not depend on it).
    hints: Vec<usize>,
    /// Ejections made in total.
    pub ejections: u64,
}

/// How many would-be partners on each side of `i`'s usage an ejection looks at.
const EJECTION_WINDOW: usize = 12;

/// SIMs that may use more pools than this are not tried (the work grows with the square of the
/// pools; where many pools interact the dual prices, not ejections, must do the work).
const MAX_EJECTION_POOLS: usize = 4;

impl Ejections {
    pub(crate) fn new(model: &Model, assignment: Assignment) -> Self {
        Ejections {
            assignment,
            next: 0,
            candidates: Candidates::new(model),
            hints: vec![0; model.pool_terms.len()],
            ejections: 0,
        }
    }

    /// Tries the ejections that start with SIM `i` (making at most one); returns the work done,
    /// in options costed.
    fn try_sim(&mut self, model: &Model, i: usize) -> u64 {
        if model.lagrangian().pools_of(model.sim(i).class) > MAX_EJECTION_POOLS {
            return 1;
        }
        let a = &mut self.assignment;
        let from = a.choice[i];
        let options = model.options_of(i);
        let usage = model.sims[i].usage;
        let mut work = options.len() as u64;
        for (to, b) in options.iter().enumerate() {
            let to = to as u32;
            if to == from
                || b.pool == NO_POOL
                || b.pool == options[from as usize].pool
                || !a.may_move(model, i, to)
            {
                continue;
            }
            work += 1;
            let entry = a.delta(model, i, to);
            if entry <= 0 {
                continue; // single moves take these; leave them to the descent
            }
            let list = &self.candidates.lists[b.pool as usize];
            let hint = &mut self.hints[b.pool as usize];
            let at = first_using(list, usage, *hint, |j| model.sims[j as usize].usage);
            *hint = at;
            let window =
                &list[at.saturating_sub(EJECTION_WINDOW)..(at + EJECTION_WINDOW).min(list.len())];
            a.apply(model, i, to);
            let mut best: Option<(i64, usize, u32)> = None;
            work += window.len() as u64;
            for &j in window {
                let j = j as usize;
                if j == i || model.options_of(j)[a.choice[j] as usize].pool != b.pool {
                    continue;
                }
                work += model.options_of(j).len() as u64;
                if let Some((d, out)) = a.best_move(model, j) {
                    if entry + d < best.map_or(0, |(bd, _, _)| bd) {
                        best = Some((entry + d, j, out));
                    }
                }
            }
            match best {
                Some((_, j, out)) => {
                    a.apply(model, j, out);
                    self.ejections += 1;
                    return work;
                }
                None => a.apply(model, i, from),
            }
        }
        work
    }
}

/// The first position of `list` (SIMs by usage, `usage_of` each) whose SIM uses at least
/// `usage`. SIMs are tried in increasing usage within a class, so the answer mostly moves
/// forward from the last one, `hint`: it is searched for by galloping from there when the list
/// there is still below `usage`, else by bisecting the whole list.
fn first_using(list: &[u32], usage: u64, hint: usize, usage_of: impl Fn(u32) -> u64) -> usize {
    let below = |k: usize| usage_of(list[k]) < usage;
    if hint > list.len() || (hint > 0 && !below(hint - 1)) {
        return list.partition_point(|&j| usage_of(j) < usage);
    }
    // Every position under `lo` is below `usage`; probe lo, lo + 1, lo + 3, ... for the end.
    let mut lo = hint;
    let mut step = 1;
    let hi = loop {
        let probe = lo + step - 1;
        if probe >= list.len() {
            break list.len();
        }
        if !below(probe) {
            break probe;
        }
        lo = probe + 1;
        step *= 2;
    };
    lo + list[lo..hi].partition_point(|&j| usage_of(j) < usage)
}

impl Phase for Ejections {
    fn quantum(&mut self, model: &Model) -> bool {
        if !self.candidates.done(model) {
            self.candidates.build(model);
            return false;
        }
        // In the model's usage order: neighbours try neighbouring partners, so the windows
        // and their SIMs stay in cache.
        let order = &model.lagrangian().by_usage;
        let n = order.len();
        // At most a quantum of SIMs, and of work: near the top of the usage order every
        // SIM's partners are new ones (neighbours' windows no longer overlap), and a
        // quantum of those SIMs took several times as long as one of light SIMs.
        let mut work = 0;
        let end = (self.next + QUANTUM_SIMS).min(n);
        while self.next < end && work < QUANTUM_WORK {
            work += self.try_sim(model, order[self.next] as usize);
            self.next += 1;
        }
        self.next == n
    }

    fn encode(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        w.u64(self.next as u64);
        w.u64(self.ejections);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let assignment = decode_assignment(r, model)?;
        let next = r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize;
        let ejections = r.u64()?;
        Ok(Ejections {
            assignment,
            next,
            candidates: Candidates::built(model),
            hints: vec![0; model.pool_terms.len()],
            ejections,
        })
    }
}

/// Which round of [`Improve`] is running, the bill when it started, and whether it ends with
/// a pass of ejections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Round {
    number: u32,
    start: i64,
    eject: bool,
}

impl Round {
    fn encode(self, w: &mut Writer) {
        w.u64(u64::from(self.number));
        w.i64(self.start);
        w.bool(self.eject);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Round {
            number: r.below(u64::from(MAX_ROUNDS), "a round is out of range")? as u32,
            start: r.i64()?,
            // Before version 5 every round ended with ejections.
            eject: if r.version() >= 5 { r.bool()? } else { true },
        })
    }
}

/// Rounds of descent and swaps while a round takes at least 1/100,000 off the bill (at most
/// [`MAX_ROUNDS`]); the first ends with a pass of ejections, and so does the next while the
/// last pass ejected at least one SIM in [`EJECTION_HIT_RATE`]. After balancing, the first
/// round does nearly all of the work: on the bench fleets (10,000 to 1,000,000 SIMs) a second
/// ejection pass found 0–8 more ejections worth at most 0.0002 %, for the price of a full pass
/// (most of a second at 1,000,000 SIMs), while on a fleet of a dozen SIMs one ejection opens the next.
/// Stops as soon as the bill is at most `enough` (close enough to the lower bound).
#[derive(Debug, Clone)]
pub(crate) struct Improve {
    enough: i64,
    step: ImproveStep,
}

#[derive(Debug, Clone)]
enum ImproveStep {
    Descending {
        round: Round,
        descent: Descent,
    },
    Swapping {
        round: Round,
        swaps: Swaps,
    },
    Ejecting {
        round: Round,
        ejections: Ejections,
        swapped: bool,
    },
    Done(Assignment),
}

const MAX_ROUNDS: u32 = 10;
/// Another pass of ejections follows one that ejected at least one SIM in this many.
const EJECTION_HIT_RATE: u64 = 100;
const MAX_PASSES: u32 = 20;
const SWAP_WINDOW: u32 = 8;

impl Improve {
    pub fn new(model: &Model, assignment: Assignment, enough: i64) -> Self {
        let start = assignment.cost(model);
        Improve {
            enough,
            step: if start <= enough {
                ImproveStep::Done(assignment)
            } else {
                ImproveStep::Descending {
                    round: Round {
                        number: 0,
                        start,
                        eject: true,
                    },
                    descent: Descent::new(model, assignment, MAX_PASSES),
                }
            },
        }
    }

    /// The assignment as it stands (the result once done).
    pub fn assignment(&self) -> &Assignment {
        match &self.step {
            ImproveStep::Descending { descent, .. } => &descent.assignment,
            ImproveStep::Swapping { swaps, .. } => &swaps.assignment,
            ImproveStep::Ejecting { ejections, .. } => &ejections.assignment,
            ImproveStep::Done(a) => a,
        }
    }

    /// Share done, 0–1 (rough: rounds usually end early).
    pub fn done_fraction(&self, model: &Model) -> f64 {
        let (round, within) = match &self.step {
            ImproveStep::Descending { round, descent } => {
                (round.number, 0.5 * descent.done_fraction(model))
            }
            ImproveStep::Swapping { round, swaps } => (
                round.number,
                0.5 + 0.25 * swaps.next as f64 / model.sims.len().max(1) as f64,
            ),
            ImproveStep::Ejecting {
                round, ejections, ..
            } => (
                round.number,
                0.75 + 0.25 * ejections.next as f64 / model.sims.len().max(1) as f64,
            ),
            ImproveStep::Done(_) => return 1.0,
        };
        (f64::from(round) + within) / f64::from(MAX_ROUNDS)
    }
}

/// After `round`: another one (ending with ejections if `eject`) only when its swaps or
/// ejections (`moved`) opened new single moves, and it was worth it.
fn next_round(
    model: &Model,
    round: Round,
    a: Assignment,
    moved: bool,
    eject: bool,
    enough: i64,
) -> ImproveStep {
    let now = a.cost(model);
    let worth = i128::from(round.start - now) * 100_000 >= i128::from(now.max(1));
    if moved && worth && now > enough && round.number + 1 < MAX_ROUNDS {
        ImproveStep::Descending {
            round: Round {
                number: round.number + 1,
                start: now,
                eject,
            },
            descent: Descent::new(model, a, MAX_PASSES),
        }
    } else {
        ImproveStep::Done(a)
    }
}

impl Phase for Improve {
    fn quantum(&mut self, model: &Model) -> bool {
        let finished = match &mut self.step {
            ImproveStep::Done(_) => return true,
            ImproveStep::Descending { descent, .. } => descent.quantum(model),
            ImproveStep::Swapping { swaps, .. } => swaps.quantum(model),
            ImproveStep::Ejecting { ejections, .. } => ejections.quantum(model),
        };
        if !finished {
            return false;
        }
        let enough = self.enough;
        let placeholder = ImproveStep::Done(Assignment::default());
        self.step = match std::mem::replace(&mut self.step, placeholder) {
            ImproveStep::Descending { round, descent } => {
                let a = descent.assignment;
                if a.cost(model) <= enough {
                    ImproveStep::Done(a)
                } else {
                    ImproveStep::Swapping {
                        round,
                        swaps: Swaps::new(a, SWAP_WINDOW),
                    }
                }
            }
            ImproveStep::Swapping { round, swaps } => {
                let swapped = swaps.swaps > 0;
                let a = swaps.assignment;
                if a.cost(model) <= enough {
                    ImproveStep::Done(a)
                } else if round.eject {
                    ImproveStep::Ejecting {
                        round,
                        ejections: Ejections::new(model, a),
                        swapped,
                    }
                } else {
                    next_round(model, round, a, swapped, false, enough)
                }
            }
            ImproveStep::Ejecting {
                round,
                ejections,
                swapped,
            } => next_round(
                model,
                round,
                ejections.assignment,
                swapped || ejections.ejections > 0,
                ejections.ejections * EJECTION_HIT_RATE >= model.sims.len() as u64,
                enough,
            ),
            done @ ImproveStep::Done(_) => done,
        };
        matches!(self.step, ImproveStep::Done(_))
    }

    fn encode(&self, w: &mut Writer) {
        w.i64(self.enough);
        match &self.step {
            ImproveStep::Descending { round, descent } => {
                w.u64(0);
                round.encode(w);
                descent.encode(w);
            }
            ImproveStep::Swapping { round, swaps } => {
                w.u64(1);
                round.encode(w);
                swaps.encode(w);
            }
            ImproveStep::Ejecting {
                round,
                ejections,
                swapped,
            } => {
                w.u64(3);
                round.encode(w);
                w.bool(*swapped);
                ejections.encode(w);
            }
            ImproveStep::Done(a) => {
                w.u64(2);
                encode_assignment(a, w);
            }
        }
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let enough = r.i64()?;
        let step = match r.below(4, "an unknown search step")? {
            0 => ImproveStep::Descending {
                round: Round::decode(r)?,
                descent: Descent::decode(r, model)?,
            },
            1 => ImproveStep::Swapping {
                round: Round::decode(r)?,
                swaps: Swaps::decode(r, model)?,
            },
            3 => ImproveStep::Ejecting {
                round: Round::decode(r)?,
                swapped: r.bool()?,
                ejections: Ejections::decode(r, model)?,
            },
            _ => ImproveStep::Done(decode_assignment(r, model)?),
        };
        Ok(Improve { enough, step })
    }
}

#[cfg(test)]
mod tests {
    use super::{first_using, Ejections};
    use crate::optimize::model::Model;
    use crate::optimize::phase::{sims_quantum_end, Phase, QUANTUM_SIMS, QUANTUM_WORK};
    use crate::optimize::tests::synthetic_fleet_of;
    use crate::random::SplitMix64;

    /// Each quantum of ejections ends after the SIM whose work reaches [`QUANTUM_WORK`] (or after
    /// [`QUANTUM_SIMS`] SIMs): replayed SIM by SIM on a copy, with 40 plans per SIM, where some
    /// quanta must stop early.
    #[test]
    fn an_ejection_quantum_ends_once_its_work_is_spent() {
        let f = synthetic_fleet_of(12_000, 5, 1, 40);
        let model = Model::new(&f);
        let mut e = Ejections::new(&model, model.current());
        while !e.candidates.done(&model) {
            assert!(!e.quantum(&model));
        }
        let order = &model.lagrangian().by_usage;
        let (mut early, mut finished) = (0, false);
        while !finished {
            let mut replay = e.clone();
            let mut work = 0;
            let mut sims = 0;
            while replay.next < order.len() && sims < QUANTUM_SIMS && work < QUANTUM_WORK {
                work += replay.try_sim(&model, order[replay.next] as usize);
                replay.next += 1;
                sims += 1;
            }
            early += usize::from(sims < QUANTUM_SIMS && replay.next < order.len());
            finished = e.quantum(&model);
            assert_eq!(e.next, replay.next);
            assert_eq!(e.assignment, replay.assignment);
        }
        assert!(early > 0, "no quantum stopped on its work");
    }

    /// A pass over SIMs in order takes at most [`QUANTUM_SIMS`] SIMs and stops once their
    /// options reach [`QUANTUM_WORK`]: fewer SIMs with 40 plans each than with 5.
    #[test]
    fn a_pass_quantum_counts_options() {
        for (plans, want) in [
            (5, QUANTUM_SIMS),
            (40, (QUANTUM_WORK as usize).div_ceil(40)),
        ] {
            let f = synthetic_fleet_of(5_000, 3, 1, plans);
            let model = Model::new(&f);
            let end = sims_quantum_end(&model, 0);
            assert!(model.options_of(0).len() <= plans as usize);
            if plans == 40 {
                let work: usize = (0..end).map(|i| model.options_of(i).len()).sum();
                let before: usize = (0..end - 1).map(|i| model.options_of(i).len()).sum();
                assert!(before < QUANTUM_WORK as usize && work >= QUANTUM_WORK as usize);
                assert!(end >= want && end < QUANTUM_SIMS, "{end} SIMs");
            } else {
                assert_eq!(end, want);
            }
        }
        let f = synthetic_fleet_of(10, 3, 1, 40);
        let model = Model::new(&f);
        assert_eq!(sims_quantum_end(&model, 10), 10);
        assert_eq!(sims_quantum_end(&model, 4), 10);
    }

    #[test]
    fn searching_from_a_hint_finds_what_bisection_finds() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..2_000 {
            let len = rng.below(40) as usize;
            let mut usages: Vec<u64> = (0..len).map(|_| rng.below(30)).collect();
            usages.sort_unstable();
            let list: Vec<u32> = (0..len as u32).collect();
            let usage = rng.below(32);
            let hint = rng.below(len as u64 + 3) as usize;
            let want = usages.partition_point(|&u| u < usage);
            assert_eq!(
                first_using(&list, usage, hint, |j| usages[j as usize]),
                want,
                "usages {usages:?}, usage {usage}, hint {hint}"
            );
        }
    }
}
