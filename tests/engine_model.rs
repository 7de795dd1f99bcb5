//! The engine with a real (small, seeded) LSTM model: the trace is a function of the
//! audio alone (chunk sizes, threaded replay), and replaying a file with the gate and
//! smoothing off gives what `emotrace predict --timeline` gives for it.

mod engine_common;

use std::process::Command;
use std::time::Duration;

use emotrace::audio::decode::{decode_file, load_mono_16k};
use emotrace::engine::offline::{trace_file, trace_samples};
use emotrace::engine::{EngineConfig, Pace, Source, VadConfig, start_engine};
use emotrace::model::timeline::timeline;
use emotrace::model::{ComputeDevice, DeviceChoice, EmotionModel};
use engine_common::{assert_same_trace, speech_clip, speech_clip_2, tiny_classifier, tiny_model};
use serde_json::Value;

fn ungated() -> EngineConfig {
    EngineConfig {
        vad: VadConfig { enabled: false, max_utterance_ms: 1e9, ..VadConfig::default() },
        smoothing_ms: 0.0,
        ..EngineConfig::default()
    }
}

/// With a model, chunk sizes from 1 to 4096 samples give bit-identical traces
/// (probabilities included), and utterance resets happen at the same hops.
#[test]
fn model_trace_does_not_depend_on_chunking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let card = tiny_model(dir.path());
    let samples = decode_file(&speech_clip()).expect("clip").samples;
    let features = emotrace::features::FeatureConfig::default();
    let config = EngineConfig::default();
    let reference = trace_samples(&samples, 16_000, &features, &config, Some(tiny_classifier(&card)), 4096)
        .expect("trace");
    let scored = reference.iter().filter(|s| s.probabilities.is_some()).count();
    assert!(scored > 100, "{scored} hops scored");
    let distinct = reference
        .iter()
        .filter_map(|s| s.raw_probabilities)
        .map(|p| p[0].to_bits())
        .collect::<std::collections::BTreeSet<_>>();
    assert!(distinct.len() > 50, "the model's output moves with the audio");
    for chunk in [1, 160, 999] {
        let trace = trace_samples(&samples, 16_000, &features, &config, Some(tiny_classifier(&card)), chunk)
            .expect("trace");
        assert_same_trace(&trace, &reference);
    }
}

/// The threaded engine replaying a file (fast) sends exactly the offline trace, with the
/// model's probabilities, for two different files in a row.
#[test]
fn threaded_replay_with_model_equals_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let card = tiny_model(dir.path());
    let features = emotrace::features::FeatureConfig::default();
    let config = EngineConfig { snapshot_capacity: 32, ..EngineConfig::default() };
    for clip in [speech_clip(), speech_clip_2()] {
        let offline = trace_file(&clip, &features, &config, Some(tiny_classifier(&card))).expect("offline");
        let source = Source::File { path: clip.clone(), pace: Pace::Fast };
        let engine =
            start_engine(&source, &config, &features, Some(tiny_classifier(&card)), "tiny").expect("engine");
        let streamed: Vec<_> = (0..offline.len())
            .map(|_| engine.snapshots().recv_timeout(Duration::from_secs(30)).expect("snapshot"))
            .collect();
        assert_same_trace(&streamed, &offline);
        assert_eq!(engine.stop().error, None);
    }
}

/// With the gate and smoothing off, the engine's replay of a file gives the model's own
/// timeline (`model::timeline`, what `predict --timeline` prints) at every point, within
/// 1e-5 per probability: the engine steps the LSTM frame by frame from the streaming
/// extractor, the timeline runs the batched network on the batch features.
#[test]
fn ungated_replay_equals_model_timeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let card = tiny_model(dir.path());
    let cpu = ComputeDevice::resolve(DeviceChoice::Cpu).expect("cpu");
    let model = EmotionModel::load(&card, cpu).expect("load");
    let features = model.feature_config().clone();
    for clip in [speech_clip(), speech_clip_2()] {
        let samples = load_mono_16k(&clip).expect("clip");
        let points = timeline(&model, &samples, 0.5).expect("timeline");
        assert!(points.len() >= 6);
        let trace = trace_file(&clip, &features, &ungated(), Some(tiny_classifier(&card))).expect("trace");
        for point in &points {
            let hop = (point.time_s / features.hop_s()).round() as usize;
            let got = trace[hop].raw_probabilities.expect("every hop is scored with the gate off");
            assert_eq!(trace[hop].probabilities, Some(got), "no smoothing");
            for (k, (a, b)) in got.iter().zip(&point.probabilities).enumerate() {
                assert!(
                    (a - b).abs() < 1e-5,
                    "{} at {} s, class {k}: {a} vs {b}",
                    clip.display(),
                    point.time_s
                );
            }
        }
    }
}

/// The same, between the two commands as a user runs them: `monitor --headless --replay
/// FILE --fast --no-gate --smoothing-ms 0` and `predict FILE --timeline --format json`.
#[test]
fn monitor_replay_matches_predict_timeline_as_processes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let card = tiny_model(dir.path());
    let (card, clip) = (card.to_str().expect("path"), speech_clip());
    let clip = clip.to_str().expect("path");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_emotrace")).args(args).output().expect("runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let monitor = run(&[
        "monitor",
        "--headless",
        "--replay",
        clip,
        "--fast",
        "--no-gate",
        "--smoothing-ms",
        "0",
        "--model",
        card,
    ]);
    let hops: Vec<Value> = monitor.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let predict: Value =
        serde_json::from_str(&run(&["predict", clip, "--timeline", "--format", "json", "--model", card]))
            .expect("JSON");
    let points = predict[0]["timeline"].as_array().expect("timeline");
    assert!(points.len() >= 6);
    for point in points {
        let t = point["time_s"].as_f64().expect("time");
        let hop = &hops[(t / 0.01).round() as usize];
        for (k, emotion) in emotrace::model::Emotion::ALL.iter().enumerate() {
            let a = hop["p"][emotion.name()].as_f64().expect("p");
            let b = point["probabilities"][k].as_f64().expect("probability");
            assert!((a - b).abs() < 1e-5, "{t} s, {emotion}: monitor {a} vs predict {b}");
        }
    }
}
