//! `emotrace monitor --headless` as a process: replaying a file, listening to an ALSA
//! device (the test-local file PCM of `tests/alsa/file.asoundrc`), recording, and the
//! one-line errors for missing devices.

mod engine_common;

use std::path::Path;
use std::process::{Command, Output};

use emotrace::audio::decode::decode_file;
use emotrace::engine::recorder::to_i16;
use engine_common::speech_clip;
use serde_json::Value;

fn emotrace(args: &[&str], home: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_emotrace"));
    cmd.args(args);
    if let Some(home) = home {
        cmd.env("HOME", home);
    }
    cmd.output().expect("emotrace runs")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fast replay prints one JSON line per hop (411 for the 4.1 s clip), in order, with
/// speech in the middle and "no speech" at the ends; `--every 10` prints every tenth.
#[test]
fn headless_replay_prints_a_line_per_hop() {
    let clip = speech_clip();
    let clip = clip.to_str().expect("path");
    let out = emotrace(&["monitor", "--headless", "--no-model", "--replay", clip, "--fast"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = lines(&out);
    assert_eq!(rows.len(), 411);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["hop"], i as u64);
    }
    assert_eq!(rows[0]["label"], "no speech");
    assert_eq!(rows[200]["label"], "speech");
    assert!(rows[200]["p"].is_null());
    let sparse = lines(&emotrace(
        &["monitor", "--headless", "--no-model", "--replay", clip, "--fast", "--every", "10"],
        None,
    ));
    assert_eq!(sparse.len(), 42);
    assert_eq!(sparse[3]["hop"], 30);
}

/// With no usable input device the monitor says so in one line and exits with 1.
#[test]
fn no_input_device_is_one_line_and_exit_code() {
    let home = tempfile::tempdir().expect("home");
    // The default PCM points at a sound card that does not exist.
    std::fs::write(home.path().join(".asoundrc"), "pcm.!default { type hw card 42 }\n").expect("asoundrc");
    let out = emotrace(&["monitor", "--headless", "--no-model"], Some(home.path()));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no input device found"), "{err}");
    let out = emotrace(&["monitor", "--headless", "--no-model", "--input", "hw:7,7"], Some(home.path()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no input device named 'hw:7,7'"), "{}", stderr(&out));
}

/// Listening to the ALSA file device (opened at the recording's S16_LE / 16 kHz / mono
/// with `--input-*` flags) prints exactly the lines a replay of the same audio prints
/// (apart from latency), for the first 3 s; `--record` writes the session.
#[test]
fn headless_alsa_device_matches_replay_and_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = decode_file(&speech_clip()).expect("clip").samples;
    let raw = dir.path().join("clip.raw");
    std::fs::write(&raw, samples.iter().flat_map(|&s| to_i16(s).to_le_bytes()).collect::<Vec<u8>>())
        .expect("raw");
    let wav = dir.path().join("clip.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).expect("wav");
    samples.iter().for_each(|&s| writer.write_sample(to_i16(s)).expect("sample"));
    writer.finalize().expect("finalize");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let template =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alsa/file.asoundrc"))
            .expect("template");
    std::fs::write(home.join(".asoundrc"), template.replace("@INFILE@", raw.to_str().expect("path")))
        .expect("asoundrc");
    let session = dir.path().join("session");
    let device = emotrace(
        &[
            "monitor",
            "--headless",
            "--no-model",
            "--input-rate",
            "16000",
            "--input-channels",
            "1",
            "--input-format",
            "i16",
            "--ring-ms",
            "60000",
            "--duration-s",
            "3",
            "--record",
            session.to_str().expect("path"),
        ],
        Some(&home),
    );
    assert!(device.status.success(), "{}", stderr(&device));
    assert!(stderr(&device).contains("listening to default (16000 Hz, 1 ch, i16)"), "{}", stderr(&device));
    let replay = emotrace(
        &["monitor", "--headless", "--no-model", "--replay", wav.to_str().expect("path"), "--fast"],
        None,
    );
    let (device, replay) = (lines(&device), lines(&replay));
    assert!(device.len() >= 300, "{} lines", device.len());
    for (i, (d, r)) in device.iter().zip(&replay).take(300).enumerate() {
        for key in ["hop", "t_s", "speech", "label", "level_dbfs", "utterance", "utterance_s", "p"] {
            assert_eq!(d[key], r[key], "hop {i}, {key}");
        }
    }
    let trace = std::fs::read_to_string(session.join("trace.csv")).expect("trace.csv");
    assert!(trace.lines().count() >= 300);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("summary.json")).expect("summary"))
            .expect("JSON");
    assert_eq!(summary["complete"], true);
    assert!(summary["duration_s"].as_f64().expect("duration") >= 3.0);
}
