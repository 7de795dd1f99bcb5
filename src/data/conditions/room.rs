//! Room impulse responses generated for a requested reverberation time (RT60) and
//! direct-to-reverberant ratio (DRR), for simulating a room between speaker and microphone.
//!
//! The response is a statistical room model:
//! - the direct path, a single impulse at index 0 (so reverberated speech is not delayed);
//! - [`EARLY_REFLECTIONS`] sparse early reflections at random times in 2-50 ms (at most a
//!   quarter of the RT60) with random signs and sizes;
//! - a diffuse tail of Gaussian noise that builds up over the same early span (its power
//!   share rising linearly while the reflections' falls, so that together they follow one
//!   exponential decay in expectation) and decays exponentially, split into frequency
//!   bands (power-complementary Butterworth crossovers at [`CROSSOVERS_HZ`]) that each
//!   decay at their own rate: the requested RT60 holds below 2 kHz; higher bands decay
//!   faster ([`BAND_RT60_FACTORS`]), as air and soft furnishings absorb high frequencies
//!   more. The broadband RT60 (Schroeder T30 of the whole response) is therefore about
//!   10 % shorter than the requested one at 16 kHz, where the faster bands hold over half
//!   of a flat spectrum's power.
//!
//! The reverberant part (reflections and tail) is scaled so that direct energy over
//! reverberant energy is the requested DRR, then the whole response is scaled to unit
//! energy, so reverberation does not change a clip's overall level. The response lasts
//! one RT60 (the tail has decayed by 60 dB at its end).

use super::biquad::Cascade;
use super::filters::{butterworth_high_pass, butterworth_low_pass};
use super::{ConditionError, check_range, check_rate};
use crate::data::Rng;

/// Crossover frequencies of the tail's decay bands, Hz (those at or above 0.45 of the
/// sample rate are dropped, merging their bands).
pub const CROSSOVERS_HZ: [f64; 3] = [1000.0, 2000.0, 4000.0];

/// Each band's RT60 as a fraction of the requested RT60: below 1 kHz, 1-2 kHz, 2-4 kHz,
/// above 4 kHz.
pub const BAND_RT60_FACTORS: [f64; 4] = [1.0, 1.0, 0.9, 0.8];

/// Number of discrete early reflections.
pub const EARLY_REFLECTIONS: usize = 8;

/// Span of the early reflections' arrival times, ms ...
const EARLY_SPAN_MS: [f64; 2] = [2.0, 50.0];

/// ... ending no later than this fraction of the RT60 (small, dead rooms reflect early).
const EARLY_SPAN_FRACTION: f64 = 0.25;

/// Order of the crossover filters.
const CROSSOVER_ORDER: usize = 4;

/// Noise samples run through the band filters and dropped, so every band starts settled.
const FILTER_WARMUP: usize = 512;

/// Accepted RT60 range, s.
pub const RT60_RANGE_S: [f64; 2] = [0.05, 3.0];

/// Accepted DRR range, dB.
pub const DRR_RANGE_DB: [f64; 2] = [-20.0, 40.0];

/// The band filters of the diffuse tail: band `b` passes between crossover `b - 1` and
/// crossover `b`; their power responses sum to 1 at every frequency.
fn decay_bands(sample_rate_hz: f64) -> Vec<Cascade> {
    let crossovers: Vec<f64> = CROSSOVERS_HZ.into_iter().filter(|&c| c < 0.45 * sample_rate_hz).collect();
    (0..=crossovers.len())
        .map(|b| {
            let above = b
                .checked_sub(1)
                .map(|i| butterworth_high_pass(sample_rate_hz, crossovers[i], CROSSOVER_ORDER));
            let below = crossovers.get(b).map(|&c| butterworth_low_pass(sample_rate_hz, c, CROSSOVER_ORDER));
            above.unwrap_or_default().then(below.unwrap_or_default())
        })
        .collect()
}

/// A room impulse response with the given `rt60_s` (below 2 kHz) and `drr_db`, of
/// `ceil(rt60_s * rate)` samples and unit energy, drawn from `rng`.
pub fn room_impulse_response(
    sample_rate_hz: u32,
    rt60_s: f64,
    drr_db: f64,
    rng: &mut Rng,
) -> Result<Vec<f32>, ConditionError> {
    let fs = check_rate(sample_rate_hz)?;
    check_range("rt60_s", rt60_s, RT60_RANGE_S[0], RT60_RANGE_S[1], "0.05 ..= 3 s")?;
    check_range("drr_db", drr_db, DRR_RANGE_DB[0], DRR_RANGE_DB[1], "-20 ..= 40 dB")?;
    let len = ((rt60_s * fs).ceil() as usize).max(2);
    // Natural log of 10^3: amplitude falls by 60 dB over one RT60.
    let ln_1000 = 3.0 * std::f64::consts::LN_10;
    let early_end_s = (EARLY_SPAN_MS[1] * 1e-3).min(EARLY_SPAN_FRACTION * rt60_s);
    let early_start_s = (EARLY_SPAN_MS[0] * 1e-3).min(early_end_s);
    // Share of the expected power carried by the diffuse tail at time t; the reflections
    // carry the rest, so the sum follows one exponential decay in expectation.
    let tail_share = |t_s: f64| (t_s / early_end_s).min(1.0);

    let mut reverberant = vec![0.0f64; len];
    for (band, factor) in decay_bands(fs).iter().zip(BAND_RT60_FACTORS) {
        let mut noise: Vec<f32> = (0..FILTER_WARMUP + len).map(|_| rng.normal() as f32).collect();
        band.process_in_place(&mut noise);
        let decay_per_sample = (-ln_1000 / (rt60_s * factor * fs)).exp();
        let mut envelope = 1.0;
        for (i, (r, &n)) in reverberant.iter_mut().zip(&noise[FILTER_WARMUP..]).enumerate() {
            *r += f64::from(n) * envelope * tail_share(i as f64 / fs).sqrt();
            envelope *= decay_per_sample;
        }
    }

    // Each reflection stands for the power the tail lacks over the reflections' average
    // spacing; E[u^2] = 7/12 for u uniform in [0.5, 1].
    let spacing = (early_end_s - early_start_s) * fs / EARLY_REFLECTIONS as f64;
    for _ in 0..EARLY_REFLECTIONS {
        let t_s = rng.uniform(early_start_s, early_end_s);
        let sign = if rng.below(2) == 0 { -1.0 } else { 1.0 };
        let size = rng.uniform(0.5, 1.0) / (7.0f64 / 12.0).sqrt();
        let expected_energy = spacing * (1.0 - tail_share(t_s)) * (-2.0 * ln_1000 * t_s / rt60_s).exp();
        reverberant[((t_s * fs).round() as usize).clamp(1, len - 1)] += sign * size * expected_energy.sqrt();
    }

    let reverberant_energy: f64 = reverberant.iter().map(|v| v * v).sum();
    let target = 10f64.powf(-drr_db / 10.0);
    let scale = if reverberant_energy > 0.0 { (target / reverberant_energy).sqrt() } else { 0.0 };
    let norm = 1.0 / (1.0 + target).sqrt();
    let mut rir: Vec<f32> = reverberant.iter().map(|&v| (v * scale * norm) as f32).collect();
    rir[0] = norm as f32;
    Ok(rir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RT60 by Schroeder backward integration: a least-squares line through the energy
    /// decay curve between -5 and -35 dB (T30), extrapolated to 60 dB.
    fn schroeder_t30_s(h: &[f32], fs: f64) -> f64 {
        let mut edc: Vec<f64> = h.iter().map(|&v| f64::from(v).powi(2)).collect();
        for i in (0..edc.len() - 1).rev() {
            edc[i] += edc[i + 1];
        }
        let pts: Vec<(f64, f64)> = edc
            .iter()
            .enumerate()
            .map(|(i, &e)| (i as f64 / fs, 10.0 * (e / edc[0]).log10()))
            .filter(|(_, db)| (-35.0..=-5.0).contains(db))
            .collect();
        let n = pts.len() as f64;
        let (mt, md) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
        let cov: f64 = pts.iter().map(|(t, d)| (t - mt) * (d - md)).sum();
        let var: f64 = pts.iter().map(|(t, _)| (t - mt).powi(2)).sum();
        -60.0 / (cov / var)
    }

    /// Over RT60 0.1-0.8 s and four seeds each, measured by Schroeder T30: the 1 kHz
    /// octave is within 15 % of the request, the band above 4.5 kHz within 15 % of 0.8 of
    /// it (its designed faster decay), and the whole response within 15 % of the request.
    /// (Measured: worst 7.8 %, 7.6 % and 12.7 %; broadband reads about 10 % short by design.)
    #[test]
    fn schroeder_rt60_matches_the_request() {
        let fs = 16_000.0;
        let octave_1k = butterworth_high_pass(fs, 707.0, 4).then(butterworth_low_pass(fs, 1414.0, 4));
        let top_band = butterworth_high_pass(fs, 4500.0, 6);
        let (mut worst, mut table) = ([0.0f64; 3], String::new());
        for rt60 in [0.1, 0.2, 0.3, 0.5, 0.8] {
            for seed in 0..4 {
                let h = room_impulse_response(16_000, rt60, 0.0, &mut Rng::new(seed)).unwrap();
                let mid = schroeder_t30_s(&octave_1k.process(&h), fs);
                let high = schroeder_t30_s(&top_band.process(&h), fs);
                let broad = schroeder_t30_s(&h, fs);
                table +=
                    &format!("\nrt60 {rt60} seed {seed}: 1 kHz {mid:.3}, >4.5 kHz {high:.3}, all {broad:.3}");
                worst[0] = worst[0].max((mid / rt60 - 1.0).abs());
                worst[1] = worst[1].max((high / (0.8 * rt60) - 1.0).abs());
                worst[2] = worst[2].max((broad / rt60 - 1.0).abs());
            }
        }
        assert!(worst.iter().all(|&w| w < 0.15), "worst errors {worst:.3?}{table}");
    }

    /// The direct-to-reverberant energy ratio is the requested DRR, the response has unit
    /// energy and lasts one RT60, and the direct path is the first sample.
    #[test]
    fn drr_energy_and_length() {
        for (rt60, drr) in [(0.1, -5.0), (0.4, 0.0), (0.8, 12.0)] {
            let h = room_impulse_response(16_000, rt60, drr, &mut Rng::new(7)).unwrap();
            assert_eq!(h.len(), (rt60 * 16_000.0f64).ceil() as usize);
            let direct = f64::from(h[0]).powi(2);
            let rest: f64 = h[1..].iter().map(|&v| f64::from(v).powi(2)).sum();
            assert!((10.0 * (direct / rest).log10() - drr).abs() < 1e-4, "drr {drr}");
            assert!((direct + rest - 1.0).abs() < 1e-5);
        }
    }

    /// Same seed, same response; other seed, other response; bad parameters are errors.
    #[test]
    fn seeded_and_checked() {
        let a = room_impulse_response(16_000, 0.3, 3.0, &mut Rng::new(1)).unwrap();
        assert_eq!(a, room_impulse_response(16_000, 0.3, 3.0, &mut Rng::new(1)).unwrap());
        assert_ne!(a, room_impulse_response(16_000, 0.3, 3.0, &mut Rng::new(2)).unwrap());
        assert!(room_impulse_response(16_000, f64::NAN, 0.0, &mut Rng::new(1)).is_err());
        assert!(room_impulse_response(16_000, 0.0, 0.0, &mut Rng::new(1)).is_err());
        assert!(room_impulse_response(0, 0.3, 0.0, &mut Rng::new(1)).is_err());
        assert!(room_impulse_response(8_000, 0.05, 40.0, &mut Rng::new(1)).is_ok());
    }
}
