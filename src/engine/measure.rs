//! Measurements behind `emotrace bench`: the worker's cost per hop by stage, the speed of
//! a fast replay, and the end-to-end latency and CPU share of a live session fed by a
//! simulated sound card at real-time pace.
//!
//! Latency is measured from outside the engine: the simulated card notes when each
//! period entered the ring; the listener notes when each snapshot left the channel; an
//! offline run of the same pipeline tells which input sample completed each hop (its
//! *trigger*). Latency = receive time − push time of the trigger sample's period. The
//! look-ahead of the analysis (a frame is complete only once the window's second half
//! and the delta frames have arrived) comes on top and is reported separately.

use std::path::Path;
use std::time::{Duration, Instant};

use super::classifier::FrameClassifier;
use super::config::{EngineConfig, Pace, Source};
use super::error::EngineError;
use super::pipeline::{Pipeline, PipelineSink, StageTimes};
use super::snapshot::Snapshot;
use super::worker::{prepare_worker_thread, start_engine, start_engine_on_ring};
use crate::audio::capture::{CaptureInfo, capture_ring};
use crate::features::FeatureConfig;

/// A sink that only counts.
struct CountSink {
    hops: u64,
}

impl PipelineSink for CountSink {
    fn audio(&mut self, _: &[f32]) {}
    fn snapshot(&mut self, _: &Snapshot) {
        self.hops += 1;
    }
}

/// Cost of the pipeline on one thread.
#[derive(Debug, Clone, Copy)]
pub struct CostSplit {
    /// Time per stage, summed.
    pub stages: StageTimes,
    /// Wall time of the whole run, in seconds.
    pub wall_s: f64,
    /// Audio processed, in seconds.
    pub audio_s: f64,
}

/// Pushes `samples` (at `rate_hz`) through a pipeline in `period` sample blocks, with
/// per-stage timing, on the calling thread set up as the worker's.
pub fn cost_split(
    samples: &[f32],
    rate_hz: u32,
    period: usize,
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
) -> Result<CostSplit, EngineError> {
    prepare_worker_thread();
    let mut pipeline = Pipeline::new(features, config, rate_hz, classifier)?;
    let mut sink = CountSink { hops: 0 };
    // Warm up (first FFTs and model steps), then time a fresh pass.
    for block in samples[..samples.len().min(rate_hz as usize)].chunks(period.max(1)) {
        pipeline.push(block, &mut sink);
    }
    pipeline.set_profiling(true);
    let t = Instant::now();
    for block in samples.chunks(period.max(1)) {
        pipeline.push(block, &mut sink);
    }
    let wall_s = t.elapsed().as_secs_f64();
    let stages = pipeline.stage_times().unwrap_or_default();
    Ok(CostSplit { stages, wall_s, audio_s: samples.len() as f64 / f64::from(rate_hz) })
}

/// Replays `path` as fast as possible through the threaded engine (a listener drains
/// the snapshots); returns (audio seconds, wall seconds, hops).
pub fn fast_replay(
    path: &Path,
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
) -> Result<(f64, f64, u64), EngineError> {
    let t = Instant::now();
    let source = Source::File { path: path.to_owned(), pace: Pace::Fast };
    let engine = start_engine(&source, config, features, classifier, "bench")?;
    let mut hops = 0u64;
    let mut last_time_s = 0.0;
    loop {
        match engine.snapshots().recv_timeout(Duration::from_millis(20)) {
            Ok(s) => {
                hops += 1;
                last_time_s = s.time_s;
            }
            Err(_) if engine.is_finished() && engine.snapshots().is_empty() => break,
            Err(_) => {}
        }
    }
    let wall_s = t.elapsed().as_secs_f64();
    let report = engine.stop();
    if let Some(reason) = report.error {
        return Err(EngineError::File(reason));
    }
    Ok((last_time_s, wall_s, hops))
}

/// What a real-time run measured.
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// Ring-to-listener latency of each hop, in ms (trigger sample's push to receive).
    pub latency_ms: Vec<f64>,
    /// The latency each snapshot carried (trigger push to send), in ms.
    pub reported_ms: Vec<f64>,
    /// Worker thread CPU time from the first snapshot to the last, in seconds (from /proc;
    /// `None` elsewhere).
    pub worker_cpu_s: Option<f64>,
    /// Length of the run, in seconds of audio.
    pub audio_s: f64,
    /// Samples dropped by the ring.
    pub dropped_samples: u64,
    /// The analysis look-ahead (frame centre to its trigger), in ms.
    pub lookahead_ms: f64,
}

/// Feeds `samples` (mono, at `rate_hz`) to a live engine in `period`-sample blocks at
/// real-time pace, as a sound card would, and measures latency and the worker's CPU.
pub fn realtime_run(
    samples: &[f32],
    rate_hz: u32,
    period: usize,
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
) -> Result<LiveRun, EngineError> {
    // NOTE: when a hop comes out depends on the audio and the features only, not on the
    // model, so the offline run needs none.
    let triggers = trigger_samples(samples, rate_hz, features, config)?;
    let lookahead_ms = Pipeline::new(features, config, rate_hz, None)?.lookahead_ms();
    let capacity = (rate_hz as usize) * config.ring_ms as usize / 1000;
    let (mut writer, reader) = capture_ring(capacity, 1);
    let epoch = reader.epoch;
    let info = CaptureInfo {
        device: "simulated".into(),
        sample_rate_hz: rate_hz,
        channels: 1,
        format: "f32".into(),
    };
    let engine = start_engine_on_ring(reader, info, config, features, classifier, "bench")?;
    let blocks: Vec<&[f32]> = samples.chunks(period.max(1)).collect();
    let period_s = period as f64 / f64::from(rate_hz);
    let mut received = Vec::with_capacity(triggers.len());
    let (cpu_before, cpu_after, pushed_ns) = std::thread::scope(|scope| {
        let feeder = std::thread::Builder::new()
            .name("bench-soundcard".into())
            .spawn_scoped(scope, move || {
                let start = Instant::now();
                let mut pushed_ns = Vec::with_capacity(blocks.len());
                for (i, block) in blocks.iter().enumerate() {
                    let due = start + Duration::from_secs_f64(i as f64 * period_s);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    writer.write(block);
                    pushed_ns.push(epoch.elapsed().as_nanos() as f64);
                }
                pushed_ns
            })
            .map_err(EngineError::Thread)?;
        // NOTE: read from the first snapshot on: a Rust thread names itself once it runs,
        // so right after the engine starts its worker may still be called "emotrace".
        let mut cpu_before = None;
        while received.len() < triggers.len() {
            match engine.snapshots().recv_timeout(Duration::from_secs(5)) {
                Ok(s) => {
                    if received.is_empty() {
                        cpu_before = worker_cpu_s();
                    }
                    received.push((s.hop_index, epoch.elapsed().as_nanos() as f64, f64::from(s.latency_ms)))
                }
                Err(_) => break,
            }
        }
        let cpu_after = worker_cpu_s();
        let pushed_ns = feeder.join().map_err(|_| EngineError::Pipeline("feeder thread panicked".into()))?;
        Ok::<_, EngineError>((cpu_before, cpu_after, pushed_ns))
    })?;
    let status = engine.status();
    engine.stop();
    let mut latency_ms = Vec::new();
    let mut reported_ms = Vec::new();
    for &(hop, recv_ns, reported) in &received {
        let Some(&trigger) = triggers.get(hop as usize) else { continue };
        let block = (trigger.saturating_sub(1) as usize) / period.max(1);
        if let Some(&push_ns) = pushed_ns.get(block) {
            latency_ms.push((recv_ns - push_ns) / 1e6);
            reported_ms.push(reported);
        }
    }
    Ok(LiveRun {
        latency_ms,
        reported_ms,
        worker_cpu_s: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        audio_s: samples.len() as f64 / f64::from(rate_hz),
        dropped_samples: status.dropped_samples,
        lookahead_ms,
    })
}

/// For each hop, how many input samples had been pushed when it came out (its trigger
/// is the last of them), from an offline run fed 16 samples at a time.
fn trigger_samples(
    samples: &[f32],
    rate_hz: u32,
    features: &FeatureConfig,
    config: &EngineConfig,
) -> Result<Vec<u64>, EngineError> {
    struct Triggers {
        pushed: u64,
        out: Vec<u64>,
    }
    impl PipelineSink for Triggers {
        fn audio(&mut self, _: &[f32]) {}
        fn snapshot(&mut self, _: &Snapshot) {
            self.out.push(self.pushed);
        }
    }
    let mut pipeline = Pipeline::new(features, config, rate_hz, None)?;
    let mut sink = Triggers { pushed: 0, out: Vec::new() };
    for block in samples.chunks(16) {
        sink.pushed += block.len() as u64;
        pipeline.push(block, &mut sink);
    }
    Ok(sink.out)
}

/// CPU time (user + system) of this process's `emotrace-engine` thread, in seconds.
fn worker_cpu_s() -> Option<f64> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if name.trim() != "emotrace-engine" {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the parenthesised name; utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        // NOTE: USER_HZ is 100 on Linux (`getconf CLK_TCK`), so one tick is 10 ms.
        return Some(ticks / 100.0);
    }
    None
}

/// The `q`-quantile (0..=1) of `values` (sorted copy, nearest rank).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.95), 95.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
