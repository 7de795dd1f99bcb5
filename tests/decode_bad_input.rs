//! Bad and awkward input, through the library and through `emotrace features` as a real
//! process: each case gives the right result or one clear error line naming the file,
//! never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use emotrace::audio::{DecodeError, decode_file, load_mono_16k};
use emotrace::features::{FeatureConfig, FeatureError, extract};

fn emotrace(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emotrace")).arg("features").args(args).output().expect("emotrace runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The command failed with exactly one stderr line that names `file` and says `reason`.
fn assert_one_line_error(out: &Output, file: &Path, reason: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{stderr}");
    let name = file.file_name().expect("file name").to_string_lossy();
    assert!(lines[0].contains(name.as_ref()), "names the file: {}", lines[0]);
    assert!(lines[0].contains(reason), "says '{reason}': {}", lines[0]);
}

/// A 16-bit mono WAV of `samples` at `rate_hz` (or float if `float`), written with hound.
fn wav(dir: &Path, name: &str, rate_hz: u32, channels: u16, float: bool, samples: &[f32]) -> PathBuf {
    let path = dir.join(name);
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate_hz,
        bits_per_sample: if float { 32 } else { 16 },
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("create wav");
    for &s in samples {
        if float {
            w.write_sample(s).expect("write");
        } else {
            w.write_sample((s * 32767.0) as i16).expect("write");
        }
    }
    w.finalize().expect("finalize");
    path
}

fn tone(rate_hz: u32, n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / rate_hz as f32).sin() * 0.5).collect()
}

/// A 0-byte file: "file is empty".
#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(decode_file(&path), Err(DecodeError::Empty { .. })));
    assert_one_line_error(&emotrace(&[&path]), &path, "empty");
}

/// The first 20 bytes of a real WAV: "truncated or corrupt WAV header".
#[test]
fn truncated_header() {
    let dir = tempfile::tempdir().unwrap();
    let good = wav(dir.path(), "good.wav", 16_000, 1, false, &tone(16_000, 1000));
    let path = dir.path().join("cut.wav");
    std::fs::write(&path, &std::fs::read(&good).unwrap()[..20]).unwrap();
    assert!(
        matches!(decode_file(&path), Err(DecodeError::Truncated { format: "WAV", .. })),
        "{:?}",
        decode_file(&path)
    );
    assert_one_line_error(&emotrace(&[&path]), &path, "truncated or corrupt WAV header");
}

/// A WAV cut inside its sample data keeps the samples before the cut.
#[test]
fn truncated_data_keeps_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let good = wav(dir.path(), "good.wav", 16_000, 1, false, &tone(16_000, 1000));
    let path = dir.path().join("cut.wav");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&path, &bytes[..44 + 2 * 600 + 1]).unwrap();
    let audio = decode_file(&path).unwrap();
    assert_eq!(audio.samples.len(), 600);
    assert_eq!(audio.samples, decode_file(&good).unwrap().samples[..600]);
}

/// Text in a file named .wav: "not an audio file".
#[test]
fn text_named_wav() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wav");
    std::fs::write(&path, "these are my notes, not audio\n".repeat(20)).unwrap();
    assert!(matches!(decode_file(&path), Err(DecodeError::NotAudio { .. })));
    assert_one_line_error(&emotrace(&[&path]), &path, "not an audio file");
}

/// A valid WAV header with no samples: "contains no audio samples".
#[test]
fn zero_samples() {
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "nothing.wav", 16_000, 1, false, &[]);
    assert!(matches!(decode_file(&path), Err(DecodeError::NoSamples { .. })));
    assert_one_line_error(&emotrace(&[&path]), &path, "no audio samples");
    // The batch extractor refuses an empty signal too.
    assert_eq!(extract(&FeatureConfig::default(), &[]), Err(FeatureError::Empty));
}

/// A missing file: "cannot read" with the OS reason.
#[test]
fn missing_file() {
    let path = Path::new("/nonexistent/dir/clip.wav");
    assert!(matches!(decode_file(path), Err(DecodeError::Io { .. })));
    assert_one_line_error(&emotrace(&[path]), path, "cannot read");
}

/// 100 samples (shorter than one 400-sample window): one zero-padded frame, no error.
#[test]
fn shorter_than_one_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = wav(dir.path(), "blip.wav", 16_000, 1, false, &tone(16_000, 100));
    let f = extract(&FeatureConfig::default(), &load_mono_16k(&path).unwrap()).unwrap();
    assert_eq!(f.n_frames, 1);
    assert!(f.features.iter().all(|v| v.is_finite()));
    let out = emotrace(&[&path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("features: 1 frames"), "{}", text(&out.stdout));
}

/// NaN and infinite samples in a float WAV: an error naming the file and the sample.
#[test]
fn nan_and_inf_samples() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bad) in [("nan.wav", f32::NAN), ("inf.wav", f32::INFINITY)] {
        let mut x = tone(16_000, 2000);
        x[1234] = bad;
        let path = wav(dir.path(), name, 16_000, 1, true, &x);
        assert!(matches!(decode_file(&path), Err(DecodeError::NonFinite { index: 1234, .. })));
        assert_one_line_error(&emotrace(&[&path]), &path, "sample 1234 is NaN or infinite");
    }
}

/// 8 kHz, 48 kHz and stereo files work: resampled to 16 kHz and mixed to mono, with the
/// frame count of their duration.
#[test]
fn other_rates_and_stereo() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        wav(dir.path(), "tone_8k.wav", 8_000, 1, false, &tone(8_000, 8_000)),
        wav(dir.path(), "tone_48k.wav", 48_000, 1, false, &tone(48_000, 48_000)),
        wav(dir.path(), "tone_stereo.wav", 16_000, 2, false, &tone(16_000, 32_000)),
    ];
    for path in &cases {
        let y = load_mono_16k(path).unwrap();
        assert_eq!(y.len(), 16_000, "{}", path.display());
        let out = emotrace(&[path]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(stdout.contains("features: 101 frames"), "{stdout}");
    }
    let stdout = text(&emotrace(&[&cases[2]]).stdout);
    assert!(stdout.contains("16000 Hz, 2 channels"), "{stdout}");
}
