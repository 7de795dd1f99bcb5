//! A random chain of recording conditions for augmentation: [`ChainConfig`] holds the
//! probability and range of each condition (`[conditions]`-style TOML with defaults for
//! anything left out); [`ChainConfig::draw`] picks a list of [`Condition`]s in physical
//! order (room -> noise in the room -> microphone colouring -> band limits -> recorder
//! gain and limiter -> codec); [`apply_conditions`] runs such a list over a clip.
//!
//! Each condition is drawn independently with its probability; values are uniform over
//! their `[min, max]` range. Drawing uses the same [`Rng`] as applying, so one seed fixes
//! both the chain and its noise.

use serde::{Deserialize, Serialize};

use super::condition::{Condition, NoiseKind};
use super::{ConditionError, check_range};
use crate::data::Rng;

/// Bump when a change to any condition's algorithm changes its output, so feature caches
/// keyed by [`ChainConfig::key`] are rebuilt.
pub const CHAIN_ALGORITHM_VERSION: u32 = 1;

/// Probabilities (0-1) and ranges (`[min, max]`, drawn uniformly) of the augmentation
/// chain. Defaults follow issue 15: gain -30..+10 dB, EQ, telephone / low cut / high cut,
/// reverb RT60 0.1-0.8 s, noise 0-30 dB SNR including babble, 8 kHz down-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChainConfig {
    /// Probability of a room (reverberation).
    pub reverb_prob: f64,
    /// The room's RT60, s.
    pub reverb_rt60_s: [f64; 2],
    /// The room's direct-to-reverberant ratio, dB (low = far from the microphone).
    pub reverb_drr_db: [f64; 2],
    /// Probability of additive noise.
    pub noise_prob: f64,
    /// Its SNR against the speech's active level, dB.
    pub noise_snr_db: [f64; 2],
    /// Noise kinds to choose from, uniformly. `babble` needs babble sources when applied.
    pub noise_kinds: Vec<NoiseKind>,
    /// Probability of a random microphone equaliser.
    pub equaliser_prob: f64,
    /// Largest boost or cut of each equaliser band, dB.
    pub equaliser_max_gain_db: f64,
    /// Probability of an overdriven (hard-clipped) preamp.
    pub overdrive_prob: f64,
    /// Gain into the clipping, dB.
    pub overdrive_db: [f64; 2],
    /// Probability of the telephone band (300-3400 Hz).
    pub telephone_prob: f64,
    /// Probability of a low cut.
    pub low_cut_prob: f64,
    /// The low cut's frequency, Hz.
    pub low_cut_hz: [f64; 2],
    /// Probability of a high cut.
    pub high_cut_prob: f64,
    /// The high cut's frequency, Hz.
    pub high_cut_hz: [f64; 2],
    /// Probability of a gain change (followed by the peak limiter).
    pub gain_prob: f64,
    /// The gain, dB.
    pub gain_db: [f64; 2],
    /// Probability of the 8 kHz down-and-up path.
    pub narrowband_prob: f64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            reverb_prob: 0.3,
            reverb_rt60_s: [0.1, 0.8],
            reverb_drr_db: [-3.0, 12.0],
            noise_prob: 0.5,
            noise_snr_db: [0.0, 30.0],
            noise_kinds: NoiseKind::ALL.to_vec(),
            equaliser_prob: 0.3,
            equaliser_max_gain_db: 6.0,
            overdrive_prob: 0.0,
            overdrive_db: [6.0, 18.0],
            telephone_prob: 0.1,
            low_cut_prob: 0.2,
            low_cut_hz: [100.0, 300.0],
            high_cut_prob: 0.2,
            high_cut_hz: [3400.0, 8000.0],
            gain_prob: 0.8,
            gain_db: [-30.0, 10.0],
            narrowband_prob: 0.1,
        }
    }
}

impl ChainConfig {
    /// The chain that draws nothing (every probability 0).
    pub fn none() -> Self {
        Self {
            reverb_prob: 0.0,
            noise_prob: 0.0,
            equaliser_prob: 0.0,
            overdrive_prob: 0.0,
            telephone_prob: 0.0,
            low_cut_prob: 0.0,
            high_cut_prob: 0.0,
            gain_prob: 0.0,
            narrowband_prob: 0.0,
            ..Self::default()
        }
    }

    /// Checks probabilities (0-1), ranges (`min <= max`, both accepted by the condition)
    /// and that noise has a kind to choose from.
    pub fn validate(&self) -> Result<(), ConditionError> {
        let probs = [
            ("reverb_prob", self.reverb_prob),
            ("noise_prob", self.noise_prob),
            ("equaliser_prob", self.equaliser_prob),
            ("overdrive_prob", self.overdrive_prob),
            ("telephone_prob", self.telephone_prob),
            ("low_cut_prob", self.low_cut_prob),
            ("high_cut_prob", self.high_cut_prob),
            ("gain_prob", self.gain_prob),
            ("narrowband_prob", self.narrowband_prob),
        ];
        for (name, p) in probs {
            check_range(name, p, 0.0, 1.0, "a probability, 0 ..= 1")?;
        }
        let ranges = [
            ("reverb_rt60_s", self.reverb_rt60_s),
            ("reverb_drr_db", self.reverb_drr_db),
            ("noise_snr_db", self.noise_snr_db),
            ("overdrive_db", self.overdrive_db),
            ("low_cut_hz", self.low_cut_hz),
            ("high_cut_hz", self.high_cut_hz),
            ("gain_db", self.gain_db),
        ];
        for (name, [lo, hi]) in ranges {
            let ordered = lo <= hi; // false for NaN too
            if !ordered {
                let expected = "the range's min (this) must not exceed its max";
                return Err(ConditionError::BadParameter { name, value: lo, expected });
            }
        }
        if self.noise_prob > 0.0 && self.noise_kinds.is_empty() {
            return Err(ConditionError::BadParameter {
                name: "noise_kinds",
                value: 0.0,
                expected: "at least one kind when noise_prob > 0",
            });
        }
        // The ends of every range must be valid conditions themselves.
        for end in 0..2 {
            let [rt60, drr, snr, drive, low, high, gain] = ranges.map(|(_, r)| r[end]);
            for c in [
                Condition::Reverb { rt60_s: rt60, drr_db: drr },
                Condition::Noise { kind: NoiseKind::White, snr_db: snr },
                Condition::Equaliser { max_gain_db: self.equaliser_max_gain_db },
                Condition::OverdriveDb(drive),
                Condition::LowCutHz(low),
                Condition::HighCutHz(high),
                Condition::GainDb(gain),
            ] {
                c.validate()?;
            }
        }
        Ok(())
    }

    /// A random chain, sorted into physical order (see [`Condition::stage`]).
    pub fn draw(&self, rng: &mut Rng) -> Vec<Condition> {
        let chance = |p: f64, rng: &mut Rng| rng.unit() < p;
        let uniform = |[lo, hi]: [f64; 2], rng: &mut Rng| rng.uniform(lo, hi);
        let mut drawn = Vec::new();
        if chance(self.reverb_prob, rng) {
            let (rt60_s, drr_db) = (uniform(self.reverb_rt60_s, rng), uniform(self.reverb_drr_db, rng));
            drawn.push(Condition::Reverb { rt60_s, drr_db });
        }
        if chance(self.noise_prob, rng) && !self.noise_kinds.is_empty() {
            let kind = self.noise_kinds[rng.below(self.noise_kinds.len())];
            drawn.push(Condition::Noise { kind, snr_db: uniform(self.noise_snr_db, rng) });
        }
        if chance(self.equaliser_prob, rng) {
            drawn.push(Condition::Equaliser { max_gain_db: self.equaliser_max_gain_db });
        }
        if chance(self.overdrive_prob, rng) {
            drawn.push(Condition::OverdriveDb(uniform(self.overdrive_db, rng)));
        }
        if chance(self.telephone_prob, rng) {
            drawn.push(Condition::Telephone);
        }
        if chance(self.low_cut_prob, rng) {
            drawn.push(Condition::LowCutHz(uniform(self.low_cut_hz, rng)));
        }
        if chance(self.high_cut_prob, rng) {
            drawn.push(Condition::HighCutHz(uniform(self.high_cut_hz, rng)));
        }
        if chance(self.gain_prob, rng) {
            drawn.push(Condition::GainDb(uniform(self.gain_db, rng)));
        }
        if chance(self.narrowband_prob, rng) {
            drawn.push(Condition::Narrowband8k);
        }
        drawn.sort_by_key(Condition::stage);
        drawn
    }

    /// Draws a chain and applies it: the conditioned clip and the chain used.
    pub fn augment(
        &self,
        samples: &[f32],
        sample_rate_hz: u32,
        rng: &mut Rng,
        babble_sources: &[&[f32]],
    ) -> Result<(Vec<f32>, Vec<Condition>), ConditionError> {
        let chain = self.draw(rng);
        let out = apply_conditions(&chain, samples, sample_rate_hz, rng, babble_sources)?;
        Ok((out, chain))
    }

    /// A stable text of the settings and of the algorithms' version, for a feature-cache
    /// key: equal configs give equal keys, any change of a field changes it.
    pub fn key(&self) -> String {
        let fields = serde_json::to_string(self).unwrap_or_else(|e| format!("{self:?} ({e})"));
        format!("conditions-v{CHAIN_ALGORITHM_VERSION} {fields}")
    }
}

/// `samples` through each of `conditions` in the order given (same length and alignment).
pub fn apply_conditions(
    conditions: &[Condition],
    samples: &[f32],
    sample_rate_hz: u32,
    rng: &mut Rng,
    babble_sources: &[&[f32]],
) -> Result<Vec<f32>, ConditionError> {
    let mut out = samples.to_vec();
    for condition in conditions {
        out = condition.apply(&out, sample_rate_hz, rng, babble_sources)?;
    }
    Ok(out)
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
