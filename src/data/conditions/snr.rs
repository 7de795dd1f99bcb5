//! Speech level measured where the speech is (its active frames, not its pauses) and
//! noise mixed in at a signal-to-noise ratio relative to that level.
//!
//! Active level, a simplified ITU-T P.56: the signal is cut into [`ACTIVE_FRAME_MS`]
//! frames; frames whose mean square is within [`ACTIVE_RANGE_DB`] of the loudest frame are
//! active; the active power is the mean square over the active frames. A clip of speech
//! with long pauses thus gets the same level as the same speech without them.

use super::{ConditionError, check_range, check_rate};

/// Frame length of the activity measure, ms.
pub const ACTIVE_FRAME_MS: f64 = 25.0;

/// Frames quieter than the loudest frame by more than this are silence, dB.
pub const ACTIVE_RANGE_DB: f64 = 40.0;

/// Accepted SNR range, dB.
pub const SNR_RANGE_DB: [f64; 2] = [-20.0, 80.0];

/// Mean square of `samples` over their active frames (0 for silence or an empty slice).
/// A signal shorter than one frame is one frame.
pub fn active_power(samples: &[f32], sample_rate_hz: u32) -> f64 {
    let frame = ((ACTIVE_FRAME_MS * 1e-3 * f64::from(sample_rate_hz)).round() as usize).max(1);
    let frame = if samples.len() < frame { samples.len().max(1) } else { frame };
    let energies: Vec<f64> =
        samples.chunks_exact(frame).map(|c| c.iter().map(|&v| f64::from(v).powi(2)).sum()).collect();
    let loudest = energies.iter().copied().fold(0.0, f64::max);
    if loudest <= 0.0 {
        return 0.0;
    }
    let floor = loudest * 10f64.powf(-ACTIVE_RANGE_DB / 10.0);
    let (energy, frames) =
        energies.iter().filter(|&&e| e >= floor).fold((0.0, 0usize), |(sum, n), &e| (sum + e, n + 1));
    energy / (frames * frame) as f64
}

/// Mean square of `samples` (0 for an empty slice).
pub fn mean_power(samples: &[f32]) -> f64 {
    samples.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / samples.len().max(1) as f64
}

/// `speech` plus `noise` scaled so that the speech's [`active_power`] over the noise's
/// [`mean_power`] (over the speech's length) is `snr_db`. Silent speech or silent noise
/// gets no noise (the SNR of silence is undefined).
///
/// `noise` must be at least as long as `speech`; only its first `speech.len()` samples
/// are used.
pub fn add_noise_at_snr(
    speech: &[f32],
    noise: &[f32],
    snr_db: f64,
    sample_rate_hz: u32,
) -> Result<Vec<f32>, ConditionError> {
    check_rate(sample_rate_hz)?;
    check_range("snr_db", snr_db, SNR_RANGE_DB[0], SNR_RANGE_DB[1], "-20 ..= 80 dB")?;
    if noise.len() < speech.len() {
        return Err(ConditionError::BadParameter {
            name: "noise length",
            value: noise.len() as f64,
            expected: "at least the speech's length",
        });
    }
    let noise = &noise[..speech.len()];
    let (speech_power, noise_power) = (active_power(speech, sample_rate_hz), mean_power(noise));
    if speech_power <= 0.0 || noise_power <= 0.0 {
        return Ok(speech.to_vec());
    }
    let scale = (speech_power / (noise_power * 10f64.powf(snr_db / 10.0))).sqrt();
    Ok(speech.iter().zip(noise).map(|(&s, &n)| (f64::from(s) + scale * f64::from(n)) as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::conditions::test_signals::sine;

    /// A 1 s tone of amplitude 0.5 followed by 1 s of near-silence (-70 dB) has the
    /// tone's power (0.125) as its active power, not half of it; louder "silence" (-20 dB)
    /// counts as active.
    #[test]
    fn active_power_ignores_pauses() {
        let mut x = sine(1000.0, 16_000, 16_000, 0.5);
        x.extend(sine(300.0, 16_000, 16_000, 0.5 * 10f64.powf(-70.0 / 20.0)));
        assert!((active_power(&x, 16_000) - 0.125).abs() < 1e-6, "{}", active_power(&x, 16_000));
        assert!((mean_power(&x) - 0.0625).abs() < 1e-6);
        let mut y = sine(1000.0, 16_000, 16_000, 0.5);
        y.extend(sine(300.0, 16_000, 16_000, 0.05));
        assert!((active_power(&y, 16_000) - (0.125 + 0.00125) / 2.0).abs() < 1e-6);
        assert_eq!(active_power(&[0.0; 1000], 16_000), 0.0);
        assert_eq!(active_power(&[], 16_000), 0.0);
        assert!((active_power(&[0.5, -0.5, 0.5], 16_000) - 0.25).abs() < 1e-9, "shorter than a frame");
    }

    /// The achieved SNR (speech active power over the power of what was added) is the
    /// target; silent speech gets no noise; short noise and bad SNRs are errors.
    #[test]
    fn mixes_at_the_target_snr() {
        let speech = sine(440.0, 16_000, 8000, 0.3);
        let noise = sine(3000.0, 16_000, 9000, 1.0);
        for snr in [0.0, 5.0, 17.5, 30.0] {
            let mixed = add_noise_at_snr(&speech, &noise, snr, 16_000).unwrap();
            let added: Vec<f32> = mixed.iter().zip(&speech).map(|(m, s)| m - s).collect();
            let achieved = 10.0 * (active_power(&speech, 16_000) / mean_power(&added)).log10();
            assert!((achieved - snr).abs() < 0.01, "{snr} dB -> {achieved} dB");
        }
        assert_eq!(add_noise_at_snr(&[0.0; 800], &noise, 10.0, 16_000).unwrap(), vec![0.0; 800]);
        assert!(add_noise_at_snr(&speech, &noise[..100], 10.0, 16_000).is_err());
        assert!(add_noise_at_snr(&speech, &noise, f64::INFINITY, 16_000).is_err());
        assert!(add_noise_at_snr(&[], &[], 10.0, 16_000).unwrap().is_empty());
    }
}
