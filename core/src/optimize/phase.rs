//! The unit of resumable work.
//!
//! An optimizer method is a sequence of phases; a phase advances in *quanta*: small,
//! deterministic pieces of work (a few thousand SIM evaluations at most, and where a SIM's work
//! varies — its count of options, the partners local search tries for it — a bounded count of
//! that work: [`QUANTUM_WORK`]; counted, never timed). The job polls its
//! budget between quanta only, so however a run is sliced — and encoded and decoded between
//! slices — the same quanta run in the same order and the result is identical.

use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::Model;

/// How many SIMs a quantum handles at most: small enough that a quantum takes well under a
/// millisecond, large enough that polling the budget costs nothing.
pub(crate) const QUANTUM_SIMS: usize = 2048;

/// How much work a quantum does at most where the work per SIM varies, counted in options
/// costed: one option of one SIM, whether a move's delta or one option of a partner's best
/// move (ejections), or one option looked at in a pass over the SIMs. Natively a unit took
/// 5–35 ns (1,000,000 SIMs × 50 plans: the most where every ejection partner is a cache miss,
/// near the top of the usage order), so such a quantum stays near a millisecond however heavy
/// its SIMs, where 2,048 heavy SIMs' ejections once took 10–14 ms.
pub(crate) const QUANTUM_WORK: u64 = 1 << 15;

/// Where a quantum that looks at each of SIMs `from..` once — every option of each — ends: after
/// at most [`QUANTUM_SIMS`] SIMs and about [`QUANTUM_WORK`] options (at least one SIM, unless
/// none is left). With a few plans per SIM that is [`QUANTUM_SIMS`] SIMs; with 50, fewer.
pub(crate) fn sims_quantum_end(model: &Model, from: usize) -> usize {
    let end = (from + QUANTUM_SIMS).min(model.sims.len());
    if u64::from(model.most_options) * QUANTUM_SIMS as u64 <= QUANTUM_WORK {
        return end; // no SIM has options enough to reach the work before the SIMs' end
    }
    let mut work = 0;
    for i in from..end {
        if work >= QUANTUM_WORK {
            return i;
        }
        work += model.options_of(i).len() as u64;
    }
    end
}

/// A resumable piece of an optimizer method.
pub(crate) trait Phase: Sized {
    /// Does one quantum of work; returns true when the phase is finished.
    fn quantum(&mut self, model: &Model) -> bool;

    /// Writes the whole state.
    fn encode(&self, w: &mut Writer);

    /// Reads a state written by [`Phase::encode`] for the same model.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] when the bytes do not describe a state of this model.
    fn decode(r: &mut Reader<'_>, model: &Model) -> Result<Self, DecodeError>;
}
