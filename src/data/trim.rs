//! Trimming leading and trailing silence from a recording before features are computed
//! (training, evaluation and per-file prediction; not the live path or timelines).
//!
//! A 25 ms frame is "loud" when its energy is within `trim_below_peak_db` of the loudest
//! frame's; the kept range runs from the first to the last loud frame, widened by
//! `trim_pad_ms` on each side.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Audio preparation settings; saved in the model card so prediction matches training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preprocess {
    /// Frames quieter than this many dB below the loudest 25 ms frame count as silence at
    /// the ends; 0 turns trimming off.
    pub trim_below_peak_db: f32,
    /// Audio kept before the first and after the last loud frame, ms.
    pub trim_pad_ms: f32,
}

impl Default for Preprocess {
    fn default() -> Self {
        Self { trim_below_peak_db: 40.0, trim_pad_ms: 200.0 }
    }
}

/// Length of the energy frames, ms.
const FRAME_MS: usize = 25;

/// The range of `samples` to keep; the whole signal when trimming is off or it is silent.
pub fn trim_range(samples: &[f32], sample_rate_hz: u32, config: &Preprocess) -> Range<usize> {
    let frame = (sample_rate_hz as usize * FRAME_MS / 1000).max(1);
    if config.trim_below_peak_db <= 0.0 || samples.len() < 2 * frame {
        return 0..samples.len();
    }
    let energies: Vec<f64> = samples
        .chunks(frame)
        .map(|c| c.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / c.len() as f64)
        .collect();
    let peak = energies.iter().copied().fold(0.0, f64::max);
    if peak <= 0.0 || !peak.is_finite() {
        return 0..samples.len();
    }
    let threshold = peak * 10f64.powf(-f64::from(config.trim_below_peak_db) / 10.0);
    let first = energies.iter().position(|&e| e >= threshold).unwrap_or(0);
    let last = energies.iter().rposition(|&e| e >= threshold).unwrap_or(energies.len() - 1);
    let pad = (config.trim_pad_ms.max(0.0) as usize) * sample_rate_hz as usize / 1000;
    let start = (first * frame).saturating_sub(pad);
    let end = ((last + 1) * frame + pad).min(samples.len());
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_silence_around_a_tone_keeping_the_pad() {
        let rate = 16_000;
        let mut x = vec![0.0f32; rate]; // 1 s silence
        x.extend((0..rate / 2).map(|i| (i as f32 * 0.2).sin() * 0.5)); // 0.5 s tone
        x.extend(vec![0.0f32; rate]); // 1 s silence
        let config = Preprocess { trim_below_peak_db: 40.0, trim_pad_ms: 100.0 };
        let r = trim_range(&x, rate as u32, &config);
        assert_eq!(r, (16_000 - 1_600)..(24_000 + 1_600));
        let off = Preprocess { trim_below_peak_db: 0.0, ..config };
        assert_eq!(trim_range(&x, rate as u32, &off), 0..x.len());
        assert_eq!(trim_range(&[0.0; 4000], rate as u32, &config), 0..4000);
    }
}
