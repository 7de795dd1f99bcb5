//! `emotrace predict DIR` on several workers: results in the folder's sorted order
//! whatever the timing, a bad file as one line in the output and on stderr, `--resume`
//! continuing an interrupted output, and recordings over `--stream-over` streamed with
//! the same answers and timeline as the batched path.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use emotrace::data::NormAccumulator;
use emotrace::features::{FeatureConfig, extract};
use emotrace::model::{Architecture, ComputeDevice, EmotionModel, ModelCard, Preprocess};

fn speech_clip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac")
}

/// A seeded two-network ensemble (so workers run the fused step over several members).
fn ensemble(dir: &Path) -> PathBuf {
    emotrace::engine::prepare_worker_thread();
    let features = FeatureConfig::default();
    let samples = emotrace::audio::decode::load_mono_16k(&speech_clip()).unwrap();
    let mut acc = NormAccumulator::new(features.frame_dim());
    acc.add(&extract(&features, &samples).unwrap().features);
    let arch = Architecture {
        input_dims: features.frame_dim(),
        lstm1_units: 24,
        lstm2_units: 12,
        dense_units: vec![8],
        dropout: 0.0,
        classes: 7,
        mean_pooling: true,
        members: 2,
    };
    tch::manual_seed(3);
    let card = ModelCard::new("batch-test", features, Preprocess::default(), acc.finish(), arch);
    let mut model = EmotionModel::build(card, ComputeDevice { device: tch::Device::Cpu }).unwrap();
    model.save(&dir.join("ensemble")).unwrap()
}

/// A folder of five copies of the clip (some in a subfolder, names out of order), a text
/// file named `.wav` and an empty `.flac`.
fn folder(dir: &Path) -> PathBuf {
    let root = dir.join("calls");
    std::fs::create_dir_all(root.join("b-sub")).unwrap();
    for name in ["c.flac", "a.flac", "b-sub/e.flac", "b-sub/d.flac", "z.flac"] {
        std::fs::copy(speech_clip(), root.join(name)).unwrap();
    }
    std::fs::write(root.join("bad.wav"), "not audio").unwrap();
    std::fs::write(root.join("empty.flac"), "").unwrap();
    root
}

fn emotrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emotrace")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The rows come in the folder's sorted order, bit-identical with 1 and 3 workers; each bad
/// file is one row (with only `file` and `error`) and one stderr line naming it; the run
/// scores every good file and exits 1 with a summary line.
#[test]
fn results_in_sorted_order_and_bad_files_are_lines() {
    let dir = tempfile::tempdir().unwrap();
    let model = ensemble(dir.path());
    let root = folder(dir.path());
    let run = |jobs: &str| {
        emotrace(&[
            "predict",
            root.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--format",
            "csv",
            "--jobs",
            jobs,
        ])
    };
    let (one, three) = (run("1"), run("3"));
    assert_eq!(three.status.code(), Some(1), "{}", text(&three.stderr));
    assert_eq!(text(&one.stdout), text(&three.stdout), "the order and values do not depend on workers");
    let csv = text(&three.stdout);
    // A bad file's error is quoted CSV (it may hold commas): read it as CSV.
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let files: Vec<String> =
        rows.iter().map(|r| r[0].strip_prefix(root.to_str().unwrap()).unwrap().to_owned()).collect();
    assert_eq!(
        files,
        ["/a.flac", "/b-sub/d.flac", "/b-sub/e.flac", "/bad.wav", "/c.flac", "/empty.flac", "/z.flac"]
    );
    for row in &rows {
        assert_eq!(row.len(), 11, "{row:?}");
        let bad = row[0].ends_with("bad.wav") || row[0].ends_with("empty.flac");
        assert_eq!(row[10].is_empty(), !bad, "{row:?}");
        assert_eq!(row[1].is_empty(), bad, "{row:?}");
    }
    let stderr = text(&three.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines.iter().any(|l| l.contains("bad.wav")) && lines.iter().any(|l| l.contains("empty.flac")),
        "{stderr}"
    );
    assert!(lines[2].contains("2 of 7 files could not be scored"), "{stderr}");
}

/// An output cut off mid-run (two whole rows and half a line) is completed by `--resume`
/// into exactly what an uninterrupted run writes, scoring only the missing files; without
/// `--resume` an existing output is refused. CSV, CSV with the timeline (a file's rows may
/// be cut between them), and JSON lines.
#[test]
fn resume_completes_an_interrupted_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = ensemble(dir.path());
    let root = folder(dir.path());
    for (format, timeline, cut_lines) in [("csv", false, 3), ("csv", true, 9), ("jsonl", false, 2)] {
        let out = dir.path().join(format!("out-{format}-{timeline}"));
        let mut args = vec!["predict", root.to_str().unwrap(), "--model", model.to_str().unwrap()];
        args.extend(["--format", format, "--jobs", "2", "--out", out.to_str().unwrap()]);
        if timeline {
            args.push("--timeline");
        }
        let _ = std::fs::remove_file(&out);
        assert_eq!(emotrace(&args).status.code(), Some(1), "two bad files");
        let whole = std::fs::read_to_string(&out).unwrap();
        let refused = emotrace(&args);
        assert!(text(&refused.stderr).contains("exists: pass --resume"), "{}", text(&refused.stderr));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), whole, "a refused run leaves the output alone");

        let kept: usize = whole.split_inclusive('\n').take(cut_lines).map(str::len).sum();
        let half = whole[kept..].find('\n').unwrap() / 2;
        std::fs::write(&out, &whole[..kept + half]).unwrap();
        let resumed = emotrace(&[&args[..], &["--resume"]].concat());
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            whole,
            "{format} timeline {timeline}: {}",
            text(&resumed.stderr)
        );
        let note = text(&resumed.stderr);
        assert!(note.lines().next().unwrap().contains("already there"), "{note}");
    }
}

/// A recording longer than `--stream-over` is streamed: its answer and timeline equal the
/// batched path's (within the streaming step's tolerance) and it says it was streamed. The
/// long file is made with sox: the 1.75 s clip ten times with silence at the ends, 19.5 s.
#[test]
fn long_recordings_are_streamed_with_the_batched_answers() {
    let dir = tempfile::tempdir().unwrap();
    let model = ensemble(dir.path());
    let long = dir.path().join("long.flac");
    let clip = speech_clip();
    let clip = clip.to_str().unwrap();
    let sox = Command::new("sox")
        .args([
            "--combine",
            "concatenate",
            clip,
            clip,
            clip,
            clip,
            clip,
            clip,
            clip,
            clip,
            clip,
            clip,
            long.to_str().unwrap(),
            "pad",
            "0.5",
            "1.5",
        ])
        .output()
        .expect("sox (scripts/install-system-deps installs it)");
    assert!(sox.status.success(), "{}", text(&sox.stderr));
    let run = |stream_over_min: &str| -> serde_json::Value {
        let out = emotrace(&[
            "predict",
            long.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--format",
            "jsonl",
            "--timeline",
            "--stream-over",
            stream_over_min,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_str(text(&out.stdout).trim()).unwrap()
    };
    let (streamed, batched) = (run("0.1"), run("20"));
    assert_eq!(streamed["streamed"], true);
    assert_eq!(batched["streamed"], false);
    assert_eq!(streamed["emotion"], batched["emotion"]);
    for key in ["duration_s", "speech_s"] {
        assert!((streamed[key].as_f64().unwrap() - batched[key].as_f64().unwrap()).abs() < 1e-9, "{key}");
    }
    let close = |a: &serde_json::Value, b: &serde_json::Value| {
        let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).all(|(x, y)| (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-5)
    };
    assert!(close(&streamed["probabilities"], &batched["probabilities"]), "{streamed} vs {batched}");
    let (s, b) = (streamed["timeline"].as_array().unwrap(), batched["timeline"].as_array().unwrap());
    assert!(s.len() >= 36, "a 20 s file every 0.5 s: {}", s.len());
    assert_eq!(s.len(), b.len());
    for (p, q) in s.iter().zip(b) {
        assert_eq!(p["time_s"], q["time_s"]);
        assert!(close(&p["probabilities"], &q["probabilities"]), "{p} vs {q}");
    }
}
