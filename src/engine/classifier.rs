//! The model as the engine drives it: one feature frame in, class probabilities out, with
//! state carried between frames and reset at each utterance.

use super::snapshot::Probabilities;
use crate::data::SpeakerStats;

/// A stateful per-frame classifier (the streaming LSTM).
///
/// `step` must not allocate on the Rust heap once the first call has warmed it up: it
/// runs on the engine's worker for every hop.
pub trait FrameClassifier: Send {
    /// Values per input frame the classifier expects.
    fn input_dim(&self) -> usize;
    /// Starts a new utterance: forget all state.
    fn reset(&mut self);
    /// Advances one frame and returns the class probabilities after it.
    fn step(&mut self, frame: &[f32]) -> Probabilities;
    /// The statistics of the session's speech so far and their frame count, for a
    /// classifier that keeps them (a speaker-normalised model); not on the per-hop path.
    fn session_statistics(&mut self) -> Option<(SpeakerStats, u64)> {
        None
    }
}
