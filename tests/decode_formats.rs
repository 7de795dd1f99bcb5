//! Decoding every supported format: WAV 8/16/24/32-bit integer and 32-bit float (written
//! here with hound), FLAC, MP3 and OGG/Vorbis (small checked-in files made with sox);
//! channels averaged to mono; rates kept by `decode_file`, converted by `load_mono_16k`.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use emotrace::audio::{AudioFileReader, decode_file, load_mono_16k};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn sine(freq_hz: f64, rate_hz: u32, n: usize, amp: f64) -> Vec<f64> {
    (0..n).map(|i| amp * (2.0 * PI * freq_hz * i as f64 / f64::from(rate_hz)).sin()).collect()
}

/// Frequency estimated from upward zero crossings in the middle 60 % of `x` (away from
/// codec delay, padding and fades).
fn frequency_hz(x: &[f32], rate_hz: u32) -> f64 {
    let x = &x[x.len() / 5..x.len() * 4 / 5];
    let ups: Vec<usize> = (1..x.len()).filter(|&i| x[i - 1] < 0.0 && x[i] >= 0.0).collect();
    let (first, last) = (ups[0], ups[ups.len() - 1]);
    (ups.len() - 1) as f64 * f64::from(rate_hz) / (last - first) as f64
}

/// Writes `channels` interleaved with hound in the given format.
fn write_wav(path: &Path, rate_hz: u32, bits: u16, float: bool, channels: &[Vec<f64>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate_hz,
        bits_per_sample: bits,
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for i in 0..channels[0].len() {
        for ch in channels {
            let v = ch[i];
            if float {
                w.write_sample(v as f32).expect("write");
            } else {
                let full = f64::from(1u32 << (bits - 1));
                let q = (v * full).round().clamp(-full, full - 1.0);
                match bits {
                    8 => w.write_sample(q as i8).expect("write"),
                    16 => w.write_sample(q as i16).expect("write"),
                    _ => w.write_sample(q as i32).expect("write"),
                }
            }
        }
    }
    w.finalize().expect("finalize wav");
}

/// Each WAV sample format decodes to the written signal within its quantisation step.
#[test]
fn wav_sample_formats() {
    let dir = tempfile::tempdir().unwrap();
    let x = sine(440.0, 16_000, 1600, 0.5);
    for (bits, float) in [(8, false), (16, false), (24, false), (32, false), (32, true)] {
        let path = dir.path().join(format!("tone_{bits}_{float}.wav"));
        write_wav(&path, 16_000, bits, float, std::slice::from_ref(&x));
        let audio = decode_file(&path).unwrap();
        assert_eq!(
            (audio.sample_rate_hz, audio.channels, audio.samples.len()),
            (16_000, 1, 1600),
            "{bits} bit"
        );
        // One quantisation step, but no finer than f32 resolution at the signal's level.
        let step = if float { 1e-7 } else { (1.0 / f64::from(1u32 << (bits - 1))).max(6e-8) };
        let err = audio.samples.iter().zip(&x).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max);
        assert!(err <= step, "{bits}-bit{}: error {err} > step {step}", if float { " float" } else { "" });
    }
}

/// Stereo is averaged to mono: left = s, right = -s/2 gives s/4.
#[test]
fn stereo_is_averaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    let left = sine(300.0, 16_000, 800, 0.8);
    let right: Vec<f64> = left.iter().map(|v| -v / 2.0).collect();
    write_wav(&path, 16_000, 32, true, &[left.clone(), right]);
    let audio = decode_file(&path).unwrap();
    assert_eq!(audio.channels, 2);
    for (got, l) in audio.samples.iter().zip(&left) {
        assert!((f64::from(*got) - l / 4.0).abs() < 1e-6);
    }
}

/// 8 kHz and 48 kHz files keep their rate in `decode_file` and come out of `load_mono_16k`
/// at 16 kHz with the same duration and pitch.
#[test]
fn rates_convert_to_16k() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [8_000u32, 48_000] {
        let path = dir.path().join(format!("tone_{rate}.wav"));
        write_wav(&path, rate, 16, false, &[sine(500.0, rate, rate as usize / 2, 0.5)]);
        assert_eq!(decode_file(&path).unwrap().sample_rate_hz, rate);
        let y = load_mono_16k(&path).unwrap();
        assert_eq!(y.len(), 8_000, "{rate} Hz");
        let f = frequency_hz(&y, 16_000);
        assert!((f - 500.0).abs() < 0.5, "{rate} Hz: pitch {f}");
    }
}

/// FLAC (24-bit, 22.05 kHz), MP3 (44.1 kHz stereo) and OGG/Vorbis (48 kHz stereo) decode
/// to a 440 Hz tone about 0.5 s long, and resample to 16 kHz.
#[test]
fn compressed_formats() {
    for (file, rate, channels) in [
        ("tone440_22k_24bit.flac", 22_050, 1),
        ("tone440_44k_stereo.mp3", 44_100, 2),
        ("tone440_48k_stereo.ogg", 48_000, 2),
    ] {
        let audio = decode_file(&data(file)).unwrap();
        assert_eq!((audio.sample_rate_hz, audio.channels), (rate, channels), "{file}");
        // An MP3 without a LAME gapless tag (sox writes none) keeps the encoder delay and
        // the padding of its last frame: up to two 1152-sample frames (52 ms) more.
        let slack_s = if file.ends_with(".mp3") { 0.06 } else { 0.001 };
        assert!((audio.duration_s() - 0.5).abs() < slack_s, "{file}: {} s", audio.duration_s());
        let f = frequency_hz(&audio.samples, rate);
        assert!((f - 440.0).abs() < 1.0, "{file}: pitch {f}");
        let y = load_mono_16k(&data(file)).unwrap();
        assert!((y.len() as f64 / 16_000.0 - audio.duration_s()).abs() < 1e-3, "{file}");
        assert!((frequency_hz(&y, 16_000) - 440.0).abs() < 1.0, "{file} at 16 kHz");
    }
}

/// The chunked reader gives exactly the samples `decode_file` gives, in pieces.
#[test]
fn reader_streams_the_same_samples() {
    for file in ["speech_16k.flac", "tone440_44k_stereo.mp3", "tone440_48k_stereo.ogg"] {
        let whole = decode_file(&data(file)).unwrap();
        let mut reader = AudioFileReader::open(&data(file)).unwrap();
        assert_eq!(reader.sample_rate_hz(), whole.sample_rate_hz);
        let (mut all, mut chunk, mut chunks) = (Vec::new(), Vec::new(), 0);
        while reader.read_chunk(&mut chunk).unwrap() > 0 {
            all.extend_from_slice(&chunk);
            chunks += 1;
        }
        assert!(chunks > 1, "{file}: read in one piece");
        assert_eq!(all, whole.samples, "{file}");
        assert_eq!(reader.samples_read(), all.len() as u64);
        // Reading past the end keeps returning 0.
        assert_eq!(reader.read_chunk(&mut chunk).unwrap(), 0);
    }
}
