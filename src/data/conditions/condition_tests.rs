//! Tests of [`Condition`]: names in configs, determinism, lengths, edge cases, errors.

use super::*;
use crate::data::conditions::snr::{active_power, mean_power};
use crate::data::conditions::test_signals::speech_clip;

/// One of each condition, with typical parameters.
fn every_condition() -> Vec<Condition> {
    let mut all = vec![
        Condition::Reverb { rt60_s: 0.5, drr_db: 3.0 },
        Condition::Equaliser { max_gain_db: 6.0 },
        Condition::OverdriveDb(12.0),
        Condition::Telephone,
        Condition::LowCutHz(200.0),
        Condition::HighCutHz(4000.0),
        Condition::GainDb(-20.0),
        Condition::GainDb(10.0),
        Condition::PeakNormaliseDb(-6.0),
        Condition::Narrowband8k,
    ];
    all.extend(NoiseKind::ALL.map(|kind| Condition::Noise { kind, snr_db: 5.0 }));
    all
}

/// Serialised names are the snake_case ones a scoreboard or train.toml uses, and every
/// condition survives a JSON and a TOML round trip.
#[test]
fn names_in_configs() {
    let json = |c: Condition| serde_json::to_string(&c).unwrap();
    assert_eq!(json(Condition::Telephone), r#""telephone""#);
    assert_eq!(json(Condition::Narrowband8k), r#""narrowband_8k""#);
    assert_eq!(json(Condition::GainDb(-20.0)), r#"{"gain_db":-20.0}"#);
    assert_eq!(json(Condition::LowCutHz(200.0)), r#"{"low_cut_hz":200.0}"#);
    assert_eq!(json(Condition::PeakNormaliseDb(-6.0)), r#"{"peak_normalise_db":-6.0}"#);
    assert_eq!(
        json(Condition::Noise { kind: NoiseKind::Babble, snr_db: 5.0 }),
        r#"{"noise":{"kind":"babble","snr_db":5.0}}"#
    );
    assert_eq!(
        json(Condition::Reverb { rt60_s: 0.5, drr_db: 3.0 }),
        r#"{"reverb":{"rt60_s":0.5,"drr_db":3.0}}"#
    );
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rows {
        rows: Vec<Condition>,
    }
    let rows = Rows { rows: every_condition() };
    let text = toml::to_string(&rows).unwrap();
    assert_eq!(toml::from_str::<Rows>(&text).unwrap(), rows, "{text}");
    let written =
        "rows = [\"telephone\", { gain_db = -20.0 }, { noise = { kind = \"pink\", snr_db = 5.0 } }]";
    assert_eq!(
        toml::from_str::<Rows>(written).unwrap().rows[2],
        Condition::Noise { kind: NoiseKind::Pink, snr_db: 5.0 }
    );
    assert_eq!(Condition::Noise { kind: NoiseKind::Pink, snr_db: 5.0 }.to_string(), "pink noise 5 dB SNR");
    assert_eq!(Condition::GainDb(-20.0).to_string(), "gain -20 dB, limited");
}

/// Same seed, same output, for every condition; the random ones change with the seed;
/// every condition keeps the clip's length and gives finite samples.
#[test]
fn seeded_same_length_finite() {
    let speech = speech_clip();
    let x = &speech[..16_000];
    let sources: [&[f32]; 2] = [&speech[16_000..22_000], &speech[22_000..]];
    for c in every_condition() {
        let a = c.apply(x, 16_000, &mut Rng::new(5), &sources).unwrap();
        let b = c.apply(x, 16_000, &mut Rng::new(5), &sources).unwrap();
        assert_eq!(a, b, "{c}");
        assert_eq!(a.len(), x.len(), "{c}");
        assert!(a.iter().all(|v| v.is_finite()), "{c}");
        assert_ne!(a, x, "{c} changed nothing");
        let random =
            matches!(c, Condition::Reverb { .. } | Condition::Noise { .. } | Condition::Equaliser { .. });
        let other = c.apply(x, 16_000, &mut Rng::new(6), &sources).unwrap();
        assert_eq!(other != a, random, "{c}: depends on the seed exactly when it is random");
    }
}

/// Empty, one-sample and ten-sample clips, at 16, 8 and 44.1 kHz, go through every
/// condition without panicking and keep their length.
#[test]
fn empty_and_tiny_inputs() {
    let source: [&[f32]; 1] = [&[0.2, -0.1, 0.3]];
    for rate in [16_000, 8_000, 44_100] {
        for len in [0, 1, 10] {
            let x: Vec<f32> = (0..len).map(|i| 0.1 * i as f32).collect();
            for c in every_condition() {
                let y = c.apply(&x, rate, &mut Rng::new(1), &source).unwrap();
                assert_eq!(y.len(), len, "{c} at {rate} Hz, {len} samples");
                assert!(y.iter().all(|v| v.is_finite()), "{c} at {rate} Hz, {len} samples");
            }
        }
    }
}

/// Out-of-range parameters, a zero rate and babble without sources are errors naming the
/// problem; nothing panics.
#[test]
fn bad_parameters_are_errors() {
    let x = [0.1f32; 100];
    let mut rng = Rng::new(1);
    for bad in [
        Condition::GainDb(f64::NAN),
        Condition::LowCutHz(0.0),
        Condition::HighCutHz(-1.0),
        Condition::Reverb { rt60_s: 9.0, drr_db: 0.0 },
        Condition::Noise { kind: NoiseKind::White, snr_db: f64::INFINITY },
        Condition::Equaliser { max_gain_db: -1.0 },
        Condition::OverdriveDb(-3.0),
        Condition::PeakNormaliseDb(3.0),
    ] {
        let err = bad.apply(&x, 16_000, &mut rng, &[]).unwrap_err();
        assert!(matches!(err, ConditionError::BadParameter { .. }), "{bad:?}: {err}");
    }
    assert_eq!(
        Condition::Telephone.apply(&x, 0, &mut rng, &[]),
        Err(ConditionError::BadSampleRate { sample_rate_hz: 0 })
    );
    let babble = Condition::Noise { kind: NoiseKind::Babble, snr_db: 5.0 };
    assert_eq!(babble.apply(&x, 16_000, &mut rng, &[]), Err(ConditionError::NoBabbleSources));
    let msg = Condition::LowCutHz(0.0).apply(&x, 16_000, &mut rng, &[]).unwrap_err().to_string();
    assert_eq!(msg, "low_cut_hz = 0 is out of range: 1 ..= 20000 Hz");
}

/// Each noise kind, on real speech followed by a 0.75 s pause, lands within 0.5 dB of the
/// asked SNR (speech active power, which ignores the pause, over the power of what was
/// added).
#[test]
fn achieved_snr_for_every_kind() {
    let speech = speech_clip();
    let x = &speech[..20_000];
    let sources: [&[f32]; 3] = [&speech[20_000..23_000], &speech[23_000..26_000], &speech[26_000..]];
    let x = &[x, &[0.0; 12_000]].concat();
    let pauses_db = 10.0 * (active_power(x, 16_000) / mean_power(x)).log10();
    assert!(pauses_db > 2.0, "the clip needs a pause for this test: {pauses_db} dB");
    for kind in NoiseKind::ALL {
        for snr_db in [0.0, 5.0, 30.0] {
            let y = Condition::Noise { kind, snr_db }.apply(x, 16_000, &mut Rng::new(2), &sources).unwrap();
            let added: Vec<f32> = y.iter().zip(x).map(|(a, b)| a - b).collect();
            let achieved = 10.0 * (active_power(x, 16_000) / mean_power(&added)).log10();
            assert!((achieved - snr_db).abs() < 0.5, "{kind:?} {snr_db} dB -> {achieved} dB");
        }
    }
}

/// Reverb keeps the level (unit-energy response: active power within 3 dB) and leaves
/// the first sample's direct path in place (no delay: output correlates best at lag 0).
#[test]
fn reverb_keeps_level_and_alignment() {
    let speech = speech_clip();
    let x = &speech;
    let y = Condition::Reverb { rt60_s: 0.6, drr_db: 0.0 }.apply(x, 16_000, &mut Rng::new(3), &[]).unwrap();
    let ratio_db = 10.0 * (active_power(&y, 16_000) / active_power(x, 16_000)).log10();
    assert!(ratio_db.abs() < 3.0, "level changed by {ratio_db} dB");
    let corr = |lag: usize| x.iter().zip(&y[lag..]).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>();
    assert!((1..40).all(|lag| corr(0) > corr(lag)), "the direct path is not at lag 0");
}
