//! `emotrace features` as a real process on the speech clip: the summary, the CSV and NPY
//! matrices (equal to the library's frames), the PNG, a TOML config.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use emotrace::audio::decode_file;
use emotrace::features::npy::read_npy_f32;
use emotrace::features::{FeatureConfig, FeatureFrames, extract};

fn speech() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac")
}

fn features_cmd(args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .arg("features")
        .args(args)
        .output()
        .expect("emotrace runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn library_frames(cfg: &FeatureConfig) -> FeatureFrames {
    extract(cfg, &decode_file(&speech()).expect("decodes").samples).expect("features")
}

/// The summary states duration, rate, frames and dimensions.
#[test]
fn prints_a_summary() {
    let out = features_cmd(&[speech().as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1.750 s, 16000 Hz, 1 channel"), "{stdout}");
    assert!(stdout.contains("features: 176 frames x 64 values"), "{stdout}");
    assert!(stdout.contains("x real time"), "{stdout}");
}

/// `--out frames.csv` writes a header (time_s + column names) and one row per frame whose
/// values are the library's, printed so that they read back exactly.
#[test]
fn writes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("frames.csv");
    features_cmd(&[speech().as_os_str(), "--out".as_ref(), csv.as_os_str()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let cfg = FeatureConfig::default();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), format!("time_s,{}", cfg.column_names().join(",")));
    let want = library_frames(&cfg);
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), want.n_frames);
    for (i, row) in rows.iter().enumerate() {
        let values: Vec<f32> = row.split(',').map(|v| v.parse().unwrap()).collect();
        assert!((f64::from(values[0]) - i as f64 * 0.01).abs() < 1e-6);
        assert_eq!(&values[1..], want.frame(i), "row {i}");
    }
}

/// `--out frames.npy` writes the float32 matrix exactly.
#[test]
fn writes_npy() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("frames.npy");
    features_cmd(&[speech().as_os_str(), "--out".as_ref(), npy.as_os_str()]);
    let (data, rows, cols) = read_npy_f32(&mut File::open(&npy).unwrap()).unwrap();
    let want = library_frames(&FeatureConfig::default());
    assert_eq!((rows, cols), (want.n_frames, want.frame_dim));
    assert_eq!(data, want.features);
}

/// `--plot` writes a 1400 x 900 PNG.
#[test]
fn writes_png() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("spectrogram.png");
    features_cmd(&[speech().as_os_str(), "--plot".as_ref(), png.as_os_str()]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    assert_eq!((width, height), (1400, 900));
    assert!(bytes.len() > 20_000, "a plot, not a blank image: {} bytes", bytes.len());
}

/// `--config` reads FeatureConfig fields from TOML; unnamed fields keep their defaults.
#[test]
fn reads_a_toml_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("features.toml");
    std::fs::write(
        &config,
        "n_mels = 64\nmfcc_delta_order = 0\n[families]\nlog_mel = true\nchroma = false\n",
    )
    .unwrap();
    let npy = dir.path().join("frames.npy");
    features_cmd(&[
        speech().as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--out".as_ref(),
        npy.as_os_str(),
    ]);
    let (_, rows, cols) = read_npy_f32(&mut File::open(&npy).unwrap()).unwrap();
    assert_eq!((rows, cols), (176, 64 + 13 + 13));
}

/// Without `--plot` the file streams through packet by packet (resampled on the way);
/// the matrix equals the one written from the whole file (`--plot` takes that path).
#[test]
fn streaming_matches_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let stereo_48k = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tone440_48k_stereo.ogg");
    let (streamed, whole) = (dir.path().join("streamed.npy"), dir.path().join("whole.npy"));
    let png = dir.path().join("plot.png");
    let out = features_cmd(&[stereo_48k.as_os_str(), "--out".as_ref(), streamed.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("decoding, extraction and writing"), "the streaming path: {stdout}");
    assert!(stdout.contains("resampled to 16000 Hz"), "{stdout}");
    features_cmd(&[
        stereo_48k.as_os_str(),
        "--out".as_ref(),
        whole.as_os_str(),
        "--plot".as_ref(),
        png.as_os_str(),
    ]);
    let (a, rows, cols) = read_npy_f32(&mut File::open(&streamed).unwrap()).unwrap();
    let (b, rows_b, cols_b) = read_npy_f32(&mut File::open(&whole).unwrap()).unwrap();
    assert!(rows > 40, "{rows} frames (0.5 s)");
    assert_eq!((rows, cols), (rows_b, cols_b));
    assert_eq!(a, b);
}

/// A run that fails leaves neither the output nor its temporary `.partial` file.
#[test]
fn a_failed_run_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"RIFF\x10\x00\x00\x00WAVEnot really audio at all").unwrap();
    let csv = dir.path().join("frames.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .args(["features".as_ref(), garbage.as_os_str(), "--out".as_ref(), csv.as_os_str()])
        .output()
        .expect("emotrace runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("garbage.wav") && stderr.lines().count() == 1, "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["garbage.wav"]);
}
