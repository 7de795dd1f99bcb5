//! Noise suppression: the stationary background (a fan, a hum, a line's hiss) estimated
//! causally and taken out of every frame's power spectrum before any feature is computed.
//!
//! Per frequency bin, the noise floor is the minimum of the recursively smoothed power
//! over the last `window_s` seconds (minimum statistics, after Martin 2001, with a fixed
//! smoothing constant), times a bias factor that makes the minimum of a noise-only bin
//! equal its mean. Pauses between words let the floor fall to the noise; speech never
//! holds it up for longer than the window. Each bin's power is then scaled by
//! `max(1 - over_subtraction * noise / smoothed, 10^(-max_attenuation_db / 10))`: spectral
//! subtraction with the gain taken from the smoothed power, floored so that no bin drops
//! by more than `max_attenuation_db`.
//!
//! The tracker advances once per frame in frame order, so the streaming extractor equals
//! the batch one; the live monitor keeps it running for the whole session.

use serde::{Deserialize, Serialize};

/// Noise suppression settings (`FeatureConfig::noise_suppression`); absent means off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoiseSuppression {
    /// Seconds of history whose smoothed minimum is the noise floor.
    pub window_s: f32,
    /// Multiple of the noise floor subtracted from each bin's power.
    pub over_subtraction: f32,
    /// Most a bin's power is lowered, in dB.
    pub max_attenuation_db: f32,
}

impl Default for NoiseSuppression {
    fn default() -> Self {
        Self { window_s: 1.5, over_subtraction: 2.0, max_attenuation_db: 20.0 }
    }
}

impl NoiseSuppression {
    /// Why these settings cannot work, if they cannot.
    pub fn problem(&self) -> Option<String> {
        if !(self.window_s >= 0.1 && self.window_s <= 30.0) {
            return Some(format!("window_s {} must be in 0.1..=30", self.window_s));
        }
        if !(self.over_subtraction >= 0.0 && self.over_subtraction <= 10.0) {
            return Some(format!("over_subtraction {} must be in 0..=10", self.over_subtraction));
        }
        if !(self.max_attenuation_db >= 0.0 && self.max_attenuation_db <= 60.0) {
            return Some(format!("max_attenuation_db {} must be in 0..=60", self.max_attenuation_db));
        }
        None
    }
}

/// Weight of the previous smoothed power in each frame's smoothed power.
const SMOOTHING: f32 = 0.7;
/// The window is searched as this many sub-windows, so its minimum slides in steps of a
/// quarter window instead of being searched frame by frame.
const SUB_WINDOWS: usize = 4;
/// Mean over minimum of a noise-only bin's smoothed power, for these frames (25 ms Hann
/// windows every 10 ms) and a 1.5 s window; measured by `noise_floor_is_the_noise_power`.
const MINIMUM_BIAS: f32 = 3.3;

/// The running noise floor of one signal (or live session).
#[derive(Debug, Clone)]
pub struct NoiseTracker {
    over_subtraction: f32,
    min_gain: f32,
    frames_per_sub_window: usize,
    smoothed: Vec<f32>,
    /// Minimum of the sub-window in progress.
    current_min: Vec<f32>,
    /// Minima of the last completed sub-windows, `SUB_WINDOWS` rows of bins.
    sub_window_min: Vec<f32>,
    /// Minimum over the completed sub-windows.
    window_min: Vec<f32>,
    frames_in_current: usize,
    completed: usize,
    started: bool,
}

impl NoiseTracker {
    /// A tracker for `n_bins` power bins arriving every `hop_s` seconds.
    pub fn new(settings: &NoiseSuppression, n_bins: usize, hop_s: f64) -> Self {
        let window_frames = (f64::from(settings.window_s) / hop_s).round().max(1.0) as usize;
        let mut tracker = Self {
            over_subtraction: settings.over_subtraction,
            min_gain: 10f32.powf(-settings.max_attenuation_db / 10.0),
            frames_per_sub_window: window_frames.div_ceil(SUB_WINDOWS).max(1),
            smoothed: vec![0.0; n_bins],
            current_min: vec![0.0; n_bins],
            sub_window_min: vec![0.0; SUB_WINDOWS * n_bins],
            window_min: vec![0.0; n_bins],
            frames_in_current: 0,
            completed: 0,
            started: false,
        };
        tracker.reset();
        tracker
    }

    /// Forgets the noise: the next frame starts a new signal.
    pub fn reset(&mut self) {
        self.current_min.fill(f32::INFINITY);
        self.window_min.fill(f32::INFINITY);
        self.frames_in_current = 0;
        self.completed = 0;
        self.started = false;
    }

    /// Updates the floor with one frame's power spectrum and subtracts it in place.
    /// Returns the fraction of the frame's power kept (1 for a silent frame).
    pub fn suppress(&mut self, power: &mut [f32]) -> f32 {
        if self.started {
            for (s, &p) in self.smoothed.iter_mut().zip(power.iter()) {
                *s = SMOOTHING * *s + (1.0 - SMOOTHING) * p;
            }
        } else {
            self.smoothed.copy_from_slice(power);
            self.started = true;
        }
        let (mut before, mut after) = (0.0f64, 0.0f64);
        for (((p, &s), current), &window) in
            power.iter_mut().zip(&self.smoothed).zip(self.current_min.iter_mut()).zip(&self.window_min)
        {
            *current = current.min(s);
            let noise = MINIMUM_BIAS * current.min(window);
            before += f64::from(*p);
            // NOTE: the gain comes from the smoothed power: a single frame's power scatters
            // around the noise floor, and subtracting from it leaves most of the noise.
            let gain =
                if s > 0.0 { (1.0 - self.over_subtraction * noise / s).max(self.min_gain) } else { 1.0 };
            *p *= gain;
            after += f64::from(*p);
        }
        self.frames_in_current += 1;
        if self.frames_in_current == self.frames_per_sub_window {
            self.close_sub_window();
        }
        if before > 0.0 { (after / before) as f32 } else { 1.0 }
    }

    /// Stores the finished sub-window's minimum and recomputes the window's.
    fn close_sub_window(&mut self) {
        let n_bins = self.current_min.len();
        let slot = self.completed % SUB_WINDOWS;
        self.sub_window_min[slot * n_bins..(slot + 1) * n_bins].copy_from_slice(&self.current_min);
        self.completed += 1;
        self.window_min.fill(f32::INFINITY);
        for row in self.sub_window_min.chunks_exact(n_bins).take(self.completed.min(SUB_WINDOWS)) {
            for (w, &m) in self.window_min.iter_mut().zip(row) {
                *w = w.min(m);
            }
        }
        self.current_min.fill(f32::INFINITY);
        self.frames_in_current = 0;
    }

    /// The current noise floor estimate of each bin (power).
    #[cfg(test)]
    fn noise_floor(&self) -> impl Iterator<Item = f32> + '_ {
        self.current_min.iter().zip(&self.window_min).map(|(&c, &w)| MINIMUM_BIAS * c.min(w))
    }
}

#[cfg(test)]
mod tests {
    use std::f32::consts::PI;

    use super::*;
    use crate::data::Rng;
    use crate::features::filters::padded_hann;
    use crate::features::{FeatureConfig, extract};

    fn white_noise(n: usize, rms: f32, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        // Uniform in -a..a has an RMS of a / sqrt(3).
        let a = f64::from(rms * 3f32.sqrt());
        (0..n).map(|_| rng.uniform(-a, a) as f32).collect()
    }

    /// On stationary white noise the floor settles at the noise's own mean power, within
    /// 1 dB: what `MINIMUM_BIAS` is for.
    #[test]
    fn noise_floor_is_the_noise_power() {
        let cfg = FeatureConfig::default();
        let (n_fft, hop) = (cfg.n_fft, cfg.hop_samples());
        let window = padded_hann(cfg.win_samples(), n_fft);
        let fft = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let (mut input, mut output) = (fft.make_input_vec(), fft.make_output_vec());
        let x = white_noise(16_000 * 8, 0.05, 1);
        let mut tracker = NoiseTracker::new(&NoiseSuppression::default(), cfg.n_bins(), cfg.hop_s());
        let inner = 5..250;
        let (mut power_sum, mut floor_sum) = (0.0f64, 0.0f64);
        for (t, start) in (0..x.len() - n_fft).step_by(hop).enumerate() {
            for ((i, &s), w) in input.iter_mut().zip(&x[start..start + n_fft]).zip(&window) {
                *i = f64::from(s) * w;
            }
            fft.process(&mut input, &mut output).expect("sizes from the planner");
            let mut power: Vec<f32> = output.iter().map(|c| c.norm_sqr() as f32).collect();
            let raw_power = power[inner.clone()].iter().map(|&p| f64::from(p)).sum::<f64>();
            tracker.suppress(&mut power);
            if t < 300 {
                continue; // the first 3 s: the floor is still settling
            }
            power_sum += raw_power;
            floor_sum +=
                tracker.noise_floor().skip(inner.start).take(inner.len()).map(f64::from).sum::<f64>();
        }
        let ratio_db = 10.0 * (floor_sum / power_sum).log10();
        assert!(ratio_db.abs() < 1.0, "floor / noise power = {ratio_db:.2} dB");
    }

    /// A voiced, syllable-like signal (150 Hz harmonics, a half-second syllable every
    /// second) in white noise at 5 dB SNR: in its syllables, suppression lowers the log-mel
    /// bands the noise dominates (the clean signal at least 10 dB below the noisy one) by
    /// 8 dB or more on average, and moves the bands the voice dominates by less than 3 dB.
    #[test]
    fn suppression_lowers_the_noise_and_keeps_the_voice() {
        let n = 16_000 * 4;
        let room = white_noise(n, 1e-3, 3);
        let clean: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let envelope = (2.0 * PI * t).sin().max(0.0);
                let voice: f32 = (1..=20).map(|h| (2.0 * PI * 150.0 * h as f32 * t).sin() / h as f32).sum();
                0.1 * envelope * voice + room[i]
            })
            .collect();
        let speech_power = clean.iter().map(|x| x * x).sum::<f32>() / n as f32;
        let noise = white_noise(n, (speech_power / 10f32.powf(0.5)).sqrt(), 2);
        let noisy: Vec<f32> = clean.iter().zip(&noise).map(|(c, z)| c + z).collect();
        let plain = FeatureConfig::default();
        let suppressed =
            FeatureConfig { noise_suppression: Some(NoiseSuppression::default()), ..plain.clone() };
        let clean = extract(&plain, &clean).expect("clean");
        let before = extract(&plain, &noisy).expect("noisy");
        let after = extract(&suppressed, &noisy).expect("noisy, suppressed");
        let (mut noise_drop, mut voice_change) = (Vec::new(), Vec::new());
        // Syllable middles (0.1-0.4 s into each syllable), from the second syllable on,
        // once the floor has seen a pause.
        let middles = (100..clean.n_frames).filter(|t| (0.1..0.4).contains(&(*t as f32 * 0.01 % 1.0)));
        for t in middles {
            for ((c, b), a) in clean.log_mel(t).iter().zip(before.log_mel(t)).zip(after.log_mel(t)) {
                if *c < b - 10.0 {
                    noise_drop.push(b - a);
                } else if *c >= b - 1.0 {
                    voice_change.push((b - a).abs());
                }
            }
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
        assert!(
            noise_drop.len() > 100 && voice_change.len() > 100,
            "{} / {}",
            noise_drop.len(),
            voice_change.len()
        );
        let (drop, change) = (mean(&noise_drop), mean(&voice_change));
        assert!(drop >= 8.0, "noise bands fell by {drop:.1} dB");
        assert!(change < 3.0, "voice bands moved by {change:.1} dB");
    }

    /// Off by default, and then not written, so older configs' bytes (and the feature
    /// cache keys made from them) stay as they were.
    #[test]
    fn off_is_not_written() {
        let text = serde_json::to_string(&FeatureConfig::default()).expect("serialises");
        assert!(!text.contains("noise_suppression"), "{text}");
        let on = FeatureConfig { noise_suppression: Some(NoiseSuppression::default()), ..Default::default() };
        let back: FeatureConfig =
            serde_json::from_str(&serde_json::to_string(&on).expect("serialises")).expect("reads");
        assert_eq!(back, on);
    }
}
