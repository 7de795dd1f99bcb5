//! Every feature family against librosa 0.11 on the checked-in clips (speech, chirp,
//! white noise, digital silence, a clip shorter than one window).
//!
//! The golden files come from `scripts/golden/generate.py` (librosa called with the causal
//! settings listed in `scripts/golden/reference.py`). Tolerances are written next to each
//! family; the decoy test proves they are tight enough that a wrong window, mel scale, mel
//! normalisation or DCT scaling fails.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use emotrace::audio::decode_file;
use emotrace::features::npy::read_npy_f32;
use emotrace::features::{FeatureConfig, FeatureFamilies, FeatureFrames, extract};

const CLIPS: [(&str, &str); 5] = [
    ("speech_16k", "speech_16k.flac"),
    ("chirp_16k", "chirp_16k.flac"),
    ("noise_16k", "noise_16k.flac"),
    ("silence_16k", "silence_16k.flac"),
    ("short_16k", "short_16k.wav"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

/// The defaults with the log-mel block switched on: the golden column order.
fn all_families() -> FeatureConfig {
    FeatureConfig { families: FeatureFamilies { log_mel: true, ..Default::default() }, ..Default::default() }
}

fn ours(file: &str) -> FeatureFrames {
    let audio = decode_file(&repo().join("tests/data").join(file)).expect("clip decodes");
    assert_eq!(audio.sample_rate_hz, 16_000);
    extract(&all_families(), &audio.samples).expect("features")
}

fn golden(name: &str) -> (Vec<f32>, usize, usize) {
    let mut file = File::open(repo().join("tests/golden").join(name)).expect("golden file exists");
    read_npy_f32(&mut file).expect("golden file is a float32 matrix")
}

/// A block of columns and its tolerance: |ours - librosa| <= abs + rel * |librosa|.
struct Block {
    name: &'static str,
    cols: Range<usize>,
    abs: f32,
    rel: f32,
}

fn blocks() -> Vec<Block> {
    let b = |name, cols, abs, rel| Block { name, cols, abs, rel };
    vec![
        // Both sides round a float64 FFT to float32; what remains is summation order.
        b("log-mel dB", 0..40, 1e-3, 0.0),
        // Values reach ~600 in silence (c0 of -100 dB bands): 1e-3 is ~16 f32 ulps there.
        b("mfcc", 40..53, 1e-3, 0.0),
        b("mfcc delta", 53..66, 1e-3, 0.0),
        b("mfcc delta-delta", 66..79, 1e-3, 0.0),
        // Normalised to a maximum of 1.
        b("chroma", 79..91, 1e-5, 0.0),
        // Hz values in the thousands: a few f32 ulps.
        b("centroid Hz", 91..92, 1e-3, 1e-6),
        b("bandwidth Hz", 92..93, 1e-3, 1e-6),
        // A bin frequency: exact unless the running sum ties the threshold.
        b("roll-off Hz", 93..94, 1e-3, 0.0),
        b("flatness", 94..95, 1e-7, 1e-4),
        b("contrast dB", 95..102, 1e-3, 0.0),
        // Counts over 512: exact.
        b("zcr", 102..103, 1e-7, 0.0),
        b("rms", 103..104, 1e-7, 1e-5),
    ]
}

/// The worst excess of |a - b| over a block's tolerance (<= 1 passes), with its place.
fn worst(a: &[f32], b: &[f32], dim: usize, block: &Block) -> (f32, usize, usize) {
    let mut out = (0.0f32, 0, 0);
    for (r, (ra, rb)) in a.chunks_exact(dim).zip(b.chunks_exact(dim)).enumerate() {
        for c in block.cols.clone() {
            let excess = (ra[c] - rb[c]).abs() / (block.abs + block.rel * rb[c].abs());
            if excess > out.0 {
                out = (excess, r, c);
            }
        }
    }
    out
}

/// The golden files were made with the settings FeatureConfig::default() uses.
#[test]
fn golden_settings_are_the_defaults() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/golden/meta.json")).unwrap())
            .unwrap();
    assert!(meta["librosa"].as_str().unwrap().starts_with("0.11."));
    let s = &meta["settings"];
    let cfg = all_families();
    assert_eq!(s["sample_rate_hz"], cfg.sample_rate_hz);
    assert_eq!(s["n_fft"], cfg.n_fft);
    assert_eq!(s["win_samples"], cfg.win_samples());
    assert_eq!(s["hop_samples"], cfg.hop_samples());
    assert_eq!(s["n_mels"], cfg.n_mels);
    assert_eq!(s["n_mfcc"], cfg.n_mfcc);
    assert_eq!(s["delta_width"], cfg.delta_width);
    assert_eq!(s["n_chroma"], cfg.n_chroma);
    assert_eq!(s["contrast_n_bands"], cfg.contrast_n_bands);
    assert_eq!(s["fmax_hz"].as_f64().unwrap(), f64::from(cfg.fmax_hz));
    assert_eq!(s["contrast_quantile"].as_f64().unwrap() as f32, cfg.contrast_quantile);
    assert_eq!(s["rolloff_fraction"].as_f64().unwrap() as f32, cfg.rolloff_fraction);
    assert_eq!(meta["columns"].as_array().unwrap().len(), cfg.frame_dim());
}

/// Every family of every clip matches librosa within the tolerance written beside it.
#[test]
fn every_family_matches_librosa() {
    for (stem, file) in CLIPS {
        let f = ours(file);
        let (gold, rows, cols) = golden(&format!("{stem}.npy"));
        assert_eq!((f.n_frames, f.frame_dim), (rows, cols), "{stem}: shape");
        for block in blocks() {
            let (excess, r, c) = worst(&f.features, &gold, cols, &block);
            assert!(
                excess <= 1.0,
                "{stem} {}: frame {r} column {c}: ours {} librosa {} (tolerance exceeded {excess:.1}x)",
                block.name,
                f.features[r * cols + c],
                gold[r * cols + c]
            );
        }
        // The display log-mel equals the model copy.
        for i in 0..f.n_frames {
            assert_eq!(f.log_mel(i), &f.frame(i)[..40]);
        }
    }
}

/// The tolerances can fail: librosa with a Hamming window, the HTK mel scale, unnormalised
/// mel filters, or an unscaled DCT each differs from our output by far more than they allow.
#[test]
fn tolerances_reject_wrong_windows_filters_and_dct() {
    let f = ours("chirp_16k.flac");
    let (decoys, rows, cols) = golden("chirp_16k.decoys.npy");
    assert_eq!((rows, cols), (f.n_frames, 40 * 3 + 13));
    let blocks = blocks();
    let (mel_tol, mfcc_tol) = (&blocks[0], &blocks[1]);
    let cases = [
        ("Hamming window", 0, mel_tol),
        ("HTK mel", 40, mel_tol),
        ("no Slaney norm", 80, mel_tol),
        ("DCT norm", 120, mfcc_tol),
    ];
    for (what, at, tol) in cases {
        let n = tol.cols.len();
        let ours_block: Vec<f32> = (0..rows).flat_map(|r| f.frame(r)[tol.cols.clone()].to_vec()).collect();
        let decoy_block: Vec<f32> =
            (0..rows).flat_map(|r| decoys[r * cols + at..r * cols + at + n].to_vec()).collect();
        let block = Block { name: tol.name, cols: 0..n, abs: tol.abs, rel: tol.rel };
        let (excess, ..) = worst(&ours_block, &decoy_block, n, &block);
        assert!(excess > 100.0, "{what}: differs by only {excess:.1}x the tolerance");
    }
}
