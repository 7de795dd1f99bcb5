//! Speed of the recording-condition transforms on a 3 s clip of speech at 16 kHz: each
//! condition alone, and the full chain (every condition, reverb RT60 0.8 s by FFT).
//! Run with `cargo bench --bench conditions`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use emotrace::audio::decode_file;
use emotrace::data::Rng;
use emotrace::data::conditions::{ChainConfig, Condition, NoiseKind, apply_conditions};

/// 3 s at 16 kHz: the speech test clip looped.
fn speech_3s() -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac");
    let clip = decode_file(&path).expect("speech clip decodes").samples;
    clip.iter().copied().cycle().take(3 * 16_000).collect()
}

fn each_condition(c: &mut Criterion) {
    let x = speech_3s();
    let sources: Vec<&[f32]> = x.chunks(16_000).collect();
    let conditions = [
        Condition::Reverb { rt60_s: 0.8, drr_db: 0.0 },
        Condition::Noise { kind: NoiseKind::White, snr_db: 5.0 },
        Condition::Noise { kind: NoiseKind::Pink, snr_db: 5.0 },
        Condition::Noise { kind: NoiseKind::Babble, snr_db: 5.0 },
        Condition::Equaliser { max_gain_db: 6.0 },
        Condition::Telephone,
        Condition::GainDb(10.0),
        Condition::Narrowband8k,
    ];
    let mut group = c.benchmark_group("condition_3s");
    group.sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    for condition in conditions {
        let name = serde_json::to_string(&condition).expect("serialisable");
        let mut rng = Rng::new(1);
        group.bench_function(name, |b| {
            b.iter(|| condition.apply(black_box(&x), 16_000, &mut rng, &sources).expect("applies"))
        });
    }
    group.finish();
}

fn full_chain(c: &mut Criterion) {
    let x = speech_3s();
    let sources: Vec<&[f32]> = x.chunks(16_000).collect();
    let chain = vec![
        Condition::Reverb { rt60_s: 0.8, drr_db: 0.0 },
        Condition::Noise { kind: NoiseKind::Pink, snr_db: 10.0 },
        Condition::Equaliser { max_gain_db: 6.0 },
        Condition::Telephone,
        Condition::GainDb(10.0),
        Condition::Narrowband8k,
    ];
    let cfg = ChainConfig::default();
    let mut group = c.benchmark_group("chain_3s");
    group.sample_size(20).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    let mut rng = Rng::new(2);
    group.bench_function("reverb_noise_eq_phone_gain_8k", |b| {
        b.iter(|| apply_conditions(&chain, black_box(&x), 16_000, &mut rng, &sources).expect("applies"))
    });
    group.bench_function("default_config_draw_and_apply", |b| {
        b.iter(|| cfg.augment(black_box(&x), 16_000, &mut rng, &sources).expect("applies"))
    });
    group.finish();
}

criterion_group!(benches, each_condition, full_chain);
criterion_main!(benches);
