//! Scoring a recording too long to hold (over `--stream-over`, 20 min by default) by
//! streaming it, as the live engine does: the file is decoded a packet at a time,
//! features come from the streaming extractor and the model is stepped frame by frame,
//! so memory stays flat however long the recording is.
//!
//! The answers are those of the batched path ([`predict_samples`], [`timeline`]) on the
//! same file, within the streaming step's 1e-5: the answer comes from the trimmed
//! recording ([`streamed_trim_range`]) with a fresh state and the card's decision rule,
//! applied as frames arrive; the timeline from the untrimmed recording with another fresh
//! state, sampled at each `interval_s` (`tests/predict_batch.rs` checks both against the
//! batched path). One decode pass feeds both; finding the trim takes two more
//! (decoding is far cheaper than the model).
//!
//! [`predict_samples`]: crate::model::timeline::predict_samples
//! [`timeline`]: crate::model::timeline::timeline

use std::path::Path;

use super::ScoreError;
use super::signal::{for_each_chunk_16k, streamed_trim_range};
use crate::audio::resample::TARGET_RATE_HZ;
use crate::features::StreamingExtractor;
use crate::model::card::Decision;
use crate::model::file::{decide, frame_weight};
use crate::model::timeline::{FilePrediction, TimelinePoint};
use crate::model::{Emotion, EmotionModel, Probabilities, StreamError, StreamState};
use crate::train::metrics::argmax;

/// One streamed pass of the model: an extractor and a fresh state.
struct Lane {
    extractor: StreamingExtractor,
    state: StreamState,
    frames: u64,
    error: Option<StreamError>,
}

impl Lane {
    fn new(model: &EmotionModel) -> Result<Self, ScoreError> {
        Ok(Self {
            extractor: StreamingExtractor::new(model.feature_config())?,
            state: model.new_stream(),
            frames: 0,
            error: None,
        })
    }

    /// Feeds samples; `on_output(frame index, probabilities)` for each frame they complete.
    fn push(
        &mut self,
        model: &EmotionModel,
        samples: &[f32],
        mut on_output: impl FnMut(u64, &Probabilities),
    ) {
        let Self { extractor, state, frames, error } = self;
        extractor.push(samples, |f| step(model, state, frames, error, f.features, &mut on_output));
    }

    fn finish(&mut self, model: &EmotionModel, mut on_output: impl FnMut(u64, &Probabilities)) {
        let Self { extractor, state, frames, error } = self;
        extractor.finish(|f| step(model, state, frames, error, f.features, &mut on_output));
    }
}

fn step(
    model: &EmotionModel,
    state: &mut StreamState,
    frames: &mut u64,
    error: &mut Option<StreamError>,
    features: &[f32],
    on_output: &mut impl FnMut(u64, &Probabilities),
) {
    if error.is_some() {
        return;
    }
    match state.step(model, features) {
        Ok(p) => {
            on_output(*frames, &p);
            *frames += 1;
        }
        Err(e) => *error = Some(e),
    }
}

/// The card's decision rule applied frame by frame (as `decide` does on all frames).
struct RunningDecision {
    rule: Decision,
    frames: u64,
    /// Weighted sums of the frame probabilities and of their weights (each frame's weight
    /// is `frame_weight`'s, 1 but for the confidence-weighted rule).
    sum_all: [f64; Emotion::COUNT],
    weight_all: f64,
    sum_after_warmup: [f64; Emotion::COUNT],
    weight_after_warmup: f64,
    last: Probabilities,
    /// The first frames while the half rule may still answer from them (fewer than twice
    /// the warm-up); empty for the other rules.
    early: Vec<Probabilities>,
}

impl RunningDecision {
    fn new(rule: Decision) -> Self {
        let zeros = [0.0; Emotion::COUNT];
        Self {
            rule,
            frames: 0,
            sum_all: zeros,
            weight_all: 0.0,
            sum_after_warmup: zeros,
            weight_after_warmup: 0.0,
            last: [0.0; Emotion::COUNT],
            early: Vec::new(),
        }
    }

    fn warmup(&self) -> u64 {
        match self.rule {
            Decision::MeanAfterWarmup { warmup_frames }
            | Decision::MeanAfterWarmupOrHalf { warmup_frames }
            | Decision::ConfidenceWeightedAfterWarmup { warmup_frames } => warmup_frames as u64,
            Decision::LastFrame => u64::MAX,
        }
    }

    fn add(&mut self, index: u64, p: &Probabilities) {
        let weight = frame_weight(self.rule, p);
        let after_warmup = index >= self.warmup();
        for (k, &v) in p.iter().enumerate() {
            self.sum_all[k] += weight * f64::from(v);
            if after_warmup {
                self.sum_after_warmup[k] += weight * f64::from(v);
            }
        }
        self.weight_all += weight;
        if after_warmup {
            self.weight_after_warmup += weight;
        }
        if let Decision::MeanAfterWarmupOrHalf { warmup_frames } = self.rule
            && self.early.len() < 2 * warmup_frames
        {
            self.early.push(*p);
        }
        self.last = *p;
        self.frames += 1;
    }

    /// All zeros for no frames, as `decide` gives.
    fn result(&self) -> Probabilities {
        let mean = |sum: &[f64; Emotion::COUNT], weight: f64| {
            sum.map(|s| if weight > 0.0 { (s / weight) as f32 } else { 0.0 })
        };
        match self.rule {
            Decision::LastFrame => self.last,
            // Every frame is still held: `decide` picks the second half.
            Decision::MeanAfterWarmupOrHalf { .. } if self.frames == self.early.len() as u64 => {
                decide(self.rule, &self.early)
            }
            // Longer than the warm-up (for the half rule, at least twice it): from it on.
            _ if self.frames > self.warmup() => mean(&self.sum_after_warmup, self.weight_after_warmup),
            _ => mean(&self.sum_all, self.weight_all),
        }
    }
}

/// Timeline points at `interval_s, 2 interval_s, ...`, each the output after the frame
/// centred there, taken as the frames go by (as `sample_trace` does on a whole trace).
struct RunningTimeline {
    interval_s: f64,
    hop_s: f64,
    points: Vec<TimelinePoint>,
    last: Option<Probabilities>,
}

impl RunningTimeline {
    fn next_frame(&self) -> u64 {
        ((self.points.len() + 1) as f64 * self.interval_s / self.hop_s).round() as u64
    }

    fn add(&mut self, index: u64, p: &Probabilities) {
        while self.next_frame() == index {
            let time_s = (self.points.len() + 1) as f64 * self.interval_s;
            self.points.push(TimelinePoint { time_s, probabilities: *p });
        }
        self.last = Some(*p);
    }

    /// Points past the last frame take its output; none past the recording's end.
    fn finish(mut self, duration_s: f64) -> Vec<TimelinePoint> {
        self.points.retain(|p| p.time_s <= duration_s + 1e-9);
        if let Some(last) = self.last {
            loop {
                let time_s = (self.points.len() + 1) as f64 * self.interval_s;
                if time_s > duration_s + 1e-9 {
                    break;
                }
                self.points.push(TimelinePoint { time_s, probabilities: last });
            }
        }
        self.points
    }
}

/// Scores `path` by streaming it: the answer, and the timeline every `interval_s` when
/// asked. Memory does not depend on the recording's length (but for the timeline's
/// points: 36 bytes each).
pub fn score_streamed(
    model: &EmotionModel,
    path: &Path,
    interval_s: Option<f64>,
) -> Result<(FilePrediction, Option<Vec<TimelinePoint>>), ScoreError> {
    let keep = streamed_trim_range(path, &model.card().preprocess)?;
    let hop_s = model.feature_config().hop_s();
    let mut answer = Lane::new(model)?;
    let mut decision = RunningDecision::new(model.card().decision);
    let mut trace = match interval_s {
        Some(i) => Some((
            Lane::new(model)?,
            RunningTimeline { interval_s: i, hop_s, points: Vec::new(), last: None },
        )),
        None => None,
    };
    let mut position = 0u64;
    let total = for_each_chunk_16k(path, |chunk| {
        let start = position;
        position += chunk.len() as u64;
        let from = keep.start.clamp(start, position) - start;
        let to = keep.end.clamp(start, position) - start;
        if from < to {
            answer.push(model, &chunk[from as usize..to as usize], |i, p| decision.add(i, p));
        }
        if let Some((lane, timeline)) = &mut trace {
            lane.push(model, chunk, |i, p| timeline.add(i, p));
        }
    })?;
    answer.finish(model, |i, p| decision.add(i, p));
    let rate = f64::from(TARGET_RATE_HZ);
    let timeline = match trace {
        Some((mut lane, mut timeline)) => {
            lane.finish(model, |i, p| timeline.add(i, p));
            if let Some(e) = lane.error {
                return Err(e.into());
            }
            Some(timeline.finish(total as f64 / rate))
        }
        None => None,
    };
    if let Some(e) = answer.error {
        return Err(e.into());
    }
    let probabilities = decision.result();
    let prediction = FilePrediction {
        emotion: Emotion::from_index(argmax(&probabilities)).unwrap_or(Emotion::Neutral),
        probabilities,
        duration_s: total as f64 / rate,
        speech_s: (keep.end - keep.start) as f64 / rate,
    };
    Ok((prediction, timeline))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running decision equals `decide` over the same frames, for every rule and for
    /// fewer frames than the warm-up.
    #[test]
    fn running_decision_equals_decide() {
        let frames: Vec<Probabilities> =
            (0..9).map(|i| std::array::from_fn(|k| ((i * 7 + k * 3) % 11) as f32 / 10.0)).collect();
        for rule in [
            Decision::LastFrame,
            Decision::MeanAfterWarmup { warmup_frames: 0 },
            Decision::MeanAfterWarmup { warmup_frames: 4 },
            Decision::MeanAfterWarmup { warmup_frames: 20 },
            Decision::MeanAfterWarmupOrHalf { warmup_frames: 0 },
            Decision::MeanAfterWarmupOrHalf { warmup_frames: 3 },
            Decision::MeanAfterWarmupOrHalf { warmup_frames: 4 },
            Decision::MeanAfterWarmupOrHalf { warmup_frames: 20 },
            Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 0 },
            Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 4 },
            Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 20 },
        ] {
            for n in [0, 1, 5, 6, 7, 8, 9] {
                let mut running = RunningDecision::new(rule);
                frames[..n].iter().enumerate().for_each(|(i, p)| running.add(i as u64, p));
                let expected = decide(rule, &frames[..n]);
                for (a, b) in running.result().iter().zip(&expected) {
                    assert!((a - b).abs() < 1e-6, "{rule:?}, {n} frames: {a} vs {b}");
                }
            }
        }
    }

    /// The running timeline picks the frames `sample_trace` picks from the whole trace.
    #[test]
    fn running_timeline_equals_sample_trace() {
        let trace: Vec<Probabilities> = (0..263).map(|i| [i as f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).collect();
        for (duration_s, interval_s) in [(2.62, 0.5), (2.63, 0.25), (0.3, 0.5), (2.625, 0.07)] {
            let mut running = RunningTimeline { interval_s, hop_s: 0.01, points: Vec::new(), last: None };
            trace.iter().enumerate().for_each(|(i, p)| running.add(i as u64, p));
            let expected = crate::model::timeline::sample_trace(&trace, 0.01, duration_s, interval_s);
            assert_eq!(running.finish(duration_s), expected, "{duration_s} s every {interval_s} s");
        }
    }
}
