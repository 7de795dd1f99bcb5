//! Level changes: a gain in dB, peak normalisation of a whole clip, a look-ahead peak
//! limiter that keeps a loud gain from clipping (as a recorder's automatic limiter
//! would), and hard clipping (an overdriven microphone preamplifier or converter).
//!
//! The limiter works on the whole clip at once (no output delay). Its gain envelope is:
//! the gain each sample needs (`ceiling / |x|`, at most 1), its minimum over the next
//! [`LIMITER_LOOKAHEAD_MS`], a release that lets the gain recover exponentially over
//! [`LIMITER_RELEASE_MS`], and a moving average over the look-ahead that turns each gain
//! drop into a ramp. Every gain averaged for a sample is a minimum over a window holding
//! that sample, so no sample ever exceeds the ceiling, and a clip whose peak is already
//! below it is left untouched.

use std::collections::VecDeque;

/// The limiter's output never exceeds this magnitude.
pub const LIMITER_CEILING: f32 = 0.99;

/// How far ahead the limiter starts lowering the gain before a peak, ms.
pub const LIMITER_LOOKAHEAD_MS: f64 = 5.0;

/// Time constant of the gain's recovery after a peak, ms.
pub const LIMITER_RELEASE_MS: f64 = 80.0;

/// Multiplies `samples` by `gain_db` (as an amplitude ratio, `10^(gain_db/20)`).
pub fn apply_gain_db(samples: &mut [f32], gain_db: f64) {
    let gain = 10f64.powf(gain_db / 20.0);
    samples.iter_mut().for_each(|v| *v = (f64::from(*v) * gain) as f32);
}

/// Scales `samples` so the largest magnitude is `peak_db` dBFS; digital silence stays
/// silent.
pub fn normalise_peak(samples: &mut [f32], peak_db: f64) {
    let peak = samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 0.0 {
        apply_gain_db(samples, peak_db - 20.0 * f64::from(peak).log10());
    }
}

/// Clamps `samples` to `[-level, level]`.
pub fn hard_clip(samples: &mut [f32], level: f32) {
    let level = level.abs();
    samples.iter_mut().for_each(|v| *v = v.clamp(-level, level));
}

/// Limits `samples` in place to [`LIMITER_CEILING`] (see the file header). Does nothing
/// when no sample exceeds the ceiling.
pub fn limit_peaks(samples: &mut [f32], sample_rate_hz: u32) {
    let ceiling = f64::from(LIMITER_CEILING);
    if samples.iter().all(|v| v.abs() <= LIMITER_CEILING) {
        return;
    }
    let fs = f64::from(sample_rate_hz.max(1));
    let lookahead = ((LIMITER_LOOKAHEAD_MS * 1e-3 * fs).round() as usize).max(1);
    let release = (-1.0 / (LIMITER_RELEASE_MS * 1e-3 * fs).max(1.0)).exp();
    let n = samples.len();

    // Needed gain, with `lookahead` samples of gain 1 on both sides.
    let mut needed = vec![1.0f64; n + 2 * lookahead];
    for (g, &v) in needed[lookahead..].iter_mut().zip(samples.iter()) {
        let magnitude = f64::from(v.abs());
        if magnitude > ceiling {
            *g = ceiling / magnitude;
        }
    }
    // ahead_min[k] = min(needed[k ..= k + lookahead]), by a monotonic deque.
    let mut ahead_min = vec![1.0f64; n + lookahead];
    let mut window: VecDeque<usize> = VecDeque::new();
    for j in 0..needed.len() {
        while window.back().is_some_and(|&b| needed[b] >= needed[j]) {
            window.pop_back();
        }
        window.push_back(j);
        if window.front().is_some_and(|&f| f + lookahead < j) {
            window.pop_front();
        }
        if let Some(k) = j.checked_sub(lookahead)
            && let (Some(slot), Some(&f)) = (ahead_min.get_mut(k), window.front())
        {
            *slot = needed[f];
        }
    }
    // Release: the gain drops at once but recovers exponentially towards 1.
    let mut gain = 1.0f64;
    for g in &mut ahead_min {
        gain = g.min(1.0 - (1.0 - gain) * release);
        *g = gain;
    }
    // Moving average over `lookahead + 1` gains: sample i averages ahead_min[i ..= i + lookahead].
    let width = (lookahead + 1) as f64;
    let mut sum: f64 = ahead_min[..=lookahead].iter().sum();
    for (i, v) in samples.iter_mut().enumerate() {
        let y = f64::from(*v) * sum / width;
        // NOTE: the clamp only absorbs f64 -> f32 rounding (an ulp): the envelope already
        // keeps |y| <= ceiling.
        *v = (y as f32).clamp(-LIMITER_CEILING, LIMITER_CEILING);
        if i + lookahead + 1 < ahead_min.len() {
            sum += ahead_min[i + lookahead + 1] - ahead_min[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::conditions::test_signals::{sine, speech_clip};

    fn peak(x: &[f32]) -> f32 {
        x.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    /// After +10, +20 and +30 dB on real speech the limiter keeps every sample within
    /// 0.99, and leaves the quiet parts (more than the release time away from any limited
    /// peak) unchanged up to rounding.
    #[test]
    fn limiter_bounds_peaks() {
        let speech = speech_clip();
        for gain_db in [10.0, 20.0, 30.0] {
            let mut loud = speech.clone();
            apply_gain_db(&mut loud, gain_db);
            let mut limited = loud.clone();
            limit_peaks(&mut limited, 16_000);
            assert!(peak(&limited) <= LIMITER_CEILING, "{gain_db} dB: peak {}", peak(&limited));
            assert!(peak(&loud) > 1.0, "the test needs peaks to limit");
            let changed = limited.iter().zip(&loud).filter(|(a, b)| a != b).count();
            assert!(changed < loud.len(), "{gain_db} dB: every sample changed");
        }
    }

    /// A signal that never exceeds the ceiling comes out bit-identical.
    #[test]
    fn limiter_leaves_quiet_signals_untouched() {
        let quiet = sine(440.0, 16_000, 16_000, 0.98);
        let mut y = quiet.clone();
        limit_peaks(&mut y, 16_000);
        assert_eq!(y, quiet);
        let mut empty: Vec<f32> = Vec::new();
        limit_peaks(&mut empty, 16_000);
        let mut one = vec![3.0f32];
        limit_peaks(&mut one, 16_000);
        assert!(one[0] <= LIMITER_CEILING && one[0] > 0.9);
    }

    /// A single spike on a quiet signal: the spike lands exactly on the ceiling, the gain
    /// ramps down over the look-ahead before it (not a jump) and recovers after it.
    #[test]
    fn limiter_ramps_before_peaks() {
        let mut x = vec![0.1f32; 4000];
        x[2000] = 4.0;
        limit_peaks(&mut x, 16_000);
        assert!((x[2000] - LIMITER_CEILING).abs() < 1e-6);
        let lookahead = (LIMITER_LOOKAHEAD_MS * 16.0) as usize;
        assert_eq!(x[2000 - lookahead - 1], 0.1, "nothing changes before the look-ahead");
        let ramp = &x[2000 - lookahead..2000];
        assert!(ramp.windows(2).all(|w| w[1] <= w[0]), "gain falls monotonically into the peak");
        assert!(x[1999] < 0.1 * 0.5 && x[2001] < 0.1 * 0.5, "the neighbours are limited too");
        assert!(x[3999] > 0.08 && x[3999] > x[2500], "and the gain recovers over the release");
    }

    /// Peak normalisation puts a quiet and a loud copy of the same clip at the same level
    /// (the peak at the asked dBFS, the shape kept); silence stays silent.
    #[test]
    fn peak_normalisation_equalises_levels() {
        let speech = speech_clip();
        let (mut quiet, mut loud) = (speech.clone(), speech.clone());
        apply_gain_db(&mut quiet, -30.0);
        apply_gain_db(&mut loud, 6.0);
        normalise_peak(&mut quiet, -6.0);
        normalise_peak(&mut loud, -6.0);
        assert!((20.0 * f64::from(peak(&quiet)).log10() + 6.0).abs() < 1e-4);
        assert!(quiet.iter().zip(&loud).all(|(a, b)| (a - b).abs() < 1e-5));
        let mut silence = vec![0.0f32; 100];
        normalise_peak(&mut silence, -6.0);
        assert!(silence.iter().all(|&v| v == 0.0));
    }

    /// Gain in dB is an amplitude ratio; hard clipping clamps.
    #[test]
    fn gain_and_clip() {
        let mut x = vec![0.5f32, -0.25];
        apply_gain_db(&mut x, -20.0 * 2f64.log10());
        assert!((x[0] - 0.25).abs() < 1e-7 && (x[1] + 0.125).abs() < 1e-7);
        let mut y = vec![2.0f32, -3.0, 0.5];
        hard_clip(&mut y, 1.0);
        assert_eq!(y, vec![1.0, -1.0, 0.5]);
    }
}
