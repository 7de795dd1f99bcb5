//! Speed of the feature extractor: batch on 60 s of speech, streaming cost per 10 ms hop
//! (with and without noise suppression), and 48 kHz -> 16 kHz resampling. Run with
//! `cargo bench --bench features`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emotrace::audio::{StreamResampler, decode_file};
use emotrace::features::{FeatureConfig, NoiseSuppression, StreamingExtractor, extract};

/// 60 s at 16 kHz: the speech test clip repeated.
fn speech_60s() -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac");
    let clip = decode_file(&path).expect("speech clip decodes").samples;
    clip.iter().copied().cycle().take(60 * 16_000).collect()
}

fn batch(c: &mut Criterion) {
    let x = speech_60s();
    let cfg = FeatureConfig::default();
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(x.len() as u64));
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("extract_60s_all_families", |b| {
        b.iter(|| extract(&cfg, black_box(&x)).expect("features"))
    });
    group.finish();
}

fn streaming(c: &mut Criterion) {
    let x = speech_60s();
    let plain = FeatureConfig::default();
    let suppressed = FeatureConfig { noise_suppression: Some(NoiseSuppression::default()), ..plain.clone() };
    let mut group = c.benchmark_group("streaming");
    group.throughput(Throughput::Elements(plain.hop_samples() as u64));
    // One iteration = one 10 ms hop pushed = one frame out (in steady state).
    for (name, cfg) in [("push_one_10ms_hop", plain), ("push_one_10ms_hop_noise_suppressed", suppressed)] {
        let mut ex = StreamingExtractor::new(&cfg).expect("valid config");
        let mut chunks = x.chunks_exact(cfg.hop_samples()).cycle();
        group.bench_function(name, |b| {
            b.iter(|| {
                let chunk = chunks.next().expect("cycle never ends");
                let mut sum = 0.0f32;
                ex.push(black_box(chunk), |f| sum += f.features[0]);
                sum
            })
        });
    }
    group.finish();
}

fn resampling(c: &mut Criterion) {
    let x: Vec<f32> = (0..48_000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
    let mut r = StreamResampler::new(48_000).expect("valid rate");
    let mut group = c.benchmark_group("resample");
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("48k_to_16k_1s_in_480_sample_chunks", |b| {
        b.iter(|| {
            let mut n = 0;
            for chunk in x.chunks(480) {
                r.process(black_box(chunk), |out| n += out.len());
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, batch, streaming, resampling);
criterion_main!(benches);
