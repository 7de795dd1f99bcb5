//! Model files: save -> load round-trips exactly; every kind of mismatch is one clear error
//! naming the file.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use emotrace::data::{LevelColumns, NormStats, SpeakerNorm};
use emotrace::features::FeatureConfig;
use emotrace::model::card::FORMAT_VERSION;
use emotrace::model::{Architecture, ComputeDevice, EmotionModel, ModelCard, ModelError, Preprocess};

fn cpu() -> ComputeDevice {
    ComputeDevice { device: tch::Device::Cpu }
}

fn small_card(dims: usize) -> ModelCard {
    let features = FeatureConfig::default();
    assert_eq!(features.frame_dim(), dims);
    let arch = Architecture {
        input_dims: dims,
        lstm1_units: 8,
        lstm2_units: 6,
        dense_units: vec![5],
        dropout: 0.1,
        classes: 7,
        mean_pooling: false,
        members: 1,
    };
    let norm = NormStats {
        mean: (0..dims).map(|i| i as f32 * 0.1).collect(),
        std: vec![2.0; dims],
        frames: 10,
        running_prior_frames: 0.0,
        speaker_norm: SpeakerNorm::MeanStd,
        session_prior_frames: 50.0,
        level: LevelColumns::of(&features),
        dual_input: false,
        calibration_shift: None,
    };
    ModelCard::new("tiny", features, Preprocess::default(), norm, arch)
}

/// A saved tiny model with random (seeded) weights; returns its card path.
fn saved(dir: &Path) -> PathBuf {
    tch::manual_seed(3);
    let dims = FeatureConfig::default().frame_dim();
    let mut model = EmotionModel::build(small_card(dims), cpu()).expect("build");
    model.save(&dir.join("tiny")).expect("save")
}

fn features(frames: usize, dims: usize, seed: f32) -> Vec<f32> {
    (0..frames * dims).map(|i| (i as f32 * 0.37 + seed).sin() * 3.0).collect()
}

fn load_err(path: &Path) -> String {
    let err = EmotionModel::load(path, cpu()).expect_err("load must fail");
    let line = err.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    line
}

/// Save then load gives the same card and bit-identical outputs; the card holds the
/// weights' sha256 and this build's format version.
#[test]
fn save_load_round_trip_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    tch::manual_seed(11);
    let dims = FeatureConfig::default().frame_dim();
    let mut model = EmotionModel::build(small_card(dims), cpu()).unwrap();
    let card_path = model.save(&dir.path().join("m")).unwrap();
    assert!(dir.path().join("m.safetensors").is_file());
    let loaded = EmotionModel::load(&card_path, cpu()).unwrap();
    assert_eq!(loaded.card(), model.card());
    assert_eq!(loaded.card().format_version, FORMAT_VERSION);
    assert_eq!(loaded.card().weights_sha256.len(), 64);
    let a = features(50, dims, 0.0);
    let b = features(20, dims, 1.0);
    let before = model.frame_probabilities(&[&a, &b]).unwrap();
    let after = loaded.frame_probabilities(&[&a, &b]).unwrap();
    assert_eq!(before, after, "bit-identical outputs after the round trip");
    assert_eq!(after[0].len(), 50);
    assert_eq!(after[1].len(), 20);
    // The weights path and the stem load the same model.
    let by_weights = EmotionModel::load(&dir.path().join("m.safetensors"), cpu()).unwrap();
    assert_eq!(by_weights.frame_probabilities(&[&b]).unwrap()[0], after[1]);
    let by_stem = EmotionModel::load(&dir.path().join("m"), cpu()).unwrap();
    assert_eq!(by_stem.card(), loaded.card());
}

/// Padding in a batch does not change an utterance's outputs (the LSTMs are causal).
#[test]
fn batching_does_not_change_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let model = EmotionModel::load(&saved(dir.path()), cpu()).unwrap();
    let dims = model.card().architecture.input_dims;
    let short = features(7, dims, 2.0);
    let long = features(40, dims, 5.0);
    let alone = model.frame_probabilities(&[&short]).unwrap();
    let batched = model.frame_probabilities(&[&long, &short]).unwrap();
    for (a, b) in alone[0].iter().zip(&batched[1]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        }
    }
}

/// Two networks saved as one ensemble: its probabilities are the mean of theirs, frame by
/// frame, batched and streamed, and it round-trips through save and load exactly.
#[test]
fn ensemble_is_the_mean_of_its_members() {
    let dir = tempfile::tempdir().unwrap();
    let dims = FeatureConfig::default().frame_dim();
    let members: Vec<EmotionModel> = [11, 12]
        .into_iter()
        .map(|seed| {
            tch::manual_seed(seed);
            EmotionModel::build(small_card(dims), cpu()).unwrap()
        })
        .collect();
    let refs: Vec<&EmotionModel> = members.iter().collect();
    let mut ensemble = EmotionModel::ensemble(&refs, cpu()).unwrap();
    assert_eq!(ensemble.card().architecture.members, 2);
    let x = features(40, dims, 0.5);
    let each: Vec<_> = members.iter().map(|m| m.frame_probabilities(&[&x]).unwrap().remove(0)).collect();
    let mean = ensemble.frame_probabilities(&[&x]).unwrap().remove(0);
    let mut stream = ensemble.new_stream();
    for (t, frame) in x.chunks(dims).enumerate() {
        let stepped = stream.step(&ensemble, frame).unwrap();
        for k in 0..7 {
            let expected = (each[0][t][k] + each[1][t][k]) / 2.0;
            assert!(
                (mean[t][k] - expected).abs() < 1e-6,
                "frame {t} class {k}: {} vs {expected}",
                mean[t][k]
            );
            assert!((stepped[k] - expected).abs() < 1e-5, "streamed frame {t} class {k}");
        }
    }
    let card = ensemble.save(&dir.path().join("pair")).unwrap();
    let loaded = EmotionModel::load(&card, cpu()).unwrap();
    assert_eq!(loaded.frame_probabilities(&[&x]).unwrap().remove(0), mean);

    let other = EmotionModel::build(
        ModelCard {
            architecture: Architecture { lstm1_units: 9, ..small_card(dims).architecture },
            ..small_card(dims)
        },
        cpu(),
    )
    .unwrap();
    let err = EmotionModel::ensemble(&[&members[0], &other], cpu()).unwrap_err();
    assert!(err.to_string().contains("its architecture differs"), "{err}");
}

/// `emotrace ensemble` joins networks saved apart into the mean of them, and refuses (one
/// line naming the file, nothing written) a network of another recipe.
#[test]
fn ensemble_command_joins_networks_of_one_recipe() {
    let dir = tempfile::tempdir().unwrap();
    let dims = FeatureConfig::default().frame_dim();
    let save = |name: &str, seed: i64, card: ModelCard| {
        tch::manual_seed(seed);
        EmotionModel::build(card, cpu()).unwrap().save(&dir.path().join(name)).unwrap()
    };
    let seeded = |seed: u64, recorded: Vec<u64>| {
        let mut card = small_card(dims);
        (card.training.seed, card.training.member_seeds) = (seed, recorded);
        card
    };
    // A card from before member seeds were recorded, and one with them.
    let a = save("a", 21, seeded(42, vec![]));
    let b = save("b", 22, seeded(43, vec![43]));
    let mut other_card = small_card(dims);
    other_card.normalisation.std[3] = 9.0;
    let other = save("other", 23, other_card);
    let run = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_emotrace"))
            .arg("ensemble")
            .args(args)
            .output()
            .unwrap()
    };

    let joined = dir.path().join("joined");
    let out = run(&[a.as_os_str(), b.as_os_str(), "--out".as_ref(), joined.as_os_str()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 networks"));
    let model = EmotionModel::load(&joined.with_extension("json"), cpu()).unwrap();
    assert_eq!((model.card().architecture.members, model.card().name.as_str()), (2, "joined"));
    assert_eq!(model.card().training.member_seeds, [42, 43]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("seeds 42, 43"));
    let x = features(30, dims, 0.2);
    let mean = model.frame_probabilities(&[&x]).unwrap().remove(0);
    let each: Vec<_> = [&a, &b]
        .map(|card| EmotionModel::load(card, cpu()).unwrap().frame_probabilities(&[&x]).unwrap().remove(0))
        .into();
    for (t, frame) in mean.iter().enumerate() {
        for (k, p) in frame.iter().enumerate() {
            assert!((p - (each[0][t][k] + each[1][t][k]) / 2.0).abs() < 1e-6, "frame {t} class {k}");
        }
    }

    let refused = dir.path().join("refused");
    let out = run(&[a.as_os_str(), other.as_os_str(), "--out".as_ref(), refused.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.trim_end().lines().count() == 1, "{err}");
    assert!(err.contains("other.json") && err.contains("its normalisation differs"), "{err}");
    assert!(!refused.with_extension("json").exists());
}

fn rewrite_card(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut card: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut card);
    std::fs::write(path, serde_json::to_string_pretty(&card).unwrap()).unwrap();
}

/// Weights that are not the ones the card names fail the sha256 check.
#[test]
fn tampered_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let card = saved(dir.path());
    let weights = dir.path().join("tiny.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&weights, bytes).unwrap();
    let line = load_err(&card);
    assert!(line.contains("tiny.safetensors") && line.contains("do not match the model card"), "{line}");
}

/// A card from a newer emotrace says so, even if its other fields are unknown.
#[test]
fn newer_format_is_refused_with_upgrade_hint() {
    let dir = tempfile::tempdir().unwrap();
    let card = saved(dir.path());
    rewrite_card(&card, |c| {
        c["format_version"] = serde_json::json!(FORMAT_VERSION + 1);
        c["something_new"] = serde_json::json!({"x": 1});
        c.as_object_mut().unwrap().remove("architecture");
    });
    let line = load_err(&card);
    assert!(line.contains("tiny.json") && line.contains("newer") && line.contains("upgrade"), "{line}");
}

/// A card whose feature config gives another frame size than the network takes.
#[test]
fn wrong_feature_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let card = saved(dir.path());
    rewrite_card(&card, |c| c["feature_config"]["families"]["log_mel"] = serde_json::json!(true));
    let line = load_err(&card);
    assert!(line.contains("wrong feature size") && line.contains("104"), "{line}");
}

/// Other labels, a weights file for another architecture, level columns for other
/// features, a missing card, and a file that is not a card are each refused.
#[test]
fn other_mismatches_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let card = saved(dir.path());
    let original = std::fs::read_to_string(&card).unwrap();

    rewrite_card(&card, |c| c["labels"][1] = serde_json::json!("joy"));
    assert!(load_err(&card).contains("labels"));

    // Correct hash, wrong shapes: the card says 10 units but the weights have 8.
    std::fs::write(&card, &original).unwrap();
    rewrite_card(&card, |c| c["architecture"]["lstm1_units"] = serde_json::json!(10));
    let line = load_err(&card);
    assert!(line.contains("do not fit the card's architecture"), "{line}");

    // Level columns that do not fit the feature configuration (RMS moved).
    std::fs::write(&card, &original).unwrap();
    rewrite_card(&card, |c| c["normalisation"]["level"]["rms"] = serde_json::json!(3));
    let line = load_err(&card);
    assert!(line.contains("level columns do not match"), "{line}");

    let line = load_err(&dir.path().join("absent.json"));
    assert!(line.contains("absent.json"), "{line}");
    std::fs::write(dir.path().join("junk.json"), "{\"hello\": 1}").unwrap();
    assert!(load_err(&dir.path().join("junk.json")).contains("not a usable emotrace model card"));
    std::fs::write(dir.path().join("junk.json"), "\u{0}\u{1}garbage").unwrap();
    assert!(load_err(&dir.path().join("junk.json")).contains("not JSON"));
    assert!(matches!(
        EmotionModel::load(&dir.path().join("nothing-here"), cpu()),
        Err(ModelError::NoCard { .. })
    ));
}
