//! Keeping to a limit on changes: an assignment with more changes than the model allows gives
//! back the changes that save least, in rounds — each round measures what undoing every change
//! would cost (exact deltas, a quantum of SIMs at a time) and undoes the cheapest half of the
//! excess, so the later undos see the pools as the earlier ones left them.

use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::{Assignment, Model};
use super::phase::{Phase, QUANTUM_SIMS};
use super::search::{decode_assignment, encode_assignment};

/// Undoes changes until the assignment keeps to [`Model::max_changes`].
#[derive(Debug, Clone)]
pub(crate) struct Trim {
    /// The assignment being trimmed.
    pub assignment: Assignment,
    next: usize,
    /// This round's cost of undoing each change so far: (delta, SIM). Derived from the
    /// assignment (which the round changes only at its end): computed again on decode, so that
    /// a checkpoint stays small when many SIMs change.
    undo: Vec<(i64, u32)>,
}

impl Trim {
    pub fn new(assignment: Assignment) -> Self {
        Trim {
            assignment,
            next: 0,
            undo: Vec::new(),
        }
    }

    /// Share done, 0–1 (of the round in hand).
    pub fn done_fraction(&self, model: &Model) -> f64 {
        self.next as f64 / model.sims.len().max(1) as f64
    }

    /// Adds the cost of undoing the changes of SIMs `from..to`.
    fn add_undo(&mut self, model: &Model, from: usize, to: usize) {
        let a = &self.assignment;
        for i in from..to {
            let current = model.sim(i).current;
            if a.choice[i] != current {
                self.undo.push((a.delta(model, i, current), i as u32));
            }
        }
    }
}

impl Phase for Trim {
    fn quantum(&mut self, model: &Model) -> bool {
        if self.assignment.changes <= model.max_changes {
            return true;
        }
        let n = model.sims.len();
        let end = (self.next + QUANTUM_SIMS).min(n);
        self.add_undo(model, self.next, end);
        let a = &mut self.assignment;
        self.next = end;
        if self.next < n {
            return false;
        }
        // Undo the cheapest half of the excess (at least one), cheapest first.
        let excess = (a.changes - model.max_changes) as usize;
        let take = excess.div_ceil(2).min(self.undo.len());
        if take < self.undo.len() {
            self.undo.select_nth_unstable(take);
        }
        let undo = &mut self.undo[..take];
        undo.sort_unstable();
        for &(_, i) in undo.iter() {
            let i = i as usize;
            a.apply(model, i, model.sim(i).current);
        }
        self.undo.clear();
        self.next = 0;
        a.changes <= model.max_changes
    }

    fn encode(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        w.u64(self.next as u64);
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        let assignment = decode_assignment(r, model)?;
        let n = model.sims.len() as u64;
        let next = r.below(n + 1, "a SIM cursor is out of range")? as usize;
        // Before version 6 the undo list was stored: skipped, and computed again like now.
        if r.version() < 6 {
            let len = r.below(next as u64 + 1, "too many undo entries")?;
            for _ in 0..len {
                r.i64()?;
                r.below(next as u64, "an undo entry names a SIM out of range")?;
            }
        }
        let mut trim = Trim {
            assignment,
            next,
            undo: Vec::new(),
        };
        trim.add_undo(model, 0, next);
        Ok(trim)
    }
}

/// Undoing every change that does not save its minimum: passes over the SIMs that move a
/// changed SIM back wherever that lowers the objective, until a pass undoes nothing (undos
/// only free room in pools, so a few passes settle it). Afterwards undoing any single change
/// raises the bill by at least the minimum saving.
#[derive(Debug, Clone)]
pub(crate) struct Settle {
    /// The assignment being settled.
    pub assignment: Assignment,
    next: usize,
    undone: bool,
    passes: u32,
}

/// Passes at most (each after the first only runs if the one before undid something).
const SETTLE_PASSES: u32 = 16;

impl Settle {
    pub fn new(assignment: Assignment) -> Self {
        Settle {
            assignment,
            next: 0,
            undone: false,
            passes: 0,
        }
    }

    /// Share done, 0–1 (of the pass in hand).
    pub fn done_fraction(&self, model: &Model) -> f64 {
        self.next as f64 / model.sims.len().max(1) as f64
    }
}

impl Phase for Settle {
    fn quantum(&mut self, model: &Model) -> bool {
        let a = &mut self.assignment;
        let n = model.sims.len();
        let end = (self.next + QUANTUM_SIMS).min(n);
        for i in self.next..end {
            let current = model.sim(i).current;
            if a.choice[i] != current && a.delta(model, i, current) < 0 {
                a.apply(model, i, current);
                self.undone = true;
            }
        }
        self.next = end;
        if self.next < n {
            return false;
        }
        self.passes += 1;
        if !self.undone || self.passes >= SETTLE_PASSES {
            return true;
        }
        self.next = 0;
        self.undone = false;
        false
    }

    fn encode(&self, w: &mut Writer) {
        encode_assignment(&self.assignment, w);
        w.u64(self.next as u64);
        w.bool(self.undone);
        w.u64(u64::from(self.passes));
    }

    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError> {
        Ok(Settle {
            assignment: decode_assignment(r, model)?,
            next: r.below(model.sims.len() as u64 + 1, "a SIM cursor is out of range")? as usize,
            undone: r.bool()?,
            passes: r.below(u64::from(SETTLE_PASSES), "a pass count is out of range")? as u32,
        })
    }
}
