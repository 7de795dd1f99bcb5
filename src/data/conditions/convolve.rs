//! Linear convolution by one real FFT of the whole signal (zero-padded to a power of
//! two), or directly when one side is tiny; and reverberation with a room impulse
//! response, trimmed to the input's length or kept with its tail.
//!
//! NOTE: one big FFT rather than overlap-add: clips are seconds long, so a 64 k-point
//! transform (3 s of speech and a 0.8 s response at 16 kHz) costs about a millisecond and
//! needs no block bookkeeping.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// Below this many multiply-adds, direct convolution beats the FFT.
const DIRECT_MAX_PRODUCTS: usize = 1 << 15;

/// The full linear convolution of `signal` and `impulse` (`len_a + len_b - 1` samples;
/// empty when either is empty).
pub fn convolve(signal: &[f32], impulse: &[f32]) -> Vec<f32> {
    if signal.is_empty() || impulse.is_empty() {
        return Vec::new();
    }
    let out_len = signal.len() + impulse.len() - 1;
    if signal.len().min(impulse.len()) <= 8 || signal.len() * impulse.len() <= DIRECT_MAX_PRODUCTS {
        return convolve_direct(signal, impulse);
    }
    let n = out_len.next_power_of_two();
    let mut planner = RealFftPlanner::<f32>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let spectrum_of = |x: &[f32]| {
        let mut padded = forward.make_input_vec();
        padded[..x.len()].copy_from_slice(x);
        let mut spectrum = forward.make_output_vec();
        // The buffers come from the plan, so their sizes always match.
        let _ = forward.process(&mut padded, &mut spectrum);
        spectrum
    };
    let mut product: Vec<Complex<f32>> = spectrum_of(signal);
    for (a, b) in product.iter_mut().zip(spectrum_of(impulse)) {
        *a *= b;
    }
    // The DC and Nyquist bins of a product of real spectra are real up to rounding; the
    // inverse transform wants them exactly real.
    product[0].im = 0.0;
    if let Some(last) = product.last_mut() {
        last.im = 0.0;
    }
    let mut out = inverse.make_output_vec();
    let _ = inverse.process(&mut product, &mut out);
    out.truncate(out_len);
    let scale = 1.0 / n as f32;
    out.iter_mut().for_each(|v| *v *= scale);
    out
}

/// Direct-form convolution, accumulated in `f64`.
fn convolve_direct(signal: &[f32], impulse: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f64; signal.len() + impulse.len() - 1];
    for (i, &x) in signal.iter().enumerate() {
        for (o, &h) in out[i..].iter_mut().zip(impulse) {
            *o += f64::from(x) * f64::from(h);
        }
    }
    out.into_iter().map(|v| v as f32).collect()
}

/// `samples` heard through the room whose impulse response is `rir` (direct path at
/// index 0, so the speech is not delayed). The output has the input's length, plus the
/// reverberant tail (`rir.len() - 1` samples) when `keep_tail`.
pub fn reverberate(samples: &[f32], rir: &[f32], keep_tail: bool) -> Vec<f32> {
    let mut out = convolve(samples, rir);
    if !keep_tail {
        out.truncate(samples.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Rng;

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.normal() as f32).collect()
    }

    /// The FFT path equals direct convolution to within f32 rounding (1e-5 of the peak),
    /// for lengths that are and are not powers of two.
    #[test]
    fn fft_equals_direct() {
        for (a, b) in [(3000, 700), (4096, 1), (1025, 2048), (20, 5000)] {
            let (x, h) = (noise(a, 1), noise(b, 2));
            let fast = convolve(&x, &h);
            let slow = convolve_direct(&x, &h);
            assert_eq!(fast.len(), a + b - 1);
            let peak = slow.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let err = fast.iter().zip(&slow).fold(0.0f32, |m, (p, q)| m.max((p - q).abs()));
            assert!(err < 1e-5 * peak, "{a}x{b}: error {err} of peak {peak}");
        }
    }

    /// A unit impulse returns the input; a delayed one delays it; the tail is kept only
    /// when asked; empty inputs give empty outputs.
    #[test]
    fn identities_and_lengths() {
        let x = noise(5000, 3);
        let mut delayed = vec![0.0; 100];
        delayed[7] = 1.0;
        let y = reverberate(&x, &delayed, false);
        assert_eq!(y.len(), x.len());
        assert!(y[..7].iter().all(|v| v.abs() < 1e-6));
        assert!(y[7..].iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-5));
        assert_eq!(reverberate(&x, &delayed, true).len(), x.len() + 99);
        assert!(convolve(&[], &x).is_empty() && reverberate(&[], &delayed, true).is_empty());
        assert_eq!(reverberate(&[0.5], &[1.0, 0.5], true), vec![0.5, 0.25]);
    }
}
