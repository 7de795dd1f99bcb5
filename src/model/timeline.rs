//! Whole-recording inference shared by `predict` and the engine: one answer per file, the
//! output after every frame, and the timeline (the output every `interval_s`).
//!
//! - [`predict_samples`] trims silence as the card says (as in training), computes
//!   features, runs the batched network and applies the card's decision rule.
//! - [`frame_trace`] runs the untrimmed recording from its first sample with a fresh
//!   state: exactly the outputs `StreamState::step` gives when fed the streaming
//!   extractor's frames (equal within 1e-5, see `tests/model_stream.rs`).
//! - [`timeline`] samples that trace: the point at time `t` is the output after the frame
//!   centred at `t` (frame `round(t / hop)`), for `t = interval, 2 interval, ...` up to
//!   the recording's end. No voice-activity gating or smoothing is applied here.

use serde::{Deserialize, Serialize};

use super::file::{EmotionModel, Probabilities};
use super::{Emotion, ModelError};
use crate::data::trim::trim_range;
use crate::features::{FeatureError, extract};
use crate::train::metrics::argmax;

/// Why a recording could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The samples cannot be turned into features (empty, non-finite...).
    #[error("features: {0}")]
    Features(#[from] FeatureError),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// One answer for a whole recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilePrediction {
    /// The most probable class.
    pub emotion: Emotion,
    /// All class probabilities, in [`Emotion`] order.
    pub probabilities: Probabilities,
    /// Length of the recording, s.
    pub duration_s: f64,
    /// Length after trimming silence, s.
    pub speech_s: f64,
}

/// The model output at one moment of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Seconds since the recording started.
    pub time_s: f64,
    /// Class probabilities after the frame centred at `time_s`.
    pub probabilities: Probabilities,
}

/// Scores a whole recording of 16 kHz mono samples.
pub fn predict_samples(model: &EmotionModel, samples: &[f32]) -> Result<FilePrediction, PredictError> {
    let cfg = model.feature_config();
    let range = trim_range(samples, cfg.sample_rate_hz, &model.card().preprocess);
    let speech_s = range.len() as f64 / f64::from(cfg.sample_rate_hz);
    let frames = extract(cfg, &samples[range])?;
    let probs = model.frame_probabilities(&[&frames.features])?;
    let probabilities = model.decide(probs.first().map_or(&[][..], Vec::as_slice));
    Ok(FilePrediction {
        emotion: Emotion::from_index(argmax(&probabilities)).unwrap_or(Emotion::Neutral),
        probabilities,
        duration_s: samples.len() as f64 / f64::from(cfg.sample_rate_hz),
        speech_s,
    })
}

/// The output after every frame of the untrimmed recording, from a fresh state.
pub fn frame_trace(model: &EmotionModel, samples: &[f32]) -> Result<Vec<Probabilities>, PredictError> {
    let frames = extract(model.feature_config(), samples)?;
    Ok(model.frame_probabilities(&[&frames.features])?.pop().unwrap_or_default())
}

/// The output every `interval_s` seconds through the recording (see the module docs).
pub fn timeline(
    model: &EmotionModel,
    samples: &[f32],
    interval_s: f64,
) -> Result<Vec<TimelinePoint>, PredictError> {
    let trace = frame_trace(model, samples)?;
    let cfg = model.feature_config();
    Ok(sample_trace(&trace, cfg.hop_s(), samples.len() as f64 / f64::from(cfg.sample_rate_hz), interval_s))
}

/// Picks the frame output at `interval_s, 2 interval_s, ...` up to `duration_s`.
pub fn sample_trace(
    trace: &[Probabilities],
    hop_s: f64,
    duration_s: f64,
    interval_s: f64,
) -> Vec<TimelinePoint> {
    let mut points = Vec::new();
    if trace.is_empty() || interval_s.is_nan() || interval_s <= 0.0 || hop_s.is_nan() || hop_s <= 0.0 {
        return points;
    }
    for k in 1.. {
        let time_s = k as f64 * interval_s;
        if time_s > duration_s + 1e-9 {
            break;
        }
        let frame = ((time_s / hop_s).round() as usize).min(trace.len() - 1);
        points.push(TimelinePoint { time_s, probabilities: trace[frame] });
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_samples_the_frame_centred_at_each_time() {
        let trace: Vec<Probabilities> = (0..301).map(|i| [i as f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).collect();
        let points = sample_trace(&trace, 0.01, 3.0, 0.5);
        let got: Vec<(f64, f32)> = points.iter().map(|p| (p.time_s, p.probabilities[0])).collect();
        assert_eq!(got, [(0.5, 50.0), (1.0, 100.0), (1.5, 150.0), (2.0, 200.0), (2.5, 250.0), (3.0, 300.0)]);
        assert!(sample_trace(&trace, 0.01, 0.4, 0.5).is_empty());
        assert!(sample_trace(&[], 0.01, 3.0, 0.5).is_empty());
    }
}
