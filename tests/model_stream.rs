//! Streaming inference as the engine does it: streaming features -> `StreamState::step`
//! per frame. It must equal the batched forward over the same frames, and not allocate.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use emotrace::audio::decode::load_mono_16k;
use emotrace::data::NormAccumulator;
use emotrace::features::{FeatureConfig, StreamingExtractor, extract};
use emotrace::model::timeline::frame_trace;
use emotrace::model::{Architecture, ComputeDevice, EmotionModel, ModelCard, Preprocess, Probabilities};

// Debug builds abort the test binary on any allocation inside `assert_no_alloc`.
#[cfg(debug_assertions)]
#[global_allocator]
static ALLOC: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

/// Largest difference allowed between a streamed and a batched probability: float32 LSTM
/// arithmetic in a different order (matrix-vector vs fused sequence kernels).
const TOLERANCE: f32 = 1e-5;

fn speech() -> Vec<f32> {
    load_mono_16k(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac"))
        .expect("test clip")
}

/// A seeded model whose normalisation comes from the clip itself, so inputs are realistic.
fn model(samples: &[f32]) -> EmotionModel {
    let features = FeatureConfig::default();
    let frames = extract(&features, samples).expect("features");
    let mut acc = NormAccumulator::new(frames.frame_dim);
    acc.add(&frames.features);
    let arch = Architecture {
        input_dims: frames.frame_dim,
        lstm1_units: 32,
        lstm2_units: 16,
        dense_units: vec![16],
        dropout: 0.3,
        classes: 7,
        mean_pooling: false,
        members: 1,
    };
    tch::manual_seed(5);
    let card = ModelCard::new("stream-test", features, Preprocess::default(), acc.finish(), arch);
    EmotionModel::build(card, ComputeDevice { device: tch::Device::Cpu }).expect("model")
}

fn max_diff(a: &[Probabilities], b: &[Probabilities]) -> f32 {
    a.iter().zip(b).flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f32::max)
}

/// T calls of `step` on the streaming extractor's frames equal the batched forward over
/// the same T frames within `TOLERANCE`, for any chunking of the audio; after `reset` the
/// same audio gives the same outputs again.
#[test]
fn streaming_steps_equal_batched_forward() {
    let samples = speech();
    let model = model(&samples);
    let batched = frame_trace(&model, &samples).unwrap();
    assert!(batched.len() > 100, "a real clip: {} frames", batched.len());
    let mut extractor = StreamingExtractor::new(model.feature_config()).unwrap();
    let mut state = model.new_stream();
    for chunk in [160, 37, 1000] {
        let mut streamed = Vec::new();
        let mut step = |frame: &[f32]| streamed.push(state.step(&model, frame).unwrap());
        for piece in samples.chunks(chunk) {
            extractor.push(piece, |f| step(f.features));
        }
        extractor.finish(|f| step(f.features));
        assert_eq!(streamed.len(), batched.len());
        let diff = max_diff(&streamed, &batched);
        assert!(diff < TOLERANCE, "chunk {chunk}: largest difference {diff}");
        extractor.reset();
        state.reset().unwrap();
    }
}

/// The probabilities are a distribution and change through the utterance (the state is
/// really carried from frame to frame).
#[test]
fn state_is_carried_between_steps() {
    let samples = speech();
    let model = model(&samples);
    let frames = extract(model.feature_config(), &samples).unwrap();
    let mut state = model.new_stream();
    let first = state.step(&model, frames.frame(0)).unwrap();
    let again = state.step(&model, frames.frame(0)).unwrap();
    assert!((first.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_ne!(first, again, "same frame, different state, different output");
    state.reset().unwrap();
    assert_eq!(state.step(&model, frames.frame(0)).unwrap(), first, "reset = fresh state");
}

/// After the first step, `step` and `reset` allocate nothing on the Rust heap (checked in
/// debug builds, where an allocation aborts the test binary).
#[test]
fn step_does_not_allocate() {
    let samples = speech();
    let model = model(&samples);
    let frames = extract(model.feature_config(), &samples).unwrap();
    let mut state = model.new_stream();
    let _ = state.step(&model, frames.frame(0)).unwrap();
    let mut checksum = 0.0f32;
    assert_no_alloc::assert_no_alloc(|| {
        for i in 0..frames.n_frames {
            if let Ok(p) = state.step(&model, frames.frame(i)) {
                checksum += p[3];
            } else {
                checksum = f32::NAN;
            }
        }
        let _ = state.reset();
    });
    assert!(checksum.is_finite() && checksum > 0.0);
}
