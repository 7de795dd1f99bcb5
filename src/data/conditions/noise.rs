//! Noise to add to speech: white, pink (1/f), brown (1/f²) and babble (other people
//! talking). Every generator returns exactly `len` samples with unit mean square, so the
//! mixing in [`super::snr`] sets the level.
//!
//! Coloured noise is shaped in the frequency domain: complex Gaussian bins scaled to the
//! target power spectrum, one inverse real FFT. The slope is exact at every frequency
//! (no Voss-McCartney ripple); below [`COLOURED_FLOOR_HZ`] the spectrum is empty, as
//! microphones and converters remove sub-audio rumble (otherwise brown noise would put
//! most of its power below 20 Hz, where it changes the SNR but not what is heard).

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

use super::snr::active_power;
use super::{ConditionError, check_rate};
use crate::data::Rng;

/// Coloured noise has no power below this frequency, Hz.
pub const COLOURED_FLOOR_HZ: f64 = 20.0;

/// Scales `x` to unit mean square (an all-zero `x` stays zero).
fn normalise(x: &mut [f32]) {
    let power = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    if power > 0.0 {
        let scale = (1.0 / power).sqrt() as f32;
        x.iter_mut().for_each(|v| *v *= scale);
    }
}

/// White Gaussian noise: flat spectrum.
pub fn white_noise(len: usize, rng: &mut Rng) -> Vec<f32> {
    let mut x: Vec<f32> = (0..len).map(|_| rng.normal() as f32).collect();
    normalise(&mut x);
    x
}

/// Gaussian noise whose power spectral density falls as `f^-exponent` above
/// [`COLOURED_FLOOR_HZ`] (exponent 0: white above the floor; 1: pink; 2: brown).
pub fn coloured_noise(len: usize, sample_rate_hz: u32, exponent: f64, rng: &mut Rng) -> Vec<f32> {
    if len == 0 {
        return Vec::new();
    }
    let n = len.next_power_of_two().max(64);
    let inverse = RealFftPlanner::<f32>::new().plan_fft_inverse(n);
    let mut spectrum = inverse.make_input_vec();
    let bin_hz = f64::from(sample_rate_hz) / n as f64;
    let last = spectrum.len() - 1;
    for (k, bin) in spectrum.iter_mut().enumerate() {
        let f = k as f64 * bin_hz;
        if f < COLOURED_FLOOR_HZ || k == 0 {
            continue;
        }
        let amplitude = f.powf(-exponent / 2.0);
        let im = if k == last { 0.0 } else { rng.normal() };
        *bin = Complex::new((amplitude * rng.normal()) as f32, (amplitude * im) as f32);
    }
    let mut x = inverse.make_output_vec();
    // The buffers come from the plan and the DC / Nyquist bins are real: cannot fail.
    let _ = inverse.process(&mut spectrum, &mut x);
    x.truncate(len);
    normalise(&mut x);
    x
}

/// Pink noise: -3 dB per octave (equal power in every octave).
pub fn pink_noise(len: usize, sample_rate_hz: u32, rng: &mut Rng) -> Vec<f32> {
    coloured_noise(len, sample_rate_hz, 1.0, rng)
}

/// Brown (red) noise: -6 dB per octave, like rumble and traffic.
pub fn brown_noise(len: usize, sample_rate_hz: u32, rng: &mut Rng) -> Vec<f32> {
    coloured_noise(len, sample_rate_hz, 2.0, rng)
}

/// Babble: the sum of the `sources` (recordings of other speakers, one each), each scaled
/// to unit [`active_power`], started at a random offset and looped to cover `len` samples.
/// Silent or empty sources are skipped; with none left this is
/// [`ConditionError::NoBabbleSources`].
pub fn babble(
    len: usize,
    sources: &[&[f32]],
    sample_rate_hz: u32,
    rng: &mut Rng,
) -> Result<Vec<f32>, ConditionError> {
    check_rate(sample_rate_hz)?;
    let mut out = vec![0.0f64; len];
    let mut talkers = 0;
    for source in sources {
        let power = active_power(source, sample_rate_hz);
        if power <= 0.0 {
            continue;
        }
        talkers += 1;
        let scale = 1.0 / power.sqrt();
        let offset = rng.below(source.len());
        for (o, &v) in out.iter_mut().zip(source.iter().cycle().skip(offset)) {
            *o += scale * f64::from(v);
        }
    }
    if talkers == 0 {
        return Err(ConditionError::NoBabbleSources);
    }
    let mut x: Vec<f32> = out.into_iter().map(|v| v as f32).collect();
    normalise(&mut x);
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::conditions::test_signals::{band_power, speech_clip, welch_power};

    /// Least-squares slope of band power against octave number over 100 Hz - 6 kHz,
    /// dB per octave (bands a third of an octave wide).
    fn slope_db_per_octave(x: &[f32]) -> f64 {
        let spectrum = welch_power(x, 4096);
        let pts: Vec<(f64, f64)> = (0..18)
            .map(|i| {
                let lo = 100.0 * 2f64.powf(f64::from(i) / 3.0);
                let octave = (lo * 2f64.powf(1.0 / 6.0) / 100.0).log2();
                (octave, 10.0 * band_power(&spectrum, 16_000, lo, lo * 2f64.powf(1.0 / 3.0)).log10())
            })
            .collect();
        let n = pts.len() as f64;
        let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
        pts.iter().map(|(x, y)| (x - mx) * (y - my)).sum::<f64>()
            / pts.iter().map(|(x, _)| (x - mx).powi(2)).sum::<f64>()
    }

    /// White, pink and brown noise fall by 0, 3 and 6 dB per octave (within 0.3 dB/oct);
    /// each has unit mean square and exactly the asked length.
    #[test]
    fn spectral_slopes() {
        let mut rng = Rng::new(11);
        let len = 10 * 16_000 + 123;
        for (x, want) in [
            (white_noise(len, &mut rng), 0.0),
            (pink_noise(len, 16_000, &mut rng), -3.01),
            (brown_noise(len, 16_000, &mut rng), -6.02),
        ] {
            assert_eq!(x.len(), len);
            let power = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / len as f64;
            assert!((power - 1.0).abs() < 1e-4);
            let slope = slope_db_per_octave(&x);
            assert!((slope - want).abs() < 0.3, "slope {slope} dB/oct, want {want}");
        }
        assert!(pink_noise(0, 16_000, &mut rng).is_empty());
        assert_eq!(pink_noise(3, 16_000, &mut rng).len(), 3);
    }

    /// Babble from three talkers covers the whole length (looped past the sources' end),
    /// has unit power, is seeded, and needs at least one non-silent source.
    #[test]
    fn babble_from_sources() {
        let speech = speech_clip();
        let (a, b, c) = (&speech[..10_000], &speech[10_000..20_000], &speech[5000..]);
        let len = 3 * speech.len();
        let x = babble(len, &[a, b, c, &[]], 16_000, &mut Rng::new(1)).unwrap();
        assert_eq!(x.len(), len);
        assert!(x[len - 16_000..].iter().any(|v| v.abs() > 0.05), "the end is covered too");
        assert!((x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / len as f64 - 1.0).abs() < 1e-4);
        assert_eq!(x, babble(len, &[a, b, c], 16_000, &mut Rng::new(1)).unwrap());
        assert_ne!(x, babble(len, &[a, b, c], 16_000, &mut Rng::new(2)).unwrap());
        let silent = [0.0f32; 100];
        assert_eq!(babble(10, &[&silent], 16_000, &mut Rng::new(1)), Err(ConditionError::NoBabbleSources));
        assert_eq!(babble(10, &[], 16_000, &mut Rng::new(1)), Err(ConditionError::NoBabbleSources));
    }
}
