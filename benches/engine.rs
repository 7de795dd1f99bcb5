//! Speed of the engine's pipeline per 10 ms hop: 48 kHz device audio in 10 ms periods
//! through resampling, features, level, gate, smoothing and a sink (no model: the model's
//! step is timed by `emotrace bench --model ...`, which also measures live latency).
//! Run with `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emotrace::audio::{StreamResampler, decode_file};
use emotrace::engine::{EngineConfig, Pipeline, PipelineSink, Snapshot};
use emotrace::features::FeatureConfig;

/// Counts hops, so nothing is optimised away.
struct Count(u64);

impl PipelineSink for Count {
    fn audio(&mut self, _: &[f32]) {}
    fn snapshot(&mut self, s: &Snapshot) {
        self.0 += u64::from(s.speech) + 1;
    }
}

/// 20 s of the speech test clip with pauses, at 48 kHz.
fn device_audio() -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac");
    let clip = decode_file(&path).expect("speech clip decodes").samples;
    let mut mono = Vec::new();
    while mono.len() < 20 * 16_000 {
        mono.extend_from_slice(&clip);
        mono.extend(std::iter::repeat_n(0.0, 8_000));
    }
    let mut up = StreamResampler::with_rates(16_000, 48_000).expect("resampler");
    let mut out = Vec::new();
    up.process(&mono, |s| out.extend_from_slice(s));
    out
}

fn pipeline_hop(c: &mut Criterion) {
    let audio = device_audio();
    let mut pipeline =
        Pipeline::new(&FeatureConfig::default(), &EngineConfig::default(), 48_000, None).expect("pipeline");
    let mut sink = Count(0);
    let mut periods = audio.chunks_exact(480).cycle();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(480));
    // One iteration = one 10 ms period at 48 kHz = one hop out (in steady state).
    group.bench_function("pipeline_10ms_period_48k_no_model", |b| {
        b.iter(|| pipeline.push(black_box(periods.next().unwrap_or(&[])), &mut sink))
    });
    group.finish();
    black_box(sink.0);
}

criterion_group!(benches, pipeline_hop);
criterion_main!(benches);
