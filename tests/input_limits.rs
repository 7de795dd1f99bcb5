//! Input limits: commands that hold a whole file refuse one too long for them in one
//! line (before decoding it, when the header states its length) and point at the
//! streaming command. Memory on long inputs is measured, not tested: README
//! "Reliability".

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use emotrace::batch::DEFAULT_STREAM_OVER_S;
use emotrace::data::NormStats;
use emotrace::features::FeatureConfig;
use emotrace::model::{Architecture, ComputeDevice, EmotionModel, ModelCard, Preprocess};

/// A small seeded model saved in `dir`; returns its card.
fn tiny_model(dir: &Path) -> std::path::PathBuf {
    emotrace::engine::prepare_worker_thread();
    tch::manual_seed(1);
    let features = FeatureConfig::default();
    let dims = features.frame_dim();
    let arch = Architecture {
        input_dims: dims,
        lstm1_units: 8,
        lstm2_units: 6,
        dense_units: vec![],
        dropout: 0.0,
        classes: 7,
        mean_pooling: false,
        members: 1,
    };
    let norm = NormStats { frames: 1, ..NormStats::identity(dims) };
    let card = ModelCard::new("tiny", features, Preprocess::default(), norm, arch);
    let device = ComputeDevice { device: tch::Device::Cpu };
    EmotionModel::build(card, device).unwrap().save(&dir.join("tiny")).unwrap()
}

/// A recording just over the limit `predict` holds whole (at 1 kHz, so the file stays
/// 2.4 MB) is scored by streaming it instead: exit 0, one result saying so, its whole
/// length scored.
#[test]
fn predict_streams_a_file_longer_than_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    let path = dir.path().join("long.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 1_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(&path, spec).unwrap();
    let seconds = DEFAULT_STREAM_OVER_S as usize + 60;
    for i in 0..seconds * 1_000 {
        wav.write_sample(((i % 50) as i16 - 25) * 100).unwrap();
    }
    wav.finalize().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .args(["predict", path.to_str().unwrap(), "--model", model.to_str().unwrap(), "--format", "jsonl"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
    assert_eq!(line["streamed"], true, "{line}");
    assert!((line["duration_s"].as_f64().unwrap() - seconds as f64).abs() < 0.01, "{line}");
}
