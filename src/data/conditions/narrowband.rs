//! The narrowband path of a phone call or an 8 kHz recorder: down to 8 kHz and back up,
//! through the project's band-limited resampler ([`StreamResampler`]), so everything above
//! 4 kHz is gone and the anti-aliasing filter's roll-off below it is applied.
//!
//! The resampler already drops its own start-up delay (its output sample k is the input
//! at k / rate seconds), so the round trip lines up with the input sample for sample; the
//! result is cut or zero-padded to the input's length.

use super::{ConditionError, check_rate};
use crate::audio::StreamResampler;

/// The narrowband sample rate, Hz.
pub const NARROWBAND_RATE_HZ: u32 = 8_000;

/// `samples` resampled from `from_hz` to `to_hz`, the whole signal at once.
fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, ConditionError> {
    let mut resampler = StreamResampler::with_rates(from_hz, to_hz)?;
    let mut out = Vec::with_capacity(samples.len() * to_hz as usize / from_hz.max(1) as usize + 64);
    resampler.process(samples, |s| out.extend_from_slice(s));
    resampler.finish(|s| out.extend_from_slice(s));
    Ok(out)
}

/// `samples` (at `sample_rate_hz`) sent through [`NARROWBAND_RATE_HZ`] and back, the same
/// length and alignment as the input. A rate at or below 8 kHz is returned unchanged.
pub fn narrowband_8k(samples: &[f32], sample_rate_hz: u32) -> Result<Vec<f32>, ConditionError> {
    check_rate(sample_rate_hz)?;
    if sample_rate_hz <= NARROWBAND_RATE_HZ || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let narrow = resample(samples, sample_rate_hz, NARROWBAND_RATE_HZ)?;
    let mut out = resample(&narrow, NARROWBAND_RATE_HZ, sample_rate_hz)?;
    out.resize(samples.len(), 0.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::conditions::test_signals::{mean_square, sine, tone_amplitude_phase};

    /// Normalised cross-correlation of `a` and `b` at `lag` (b shifted right by lag).
    fn xcorr(a: &[f32], b: &[f32], lag: i64) -> f64 {
        let n = a.len() as i64;
        (0..n)
            .filter(|i| (0..n).contains(&(i - lag)))
            .map(|i| f64::from(a[i as usize]) * f64::from(b[(i - lag) as usize]))
            .sum()
    }

    /// A 1 kHz tone comes back at its level (within 0.1 dB), in phase (within 0.01 rad),
    /// and cross-correlates with the input best at lag 0; a broadband click keeps its
    /// position too.
    #[test]
    fn keeps_speech_band_aligned() {
        let x = sine(1000.0, 16_000, 16_000, 0.5);
        let y = narrowband_8k(&x, 16_000).unwrap();
        assert_eq!(y.len(), x.len());
        let (ax, px) = tone_amplitude_phase(&x[1000..15_000], 1000.0, 16_000);
        let (ay, py) = tone_amplitude_phase(&y[1000..15_000], 1000.0, 16_000);
        assert!((20.0 * (ay / ax).log10()).abs() < 0.1 && (px - py).abs() < 0.01, "{ax} {px} -> {ay} {py}");
        let best = (-8..=8).max_by(|&a, &b| xcorr(&x, &y, a).total_cmp(&xcorr(&x, &y, b)));
        assert_eq!(best, Some(0));
        let mut click = vec![0.0f32; 4000];
        click[2001] = 1.0;
        let out = narrowband_8k(&click, 16_000).unwrap();
        let at = out.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
        assert_eq!(at, Some(2001), "an impulse's peak stays where it was");
    }

    /// Tones at 5 and 7 kHz (above the 4 kHz narrowband Nyquist) are removed, not
    /// aliased: what is left is below -60 dB of the input.
    #[test]
    fn removes_content_above_4_khz() {
        for f in [5000.0, 7000.0] {
            let x = sine(f, 16_000, 16_000, 0.5);
            let y = narrowband_8k(&x, 16_000).unwrap();
            let ratio_db = 10.0 * (mean_square(&y[1000..15_000]) / mean_square(&x)).log10();
            assert!(ratio_db < -60.0, "{f} Hz left at {ratio_db} dB");
        }
    }

    /// Empty and one-sample inputs, and inputs already at 8 kHz, pass without panic; a zero
    /// rate is an error.
    #[test]
    fn edge_cases() {
        assert!(narrowband_8k(&[], 16_000).unwrap().is_empty());
        assert_eq!(narrowband_8k(&[0.3], 16_000).unwrap().len(), 1);
        assert_eq!(narrowband_8k(&[0.3, 0.1], 8_000).unwrap(), vec![0.3, 0.1]);
        assert_eq!(narrowband_8k(&sine(500.0, 44_100, 999, 0.5), 44_100).unwrap().len(), 999);
        assert!(narrowband_8k(&[0.3], 0).is_err());
    }
}
