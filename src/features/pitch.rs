//! Pitch (F0) and voicing of one frame, from its normalised autocorrelation (Boersma
//! 1993): the windowed frame's autocorrelation divided by the window's own, so a periodic
//! signal scores near 1 at its period whatever the lag. The autocorrelation comes from a
//! zero-padded FFT (twice the frame), so long lags do not wrap around.
//!
//! Not a librosa feature (librosa's `pyin` looks at the whole file); it is causal and
//! cheap: two real FFTs of `2 * n_fft` per frame, all buffers allocated in `new`.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Columns the pitch family adds: F0 in octaves relative to 100 Hz (0 when unvoiced) and
/// the voicing strength (the normalised autocorrelation peak, 0-1).
pub const N_PITCH: usize = 2;

/// Reference of the octave scale: `log2(f0 / REFERENCE_HZ)`.
pub const REFERENCE_HZ: f64 = 100.0;

/// Voicing strength from which a frame counts as voiced and reports its F0.
pub const VOICED_THRESHOLD: f64 = 0.45;

/// A candidate within this share of the best peak at a shorter lag wins (avoids picking
/// a multiple of the period, i.e. an octave too low).
const OCTAVE_TOLERANCE: f64 = 0.9;

/// One frame's pitch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pitch {
    /// Fundamental frequency in Hz; 0 when unvoiced.
    pub f0_hz: f64,
    /// Normalised autocorrelation at the chosen period, 0-1 (0 for silence).
    pub voicing: f64,
}

impl Pitch {
    /// The two model-input columns: octaves re 100 Hz (0 when unvoiced), voicing.
    pub fn columns(self) -> [f32; N_PITCH] {
        let octaves = if self.f0_hz > 0.0 { (self.f0_hz / REFERENCE_HZ).log2() } else { 0.0 };
        [octaves as f32, self.voicing as f32]
    }
}

/// Autocorrelation pitch tracker for frames of `n_fft` samples under a fixed window.
pub struct PitchTracker {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    padded: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    scratch_forward: Vec<Complex<f64>>,
    scratch_inverse: Vec<Complex<f64>>,
    acf: Vec<f64>,
    /// This frame's autocorrelation over the window's, for lags `0..=max_lag`.
    normalised: Vec<f64>,
    /// The window's autocorrelation normalised to 1 at lag 0, for lags `0..=max_lag`.
    window_acf: Vec<f64>,
    min_lag: usize,
    max_lag: usize,
    sample_rate_hz: f64,
}

impl PitchTracker {
    /// A tracker for frames weighted by `window` (length `n_fft`), searching F0 in
    /// `fmin_hz..=fmax_hz`. The longest lag is kept below the window's non-zero length.
    pub fn new(window: &[f64], sample_rate_hz: u32, fmin_hz: f32, fmax_hz: f32) -> Self {
        let n = window.len();
        let size = 2 * n;
        let mut planner = RealFftPlanner::<f64>::new();
        let forward = planner.plan_fft_forward(size);
        let inverse = planner.plan_fft_inverse(size);
        let sr = f64::from(sample_rate_hz);
        let support = window.iter().filter(|&&w| w > 0.0).count().max(2);
        let max_lag = ((sr / f64::from(fmin_hz)).ceil() as usize).min(support - 1).max(2);
        let min_lag = ((sr / f64::from(fmax_hz)).floor() as usize).clamp(1, max_lag - 1);
        let energy: f64 = window.iter().map(|w| w * w).sum();
        let window_acf = (0..=max_lag)
            .map(|lag| {
                let r: f64 = window[..n - lag].iter().zip(&window[lag..]).map(|(a, b)| a * b).sum();
                if energy > 0.0 { r / energy } else { 0.0 }
            })
            .collect();
        Self {
            padded: forward.make_input_vec(),
            spectrum: forward.make_output_vec(),
            scratch_forward: forward.make_scratch_vec(),
            scratch_inverse: inverse.make_scratch_vec(),
            acf: inverse.make_output_vec(),
            forward,
            inverse,
            normalised: vec![0.0; max_lag + 1],
            window_acf,
            min_lag,
            max_lag,
            sample_rate_hz: sr,
        }
    }

    /// The pitch of one frame of raw samples (the same length as the window).
    pub fn analyze(&mut self, frame: &[f32], window: &[f64]) -> Pitch {
        let n = window.len();
        for ((x, &s), &w) in self.padded[..n].iter_mut().zip(frame).zip(window) {
            *x = f64::from(s) * w;
        }
        self.padded[n..].iter_mut().for_each(|x| *x = 0.0);
        // NOTE: buffers come from the planners themselves, so these cannot fail.
        let _ = self.forward.process_with_scratch(
            &mut self.padded,
            &mut self.spectrum,
            &mut self.scratch_forward,
        );
        for c in &mut self.spectrum {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        let _ =
            self.inverse.process_with_scratch(&mut self.spectrum, &mut self.acf, &mut self.scratch_inverse);
        let r0 = self.acf[0];
        if !(r0.is_finite() && r0 > 1e-12) {
            return Pitch { f0_hz: 0.0, voicing: 0.0 };
        }
        for ((n, &r), &w) in self.normalised.iter_mut().zip(&self.acf).zip(&self.window_acf) {
            *n = r / r0 / w.max(1e-6);
        }
        let n = &self.normalised;
        let peaks = (self.min_lag..self.max_lag).filter(|&lag| n[lag] >= n[lag - 1] && n[lag] >= n[lag + 1]);
        let best = peaks.clone().map(|lag| n[lag]).fold(0.0, f64::max);
        let Some(lag) = peaks.into_iter().find(|&lag| n[lag] >= OCTAVE_TOLERANCE * best) else {
            return Pitch { f0_hz: 0.0, voicing: 0.0 };
        };
        // Parabolic interpolation of the peak between neighbouring lags.
        let (a, b, c) = (n[lag - 1], n[lag], n[lag + 1]);
        let curvature = a - 2.0 * b + c;
        let offset = if curvature < 0.0 { (0.5 * (a - c) / curvature).clamp(-0.5, 0.5) } else { 0.0 };
        let voicing = b.clamp(0.0, 1.0);
        let f0_hz =
            if voicing >= VOICED_THRESHOLD { self.sample_rate_hz / (lag as f64 + offset) } else { 0.0 };
        Pitch { f0_hz, voicing }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::filters::padded_hann;

    fn tracker() -> (PitchTracker, Vec<f64>) {
        let window = padded_hann(400, 512);
        (PitchTracker::new(&window, 16_000, 65.0, 500.0), window)
    }

    fn harmonic(f0_hz: f64, at: usize) -> Vec<f32> {
        (0..512)
            .map(|i| {
                let t = (at + i) as f64 / 16_000.0;
                (1..=5)
                    .map(|k| (2.0 * std::f64::consts::PI * f0_hz * k as f64 * t).sin() / k as f64)
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// A harmonic tone's F0 is found within 1 % over the speech range, voiced.
    #[test]
    fn harmonic_tones_give_their_f0() {
        let (mut t, w) = tracker();
        for f0 in [80.0, 110.0, 150.0, 220.0, 330.0, 450.0] {
            let p = t.analyze(&harmonic(f0, 1234), &w);
            assert!((p.f0_hz / f0 - 1.0).abs() < 0.01, "{f0} Hz: got {p:?}");
            assert!(p.voicing > 0.8, "{f0} Hz: {p:?}");
        }
    }

    /// Silence and white noise are unvoiced: F0 0, columns finite.
    #[test]
    fn silence_and_noise_are_unvoiced() {
        let (mut t, w) = tracker();
        assert_eq!(t.analyze(&[0.0; 512], &w), Pitch { f0_hz: 0.0, voicing: 0.0 });
        let mut state = 12_345u32;
        let noise: Vec<f32> = (0..512)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        let p = t.analyze(&noise, &w);
        assert_eq!(p.f0_hz, 0.0, "{p:?}");
        assert!(p.columns().iter().all(|v| v.is_finite()));
    }
}
