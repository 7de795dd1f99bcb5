//! The offline trace: a whole file (or signal) through the same [`Pipeline`] the live
//! engine runs, synchronously, keeping every snapshot. `emotrace predict --timeline` and
//! the engine's file replay both come down to this, so they cannot disagree.
//!
//! These run on the calling thread, which they set up as the worker's (libtorch with one
//! intra-op thread, see [`prepare_worker_thread`]).

use std::path::Path;

use super::classifier::FrameClassifier;
use super::config::EngineConfig;
use super::error::EngineError;
use super::pipeline::{CollectSink, Pipeline};
use super::snapshot::{Probabilities, Snapshot};
use super::worker::prepare_worker_thread;
use crate::audio::decode::AudioFileReader;
use crate::features::FeatureConfig;

/// Every hop of `samples` (mono, at `sample_rate_hz`), fed in `chunk` samples at a time
/// (the result does not depend on `chunk`), including the final frames of the signal.
pub fn trace_samples(
    samples: &[f32],
    sample_rate_hz: u32,
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
    chunk: usize,
) -> Result<Vec<Snapshot>, EngineError> {
    prepare_worker_thread();
    let mut pipeline = Pipeline::new(features, config, sample_rate_hz, classifier)?;
    let mut sink = CollectSink::default();
    for piece in samples.chunks(chunk.max(1)) {
        pipeline.push(piece, &mut sink);
    }
    pipeline.finish(&mut sink);
    Ok(sink.snapshots)
}

/// Every hop of an audio file, decoded a packet at a time (long files are never held
/// whole), at the file's own rate through the pipeline's resampler.
pub fn trace_file(
    path: &Path,
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
) -> Result<Vec<Snapshot>, EngineError> {
    prepare_worker_thread();
    let mut reader = AudioFileReader::open(path).map_err(|e| EngineError::File(e.to_string()))?;
    let mut pipeline = Pipeline::new(features, config, reader.sample_rate_hz(), classifier)?;
    let mut sink = CollectSink::default();
    let mut buf = Vec::new();
    while reader.read_chunk(&mut buf).map_err(|e| EngineError::File(e.to_string()))? > 0 {
        pipeline.push(&buf, &mut sink);
    }
    pipeline.finish(&mut sink);
    Ok(sink.snapshots)
}

/// One point of a coarse timeline: the snapshot nearest each multiple of `step_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelinePoint {
    /// Time of the point, in seconds.
    pub time_s: f64,
    /// Smoothed probabilities there; `None` when there was no speech.
    pub probabilities: Option<Probabilities>,
}

/// Samples a trace every `step_s` seconds (0, step, 2·step, ...), taking the hop whose
/// centre is nearest each point.
pub fn timeline(trace: &[Snapshot], step_s: f64) -> Vec<TimelinePoint> {
    let (Some(first), Some(last)) = (trace.first(), trace.last()) else { return Vec::new() };
    let hop_s = if trace.len() > 1 { (last.time_s - first.time_s) / (trace.len() - 1) as f64 } else { 1.0 };
    let step_s = step_s.max(hop_s);
    let points = (last.time_s / step_s + 1e-9).floor() as usize + 1;
    (0..points)
        .map(|k| {
            let t = k as f64 * step_s;
            let i = (((t - first.time_s) / hop_s).round().max(0.0) as usize).min(trace.len() - 1);
            TimelinePoint { time_s: t, probabilities: trace[i].probabilities }
        })
        .collect()
}
