//! Fuzzing the feature extractor with hostile sample values (NaN, infinities, `f32::MAX`,
//! huge, denormal, zero runs) and lengths (0, 1, under one window, odd sizes), through
//! the batch and the streaming fronts, and with hostile configs.
//!
//! Invariants: no panic; `extract` refuses empty input and NaN/infinite samples with an
//! error and gives finite frames for anything else; the streaming extractor replaces
//! NaN/infinite samples by 0 and always gives finite frames, as many as `extract`, and,
//! for finite input, the very same frames.

mod fuzz_common;

use emotrace::features::{BatchExtractor, FeatureConfig, FeatureError, FeatureFamilies, StreamingExtractor};
use fuzz_common::{Fuzzer, Rng, iterations, regression_inputs};

/// Sample values that break arithmetic.
const HOSTILE: [f32; 12] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::MAX,
    f32::MIN,
    1e30,
    -1e20,
    1e-40, // denormal
    -1e-45,
    f32::MIN_POSITIVE,
    0.0,
    -0.0,
];

/// A signal of hostile length and values.
fn hostile_signal(rng: &mut Rng, hop: usize, n_fft: usize) -> Vec<f32> {
    let len = match rng.below(6) {
        0 => *rng.pick(&[0, 1, 2, 3]),
        1 => *rng.pick(&[hop - 1, hop, hop + 1, n_fft / 2, n_fft - 1, n_fft, n_fft + 1]),
        _ => rng.below(6_000),
    };
    let style = rng.below(5);
    let mut x: Vec<f32> = (0..len)
        .map(|i| match style {
            0 => rng.unit(),
            1 => (i as f32 * 0.07).sin() * 0.5,
            2 => *rng.pick(&HOSTILE),
            3 => rng.unit() * 1e-38,
            _ => 0.0,
        })
        .collect();
    // Sprinkle a few hostile values into otherwise ordinary audio.
    for _ in 0..rng.below(4) {
        if !x.is_empty() {
            let at = rng.below(x.len());
            x[at] = *rng.pick(&HOSTILE);
        }
    }
    x
}

/// Checks one signal through both fronts.
fn check_signal(
    cfg: &FeatureConfig,
    batch: &mut BatchExtractor,
    stream: &mut StreamingExtractor,
    x: &[f32],
    chunk: usize,
) {
    let result = batch.extract(x);
    let mut frames: Vec<Vec<f32>> = Vec::new();
    let mut mels_finite = true;
    {
        let mut collect = |f: emotrace::features::FrameView<'_>| {
            frames.push(f.features.to_vec());
            mels_finite &= f.log_mel_db.iter().all(|v| v.is_finite());
        };
        for part in x.chunks(chunk.max(1)) {
            stream.push(part, &mut collect);
        }
        stream.finish(&mut collect);
    }
    assert!(mels_finite, "streaming log-mel not finite");
    assert!(frames.iter().flatten().all(|v| v.is_finite()), "streaming features not finite");
    match result {
        Err(FeatureError::Empty) => assert!(x.is_empty() && frames.is_empty()),
        Err(FeatureError::NonFinite { index, .. }) => {
            assert!(!x[index].is_finite());
            assert_eq!(frames.len(), cfg.n_frames(x.len()));
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(f) => {
            assert!(f.features.iter().all(|v| v.is_finite()), "batch features not finite");
            assert!(f.log_mel_db.iter().all(|v| v.is_finite()), "batch log-mel not finite");
            assert_eq!(f.n_frames, cfg.n_frames(x.len()));
            assert_eq!(frames.len(), f.n_frames);
            for (i, row) in frames.iter().enumerate() {
                assert_eq!(row.as_slice(), f.frame(i), "frame {i}: streaming differs from batch");
            }
        }
    }
}

/// Hostile signals through the default config and a log-mel-only one.
#[test]
fn hostile_samples_give_finite_frames_or_errors() {
    let mut rng = Rng::new(0xFEA7);
    let mut fuzzer = Fuzzer::new("features");
    let configs = [
        FeatureConfig::default(),
        FeatureConfig {
            families: FeatureFamilies {
                log_mel: true,
                mfcc: true,
                chroma: false,
                spectral: true,
                pitch: true,
            },
            mfcc_delta_order: 1,
            ..FeatureConfig::default()
        },
    ];
    let mut fronts: Vec<(BatchExtractor, StreamingExtractor)> = configs
        .iter()
        .map(|c| (BatchExtractor::new(c).expect("batch"), StreamingExtractor::new(c).expect("stream")))
        .collect();
    for _ in 0..iterations(1_500) {
        let which = rng.below(configs.len());
        let cfg = &configs[which];
        let x = hostile_signal(&mut rng, cfg.hop_samples(), cfg.n_fft);
        let chunk = *rng.pick(&[1, 7, 160, 161, 512, 4096]);
        let (batch, stream) = &mut fronts[which];
        let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        fuzzer.run(&bytes, "f32", || check_signal(cfg, batch, stream, &x, chunk));
        // A panic may leave a front mid-signal: start the next case fresh.
        stream.reset();
    }
    fuzzer.finish();
}

/// Configs with hostile fields: `validate` refuses them or the extractor works.
#[test]
fn hostile_configs_are_refused_or_work() {
    let mut rng = Rng::new(0xC0F1);
    let mut fuzzer = Fuzzer::new("feature-config");
    for _ in 0..iterations(1_500) {
        let mut cfg = FeatureConfig::default();
        for _ in 0..1 + rng.below(3) {
            let big = *rng.pick(&[0usize, 1, 2, 3, 255, 4_096, 65_536, 65_537, usize::MAX]);
            let real = *rng.pick(&[0.0f32, -1.0, 0.01, 1e9, f32::NAN, f32::INFINITY, 7_999.0, 8_000.0]);
            match rng.below(12) {
                0 => cfg.sample_rate_hz = *rng.pick(&[0, 1, 999, 8_000, 384_000, u32::MAX]),
                1 => cfg.win_ms = real,
                2 => cfg.hop_ms = real,
                3 => cfg.n_fft = big,
                4 => cfg.n_mels = big,
                5 => cfg.n_mfcc = big,
                6 => cfg.delta_width = big,
                7 => cfg.n_chroma = big,
                8 => cfg.contrast_n_bands = big,
                9 => cfg.fmax_hz = real,
                10 => cfg.contrast_quantile = real,
                _ => cfg.mfcc_delta_order = rng.below(256) as u8,
            }
        }
        let text = format!("{cfg:?}");
        fuzzer.run(text.as_bytes(), "txt", || {
            if cfg.validate().is_ok() && cfg.n_fft <= 8_192 {
                let mut batch = BatchExtractor::new(&cfg).expect("valid config builds");
                let x: Vec<f32> = (0..3_000).map(|i| (i as f32 * 0.05).sin()).collect();
                let f = batch.extract(&x).expect("features");
                assert!(f.features.iter().all(|v| v.is_finite()), "{cfg:?}");
            } else {
                assert!(StreamingExtractor::new(&cfg).is_err() || cfg.n_fft > 8_192);
            }
        });
    }
    fuzzer.finish();
}

/// Checked-in crash inputs (little-endian f32 signals) stay fixed.
#[test]
fn feature_regressions_stay_fixed() {
    let cfg = FeatureConfig::default();
    let mut batch = BatchExtractor::new(&cfg).expect("batch");
    let mut stream = StreamingExtractor::new(&cfg).expect("stream");
    let inputs = regression_inputs("features");
    assert!(!inputs.is_empty(), "tests/fuzz_regressions/features holds the fixed crash inputs");
    for path in inputs {
        let bytes = std::fs::read(&path).expect("input");
        let x: Vec<f32> =
            bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        check_signal(&cfg, &mut batch, &mut stream, &x, 161);
    }
}

/// Checked-in crashing configs (TOML, as `--config` reads them) are refused cleanly.
#[test]
fn feature_config_regressions_are_refused() {
    let inputs = regression_inputs("feature_config");
    assert!(!inputs.is_empty(), "tests/fuzz_regressions/feature_config holds the fixed crash inputs");
    for path in inputs {
        let text = std::fs::read_to_string(&path).expect("input");
        let cfg: FeatureConfig = toml::from_str(&text).expect("parses as a config");
        assert!(cfg.validate().is_err(), "{}", path.display());
        assert!(StreamingExtractor::new(&cfg).is_err());
    }
}
