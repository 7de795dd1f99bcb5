//! What the engine tells its listeners once per hop: a [`Snapshot`].
//!
//! A snapshot is a plain `Copy` value of fixed size (no heap), so the worker can build one
//! in place and hand it over a bounded channel without allocating. The window, the trace
//! writer and `monitor --headless` all read the same snapshots.

use crate::model::Emotion;

/// Most mel bands a snapshot can carry. A model whose `FeatureConfig` asks for more is
/// refused when the engine starts (see `EngineError::TooManyMelBands`).
pub const MAX_MEL_BANDS: usize = 128;

/// One column of the log-mel spectrogram: `len()` values in dB, lowest band first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelColumn {
    len: u16,
    values_db: [f32; MAX_MEL_BANDS],
}

impl MelColumn {
    /// An empty column (no bands).
    pub const EMPTY: MelColumn = MelColumn { len: 0, values_db: [0.0; MAX_MEL_BANDS] };

    /// Copies `values_db` into a column; bands past [`MAX_MEL_BANDS`] are dropped (the
    /// engine checks the band count once at start, so this never truncates in practice).
    pub fn from_slice(values_db: &[f32]) -> Self {
        let mut column = Self::EMPTY;
        column.set(values_db);
        column
    }

    /// Overwrites the column in place with `values_db` (at most [`MAX_MEL_BANDS`] values).
    pub fn set(&mut self, values_db: &[f32]) {
        let n = values_db.len().min(MAX_MEL_BANDS);
        self.values_db[..n].copy_from_slice(&values_db[..n]);
        self.values_db[n..].fill(0.0);
        // NOTE: n <= MAX_MEL_BANDS = 128 fits in u16.
        self.len = n as u16;
    }

    /// The band values in dB, lowest band first.
    pub fn as_slice(&self) -> &[f32] {
        &self.values_db[..usize::from(self.len)]
    }

    /// Number of mel bands held.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the column holds no bands.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Default for MelColumn {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Probabilities over the seven classes, indexed by [`Emotion::index`].
pub type Probabilities = [f32; Emotion::COUNT];

/// The engine's state after one hop (one feature frame).
///
/// Times are stream times: seconds of audio analysed since the session started (paused
/// stretches are not counted), so a recording's trace lines up with its WAV file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// Index of this hop since the session started (0, 1, 2, ...).
    pub hop_index: u64,
    /// Centre of this hop's analysis frame, in seconds of stream time.
    pub time_s: f64,
    /// The newest log-mel spectrogram column, in dB.
    pub mel_db: MelColumn,
    /// RMS level of this hop's frame, in dB relative to full scale (-120 for digital silence).
    pub level_dbfs: f32,
    /// Whether the voice-activity gate counts this hop as speech.
    pub speech: bool,
    /// Seconds since the current utterance began, 0 outside an utterance.
    pub utterance_s: f32,
    /// Number of utterances begun since the session started; increments at each reset of
    /// the model state, so a change marks an utterance boundary.
    pub utterance_index: u64,
    /// Smoothed class probabilities; `None` during silence ("no speech").
    pub probabilities: Option<Probabilities>,
    /// The model's unsmoothed output for this hop; `None` during silence.
    pub raw_probabilities: Option<Probabilities>,
    /// Input samples lost so far because the capture ring was full (live sources).
    pub dropped_samples: u64,
    /// Milliseconds from the newest input sample this hop needed entering the capture ring
    /// (or being read from the file) to this snapshot being sent.
    pub latency_ms: f32,
}

impl Snapshot {
    /// The most probable emotion and its smoothed probability; `None` during silence.
    pub fn top(&self) -> Option<(Emotion, f32)> {
        let probabilities = self.probabilities?;
        top_of(&probabilities)
    }

    /// What the trace shows for this hop: the top emotion's name, `"no speech"` during
    /// silence, or `"speech"` for speech without a model.
    pub fn label(&self) -> &'static str {
        match self.top() {
            Some((emotion, _)) => emotion.name(),
            None if self.speech => SPEECH,
            None => NO_SPEECH,
        }
    }
}

/// The label the trace carries during silence.
pub const NO_SPEECH: &str = "no speech";
/// The label for speech when no model runs.
pub const SPEECH: &str = "speech";

/// The index of the largest value and that value; `None` for NaN-only input.
pub fn top_of(probabilities: &Probabilities) -> Option<(Emotion, f32)> {
    probabilities
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_nan())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .and_then(|(i, &p)| Emotion::from_index(i).map(|e| (e, p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(probabilities: Option<Probabilities>) -> Snapshot {
        Snapshot {
            hop_index: 3,
            time_s: 0.03,
            mel_db: MelColumn::from_slice(&[-10.0, -20.0]),
            level_dbfs: -30.0,
            speech: probabilities.is_some(),
            utterance_s: 0.0,
            utterance_index: 1,
            probabilities,
            raw_probabilities: probabilities,
            dropped_samples: 0,
            latency_ms: 1.0,
        }
    }

    #[test]
    fn mel_column_keeps_exactly_what_it_was_given() {
        let column = MelColumn::from_slice(&[1.0, 2.0, 3.0]);
        assert_eq!(column.as_slice(), &[1.0, 2.0, 3.0]);
        assert_eq!(column.len(), 3);
        let mut column = column;
        column.set(&[5.0]);
        assert_eq!(column.as_slice(), &[5.0]);
        let too_many = vec![0.5; MAX_MEL_BANDS + 10];
        assert_eq!(MelColumn::from_slice(&too_many).len(), MAX_MEL_BANDS);
        assert!(MelColumn::EMPTY.is_empty());
    }

    #[test]
    fn top_and_label_follow_the_largest_probability() {
        let mut p = [0.1; Emotion::COUNT];
        p[Emotion::Sad.index()] = 0.4;
        let s = snapshot(Some(p));
        assert_eq!(s.top(), Some((Emotion::Sad, 0.4)));
        assert_eq!(s.label(), "sad");
        assert_eq!(snapshot(None).label(), NO_SPEECH);
        assert_eq!(Snapshot { speech: true, ..snapshot(None) }.label(), SPEECH);
        assert_eq!(top_of(&[f32::NAN; Emotion::COUNT]), None);
    }
}
