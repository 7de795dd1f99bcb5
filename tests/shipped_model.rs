//! The shipped models, the default (`models/default.*`, RAVDESS) and the multi-corpus one
//! (`models/multicorpus.*`): each loads, is what its recipe (`<stem>.train.toml`)
//! describes, gives on held-out RAVDESS files what its evaluation report says (so the
//! published figures come from these weights), and streams as it scores.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod stream_common;

use std::path::{Path, PathBuf};

use emotrace::audio::decode::load_mono_16k;
use emotrace::data::speaker_norm::SpeakerNorm;
use emotrace::model::timeline::{frame_trace, predict_samples};
use emotrace::model::{ComputeDevice, Emotion, EmotionModel};
use emotrace::train::TrainConfig;
use stream_common::assert_streams_as_batched;

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

const SHIPPED: [&str; 2] = ["default", "multicorpus"];

fn shipped_model(stem: &str) -> EmotionModel {
    EmotionModel::load(&repo_file(&format!("models/{stem}.json")), ComputeDevice { device: tch::Device::Cpu })
        .unwrap_or_else(|e| panic!("models/{stem}.json loads: {e}"))
}

#[test]
fn shipped_model_is_its_recipe() {
    for stem in SHIPPED {
        model_is_its_recipe(stem);
    }
}

fn model_is_its_recipe(stem: &str) {
    let model = shipped_model(stem);
    let recipe = TrainConfig::load(&repo_file(&format!("models/{stem}.train.toml"))).unwrap();
    let card = model.card();
    assert_eq!(model.feature_config(), &recipe.features);
    assert_eq!(card.decision, recipe.decision);
    assert_eq!(card.training.seed, recipe.seed);
    let shape = &card.architecture;
    assert_eq!(
        (shape.lstm1_units, shape.lstm2_units, &shape.dense_units, shape.members),
        (recipe.model.lstm1_units, recipe.model.lstm2_units, &recipe.model.dense_units, recipe.model.members)
    );
}

/// One RAVDESS test file per emotion from the report: the same answer, and the same
/// probabilities to 1e-4 (the report came from batched evaluation, this from `predict`).
#[test]
fn shipped_model_reproduces_its_report() {
    for stem in SHIPPED {
        model_reproduces_its_report(stem);
    }
}

fn model_reproduces_its_report(stem: &str) {
    let model = shipped_model(stem);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file(&format!("models/{stem}-report.json"))).unwrap(),
    )
    .unwrap();
    // `predict` hears each file as a fresh session: a speaker-normalised model's report
    // scores that as its first-utterance test, its plain test with each speaker's statistics.
    let part = if model.card().normalisation.speaker_norm == SpeakerNorm::Off {
        "test"
    } else {
        "test_first_utterance"
    };
    let results = report[part]["results"].as_array().expect("the report lists its test files");
    for emotion in Emotion::ALL {
        // The RAVDESS test files: the other corpora may not be on this machine.
        let row = results
            .iter()
            .find(|r| {
                r["truth"] == emotion.name() && r["path"].as_str().is_some_and(|p| p.contains("ravdess/"))
            })
            .expect("a RAVDESS test file of each emotion");
        // Reported paths are absolute on the machine that trained; the corpus sits beside the repo.
        let reported = row["path"].as_str().unwrap();
        let relative = &reported[reported.find("ravdess/").expect("a RAVDESS path")..];
        let samples = load_mono_16k(&repo_file("../shared/data").join(relative)).unwrap();
        let answer = predict_samples(&model, &samples).unwrap();
        assert_eq!(answer.emotion.name(), row["predicted"], "{stem}: {relative}");
        let reported_probabilities = row["probabilities"].as_array().unwrap();
        for (got, want) in answer.probabilities.iter().zip(reported_probabilities) {
            let want = want.as_f64().unwrap() as f32;
            assert!((got - want).abs() < 1e-4, "{stem}: {relative}: {got} vs {want}");
        }
    }
}

/// The live path on the shipped model (each member stepped frame by frame, their outputs
/// averaged) equals the batched forward over the same frames, within 1e-5 per probability.
#[test]
fn shipped_model_streams_as_it_scores() {
    for stem in SHIPPED {
        model_streams_as_it_scores(stem);
    }
}

fn model_streams_as_it_scores(stem: &str) {
    let model = shipped_model(stem);
    let clip = repo_file("../shared/data/ravdess/Actor_17/03-01-05-02-01-01-17.flac");
    let samples = load_mono_16k(&clip).unwrap();
    let batched = frame_trace(&model, &samples).unwrap();
    assert_streams_as_batched(&model, &samples, &batched, stem);
}
