//! Per-dimension feature normalisation (z-score) with statistics from the training part only.
//!
//! The statistics travel in the model card and are applied inside the model
//! (batched forward and streaming `step` alike), so callers always pass raw features.
//!
//! Optionally (`running_prior_frames > 0`) each z-scored frame also has the running mean
//! of the utterance so far subtracted: a causal, per-utterance mean normalisation that
//! removes much of a speaker's or microphone's constant colouring. The running mean
//! starts from `running_prior_frames` virtual frames at the training mean (0 after
//! z-scoring): `z'_t = z_t - sum(z_0..=z_t) / (prior + t + 1)`.
//!
//! Optionally (`speaker_norm`) the z-scored frame is first normalised by its speaker's
//! statistics (see `data::speaker_norm`); [`FrameNormaliser`] does all of it frame by
//! frame for a live session.
//!
//! Optionally (`dual_input`, with speaker normalisation) the network hears each frame
//! twice: z-scored, as a model without speaker normalisation hears it, then normalised by
//! the speaker's statistics; a session that stays in one emotion, whose statistics hold
//! that emotion, still leaves it audible in the first half.
//!
//! Optionally (`level`) the raw frame's level-dependent values are first taken relative
//! to the utterance's running speech level (see `data::level`), before the z-score; the
//! statistics are then those of level-relative frames.

use serde::{Deserialize, Serialize};

use super::level::{LevelColumns, LevelTracker};
use super::speaker_norm::{CalibrationShift, SpeakerAccumulator, SpeakerNorm, SpeakerStats};

/// Smallest standard deviation used, so constant dimensions do not blow up.
pub const MIN_STD: f32 = 1e-4;

/// Mean and standard deviation of every feature dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    /// Mean per dimension, in the feature's own unit.
    pub mean: Vec<f32>,
    /// Standard deviation per dimension (at least [`MIN_STD`]).
    pub std: Vec<f32>,
    /// Number of frames the statistics were computed from.
    pub frames: u64,
    /// Weight, in frames, of the prior of the running per-utterance mean; 0 turns the
    /// running mean off (z-score only).
    #[serde(default)]
    pub running_prior_frames: f32,
    /// Speaker (session) normalisation after the z-score; off in older cards.
    #[serde(default)]
    pub speaker_norm: SpeakerNorm,
    /// Weight, in frames, of the training statistics in a session's speaker statistics.
    #[serde(default)]
    pub session_prior_frames: f32,
    /// Level-relative input (`data::level`): where the level-dependent columns are; `None`
    /// (older cards) leaves raw values as they are.
    #[serde(default)]
    pub level: Option<LevelColumns>,
    /// Each frame twice, z-scored and speaker-normalised (`input_dims` = 2 x `dims`);
    /// false in older cards.
    #[serde(default)]
    pub dual_input: bool,
    /// How a speaker's statistics over a mixed session differ on average from those of
    /// a calm reading, among the training speakers (added to a calibration reading's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration_shift: Option<CalibrationShift>,
}

/// Accumulates sums in f64 over any number of row-major `[frames, dims]` matrices.
#[derive(Debug, Clone)]
pub struct NormAccumulator {
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    frames: u64,
}

impl NormAccumulator {
    /// An empty accumulator for `dims`-dimensional frames.
    pub fn new(dims: usize) -> Self {
        Self { sum: vec![0.0; dims], sum_sq: vec![0.0; dims], frames: 0 }
    }

    /// Adds every frame of a row-major matrix (`data.len()` a multiple of dims).
    /// Non-finite values are ignored for that dimension's sums but the frame still counts.
    pub fn add(&mut self, data: &[f32]) {
        let dims = self.sum.len();
        if dims == 0 {
            return;
        }
        for frame in data.chunks_exact(dims) {
            for (d, &x) in frame.iter().enumerate() {
                if x.is_finite() {
                    let x = f64::from(x);
                    self.sum[d] += x;
                    self.sum_sq[d] += x * x;
                }
            }
            self.frames += 1;
        }
    }

    /// The statistics; zero mean and unit std when nothing was added.
    pub fn finish(&self) -> NormStats {
        let n = self.frames.max(1) as f64;
        let mean: Vec<f64> = self.sum.iter().map(|s| s / n).collect();
        let std = self
            .sum_sq
            .iter()
            .zip(&mean)
            .map(|(sq, m)| ((sq / n - m * m).max(0.0).sqrt() as f32).max(MIN_STD))
            .collect();
        NormStats {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
            frames: self.frames,
            running_prior_frames: 0.0,
            speaker_norm: SpeakerNorm::Off,
            session_prior_frames: 0.0,
            level: None,
            dual_input: false,
            calibration_shift: None,
        }
    }
}

impl NormStats {
    /// Identity statistics (mean 0, std 1) for `dims` dimensions.
    pub fn identity(dims: usize) -> Self {
        Self {
            mean: vec![0.0; dims],
            std: vec![1.0; dims],
            frames: 0,
            running_prior_frames: 0.0,
            speaker_norm: SpeakerNorm::Off,
            session_prior_frames: 0.0,
            level: None,
            dual_input: false,
            calibration_shift: None,
        }
    }

    /// Number of dimensions of a raw frame.
    pub fn dims(&self) -> usize {
        self.mean.len()
    }

    /// Number of values per normalised frame, what the network takes: twice `dims` with
    /// `dual_input`.
    pub fn input_dims(&self) -> usize {
        if self.dual_input { 2 * self.dims() } else { self.dims() }
    }

    /// Normalises one frame into `out`; non-finite inputs become 0 (the training mean).
    pub fn apply_into(&self, frame: &[f32], out: &mut [f32]) {
        for (((o, &x), &m), &s) in out.iter_mut().zip(frame).zip(&self.mean).zip(&self.std) {
            *o = if x.is_finite() { (x - m) / s } else { 0.0 };
        }
    }

    /// Normalises one utterance's raw row-major `[frames, dims]` matrix into `out`
    /// (`[frames, input_dims]`) as a stream would: from a fresh session, or with a speaker
    /// whose statistics are known (training and evaluation). Equals
    /// [`FrameNormaliser::apply`] frame by frame.
    pub fn normalise_sequence(&self, raw: &[f32], speaker: Option<&SpeakerStats>, out: &mut [f32]) {
        let mut frames = match speaker {
            Some(stats) => FrameNormaliser::for_speaker(self, stats.clone()),
            None => FrameNormaliser::new(self),
        };
        let (dims, input_dims) = (self.dims().max(1), self.input_dims().max(1));
        for (frame, normalised) in raw.chunks_exact(dims).zip(out.chunks_exact_mut(input_dims)) {
            frames.apply(self, frame, normalised);
        }
    }

    /// A speaker's statistics from all of its utterances (raw features, row-major),
    /// shrunk by `session_prior_frames` like a session's.
    pub fn speaker_stats<'a>(&self, utterances: impl IntoIterator<Item = &'a [f32]>) -> SpeakerStats {
        let mut acc = SpeakerAccumulator::new(self.dims());
        let mut z = Vec::new();
        for data in utterances {
            z.clear();
            z.extend_from_slice(data);
            self.relative_to_level(&mut z);
            self.apply_in_place(&mut z);
            acc.add(&z);
        }
        acc.stats(self.session_prior_frames).clone()
    }

    /// Makes one utterance's raw row-major frames level-relative in place, from a fresh
    /// level (nothing without `level`): what the statistics are computed on.
    pub fn relative_to_level(&self, data: &mut [f32]) {
        if let Some(columns) = &self.level {
            LevelTracker::apply_sequence(columns, data, self.dims());
        }
    }

    /// Z-scores a row-major matrix in place (no running mean).
    pub fn apply_in_place(&self, data: &mut [f32]) {
        let dims = self.dims();
        if dims == 0 {
            return;
        }
        for frame in data.chunks_exact_mut(dims) {
            for ((x, &m), &s) in frame.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = if x.is_finite() { (*x - m) / s } else { 0.0 };
            }
        }
    }
}

/// The running per-utterance mean of z-scored frames (streaming half of
/// [`NormStats::normalise_sequence`]).
#[derive(Debug, Clone)]
pub struct RunningMean {
    sum: Vec<f32>,
    count: f32,
}

impl RunningMean {
    /// A fresh utterance.
    pub fn new(dims: usize) -> Self {
        Self { sum: vec![0.0; dims], count: 0.0 }
    }

    /// Starts a new utterance.
    pub fn reset(&mut self) {
        self.sum.fill(0.0);
        self.count = 0.0;
    }

    /// Adds a z-scored frame to the running sum and subtracts the running mean from it.
    pub fn apply(&mut self, prior_frames: f32, frame: &mut [f32]) {
        self.count += 1.0;
        let denominator = prior_frames + self.count;
        for (x, s) in frame.iter_mut().zip(self.sum.iter_mut()) {
            *s += *x;
            *x -= *s / denominator;
        }
    }
}

/// Frame-by-frame normalisation for a stream: the utterance's running mean restarts with
/// every utterance, the session's speaker statistics only with a new session.
#[derive(Debug, Clone)]
pub struct FrameNormaliser {
    running: RunningMean,
    speaker: Speaker,
    level: LevelTracker,
}

/// Where the speaker statistics come from.
#[derive(Debug, Clone)]
enum Speaker {
    /// Accumulated over the session so far.
    Session(SpeakerAccumulator),
    /// Known in advance (all of a speaker's files).
    Known(SpeakerStats),
}

impl FrameNormaliser {
    /// A fresh session of a model normalised by `norm`.
    pub fn new(norm: &NormStats) -> Self {
        Self {
            running: RunningMean::new(norm.input_dims()),
            speaker: Speaker::Session(SpeakerAccumulator::new(norm.dims())),
            level: LevelTracker::default(),
        }
    }

    /// A speaker whose statistics are known.
    pub fn for_speaker(norm: &NormStats, stats: SpeakerStats) -> Self {
        Self {
            running: RunningMean::new(norm.input_dims()),
            speaker: Speaker::Known(stats),
            level: LevelTracker::default(),
        }
    }

    /// Starts a new utterance of the same session.
    pub fn reset_utterance(&mut self) {
        self.running.reset();
        self.level.reset();
    }

    /// Starts a new session (a new speaker).
    pub fn reset_session(&mut self) {
        self.running.reset();
        self.level.reset();
        if let Speaker::Session(acc) = &mut self.speaker {
            acc.reset();
        }
    }

    /// The statistics of the session's frames so far, and how many frames (a
    /// speaker-normalised model's session with speech in it; `None` otherwise).
    pub fn session_statistics(&mut self, norm: &NormStats) -> Option<(SpeakerStats, u64)> {
        match &mut self.speaker {
            Speaker::Session(acc) if norm.speaker_norm != SpeakerNorm::Off && acc.frames() > 0 => {
                Some((acc.stats(norm.session_prior_frames).clone(), acc.frames()))
            }
            _ => None,
        }
    }

    /// Normalises one raw frame into `out` (`input_dims` values: level, z-score, speaker
    /// statistics, running mean).
    pub fn apply(&mut self, norm: &NormStats, frame: &[f32], out: &mut [f32]) {
        let (z, second) = out.split_at_mut(norm.dims());
        match &norm.level {
            Some(columns) => {
                z.copy_from_slice(frame);
                self.level.apply(columns, z);
                norm.apply_in_place(z);
            }
            None => norm.apply_into(frame, z),
        }
        // Dual input: the z-scored frame stays, its speaker-normalised copy follows.
        if norm.dual_input {
            second.copy_from_slice(z);
        }
        if norm.speaker_norm != SpeakerNorm::Off {
            let stats = match &mut self.speaker {
                Speaker::Session(acc) => {
                    acc.add(z);
                    acc.stats(norm.session_prior_frames)
                }
                Speaker::Known(stats) => stats,
            };
            stats.apply(norm.speaker_norm, if norm.dual_input { second } else { z });
        }
        if norm.running_prior_frames > 0.0 {
            self.running.apply(norm.running_prior_frames, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_hand_computation_and_normalise_to_zero_mean_unit_std() {
        let mut acc = NormAccumulator::new(2);
        acc.add(&[1.0, 5.0, 3.0, 5.0]);
        acc.add(&[5.0, 5.0]);
        let stats = acc.finish();
        assert_eq!(stats.frames, 3);
        assert!((stats.mean[0] - 3.0).abs() < 1e-6);
        let expected_std = (8.0f32 / 3.0).sqrt();
        assert!((stats.std[0] - expected_std).abs() < 1e-6);
        assert_eq!(stats.std[1], MIN_STD, "constant dimension gets the floor");
        let mut out = [0.0; 2];
        stats.apply_into(&[3.0 + expected_std, f32::NAN], &mut out);
        assert!((out[0] - 1.0).abs() < 1e-5 && out[1] == 0.0, "{out:?}");
    }

    /// With a prior of p frames the running mean of frame t is sum/(p + t + 1).
    #[test]
    fn running_mean_is_causal_and_matches_formula() {
        let stats = NormStats { running_prior_frames: 1.0, ..NormStats::identity(1) };
        let mut data = [0.0f32; 3];
        stats.normalise_sequence(&[2.0, 4.0, 0.0], None, &mut data);
        assert_eq!(data, [2.0 - 2.0 / 2.0, 4.0 - 6.0 / 3.0, 0.0 - 6.0 / 4.0]);
    }

    /// Dual input: each frame's z-score, then its speaker-normalised copy; a fresh
    /// session's statistics are those of its frames so far.
    #[test]
    fn dual_input_keeps_the_z_score_beside_the_speaker_normalised_frame() {
        let stats = NormStats {
            mean: vec![1.0],
            speaker_norm: SpeakerNorm::MeanStd,
            dual_input: true,
            ..NormStats::identity(1)
        };
        assert_eq!(stats.input_dims(), 2);
        let speaker = SpeakerStats { mean: vec![1.0], std: vec![2.0] };
        let mut out = [0.0f32; 4];
        stats.normalise_sequence(&[4.0, 0.0], Some(&speaker), &mut out);
        assert_eq!(out, [3.0, 1.0, -1.0, -1.0]);
        // A fresh session without a prior: the first frame is its own mean, std the floor.
        let mut out = [0.0f32; 4];
        stats.normalise_sequence(&[4.0, 0.0], None, &mut out);
        assert_eq!(out[..3], [3.0, 0.0, -1.0]);
        assert!((out[3] - -1.0).abs() < 1e-6, "(-1 - 1) / 2: {out:?}");
    }
}
