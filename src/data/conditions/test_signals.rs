//! Test signals and measurements shared by the conditions' tests: tones, the project's
//! speech clip, tone levels by projection, power spectra by Welch's method.

use std::path::Path;

use realfft::RealFftPlanner;

/// `n` samples of `amplitude * sin(2 pi f t)` at `rate_hz`.
pub fn sine(freq_hz: f64, rate_hz: u32, n: usize, amplitude: f64) -> Vec<f32> {
    (0..n)
        .map(|i| (amplitude * (std::f64::consts::TAU * freq_hz * i as f64 / f64::from(rate_hz)).sin()) as f32)
        .collect()
}

/// `(amplitude, phase)` of the `freq_hz` component of `x`, by projection (exact over a
/// whole number of periods).
pub fn tone_amplitude_phase(x: &[f32], freq_hz: f64, rate_hz: u32) -> (f64, f64) {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (i, &v) in x.iter().enumerate() {
        let w = std::f64::consts::TAU * freq_hz * i as f64 / f64::from(rate_hz);
        s += f64::from(v) * w.sin();
        c += f64::from(v) * w.cos();
    }
    let scale = 2.0 / x.len() as f64;
    ((s * s + c * c).sqrt() * scale, c.atan2(s))
}

/// The level of the `freq_hz` tone in `y` relative to that in `x`, dB.
pub fn tone_gain_db(x: &[f32], y: &[f32], freq_hz: f64, rate_hz: u32) -> f64 {
    let (ax, _) = tone_amplitude_phase(x, freq_hz, rate_hz);
    let (ay, _) = tone_amplitude_phase(y, freq_hz, rate_hz);
    20.0 * (ay / ax).log10()
}

/// Mean square of `x` (0 for an empty slice).
pub fn mean_square(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64
}

/// The project's 16 kHz speech test clip (with pauses).
pub fn speech_clip() -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac");
    crate::audio::decode_file(&path).expect("speech clip decodes").samples
}

/// Welch power spectrum of `x` (Hann window, `frame` samples, half overlap): one value per
/// bin `k`, at `k * rate / frame` Hz.
pub fn welch_power(x: &[f32], frame: usize) -> Vec<f64> {
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(frame);
    let window: Vec<f64> =
        (0..frame).map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / frame as f64).cos()).collect();
    let mut power = vec![0.0; frame / 2 + 1];
    let (mut input, mut spectrum) = (fft.make_input_vec(), fft.make_output_vec());
    let mut frames = 0;
    for start in (0..x.len().saturating_sub(frame - 1)).step_by(frame / 2) {
        for (i, slot) in input.iter_mut().enumerate() {
            *slot = f64::from(x[start + i]) * window[i];
        }
        fft.process(&mut input, &mut spectrum).expect("fft sizes match");
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p += c.norm_sqr();
        }
        frames += 1;
    }
    power.iter_mut().for_each(|p| *p /= frames.max(1) as f64);
    power
}

/// Mean power of `spectrum` (from [`welch_power`]) between `lo_hz` and `hi_hz`.
pub fn band_power(spectrum: &[f64], rate_hz: u32, lo_hz: f64, hi_hz: f64) -> f64 {
    let bin_hz = f64::from(rate_hz) / (2.0 * (spectrum.len() - 1) as f64);
    let bins: Vec<f64> = spectrum
        .iter()
        .enumerate()
        .filter(|(k, _)| (lo_hz..hi_hz).contains(&(*k as f64 * bin_hz)))
        .map(|(_, &p)| p)
        .collect();
    bins.iter().sum::<f64>() / bins.len().max(1) as f64
}
