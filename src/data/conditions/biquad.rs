//! One second-order IIR section (biquad) with the coefficient formulas of Robert
//! Bristow-Johnson's "Audio EQ Cookbook", first-order sections for odd filter orders, a
//! cascade of sections, their filtering (transposed direct form II, `f64` state) and their
//! exact magnitude response.
//!
//! Filters are causal and start from rest (zero state) at the first sample.

use realfft::num_complex::Complex;

/// A biquad `H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)` (a0 normalised
/// to 1). A first-order section has `b2 = a2 = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
}

impl Biquad {
    /// The section that passes its input unchanged.
    pub const IDENTITY: Self = Self { b0: 1.0, b1: 0.0, b2: 0.0, a1: 0.0, a2: 0.0 };

    fn normalised(b: [f64; 3], a: [f64; 3]) -> Self {
        Self { b0: b[0] / a[0], b1: b[1] / a[0], b2: b[2] / a[0], a1: a[1] / a[0], a2: a[2] / a[0] }
    }

    /// `(cos w0, sin w0)` of the cookbook, `w0 = 2 pi f / fs`.
    fn angle(sample_rate_hz: f64, freq_hz: f64) -> (f64, f64) {
        let w0 = std::f64::consts::TAU * freq_hz / sample_rate_hz;
        (w0.cos(), w0.sin())
    }

    /// Second-order low-pass: -3 dB at `cutoff_hz` when `q` is `1/sqrt(2)`.
    pub fn low_pass(sample_rate_hz: f64, cutoff_hz: f64, q: f64) -> Self {
        let (cos, sin) = Self::angle(sample_rate_hz, cutoff_hz);
        let alpha = sin / (2.0 * q);
        let b = (1.0 - cos) / 2.0;
        Self::normalised([b, 2.0 * b, b], [1.0 + alpha, -2.0 * cos, 1.0 - alpha])
    }

    /// Second-order high-pass: -3 dB at `cutoff_hz` when `q` is `1/sqrt(2)`.
    pub fn high_pass(sample_rate_hz: f64, cutoff_hz: f64, q: f64) -> Self {
        let (cos, sin) = Self::angle(sample_rate_hz, cutoff_hz);
        let alpha = sin / (2.0 * q);
        let b = (1.0 + cos) / 2.0;
        Self::normalised([b, -2.0 * b, b], [1.0 + alpha, -2.0 * cos, 1.0 - alpha])
    }

    /// Peaking equaliser: `gain_db` at `centre_hz`, 0 dB far from it, width set by `q`.
    pub fn peaking(sample_rate_hz: f64, centre_hz: f64, q: f64, gain_db: f64) -> Self {
        let (cos, sin) = Self::angle(sample_rate_hz, centre_hz);
        let alpha = sin / (2.0 * q);
        let a = 10f64.powf(gain_db / 40.0);
        Self::normalised(
            [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a],
        )
    }

    /// Low shelf (slope S = 1): `gain_db` at DC, 0 dB at Nyquist, half-way at `corner_hz`.
    pub fn low_shelf(sample_rate_hz: f64, corner_hz: f64, gain_db: f64) -> Self {
        let (cos, sin) = Self::angle(sample_rate_hz, corner_hz);
        let a = 10f64.powf(gain_db / 40.0);
        let k = 2.0 * a.sqrt() * sin / std::f64::consts::SQRT_2;
        Self::normalised(
            [
                a * ((a + 1.0) - (a - 1.0) * cos + k),
                2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                a * ((a + 1.0) - (a - 1.0) * cos - k),
            ],
            [
                (a + 1.0) + (a - 1.0) * cos + k,
                -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                (a + 1.0) + (a - 1.0) * cos - k,
            ],
        )
    }

    /// High shelf (slope S = 1): 0 dB at DC, `gain_db` at Nyquist, half-way at `corner_hz`.
    pub fn high_shelf(sample_rate_hz: f64, corner_hz: f64, gain_db: f64) -> Self {
        let (cos, sin) = Self::angle(sample_rate_hz, corner_hz);
        let a = 10f64.powf(gain_db / 40.0);
        let k = 2.0 * a.sqrt() * sin / std::f64::consts::SQRT_2;
        Self::normalised(
            [
                a * ((a + 1.0) + (a - 1.0) * cos + k),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                a * ((a + 1.0) + (a - 1.0) * cos - k),
            ],
            [
                (a + 1.0) - (a - 1.0) * cos + k,
                2.0 * ((a - 1.0) - (a + 1.0) * cos),
                (a + 1.0) - (a - 1.0) * cos - k,
            ],
        )
    }

    /// First-order low-pass (bilinear transform, pre-warped): -3 dB at `cutoff_hz`.
    pub fn first_order_low_pass(sample_rate_hz: f64, cutoff_hz: f64) -> Self {
        let k = (std::f64::consts::PI * cutoff_hz / sample_rate_hz).tan();
        Self::normalised([k, k, 0.0], [k + 1.0, k - 1.0, 0.0])
    }

    /// First-order high-pass (bilinear transform, pre-warped): -3 dB at `cutoff_hz`.
    pub fn first_order_high_pass(sample_rate_hz: f64, cutoff_hz: f64) -> Self {
        let k = (std::f64::consts::PI * cutoff_hz / sample_rate_hz).tan();
        Self::normalised([1.0, -1.0, 0.0], [k + 1.0, k - 1.0, 0.0])
    }

    /// The complex response `H(e^{jw})` at `freq_hz`.
    pub fn response(&self, freq_hz: f64, sample_rate_hz: f64) -> Complex<f64> {
        let w = std::f64::consts::TAU * freq_hz / sample_rate_hz;
        let z1 = Complex::from_polar(1.0, -w);
        let z2 = z1 * z1;
        (self.b0 + z1 * self.b1 + z2 * self.b2) / (1.0 + z1 * self.a1 + z2 * self.a2)
    }

    /// Filters `samples` in place from a zero state.
    pub fn process_in_place(&self, samples: &mut [f32]) {
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for x in samples.iter_mut() {
            let input = f64::from(*x);
            let y = self.b0 * input + s1;
            s1 = self.b1 * input - self.a1 * y + s2;
            s2 = self.b2 * input - self.a2 * y;
            *x = y as f32;
        }
    }
}

/// Sections applied one after another; the empty cascade passes its input unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cascade {
    sections: Vec<Biquad>,
}

impl Cascade {
    /// A cascade of `sections`, applied in order.
    pub fn new(sections: Vec<Biquad>) -> Self {
        Self { sections }
    }

    /// The sections, in order.
    pub fn sections(&self) -> &[Biquad] {
        &self.sections
    }

    /// Appends the sections of `other` after these.
    pub fn then(mut self, other: Cascade) -> Self {
        self.sections.extend(other.sections);
        self
    }

    /// The magnitude response at `freq_hz`, dB.
    pub fn gain_db_at(&self, freq_hz: f64, sample_rate_hz: f64) -> f64 {
        let h: Complex<f64> = self.sections.iter().map(|s| s.response(freq_hz, sample_rate_hz)).product();
        20.0 * h.norm().max(1e-300).log10()
    }

    /// Filters `samples` in place from a zero state.
    pub fn process_in_place(&self, samples: &mut [f32]) {
        for section in &self.sections {
            section.process_in_place(samples);
        }
    }

    /// Filters a copy of `samples` from a zero state.
    pub fn process(&self, samples: &[f32]) -> Vec<f32> {
        let mut out = samples.to_vec();
        self.process_in_place(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::conditions::test_signals::{sine, tone_gain_db};

    const FS: f64 = 16_000.0;

    fn db(s: Biquad, f: f64) -> f64 {
        Cascade::new(vec![s]).gain_db_at(f, FS)
    }

    /// Peaking and shelving sections reach their gain exactly where the cookbook says
    /// (centre, DC, Nyquist) and are flat (0 dB) at the other end.
    #[test]
    fn equaliser_sections_hit_their_gains() {
        for g in [-9.0, -3.0, 4.5, 12.0] {
            let p = Biquad::peaking(FS, 1200.0, 1.4, g);
            assert!(
                (db(p, 1200.0) - g).abs() < 1e-9 && db(p, 0.0).abs() < 1e-9 && db(p, 8000.0).abs() < 1e-9
            );
            let lo = Biquad::low_shelf(FS, 300.0, g);
            assert!((db(lo, 0.0) - g).abs() < 1e-9 && db(lo, 8000.0).abs() < 1e-9);
            assert!((db(lo, 300.0) - g / 2.0).abs() < 1e-9, "shelf half-way at its corner");
            let hi = Biquad::high_shelf(FS, 3000.0, g);
            assert!((db(hi, 8000.0) - g).abs() < 1e-9 && db(hi, 0.0).abs() < 1e-9);
            assert!((db(hi, 3000.0) - g / 2.0).abs() < 1e-9);
        }
    }

    /// Butterworth-Q sections and first-order sections are -3.01 dB at their cutoff and
    /// 0 dB in their pass band's far end.
    #[test]
    fn cutoffs_are_minus_3_db() {
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let half_power = -10.0 * 2f64.log10();
        for s in [Biquad::low_pass(FS, 1000.0, q), Biquad::first_order_low_pass(FS, 1000.0)] {
            assert!((db(s, 1000.0) - half_power).abs() < 1e-9 && db(s, 0.0).abs() < 1e-9);
        }
        for s in [Biquad::high_pass(FS, 1000.0, q), Biquad::first_order_high_pass(FS, 1000.0)] {
            assert!((db(s, 1000.0) - half_power).abs() < 1e-9 && db(s, 8000.0).abs() < 1e-9);
        }
    }

    /// Filtering a tone (transposed direct form II) changes its level by exactly the
    /// computed response: checks the difference equation against the formula.
    #[test]
    fn filtering_matches_the_response() {
        let cascade = Cascade::new(vec![
            Biquad::low_pass(FS, 2500.0, 0.9),
            Biquad::peaking(FS, 800.0, 2.0, 6.0),
            Biquad::first_order_high_pass(FS, 150.0),
        ]);
        for f in [100.0, 800.0, 2000.0, 5000.0] {
            let x = sine(f, 16_000, 16_000, 0.5);
            let y = cascade.process(&x);
            let measured = tone_gain_db(&x[4000..], &y[4000..], f, 16_000);
            let want = cascade.gain_db_at(f, FS);
            assert!((measured - want).abs() < 0.01, "{f} Hz: measured {measured} dB, want {want} dB");
        }
        assert_eq!(Cascade::default().process(&[0.25, -1.0]), vec![0.25, -1.0]);
        assert!(Cascade::default().process(&[]).is_empty());
    }
}
