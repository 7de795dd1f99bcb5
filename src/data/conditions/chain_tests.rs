//! Tests of [`ChainConfig`] and [`apply_conditions`].

use super::*;
use crate::data::conditions::condition::Stage;
use crate::data::conditions::test_signals::speech_clip;

/// Every probability 1: the longest chain.
fn everything() -> ChainConfig {
    ChainConfig {
        reverb_prob: 1.0,
        noise_prob: 1.0,
        equaliser_prob: 1.0,
        overdrive_prob: 1.0,
        telephone_prob: 1.0,
        low_cut_prob: 1.0,
        high_cut_prob: 1.0,
        gain_prob: 1.0,
        narrowband_prob: 1.0,
        ..ChainConfig::default()
    }
}

/// Over 4000 draws of the default config each condition appears with its probability
/// (within 4 standard errors), in physical order, with values inside its range.
#[test]
fn draws_follow_the_config() {
    let cfg = ChainConfig::default();
    cfg.validate().unwrap();
    let mut rng = Rng::new(42);
    let draws = 4000;
    let mut counts = [0usize; 9];
    let mut kinds = [0usize; 4];
    for _ in 0..draws {
        let chain = cfg.draw(&mut rng);
        assert!(chain.windows(2).all(|w| w[0].stage() <= w[1].stage()), "{chain:?}");
        for c in &chain {
            c.validate().unwrap();
            let slot = match *c {
                Condition::Reverb { rt60_s, drr_db } => {
                    assert!((0.1..0.8).contains(&rt60_s) && (-3.0..12.0).contains(&drr_db));
                    0
                }
                Condition::Noise { kind, snr_db } => {
                    assert!((0.0..30.0).contains(&snr_db));
                    kinds[NoiseKind::ALL.iter().position(|k| *k == kind).unwrap()] += 1;
                    1
                }
                Condition::Equaliser { max_gain_db } => {
                    assert_eq!(max_gain_db, 6.0);
                    2
                }
                Condition::OverdriveDb(_) => 3,
                Condition::Telephone => 4,
                Condition::LowCutHz(hz) => {
                    assert!((100.0..300.0).contains(&hz));
                    5
                }
                Condition::HighCutHz(hz) => {
                    assert!((3400.0..8000.0).contains(&hz));
                    6
                }
                Condition::GainDb(db) => {
                    assert!((-30.0..10.0).contains(&db));
                    7
                }
                Condition::Narrowband8k => 8,
                Condition::PeakNormaliseDb(_) => unreachable!("the chain draws no peak normalisation"),
            };
            counts[slot] += 1;
        }
    }
    let probs = [0.3, 0.5, 0.3, 0.0, 0.1, 0.2, 0.2, 0.8, 0.1];
    for (i, (&n, p)) in counts.iter().zip(probs).enumerate() {
        let (rate, se) = (n as f64 / f64::from(draws), (p * (1.0 - p) / f64::from(draws)).sqrt());
        assert!((rate - p).abs() <= 4.0 * se + 1e-12, "condition {i}: rate {rate}, want {p}");
    }
    assert!(kinds.iter().all(|&k| k > counts[1] / 6), "kinds chosen uniformly: {kinds:?}");
    assert!(ChainConfig::none().draw(&mut rng).is_empty());
}

/// The full chain (every condition) on 3 s of speech is seeded, keeps length, stays
/// finite, and its stages come in physical order ending with the codec.
#[test]
fn full_chain_is_seeded() {
    let speech = speech_clip();
    let x = &speech[..48_000.min(speech.len())];
    let sources: [&[f32]; 2] = [&speech[..20_000], &speech[20_000..]];
    let cfg = everything();
    let (a, chain) = cfg.augment(x, 16_000, &mut Rng::new(8), &sources).unwrap();
    let (b, _) = cfg.augment(x, 16_000, &mut Rng::new(8), &sources).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), x.len());
    assert!(a.iter().all(|v| v.is_finite()));
    let stages: Vec<Stage> = chain.iter().map(Condition::stage).collect();
    assert_eq!(stages.first(), Some(&Stage::Room));
    assert_eq!(stages.last(), Some(&Stage::Codec));
    assert_eq!(chain.len(), 9);
    let (empty, _) = cfg.augment(&[], 16_000, &mut Rng::new(8), &sources).unwrap();
    assert!(empty.is_empty());
    let (same, none) = ChainConfig::none().augment(x, 16_000, &mut Rng::new(8), &[]).unwrap();
    assert!(none.is_empty() && same == x);
}

/// The key is equal for equal configs, differs when any field changes, carries the
/// algorithm version, and TOML with missing fields takes the defaults.
#[test]
fn key_and_defaults() {
    let cfg = ChainConfig::default();
    assert_eq!(cfg.key(), ChainConfig::default().key());
    assert!(cfg.key().starts_with(&format!("conditions-v{CHAIN_ALGORITHM_VERSION} ")));
    let variants = [
        ChainConfig { reverb_prob: 0.31, ..cfg.clone() },
        ChainConfig { gain_db: [-30.0, 9.0], ..cfg.clone() },
        ChainConfig { noise_kinds: vec![NoiseKind::Pink], ..cfg.clone() },
        ChainConfig { narrowband_prob: 0.0, ..cfg.clone() },
    ];
    for v in &variants {
        assert_ne!(v.key(), cfg.key());
    }
    let parsed: ChainConfig = toml::from_str("reverb_prob = 0.5\nnoise_kinds = [\"babble\"]").unwrap();
    assert_eq!(parsed, ChainConfig { reverb_prob: 0.5, noise_kinds: vec![NoiseKind::Babble], ..cfg.clone() });
    assert_eq!(toml::from_str::<ChainConfig>("").unwrap(), cfg);
}

/// Invalid configs are reported with the field at fault.
#[test]
fn invalid_configs() {
    let cfg = ChainConfig::default();
    let field = |c: ChainConfig| match c.validate() {
        Err(ConditionError::BadParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(ChainConfig { noise_prob: 1.5, ..cfg.clone() }), "noise_prob");
    assert_eq!(field(ChainConfig { gain_db: [10.0, -30.0], ..cfg.clone() }), "gain_db");
    assert_eq!(field(ChainConfig { reverb_rt60_s: [0.0, 0.8], ..cfg.clone() }), "rt60_s");
    assert_eq!(field(ChainConfig { noise_kinds: vec![], ..cfg.clone() }), "noise_kinds");
    assert_eq!(field(ChainConfig { low_cut_hz: [f64::NAN, 300.0], ..cfg.clone() }), "low_cut_hz");
    assert!(everything().validate().is_ok() && ChainConfig::none().validate().is_ok());
}
