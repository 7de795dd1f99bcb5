//! The model commands as a user runs them: `train` a tiny model, then `predict`, `eval`,
//! `runs list`, `runs compare` and `doctor` on it; bad input gives one error line.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod cli_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use emotrace::audio::decode::load_mono_16k;
use emotrace::model::timeline::predict_samples;
use emotrace::model::{ComputeDevice, Emotion, EmotionModel};

use cli_common::{emotrace, ok, one_error_line, shared_ravdess, tiny_config};

/// RAVDESS-layout symlinks: actors 01, 02 (train), 15 (val), 17 (test); sad and angry.
fn tiny_corpus(dir: &Path) -> PathBuf {
    let root = dir.join("ravdess-tiny");
    for actor in ["01", "02", "15", "17"] {
        let folder = root.join(format!("Actor_{actor}"));
        std::fs::create_dir_all(&folder).unwrap();
        for emotion in ["04", "05"] {
            for intensity in ["01", "02"] {
                let name = format!("03-01-{emotion}-{intensity}-01-01-{actor}.flac");
                std::os::unix::fs::symlink(
                    shared_ravdess().join(format!("Actor_{actor}")).join(&name),
                    folder.join(&name),
                )
                .unwrap();
            }
        }
    }
    root
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG"))
}

/// The whole journey on one tiny run: train writes its run folder; predict agrees with
/// the library exactly and its timeline has a point every 0.5 s; eval writes the report,
/// JSON and PNGs; runs list/compare show the run.
#[test]
fn train_predict_eval_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = tiny_corpus(d);
    std::fs::write(d.join("tiny.toml"), tiny_config("", "")).unwrap();
    let stdout = ok(&emotrace(
        d,
        &["train", "--config", "tiny.toml", "--data", corpus.to_str().unwrap(), "--quiet", "--no-cache"],
    ));
    let run = d.join(stdout.lines().find_map(|l| l.strip_prefix("run: ")).expect("run line"));
    for file in
        ["config.toml", "metrics.jsonl", "model.json", "model.safetensors", "report.md", "report.json"]
    {
        assert!(run.join(file).is_file(), "{file} in the run folder");
    }
    assert_eq!(std::fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().count(), 2);
    for png in ["confusion.png", "curves.png", "by-time.png"] {
        assert!(is_png(&run.join(png)), "{png}");
    }
    let model_path = run.join("model.json");
    let model = model_path.to_str().unwrap();

    // predict: JSON equals the library on the loaded model, bit for bit.
    let clip = corpus.join("Actor_17/03-01-05-02-01-01-17.flac");
    let json = ok(&emotrace(d, &["predict", clip.to_str().unwrap(), "--model", model, "--format", "json"]));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let probs: Vec<f32> =
        parsed[0]["probabilities"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    let loaded = EmotionModel::load(&model_path, ComputeDevice { device: tch::Device::Cpu }).unwrap();
    let expected = predict_samples(&loaded, &load_mono_16k(&clip).unwrap()).unwrap();
    assert_eq!(probs, expected.probabilities.to_vec());
    assert_eq!(parsed[0]["emotion"], expected.emotion.name());

    // predict a folder as a table, and a timeline as CSV.
    let table = ok(&emotrace(d, &["predict", corpus.join("Actor_17").to_str().unwrap(), "--model", model]));
    assert_eq!(table.lines().count(), 1 + 4, "header + 4 files:\n{table}");
    let csv = ok(&emotrace(
        d,
        &["predict", clip.to_str().unwrap(), "--model", model, "--format", "csv", "--timeline"],
    ));
    let times: Vec<f64> =
        csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert!(times.len() >= 6, "a 3+ s clip: {times:?}");
    for (i, t) in times.iter().enumerate() {
        assert!((t - 0.5 * (i + 1) as f64).abs() < 1e-9, "{times:?}");
    }
    let header = csv.lines().next().unwrap();
    assert_eq!(header, format!("file,time_s,{},error", Emotion::ALL.map(|e| e.name()).join(",")));

    // A text file named .wav is one error line naming it.
    std::fs::write(d.join("notes.wav"), "not audio").unwrap();
    let err = one_error_line(&emotrace(d, &["predict", "notes.wav", "--model", model]));
    assert!(err.contains("notes.wav"), "{err}");

    // eval: all 16 files, JSON on stdout, report and figures in --out.
    let out_dir = d.join("eval-out");
    let json = ok(&emotrace(
        d,
        &[
            "eval",
            "--model",
            model,
            "--data",
            corpus.to_str().unwrap(),
            "--split",
            "all",
            "--format",
            "json",
            "--out",
            out_dir.to_str().unwrap(),
            "--no-cache",
        ],
    ));
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["evaluation"]["overall"]["count"], 16);
    let ua = parsed["evaluation"]["overall"]["ua"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ua));
    for png in ["confusion.png", "by-time.png", "curves.png"] {
        assert!(is_png(&out_dir.join(png)), "{png}");
    }
    assert!(
        std::fs::read_to_string(out_dir.join("report.md"))
            .unwrap()
            .contains("| class | support | answered | precision | recall | F1 |")
    );
    // The default split is the model's test speakers: actor 17 only.
    let table = ok(&emotrace(
        d,
        &[
            "eval",
            "--model",
            model,
            "--data",
            corpus.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "--no-cache",
        ],
    ));
    assert!(table.contains("(n = 4)"), "{table}");

    // runs list and compare.
    let list = ok(&emotrace(d, &["runs", "list"]));
    let name = run.file_name().unwrap().to_str().unwrap();
    assert!(list.lines().any(|l| l.starts_with(name) && l.contains("finished")), "{list}");
    let compare = ok(&emotrace(d, &["runs", "compare", name, run.to_str().unwrap()]));
    assert!(compare.contains("| lstm1 / lstm2 / dense | 12 / 8 / [8] | 12 / 8 / [8] |"), "{compare}");

    // doctor names the default model when EMOTRACE_MODEL points at it.
    let doctor = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .arg("doctor")
        .env("EMOTRACE_MODEL", &model_path)
        .output()
        .unwrap();
    let text = ok(&doctor);
    assert!(
        text.contains(&format!("default model: {}", model_path.display())) && text.contains("(tiny"),
        "{text}"
    );
}

/// Bad inputs each give one clear line naming the thing at fault, and a failure exit.
#[test]
fn bad_inputs_give_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clip = shared_ravdess().join("Actor_01/03-01-01-01-01-01-01.flac");
    let clip = clip.to_str().unwrap();

    let err = one_error_line(&emotrace(d, &["predict", clip, "--model", "/nonexistent/model.json"]));
    assert!(err.contains("/nonexistent/model.json"), "{err}");

    let err = one_error_line(&emotrace(d, &["predict", clip]));
    assert!(err.contains("no-default-model.json"), "no default model: {err}");

    std::fs::write(d.join("bad.json"), r#"{"format": "emotrace-model", "format_version": 99}"#).unwrap();
    let err = one_error_line(&emotrace(d, &["predict", clip, "--model", "bad.json"]));
    assert!(err.contains("bad.json") && err.contains("newer"), "{err}");

    let err = one_error_line(&emotrace(d, &["predict", "missing.wav", "--model", "bad.json"]));
    assert!(err.contains("missing.wav"), "{err}");

    let err = one_error_line(&emotrace(d, &["train", "--data", "nowhere", "--quiet"]));
    assert!(err.contains("nowhere"), "{err}");

    let err = one_error_line(&emotrace(d, &["train", "--data", "nowhere", "--folds", "2"]));
    assert!(err.contains("--folds 2"), "{err}");

    std::fs::write(d.join("broken.toml"), "[training]\nepochs = \"many\"\n").unwrap();
    let err = one_error_line(&emotrace(d, &["train", "--config", "broken.toml", "--data", "x"]));
    assert!(err.contains("broken.toml"), "{err}");
}
