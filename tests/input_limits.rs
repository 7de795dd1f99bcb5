//! Input limits: commands that hold a whole file refuse one too long for them in one
//! line (before decoding it, when the header states its length) and point at the
//! streaming command. Memory on long inputs is measured, not tested: README
//! "Reliability".

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use emotrace::cli::MAX_PREDICT_S;
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

/// A recording just over `predict`'s limit (at 1 kHz, so the file stays 2.4 MB) is
/// refused in one line naming the file and the streaming alternative, exit code 1.
#[test]
fn predict_refuses_a_file_longer_than_it_scores() {
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
    let samples = (MAX_PREDICT_S as usize + 60) * 1_000;
    for i in 0..samples {
        wav.write_sample(((i % 50) as i16 - 25) * 100).unwrap();
    }
    wav.finalize().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .arg("predict")
        .arg(&path)
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("long.wav") && err.contains("21.0 min is longer than predict scores"), "{err}");
    assert!(err.contains("monitor --headless --replay"), "{err}");
}
