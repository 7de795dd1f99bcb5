//! The streaming extractor against the batch one: same frames, bit for bit, for any
//! chunking; no allocation after construction.

use std::path::Path;

use emotrace::audio::decode_file;
use emotrace::features::{
    FeatureConfig, FeatureFamilies, FeatureFrames, NoiseSuppression, StreamingExtractor, extract,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// Debug builds abort the test binary on any allocation inside `assert_no_alloc`.
#[cfg(debug_assertions)]
#[global_allocator]
static ALLOC: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

fn speech() -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac");
    decode_file(&path).expect("speech clip decodes").samples
}

/// Streams `samples` in chunks of the given sizes (cycled) and collects every frame.
fn stream(cfg: &FeatureConfig, samples: &[f32], chunk_sizes: &[usize]) -> FeatureFrames {
    let mut ex = StreamingExtractor::new(cfg).expect("valid config");
    let (mut features, mut log_mel_db, mut n_frames) = (Vec::new(), Vec::new(), 0);
    let mut on_frame = |f: emotrace::features::FrameView<'_>| {
        assert_eq!(f.index, n_frames, "frames come out in order");
        n_frames += 1;
        features.extend_from_slice(f.features);
        log_mel_db.extend_from_slice(f.log_mel_db);
    };
    let mut rest = samples;
    for &size in chunk_sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        ex.push(chunk, &mut on_frame);
        rest = tail;
    }
    ex.finish(&mut on_frame);
    FeatureFrames {
        n_frames,
        frame_dim: cfg.frame_dim(),
        n_mels: cfg.n_mels,
        hop_samples: cfg.hop_samples(),
        sample_rate_hz: cfg.sample_rate_hz,
        features,
        log_mel_db,
    }
}

fn configs() -> [FeatureConfig; 4] {
    let all = FeatureFamilies { log_mel: true, mfcc: true, chroma: true, spectral: true, pitch: true };
    [
        FeatureConfig::default(),
        FeatureConfig { families: all, mfcc_delta_order: 1, delta_width: 5, ..Default::default() },
        // No deltas, an odd hop and a window shorter than n_fft.
        FeatureConfig {
            hop_ms: 7.3,
            win_ms: 20.0,
            mfcc_delta_order: 0,
            n_mels: 64,
            n_mfcc: 20,
            ..Default::default()
        },
        // Noise suppression: its floor is state carried from frame to frame.
        FeatureConfig { noise_suppression: Some(NoiseSuppression::default()), ..Default::default() },
    ]
}

/// Features of the speech clip fed in chunks of 1 sample equal those of the whole clip.
#[test]
fn one_sample_chunks_equal_batch() {
    let x = speech();
    for cfg in configs() {
        assert_eq!(stream(&cfg, &x, &[1]), extract(&cfg, &x).unwrap());
    }
}

proptest! {
    #![proptest_config(Config { cases: 24, rng_seed: RngSeed::Fixed(0x5EED), failure_persistence: None, ..Config::default() })]

    /// Features of a signal fed in random chunk sizes (1 to 3000 samples, any mix) equal
    /// those of the whole signal, for signals from 1 sample to 1.75 s, with and without
    /// deltas.
    #[test]
    fn random_chunkings_equal_batch(
        len in 1usize..28_000,
        sizes in prop::collection::vec(prop_oneof![Just(1usize), 1usize..200, 1usize..3000], 1..20),
        which in 0usize..3,
    ) {
        let x = &speech()[..len];
        let cfg = &configs()[which];
        prop_assert_eq!(stream(cfg, x, &sizes), extract(cfg, x).unwrap());
    }
}

/// After `new`, pushing samples, finishing and resetting never allocate (checked in debug
/// builds, where an allocation aborts the test binary).
#[test]
fn streaming_does_not_allocate() {
    let x = speech();
    let cfg = FeatureConfig::default();
    let mut ex = StreamingExtractor::new(&cfg).unwrap();
    let mut checksum = 0.0f64;
    assert_no_alloc::assert_no_alloc(|| {
        for round in 0..2 {
            for chunk in x.chunks(37 + round * 100) {
                ex.push(chunk, |f| checksum += f64::from(f.features[0]));
            }
            ex.finish(|f| checksum += f64::from(f.features[0]));
        }
        ex.push(&x[..1000], |_| {});
        ex.reset();
    });
    assert!(checksum.is_finite() && checksum != 0.0);
}

/// Reset forgets the stream: the same signal twice gives the same frames twice.
#[test]
fn reset_starts_over() {
    let x = speech();
    let cfg = FeatureConfig::default();
    let mut ex = StreamingExtractor::new(&cfg).unwrap();
    ex.push(&x[..5000], |_| {});
    ex.reset();
    let mut first = Vec::new();
    ex.push(&x, |f| first.extend_from_slice(f.features));
    ex.finish(|f| first.extend_from_slice(f.features));
    assert_eq!(first, extract(&cfg, &x).unwrap().features);
}

/// NaN and infinite samples in a stream become zeros and are counted (the batch function
/// rejects them instead).
#[test]
fn non_finite_samples_are_zeroed_and_counted() {
    let mut x = speech()[..4000].to_vec();
    let cfg = FeatureConfig::default();
    let mut ex = StreamingExtractor::new(&cfg).unwrap();
    x[100] = f32::NAN;
    x[2000] = f32::NEG_INFINITY;
    let mut got = Vec::new();
    ex.push(&x, |f| got.extend_from_slice(f.features));
    assert_eq!(ex.non_finite_count(), 2);
    ex.finish(|f| got.extend_from_slice(f.features));
    x[100] = 0.0;
    x[2000] = 0.0;
    assert_eq!(got, extract(&cfg, &x).unwrap().features);
}

/// The documented latency holds: frame i appears once sample i*hop + latency - 1 is in.
#[test]
fn latency_is_as_documented() {
    let cfg = FeatureConfig::default();
    let mut ex = StreamingExtractor::new(&cfg).unwrap();
    let latency = ex.latency_samples();
    assert_eq!(latency, 256 + 4 * 160);
    let x = speech();
    let mut emitted = 0;
    for (n, s) in x.iter().enumerate().take(5000) {
        ex.push(std::slice::from_ref(s), |_| emitted += 1);
        // Samples pushed so far: n + 1. Frames whose centre i*hop satisfies
        // i*hop + latency <= n + 1 are out.
        let expected = if n + 1 >= latency { (n + 1 - latency) / 160 + 1 } else { 0 };
        assert_eq!(emitted, expected, "after {} samples", n + 1);
    }
}
