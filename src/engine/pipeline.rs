//! The per-hop pipeline, one thread, no allocation after `new`:
//! samples at the source rate -> 16 kHz -> feature frames -> level and voice-activity gate
//! -> model step -> smoothing -> [`Snapshot`].
//!
//! Live capture, file replay and the offline trace all push samples through this same
//! type, so they give the same snapshots for the same audio, whatever the chunking.
//! Stream time comes from sample counts, never from the clock.

use std::time::Instant;

use super::classifier::FrameClassifier;
use super::config::EngineConfig;
use super::error::EngineError;
use super::level::LevelMeter;
use super::smoothing::Smoother;
use super::snapshot::{MAX_MEL_BANDS, MelColumn, Snapshot};
use super::vad::UtteranceGate;
use crate::audio::resample::StreamResampler;
use crate::features::{FeatureConfig, FrameView, StreamingExtractor};

/// Input samples handed to the resampler at a time (bounds the 16 kHz run lengths).
const MAX_PIECE: usize = 1_024;
/// Extra 16 kHz samples the level meter keeps beyond the extractor's look-ahead.
const LEVEL_SLACK: usize = 16_384;

/// Where the pipeline's output goes.
pub trait PipelineSink {
    /// The 16 kHz samples the model hears, in order (for recording).
    fn audio(&mut self, samples_16k: &[f32]);
    /// One finished hop.
    fn snapshot(&mut self, snapshot: &Snapshot);
}

/// A sink that keeps every snapshot (offline traces, tests).
#[derive(Debug, Default)]
pub struct CollectSink {
    /// The snapshots, in order.
    pub snapshots: Vec<Snapshot>,
    /// 16 kHz samples seen.
    pub samples_16k: u64,
}

impl PipelineSink for CollectSink {
    fn audio(&mut self, samples_16k: &[f32]) {
        self.samples_16k += samples_16k.len() as u64;
    }

    fn snapshot(&mut self, snapshot: &Snapshot) {
        self.snapshots.push(*snapshot);
    }
}

/// Time spent per stage since profiling was switched on, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Resampling to 16 kHz.
    pub resample_ns: u64,
    /// Feature extraction and the level meter.
    pub features_ns: u64,
    /// Model steps.
    pub model_ns: u64,
    /// Gate, smoothing and handing snapshots to the sink.
    pub other_ns: u64,
    /// Hops produced.
    pub hops: u64,
}

/// Everything that happens to one feature frame (split from the resampler and the
/// extractor so the borrow checker sees the three apart inside their callbacks).
struct FrameStage {
    level: LevelMeter,
    gate: UtteranceGate,
    smoother: Smoother,
    classifier: Option<Box<dyn FrameClassifier>>,
    hop_samples: u64,
    hop_s: f64,
    utterance_index: u64,
    snapshot: Snapshot,
    profile: Option<StageTimes>,
}

impl FrameStage {
    fn frame(&mut self, frame: FrameView<'_>, sink: &mut dyn PipelineSink) {
        let t0 = self.profile.map(|_| Instant::now());
        let centre = frame.index as u64 * self.hop_samples;
        let level_dbfs = self.level.level_dbfs(centre);
        let decision = self.gate.update(level_dbfs);
        if decision.reset {
            self.utterance_index += 1;
            self.smoother.reset();
            if let Some(c) = &mut self.classifier {
                c.reset();
            }
        }
        let t1 = self.profile.map(|_| Instant::now());
        let raw = match (&mut self.classifier, decision.step_model) {
            (Some(c), true) => Some(c.step(frame.features)),
            _ => None,
        };
        let t2 = self.profile.map(|_| Instant::now());
        let smoothed = raw.as_ref().map(|r| self.smoother.update(r));
        let s = &mut self.snapshot;
        s.hop_index = frame.index as u64;
        s.time_s = frame.index as f64 * self.hop_s;
        s.mel_db.set(frame.log_mel_db);
        s.level_dbfs = level_dbfs;
        s.speech = decision.speech;
        s.utterance_s = decision.utterance_s;
        s.utterance_index = self.utterance_index;
        s.probabilities = smoothed.filter(|_| decision.speech);
        s.raw_probabilities = raw.filter(|_| decision.speech);
        sink.snapshot(s);
        if let (Some(p), Some(t0), Some(t1), Some(t2)) = (&mut self.profile, t0, t1, t2) {
            p.model_ns += nanos(t2 - t1);
            p.other_ns += nanos(t1 - t0) + nanos(t2.elapsed());
            p.hops += 1;
        }
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Samples in, snapshots out. See the module docs.
pub struct Pipeline {
    resampler: StreamResampler,
    extractor: StreamingExtractor,
    stage: FrameStage,
    feature_config: FeatureConfig,
    input_samples: u64,
}

impl Pipeline {
    /// The classifier's statistics of the session's speech so far (see
    /// [`FrameClassifier::session_statistics`]).
    pub fn session_statistics(&mut self) -> Option<(crate::data::SpeakerStats, u64)> {
        self.stage.classifier.as_mut()?.session_statistics()
    }

    /// Builds every buffer for input at `input_rate_hz`, features per `features` (the
    /// model's own config), and an optional classifier (none: level, speech and
    /// spectrogram only).
    pub fn new(
        features: &FeatureConfig,
        config: &EngineConfig,
        input_rate_hz: u32,
        classifier: Option<Box<dyn FrameClassifier>>,
    ) -> Result<Self, EngineError> {
        if features.n_mels > MAX_MEL_BANDS {
            return Err(EngineError::TooManyMelBands { n_mels: features.n_mels });
        }
        let extractor =
            StreamingExtractor::new(features).map_err(|e| EngineError::Pipeline(e.to_string()))?;
        if let Some(c) = &classifier
            && c.input_dim() != extractor.frame_dim()
        {
            return Err(EngineError::Model(format!(
                "the model takes {} values per frame but its feature config gives {}",
                c.input_dim(),
                extractor.frame_dim()
            )));
        }
        let resampler = StreamResampler::with_rates(input_rate_hz, features.sample_rate_hz)
            .map_err(|e| EngineError::Pipeline(e.to_string()))?;
        let hop_samples = features.hop_samples();
        let hop_s = features.hop_s();
        let hop_ms = (hop_s * 1_000.0) as f32;
        let lookback = extractor.latency_samples() + features.n_fft + LEVEL_SLACK;
        let stage = FrameStage {
            level: LevelMeter::new(features.win_samples(), lookback),
            gate: UtteranceGate::new(config.vad, hop_ms),
            smoother: Smoother::new(config.smoothing_ms, hop_ms),
            classifier,
            hop_samples: hop_samples as u64,
            hop_s,
            utterance_index: 0,
            snapshot: Snapshot {
                hop_index: 0,
                time_s: 0.0,
                mel_db: MelColumn::EMPTY,
                level_dbfs: 0.0,
                speech: false,
                utterance_s: 0.0,
                utterance_index: 0,
                probabilities: None,
                raw_probabilities: None,
                dropped_samples: 0,
                latency_ms: 0.0,
            },
            profile: None,
        };
        Ok(Self { resampler, extractor, stage, feature_config: features.clone(), input_samples: 0 })
    }

    /// The feature configuration in use.
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.feature_config
    }

    /// The input sample rate, in Hz.
    pub fn input_rate_hz(&self) -> u32 {
        self.resampler.input_rate_hz()
    }

    /// Switches to a new input rate (after a device came back differently); the stream
    /// continues, the current utterance ends.
    pub fn set_input_rate(&mut self, input_rate_hz: u32) -> Result<(), EngineError> {
        if input_rate_hz != self.resampler.input_rate_hz() {
            self.resampler = StreamResampler::with_rates(input_rate_hz, self.feature_config.sample_rate_hz)
                .map_err(|e| EngineError::Pipeline(e.to_string()))?;
        }
        self.break_stream();
        Ok(())
    }

    /// Marks a gap in the audio (pause, lost device): the current utterance ends, so the
    /// next speech starts from a fresh model state.
    pub fn break_stream(&mut self) {
        self.stage.gate.end_utterance();
    }

    /// Input samples pushed so far.
    pub fn input_samples(&self) -> u64 {
        self.input_samples
    }

    /// Stream time of the next 16 kHz sample, in seconds.
    pub fn stream_time_s(&self) -> f64 {
        self.stage.level.pushed() as f64 / f64::from(self.feature_config.sample_rate_hz)
    }

    /// Hops produced so far.
    pub fn hops(&self) -> u64 {
        self.extractor.frames_emitted() as u64
    }

    /// The algorithmic delay from a frame's centre to its snapshot, in ms: the feature
    /// window's second half and delta look-ahead (the resampler's own delay is removed
    /// by the resampler, which instead waits for whole input chunks).
    pub fn lookahead_ms(&self) -> f64 {
        self.extractor.latency_samples() as f64 * 1_000.0 / f64::from(self.feature_config.sample_rate_hz)
    }

    /// Switches per-stage timing on (resetting it) or off.
    pub fn set_profiling(&mut self, on: bool) {
        self.stage.profile = on.then(StageTimes::default);
    }

    /// Per-stage times since profiling was switched on.
    pub fn stage_times(&self) -> Option<StageTimes> {
        self.stage.profile
    }

    /// Feeds samples at the input rate; `sink` gets the 16 kHz audio and every hop that
    /// completes.
    pub fn push(&mut self, input: &[f32], sink: &mut dyn PipelineSink) {
        self.input_samples += input.len() as u64;
        for piece in input.chunks(MAX_PIECE) {
            let t0 = self.stage.profile.map(|_| Instant::now());
            let before = self.stage.profile;
            let (extractor, stage) = (&mut self.extractor, &mut self.stage);
            let mut features_ns = 0;
            self.resampler.process(piece, |s16| {
                let t = stage.profile.map(|_| Instant::now());
                stage.level.push(s16);
                sink.audio(s16);
                extractor.push(s16, |frame| stage.frame(frame, &mut *sink));
                if let Some(t) = t {
                    features_ns += nanos(t.elapsed());
                }
            });
            account(&mut self.stage.profile, before, t0, features_ns);
        }
    }

    /// Ends the signal (end of a file): flushes the resampler and the extractor, so the
    /// last frames come out exactly as the batch extractor would give them.
    pub fn finish(&mut self, sink: &mut dyn PipelineSink) {
        let (extractor, stage) = (&mut self.extractor, &mut self.stage);
        self.resampler.finish(|s16| {
            stage.level.push(s16);
            sink.audio(s16);
            extractor.push(s16, |frame| stage.frame(frame, &mut *sink));
        });
        extractor.finish(|frame| stage.frame(frame, &mut *sink));
    }
}

/// Splits one piece's time: `features_ns` covered the extractor and the frame stage; the
/// frame stage accounted for itself (from `before` to now); the rest was resampling.
fn account(
    profile: &mut Option<StageTimes>,
    before: Option<StageTimes>,
    t0: Option<Instant>,
    features_ns: u64,
) {
    let (Some(p), Some(before), Some(t0)) = (profile.as_mut(), before, t0) else { return };
    let total = nanos(t0.elapsed());
    let frames_ns = (p.model_ns - before.model_ns) + (p.other_ns - before.other_ns);
    let features_only = features_ns.saturating_sub(frames_ns);
    p.features_ns += features_only;
    p.resample_ns += total.saturating_sub(features_ns);
}
