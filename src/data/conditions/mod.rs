//! Recording conditions simulated on a waveform: seeded transforms that make clean corpus
//! speech sound as if it came through another room, microphone, gain setting or phone line.
//! Used for training augmentation and for the robustness rows of the scoreboard.
//!
//! Samples are mono `f32` at any rate (the project works at 16 kHz). Every random choice
//! comes from the caller's [`Rng`](crate::data::Rng), so the same seed gives the same
//! output, bit for bit. Each stage keeps the input's length and time alignment.
//!
//! The stages, one file each:
//! - [`biquad`], [`filters`]: RBJ biquads, Butterworth cascades, the telephone band, low
//!   and high cuts and a random microphone equaliser;
//! - [`room`], [`convolve`]: generated room impulse responses for a given RT60 and
//!   direct-to-reverberant ratio, applied by FFT convolution;
//! - [`noise`], [`snr`]: white, pink, brown and babble noise, mixed at an SNR measured
//!   against the speech's active level;
//! - [`level`]: gain with a look-ahead peak limiter, and hard clipping;
//! - [`narrowband`]: down to 8 kHz and back up (a narrowband codec's bandwidth);
//! - [`condition`]: the serialisable [`Condition`] that names one of the above;
//! - [`chain`]: [`ChainConfig`], a random chain of conditions in physical order.

pub mod biquad;
pub mod chain;
pub mod condition;
pub mod convolve;
pub mod filters;
pub mod level;
pub mod narrowband;
pub mod noise;
pub mod room;
pub mod snr;
#[cfg(test)]
mod test_signals;

pub use chain::{ChainConfig, apply_conditions};
pub use condition::{Condition, NoiseKind};

use crate::audio::ResampleError;

/// Why a condition could not be applied. Nothing is half-applied: the input is untouched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    /// The sample rate is zero. Pass the clip's real rate in Hz.
    #[error("sample rate {sample_rate_hz} Hz is not usable for a recording condition")]
    BadSampleRate {
        /// The rate given, Hz.
        sample_rate_hz: u32,
    },
    /// A parameter is out of its range (or not finite). Fix the condition or its config.
    #[error("{name} = {value} is out of range: {expected}")]
    BadParameter {
        /// The parameter's name, as in the config.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The range it must lie in.
        expected: &'static str,
    },
    /// Babble noise was asked for but no source waveform had any sound. Pass recordings of
    /// other speakers, or leave babble out of the noise kinds.
    #[error("babble noise needs at least one non-silent source waveform; none was given")]
    NoBabbleSources,
    /// The 8 kHz down-and-up path could not build its resampler.
    #[error("narrowband path: {0}")]
    Resample(#[from] ResampleError),
}

/// Checks that `value` is finite and inside `[lo, hi]`.
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    expected: &'static str,
) -> Result<f64, ConditionError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(ConditionError::BadParameter { name, value, expected })
    }
}

/// Checks that the sample rate is usable (non-zero).
pub(crate) fn check_rate(sample_rate_hz: u32) -> Result<f64, ConditionError> {
    if sample_rate_hz == 0 {
        Err(ConditionError::BadSampleRate { sample_rate_hz })
    } else {
        Ok(f64::from(sample_rate_hz))
    }
}
