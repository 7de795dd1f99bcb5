//! Speaker (session) normalisation: after the global z-score, a speaker's frames are
//! centred, and optionally scaled, by that speaker's own statistics, so the model hears
//! how the voice departs from its own habit rather than from the training speakers'
//! average.
//!
//! In training and `eval` a speaker's statistics come from all of that speaker's files.
//! Live, the speaker is the session: statistics accumulate over every frame the model
//! has been given since the session began (speech only), shrunk towards the training
//! statistics (mean 0, std 1 after the z-score) by `prior_frames` virtual frames, so a
//! session starts close to plain z-scoring and moves to the speaker's own statistics.

use serde::{Deserialize, Serialize};

use super::normalise::MIN_STD;

/// Which of a speaker's statistics normalise its frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerNorm {
    /// None (the global z-score only).
    #[default]
    Off,
    /// Subtract the speaker's mean.
    Mean,
    /// Subtract the speaker's mean and divide by the speaker's standard deviation.
    MeanStd,
}

/// One speaker's mean and standard deviation per dimension, in z-score units.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerStats {
    /// Mean per dimension.
    pub mean: Vec<f32>,
    /// Standard deviation per dimension (at least [`MIN_STD`]).
    pub std: Vec<f32>,
}

impl SpeakerStats {
    /// The training statistics themselves (mean 0, std 1): normalising changes nothing.
    pub fn identity(dims: usize) -> Self {
        Self { mean: vec![0.0; dims], std: vec![1.0; dims] }
    }

    /// Normalises one z-scored frame in place.
    pub fn apply(&self, mode: SpeakerNorm, frame: &mut [f32]) {
        match mode {
            SpeakerNorm::Off => {}
            SpeakerNorm::Mean => frame.iter_mut().zip(&self.mean).for_each(|(x, m)| *x -= m),
            SpeakerNorm::MeanStd => {
                for ((x, m), s) in frame.iter_mut().zip(&self.mean).zip(&self.std) {
                    *x = (*x - m) / s;
                }
            }
        }
    }
}

/// How a speaker's statistics over a mixed session differ, on average, from those of a
/// calm reading of the same voice: added to a reading's statistics, it estimates the
/// session's (see `train::calibration`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationShift {
    /// Session mean minus reading mean, per dimension.
    pub mean: Vec<f32>,
    /// Natural log of session std over reading std, per dimension.
    pub log_std_ratio: Vec<f32>,
}

impl CalibrationShift {
    /// A reading's statistics moved to estimate a mixed session's.
    pub fn apply(&self, reading: &SpeakerStats) -> SpeakerStats {
        SpeakerStats {
            mean: reading.mean.iter().zip(&self.mean).map(|(m, d)| m + d).collect(),
            std: reading
                .std
                .iter()
                .zip(&self.log_std_ratio)
                .map(|(s, r)| (s * r.exp()).max(MIN_STD))
                .collect(),
        }
    }
}

/// Sums over a speaker's (or a session's) z-scored frames.
#[derive(Debug, Clone)]
pub struct SpeakerAccumulator {
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
    frames: u64,
    stats: SpeakerStats,
}

impl SpeakerAccumulator {
    /// Nothing heard yet.
    pub fn new(dims: usize) -> Self {
        Self { sum: vec![0.0; dims], sum_sq: vec![0.0; dims], frames: 0, stats: SpeakerStats::identity(dims) }
    }

    /// Forgets everything (a new session).
    pub fn reset(&mut self) {
        self.sum.fill(0.0);
        self.sum_sq.fill(0.0);
        self.frames = 0;
    }

    /// Frames added since the last reset.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Adds every frame of a row-major matrix of z-scored frames.
    pub fn add(&mut self, data: &[f32]) {
        let dims = self.sum.len();
        if dims == 0 {
            return;
        }
        for frame in data.chunks_exact(dims) {
            for ((s, q), &x) in self.sum.iter_mut().zip(&mut self.sum_sq).zip(frame) {
                let x = f64::from(x);
                *s += x;
                *q += x * x;
            }
            self.frames += 1;
        }
    }

    /// The statistics so far, shrunk towards mean 0 and std 1 by `prior_frames` virtual
    /// frames. Computed into a buffer held here: no allocation.
    pub fn stats(&mut self, prior_frames: f32) -> &SpeakerStats {
        let prior = f64::from(prior_frames.max(0.0));
        let n = self.frames as f64 + prior;
        let stats = &mut self.stats;
        if n <= 0.0 {
            stats.mean.fill(0.0);
            stats.std.fill(1.0);
            return stats;
        }
        for (((m, s), sum), sq) in stats.mean.iter_mut().zip(&mut stats.std).zip(&self.sum).zip(&self.sum_sq)
        {
            let mean = sum / n;
            let mean_sq = (sq + prior) / n;
            *m = mean as f32;
            *s = ((mean_sq - mean * mean).max(0.0).sqrt() as f32).max(MIN_STD);
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With no prior the statistics are the frames' own; the prior pulls them towards 0 / 1.
    #[test]
    fn stats_are_the_frames_own_and_the_prior_shrinks_them() {
        let mut acc = SpeakerAccumulator::new(1);
        acc.add(&[1.0, 3.0]);
        let own = acc.stats(0.0).clone();
        assert_eq!((own.mean[0], own.std[0]), (2.0, 1.0));
        // Two virtual frames at mean 0, std 1: mean 4/4, E[x^2] = (10 + 2)/4 = 3.
        let shrunk = acc.stats(2.0).clone();
        assert_eq!(shrunk.mean[0], 1.0);
        assert!((shrunk.std[0] - 2f32.sqrt()).abs() < 1e-6);
        acc.reset();
        assert_eq!(acc.stats(2.0), &SpeakerStats::identity(1), "a new session starts from the prior");
    }

    #[test]
    fn modes_centre_and_scale() {
        let stats = SpeakerStats { mean: vec![1.0, -1.0], std: vec![2.0, 0.5] };
        let mut frame = [3.0, 0.0];
        stats.apply(SpeakerNorm::Mean, &mut frame);
        assert_eq!(frame, [2.0, 1.0]);
        let mut frame = [3.0, 0.0];
        stats.apply(SpeakerNorm::MeanStd, &mut frame);
        assert_eq!(frame, [1.0, 2.0]);
        stats.apply(SpeakerNorm::Off, &mut frame);
        assert_eq!(frame, [1.0, 2.0]);
    }

    #[test]
    fn a_shift_moves_the_mean_and_scales_the_std() {
        let shift = CalibrationShift { mean: vec![0.5, -1.0], log_std_ratio: vec![2f32.ln(), 0.0] };
        let reading = SpeakerStats { mean: vec![1.0, 1.0], std: vec![0.5, 3.0] };
        let session = shift.apply(&reading);
        assert_eq!(session.mean, [1.5, 0.0]);
        assert!((session.std[0] - 1.0).abs() < 1e-6 && (session.std[1] - 3.0).abs() < 1e-6, "{session:?}");
    }
}
