//! Training-only, seeded augmentation.
//!
//! Copy level (each augmented copy is cached like clean features): speed perturbation,
//! time shift, gain, additive white noise at an SNR, and vocal-tract-length perturbation
//! (the copy's mel bank reads a frequency-warped spectrum, `features::filters`). With
//! `[augment.conditions]`, the gain and white noise give way to a random chain of
//! recording conditions (`data::conditions`: room, noise including babble of other
//! training speakers, microphone colouring, band limits, gain and limiter, 8 kHz codec).
//! Feature level (on normalised frames, per batch): SpecAugment-style time and feature
//! masks set to 0, the training mean.

use serde::{Deserialize, Serialize};

use super::conditions::{ChainConfig, ConditionError};
use super::rng::Rng;

/// Augmentation settings (`[augment]` in train.toml). Ranges are `[min, max]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentConfig {
    /// Augmented copies made of each training file (0 turns waveform augmentation off).
    /// Each epoch uses the clean file or one of its copies, chosen at random.
    pub copies: usize,
    /// Probability that a copy gets additive noise, 0-1.
    pub noise_prob: f64,
    /// Signal-to-noise ratio of that noise, dB.
    pub snr_db: [f64; 2],
    /// Gain applied to a copy, dB.
    pub gain_db: [f64; 2],
    /// Speed factor (1.0 = unchanged; 1.1 is 10 % faster and higher).
    pub speed: [f64; 2],
    /// Largest time shift, ms: positive delays (silence prepended), negative drops audio.
    pub shift_ms: f64,
    /// Vocal-tract-length perturbation of a copy's features: its mel bank reads the
    /// spectrum with frequencies scaled by a factor from this range (`[1.0, 1.0]` = off).
    /// Unlike `speed`, it moves formants without changing pitch or duration.
    pub vtlp: [f64; 2],
    /// Number of SpecAugment time masks per training sequence.
    pub time_masks: usize,
    /// Longest time mask, frames.
    pub time_mask_frames: usize,
    /// Number of feature-dimension masks per training sequence.
    pub feature_masks: usize,
    /// Widest feature mask, dimensions.
    pub feature_mask_dims: usize,
    /// Recording conditions for the copies, in place of `gain_db` and the white noise
    /// (`None`: off, as in configs from before it existed).
    pub conditions: Option<ChainConfig>,
    /// How many copies (the first ones) go through `conditions`; the rest get the plain
    /// gain and white noise, exactly as without conditions. `None`: every copy.
    pub conditioned_copies: Option<usize>,
    /// Corpora whose training speakers make the babble noise (by corpus name).
    pub babble_from: Vec<String>,
    /// Number of other speakers talking at once in babble, `[min, max]`.
    pub babble_talkers: [usize; 2],
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            copies: 2,
            noise_prob: 0.5,
            snr_db: [10.0, 30.0],
            gain_db: [-6.0, 6.0],
            speed: [0.9, 1.1],
            shift_ms: 100.0,
            vtlp: [1.0, 1.0],
            time_masks: 2,
            time_mask_frames: 20,
            feature_masks: 2,
            feature_mask_dims: 8,
            conditions: None,
            conditioned_copies: None,
            babble_from: vec!["ravdess".to_owned()],
            babble_talkers: [3, 6],
        }
    }
}

impl AugmentConfig {
    /// No augmentation at all.
    pub fn none() -> Self {
        Self { copies: 0, time_masks: 0, feature_masks: 0, ..Self::default() }
    }

    /// The recording conditions copy number `copy` (1-based) goes through, if any.
    pub fn conditions_of(&self, copy: usize) -> Option<&ChainConfig> {
        self.conditions.as_ref().filter(|_| self.conditioned_copies.is_none_or(|n| copy <= n))
    }

    /// A stable text of the settings that make copy number `copy`'s features, for its
    /// feature-cache key. A copy without conditions has the key it has without them.
    pub fn copy_key(&self, copy: usize) -> String {
        let key = format!(
            "noise_prob={} snr_db={:?} gain_db={:?} speed={:?} shift_ms={}",
            self.noise_prob, self.snr_db, self.gain_db, self.speed, self.shift_ms
        );
        // Without VTLP the key stays what it was before VTLP existed, so caches still hit.
        let key = if self.vtlp == [1.0, 1.0] { key } else { format!("{key} vtlp={:?}", self.vtlp) };
        match self.conditions_of(copy) {
            Some(chain) => format!("{key} {} babble_talkers={:?}", chain.key(), self.babble_talkers),
            None => key,
        }
    }

    /// The VTLP factor of one copy: drawn from `rng` only when `vtlp` is a range, so a
    /// config without VTLP draws the same numbers as before VTLP existed.
    pub fn draw_vtlp(&self, rng: &mut Rng) -> f64 {
        let [low, high] = self.vtlp;
        if low < high { rng.uniform(low, high) } else { low }
    }
}

/// Speed change by resampling: `resample(samples, from_hz, to_hz)`.
pub type Resampler<'a> = &'a dyn Fn(&[f32], u32, u32) -> Vec<f32>;

/// Augmented copy number `copy` (1-based) of a waveform: speed, shift, then gain and noise
/// or the recording conditions (whose babble mixes `babble`), all drawn from `rng`.
pub fn augment_waveform(
    samples: &[f32],
    sample_rate_hz: u32,
    config: &AugmentConfig,
    copy: usize,
    rng: &mut Rng,
    resample: Resampler<'_>,
    babble: &[&[f32]],
) -> Result<Vec<f32>, ConditionError> {
    let speed = rng.uniform(config.speed[0], config.speed[1]);
    let mut out = if (speed - 1.0).abs() > 1e-3 {
        // Played `speed` times faster: the samples are taken to be at rate * speed.
        let from_hz = (f64::from(sample_rate_hz) * speed).round() as u32;
        resample(samples, from_hz, sample_rate_hz)
    } else {
        samples.to_vec()
    };
    let shift_ms = rng.uniform(-config.shift_ms, config.shift_ms);
    let shift = (shift_ms.abs() / 1000.0 * f64::from(sample_rate_hz)) as usize;
    if shift_ms >= 0.0 {
        out.splice(0..0, std::iter::repeat_n(0.0, shift));
    } else {
        out.drain(..shift.min(out.len() / 2));
    }
    if let Some(chain) = config.conditions_of(copy) {
        return Ok(chain.augment(&out, sample_rate_hz, rng, babble)?.0);
    }
    let gain = 10f64.powf(rng.uniform(config.gain_db[0], config.gain_db[1]) / 20.0) as f32;
    out.iter_mut().for_each(|x| *x *= gain);
    if rng.unit() < config.noise_prob {
        add_noise(&mut out, rng.uniform(config.snr_db[0], config.snr_db[1]), rng);
    }
    Ok(out)
}

/// Adds white Gaussian noise at `snr_db` relative to the signal's mean power.
pub fn add_noise(samples: &mut [f32], snr_db: f64, rng: &mut Rng) {
    if samples.is_empty() {
        return;
    }
    let power = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / samples.len() as f64;
    let noise_std = (power / 10f64.powf(snr_db / 10.0)).sqrt();
    for x in samples.iter_mut() {
        *x += (noise_std * rng.normal()) as f32;
    }
}

/// SpecAugment on one normalised row-major `[frames, dims]` sequence: time masks and
/// feature masks set to 0.
pub fn spec_augment(frames: &mut [f32], dims: usize, config: &AugmentConfig, rng: &mut Rng) {
    if dims == 0 {
        return;
    }
    let n_frames = frames.len() / dims;
    for _ in 0..config.time_masks {
        let width = rng.below(config.time_mask_frames + 1).min(n_frames);
        let start = rng.below(n_frames - width + 1);
        frames[start * dims..(start + width) * dims].fill(0.0);
    }
    for _ in 0..config.feature_masks {
        let width = rng.below(config.feature_mask_dims + 1).min(dims);
        let start = rng.below(dims - width + 1);
        for frame in frames.chunks_exact_mut(dims) {
            frame[start..start + width].fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_resample(samples: &[f32], _: u32, _: u32) -> Vec<f32> {
        samples.to_vec()
    }

    #[test]
    fn noise_has_the_requested_snr() {
        let mut rng = Rng::new(3);
        let clean: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.05).sin()).collect();
        let mut noisy = clean.clone();
        add_noise(&mut noisy, 10.0, &mut rng);
        let p = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
        let noise: Vec<f32> = noisy.iter().zip(&clean).map(|(a, b)| a - b).collect();
        let snr = 10.0 * (p(&clean) / p(&noise)).log10();
        assert!((snr - 10.0).abs() < 0.2, "snr {snr}");
    }

    #[test]
    fn same_seed_same_copy_and_gain_within_range() {
        let config =
            AugmentConfig { noise_prob: 0.0, speed: [1.0, 1.0], shift_ms: 0.0, ..Default::default() };
        let x: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.1).sin()).collect();
        let a = augment_waveform(&x, 16_000, &config, 1, &mut Rng::new(9), &no_resample, &[]).unwrap();
        let b = augment_waveform(&x, 16_000, &config, 1, &mut Rng::new(9), &no_resample, &[]).unwrap();
        assert_eq!(a, b);
        let ratio = a[10] / x[10];
        assert!((0.5..=2.0).contains(&ratio), "gain within ±6 dB, got {ratio}");
    }

    /// VTLP off draws nothing (earlier configs keep their random streams and cache keys);
    /// on, it draws a factor within the range and names the range in the copy key.
    #[test]
    fn vtlp_draws_only_when_on() {
        let off = AugmentConfig::default();
        let mut rng = Rng::new(5);
        assert_eq!(off.draw_vtlp(&mut rng), 1.0);
        assert_eq!(rng.next_u64(), Rng::new(5).next_u64());
        assert!(!off.copy_key(1).contains("vtlp"));
        let on = AugmentConfig { vtlp: [0.9, 1.1], ..AugmentConfig::default() };
        let factors: Vec<f64> = (0..100).map(|_| on.draw_vtlp(&mut rng)).collect();
        assert!(factors.iter().all(|f| (0.9..=1.1).contains(f)));
        assert!(factors.iter().any(|&f| f < 0.95) && factors.iter().any(|&f| f > 1.05));
        assert!(on.copy_key(1).ends_with("vtlp=[0.9, 1.1]"));
    }

    /// With `conditioned_copies = 1`, copy 1 goes through the conditions and copy 2 is the
    /// plain copy a config without conditions makes, sample for sample and key for key.
    #[test]
    fn only_the_first_copies_get_conditions() {
        let chain = ChainConfig { gain_prob: 1.0, gain_db: [-30.0, -20.0], ..ChainConfig::default() };
        let plain = AugmentConfig { speed: [1.0, 1.0], ..AugmentConfig::default() };
        let mixed = AugmentConfig { conditions: Some(chain), conditioned_copies: Some(1), ..plain.clone() };
        let x: Vec<f32> = (0..16_000).map(|i| 0.3 * (i as f32 * 0.1).sin()).collect();
        let copy = |config: &AugmentConfig, n| {
            augment_waveform(&x, 16_000, config, n, &mut Rng::new(4), &no_resample, &[]).unwrap()
        };
        assert_eq!(copy(&mixed, 2), copy(&plain, 2));
        assert_eq!(mixed.copy_key(2), plain.copy_key(2));
        assert_ne!(copy(&mixed, 1), copy(&plain, 1));
        assert_ne!(mixed.copy_key(1), plain.copy_key(1));
        let everywhere = AugmentConfig { conditioned_copies: None, ..mixed.clone() };
        assert_eq!(copy(&everywhere, 2), copy(&mixed, 1));
    }

    #[test]
    fn spec_augment_masks_whole_rows_and_columns() {
        let config = AugmentConfig {
            time_masks: 1,
            time_mask_frames: 5,
            feature_masks: 1,
            feature_mask_dims: 2,
            ..AugmentConfig::none()
        };
        let dims = 6;
        let mut frames = vec![1.0f32; 50 * dims];
        spec_augment(&mut frames, dims, &config, &mut Rng::new(1));
        let zeros = frames.iter().filter(|&&x| x == 0.0).count();
        assert!(zeros > 0, "something masked");
        assert!(zeros <= 5 * dims + 2 * 50, "no more than the masks' area");
    }
}
