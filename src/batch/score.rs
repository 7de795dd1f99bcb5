//! Scoring one recording: held whole and run batched when it is short enough, streamed
//! when it is longer than the limit (or states no length and turns out longer).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ScoreError;
use super::streamed::score_streamed;
use crate::audio::decode::{AudioFileReader, load_mono_16k};
use crate::model::EmotionModel;
use crate::model::timeline::{FilePrediction, TimelinePoint, predict_samples, timeline};

/// Recordings longer than this many seconds are streamed rather than held whole. Held
/// whole, a recording costs its signal, its features and the network's activations for
/// every frame at once (about 0.3 GB for 20 minutes).
pub const DEFAULT_STREAM_OVER_S: f64 = 1_200.0;

/// How to score each file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// Also give the probabilities every this many seconds.
    pub timeline_interval_s: Option<f64>,
    /// Stream recordings longer than this, in seconds.
    pub stream_over_s: f64,
}

/// What scoring one file gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// The answer for the whole recording.
    #[serde(flatten)]
    pub prediction: FilePrediction,
    /// The timeline, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelinePoint>>,
    /// Whether the recording was streamed (longer than the limit).
    pub streamed: bool,
}

/// One file's result, in the order of the file list.
#[derive(Debug)]
pub struct FileReport {
    /// Position in the list of files being scored.
    pub index: usize,
    /// The file.
    pub path: PathBuf,
    /// The scores, or why there are none.
    pub outcome: Result<Scored, ScoreError>,
}

impl FileReport {
    /// Seconds of audio scored (0 for a file that failed).
    pub fn audio_s(&self) -> f64 {
        self.outcome.as_ref().map_or(0.0, |s| s.prediction.duration_s)
    }
}

/// Scores one recording.
pub fn score_file(model: &EmotionModel, path: &Path, options: &ScoreOptions) -> Result<Scored, ScoreError> {
    // The header's stated length sends a long file to streaming before anything is
    // decoded; a file that states none is decoded whole and streamed if it is long.
    let reader = AudioFileReader::open(path)?;
    let stated_s = reader.total_frames_hint().map(|n| n as f64 / f64::from(reader.sample_rate_hz()));
    drop(reader);
    let streamed = |model| {
        let (prediction, timeline) = score_streamed(model, path, options.timeline_interval_s)?;
        Ok(Scored { prediction, timeline, streamed: true })
    };
    if stated_s.is_some_and(|s| s > options.stream_over_s) {
        return streamed(model);
    }
    let samples = load_mono_16k(path)?;
    if samples.len() as f64 / 16_000.0 > options.stream_over_s {
        drop(samples);
        return streamed(model);
    }
    let prediction = predict_samples(model, &samples)?;
    let timeline = match options.timeline_interval_s {
        Some(i) => Some(timeline(model, &samples, i)?),
        None => None,
    };
    Ok(Scored { prediction, timeline, streamed: false })
}
