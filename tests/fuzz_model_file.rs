//! Fuzzing model loading (`EmotionModel::load`: card JSON, then weights) with corrupted
//! files: garbage and truncated JSON, fields replaced by huge, negative, wrong-typed or
//! missing values, and weights with bit flips, truncation or wrong shapes (the card's
//! sha256 is updated so the weights parser is reached, not just the hash check).
//!
//! Invariants: no panic and no abort; an error is one line naming a file; a model that
//! loads gives finite probabilities that sum to 1.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod fuzz_common;

use std::path::{Path, PathBuf};

use emotrace::data::NormStats;
use emotrace::features::FeatureConfig;
use emotrace::model::file::hex_sha256;
use emotrace::model::{Architecture, ComputeDevice, EmotionModel, ModelCard, Preprocess};
use fuzz_common::{Fuzzer, Rng, iterations, mutate, regression_inputs};
use serde_json::Value;

fn cpu() -> ComputeDevice {
    ComputeDevice { device: tch::Device::Cpu }
}

/// A small seeded model saved as `<dir>/<name>.json` + `.safetensors`.
fn saved(dir: &Path, name: &str, lstm1_units: usize) -> PathBuf {
    emotrace::engine::prepare_worker_thread();
    tch::manual_seed(5);
    let features = FeatureConfig::default();
    let dims = features.frame_dim();
    let arch = Architecture {
        input_dims: dims,
        lstm1_units,
        lstm2_units: 6,
        dense_units: vec![5],
        dropout: 0.1,
        classes: 7,
        mean_pooling: false,
        members: 1,
    };
    let norm =
        NormStats { mean: vec![0.1; dims], std: vec![2.0; dims], frames: 10, ..NormStats::identity(dims) };
    let card = ModelCard::new(name, features, Preprocess::default(), norm, arch);
    EmotionModel::build(card, cpu()).unwrap().save(&dir.join(name)).unwrap()
}

/// Replaces one random leaf (or removes one key) of the card with a hostile value.
fn mutate_json(rng: &mut Rng, value: &mut Value) {
    let hostile = || {
        [
            Value::from(0),
            Value::from(-1),
            Value::from(u64::MAX),
            Value::from(i64::MIN),
            Value::from(1e308),
            Value::from(-1e-308),
            Value::from(4_294_967_296u64),
            Value::from(65_537),
            Value::from(""),
            Value::from("\u{0}\u{feff}"),
            Value::Null,
            Value::Bool(true),
            Value::Array(vec![]),
            Value::Array(vec![Value::from(1e38); 3]),
            serde_json::json!({"kind": "last_frame"}),
        ]
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            if rng.chance(0.1) {
                map.remove(&key);
            } else if rng.chance(0.25) {
                map.insert(key, rng.pick(&hostile()).clone());
            } else if let Some(child) = map.get_mut(&key) {
                mutate_json(rng, child);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            if rng.chance(0.15) {
                let n = rng.below(items.len() + 1);
                items.truncate(n);
            } else {
                let i = rng.below(items.len());
                mutate_json(rng, &mut items[i]);
            }
        }
        leaf => *leaf = rng.pick(&hostile()).clone(),
    }
}

/// Loads `card` and checks the outcome.
fn check_load(card: &Path) {
    match EmotionModel::load(card, cpu()) {
        Ok(model) => {
            let dims = model.card().architecture.input_dims;
            let mut state = model.new_stream();
            let frame = vec![0.3f32; dims];
            for _ in 0..3 {
                let p = state.step(&model, &frame).expect("step");
                assert!(p.iter().all(|v| v.is_finite()), "non-finite output {p:?}");
                assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-3, "{p:?}");
            }
        }
        Err(err) => {
            let line = err.to_string();
            assert!(!line.contains('\n'), "one line: {line}");
            assert!(
                line.contains(".json") || line.contains(".safetensors") || line.contains("tiny"),
                "{line}"
            );
        }
    }
}

/// Cards with hostile fields (structured) or garbage bytes never crash the loader.
#[test]
fn corrupted_cards_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let card_path = saved(dir.path(), "tiny", 8);
    let text = std::fs::read_to_string(&card_path).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let mut rng = Rng::new(0xCA4D);
    let mut fuzzer = Fuzzer::new("model-card");
    for _ in 0..iterations(1_000) {
        let bytes = if rng.chance(0.7) {
            let mut v = json.clone();
            for _ in 0..1 + rng.below(2) {
                mutate_json(&mut rng, &mut v);
            }
            serde_json::to_vec_pretty(&v).unwrap()
        } else {
            mutate(&mut rng, text.as_bytes())
        };
        std::fs::write(&card_path, &bytes).unwrap();
        fuzzer.run(&bytes, "json", || check_load(&card_path));
    }
    fuzzer.finish();
}

/// Weights with flipped bits, cut short or swapped for another architecture's, with the
/// card's hash updated to match, never crash the loader.
#[test]
fn corrupted_weights_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let card_path = saved(dir.path(), "tiny", 8);
    let other = saved(dir.path(), "other", 9);
    let weights_path = card_path.with_extension("safetensors");
    let weights = std::fs::read(&weights_path).unwrap();
    let other_weights = std::fs::read(other.with_extension("safetensors")).unwrap();
    let card: Value = serde_json::from_str(&std::fs::read_to_string(&card_path).unwrap()).unwrap();
    let mut rng = Rng::new(0x3E16);
    let mut fuzzer = Fuzzer::new("model-weights");
    for _ in 0..iterations(1_000) {
        let seed = if rng.chance(0.2) { &other_weights } else { &weights };
        let bytes = if rng.chance(0.1) { seed.clone() } else { mutate(&mut rng, seed) };
        std::fs::write(&weights_path, &bytes).unwrap();
        let mut c = card.clone();
        if rng.chance(0.9) {
            c["weights_sha256"] = Value::from(hex_sha256(&bytes));
        }
        std::fs::write(&card_path, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
        fuzzer.run(&bytes, "safetensors", || check_load(&card_path));
    }
    fuzzer.finish();
}

/// Checked-in crashing model files (`*.json` cards, with the weights they name beside
/// them in the same folder) are refused or loaded cleanly.
#[test]
fn model_file_regressions_stay_fixed() {
    let cards: Vec<PathBuf> = regression_inputs("model_file")
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(!cards.is_empty(), "tests/fuzz_regressions/model_file holds the fixed crash inputs");
    for card in cards {
        check_load(&card);
    }
}

/// Writes the seeded tiny model the regression cards start from into
/// `EMOTRACE_FUZZ_OUT` (a helper for adding regression inputs, not a test).
#[test]
#[ignore = "helper: writes the seed model for new regression inputs"]
fn write_seed_model() {
    let dir = PathBuf::from(std::env::var("EMOTRACE_FUZZ_OUT").expect("EMOTRACE_FUZZ_OUT"));
    std::fs::create_dir_all(&dir).unwrap();
    saved(&dir, "tiny", 8);
}
