//! [`Condition`]: one named recording condition with its parameters, serialisable so a
//! config or a scoreboard row can name it (`"telephone"`, `{ gain_db = -20.0 }`,
//! `{ noise = { kind = "pink", snr_db = 5.0 } }`), and applied to a clip in one call.
//!
//! Every condition keeps the clip's length and alignment. Random ones (equaliser, reverb,
//! noise) take all their randomness from the caller's [`Rng`], so a seed fixes the output.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::convolve::reverberate;
use super::filters::{TELEPHONE_BAND_HZ, high_cut, low_cut, random_equaliser, telephone_band};
use super::level::{apply_gain_db, hard_clip, limit_peaks, normalise_peak};
use super::narrowband::narrowband_8k;
use super::noise::{babble, brown_noise, pink_noise, white_noise};
use super::room::{DRR_RANGE_DB, RT60_RANGE_S, room_impulse_response};
use super::snr::{SNR_RANGE_DB, add_noise_at_snr};
use super::{ConditionError, check_range, check_rate};
use crate::data::Rng;

/// Which noise [`Condition::Noise`] adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// Flat spectrum (hiss).
    White,
    /// -3 dB/octave (fans, rain, the average of many sounds).
    Pink,
    /// -6 dB/octave (rumble, traffic).
    Brown,
    /// Other people talking: the sum of the caller's babble sources.
    Babble,
}

impl NoiseKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 4] = [Self::White, Self::Pink, Self::Brown, Self::Babble];

    /// The kind's name as written in configs: `white`, `pink`, `brown`, `babble`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::White => "white",
            Self::Pink => "pink",
            Self::Brown => "brown",
            Self::Babble => "babble",
        }
    }
}

/// One recording condition. The physical order of a chain is given by [`Condition::stage`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// A room between speaker and microphone: reverberation time `rt60_s` (s, below 2 kHz)
    /// and direct-to-reverberant energy ratio `drr_db` (dB); level kept (unit-energy response).
    Reverb {
        /// Reverberation time, s (0.05 ..= 3).
        rt60_s: f64,
        /// Direct-to-reverberant ratio, dB (-20 ..= 40).
        drr_db: f64,
    },
    /// Noise in the room at `snr_db` below the speech's active level.
    Noise {
        /// Which noise.
        kind: NoiseKind,
        /// Speech active power over noise power, dB (-20 ..= 80).
        snr_db: f64,
    },
    /// An unknown microphone's colouring: random shelves and peaks up to `max_gain_db`.
    Equaliser {
        /// Largest boost or cut of each band, dB (0 ..= 24).
        max_gain_db: f64,
    },
    /// An overdriven preamp: this gain in dB (0 ..= 60), then hard clipping at full scale.
    OverdriveDb(f64),
    /// The telephone band, 300-3400 Hz.
    Telephone,
    /// A low cut (12 dB/octave high-pass) at this frequency, Hz (1 ..= 20000).
    LowCutHz(f64),
    /// A high cut (24 dB/octave low-pass) at this frequency, Hz (100 ..= 100000).
    HighCutHz(f64),
    /// A gain in dB (-120 ..= 60), then the peak limiter, so loud gains do not clip.
    GainDb(f64),
    /// The whole clip scaled so its peak sits at this level, dBFS (-60 ..= 0): a corpus
    /// or recorder that normalises file by file, as a slow automatic gain control leaves
    /// speech. Unlike [`Condition::GainDb`] the gain differs from clip to clip, so a loud
    /// utterance and a quiet one of the same speaker come out alike.
    PeakNormaliseDb(f64),
    /// Down to 8 kHz and back up: nothing left above 4 kHz.
    #[serde(rename = "narrowband_8k")]
    Narrowband8k,
}

/// Where a condition sits in the signal's path; chains apply stages in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The room's reverberation.
    Room,
    /// Noise in the room.
    Noise,
    /// The microphone's colouring and its preamp's clipping.
    Microphone,
    /// Band limits of the microphone and channel.
    Band,
    /// The recorder's gain and limiter.
    Gain,
    /// The codec's sample rate.
    Codec,
}

impl Condition {
    /// The condition's place in the physical order.
    pub fn stage(&self) -> Stage {
        match self {
            Self::Reverb { .. } => Stage::Room,
            Self::Noise { .. } => Stage::Noise,
            Self::Equaliser { .. } | Self::OverdriveDb(_) => Stage::Microphone,
            Self::Telephone | Self::LowCutHz(_) | Self::HighCutHz(_) => Stage::Band,
            Self::GainDb(_) | Self::PeakNormaliseDb(_) => Stage::Gain,
            Self::Narrowband8k => Stage::Codec,
        }
    }

    /// Checks the parameters against their documented ranges.
    pub fn validate(&self) -> Result<(), ConditionError> {
        let checked = match *self {
            Self::Reverb { rt60_s, drr_db } => {
                check_range("rt60_s", rt60_s, RT60_RANGE_S[0], RT60_RANGE_S[1], "0.05 ..= 3 s")?;
                check_range("drr_db", drr_db, DRR_RANGE_DB[0], DRR_RANGE_DB[1], "-20 ..= 40 dB")
            }
            Self::Noise { snr_db, .. } => {
                check_range("snr_db", snr_db, SNR_RANGE_DB[0], SNR_RANGE_DB[1], "-20 ..= 80 dB")
            }
            Self::Equaliser { max_gain_db } => {
                check_range("max_gain_db", max_gain_db, 0.0, 24.0, "0 ..= 24 dB")
            }
            Self::OverdriveDb(db) => check_range("overdrive_db", db, 0.0, 60.0, "0 ..= 60 dB"),
            Self::LowCutHz(hz) => check_range("low_cut_hz", hz, 1.0, 20_000.0, "1 ..= 20000 Hz"),
            Self::HighCutHz(hz) => check_range("high_cut_hz", hz, 100.0, 100_000.0, "100 ..= 100000 Hz"),
            Self::GainDb(db) => check_range("gain_db", db, -120.0, 60.0, "-120 ..= 60 dB"),
            Self::PeakNormaliseDb(db) => check_range("peak_normalise_db", db, -60.0, 0.0, "-60 ..= 0 dBFS"),
            Self::Telephone | Self::Narrowband8k => Ok(0.0),
        };
        checked.map(|_| ())
    }

    /// `samples` (mono, at `sample_rate_hz`) under this condition: same length, same
    /// alignment. Random choices come from `rng`; babble noise mixes `babble_sources`
    /// (recordings of other speakers). Errors leave nothing changed.
    pub fn apply(
        &self,
        samples: &[f32],
        sample_rate_hz: u32,
        rng: &mut Rng,
        babble_sources: &[&[f32]],
    ) -> Result<Vec<f32>, ConditionError> {
        let fs = check_rate(sample_rate_hz)?;
        self.validate()?;
        let n = samples.len();
        let mut out = samples.to_vec();
        match *self {
            Self::Reverb { rt60_s, drr_db } => {
                let rir = room_impulse_response(sample_rate_hz, rt60_s, drr_db, rng)?;
                out = reverberate(samples, &rir, false);
            }
            Self::Noise { kind, snr_db } => {
                let noise = match kind {
                    NoiseKind::White => white_noise(n, rng),
                    NoiseKind::Pink => pink_noise(n, sample_rate_hz, rng),
                    NoiseKind::Brown => brown_noise(n, sample_rate_hz, rng),
                    NoiseKind::Babble => babble(n, babble_sources, sample_rate_hz, rng)?,
                };
                out = add_noise_at_snr(samples, &noise, snr_db, sample_rate_hz)?;
            }
            Self::Equaliser { max_gain_db } => {
                random_equaliser(fs, max_gain_db, rng).process_in_place(&mut out)
            }
            Self::OverdriveDb(db) => {
                apply_gain_db(&mut out, db);
                hard_clip(&mut out, 1.0);
            }
            Self::Telephone => telephone_band(fs).process_in_place(&mut out),
            Self::LowCutHz(hz) => low_cut(fs, hz).process_in_place(&mut out),
            Self::HighCutHz(hz) => high_cut(fs, hz).process_in_place(&mut out),
            Self::GainDb(db) => {
                apply_gain_db(&mut out, db);
                limit_peaks(&mut out, sample_rate_hz);
            }
            Self::PeakNormaliseDb(db) => normalise_peak(&mut out, db),
            Self::Narrowband8k => out = narrowband_8k(samples, sample_rate_hz)?,
        }
        Ok(out)
    }
}

/// A short human-readable name for tables, e.g. `reverb RT60 0.5 s DRR 3 dB`.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reverb { rt60_s, drr_db } => write!(f, "reverb RT60 {rt60_s} s DRR {drr_db} dB"),
            Self::Noise { kind, snr_db } => write!(f, "{} noise {snr_db} dB SNR", kind.name()),
            Self::Equaliser { max_gain_db } => write!(f, "random EQ ±{max_gain_db} dB"),
            Self::OverdriveDb(db) => write!(f, "overdrive +{db} dB, clipped"),
            Self::Telephone => {
                write!(f, "telephone band {}-{} Hz", TELEPHONE_BAND_HZ[0], TELEPHONE_BAND_HZ[1])
            }
            Self::LowCutHz(hz) => write!(f, "low cut {hz} Hz"),
            Self::HighCutHz(hz) => write!(f, "high cut {hz} Hz"),
            Self::GainDb(db) => write!(f, "gain {db:+} dB, limited"),
            Self::PeakNormaliseDb(db) => write!(f, "each file peak-normalised to {db} dBFS"),
            Self::Narrowband8k => write!(f, "8 kHz down-up"),
        }
    }
}

#[cfg(test)]
#[path = "condition_tests.rs"]
mod tests;
