//! Channel filters of microphones and phone lines, built from biquads: Butterworth
//! low/high-pass of any order, the telephone band (300-3400 Hz), a low cut, a high cut,
//! and a random equaliser that colours the spectrum like an unknown microphone.
//!
//! Butterworth filters are the bilinear transform of the analogue prototype pre-warped at
//! the cutoff, so the cutoff is exactly -3 dB and the slope is `6 * order` dB/octave.

use super::biquad::{Biquad, Cascade};
use crate::data::Rng;

/// Pass band of the telephone channel, Hz (ITU-T G.712's 300-3400 Hz).
pub const TELEPHONE_BAND_HZ: [f64; 2] = [300.0, 3400.0];

/// Order of the telephone channel's high-pass (24 dB/octave below 300 Hz).
pub const TELEPHONE_HIGH_PASS_ORDER: usize = 4;

/// Order of the telephone channel's low-pass (36 dB/octave above 3400 Hz).
pub const TELEPHONE_LOW_PASS_ORDER: usize = 6;

/// Order of the low cut (12 dB/octave, like a microphone's low-cut switch).
pub const LOW_CUT_ORDER: usize = 2;

/// Order of the high cut (24 dB/octave, like a cheap microphone's or codec's roll-off).
pub const HIGH_CUT_ORDER: usize = 4;

/// Cutoffs at or above this fraction of the sample rate are not filtered: a low-pass
/// there would have nothing left to cut (and its poles would sit on the unit circle).
pub const HIGHEST_CUTOFF_FRACTION: f64 = 0.49;

/// Which side a Butterworth filter passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Low,
    High,
}

fn butterworth(pass: Pass, sample_rate_hz: f64, cutoff_hz: f64, order: usize) -> Cascade {
    let top = HIGHEST_CUTOFF_FRACTION * sample_rate_hz;
    let positive = cutoff_hz > 0.0; // false for NaN too
    if order == 0 || !positive || (pass == Pass::Low && cutoff_hz >= top) {
        return Cascade::default();
    }
    let fc = cutoff_hz.min(top);
    let mut sections = Vec::with_capacity(order.div_ceil(2));
    if !order.is_multiple_of(2) {
        sections.push(match pass {
            Pass::Low => Biquad::first_order_low_pass(sample_rate_hz, fc),
            Pass::High => Biquad::first_order_high_pass(sample_rate_hz, fc),
        });
    }
    for k in 0..order / 2 {
        // Pole pairs of the analogue prototype at angles theta from the negative real axis.
        let theta = if order.is_multiple_of(2) {
            (2 * k + 1) as f64 * std::f64::consts::PI / (2 * order) as f64
        } else {
            (k + 1) as f64 * std::f64::consts::PI / order as f64
        };
        let q = 1.0 / (2.0 * theta.cos());
        sections.push(match pass {
            Pass::Low => Biquad::low_pass(sample_rate_hz, fc, q),
            Pass::High => Biquad::high_pass(sample_rate_hz, fc, q),
        });
    }
    Cascade::new(sections)
}

/// Butterworth low-pass of `order` (0 = none) at `cutoff_hz`. A cutoff at or above
/// [`HIGHEST_CUTOFF_FRACTION`] of the rate gives the pass-through (empty) cascade.
pub fn butterworth_low_pass(sample_rate_hz: f64, cutoff_hz: f64, order: usize) -> Cascade {
    butterworth(Pass::Low, sample_rate_hz, cutoff_hz, order)
}

/// Butterworth high-pass of `order` (0 = none) at `cutoff_hz`; a cutoff <= 0 passes
/// everything, one above [`HIGHEST_CUTOFF_FRACTION`] of the rate is lowered to it.
pub fn butterworth_high_pass(sample_rate_hz: f64, cutoff_hz: f64, order: usize) -> Cascade {
    butterworth(Pass::High, sample_rate_hz, cutoff_hz, order)
}

/// The telephone channel: [`TELEPHONE_BAND_HZ`] between a high-pass of order
/// [`TELEPHONE_HIGH_PASS_ORDER`] and a low-pass of order [`TELEPHONE_LOW_PASS_ORDER`].
pub fn telephone_band(sample_rate_hz: f64) -> Cascade {
    let [lo, hi] = TELEPHONE_BAND_HZ;
    butterworth_high_pass(sample_rate_hz, lo, TELEPHONE_HIGH_PASS_ORDER).then(butterworth_low_pass(
        sample_rate_hz,
        hi,
        TELEPHONE_LOW_PASS_ORDER,
    ))
}

/// A low cut at `cutoff_hz` (high-pass of order [`LOW_CUT_ORDER`]).
pub fn low_cut(sample_rate_hz: f64, cutoff_hz: f64) -> Cascade {
    butterworth_high_pass(sample_rate_hz, cutoff_hz, LOW_CUT_ORDER)
}

/// A high cut at `cutoff_hz` (low-pass of order [`HIGH_CUT_ORDER`]).
pub fn high_cut(sample_rate_hz: f64, cutoff_hz: f64) -> Cascade {
    butterworth_low_pass(sample_rate_hz, cutoff_hz, HIGH_CUT_ORDER)
}

/// Log-uniform in `[lo, hi)`.
fn log_uniform(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    rng.uniform(lo.ln(), hi.ln()).exp()
}

/// A random microphone colouring: a low shelf (corner 80-400 Hz), two peaking bands
/// (centres 250 Hz-6 kHz, Q 0.7-3) and a high shelf (corner 2-6 kHz), each with a gain
/// uniform in `[-max_gain_db, +max_gain_db]`. Corners stay below 0.4 of the rate.
/// Draws exactly 14 numbers from `rng`.
pub fn random_equaliser(sample_rate_hz: f64, max_gain_db: f64, rng: &mut Rng) -> Cascade {
    let top = 0.4 * sample_rate_hz;
    let gain = |rng: &mut Rng| rng.uniform(-max_gain_db, max_gain_db);
    let (lo_corner, lo_gain) = (log_uniform(rng, 80.0, 400.0), gain(rng));
    let mut sections = vec![Biquad::low_shelf(sample_rate_hz, lo_corner.min(top), lo_gain)];
    for _ in 0..2 {
        let centre = log_uniform(rng, 250.0, 6000.0).min(top);
        let q = rng.uniform(0.7, 3.0);
        sections.push(Biquad::peaking(sample_rate_hz, centre, q, gain(rng)));
    }
    let (hi_corner, hi_gain) = (log_uniform(rng, 2000.0, 6000.0), gain(rng));
    sections.push(Biquad::high_shelf(sample_rate_hz, hi_corner.min(top), hi_gain));
    Cascade::new(sections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::conditions::test_signals::{sine, tone_gain_db};

    const FS: f64 = 16_000.0;

    /// Butterworth cascades of orders 1-8 equal the pre-warped analogue formula
    /// `1 / (1 + (tan(pi f / fs) / tan(pi fc / fs))^(2N))` at every frequency tried.
    #[test]
    fn butterworth_matches_the_formula() {
        let warp = |f: f64| (std::f64::consts::PI * f / FS).tan();
        for order in 1..=8 {
            for fc in [120.0, 1000.0, 3400.0] {
                let lp = butterworth_low_pass(FS, fc, order);
                let hp = butterworth_high_pass(FS, fc, order);
                assert_eq!(lp.sections().len(), order.div_ceil(2));
                for f in [30.0, 0.5 * fc, fc, 2.0 * fc, 7000.0] {
                    let r = (warp(f) / warp(fc)).powi(2 * order as i32);
                    let (want_lp, want_hp) = (-10.0 * (1.0 + r).log10(), -10.0 * (1.0 + 1.0 / r).log10());
                    assert!((lp.gain_db_at(f, FS) - want_lp).abs() < 1e-6, "LP{order} {fc} at {f}");
                    assert!((hp.gain_db_at(f, FS) - want_hp).abs() < 1e-6, "HP{order} {fc} at {f}");
                }
            }
        }
        assert!(butterworth_low_pass(FS, 7900.0, 4).sections().is_empty(), "nothing to cut");
        assert!(butterworth_high_pass(FS, 0.0, 4).sections().is_empty());
    }

    /// Telephone band: 1 kHz passes within 1 dB; 100 Hz and 6 kHz lose at least 20 dB, by
    /// the response and by filtering real tones, at 16 kHz (and the pass band at 8 kHz).
    #[test]
    fn telephone_band_passes_speech_band_only() {
        let phone = telephone_band(FS);
        assert!(phone.gain_db_at(1000.0, FS).abs() < 1.0);
        assert!(phone.gain_db_at(100.0, FS) < -20.0 && phone.gain_db_at(6000.0, FS) < -20.0);
        for (f, lo, hi) in [(1000.0, -1.0, 1.0), (100.0, -200.0, -20.0), (6000.0, -200.0, -20.0)] {
            let x = sine(f, 16_000, 16_000, 0.5);
            let y = phone.process(&x);
            let g = tone_gain_db(&x[8000..], &y[8000..], f, 16_000);
            assert!((lo..hi).contains(&g), "{f} Hz through the phone band: {g} dB");
        }
        assert!(telephone_band(8000.0).gain_db_at(1000.0, 8000.0).abs() < 1.0);
    }

    /// Low and high cuts are -3 dB at their cutoff and leave 1 kHz within 0.1 dB.
    #[test]
    fn low_and_high_cuts() {
        let half = -10.0 * 2f64.log10();
        let lc = low_cut(FS, 200.0);
        assert!((lc.gain_db_at(200.0, FS) - half).abs() < 1e-9 && lc.gain_db_at(1000.0, FS) > -0.1);
        assert!(lc.gain_db_at(50.0, FS) < -20.0, "two octaves below: about 24 dB down");
        let hc = high_cut(FS, 4000.0);
        assert!((hc.gain_db_at(4000.0, FS) - half).abs() < 1e-9 && hc.gain_db_at(1000.0, FS) > -0.1);
        assert!(high_cut(FS, 8000.0).sections().is_empty(), "8 kHz at 16 kHz: nothing above to cut");
    }

    /// The random equaliser is a function of the seed, colours the spectrum (some band
    /// moves by over 2 dB for most seeds), never exceeds the sum of its four gains, and is
    /// exactly flat when its gain range is 0 dB.
    #[test]
    fn random_equaliser_is_seeded_and_bounded() {
        let freqs: Vec<f64> = (0..60).map(|i| 50.0 * 1.09f64.powi(i)).filter(|f| *f < 8000.0).collect();
        let a = random_equaliser(FS, 6.0, &mut Rng::new(3));
        assert_eq!(a, random_equaliser(FS, 6.0, &mut Rng::new(3)));
        assert_ne!(a, random_equaliser(FS, 6.0, &mut Rng::new(4)));
        let mut coloured = 0;
        for seed in 0..50 {
            let eq = random_equaliser(FS, 6.0, &mut Rng::new(seed));
            let gains: Vec<f64> = freqs.iter().map(|&f| eq.gain_db_at(f, FS)).collect();
            assert!(gains.iter().all(|g| g.abs() <= 24.0 + 1e-9), "seed {seed}: {gains:?}");
            coloured += usize::from(gains.iter().any(|g| g.abs() > 2.0));
        }
        assert!(coloured >= 40, "only {coloured}/50 equalisers move any band by 2 dB");
        let flat = random_equaliser(FS, 0.0, &mut Rng::new(9));
        assert!(freqs.iter().all(|&f| flat.gain_db_at(f, FS).abs() < 1e-9));
    }
}
