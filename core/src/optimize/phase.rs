//! The unit of resumable work.
//!
//! An optimizer method is a sequence of phases; a phase advances in *quanta*: small,
//! deterministic pieces of work (a few thousand SIM evaluations at most). The job polls its
//! budget between quanta only, so however a run is sliced — and encoded and decoded between
//! slices — the same quanta run in the same order and the result is identical.

use super::checkpoint::{DecodeError, Reader, Writer};
use super::model::Model;

/// How many SIMs a quantum handles at most: small enough that a quantum takes well under a
/// millisecond, large enough that polling the budget costs nothing.
pub(crate) const QUANTUM_SIMS: usize = 2048;

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
