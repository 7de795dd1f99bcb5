//! A calibration reading (`emotrace calibrate`, then `--calibration`): made from real
//! RAVDESS files for the shipped multi-corpus model, it changes what the model hears,
//! the calibrated model streams as it scores, and every misuse is one line naming the
//! file or model at fault.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod cli_common;
mod stream_common;

use std::path::{Path, PathBuf};

use emotrace::audio::decode::load_mono_16k;
use emotrace::data::trim::trim_range;
use emotrace::engine::recorder::SessionWav;
use emotrace::features::extract;
use emotrace::model::calibration::apply;
use emotrace::model::timeline::frame_trace;
use emotrace::model::{Calibration, ComputeDevice, EmotionModel};

use cli_common::{emotrace, ok, one_error_line, shared_ravdess};
use stream_common::assert_streams_as_batched;

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// A file of the repository, as an argument.
fn repo_str(name: &str) -> String {
    repo_file(name).display().to_string()
}

/// Actor 17 reading calmly: three of its neutral and calm files.
fn reading() -> Vec<PathBuf> {
    ["03-01-01-01-01-01-17", "03-01-02-01-01-01-17", "03-01-02-02-01-01-17"]
        .iter()
        .map(|f| shared_ravdess().join(format!("Actor_17/{f}.flac")))
        .collect()
}

/// The same actor, sad.
fn sad_clip() -> PathBuf {
    shared_ravdess().join("Actor_17/03-01-04-02-01-01-17.flac")
}

fn multicorpus() -> EmotionModel {
    EmotionModel::load(&repo_file("models/multicorpus.json"), ComputeDevice { device: tch::Device::Cpu })
        .unwrap()
}

/// The calibration of `model` from `reading()`, as `emotrace calibrate` computes it.
fn calibration_of(model: &EmotionModel) -> Calibration {
    let config = model.feature_config();
    let features: Vec<Vec<f32>> = reading()
        .iter()
        .map(|p| {
            let samples = load_mono_16k(p).unwrap();
            let speech = &samples[trim_range(&samples, config.sample_rate_hz, &model.card().preprocess)];
            extract(config, speech).unwrap().features
        })
        .collect();
    let matrices: Vec<&[f32]> = features.iter().map(Vec::as_slice).collect();
    Calibration::from_features(model, &matrices, 6.0).unwrap()
}

/// Calibrated, the model hears the sad clip differently, and its live step still equals
/// its batched forward (both normalise by the calibration).
#[test]
fn a_calibrated_model_changes_and_streams_as_it_scores() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = multicorpus();
    assert!(model.card().normalisation.calibration_shift.is_some(), "the shipped card carries its shift");
    let samples = load_mono_16k(&sad_clip()).unwrap();
    let plain = frame_trace(&model, &samples).unwrap();
    let file = dir.path().join("actor17.json");
    calibration_of(&model).save(&file).unwrap();
    apply(&mut model, &file).unwrap();
    assert!(model.is_calibrated());
    let calibrated = frame_trace(&model, &samples).unwrap();
    let largest = plain
        .iter()
        .flatten()
        .zip(calibrated.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(largest > 0.01, "the calibration changes the output (largest difference {largest})");

    assert_streams_as_batched(&model, &samples, &calibrated, "calibrated");
}

/// `calibrate` writes statistics only; `predict` and a headless replay use them, and the
/// replay's recording names the calibration; the file is the one `calibration_of` computes.
#[test]
fn calibrate_then_predict_and_replay_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = &repo_str("models/multicorpus.json");
    let reading: Vec<String> = reading().iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["calibrate", "--model", model, "--out", "actor17.json"];
    args.extend(reading.iter().map(String::as_str));
    let said = ok(&emotrace(d, &args));
    assert!(said.contains("calibration for multicorpus from") && said.contains("actor17.json"), "{said}");
    let written = Calibration::load(&d.join("actor17.json")).unwrap();
    let expected = calibration_of(&multicorpus());
    assert_eq!((written.mean.len(), written.model_name.as_str()), (expected.mean.len(), "multicorpus"));
    for (a, b) in written.mean.iter().zip(&expected.mean) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    let text = std::fs::read_to_string(d.join("actor17.json")).unwrap();
    assert!(text.len() < 20_000, "statistics only, no audio ({} bytes)", text.len());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("actor17.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a calibration describes a client's voice: owner only");
    }

    let clip = sad_clip();
    let clip = clip.to_str().unwrap();
    let plain = ok(&emotrace(d, &["predict", clip, "--model", model, "--format", "json"]));
    let calibrated = ok(&emotrace(
        d,
        &["predict", clip, "--model", model, "--calibration", "actor17.json", "--format", "json"],
    ));
    assert_ne!(plain, calibrated, "the calibration changes the answer's probabilities");

    let replay = ok(&emotrace(
        d,
        &[
            "monitor",
            "--headless",
            "--replay",
            clip,
            "--fast",
            "--model",
            model,
            "--calibration",
            "actor17.json",
            "--record",
            "rec",
        ],
    ));
    assert!(replay.lines().count() > 10, "a calibrated replay traces: {replay}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("rec/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["calibration"], "actor17.json", "the recording says it was calibrated: {summary}");
}

/// Each misuse: one line naming the file or model at fault.
#[test]
fn misused_calibrations_give_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let multicorpus = &repo_str("models/multicorpus.json");
    let default = &repo_str("models/default.json");
    let reading = reading()[0].display().to_string();
    let clip = sad_clip();
    let clip = clip.to_str().unwrap();

    let err = one_error_line(&emotrace(d, &["calibrate", "--model", default, "--out", "x.json", &reading]));
    assert!(err.contains("default") && err.contains("does not normalise by speaker"), "{err}");

    ok(&emotrace(d, &["calibrate", "--model", multicorpus, "--out", "good.json", &reading]));
    let err =
        one_error_line(&emotrace(d, &["predict", clip, "--model", default, "--calibration", "good.json"]));
    assert!(err.contains("does not normalise by speaker"), "{err}");

    let good = std::fs::read_to_string(d.join("good.json")).unwrap();
    let sha = Calibration::load(&d.join("good.json")).unwrap().model_weights_sha256;
    std::fs::write(d.join("other.json"), good.replace(&sha, &"0".repeat(64))).unwrap();
    let err = one_error_line(&emotrace(
        d,
        &["predict", clip, "--model", multicorpus, "--calibration", "other.json"],
    ));
    assert!(err.contains("other.json") && err.contains("record the reading again"), "{err}");

    std::fs::write(d.join("garbage.json"), "{ not json").unwrap();
    let err = one_error_line(&emotrace(
        d,
        &[
            "monitor",
            "--headless",
            "--replay",
            clip,
            "--fast",
            "--model",
            multicorpus,
            "--calibration",
            "garbage.json",
        ],
    ));
    assert!(err.contains("garbage.json") && err.contains("not an emotrace calibration file"), "{err}");

    let err = one_error_line(&emotrace(
        d,
        &["predict", clip, "--model", multicorpus, "--calibration", "missing.json"],
    ));
    assert!(err.contains("missing.json"), "{err}");

    let silence = d.join("silence.wav");
    write_silence(&silence);
    let err = one_error_line(&emotrace(
        d,
        &["calibrate", "--model", multicorpus, "--out", "y.json", silence.to_str().unwrap()],
    ));
    assert!(err.contains("no speech"), "{err}");
    assert!(!d.join("y.json").exists(), "nothing written for a failed calibration");
}

/// Two seconds of digital silence, 16 kHz mono.
fn write_silence(path: &Path) {
    let mut wav = SessionWav::create(path, 16_000).unwrap();
    wav.write(&[0.0; 32_000]).unwrap();
    wav.finish().unwrap();
}
