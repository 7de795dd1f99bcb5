//! Soak run: hours of audio through the live engine as fast as it goes, with the
//! process's resident memory sampled along the way, to show that nothing grows.
//!
//! A clip is looped into a simulated sound card's ring (the live path: ring, worker,
//! snapshots, and optionally the recorder), never faster than the worker drains it, so
//! nothing is dropped. Memory is read from `/proc/self/status` (`VmRSS`); elsewhere the
//! points carry no memory figure.

use std::time::{Duration, Instant};

use super::classifier::FrameClassifier;
use super::config::EngineConfig;
use super::error::EngineError;
use super::recorder::RecordOptions;
use super::worker::start_engine_on_ring;
use crate::audio::capture::{CaptureInfo, capture_ring};
use crate::features::FeatureConfig;

/// One memory sample of a soak run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoakPoint {
    /// Audio analysed so far, in minutes.
    pub audio_min: f64,
    /// Resident set size of the process, in MiB (`None` without `/proc`).
    pub rss_mib: Option<f64>,
    /// Wall time since the start, in seconds.
    pub wall_s: f64,
}

/// What to soak and how.
#[derive(Debug, Clone)]
pub struct SoakPlan {
    /// Audio to feed, in seconds.
    pub audio_s: f64,
    /// Sample rate of the clip and the simulated device, in Hz.
    pub rate_hz: u32,
    /// Memory is sampled every this much audio, in seconds.
    pub every_s: f64,
    /// Record the session too (trace, WAV, summary) into this folder.
    pub record: Option<RecordOptions>,
}

/// The process's resident set size in MiB, from `/proc/self/status`.
pub fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Loops `clip` (mono, at `plan.rate_hz`) through a live engine for `plan.audio_s`
/// seconds of audio; calls `on_point` at the start and every `plan.every_s` of audio.
pub fn soak(
    clip: &[f32],
    plan: &SoakPlan,
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
    mut on_point: impl FnMut(SoakPoint),
) -> Result<Vec<SoakPoint>, EngineError> {
    if clip.is_empty() {
        return Err(EngineError::Pipeline("the soak clip is empty".into()));
    }
    let rate = f64::from(plan.rate_hz);
    // Two seconds of ring; the feeder keeps at most one second ahead of the worker.
    let (mut writer, reader) = capture_ring(2 * plan.rate_hz as usize, 1);
    let info = CaptureInfo {
        device: "soak".into(),
        sample_rate_hz: plan.rate_hz,
        channels: 1,
        format: "f32".into(),
    };
    let mut engine = start_engine_on_ring(reader, info, config, features, classifier, "soak")?;
    if let Some(options) = &plan.record {
        engine.start_recording(options.clone())?;
    }
    let start = Instant::now();
    let mut points = Vec::new();
    let mut point = |audio_s: f64, points: &mut Vec<SoakPoint>| {
        let p = SoakPoint {
            audio_min: audio_s / 60.0,
            rss_mib: rss_mib(),
            wall_s: start.elapsed().as_secs_f64(),
        };
        on_point(p);
        points.push(p);
    };
    point(0.0, &mut points);
    let total = (plan.audio_s * rate) as u64;
    let block = (plan.rate_hz / 100).max(1) as usize; // 10 ms periods
    let (mut fed, mut at, mut next_point_s) = (0u64, 0usize, plan.every_s);
    while fed < total {
        let done_s = engine.status().time_s;
        if (fed as f64 / rate) - done_s < 1.0 {
            // Keep about a second queued: write the next 100 ms in device-sized blocks.
            for _ in 0..10 {
                let n = block.min(clip.len() - at).min((total - fed) as usize);
                writer.write(&clip[at..at + n]);
                fed += n as u64;
                at = (at + n) % clip.len();
            }
        } else {
            std::thread::sleep(Duration::from_micros(500));
        }
        for _ in engine.snapshots().try_iter() {}
        for _ in engine.events().try_iter() {}
        if done_s >= next_point_s {
            point(done_s, &mut points);
            next_point_s += plan.every_s;
        }
    }
    // Let the worker finish what is queued (all but the look-ahead), then the last point.
    let end_s = total as f64 / rate - 0.2;
    let waited = Instant::now();
    while engine.status().time_s < end_s && waited.elapsed() < Duration::from_secs(30) {
        for _ in engine.snapshots().try_iter() {}
        std::thread::sleep(Duration::from_millis(1));
    }
    let report = engine.stop();
    point(report.duration_s, &mut points);
    Ok(points)
}
