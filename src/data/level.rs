//! Level-relative features: the microphone's gain taken out of every frame, causally.
//!
//! A louder or quieter microphone shifts every log-mel band, MFCC 0 and the RMS by the
//! same number of dB; the other features (deltas, spectral shape, contrast, zero-crossing
//! rate) do not move. Here those level-dependent values are taken relative to the
//! utterance's running speech level: the mean frame power (RMS²) over the utterance so far,
//! in dB, `L_t = 10 log10(mean(rms_0² ..= rms_t²))`. A power mean is dominated by the
//! loud frames, so the pauses barely lower it. Any constant gain cancels exactly from the
//! first frame on, and the live monitor computes the same thing frame by frame.
//!
//! Per frame: each log-mel band `x - L_t`; MFCC 0 `c0 - sqrt(n_mels) L_t` (the orthonormal
//! DCT of a uniform shift of `L` dB over `n_mels` bands moves `c0` by `sqrt(n_mels) L`);
//! the RMS becomes `10 log10(rms²) - L_t` (dB re the running level).

use serde::{Deserialize, Serialize};

use crate::features::FeatureConfig;

/// Smallest frame power counted, so digital silence gives -100 dB, as the log-mel floor.
const MIN_POWER: f64 = 1e-10;

/// Where the level-dependent values sit in a raw feature frame; saved in the model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelColumns {
    /// First log-mel column and number of bands (0 bands when the input has none).
    pub log_mel: (usize, usize),
    /// Column of MFCC 0, when the input has MFCCs.
    pub mfcc0: Option<usize>,
    /// How far MFCC 0 moves per dB of level: `sqrt(n_mels)`.
    pub mfcc0_per_db: f32,
    /// Column of the RMS (linear amplitude in raw frames): the level's source.
    pub rms: usize,
}

impl LevelColumns {
    /// The columns of a feature configuration's frames; `None` without the spectral family
    /// (which holds the RMS).
    pub fn of(config: &FeatureConfig) -> Option<Self> {
        let f = &config.families;
        if !f.spectral {
            return None;
        }
        let names = config.column_names();
        let column = |name: &str| names.iter().position(|n| n == name);
        Some(Self {
            log_mel: (0, if f.log_mel { config.n_mels } else { 0 }),
            mfcc0: if f.mfcc { column("mfcc0") } else { None },
            mfcc0_per_db: (config.n_mels as f32).sqrt(),
            rms: column("rms")?,
        })
    }

    /// The largest column this needs, plus one.
    pub fn min_dims(&self) -> usize {
        let (start, count) = self.log_mel;
        [start + count, self.mfcc0.map_or(0, |c| c + 1), self.rms + 1].into_iter().max().unwrap_or(0)
    }
}

/// The running speech level of one utterance.
#[derive(Debug, Clone, Default)]
pub struct LevelTracker {
    power_sum: f64,
    frames: u64,
}

impl LevelTracker {
    /// Starts a new utterance.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Adds a raw frame's power to the running level and makes its level-dependent
    /// values relative to that level, in place. A frame shorter than the columns, or
    /// with a non-finite RMS, leaves the level as it was.
    pub fn apply(&mut self, columns: &LevelColumns, frame: &mut [f32]) {
        if frame.len() < columns.min_dims() {
            return;
        }
        let rms = f64::from(frame[columns.rms]);
        let power = if rms.is_finite() { (rms * rms).max(MIN_POWER) } else { f64::NAN };
        if power.is_finite() {
            self.power_sum += power;
            self.frames += 1;
        }
        let level_db = if self.frames > 0 {
            10.0 * (self.power_sum / self.frames as f64).max(MIN_POWER).log10()
        } else {
            -100.0
        };
        let level = level_db as f32;
        frame[columns.rms] =
            if power.is_finite() { (10.0 * power.log10() - level_db) as f32 } else { f32::NAN };
        let (start, count) = columns.log_mel;
        for x in &mut frame[start..start + count] {
            *x -= level;
        }
        if let Some(c0) = columns.mfcc0 {
            frame[c0] -= columns.mfcc0_per_db * level;
        }
    }

    /// [`LevelTracker::apply`] over one utterance's row-major `[frames, dims]` matrix,
    /// from a fresh level.
    pub fn apply_sequence(columns: &LevelColumns, data: &mut [f32], dims: usize) {
        let mut tracker = Self::default();
        for frame in data.chunks_exact_mut(dims.max(1)) {
            tracker.apply(columns, frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{BatchExtractor, FeatureFamilies};

    fn config() -> FeatureConfig {
        FeatureConfig {
            n_mels: 40,
            families: FeatureFamilies {
                log_mel: true,
                mfcc: true,
                chroma: false,
                spectral: true,
                pitch: false,
            },
            ..FeatureConfig::default()
        }
    }

    /// A gain of -20 dB or +10 dB leaves the level-relative frames of a signal unchanged
    /// (to float rounding), from the first frame on; without the transform they move.
    #[test]
    fn constant_gain_cancels_from_the_first_frame() {
        let config = config();
        let columns = LevelColumns::of(&config).expect("spectral family present");
        // Broadband noise with a syllable-like envelope: no band sits at the -100 dB floor,
        // which does not move with gain (digital silence has no level to be relative to).
        let mut rng = crate::data::Rng::new(4);
        let signal: Vec<f32> = (0..16_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.1 * (1.2 + (t * 2.0 * std::f32::consts::PI * 4.0).sin()) * rng.normal() as f32
            })
            .collect();
        let features = |gain_db: f32| {
            let g = 10f32.powf(gain_db / 20.0);
            let scaled: Vec<f32> = signal.iter().map(|x| x * g).collect();
            let frames = BatchExtractor::new(&config).unwrap().extract(&scaled).unwrap();
            (frames.features, frames.frame_dim)
        };
        let (mut reference, dims) = features(0.0);
        let raw_reference = reference.clone();
        LevelTracker::apply_sequence(&columns, &mut reference, dims);
        for gain_db in [-20.0, 10.0] {
            let (mut other, _) = features(gain_db);
            assert!((other[columns.rms] - raw_reference[columns.rms]).abs() > 1e-3, "raw RMS moves");
            LevelTracker::apply_sequence(&columns, &mut other, dims);
            let (column, worst) = reference
                .iter()
                .zip(&other)
                .enumerate()
                .map(|(i, (a, b))| (i % dims, (a - b).abs()))
                .fold((0, 0.0f32), |best, x| if x.1 > best.1 { x } else { best });
            assert!(worst < 2e-2, "gain {gain_db} dB: largest difference {worst} in column {column}");
        }
    }

    /// The level is the power mean so far: after a loud frame and a quiet one, the level
    /// is the loud frame's power halved (-3 dB), and the quiet frame's RMS is relative to it.
    #[test]
    fn level_is_the_running_power_mean() {
        let columns = LevelColumns { log_mel: (0, 1), mfcc0: None, mfcc0_per_db: 1.0, rms: 1 };
        let mut tracker = LevelTracker::default();
        let mut loud = [0.0f32, 1.0];
        tracker.apply(&columns, &mut loud);
        assert!(loud[0].abs() < 1e-6 && loud[1].abs() < 1e-6, "{loud:?}");
        let mut quiet = [-40.0f32, 0.01];
        tracker.apply(&columns, &mut quiet);
        let level_db = 10.0 * (0.5f32 * (1.0 + 1e-4)).log10();
        assert!((quiet[0] - (-40.0 - level_db)).abs() < 1e-4, "{quiet:?}");
        assert!((quiet[1] - (-40.0 - level_db)).abs() < 1e-3, "{quiet:?}");
    }

    /// No spectral family, no RMS: no level columns.
    #[test]
    fn needs_the_rms() {
        let mut config = config();
        config.families.spectral = false;
        assert!(LevelColumns::of(&config).is_none());
    }
}
