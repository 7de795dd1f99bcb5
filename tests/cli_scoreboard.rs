//! `train --loco`, `scoreboard` and corpus-adversarial training as a user runs them, on
//! two tiny corpora: a RAVDESS folder and a CSV manifest (a second "corpus" named by its
//! file stem) of other RAVDESS actors. Needs only `../shared/data/ravdess`.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::{emotrace, ok, one_error_line, shared_ravdess, tiny_config};

fn ravdess_file(actor: &str, emotion: &str, intensity: &str) -> (String, PathBuf) {
    let name = format!("03-01-{emotion}-{intensity}-01-01-{actor}.flac");
    let path = shared_ravdess().join(format!("Actor_{actor}")).join(&name);
    (name, path)
}

/// `ravdess-tiny/` (actors 01, 02 train, 17 held out; calm, sad and angry) and `other.csv`
/// (actors 03 and 04 as speakers `a` and `b`).
fn tiny_corpora(dir: &Path) -> (PathBuf, PathBuf) {
    let root = dir.join("ravdess-tiny");
    let mut manifest = String::from("path,label,speaker\n");
    for actor in ["01", "02", "03", "04", "17"] {
        for (emotion, label) in [("02", "calm"), ("04", "sad"), ("05", "angry")] {
            for intensity in ["01", "02"] {
                let (name, path) = ravdess_file(actor, emotion, intensity);
                match actor {
                    "03" => manifest.push_str(&format!("{},{label},a\n", path.display())),
                    "04" => manifest.push_str(&format!("{},{label},b\n", path.display())),
                    _ => {
                        let folder = root.join(format!("Actor_{actor}"));
                        std::fs::create_dir_all(&folder).unwrap();
                        std::os::unix::fs::symlink(&path, folder.join(&name)).unwrap();
                    }
                }
            }
        }
    }
    let csv = dir.join("other.csv");
    std::fs::write(&csv, manifest).unwrap();
    (root, csv)
}

/// The tiny config with each utterance's softmax restricted to its corpus's classes and
/// no validation speakers.
fn tiny_restricted() -> String {
    tiny_config("mask_absent_classes = true", "[split]\nravdess_val_actors = []")
}

fn run_folder(dir: &Path, stdout: &str) -> PathBuf {
    dir.join(stdout.lines().find_map(|l| l.strip_prefix("run: ")).expect("run line"))
}

/// A LOCO model never hears the corpus it leaves out; the scoreboard scores it on all of
/// that corpus, the full model on held-out speakers, under recording conditions and with
/// session statistics of three kinds, and the same seed gives the same table.
#[test]
fn loco_training_and_scoreboard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ravdess, other) = tiny_corpora(d);
    let (ravdess, other) = (ravdess.to_str().unwrap(), other.to_str().unwrap());
    std::fs::write(d.join("tiny.toml"), tiny_restricted()).unwrap();
    let train = ["train", "--config", "tiny.toml", "--quiet", "--no-cache", "--data", ravdess, other];

    let full = run_folder(d, &ok(&emotrace(d, &train)));
    let mut loco_args = train.to_vec();
    loco_args.extend(["--loco", "other"]);
    let loco = run_folder(d, &ok(&emotrace(d, &loco_args)));
    let loco_model = loco.join("loco-other/model.json");
    assert!(loco_model.is_file(), "{}", loco.display());
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&loco_model).unwrap()).unwrap();
    let corpora = card["training"]["corpora"].as_array().unwrap();
    let left_out = corpora.iter().find(|c| c["corpus"] == "other").expect("other in the card");
    assert!(left_out["utterances"]["train"].is_null(), "trained on the corpus it leaves out: {left_out}");
    assert_eq!(left_out["utterances"]["test"], 12, "{left_out}");

    let full_model = full.join("model.json");
    let scoreboard = |out: &str| {
        ok(&emotrace(
            d,
            &[
                "scoreboard",
                "--data",
                ravdess,
                other,
                "--model",
                full_model.to_str().unwrap(),
                "--loco",
                loco.to_str().unwrap(),
                "--no-cache",
                "--out",
                out,
            ],
        ))
    };
    scoreboard("a.md");
    let md = std::fs::read_to_string(d.join("a.md")).unwrap();
    for section in ["## In-corpus", "## Leave one corpus out", "## Recording conditions", "## Sessions"] {
        assert!(md.contains(section), "{section} in:\n{md}");
    }
    let loco_row = md.lines().find(|l| l.starts_with("| other (")).expect("LOCO row for other");
    assert!(loco_row.contains("| 12 | 2 |"), "all 12 files of both speakers: {loco_row}");
    for condition in
        ["clean", "gain -20 dB", "telephone", "low cut", "reverb", "pink noise", "each file peak-normalised"]
    {
        assert!(md.lines().any(|l| l.starts_with(&format!("| {condition}"))), "{condition} row:\n{md}");
    }

    // Without speaker normalisation where the session statistics come from changes nothing.
    let session_ua = |name: &str| {
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("{name}:\n{md}"));
        line.split('|').nth(5).unwrap().trim().to_owned()
    };
    let uas: Vec<String> =
        ["each speaker's files", "each speaker's files of one emotion", "none (each file a first utterance)"]
            .into_iter()
            .map(session_ua)
            .collect();
    assert!(uas.iter().all(|ua| *ua == uas[0]), "{uas:?}");
    // Actor 17's reading is one of its two calm files; the other five are scored.
    let calibrated = md.lines().find(|l| l.starts_with("| a calibration reading")).expect("calibration row");
    assert!(calibrated.contains("| 5 | 1 |"), "{calibrated}");

    scoreboard("b.md");
    let json = |name: &str| std::fs::read_to_string(d.join(name)).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json("a.json")).unwrap();
    assert!(parsed.is_object());
    assert_eq!(json("a.json"), json("b.json"), "seeded conditions give the same scores");
}

/// A speaker-normalised LOCO model carries the calibration shift `train` learnt from its
/// training speakers, and the scoreboard also scores it beside each speaker's calibration
/// reading (one of each speaker's two calm files; the other ten files scored).
#[test]
fn a_speaker_normalised_loco_model_is_scored_calibrated_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ravdess, other) = tiny_corpora(d);
    let (ravdess, other) = (ravdess.to_str().unwrap(), other.to_str().unwrap());
    let config = tiny_restricted().replacen("seed = 3\n", "seed = 3\nspeaker_norm = \"mean_std\"\n", 1);
    assert!(config.contains("speaker_norm"), "{config}");
    std::fs::write(d.join("tiny.toml"), config).unwrap();
    let train = [
        "train",
        "--config",
        "tiny.toml",
        "--quiet",
        "--no-cache",
        "--data",
        ravdess,
        other,
        "--loco",
        "other",
    ];
    let loco = run_folder(d, &ok(&emotrace(d, &train)));
    let model = loco.join("loco-other/model.json");
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    let dims = card["normalisation"]["mean"].as_array().unwrap().len();
    let shift = &card["normalisation"]["calibration_shift"];
    assert_eq!(shift["mean"].as_array().map(Vec::len), Some(dims), "{shift}");
    assert!(shift["mean"].as_array().unwrap().iter().any(|x| x.as_f64().unwrap() != 0.0), "{shift}");

    let model = model.to_str().unwrap();
    let loco = loco.to_str().unwrap();
    let args = [
        "scoreboard",
        "--data",
        ravdess,
        other,
        "--model",
        model,
        "--loco",
        loco,
        "--no-conditions",
        "--no-cache",
    ];
    let md = ok(&emotrace(d, &args));
    let section = md.split("## Leave one corpus out, calibrated").nth(1).expect("calibrated section");
    let row = section.lines().find(|l| l.starts_with("| other (")).expect("calibrated row");
    assert!(row.contains("| 10 | 2 |"), "{row}");
}

/// A model that leaves nothing out is refused as a LOCO model, in one line naming it.
#[test]
fn scoreboard_refuses_a_model_that_is_not_loco() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ravdess, _) = tiny_corpora(d);
    std::fs::write(d.join("tiny.toml"), tiny_restricted()).unwrap();
    let ravdess = ravdess.to_str().unwrap();
    let full = run_folder(
        d,
        &ok(&emotrace(d, &["train", "--config", "tiny.toml", "--quiet", "--no-cache", "--data", ravdess])),
    );
    let model = full.join("model.json");
    let model = model.to_str().unwrap();
    let out = emotrace(
        d,
        &[
            "scoreboard",
            "--data",
            ravdess,
            "--model",
            model,
            "--loco",
            model,
            "--no-conditions",
            "--no-cache",
        ],
    );
    let err = one_error_line(&out);
    assert!(err.contains("not a leave-one-corpus-out model") && err.contains("model.json"), "{err}");
}

/// With `corpus_adversarial`, a corpus classifier trains beside the network (its
/// accuracy is in each epoch's metrics) and is not saved: the model file has the same
/// tensors as one trained without it.
#[test]
fn corpus_adversary_trains_beside_the_network_and_stays_out_of_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ravdess, other) = tiny_corpora(d);
    let (ravdess, other) = (ravdess.to_str().unwrap(), other.to_str().unwrap());
    std::fs::write(d.join("plain.toml"), tiny_restricted()).unwrap();
    let adversarial = tiny_config(
        "mask_absent_classes = true\ncorpus_adversarial = 1.0",
        "[split]\nravdess_val_actors = []",
    );
    std::fs::write(d.join("adversarial.toml"), adversarial).unwrap();
    let train = |config: &str| {
        let args = ["train", "--config", config, "--quiet", "--no-cache", "--data", ravdess, other];
        run_folder(d, &ok(&emotrace(d, &args)))
    };
    let corpus_accuracy = |run: &Path| -> Vec<Option<f64>> {
        let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        metrics
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["train_corpus_accuracy"].as_f64())
            .collect()
    };
    let (plain, adversarial) = (train("plain.toml"), train("adversarial.toml"));
    assert_eq!(corpus_accuracy(&plain), [None, None]);
    let accuracy = corpus_accuracy(&adversarial);
    assert!(accuracy.iter().all(|a| a.is_some_and(|a| a > 0.0 && a <= 1.0)), "{accuracy:?}");
    assert_eq!(tensor_names(&adversarial), tensor_names(&plain), "the corpus classifier stays out");
}

/// The tensor names in a run's `model.safetensors` (from its header).
fn tensor_names(run: &Path) -> Vec<String> {
    let bytes = std::fs::read(run.join("model.safetensors")).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let mut names: Vec<String> =
        header.as_object().unwrap().keys().filter(|k| *k != "__metadata__").cloned().collect();
    names.sort();
    names
}
